"""Algebraic upper bounds: formulas, the anchors of docs/theory.md, and validity against brute-force exact ranks."""

from __future__ import annotations

import itertools
import math

import flint
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.bounds.algebraic import (
    best_bound,
    input_bound,
    multiset_count,
    state_bound,
    state_degrees,
    trivial_bound,
    upper_bounds,
)
from tnrnn.bounds.mincut import rac_mincut
from tnrnn.rac.partition import make_partition
from tnrnn.rac.recurrence import DEFAULT_PRIME, init_params_modp, rac_forward_modp
from tnrnn.rac.spec import RACSpec

P = DEFAULT_PRIME


def onehot_rank(spec: RACSpec, T: int, partition, seed: int = 0, p: int = P) -> int:
    """Brute force: the whole one-hot table by the plain mod-p recurrence, its matricisation ranked by flint."""
    part = make_partition(T, partition)
    params = init_params_modp(spec, seed, p)
    seqs = np.array(list(itertools.product(range(spec.M), repeat=T)), dtype=np.int64)
    y = rac_forward_modp(params, seqs, p)[:, 0]
    A = [a - 1 for a in part.A]
    B = [b - 1 for b in part.B]
    mat = np.zeros((spec.M ** len(A), spec.M ** len(B)), dtype=np.int64)
    rows = np.ravel_multi_index(seqs[:, A].T, (spec.M,) * len(A))
    cols = np.ravel_multi_index(seqs[:, B].T, (spec.M,) * len(B))
    mat[rows, cols] = y
    return flint.nmod_mat(mat.tolist(), p).rank()


def sample_rank(spec: RACSpec, T: int, partition, n: int, seed: int = 0, p: int = P) -> int:
    """Brute force, continuous domain: rank of y(a_i, b_j) over random GF(p) feature vectors."""
    part = make_partition(T, partition)
    rng = np.random.default_rng(seed)
    params = init_params_modp(spec, seed, p)
    a = rng.integers(0, p, size=(n, len(part.A), spec.M))
    b = rng.integers(0, p, size=(n, len(part.B), spec.M))
    x = np.zeros((n * n, T, spec.M), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            x[i * n + j, [t - 1 for t in part.A]] = a[i]
            x[i * n + j, [t - 1 for t in part.B]] = b[j]
    y = rac_forward_modp(params, x, p)[:, 0].reshape(n, n)
    return flint.nmod_mat(y.tolist(), p).rank()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 40))
def test_multiset_count_matches_math_comb(n, k):
    assert multiset_count(n, k) == math.comb(n + k - 1, k)


def test_multiset_count_huge_degree_stays_factorised():
    big = multiset_count(5, 10**12)
    assert big == math.comb(10**12 + 4, 4)
    assert multiset_count(2, 10**15).exact() == 10**15 + 1


@pytest.fixture
def no_slow_arithmetic(monkeypatch):
    """Make the two slow paths of exact binomials fail instead of running for minutes.

    Factorising a term above 2^64 with flint (terms like 10^80 once were) and ``math.comb`` with both arguments
    large (quadratic: about a minute at C(2 * 10^6, 10^6)) raise inside the code under test.
    """
    import sys
    import types

    import flint

    from tnrnn.bounds import algebraic

    class GuardedFmpz:
        bin_uiui = staticmethod(flint.fmpz.bin_uiui)

        def __new__(cls, value=0):
            if int(value) >= 2**64:
                raise AssertionError(f"a {int(value).bit_length()}-bit term handed to flint for factoring")
            return flint.fmpz(value)

    guarded_flint = types.SimpleNamespace(**{k: getattr(flint, k) for k in dir(flint) if not k.startswith("__")})
    guarded_flint.fmpz = GuardedFmpz
    monkeypatch.setitem(sys.modules, "flint", guarded_flint)

    def comb(n, k):
        if min(k, n - k) > 10_000:
            raise AssertionError(f"math.comb({n}, {k}): quadratic in its arguments")
        return math.comb(n, k)

    guarded_math = types.SimpleNamespace(**{k: getattr(math, k) for k in dir(math) if not k.startswith("__")})
    guarded_math.comb = comb
    monkeypatch.setattr(algebraic, "math", guarded_math)


