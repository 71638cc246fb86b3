"""Network contraction against the jitted recurrence and against cotengra on the same network, side by side.

Targets (issue 17): the network path within 1.2x of the jitted recurrence at every shape; our chosen path's flops
within 1.1x of cotengra's HyperOptimizer and its largest intermediate no larger; the same plan in repeated
searches; a second batch size reuses the plan (no second path search). Timings are medians of interleaved
rounds (every variant once per round), all in one process; inputs are device arrays.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

from tnrnn.network import plan as plan_module
from tnrnn.network.build import build_network
from tnrnn.network.einsum import einsum_operands, network_to_einsum
from tnrnn.network.evaluate import network_forward, network_forward_modp
from tnrnn.network.execute import ExecKey, executor
from tnrnn.network.finders import _no_fork_pool
from tnrnn.network.paths import find_path, simulate_path
from tnrnn.network.plan import get_plan, plan_key, search_count
from tnrnn.rac.recurrence import float_params, init_params, init_params_modp, rac_forward, rac_forward_modp
from tnrnn.rac.spec import RACSpec

GROUP = "contract"
ROUNDS = 7
BASE = "recurrence (rac_forward, jit)"

CASES = [  # (spec, T, batch, form)
    (RACSpec(1, 32, 16), 64, 1024, "continuous"),
    (RACSpec(2, 8, 4), 12, 1024, "continuous"),
    (RACSpec(3, 4, 4), 8, 256, "continuous"),
    (RACSpec(2, 4, 4), 8, 256, "grid"),
]


def interleaved(variants: dict, rounds: int = ROUNDS) -> dict[str, float]:
    """Median seconds per variant, each called once per round in turn (after one warm-up call each)."""
    for fn in variants.values():
        jax.block_until_ready(fn())
    times: dict[str, list] = {k: [] for k in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _cotengra_peer(es, batch: int, arrays):
    """cotengra's HyperOptimizer (default methods, seeded, 16 trials) on our einsum, its jitted contraction."""
    import cotengra as ctg

    opt = ctg.HyperOptimizer(max_repeats=16, parallel=False, progbar=False, optlib="random",
                             optlib_opts={"seed": 0}, on_trial_error="ignore")
    with _no_fork_pool():  # its kahypar sub-searches would fork a process pool from this jax-threaded process
        tree = ctg.array_contract_tree([tuple(ix) for ix in es.inputs], tuple(es.output), es.sized(batch),
                                       optimize=opt)
    fn = jax.jit(lambda *a: tree.contract(a, backend="jax"))
    return tree, lambda: fn(*arrays)


