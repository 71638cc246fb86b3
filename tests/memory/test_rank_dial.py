"""Rank-dial targets have the rank they claim, checked independently over GF(p) with the project's own mod-p
recurrence; students evaluated on the prefix tree equal the plain stack; the floors and summaries hold."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import TnrnnError
from tnrnn.bounds.exact_rank import rank_modp
from tnrnn.memory import rank_dial as rd
from tnrnn.memory.cells import apply_stack, cell_step, init_stack, initial_carry
from tnrnn.rac.modp import rac_forward_modp
from tnrnn.rac.params import RACParams

P = 1_000_003


def _teacher_modp_table(depth, width, M, T, seed):
    """The dyadic teacher's integer table mod p through tnrnn.rac.modp (column convention: transposes)."""
    W_I, W_H, W_O = rd._teacher_integer_weights(depth, width, M, seed)
    params = RACParams(W_I=tuple(np.asarray(w).T % P for w in W_I), W_H=tuple(np.asarray(w).T % P for w in W_H),
                       W_O=(np.asarray(W_O)[None, :] % P))
    return rac_forward_modp(params, rd.all_sequences(M, T), p=P)[:, 0]


@pytest.mark.parametrize("name, M, T", [("teacher-L2R2", 2, 6), ("teacher-L2R2", 2, 8), ("teacher-L3R2", 2, 6)])
def test_teacher_rank_is_certified_over_gfp(name, M, T):
    target = rd.make_target(name, M, T)
    depth, width = rd._teacher_shape(name)
    table = _teacher_modp_table(depth, width, M, T, target["seed"])
    # GF(p) rank <= rank over Q <= generic rank: equality certifies the claimed rank
    assert rank_modp(rd.start_end_matrix(table, M, T), P) == target["rank"] == target["generic_rank"]
    # the float target is the same function, scaled
    exact, _, _ = rd._teacher_table_exact(*rd._teacher_integer_weights(depth, width, M, target["seed"]), M, T)
    assert np.array_equal(np.asarray([int(v) % P for v in exact]), table)
    ratio = target["values"] / rd._to_float(exact)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)


@pytest.mark.parametrize("M, T", [(2, 4), (2, 6), (3, 4), (2, 10)])
def test_match_count_has_rank_half_T_times_M_minus_1_plus_1(M, T):
    target = rd.make_target("match-count", M, T)
    assert target["rank"] == (T // 2) * (M - 1) + 1
    seqs = rd.all_sequences(M, T)
    counts = np.sum(seqs[:, : T // 2] == seqs[:, T // 2:], axis=1)
    np.testing.assert_allclose(target["values"] * np.sqrt(np.mean(counts ** 2.0)), counts)
    table = counts.astype(np.int64)
    assert rank_modp(rd.start_end_matrix(table.astype(np.int64), M, T), P) == target["rank"]


@pytest.mark.parametrize("r", [1, 3, 8])
def test_products_have_the_requested_rank(r):
    target = rd.make_target(f"products-r{r}", 2, 8)
    assert target["rank"] == r
    assert rd.numerical_rank(rd.start_end_matrix(target["values"], 2, 8), 1e-9) == r


def test_bad_targets_and_domains_are_refused():
    for name in ("teacher-L2", "products-rx", "nonsense"):
        with pytest.raises(TnrnnError):
            rd.make_target(name, 2, 4)
    with pytest.raises(TnrnnError, match="even"):
        rd.make_target("match-count", 2, 5)
    with pytest.raises(TnrnnError, match="sequences"):
        rd.make_target("match-count", 4, 12)
    with pytest.raises(TnrnnError, match="impossible"):
        rd.make_target("products-r5", 2, 4)


@settings(max_examples=8, deadline=None)
@given(cell=st.sampled_from(["rac", "gru", "scornn"]), depth=st.integers(1, 3), width=st.integers(1, 4),
       M=st.integers(2, 3), T=st.sampled_from([2, 4]))
def test_prefix_tree_equals_plain_stack(cell, depth, width, M, T):
    params = init_stack(depth * 7 + width, cell, M, width, depth, 1)
    xs = jax.nn.one_hot(jnp.asarray(rd.all_sequences(M, T)), M)
    if cell != "scornn":
        direct = apply_stack(params, xs, cell=cell, normalize=False)[:, -1, 0]
    else:
        # the student is one function: every sequence starts from the same (fixed) random state
        seq = xs
        for layer in params["layers"]:
            carry = jnp.broadcast_to(initial_carry(cell, layer, 1), (xs.shape[0], width))
            outs = []
            for t in range(T):
                carry, out = cell_step(cell, layer, carry, seq[:, t])
                outs.append(out)
            seq = jnp.stack(outs, axis=1)
        direct = (seq[:, -1] @ params["readout"]["W"] + params["readout"]["b"])[:, 0]
    np.testing.assert_allclose(np.asarray(rd.student_table(params, cell, M, T)), np.asarray(direct),
                               rtol=2e-4, atol=2e-5)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), rank=st.integers(1, 6))
def test_eckart_young_floor_is_the_best_low_rank_error(seed, rank):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((6, 7))
    floor = rd.eckart_young_floor(A, rank)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    best = (U[:, :rank] * s[:rank]) @ Vt[:rank]
    assert np.isclose(floor, np.linalg.norm(A - best) / np.linalg.norm(A))
    # any other rank-r matrix does worse
    other = rng.standard_normal((6, rank)) @ rng.standard_normal((rank, 7))
    assert np.linalg.norm(A - other) / np.linalg.norm(A) >= floor - 1e-12
    assert rd.eckart_young_floor(A, 6) < 1e-12


def test_shallow_rac_student_has_rank_at_most_its_width():
    params = {"net": init_stack(3, "rac", 2, 3, 1, 1), "scale": jnp.ones(())}
    rank, table = rd._student_rank_float64(params, "rac", 2, 8)   # evaluated in float64
    assert rank == 3


def test_summary_intervals_stay_in_the_unit_interval():
    rec = {"target": "t", "target_rank": 4, "symbols": 2, "time": 4, "cell": "rac", "depth": 1, "width": 2,
           "params": 9, "certified_rank": 2, "eckart_young_floor": 0.3, "steps": 10,
           "runs": [{"seed": s, "error": e, "student_rank": 2, "flattened": True}
                    for s, e in enumerate([0.001] * 9 + [None])]}
    row = rd.summarize_rank_dial([rec])["rows"][0]
    assert row["fits"] == 9 and row["fit_fraction"] == 0.9
    lo, hi = row["fit_interval"]
    assert 0.0 <= lo <= 0.9 <= hi <= 1.0