def test_multiset_count_never_factorises_huge_terms(no_slow_arithmetic):
    N = 10**80  # degrees like C(T/2+L-2, L-1) at L = T = 200; flint used to try to factorise such terms
    assert multiset_count(6, N) == math.comb(N + 5, 5)
    assert multiset_count(20001, 20000) == math.comb(40000, 20000)  # flint's binomial (math.comb is quadratic)
    n = 10**6  # C(2n - 1, n): about 2 million bits, a minute for math.comb
    expected = (math.lgamma(2 * n) - math.lgamma(n + 1) - math.lgamma(n)) / math.log(2)
    assert multiset_count(n, n).log2 == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ResourceError, match="bits"):
        multiset_count(10**7, 10**9)


def test_long_sequences_and_deep_networks_stay_fast(monkeypatch, no_slow_arithmetic):
    # One binomial per distinct degree (not per step) and no slow arithmetic inside any of them.
    from tnrnn.bounds import algebraic

    calls = []
    real = algebraic.multiset_count
    monkeypatch.setattr(algebraic, "multiset_count", lambda n, k: calls.append((n, k)) or real(n, k))
    assert input_bound(RACSpec(1, 2, 3), 10**5, "odd-even") == ExactCount.power(2, 5 * 10**4)
    assert len(calls) <= 2  # every step of L = 1 has degree 1: one distinct degree per side
    calls.clear()
    assert state_bound(RACSpec(200, 2, 2), 200) > 2**3000
    assert len(calls) <= 200  # one per layer's state degree


# docs/theory.md, "Results of the literature": exact generic one-hot Start-End ranks (L, M, R) -> values at T = 2, 4, 6, 8
ANCHORS = {(1, 3, 3): [3, 3, 3, 3], (2, 2, 2): [2, 4, 8, 10], (2, 3, 3): [3, 9, 27, 45], (3, 3, 2): [2, 6, 18, 54]}


@pytest.mark.parametrize("L,M,R", list(ANCHORS))
def test_best_upper_bound_meets_the_anchors(L, M, R):
    for T, anchor in zip((2, 4, 6, 8), ANCHORS[(L, M, R)]):
        bounds, _ = upper_bounds(RACSpec(L, R, M), T, "start-end", "onehot")
        best, names = best_bound(bounds)
        assert best == anchor, (T, {k: str(v) for k, v in bounds.items()})
        assert names and all(bounds[n] == anchor for n in names)


def test_anchors_reproduced_by_brute_force():
    assert onehot_rank(RACSpec(2, 2, 2), 8, "start-end") == 10
    assert onehot_rank(RACSpec(3, 2, 3), 6, "start-end") == 18
    # continuous domain (L=2, M=R=2, T=4): 6 > one-hot 4, and the state bound R ((R, T/2)) = 6 meets it
    assert sample_rank(RACSpec(2, 2, 2), 4, "start-end", n=10) == 6
    bounds, _ = upper_bounds(RACSpec(2, 2, 2), 4, "start-end", "continuous")
    assert best_bound(bounds)[0] == 6 and bounds["trivial"] is None


@settings(max_examples=12, deadline=None)
@given(
    L=st.integers(1, 3),
    R=st.integers(1, 3),
    M=st.integers(1, 3),
    T=st.integers(2, 5),
    seed=st.integers(0, 10**6),
    data=st.data(),
)
def test_every_bound_is_at_least_the_exact_rank(L, R, M, T, seed, data):
    if M**T > 243:
        T = 4 if M == 3 else T
    A = data.draw(st.sets(st.integers(1, T), min_size=1, max_size=T - 1))
    spec = RACSpec(L, R, M)
    part = make_partition(T, sorted(A))
    rank = onehot_rank(spec, T, part, seed=seed % 1000)
    bounds, _ = upper_bounds(spec, T, part, "onehot")
    for name, value in bounds.items():
        if value is not None:
            assert rank <= value, (name, str(value), rank)
    cont, _ = upper_bounds(spec, T, part, "continuous")
    srank = sample_rank(spec, T, part, n=8, seed=seed % 1000)
    for name, value in cont.items():
        if value is not None:
            assert srank <= value, (name, str(value), srank)


