"""The buffer path into FLINT (tnrnn/bounds/flint_direct.py) against python-flint's own constructor."""

from __future__ import annotations

import flint
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.bounds.exact_rank import rank_modp, to_nmod_mat
from tnrnn.bounds.flint_direct import available, rank_direct

pytestmark = pytest.mark.skipif(not available(), reason="no bundled FLINT library found")


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 30), n=st.integers(1, 30), r=st.integers(0, 30), seed=st.integers(0, 1000),
       p=st.sampled_from([2, 3, 101, 1_048_573, 1_000_000_007, 4611686018427387847]))
def test_direct_rank_equals_python_flint(m, n, r, seed, p):
    # low-rank products, so the rank is neither always full nor always zero
    rng = np.random.default_rng(seed)
    a = flint.nmod_mat(rng.integers(0, p, (m, r + 1)).tolist(), p)
    b = flint.nmod_mat(rng.integers(0, p, (r + 1, n)).tolist(), p)
    prod = np.array([[int(x) for x in row] for row in (a * b).tolist()], dtype=np.int64)
    want = to_nmod_mat(prod, p).rank()
    assert rank_direct(prod, p) == want
    assert rank_modp(prod, p) == want


def test_unreduced_and_unsigned_entries_are_reduced_first():
    m = np.array([[2**64 - 1, 1], [0, 1]], dtype=np.uint64)  # 2^64 - 1 = 0 mod 3
    assert rank_modp(m, 3) == 1
    assert rank_modp(np.array([[-1, 1], [1, -1]]), 7) == 1


def test_layout_mismatch_falls_back(monkeypatch):
    import tnrnn.bounds.flint_direct as fd

    class Lib:  # a library whose struct reads back other counts: the direct path must decline
        def nmod_mat_init(self, buf, m, n, p):
            pass

        def nmod_mat_clear(self, buf):
            pass

        def nmod_mat_rank(self, buf):  # pragma: no cover - must not be reached
            raise AssertionError("rank called on an unchecked layout")

    monkeypatch.setattr(fd, "_library", lambda: Lib())
    assert fd.rank_direct(np.eye(3, dtype=np.int64), 5) is None
    assert rank_modp(np.eye(3, dtype=np.int64), 5) == 3  # python-flint's path answers
