"""Plans and executors: every path finder alone is right, one plan serves every batch size, chunked execution
equals step-by-step execution, the disk cache round-trips and ignores corrupt entries, the search is deterministic,
device arrays go in without a host round trip."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tnrnn.network import execute
from tnrnn.network.build import build_network
from tnrnn.network.einsum import einsum_operands, network_to_einsum, split_onehot_inputs
from tnrnn.network.evaluate import clear_cache, network_forward, network_forward_modp
from tnrnn.network.finders import PATH_FINDERS, reconfigure
from tnrnn.network.paths import find_path, integer_labels, pairwise, simulate_path
from tnrnn.network.plan import cache_dir, get_plan, plan_key, search_count
from tnrnn.rac.recurrence import init_params, init_params_modp, rac_forward, rac_forward_modp
from tnrnn.rac.spec import RACSpec

P = 10_007


@st.composite
def small_racs(draw):
    L = draw(st.integers(1, 3))
    T = draw(st.integers(1, {1: 5, 2: 4, 3: 3}[L]))
    spec = RACSpec(L, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    return spec, T, draw(st.sampled_from(["continuous", "grid"])), draw(st.booleans()), draw(st.integers(0, 2**16)), \
        draw(st.integers(1, 3))


@pytest.mark.parametrize("finder", list(PATH_FINDERS))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=small_racs())
def test_each_path_finder_alone_equals_the_recurrence_float_and_mod_p(finder, case):
    spec, T, form, h0, seed, B = case
    x = np.random.default_rng(seed).integers(0, spec.M, (B, T))
    q = init_params_modp(spec, seed, P, init_state=h0)
    assert np.array_equal(network_forward_modp(spec, q, x, P, form=form, optimizers=(finder,)), rac_forward_modp(q, x, P))
    params = init_params(spec, jax.random.PRNGKey(seed), init_state=h0)
    mant, log = network_forward(spec, params, x, form=form, optimizers=(finder,))
    want = rac_forward(params, x)
    # float32 sums in another order: a few 1e-3 relative where terms cancel (exactness is checked mod p above).
    np.testing.assert_allclose(np.asarray(log), np.asarray(want.log_scale), atol=1e-2)
    np.testing.assert_allclose(np.asarray(mant), np.asarray(want.mantissa), atol=1e-2)


def test_a_second_batch_size_reuses_the_plan():
    spec = RACSpec(2, 3, 2)
    params = init_params(spec, jax.random.PRNGKey(1))
    network_forward(spec, params, np.zeros((4, 5), int), optimizers=("greedy", "tree"))
    searches = search_count()
    for B in (1, 7, 64):
        x = np.random.default_rng(B).integers(0, 2, (B, 5))
        np.testing.assert_allclose(network_forward(spec, params, x, optimizers=("greedy", "tree")).log_scale,
                                   rac_forward(params, x).log_scale, rtol=1e-4, atol=1e-4)
    assert search_count() == searches


@pytest.mark.parametrize("L, T", [(1, 12), (2, 5), (3, 4)])
def test_chunked_execution_equals_step_by_step(monkeypatch, L, T):
    spec = RACSpec(L, 3, 2)
    x = np.random.default_rng(L).integers(0, 2, (3, T))
    q = init_params_modp(spec, L, P)
    params = init_params(spec, jax.random.PRNGKey(L))
    fused = network_forward_modp(spec, q, x, P, optimizers=("tree",)), network_forward(spec, params, x, optimizers=("tree",))
    steps = len(get_plan(plan_key(spec, T, "continuous", False, optimizers=("tree",))).report.steps)
    assert steps > 8
    traces = execute.trace_count()
    execute.clear_executors()
    monkeypatch.setattr(execute, "CHUNK_STEPS", 1)  # one jitted function per contraction
    stepped = network_forward_modp(spec, q, x, P, optimizers=("tree",)), network_forward(spec, params, x, optimizers=("tree",))
    assert execute.trace_count() - traces >= 2 * steps  # really one chunk per step, for both arithmetics
    assert np.array_equal(fused[0], stepped[0]) and np.array_equal(fused[0], rac_forward_modp(q, x, P))
    np.testing.assert_allclose(np.asarray(fused[1].mantissa), np.asarray(stepped[1].mantissa), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(fused[1].log_scale), np.asarray(stepped[1].log_scale), rtol=1e-5)
    execute.clear_executors()


def test_disk_cache_round_trip_and_corrupt_entries(monkeypatch, tmp_path):
    monkeypatch.setenv("TNRNN_CACHE_DIR", str(tmp_path))
    key = plan_key(RACSpec(2, 2, 3), 4, "grid", False, optimizers=("greedy", "random-greedy"))
    clear_cache()
    first = get_plan(key)
    files = list(cache_dir().glob("*.json"))
    assert len(files) == 1 and cache_dir() == tmp_path / "plans"
    clear_cache()
    searches = search_count()
    again = get_plan(key)
    assert search_count() == searches and again.report.path == first.report.path
    assert again.report.flops == first.report.flops
    for garbage in ("{not json", '{"path": [[0, 999]], "path_optimizer": "x", "candidates": {}}', '{"path": 5}'):
        files[0].write_text(garbage)
        clear_cache()
        redone = get_plan(key)
        assert search_count() == searches + 1 and redone.report.path == first.report.path
        searches = search_count()
        assert '"path"' in files[0].read_text() and files[0].read_text() != garbage  # rewritten
    x = np.random.default_rng(0).integers(0, 3, (2, 4))
    q = init_params_modp(RACSpec(2, 2, 3), 0, P)
    assert np.array_equal(network_forward_modp(RACSpec(2, 2, 3), q, x, P, form="grid",
                                               optimizers=("greedy", "random-greedy")), rac_forward_modp(q, x, P))


def test_path_search_is_deterministic_across_processes_and_uses_the_hyper_optimiser():
    # Two processes with different string-hash seeds must find the same path (set order of string indices used to
    # change the greedy tie-breaks); no finder is skipped for time.
    import json
    import os
    import subprocess
    import sys

    code = ("import json; from tnrnn.network.build import build_network; from tnrnn.network.einsum import "
            "network_to_einsum; from tnrnn.network.paths import find_path; from tnrnn.rac.spec import RACSpec; "
            "r = find_path(network_to_einsum(build_network(RACSpec(2, 2, 3), 4, form='grid'))); "
            "print(json.dumps([r.path, r.candidates]))")
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                      env={**os.environ, "PYTHONHASHSEED": seed}).stdout.splitlines()[-1])
            for seed in ("1", "2")]
    assert runs[0] == runs[1]
    assert {k.removesuffix("+reconf") for k in runs[0][1]} == set(PATH_FINDERS)


def test_pairwise_splits_k_ary_steps_like_opt_einsum():
    import opt_einsum as oe

    shapes = [(2, 3), (3, 4), (4, 5), (5, 2)]
    arrays = [np.random.default_rng(i).normal(size=s) for i, s in enumerate(shapes)]
    path = pairwise([(0, 1, 2), (0, 1)], 4)
    assert all(len(s) == 2 for s in path)
    np.testing.assert_allclose(oe.contract("ab,bc,cd,da->", *arrays, optimize=path),
                               oe.contract("ab,bc,cd,da->", *arrays), rtol=1e-10)


def test_device_arrays_in_and_bad_device_ids_give_nan():
    spec = RACSpec(2, 3, 4)
    params = init_params(spec, jax.random.PRNGKey(2))
    ids = jnp.asarray(np.random.default_rng(2).integers(0, 4, (3, 5)), jnp.int32)
    out = network_forward(spec, params, ids, optimizers=("tree",))
    want = rac_forward(params, np.asarray(ids))
    np.testing.assert_allclose(np.asarray(out.log_scale), np.asarray(want.log_scale), rtol=1e-4, atol=1e-4)
    bad = ids.at[1, 2].set(9)
    mant, log = network_forward(spec, params, bad, optimizers=("tree",))
    assert np.isnan(np.asarray(log)[1]) and np.all(np.isfinite(np.asarray(log)[[0, 2]]))
    raw = network_forward(spec, params, ids, raw=True, optimizers=("tree",))
    np.testing.assert_allclose(np.asarray(raw), np.asarray(out), rtol=1e-5)


def test_deep_network_outputs_are_usable_by_default():
    # L = 3, T = 8 (165 input copies): the default network output is finite, nonzero and equal to the recurrence's.
    spec = RACSpec(3, 8, 4)
    params = init_params(spec, jax.random.PRNGKey(0))
    x = np.random.default_rng(0).integers(0, 4, (4, 8))
    mant, log = network_forward(spec, params, x, optimizers=("tree",))
    want = rac_forward(params, x)
    assert np.all(np.asarray(mant) != 0) and np.all(np.isfinite(np.asarray(log)))
    np.testing.assert_allclose(np.asarray(log), np.asarray(want.log_scale), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np.asarray(mant), np.asarray(want.mantissa), rtol=1e-3, atol=1e-3)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(0, 2**16))
def test_split_input_legs_equal_the_tied_network_on_one_hot_inputs_only(L, R, M, T, seed):
    # Independent evaluation (opt_einsum on float64 arrays): on one-hot inputs the split expression and the tied
    # grid expression give the same numbers; its input operands are as many as the continuous form has.
    spec = RACSpec(L, R, M)
    params = init_params(spec, jax.random.PRNGKey(seed))
    tied = network_to_einsum(build_network(spec, T, form="grid"))
    split = split_onehot_inputs(tied)
    cont = network_to_einsum(build_network(spec, T, form="continuous"))
    count = lambda es: sum(r.kind == "x" for r in es.operands)  # noqa: E731
    assert count(split) == count(cont) and len(split.inputs) == len(cont.inputs)
    rng = np.random.default_rng(seed)
    onehot = np.eye(M)[rng.integers(0, M, (3, T))]
    want = oe_contract(tied, params, onehot)
    np.testing.assert_allclose(oe_contract(split, params, onehot), want, rtol=1e-9, atol=1e-12 * np.abs(want).max())
    if L > 1 and T > 1 and M > 1:  # off one-hot inputs the copies of a split leg enter multilinearly, not linearly
        feats = rng.normal(size=(3, T, M))
        # relative comparison only: at R = 1 the values can be tiny, and an absolute tolerance would call them equal
        assert not np.allclose(oe_contract(split, params, feats), oe_contract(tied, params, feats), rtol=1e-6, atol=0)


def oe_contract(es, params, x):
    import opt_einsum as oe

    return oe.contract(es.eq, *einsum_operands(es, params, x))


def test_grid_evaluation_on_ids_uses_the_split_plan_with_small_intermediates():
    spec, T = RACSpec(2, 3, 3), 6
    q = init_params_modp(spec, 4, P)
    x = np.random.default_rng(4).integers(0, 3, (5, T))
    assert np.array_equal(network_forward_modp(spec, q, x, P, form="grid"), rac_forward_modp(q, x, P))
    split = get_plan(plan_key(spec, T, "grid", False, onehot=True)).report
    tied = find_path(network_to_einsum(build_network(spec, T, form="grid")), batch=256)
    assert split.largest_intermediate < tied.largest_intermediate and split.flops < tied.flops


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(2, 4), st.integers(0, 2**16),
       st.sampled_from(["greedy", "tree", "sequential"]))
def test_reconfigured_paths_are_valid_and_never_cost_more(L, R, M, T, seed, finder):
    plain = network_to_einsum(build_network(RACSpec(L, R, M), T))
    es = integer_labels(plain)  # the finders' view; paths index the same operands
    sizes = es.sized(32)
    path = pairwise(PATH_FINDERS[finder](es, sizes, seed), len(es.inputs))
    new = reconfigure(es, sizes, path, seed)
    before, after = simulate_path(es, path, batch=32), simulate_path(es, new, batch=32)  # both reduce to the output
    assert after[1] <= before[1]
    params = init_params(RACSpec(L, R, M), jax.random.PRNGKey(seed))
    x = np.eye(M)[np.random.default_rng(seed).integers(0, M, (2, T))]
    import opt_einsum as oe

    arrays = einsum_operands(plain, params, x)
    np.testing.assert_allclose(oe.contract(plain.eq, *arrays, optimize=list(new)),
                               oe.contract(plain.eq, *arrays, optimize=list(path)), rtol=1e-9, atol=1e-300)


def test_ids_take_the_gather_route_and_equal_one_hot_features_exactly():
    # Symbol ids are contracted by gathering rows (no one-hot product); integer one-hot features go through the
    # einsum. Mod p both are exact, so they must agree entry for entry.
    spec = RACSpec(2, 3, 4)
    q = init_params_modp(spec, 7, P)
    ids = np.random.default_rng(7).integers(0, 4, (6, 5))
    via_ids = network_forward_modp(spec, q, ids, P)
    via_feats = network_forward_modp(spec, q, np.eye(4, dtype=np.int64)[ids], P)
    assert np.array_equal(via_ids, via_feats) and np.array_equal(via_ids, rac_forward_modp(q, ids, P))