def test_state_bound_formulas():
    for R in (1, 2, 5):
        for T in (2, 4, 7):
            assert state_bound(RACSpec(1, R, 3), T, "1") == R  # L = 1: R for any prefix cut
        for T in (2, 4, 6, 10):
            assert state_bound(RACSpec(2, R, 2), T) == R * math.comb(R + T // 2 - 1, T // 2)  # R ((R, T/2))
    assert state_bound(RACSpec(2, 2, 2), 6, "odd-even") is None
    assert state_bound(RACSpec(2, 2, 2), 6, "4,5,6") == state_bound(RACSpec(2, 2, 2), 6, "1,2,3")
    # the state bound is at most the cut of every handed-over state bond, R^(sum_l d_l)
    for L, T in ((2, 8), (3, 8), (4, 12), (3, 1024)):
        d = state_degrees(RACSpec(L, 3, 2), T, T // 2)
        assert sum(d) == math.comb(T // 2 + L - 1, L - 1)
        assert state_bound(RACSpec(L, 3, 2), T) <= ExactCount.power(3, sum(d))


def test_state_bound_can_beat_and_lose_to_the_mincut():
    # often far below the min-cut ...
    assert state_bound(RACSpec(2, 2, 2), 16) < rac_mincut(RACSpec(2, 2, 2), 16).value
    # ... but not always: with few input copies in B, cutting one R bond above each beats the state bound
    assert rac_mincut(RACSpec(3, 2, 16), 4).value < state_bound(RACSpec(3, 2, 16), 4)


def test_input_and_trivial_bounds():
    for M, R, T in ((2, 3, 6), (3, 2, 6), (4, 4, 4)):
        assert input_bound(RACSpec(1, R, M), T, "odd-even", "onehot") == min(M, R) ** (T // 2)
        assert trivial_bound(RACSpec(2, R, M), T, "odd-even", "onehot") == M ** (T // 2)
    assert trivial_bound(RACSpec(2, 2, 2), 6, "1", "onehot") == 2
    assert trivial_bound(RACSpec(2, 2, 2), 6, "start-end", "continuous") is None
    # continuous: per step ((q, n_j)) with n_j = T - j + 1 at L = 2; the smaller side (B) wins
    n = RACSpec(2, 2, 2).input_copies(6)
    expected = math.prod(math.comb(2 + n[j - 1] - 1, n[j - 1]) for j in (4, 5, 6))
    assert input_bound(RACSpec(2, 2, 2), 6, "start-end", "continuous") == expected


def test_huge_sizes_stay_exact_and_compact():
    spec = RACSpec(4, 3, 3)
    s = state_bound(spec, 1024)
    i = input_bound(spec, 1024, "start-end", "continuous")
    assert s.log2 > 0 and i.log2 > 0 and s < i
    assert len(str(i)) < 80 and ExactCount.from_json(i.to_json()) == i


def test_errors_and_best_bound():
    with pytest.raises(TnrnnError, match="domain"):
        input_bound(RACSpec(2, 2, 2), 4, "start-end", "grid")
    with pytest.raises(TnrnnError, match="even"):
        state_bound(RACSpec(2, 2, 2), 5)
    with pytest.raises(TnrnnError):
        best_bound({"state": None})
    best, names = best_bound({"a": 4, "b": ExactCount.power(2, 2), "c": None, "d": 5})
    assert best == 4 and names == ["a", "b"]