def _case_rows(spec: RACSpec, T: int, B: int, form: str) -> list[dict]:
    params = init_params(spec, jax.random.PRNGKey(0))
    x = jnp.asarray(np.random.default_rng(0).integers(0, spec.M, (B, T)), jnp.int32)
    key = plan_key(spec, T, form, False, onehot=form == "grid")  # the plan network_forward uses on symbol ids
    searches = search_count()
    t0 = time.perf_counter()
    out = network_forward(spec, params, x, form=form)
    jax.block_until_ready(out)
    first = time.perf_counter() - t0
    ref = rac_forward(params, x)
    dl = np.abs(np.asarray(out.log_scale) - np.asarray(ref.log_scale))
    assert np.median(dl) < 1e-3 and np.mean(np.sign(out.mantissa) == np.sign(ref.mantissa)) > 0.99, "disagree"
    network_forward(spec, params, x[: B // 2], form=form)  # a second batch size
    reused = search_count() - searches <= 1
    plan = get_plan(key)
    again = find_path(plan.es, optimizers=key.optimizers)  # a second, independent search
    same = again.path == plan.report.path
    ours = simulate_path(plan.es, plan.report.path, batch=B)

    fp = float_params(params)
    direct = executor(ExecKey(key, False, 0, "scaled"))
    feats = np.eye(spec.M, dtype=np.float64)[np.asarray(x)]
    arrays = [jnp.asarray(a, jnp.float32) for a in einsum_operands(plan.es, params, feats)]
    tree, peer = _cotengra_peer(plan.es, B, arrays)
    theirs = simulate_path(plan.es, tree.get_path(), batch=B)
    timings = interleaved({
        BASE: lambda: rac_forward(params, x),
        "network path (network_forward)": lambda: network_forward(spec, params, x, form=form),
        "network executor, called directly": lambda: direct(fp.W_I, fp.W_H, fp.W_O, fp.h0, x),
        "peer: cotengra HyperOptimizer path, jitted (no rescaling)": peer,
    })
    case = f"L={spec.L} R={spec.R} M={spec.M} T={T} batch {B} {form}"
    rows = []
    for name, sec in timings.items():
        rows.append({"group": GROUP, "case": case, "variant": name, "seconds": sec, "ratio": sec / timings[BASE],
                     "baseline": BASE, "note": ""})
    rows[1]["note"] = (f"path {plan.report.path_optimizer}: {ours[1]:.3g} flops, largest {ours[3]:,}; cotengra "
                       f"{theirs[1]:.3g} flops ({ours[1] / theirs[1]:.2f}x), largest {theirs[3]:,}; same plan in 2 "
                       f"searches: {'yes' if same else 'NO'}; batch {B // 2} reused the plan: "
                       f"{'yes' if reused else 'NO'}; first call {first:.1f} s (search + compile)")
    if form == "grid":
        tied = network_to_einsum(build_network(spec, T, form="grid"))
        tied_tree, _ = _cotengra_peer(tied, B, [])
        tied_cost = simulate_path(tied, tied_tree.get_path(), batch=B)
        rows[1]["note"] += (f"; on symbol ids the tied input legs are split (exact on one-hot inputs): cotengra on the "
                            f"tied expression needs {tied_cost[1]:.3g} flops, largest {tied_cost[3]:,}")
    return rows


def _modp_rows(spec: RACSpec, T: int, B: int) -> list[dict]:
    p = 1_048_573
    q = init_params_modp(spec, 0, p)
    x = np.random.default_rng(1).integers(0, spec.M, (B, T))
    assert np.array_equal(network_forward_modp(spec, q, x, p), rac_forward_modp(q, x, p))
    base = "recurrence mod p (numpy int64)"
    timings = interleaved({base: lambda: rac_forward_modp(q, x, p),
                           "network path mod p (jit, int64)": lambda: network_forward_modp(spec, q, x, p)}, rounds=3)
    case = f"exact mod p: L={spec.L} R={spec.R} M={spec.M} T={T} batch {B}"
    return [{"group": GROUP, "case": case, "variant": k, "seconds": v, "ratio": v / timings[base], "baseline": base,
             "note": "results identical (checked)"} for k, v in timings.items()]


def _hyper_row(spec: RACSpec, T: int, B: int) -> dict:
    net = build_network(spec, T, form="grid")
    hyper = find_path(network_to_einsum(net, hyper=True), batch=B, optimizers=("greedy",))
    dense = find_path(network_to_einsum(net, hyper=False), batch=B, optimizers=("greedy",))
    return {"group": GROUP, "case": f"flops L={spec.L} R={spec.R} M={spec.M} T={T} batch {B} grid",
            "variant": "dense copy tensors (greedy)", "seconds": float("nan"), "ratio": dense.flops / hyper.flops,
            "baseline": "hyper-indices (greedy)", "note": f"dense {dense.flops:.3g} vs hyper {hyper.flops:.3g} flops"}


def rows(quick: bool) -> list[dict]:
    # A fresh plan cache, so first calls and repeated searches are measured, not read from disk.
    os.environ["TNRNN_CACHE_DIR"] = tempfile.mkdtemp(prefix="tnrnn-bench-")
    plan_module.clear_plans()
    out: list[dict] = []
    cases = CASES[:1] if quick else CASES
    for spec, T, B, form in cases:
        out += _case_rows(spec, T, B // 4 if quick else B, form)
    out += _modp_rows(RACSpec(2, 8, 4), 12, 256 if quick else 1024)
    out.append(_hyper_row(RACSpec(2, 4, 4), 8, 1))
    return out
