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
