"""Contraction of the RAC tensor network: equal to the recurrence (float and exact mod p), grid tables, plans and
executors reused, cost guard, overflow guard, input errors."""

from __future__ import annotations

import itertools
from collections import Counter

import jax
import jax.numpy as jnp
import numpy as np
import opt_einsum as oe
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.network import plan as plan_module
from tnrnn.network.build import build_network
from tnrnn.network.einsum import einsum_operands, network_to_einsum
from tnrnn.network.evaluate import grid_tensor_matrix, network_forward, network_forward_modp
from tnrnn.network.execute import trace_count
from tnrnn.network.finders import PATH_FINDERS
from tnrnn.network.paths import PLAN_BATCH, find_path, simulate_path
from tnrnn.network.plan import search_count
from tnrnn.network.report import estimate_cost
from tnrnn.rac.partition import make_partition
from tnrnn.rac.recurrence import init_params, init_params_modp, rac_forward, rac_forward_modp
from tnrnn.rac.spec import RACSpec

P = 10_007
# Fast path search for the property tests; the full optimiser set is exercised separately below.
FAST = ("greedy", "sequential", "tree")
SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def rac_cases(draw):
    L = draw(st.integers(1, 3))
    T = draw(st.integers(1, {1: 6, 2: 5, 3: 4}[L]))
    spec = RACSpec(L, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    form = draw(st.sampled_from(["continuous", "grid"]))
    h0 = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    B = draw(st.integers(1, 4))
    return spec, T, form, h0, seed, B


@SETTINGS
@given(rac_cases())
def test_float_network_equals_recurrence(case):
    spec, T, form, h0, seed, B = case
    params = init_params(spec, jax.random.PRNGKey(seed), init_state=h0)
    rng = np.random.default_rng(seed)
    features = seed % 2 and (form == "continuous" or spec.L == 1)
    x = rng.normal(size=(B, T, spec.M)).astype(np.float32) if features else rng.integers(0, spec.M, (B, T))
    y_net = np.asarray(network_forward(spec, params, x, form=form, optimizers=FAST))
    y_rec = np.asarray(rac_forward(params, x))
    assert y_net.shape == (B, spec.K)
    np.testing.assert_allclose(y_net, y_rec, rtol=2e-4, atol=1e-6 * np.abs(y_rec).max())


@SETTINGS
@given(rac_cases())
def test_modp_network_equals_recurrence_exactly(case):
    spec, T, form, h0, seed, B = case
    q = init_params_modp(spec, seed, P, init_state=h0)
    rng = np.random.default_rng(seed)
    # Half the cases with integer feature vectors (continuous domain: continuous form), half with symbol ids.
    features = seed % 2 and (form == "continuous" or spec.L == 1)
    x = rng.integers(0, P, (B, T, spec.M)) if features else rng.integers(0, spec.M, (B, T))
    y_net = network_forward_modp(spec, q, x, P, form=form, optimizers=FAST)
    y_rec = rac_forward_modp(q, x, P)
    assert y_net.dtype == np.int64 and y_net.shape == (B, spec.K)
    assert np.array_equal(y_net, y_rec)


def _one_hot_reference(params, T, part, *, p=None):
    """The matricization built sequence by sequence with the recurrence (independent of the network)."""
    spec = params.spec
    seqs, where = [], []
    for ia, a in enumerate(itertools.product(range(spec.M), repeat=len(part.A))):
        for ib, b in enumerate(itertools.product(range(spec.M), repeat=len(part.B))):
            seq = [0] * T
            for s, v in zip(part.A, a):
                seq[s - 1] = v
            for s, v in zip(part.B, b):
                seq[s - 1] = v
            seqs.append(seq)
            where.append((ia, ib))
    ys = rac_forward_modp(params, seqs, p) if p else np.asarray(rac_forward(params, np.array(seqs)))
    out = np.zeros((spec.K, spec.M ** len(part.A), spec.M ** len(part.B)), dtype=ys.dtype)
    for (ia, ib), y in zip(where, ys):
        out[:, ia, ib] = y
    return out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.integers(2, 4), st.integers(1, 3), st.integers(1, 2), st.integers(0, 10**6), st.booleans())
