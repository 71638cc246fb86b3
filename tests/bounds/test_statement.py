"""The probabilistic statement (tnrnn/bounds/statement.py): the degree it uses, its epsilon, and where it is given."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.bounds.certify import certified_rank
from tnrnn.bounds.statement import generic_rank_statement, total_degree
from tnrnn.rac.problem import make_problem
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
    factors = [min(1.0, 107 * D / r.prime) for r in cert.runs if max(min(s[:2]) for s in r.stages) > 106]
    assert st_.epsilon == np.prod(factors) and 0 < st_.epsilon < 1
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
