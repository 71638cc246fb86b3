"""Certified lower bounds (tnrnn/bounds/certify.py) against an independent brute force and the anchors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import reference
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.bounds.certify import Certificate, CertificateError, certified_rank
from tnrnn.bounds.gfp import onehot_matrix_modp, rank_modp, sample_matrix_modp
from tnrnn.rac.partition import make_partition
from tnrnn.rac.recurrence import DEFAULT_PRIME, init_params_modp
from tnrnn.rac.spec import RACSpec

P = DEFAULT_PRIME


# ---------------------------------------------------------------------------------------------------------------
# Independent brute force: the recurrence definition (docs/theory.md, "Recurrent arithmetic circuits") in plain Python integers, no modulus.


def brute_table(spec, T, params, partition, output=0):
    """The one-hot matricization by the independent reference recurrence, exact over Z."""
    part = make_partition(T, partition)
    return reference.brute_table(spec.M, T, params, part.A, part.B, output)


# ---------------------------------------------------------------------------------------------------------------
# Tables and sample matrices equal the brute force entrywise


@pytest.mark.parametrize(
    "L,R,M,T,partition",
    [(1, 2, 2, 4, "start-end"), (2, 2, 2, 4, "start-end"), (2, 3, 2, 5, "odd-even"), (3, 2, 2, 4, "2,3"),
     (2, 2, 3, 4, "odd-even"), (2, 2, 2, 6, "1,5"), (3, 3, 2, 4, "start-end")],
)
def test_onehot_table_matches_brute_force(L, R, M, T, partition):
    spec = RACSpec(L, R, M)
    params = init_params_modp(spec, seed=3)
    exact = brute_table(spec, T, params, partition)
    fast = onehot_matrix_modp(spec, T, params, partition, P)
    assert fast.shape == (len(exact), len(exact[0]))
    assert (fast == np.array([[v % P for v in row] for row in exact], dtype=np.int64)).all()
    # GF(p) rank never exceeds the rank over Q of the same integer table (here they agree).
    assert rank_modp(fast, P) == reference.rank_over_q(exact)


def test_submatrix_selection_matches_full_table():
    spec = RACSpec(2, 2, 3)
    params = init_params_modp(spec, seed=5)
    full = onehot_matrix_modp(spec, 6, params, "odd-even", P)
    rows = np.array([[0, 1, 2], [2, 2, 0], [1, 0, 0]])
    cols = np.array([[1, 1, 1], [0, 2, 1]])
    sub = onehot_matrix_modp(spec, 6, params, "odd-even", P, rows=rows, cols=cols)
    ri = [int("".join(map(str, r)), 3) for r in rows]
    ci = [int("".join(map(str, c)), 3) for c in cols]
    assert (sub == full[np.ix_(ri, ci)]).all()


def test_second_output_component():
    spec = RACSpec(2, 2, 2, outputs=2)
    params = init_params_modp(spec, seed=2)
    exact = brute_table(spec, 4, params, "start-end", output=1)
    fast = onehot_matrix_modp(spec, 4, params, "start-end", P, output=1)
    assert (fast == np.array(exact, dtype=object) % P).all()


@pytest.mark.parametrize("partition", ["start-end", "odd-even", "1,4"])
def test_sample_matrix_matches_brute_force(partition):
    spec = RACSpec(2, 2, 2)
    T, n = 4, 5
    params = init_params_modp(spec, seed=1)
    part = make_partition(T, partition)
    S = sample_matrix_modp(spec, T, params, partition, P, n, np.random.default_rng(9))
    rng = np.random.default_rng(9)  # same draws, same order: all a, then all b
    a = rng.integers(0, P, (n, len(part.A), spec.M)).tolist()
    b = rng.integers(0, P, (n, len(part.B), spec.M)).tolist()
    for i in range(n):
        for j in range(n):
            seq = [None] * T
            for k, t in enumerate(part.A):
                seq[t - 1] = a[i][k]
            for k, t in enumerate(part.B):
                seq[t - 1] = b[j][k]
            assert S[i, j] == reference.brute_y(params, seq) % P


@settings(max_examples=12, deadline=None)
@given(
    L=st.integers(1, 3), R=st.integers(1, 3), M=st.integers(1, 3), T=st.integers(2, 5),
    seed=st.integers(0, 10**6), data=st.data(),
)
def test_property_table_matches_brute_force(L, R, M, T, seed, data):
    if M**T > 256:
        M = 2
    steps = data.draw(st.sets(st.integers(1, T), min_size=1, max_size=T - 1))
    spec = RACSpec(L, R, M)
    params = init_params_modp(spec, seed=seed)
    exact = brute_table(spec, T, params, sorted(steps))
    fast = onehot_matrix_modp(spec, T, params, sorted(steps), P)
    assert (fast == np.array(exact, dtype=object) % P).all()
    cert = certified_rank(spec, T, sorted(steps), seeds=(seed,))
    # Certified over GF(p) <= rank over Q of the same weights <= the trivial bound.
    assert cert.rank <= reference.rank_over_q(exact) <= min(len(exact), len(exact[0]))


# ---------------------------------------------------------------------------------------------------------------
# The science: theorems and anchors (docs/theory.md, "Results of the literature")


@pytest.mark.parametrize("R", [1, 2, 3, 5])
@pytest.mark.parametrize("M", [1, 2, 3])
@pytest.mark.parametrize("T", [2, 4, 6])
def test_shallow_start_end_is_min_R_M_half(R, M, T):
    if M ** (T // 2) > 64:
        pytest.skip("kept small")
    cert = certified_rank(RACSpec(1, R, M), T)
    assert cert.rank == min(R, M ** (T // 2))


@pytest.mark.parametrize("M,R,T", [(2, 2, 4), (2, 2, 6), (2, 3, 6), (3, 3, 4), (3, 2, 6), (2, 2, 8)])
def test_depth2_at_least_theorem(M, R, T):
    q = min(M, R)
    theorem = math.comb(q + T // 2 - 1, T // 2)  # ((q, T/2)), Levine et al. Theorem 1 part 2
    assert certified_rank(RACSpec(2, R, M), T).rank >= theorem
    assert certified_rank(RACSpec(2, R, M), T, domain="continuous").rank >= theorem


ANCHORS = {  # (L, M, R): ranks at T = 2, 4, 6, 8 (one-hot, Start-End)
    (1, 3, 3): (3, 3, 3, 3),
    (2, 2, 2): (2, 4, 8, 10),
    (2, 3, 3): (3, 9, 27, 45),
    (3, 3, 2): (2, 6, 18, 54),
}


@pytest.mark.parametrize("key", sorted(ANCHORS))
def test_science_anchors(key):
    L, M, R = key
    got = tuple(certified_rank(RACSpec(L, R, M), T).rank for T in (2, 4, 6, 8))
    assert got == ANCHORS[key]


def test_continuous_anchor_exceeds_onehot():
    spec = RACSpec(depth=2, width=2, features=2)
    cont = certified_rank(spec, 4, domain="continuous")
    assert cont.rank == 6
    assert certified_rank(spec, 4).rank == 4
    # The growth stopped because the rank stopped rising: the last matrix is rank deficient.
    rows, cols, r = cont.runs[0].stages[-1][:3]
    assert r < rows


def test_depth3_conjecture_fails_on_onehot():
    # docs/theory.md: L = 3, M = R = 3, T = 4: the conjecture says 10, the one-hot table has rank 9 = M^(T/2).
    assert certified_rank(RACSpec(3, 3, 3), 4).rank == 9


@settings(max_examples=10, deadline=None)
@given(L=st.integers(1, 3), R=st.integers(1, 3), M=st.integers(1, 3), half=st.integers(1, 3))
def test_property_continuous_at_least_onehot(L, R, M, half):
    # One-hot inputs are particular feature vectors, so the continuous rank is at least the one-hot rank.
    if M ** half > 27:
        half = 2
    spec = RACSpec(L, R, M)
    T = 2 * half
    assert certified_rank(spec, T, domain="continuous").rank >= certified_rank(spec, T).rank


# ---------------------------------------------------------------------------------------------------------------
# Sub-matrices, upper bounds, the certificate


def test_submatrix_path_agrees_with_full_table():
    spec = RACSpec(2, 3, 3)
    state_bound = 3 * math.comb(3 + 4 - 1, 4)  # R * ((R, T/2)) = 45 at T = 8
    with_upper = certified_rank(spec, 8, upper=state_bound, seeds=(0,))
    without = certified_rank(spec, 8, seeds=(0,))
    assert with_upper.rank == without.rank == 45
    assert with_upper.runs[0].rows < 81 and without.runs[0].stages[-1][:2] == [81, 81]


def test_wrong_small_upper_is_caught():
    # A (wrong) upper bound only sizes the matrices; a certified rank above it is an error, never a note.
    with pytest.raises(CertificateError, match="exceeds the supplied upper bound 5"):
        certified_rank(RACSpec(2, 3, 3), 8, upper=5, seeds=(0,))


def test_upper_bound_stops_extra_runs():
    cert = certified_rank(RACSpec(2, 2, 2), 6, seeds=(0, 1, 2), upper=8)
    assert cert.rank == 8 and len(cert.runs) == 1 and cert.notes


def test_certificate_runs_reproduce_and_serialise():
    spec = RACSpec(2, 2, 2)
    cert = certified_rank(spec, 6, "odd-even", seeds=(4, 7), primes=(P, 1_000_003))
    assert isinstance(cert, Certificate)
    assert [(r.prime, r.seed) for r in cert.runs] == [(P, 4), (P, 7), (1_000_003, 4), (1_000_003, 7)]
    assert cert.rank == max(r.rank for r in cert.runs)
    for r in cert.runs:
        table = onehot_matrix_modp(spec, 6, init_params_modp(spec, r.seed, r.prime), "odd-even", r.prime)
        assert rank_modp(table, r.prime) == r.rank
    data = json.loads(json.dumps(cert.to_json()))
    assert data["rank"] == cert.rank and data["domain"] == "onehot" and len(data["runs"]) == 4
    assert {"seed", "prime", "rank", "rows", "cols", "method", "seconds"} <= set(data["runs"][0])
    assert "seed" in str(cert)


def test_rank_modp_small_prime_and_exactness():
    assert rank_modp(np.array([[1, 1], [1, 3]]), 2) == 1  # singular mod 2
    assert rank_modp(np.array([[1, 1], [1, 3]]), 3) == 2
    big = np.array([[2**40, 1], [1, 2**40]], dtype=np.int64)
    assert rank_modp(big, P) == reference.rank_over_q(big.tolist())
    with pytest.raises(TnrnnError):
        rank_modp(np.ones((2, 2)), P)


def test_no_float_rank_on_certified_path(monkeypatch):
    import scipy.linalg

    def boom(*a, **k):
        raise AssertionError("a float rank/decomposition was called on the certified path")

    for mod, names in [(np.linalg, ["matrix_rank", "svd", "qr", "lstsq", "eig", "eigh", "det", "solve", "inv"]),
                       (scipy.linalg, ["svd", "qr", "lu", "lu_factor", "svdvals", "solve", "inv", "det"])]:
        for name in names:
            monkeypatch.setattr(mod, name, boom)
    assert certified_rank(RACSpec(2, 3, 3), 6).rank == 27
    assert certified_rank(RACSpec(2, 3, 3), 8, upper=45).rank == 45
    assert certified_rank(RACSpec(2, 2, 2), 4, domain="continuous").rank == 6


def test_matrices_are_integer_not_float():
    spec = RACSpec(2, 2, 2)
    params = init_params_modp(spec, 0)
    assert onehot_matrix_modp(spec, 4, params).dtype == np.int64
    assert sample_matrix_modp(spec, 4, params, "start-end", P, 4, np.random.default_rng(0)).dtype == np.int64


# ---------------------------------------------------------------------------------------------------------------
# Errors


def test_errors():
    spec = RACSpec(2, 2, 2)
    with pytest.raises(TnrnnError, match="even"):
        certified_rank(spec, 5, "start-end")
    with pytest.raises(TnrnnError, match="domain"):
        certified_rank(spec, 4, domain="gaussian")
    with pytest.raises(TnrnnError, match="prime"):
        certified_rank(spec, 4, primes=(100,))
    with pytest.raises(TnrnnError):
        certified_rank(spec, 4, seeds=())
    with pytest.raises(TnrnnError, match="output"):
        certified_rank(spec, 4, output=1)
    with pytest.raises(TnrnnError, match="params"):
        onehot_matrix_modp(RACSpec(1, 2, 2), 4, init_params_modp(spec, 0))
    with pytest.raises(TnrnnError, match="rows"):
        onehot_matrix_modp(spec, 4, init_params_modp(spec, 0), rows=np.array([[0, 2]]))


def test_huge_requests_answer_within_the_time_budget():
    # a 4^20 x 4^20 one-hot table: small random sub-matrices within the time budget, and the next size is reported
    cert = certified_rank(RACSpec(1, 2, 4), 40, "odd-even", seconds=0.5, seeds=(0,))
    run = cert.runs[0]
    assert run.stop.startswith(("time budget", "memory budget")) and run.rank >= 2
    assert cert.next_size is not None and cert.next_size["rows"] > run.rows
    with pytest.raises(ResourceError):
        onehot_matrix_modp(RACSpec(1, 2, 4), 40, init_params_modp(RACSpec(1, 2, 4), 0), "odd-even")
    with pytest.raises(ResourceError, match="smallest certified matrix"):
        certified_rank(RACSpec(2, 2, 2), 4, domain="continuous", budget_bytes=1000)


def test_certify_honours_the_one_memory_budget(monkeypatch):
    # TNRNN_MAX_BYTES is the budget when none is given (no private 2 GiB default)
    monkeypatch.setenv("TNRNN_MAX_BYTES", "1K")
    with pytest.raises(ResourceError, match="smallest certified matrix"):
        certified_rank(RACSpec(2, 2, 2), 4)


def test_certified_value_above_the_supplied_upper_bound_raises():
    with pytest.raises(CertificateError, match="exceeds the supplied upper bound 3"):
        certified_rank(RACSpec(2, 2, 2), 6, upper=3)


def test_rank_modp_reduces_uint64_above_2_63():
    big = np.array([[2**64 - 1, 2**63 + 5], [2**63, 1]], dtype=np.uint64)
    exact = [[int(x) for x in row] for row in big.tolist()]
    for p in (3, 5, 7, 1_000_003, P):
        reduced = [[x % p for x in row] for row in exact]
        det = (reduced[0][0] * reduced[1][1] - reduced[0][1] * reduced[1][0]) % p
        expected = 0 if not any(any(row) for row in reduced) else (2 if det else 1)
        assert rank_modp(big, p) == expected, p
    # a column that is 0 mod p only when read as unsigned: a cast to int64 first would see -1 and a rank of 2
    wrap = np.array([[2**64 - 1, 1], [0, 0]], dtype=np.uint64)  # 2^64 - 1 = 0 mod 3 and mod 5
    assert rank_modp(wrap, 3) == 1 and rank_modp(np.array([[2**64 - 1]], dtype=np.uint64), 5) == 0


def test_continuous_growth_stops_when_saturated_and_is_recorded():
    cert = certified_rank(RACSpec(3, 2, 2), 8, domain="continuous", seeds=(0,), seconds=None)
    run = cert.runs[0]
    assert cert.rank == 106 and run.stop == "saturated" and run.rows > 106
    assert cert.next_size is None  # nothing bigger can raise it
    assert Certificate.from_json(cert.to_json()).to_json() == cert.to_json()


# ---------------------------------------------------------------------------------------------------------------
# Big cases (deselected by default)


@pytest.mark.slow
def test_big_onehot_full_table_and_submatrix_agree():
    spec = RACSpec(2, 4, 4)  # a 4096 x 4096 table
    state_bound = 4 * math.comb(4 + 6 - 1, 6)  # 336
    full = certified_rank(spec, 12, seeds=(0,))
    sub = certified_rank(spec, 12, seeds=(0,), upper=state_bound)
    assert full.rank == sub.rank == state_bound


@pytest.mark.slow
def test_big_continuous_depth3():
    cert = certified_rank(RACSpec(3, 3, 3), 8, domain="continuous", seeds=(0,))
    assert cert.rank >= certified_rank(RACSpec(3, 3, 3), 8, seeds=(0,)).rank


@pytest.mark.parametrize("L,R,M,T,partition", [(2, 2, 2, 4, "start-end"), (3, 2, 2, 4, "odd-even"),
                                               (2, 3, 2, 5, "2,5"), (1, 3, 3, 4, "start-end")])
def test_table_matches_network_contraction(L, R, M, T, partition):
    # Independent path: the one-hot matricization by contracting the grid-form tensor network mod p.
    from tnrnn.network.evaluate import grid_tensor_matrix

    spec = RACSpec(L, R, M)
    params = init_params_modp(spec, seed=11)
    ours = onehot_matrix_modp(spec, T, params, partition, P)
    theirs = np.asarray(grid_tensor_matrix(spec, T, params, partition, p=P))
    assert theirs.shape == ours.shape and (theirs == ours).all()


@pytest.mark.parametrize("partition", ["2,3", "start-end", "1,4"])
@pytest.mark.parametrize("init_state", [False, True])
def test_pairs_match_plain_recurrence(partition, init_state):
    # The broadcast pair evaluation against the lead's recurrence on explicitly assembled sequences, including
    # explicit initial states and a partition whose first step lies on side B (no shared prefix).
    from tnrnn.rac.recurrence import rac_forward_modp

    spec = RACSpec(3, 2, 3)
    T = 4
    params = init_params_modp(spec, seed=8, init_state=init_state)
    part = make_partition(T, partition)
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 3, (5, len(part.A)))
    cols = rng.integers(0, 3, (4, len(part.B)))
    sub = onehot_matrix_modp(spec, T, params, partition, P, rows=rows, cols=cols)
    seqs = np.zeros((5, 4, T), dtype=np.int64)
    seqs[:, :, [t - 1 for t in part.A]] = rows[:, None, :]
    seqs[:, :, [t - 1 for t in part.B]] = cols[None, :, :]
    ref = rac_forward_modp(params, seqs.reshape(20, T), P)[:, 0].reshape(5, 4)
    assert (sub == ref).all()
    S = sample_matrix_modp(spec, T, params, partition, P, 3, np.random.default_rng(2))
    rng = np.random.default_rng(2)
    a = rng.integers(0, P, (3, len(part.A), spec.M))
    b = rng.integers(0, P, (3, len(part.B), spec.M))
    feats = np.zeros((3, 3, T, spec.M), dtype=np.int64)
    feats[:, :, [t - 1 for t in part.A]] = a[:, None]
    feats[:, :, [t - 1 for t in part.B]] = b[None, :]
    assert (S == rac_forward_modp(params, feats.reshape(9, T, spec.M), P)[:, 0].reshape(3, 3)).all()


def test_loose_upper_bound_grows_to_the_full_table():
    # With a loose upper bound (60 > true 45) the random 68 x 68 sub-matrix cannot meet it, so the run grows to
    # the full 81 x 81 table; the certified value is the same as without any bound.
    cert = certified_rank(RACSpec(2, 3, 3), 8, upper=60, seeds=(0,))
    stages = cert.runs[0].stages
    assert stages[0][:2] == [68, 68] and stages[-1][:3] == [81, 81, 45]
    assert cert.rank == 45


def test_progress_bars_go_to_stderr(capsys):
    certified_rank(RACSpec(2, 2, 2), 6, seeds=(0, 1), progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "certified rank" in err


def test_wide_network_refused_before_drawing_weights():
    # R = 10^4: the GF(p) weights alone are 2.4 GB (three copies 7 GB); this used to allocate them and run for a
    # minute before any check. The estimate names the size.
    with pytest.raises(ResourceError, match=r"GiB \(budget"):
        certified_rank(RACSpec(2, 10**4, 2), 4, upper=4)


def test_too_many_seeds_refused():
    with pytest.raises(TnrnnError, match="at most"):
        certified_rank(RACSpec(1, 2, 2), 4, seeds=range(10**6))


# ---------------------------------------------------------------------------------------------------------------
# The work budget: the same certificate whatever the machine's speed


def _strip_times(cert):
    data = cert.to_json()
    for run in data["runs"]:
        run["seconds"] = 0
        for stage in run["stages"]:
            stage[3] = 0
    data["statement"] = None
    return data


@pytest.mark.parametrize("domain, spec, T, upper", [("continuous", RACSpec(3, 3, 3), 8, 2970),
                                                    ("onehot", RACSpec(2, 4, 4), 12, None)])
def test_work_budget_gives_the_same_certificate_on_a_slow_machine(monkeypatch, domain, spec, T, upper):
    import tnrnn.bounds.certify as certify_mod

    small = dict(domain=domain, upper=upper, work=0.05)  # small enough that the work budget binds
    fast = certified_rank(spec, T, **small)
    assert any(r.stop.startswith("work budget") for r in fast.runs)
    ticks = iter(range(0, 10**9, 1000))  # every clock reading 1000 s after the last: a very slow, loaded machine
    monkeypatch.setattr(certify_mod.time, "perf_counter", lambda: float(next(ticks)))
    slow = certified_rank(spec, T, **small)
    assert _strip_times(slow) == _strip_times(fast)
    assert fast.budget_work == 0.05 and fast.budget_seconds is None


def test_time_box_is_still_an_option(monkeypatch):
    import tnrnn.bounds.certify as certify_mod

    ticks = iter(range(0, 10**9, 1000))
    monkeypatch.setattr(certify_mod.time, "perf_counter", lambda: float(next(ticks)))
    cert = certified_rank(RACSpec(3, 2, 2), 8, domain="continuous", seconds=5.0)
    # a box that the (simulated) clock has used up before the first matrix: nothing certified, and it says so
    assert cert.rank == 0 and cert.budget_work is None and "no matrix fitted the budget" in cert.notes


def test_continuous_default_reaches_the_gap_value_with_a_strong_statement():
    from tnrnn.bounds.certify import with_statement
    from tnrnn.rac.problem import LARGE_PRIME, make_problem

    problem = make_problem(RACSpec(3, 2, 2), 8, domain="continuous")
    from tnrnn.bounds.certify import certify

    cert = with_statement(certify(problem, 110), problem, 110)
    assert cert.rank == 106 and cert.primes == [LARGE_PRIME]
    assert cert.statement is not None and cert.statement.epsilon <= 1e-9
    # one seed was enough: the second would only shrink epsilon (the note says why it stopped)
    assert len(cert.runs) == 1 and any("below 1e-09" in n for n in cert.notes)


def test_work_budget_does_not_depend_on_what_is_installed(monkeypatch):
    # without numba the evaluation takes numpy's path; the work model (and so the matrices) must not change
    import tnrnn.bounds.gfp_kernel as gk

    kw = dict(domain="continuous", upper=2970, work=0.03, primes=1_048_573, seeds=(0,))
    with_kernel = certified_rank(RACSpec(3, 3, 3), 8, **kw)
    monkeypatch.setattr(gk, "available", lambda: False)
    without = certified_rank(RACSpec(3, 3, 3), 8, **kw)
    assert _strip_times(without) == _strip_times(with_kernel)
    assert with_kernel.runs[0].stop.startswith("work budget")


def test_large_prime_without_numba_stops_growing_and_says_why(monkeypatch):
    import tnrnn.bounds.certify as certify_mod
    import tnrnn.bounds.gfp_kernel as gk

    monkeypatch.setattr(gk, "available", lambda: False)
    monkeypatch.setattr(certify_mod, "_NO_KERNEL_UNITS", 1e5)  # so the 64-point stage runs and the next does not
    cert = certified_rank(RACSpec(3, 3, 3), 8, domain="continuous", upper=2970, seeds=(0,))
    run = cert.runs[0]
    assert run.rows == 64 and "no compiled kernel" in run.stop and "tnrnn[fast]" in run.stop
    assert cert.next_size is not None and cert.next_size["rows"] > 64
