"""Network contraction and the recurrence against a tuned hand-written recurrence, public calls and jitted cores.

Per case, interleaved in one process (:mod:`harness`): the reference row is :func:`tuned_rac.tuned_forward`
(checked against a float64 numpy recurrence first); then the public :func:`rac_forward` and its jitted core, the
public :func:`network_forward` and its executor called directly, and peers (cotengra's HyperOptimizer path and
opt_einsum's path on the same einsum, jitted, without rescaling; quimb's own contraction of the same network
with numpy) only where their output is finite and agrees with the float64 reference. Every network row states its flops against the recurrence's: the network of a deep
RAC duplicates the lower layers' sub-circuits (an input reaches the top through many paths of the grid, and a
tensor network cannot reuse a value it has computed, so each use is recomputed), so it needs more flops than the
recurrence as T grows, and its time is compared per flop as well as per call.
"""

from __future__ import annotations

import os
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
from harness import compare, info_row
from tuned_rac import agrees, float64_log_reference, tuned_forward

from tnrnn.network import plan as plan_module
from tnrnn.network.build import build_network
from tnrnn.network.einsum import einsum_operands, network_to_einsum
from tnrnn.network.evaluate import network_forward, network_forward_modp
from tnrnn.network.execute import ExecKey, executor
from tnrnn.network.finders import _no_fork_pool
from tnrnn.network.paths import find_path, simulate_path
from tnrnn.network.plan import get_plan, plan_key, search_count
from tnrnn.rac.recurrence import (
    _forward_scaled,
    bounded_params,
    float_params,
    init_params,
    init_params_modp,
    rac_forward,
    rac_forward_modp,
)
from tnrnn.rac.spec import RACSpec

GROUP = "contract"
REF = "tuned hand-written recurrence (jit)"
PUBLIC_REC, CORE_REC = "rac_forward (public)", "recurrence core (jit)"
PUBLIC_NET, CORE_NET = "network_forward (public)", "network executor (jit)"

CASES = [  # (spec, T, batch, form)
    (RACSpec(1, 32, 16), 64, 1024, "continuous"),
    (RACSpec(2, 8, 4), 12, 1024, "continuous"),
    (RACSpec(3, 4, 4), 8, 256, "continuous"),
    (RACSpec(2, 4, 4), 8, 256, "grid"),
]
#: Longer sequences for the recurrence alone (the network of these is refused or far too large).
LONG = [(RACSpec(1, 32, 16), 256, 256), (RACSpec(2, 8, 4), 256, 256)]
#: A peer slower than this per call is reported from one call, not timed in the interleaved rounds.
SLOW_PEER_S = 0.05


def recurrence_flops(spec: RACSpec, T: int, B: int) -> float:
    """Flops of the recurrence, counted like opt_einsum counts the network's (2 per multiply-add, the one-hot
    input product as a product): per step, layer 0 ``2BRM + 2BR^2 + BR``, layers above ``4BR^2 + BR``."""
    R, M, L = spec.R, spec.M, spec.L
    per_step = 2 * B * R * M + 2 * B * R * R + B * R + (L - 1) * (4 * B * R * R + B * R)
    return float(T * per_step + 2 * B * R * spec.K)


def _peer(name: str, es, batch: int, arrays):
    """A peer's path for our einsum and its jitted contraction (no rescaling): (flops, call)."""
    inputs, output, sizes = [tuple(ix) for ix in es.inputs], tuple(es.output), es.sized(batch)
    if name == "quimb":
        import quimb.tensor as qtn

        tn = qtn.TensorNetwork([qtn.Tensor(np.asarray(a), inds=ix) for a, ix in zip(arrays, inputs)])
        tree = tn.contraction_tree(optimize="greedy", output_inds=output)
        return simulate_path(es, tree.get_path(), batch=batch)[1], (
            lambda: tn.contract(output_inds=output, optimize=tree).data)
    if name == "cotengra":
        import cotengra as ctg

        opt = ctg.HyperOptimizer(max_repeats=16, parallel=False, progbar=False, optlib="random",
                                 optlib_opts={"seed": 0}, on_trial_error="ignore")
        with _no_fork_pool():  # its kahypar sub-searches would fork a process pool from this jax-threaded process
            tree = ctg.array_contract_tree(inputs, output, sizes, optimize=opt)
        path = tree.get_path()
        fn = jax.jit(lambda *a: tree.contract(a, backend="jax"))
    else:
        import opt_einsum as oe

        path, _ = oe.contract_path(es.eq, *[np.empty([sizes[s] for s in ix], np.int8) for ix in inputs],
                                   optimize="auto-hq", shapes=False)
        fn = jax.jit(lambda *a: oe.contract(es.eq, *a, optimize=path, backend="jax"))
    return simulate_path(es, path, batch=batch)[1], (lambda: fn(*arrays))


