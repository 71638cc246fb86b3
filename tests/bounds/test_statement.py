"""The probabilistic statement (tnrnn/bounds/statement.py): the degree it uses, its epsilon, and where it is given."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.bounds.certify import certified_rank, certify
from tnrnn.bounds.statement import generic_rank_statement, total_degree
from tnrnn.rac.modp import init_params_field
from tnrnn.rac.problem import LARGE_PRIME, make_problem
from tnrnn.rac.recurrence import RACParams, init_params_modp, rac_forward_modp
from tnrnn.rac.spec import RACSpec

P = 1_000_003


@settings(max_examples=20, deadline=None)
@given(L=st.integers(1, 3), R=st.integers(1, 3), M=st.integers(1, 3), T=st.integers(1, 5), lam=st.integers(2, P - 1))
def test_total_degree_is_the_homogeneous_degree(L, R, M, T, lam):
    # y is a product of linear forms, so homogeneous: scaling every weight and feature by lam scales y by lam^D.
    spec = RACSpec(L, R, M)
    params = init_params_modp(spec, 0, P)
    scaled = RACParams(tuple(w * lam % P for w in params.W_I), tuple(w * lam % P for w in params.W_H),
                       params.W_O * lam % P, None)
    x = np.random.default_rng(T).integers(0, P, (3, T, M))
    y = rac_forward_modp(params, x, P)[:, 0]
    D = total_degree(spec, T, "continuous")
    assert (rac_forward_modp(scaled, x * lam % P, P)[:, 0] == y * pow(lam, D, P) % P).all()
    # one-hot inputs are constants: only the weights scale
    onehot = np.eye(M, dtype=np.int64)[np.random.default_rng(1).integers(0, M, (3, T))]
    y1 = rac_forward_modp(params, onehot, P)[:, 0]
    D1 = total_degree(spec, T, "onehot")
    assert (rac_forward_modp(scaled, onehot, P)[:, 0] == y1 * pow(lam, D1, P) % P).all()


def test_statement_for_a_known_gap():
    problem = make_problem(RACSpec(3, 2, 2), 8, domain="continuous", seeds=2, primes=[P, 1048573],
                           certify_seconds=None)
    cert = certified_rank(RACSpec(3, 2, 2), 8, domain="continuous", seeds=(0, 1), primes=(P, 1048573), upper=110,
                          seconds=None)
    st_ = generic_rank_statement(problem, cert)
    assert cert.rank == 106 and st_ is not None
    D = total_degree(RACSpec(3, 2, 2), 8, "continuous")
    # one factor per seed (the smallest of its runs), not one per run: a seed's other primes are the guard
    per_seed: dict = {}
    for r in cert.runs:
        if max(min(s[:2]) for s in r.stages) > 106:
            per_seed[r.seed] = min(per_seed.get(r.seed, 1.0), 107 * D / r.prime)
    assert len(cert.runs) == 4 and sorted(per_seed) == [0, 1]
    assert st_.epsilon == np.prod(list(per_seed.values())) and 0 < st_.epsilon < 1
    assert "2 independent seeds" in st_.text and "checked at the distinct primes" in st_.text
    assert st_.text.startswith("probabilistic, not certified") and st_.to_json()["kind"] == "probabilistic"


def test_no_statement_without_a_matrix_bigger_than_the_rank():
    # a one-hot random sub-matrix is not a generic point: no statement
    problem = make_problem(RACSpec(2, 3, 3), 8, certify_seconds=None)
    cert = certified_rank(RACSpec(2, 3, 3), 8, upper=45, seeds=(0,))
    assert cert.runs[0].method == "random one-hot sub-matrix"
    assert generic_rank_statement(problem, cert) is None
    # the full one-hot table is: the weights are the only indeterminates
    full = certified_rank(RACSpec(2, 2, 2), 8, seeds=(0,), seconds=None)
    assert full.runs[0].method == "full one-hot table"
    assert generic_rank_statement(make_problem(RACSpec(2, 2, 2), 8), full) is not None


def test_useless_bound_says_so_and_suggests_larger_primes():
    from tnrnn.bounds.certificate import Certificate, CertRun

    run = CertRun(0, 101, 50, 60, 60, "continuous sample matrix", stages=[[60, 60, 50, 0.1]], stop="saturated")
    cert = Certificate(rank=50, runs=[run], domain="continuous", method="")
    st_ = generic_rank_statement(make_problem(RACSpec(3, 2, 2), 8, domain="continuous"), cert)
    assert st_ is not None and st_.epsilon == 1.0
    assert st_.text.startswith("no probabilistic statement") and "--primes" in st_.text


def test_reproducer_counts_independent_seeds_not_runs():
    # issue: two primes and two seeds were counted as 4 independent runs; the honest count is 2 seeds
    problem = make_problem(RACSpec(2, 4, 3), 10, seeds=2, primes=[1000000007, 998244353])
    cert = certify(problem, 243)
    st_ = generic_rank_statement(problem, cert)
    D = total_degree(RACSpec(2, 4, 3), 10, "onehot")
    assert st_ is not None and "over 2 independent seeds" in st_.text
    assert {r.seed for r in cert.runs} == {0, 1} and len({r.prime for r in cert.runs}) == 2
    # the smallest factor of each seed, multiplied over the two seeds (all runs here are full tables)
    assert st_.epsilon == pytest.approx(((cert.rank + 1) * D / 1000000007) ** 2, rel=1e-12)
    assert "conditioned" in st_.text and "not the probability" in st_.text


def test_weights_are_independent_draws_per_prime():
    # seeded by (seed, prime): the same seed at two primes gives unrelated weights, not one draw reduced twice
    a = init_params_field(RACSpec(2, 3, 3), 0, 1000000007)
    b = init_params_field(RACSpec(2, 3, 3), 0, 998244353)
    assert not any(np.array_equal(x, y) for x, y in zip(a.W_H, b.W_H))
    # and reproducible
    assert all(np.array_equal(x, y) for x, y in zip(a.W_H, init_params_field(RACSpec(2, 3, 3), 0, 1000000007).W_H))


def test_one_prime_says_the_guard_is_not_checked():
    problem = make_problem(RACSpec(3, 2, 2), 8, domain="continuous", seeds=1)
    cert = certify(problem, 110)
    st_ = generic_rank_statement(problem, cert)
    assert st_ is not None and cert.primes == [LARGE_PRIME] and "not checked" in st_.text
    assert st_.epsilon == (107 * total_degree(RACSpec(3, 2, 2), 8, "continuous")) / LARGE_PRIME
