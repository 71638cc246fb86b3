"""The compiled pair kernel (tnrnn/bounds/gfp_kernel.py) against the numpy pair evaluation, entry by entry."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.bounds.gfp import _pair_values
from tnrnn.rac.partition import make_partition
from tnrnn.rac.recurrence import init_params_modp
from tnrnn.rac.spec import RACSpec

pytest.importorskip("numba")  # an optional third-party accelerator (comes with the interop extra)


@settings(max_examples=25, deadline=None)
@given(L=st.integers(1, 3), R=st.integers(1, 4), M=st.integers(1, 3), T=st.integers(2, 6), seed=st.integers(0, 5),
       init_state=st.booleans(), continuous=st.booleans(), p=st.sampled_from([2, 101, 1_048_573]), data=st.data())
def test_kernel_equals_numpy(L, R, M, T, seed, init_state, continuous, p, data):
    steps = data.draw(st.sets(st.integers(1, T), min_size=1, max_size=T - 1))
    part = make_partition(T, sorted(steps))
    params = init_params_modp(RACSpec(L, R, M), seed, p, init_state=init_state)
    rng = np.random.default_rng(seed)
    if continuous:
        a = rng.integers(0, p, (5, len(part.A), M))
        b = rng.integers(0, p, (4, len(part.B), M))
    else:
        a = rng.integers(0, M, (5, len(part.A)))
        b = rng.integers(0, M, (4, len(part.B)))
    want = _pair_values(params, part, p, a, b, 0, kernel=False)
    got = _pair_values(params, part, p, a, b, 0, kernel=True)
    assert got.dtype == np.int64 and (got == want).all()


def _python_pairs(params, part, p, a, b):
    """y for every pair with Python integers (arbitrary precision): independent of both kernels."""
    L, R, M, T = params.spec.L, params.spec.R, params.spec.M, part.T
    W_I = [[[int(v) for v in row] for row in w] for w in params.W_I]
    W_H = [[[int(v) for v in row] for row in w] for w in params.W_H]
    w_out = [int(v) for v in params.W_O[0]]
    out = np.zeros((len(a), len(b)), dtype=object)
    for i in range(len(a)):
        for j in range(len(b)):
            x = [None] * T
            for k, t in enumerate(part.A):
                x[t - 1] = [int(v) for v in a[i, k]]
            for k, t in enumerate(part.B):
                x[t - 1] = [int(v) for v in b[j, k]]
            rec = [[1] * R for _ in range(L)]
            hs: list = []
            for t in range(T):
                below = [sum(W_I[0][r][c] * x[t][c] for c in range(M)) % p for r in range(R)]
                hs = []
                for l in range(L):
                    if l:
                        below = [sum(W_I[l][r][c] * hs[l - 1][c] for c in range(R)) % p for r in range(R)]
                    below = [below[r] * rec[l][r] % p for r in range(R)]
                    hs.append(below)
                rec = [[sum(W_H[l][r][c] * hs[l][c] for c in range(R)) % p for r in range(R)] for l in range(L)]
            out[i, j] = sum(w_out[c] * hs[-1][c] for c in range(R)) % p
    return out


@settings(max_examples=15, deadline=None)
@given(L=st.integers(1, 3), R=st.integers(1, 4), M=st.integers(1, 3), T=st.integers(2, 5), seed=st.integers(0, 50),
       p=st.sampled_from([1_000_000_007, 4611686018427387847, 4611686018427387817, 2**61 - 1]), data=st.data())
def test_montgomery_kernel_equals_python_integers(L, R, M, T, seed, p, data):
    # primes whose products need 128 bits: the Montgomery kernel against arbitrary-precision integers
    from tnrnn.bounds.gfp_kernel import float_exact
    from tnrnn.rac.modp import init_params_field

    steps = data.draw(st.sets(st.integers(1, T), min_size=1, max_size=T - 1))
    part = make_partition(T, sorted(steps))
    params = init_params_field(RACSpec(L, R, M), seed, p)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, p, (4, len(part.A), M))
    b = rng.integers(0, p, (3, len(part.B), M))
    assert not float_exact(p, R)
    got = _pair_values(params, part, p, a, b, 0, kernel=True)
    assert got.dtype == np.int64 and (got.astype(object) == _python_pairs(params, part, p, a, b)).all()
    # and the numpy path on Python integers agrees too
    assert (_pair_values(params, part, p, a, b, 0, kernel=False) == got).all()


def test_float_kernel_exactness_limit():
    from tnrnn.bounds.gfp_kernel import float_exact

    # the float64 kernel is used only while R (p - 1)^2 < 2^53
    assert float_exact(1_048_573, 4096) and not float_exact(1_048_573, 2**14)