def _valid_peer(out, ref) -> bool:
    """A raw peer output counts only when finite, nonzero and agreeing with the float64 reference."""
    y = np.asarray(out, np.float64)
    if not np.all(np.isfinite(y)) or not np.all(y != 0):
        return False
    return agrees((y / np.abs(y).max(axis=1, keepdims=True), np.log(np.abs(y).max(axis=1))), ref)


def _case(spec: RACSpec, T: int, B: int, form: str, rounds: int, peers: bool) -> list[dict]:
    params = init_params(spec, jax.random.PRNGKey(0))
    fp = float_params(params)
    bp, logs = bounded_params(fp, True)
    x = jnp.asarray(np.random.default_rng(0).integers(0, spec.M, (B, T)), jnp.int32)
    ref = float64_log_reference(fp.W_I, fp.W_H, fp.W_O, np.asarray(x)[:64])
    variants = {REF: lambda: tuned_forward(fp.W_I, fp.W_H, fp.W_O, x),
                PUBLIC_REC: lambda: rac_forward(params, x),
                CORE_REC: lambda: _forward_scaled(bp, logs, x, True)}
    flops = {k: recurrence_flops(spec, T, B) for k in variants}
    roles = {REF: "reference", PUBLIC_REC: "public", CORE_REC: "core"}
    notes: dict[str, str] = {}
    left_out: list[str] = []
    case = f"L={spec.L} R={spec.R} M={spec.M} T={T} batch {B}"
    rows: list[dict] = []
    if form:
        case += f" {form}"
        key = plan_key(spec, T, form, False, onehot=form == "grid")  # the plan network_forward uses on symbol ids
        searches = search_count()
        network_forward(spec, params, x, form=form)
        network_forward(spec, params, x[: B // 2], form=form)  # a second batch size must reuse the plan
        reused = search_count() - searches <= 1
        plan = get_plan(key)
        net_flops = simulate_path(plan.es, plan.report.path, batch=B)[1]
        direct = executor(ExecKey(key, False, 0, "scaled"))
        variants[PUBLIC_NET] = lambda: network_forward(spec, params, x, form=form)
        variants[CORE_NET] = lambda: direct(fp.W_I, fp.W_H, fp.W_O, fp.h0, x)
        roles.update({PUBLIC_NET: "public", CORE_NET: "core"})
        flops.update({PUBLIC_NET: net_flops, CORE_NET: net_flops})
        ratio = net_flops / flops[REF]
        notes[PUBLIC_NET] = (f"path {plan.report.path_optimizer}; network/recurrence flops {ratio:.2f}x; "
                             f"batch {B // 2} reused the plan: {'yes' if reused else 'NO'}")
        rows.append(info_row(GROUP, case, "network/recurrence flops", ratio, "recurrence",
                             f"network {net_flops:.3g} vs recurrence {flops[REF]:.3g} flops"))
        if peers:
            feats = np.eye(spec.M, dtype=np.float64)[np.asarray(x)]
            arrays = [jnp.asarray(a, jnp.float32) for a in einsum_operands(plan.es, params, feats)]
            for name in ("cotengra", "opt_einsum", "quimb"):
                label = (f"peer: {name} path, jitted (no rescaling)" if name != "quimb" else
                         "peer: quimb TensorNetwork.contract, greedy (numpy, no rescaling)")
                peer_flops, call = _peer(name, plan.es, B, arrays)
                t0 = time.perf_counter()
                valid = _valid_peer(call(), ref)
                took = time.perf_counter() - t0
                if valid and took > SLOW_PEER_S:  # numpy peers at batch 1024: 51 rounds would take minutes
                    notes[REF] = notes.get(REF, "") + (f"{name}'s valid output took {took * 1e3:.0f} ms (one call, "
                                                       "left out of the rounds); ")
                elif valid:
                    variants[label], roles[label], flops[label] = call, "peer", peer_flops
                    notes[label] = f"its path {peer_flops / net_flops:.2f}x our path's flops"
                else:
                    left_out.append(name)
    if left_out:
        notes[REF] = notes.get(REF, "") + (f"peers left out ({', '.join(left_out)}): their unrescaled output "
                                           "under- or overflows or disagrees with float64")
    for name, fn in variants.items():  # every timed variant computes the same values
        out = fn()
        assert name.startswith("peer") or agrees(out, ref), f"{name} disagrees with the float64 reference"
    c = compare(GROUP, case, variants, rounds=rounds, roles=roles, notes=notes, flops=flops)
    rows += c.rows()
    rows.append(c.pair_row(PUBLIC_REC, CORE_REC, "rac_forward / its jitted core", "input checks and dispatch"))
    if form:
        rows.append(c.pair_row(PUBLIC_NET, CORE_NET, "network_forward / its executor", "input checks and dispatch"))
        per = c.pair_row(CORE_NET, CORE_REC, "network executor / recurrence core")
        fl = flops[CORE_NET] / flops[CORE_REC]
        per["note"] = (f"network/recurrence flops {fl:.2f}x; time per flop {per['ratio'] / fl:.2f}x "
                       f"[{per['ratio_q1'] / fl:.2f}, {per['ratio_q3'] / fl:.2f}] the recurrence's")
        rows.append(per)
    _per_flop(rows)
    return rows


def _per_flop(rows: list[dict]) -> None:
    """Add time per flop of the network executor against the recurrence core's to the executor's note."""
    by = {r["variant"]: r for r in rows if r.get("rounds")}
    if CORE_NET in by and CORE_REC in by:
        net, rec = by[CORE_NET], by[CORE_REC]
        per = (net["min_seconds"] / net["flops"]) / (rec["min_seconds"] / rec["flops"])
        net["note"] += f"; time per flop {per:.2f}x the recurrence core's (at the minima)"


def _modp_rows(spec: RACSpec, T: int, B: int, rounds: int) -> list[dict]:
    p = 1_048_573
    q = init_params_modp(spec, 0, p)
    x = np.random.default_rng(1).integers(0, spec.M, (B, T))
    assert np.array_equal(network_forward_modp(spec, q, x, p), rac_forward_modp(q, x, p))
    base = "recurrence mod p (numpy int64)"
    c = compare(GROUP, f"exact mod p: L={spec.L} R={spec.R} M={spec.M} T={T} batch {B}",
                {base: lambda: rac_forward_modp(q, x, p),
                 "network path mod p (jit, int64)": lambda: network_forward_modp(spec, q, x, p)},
                rounds=rounds, roles={base: "reference"},
                notes={base: "results identical (checked)"})
    return c.rows()


def _hyper_row(spec: RACSpec, T: int, B: int) -> dict:
    net = build_network(spec, T, form="grid")
    hyper = find_path(network_to_einsum(net, hyper=True), batch=B, optimizers=("greedy",))
    dense = find_path(network_to_einsum(net, hyper=False), batch=B, optimizers=("greedy",))
    return info_row(GROUP, f"flops L={spec.L} R={spec.R} M={spec.M} T={T} batch {B} grid",
                    "dense copy tensors (greedy)", dense.flops / hyper.flops, "hyper-indices (greedy)",
                    f"dense {dense.flops:.3g} vs hyper {hyper.flops:.3g} flops")


def rows(quick: bool, rounds: int) -> list[dict]:
    # A fresh plan cache, so first calls and repeated searches are measured, not read from disk.
    os.environ["TNRNN_CACHE_DIR"] = tempfile.mkdtemp(prefix="tnrnn-bench-")
    plan_module.clear_plans()
    out: list[dict] = []
    for spec, T, B, form in CASES[:1] if quick else CASES:
        out += _case(spec, T, B // 4 if quick else B, form, rounds, peers=True)
    for spec, T, B in LONG[:1] if quick else LONG:
        out += _case(spec, T, B, "", rounds, peers=False)
    out += _modp_rows(RACSpec(2, 8, 4), 12, 256 if quick else 1024, rounds)
    out.append(_hyper_row(RACSpec(2, 4, 4), 8, 1))
    return out