def test_grid_matricization_equals_recurrence_on_one_hot_sequences(L, T, M, K, seed, h0):
    spec = RACSpec(L, 2, M, K)
    rng = np.random.default_rng(seed)
    A = sorted(rng.choice(np.arange(1, T + 1), size=int(rng.integers(1, T)), replace=False).tolist())
    part = make_partition(T, A)
    q = init_params_modp(spec, seed, P, init_state=h0)
    got = grid_tensor_matrix(spec, T, q, part, p=P, optimizers=FAST)
    want = _one_hot_reference(q, T, part, p=P)
    assert np.array_equal(got.reshape(want.shape), want)
    assert got.shape == ((M ** len(A), M ** (T - len(A))) if K == 1 else want.shape)
    params = init_params(spec, jax.random.PRNGKey(seed), init_state=h0)
    got_f = np.asarray(grid_tensor_matrix(spec, T, params, part, optimizers=FAST)).reshape(want.shape)
    want_f = _one_hot_reference(params, T, part)
    np.testing.assert_allclose(got_f, want_f, rtol=2e-4, atol=1e-5 * np.abs(want_f).max())


@pytest.mark.parametrize(
    "L, M, R, T, rank",
    # Exact generic one-hot Start-End ranks of Levine et al., arXiv 1710.09431 (docs/theory.md, "Known values").
    [(1, 3, 3, 4, 3), (2, 2, 2, 4, 4), (2, 2, 2, 6, 8), (2, 3, 3, 4, 9), (3, 3, 2, 4, 6), (3, 3, 2, 6, 18)],
)
def test_grid_matricization_reaches_the_documented_start_end_ranks(L, M, R, T, rank):
    import flint

    p = 1_048_573  # large field: a rank deficit by chance is very unlikely
    spec = RACSpec(L, R, M)
    A = grid_tensor_matrix(spec, T, init_params_modp(spec, 11, p), "start-end", p=p, optimizers=FAST)
    assert A.shape == (M ** (T // 2), M ** (T // 2))
    assert flint.nmod_mat(A.tolist(), p).rank() == rank


def test_all_optimisers_agree_and_cheapest_is_kept():
    spec = RACSpec(2, 3, 2)
    q = init_params_modp(spec, 5, P)
    x = np.random.default_rng(5).integers(0, 2, (3, 5))
    y = network_forward_modp(spec, q, x, P)  # default optimisers, cotengra included
    assert np.array_equal(y, rac_forward_modp(q, x, P))
    # Candidates are costed at the planning batch size: one plan serves every batch.
    cost = estimate_cost(spec, 5, batch=PLAN_BATCH)
    tried = {k: v for k, v in cost["candidates"].items() if v is not None}
    assert set(PATH_FINDERS) == {k.removesuffix("+reconf") for k in cost["candidates"]}
    assert sum(k.endswith("+reconf") for k in cost["candidates"]) == 1  # the best finder's path, refined
    assert cost["flops"] == min(tried.values())
    assert cost["path_optimizer"] in tried and tried[cost["path_optimizer"]] == cost["flops"]


def test_each_optimiser_path_gives_the_same_value():
    # Every candidate path alone must reduce the network to the right numbers, not only the cheapest one.
    spec = RACSpec(2, 2, 3)
    q = init_params_modp(spec, 9, P)
    x = np.random.default_rng(9).integers(0, 3, (2, 4))
    want = rac_forward_modp(q, x, P)
    for name in PATH_FINDERS:
        assert np.array_equal(network_forward_modp(spec, q, x, P, optimizers=(name,)), want), name


def _primitive_counts(jaxpr, counts=None) -> Counter:
    """Primitives of a jaxpr, nested jaxprs (jitted chunks) included."""
    counts = Counter() if counts is None else counts
    for eqn in jaxpr.eqns:
        counts[eqn.primitive.name] += 1
        for value in eqn.params.values():
            inner = getattr(value, "jaxpr", value)
            if hasattr(inner, "eqns"):
                _primitive_counts(inner, counts)
    return counts


def test_long_fused_modp_path_stays_linear_and_uses_plain_remainders():
    # The sequential path of this deep, width-1 RAC chains ~65 outer products, each reduced mod p. With jnp's floor
    # mod (``%``: remainder, compare, select, add) XLA's fusion of the chain duplicated it exponentially (over
    # 20 GiB and minutes to compile). Each contraction must be reduced by one plain remainder, and the traced
    # program must stay linear in the length of the path.
    from tnrnn.network.execute import ExecKey, executor
    from tnrnn.network.plan import get_plan, plan_key

    spec = RACSpec(2, 1, 3, 2)
    q = init_params_modp(spec, 0, P)
    x = np.random.default_rng(0).integers(0, 3, (2, 5))
    assert np.array_equal(network_forward_modp(spec, q, x, P, optimizers=("sequential",)), rac_forward_modp(q, x, P))
    key = plan_key(spec, 5, "continuous", False, optimizers=("sequential",))
    steps = len(get_plan(key).report.steps)
    with jax.enable_x64(True):
        args = jax.tree_util.tree_map(jnp.asarray, (q.W_I, q.W_H, q.W_O, q.h0, x.astype(np.int32)))
        counts = _primitive_counts(jax.make_jaxpr(executor(ExecKey(key, True, P, "exact")))(*args).jaxpr)
    assert steps > 40 and steps <= counts["rem"] <= 2 * steps
    assert counts["select_n"] == 0 and counts["sign"] == 0  # no floor-mod pattern
    assert sum(counts.values()) <= 12 * steps


def test_hyper_indices_equal_dense_copy_tensors_and_save_flops():
    # Independent evaluation with opt_einsum/numpy: the dense-delta network and the hyper-index expression
    # must give the same tensor, and the hyper-index one must be cheaper.
    spec = RACSpec(2, 2, 2)
    q = init_params(spec, jax.random.PRNGKey(3))
    net = build_network(spec, 3, q, form="grid")
    values = []
    flops = []
    for hyper in (True, False):
        es = network_to_einsum(net, mode="tensor", hyper=hyper)
        arrays = einsum_operands(es, q)
        values.append(oe.contract(es.eq, *arrays))
        flops.append(find_path(es, optimizers=("greedy",)).flops)
        if not hyper:
            assert any(r.kind == "delta" for r in es.operands)
    np.testing.assert_allclose(values[0], values[1], rtol=1e-10)
    assert flops[0] < flops[1]


def test_k_ary_path_steps_are_split_into_correct_pairwise_steps():
    # simulate_path splits a 3-operand step into pairwise ones; running its local equations with numpy must give
    # what opt_einsum computes for the whole expression.
    spec = RACSpec(2, 2, 2)
    q = init_params(spec, jax.random.PRNGKey(1))
    es = network_to_einsum(build_network(spec, 3, q), mode="tensor")
    arrays = [np.asarray(q.W_O if r.kind == "W_O" else getattr(q, r.kind)[r.index], np.float64) for r in es.operands]
    n = len(arrays)
    steps, flops, peak, largest = simulate_path(es, [(0, 1, 2), (3, 1, 0)] + [(0, 1)] * (n - 5))
    live = list(arrays)
    for stp in steps:
        if stp.eq == "transpose":
            live[-1] = np.transpose(live[-1], stp.positions)
            continue
        ops = [live[i] for i in stp.positions]
        for i in sorted(stp.positions, reverse=True):
            del live[i]
        live.append(np.einsum(stp.eq, *ops))
    assert len(live) == 1
    np.testing.assert_allclose(live[0], oe.contract(es.eq, *arrays), rtol=1e-10)
    assert flops > 0 and peak > 0 and largest > 0


def test_same_structure_does_not_retrace():
    spec = RACSpec(2, 3, 2)
    x = np.random.default_rng(0).integers(0, 2, (5, 4))
    network_forward(spec, init_params(spec, jax.random.PRNGKey(0)), x, optimizers=FAST)
    before = trace_count()
    for seed in (1, 2):  # new weights and new inputs, same structure
        p = init_params(spec, jax.random.PRNGKey(seed))
        x2 = np.random.default_rng(seed).integers(0, 2, (5, 4))
        np.testing.assert_allclose(network_forward(spec, p, x2, optimizers=FAST), rac_forward(p, x2), rtol=2e-4)
    assert trace_count() == before
    network_forward(spec, init_params(spec, jax.random.PRNGKey(0)), x[:, :3], optimizers=FAST)  # new T
    assert trace_count() == before + 1


def test_long_sequence_stays_finite_and_matches_in_log_space():
    # T = 300 runs in chunks (longer than CHUNK_STEPS) with rescaled intermediates; the plain value
    # underflows float32 (about exp(-120) here) while the mantissa and log scale stay exact enough.
    spec = RACSpec(1, 4, 3)
    params = init_params(spec, jax.random.PRNGKey(0))
    x = np.random.default_rng(1).integers(0, 3, (3, 300))
    mant, log = network_forward(spec, params, x, optimizers=FAST)
    mant_r, log_r = rac_forward(params, x)
    assert np.all(np.isfinite(mant)) and np.all(np.isfinite(log))
    assert np.all(np.asarray(log_r) < -80)  # the regime where plain float32 would be zero
    np.testing.assert_allclose(log, log_r, atol=1e-3)
    np.testing.assert_allclose(mant, mant_r, rtol=1e-3, atol=1e-3)


def test_network_argument_uses_its_structure_and_weights():
    spec = RACSpec(2, 2, 3)
    params = init_params(spec, jax.random.PRNGKey(4))
    net = build_network(spec, 3, params, form="grid")
    x = np.array([[0, 2, 1]])
    np.testing.assert_allclose(network_forward(net, x=x, optimizers=FAST), rac_forward(params, x), rtol=2e-4)
    with pytest.raises(TnrnnError, match="T = 4 steps, expected 3"):
        network_forward(net, x=np.zeros((1, 4), int), optimizers=FAST)
    with pytest.raises(TnrnnError, match="without weights"):
        network_forward(build_network(spec, 3), x=x)


# ---------------------------------------------------------------------------------------------------------------
# Cost guard and overflow guard


def test_cost_guard_refuses_oversized_grid_tensor_before_any_work(monkeypatch):
    spec = RACSpec(3, 4, 16)
    q = init_params_modp(spec, 0, P)
    # A network this size would take long to build and plan: the refusal must come before either.
    monkeypatch.setattr(plan_module, "build_network", lambda *a, **k: pytest.fail("built a network for a refused request"))
    with pytest.raises(ResourceError, match="entries") as exc:
        grid_tensor_matrix(spec, 20, q, p=P)
    msg = str(exc.value)
    assert "EiB" in msg or "PiB" in msg or "TiB" in msg
    assert "smaller T" in msg


def test_cost_guard_refuses_by_memory_and_flops_with_the_estimate():
    spec = RACSpec(1, 8, 4)
    params = init_params(spec, jax.random.PRNGKey(0))
    x = np.zeros((64, 6), int)
    est = estimate_cost(spec, 6, batch=64, optimizers=FAST)
    with pytest.raises(ResourceError) as exc:
        network_forward(spec, params, x, budget_bytes=est["peak_bytes"] // 2, optimizers=FAST)
    msg = str(exc.value)
    assert "memory" in msg and "rac_forward" in msg and "chunks of at most" in msg
    with pytest.raises(ResourceError, match="flops"):
        network_forward(spec, params, x, budget_flops=est["flops"] - 1, optimizers=FAST)
    # At the estimate itself it runs.
    network_forward(spec, params, x, budget_bytes=est["peak_bytes"], budget_flops=est["flops"], optimizers=FAST)


@pytest.mark.parametrize(
    "var, small, small_match, bad",
    [("TNRNN_MAX_BYTES", "1K", r"budget 1\.0 KiB", "lots"), ("TNRNN_MAX_FLOPS", "1e3", r"flops \(budget 1e\+03\)", "-5")],
)
def test_budgets_read_the_environment(monkeypatch, var, small, small_match, bad):
    spec = RACSpec(1, 8, 4)
    params = init_params(spec, jax.random.PRNGKey(0))
    monkeypatch.setenv(var, small)
    with pytest.raises(ResourceError, match=small_match):
        network_forward(spec, params, np.zeros((64, 6), int), optimizers=FAST)
    monkeypatch.setenv(var, bad)
    with pytest.raises(TnrnnError, match=var):
        network_forward(spec, params, np.zeros((64, 6), int), optimizers=FAST)


def test_too_many_nodes_is_refused_without_building(monkeypatch):
    monkeypatch.setattr(plan_module, "build_network", lambda *a, **k: pytest.fail("built a refused network"))
    with pytest.raises(ResourceError, match="recurrence"):
        estimate_cost(RACSpec(3, 2, 2), 60)


def test_modp_overflow_guard():
    # p close to 2**31: (p-1)**2 ~ 2**62, so a contraction summing R = 3 products overflows int64.
    p = 2_147_483_647
    spec = RACSpec(1, 3, 2)
    q = init_params_modp(spec, 0, 101)
    with pytest.raises(TnrnnError, match="overflows int64"):
        network_forward_modp(spec, q, [[0, 1]], p, optimizers=FAST)
    # R = 1, M = 1: every contraction sums at most one product: allowed, and exact.
    spec1 = RACSpec(1, 1, 1)
    q1 = init_params_modp(spec1, 0, 101)
    assert np.array_equal(network_forward_modp(spec1, q1, [[0, 0, 0]], p, optimizers=FAST), rac_forward_modp(q1, [[0, 0, 0]], p))


# ---------------------------------------------------------------------------------------------------------------
# Input errors


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s, p, q: network_forward(s, p, np.zeros((2, 3, 4))), r"shape \(B, T, M=3\)"),
        (lambda s, p, q: network_forward(s, p, [[0, 3, 1]]), "symbol id 3 is out of range"),
        (lambda s, p, q: network_forward(s, p, [[0.5, 1.0]]), "must be integers"),
        (lambda s, p, q: network_forward(s, p, np.zeros(3, int)), "inputs must be symbol ids"),
        (lambda s, p, q: network_forward(s, p, [[0, 1]], form="tree"), "form must be one of"),
        (lambda s, p, q: network_forward(s, p, [[0, 1]], optimizers=("magic",)), "path optimizers"),
        (lambda s, p, q: network_forward(RACSpec(1, 2, 3), p, [[0, 1]]), "params are for"),
        (lambda s, p, q: network_forward(s, None, [[0, 1]]), "params are required"),
        (lambda s, p, q: network_forward(s, p), "inputs x are required"),
        (lambda s, p, q: network_forward_modp(s, p, [[0, 1]], P), "must be integers"),
        (lambda s, p, q: network_forward_modp(s, q, [[0, 1]], 100), "prime"),
        (lambda s, p, q: network_forward_modp(s, q, np.full((1, 2, 3), 0.5), P), "must be integers"),
        (lambda s, p, q: network_forward(s, p, np.ones((1, 2, 3)), form="grid"), "only on one-hot inputs"),
        (lambda s, p, q: network_forward_modp(s, q, np.ones((1, 2, 3), int), P, form="grid"), "one-hot"),
        (lambda s, p, q: grid_tensor_matrix(s, -1, q, p=P), "T must be an integer >= 1"),
        (lambda s, p, q: grid_tensor_matrix(s, 3, q, "start-end", p=P), "even T"),
        (lambda s, p, q: grid_tensor_matrix(s, 4, q, [5], p=P), "1..4"),
        (lambda s, p, q: estimate_cost(s, 0), "T must be an integer >= 1"),
        (lambda s, p, q: estimate_cost(s, 4, batch=0), "batch must be an integer >= 1"),
        (lambda s, p, q: estimate_cost(s, 4, arithmetic="complex"), "arithmetic"),
        (lambda s, p, q: network_forward("L=2", p, [[0, 1]]), "expected a RACSpec"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, match):
    spec = RACSpec(2, 2, 3)
    with pytest.raises(ValueError, match=match) as exc:
        call(spec, init_params(spec, jax.random.PRNGKey(0)), init_params_modp(spec, 0, P))
    assert isinstance(exc.value, TnrnnError)


def test_zero_width_is_refused():
    with pytest.raises(TnrnnError, match="width must be an integer >= 1"):
        RACSpec(2, 0, 3)


def test_structure_estimate_matches_flop_formula_for_the_sequential_sweep():
    # L = 1, batch B: the sequential sweep costs, per step t >= 2, B*R*R*2 (W_H) + B*R*M*2 (input) + B*R
    # (product), step 1 B*R*M*2, and W_O B*R*K*2; the estimate must be at most that (cheapest path kept).
    R, M, K, T, B = 5, 3, 2, 7, 11
    spec = RACSpec(1, R, M, K)
    cost = estimate_cost(spec, T, batch=B, optimizers=("sequential",))
    formula = B * R * M * 2 + (T - 1) * (B * R * R * 2 + B * R * M * 2 + B * R) + B * R * K * 2
    es = network_to_einsum(build_network(spec, T))
    assert find_path(es, batch=B, optimizers=("sequential",), refine=False).flops == formula
    assert cost["flops"] <= formula  # the refined path (subtree reconfiguration) is kept only when cheaper
    assert cost["peak_bytes"] >= 4 * (B * T * M + R * M + R * R + K * R)  # at least the inputs and weights


def test_grid_tensor_of_astronomical_size_is_refused_in_one_short_line():
    # M**T * 4 bytes used to overflow float in the message (OverflowError) and print M**T in full.
    spec = RACSpec(1, 2, 3)
    with pytest.raises(ResourceError, match=r"~10\^954 entries") as exc:
        grid_tensor_matrix(spec, 2000, init_params_modp(spec, 0, P), p=P)
    assert len(str(exc.value)) < 300 and "smaller T" in str(exc.value)


def test_one_path_search_serves_every_prime():
    spec = RACSpec(2, 2, 3)
    x = np.random.default_rng(2).integers(0, 3, (2, 4))
    network_forward_modp(spec, init_params_modp(spec, 0, P), x, P, optimizers=FAST)
    searches = search_count()
    for p in (101, 65_537):
        q = init_params_modp(spec, 0, p)
        assert np.array_equal(network_forward_modp(spec, q, x, p, optimizers=FAST), rac_forward_modp(q, x, p))
    assert search_count() == searches


def test_modp_network_refuses_float_weights_and_reduces_unsigned_features():
    spec = RACSpec(1, 2, 3)
    q = init_params_modp(spec, 0, P)
    with pytest.raises(TnrnnError, match="weights must be integers"):
        network_forward_modp(spec, q._replace(W_O=np.asarray(q.W_O, np.float64) + 0.5), [[0, 1]], P, optimizers=FAST)
    big = np.full((1, 2, 3), 2**64 - 1, dtype=np.uint64)
    want = rac_forward_modp(q, np.full((1, 2, 3), (2**64 - 1) % P), P)
    assert np.array_equal(network_forward_modp(spec, q, big, P, optimizers=FAST), want)


def test_estimate_for_huge_weights_allocates_nothing():
    # Structure-only planning with explicit initial states used dense zero weights: R = 10**5 needed 75 GiB.
    cost = estimate_cost(RACSpec(2, 10**5, 2), 2, has_h0=True, optimizers=("greedy",))
    assert cost["peak_bytes"] > 4 * 10**10 and cost["flops"] > 10**10


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rac_cases(), st.sampled_from(["sequential", "tree", "greedy"]))
def test_each_fast_optimiser_alone_equals_the_recurrence_mod_p(case, optimizer):
    # The cheapest path hides the others; each must still reduce the network to the right values by itself.
    spec, T, form, h0, seed, B = case
    q = init_params_modp(spec, seed, P, init_state=h0)
    x = np.random.default_rng(seed).integers(0, spec.M, (B, T))
    assert np.array_equal(network_forward_modp(spec, q, x, P, form=form, optimizers=(optimizer,)), rac_forward_modp(q, x, P))


def test_weights_checked_once_are_still_checked_against_a_new_spec_or_new_weights():
    # network_forward skips re-checking the very same immutable weights with the same spec; anything else is checked.
    spec = RACSpec(2, 2, 3)
    params = init_params(spec, jax.random.PRNGKey(0))
    x = jax.numpy.asarray([[0, 1, 2]])
    network_forward(spec, params, x, optimizers=("greedy",))
    with pytest.raises(TnrnnError, match="params are for"):
        network_forward(RACSpec(2, 2, 4), params, x, optimizers=("greedy",))
    bad = params._replace(W_H=(params.W_H[0], params.W_H[1][:1]))
    with pytest.raises(TnrnnError, match="weight shapes"):
        network_forward(spec, bad, x, optimizers=("greedy",))


@pytest.mark.parametrize("scale", [1.0, 1e4, 1e-6])
def test_degree_rescaling_falls_back_to_rescaling_everything_when_a_value_leaves_float32(scale):
    # Intermediates are rescaled only past MAX_LIVE_DEGREE weight factors; weights far from O(1) over- (1e4) or
    # underflow (1e-6) in between, and the executor must notice and redo the batch with every value rescaled.
    from tnrnn.network import execute

    spec = RACSpec(1, 3, 2)
    params = init_params(spec, jax.random.PRNGKey(3))
    params = params._replace(W_H=tuple(w * scale for w in params.W_H))
    x = np.random.default_rng(3).integers(0, 2, (4, 40))
    want = rac_forward(params, x)  # the recurrence, itself checked against float64 in tests/rac
    execute.clear_executors()
    safe_traces = lambda: sum(n for k, n in execute._TRACES.items() if k[2] == execute.SAFE_DEGREE)  # noqa: E731
    safe_before = safe_traces()
    mant, log = network_forward(spec, params, x, optimizers=("greedy",))
    assert np.all(np.isfinite(np.asarray(log))) and np.all(np.asarray(mant) != 0)
    np.testing.assert_allclose(np.asarray(log), np.asarray(want.log_scale), rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(np.asarray(mant), np.asarray(want.mantissa), rtol=1e-3, atol=1e-3)
    assert (safe_traces() > safe_before) == (scale != 1.0)  # the fallback ran exactly where it had to


def test_a_repeated_device_call_skips_the_checks_but_never_returns_a_stale_answer(monkeypatch):
    # network_forward remembers its last call on immutable weights and device ids; anything that call's checks
    # depended on (weights, shape, budgets, the environment's budgets, a cleared executor cache) must be seen.
    from tnrnn.network import evaluate, execute

    spec = RACSpec(2, 3, 4)
    params, other = init_params(spec, jax.random.PRNGKey(0)), init_params(spec, jax.random.PRNGKey(1))
    x = jnp.asarray(np.random.default_rng(0).integers(0, 4, (6, 7)), jnp.int32)
    first = network_forward(spec, params, x, optimizers=("greedy",))
    assert evaluate._LAST_CALL[0] is not None  # remembered
    again = network_forward(spec, params, x, optimizers=("greedy",))
    np.testing.assert_array_equal(np.asarray(again.log_scale), np.asarray(first.log_scale))
    for weights, ids in [(other, x), (params, x[:2]), (params, x.at[0, 0].set(4))]:
        got = network_forward(spec, weights, ids, optimizers=("greedy",))
        want = rac_forward(weights, ids)
        np.testing.assert_allclose(np.asarray(got.log_scale), np.asarray(want.log_scale), rtol=1e-4)
    network_forward(spec, params, x, optimizers=("greedy",))
    with pytest.raises(ResourceError):
        network_forward(spec, params, x, optimizers=("greedy",), budget_flops=1)
    monkeypatch.setenv("TNRNN_MAX_FLOPS", "1")
    with pytest.raises(ResourceError):
        network_forward(spec, params, x, optimizers=("greedy",))
    monkeypatch.delenv("TNRNN_MAX_FLOPS")
    network_forward(spec, params, x, optimizers=("greedy",))
    execute.clear_executors()
    traces = trace_count()
    network_forward(spec, params, x, optimizers=("greedy",))
    assert trace_count() > traces  # a cleared cache is rebuilt, not bypassed


def test_random_greedy_is_skipped_beside_other_finders_on_large_networks_but_runs_alone():
    # A rule on the structure (RANDOM_GREEDY_MAX_OPERANDS), never on the clock: the report says why it was skipped.
    from tnrnn.network.finders import RANDOM_GREEDY_MAX_OPERANDS

    es = network_to_einsum(build_network(RACSpec(2, 2, 2), 40, form="continuous"), hyper=True)
    assert len(es.inputs) > RANDOM_GREEDY_MAX_OPERANDS
    both = find_path(es, batch=4, optimizers=("greedy", "random-greedy"))
    assert "random-greedy" in both.skipped and "random-greedy" not in both.candidates
    assert str(RANDOM_GREEDY_MAX_OPERANDS) in both.skipped["random-greedy"]
    alone = find_path(es, batch=4, optimizers=("random-greedy",), refine=False)
    assert "random-greedy" in alone.candidates and not alone.skipped
    small = network_to_einsum(build_network(RACSpec(2, 2, 2), 6, form="continuous"), hyper=True)
    assert "random-greedy" in find_path(small, batch=4, optimizers=("greedy", "random-greedy")).candidates
