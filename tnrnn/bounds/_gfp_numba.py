"""The numba-compiled pair kernel behind :mod:`tnrnn.bounds.gfp_kernel` (imported only when numba is installed).

Module-level functions so numba's on-disk cache (``cache=True``) is reused across processes.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _mod(x, p, pinv):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``x mod p`` for ``0 <= x < 2^63``: a float estimate of the quotient (off by at most one), corrected exactly."""
    q = np.int64(x * pinv)
    r = x - q * p
    if r < 0:
        r += p
    elif r >= p:
        r -= p
    return r


@numba.njit(cache=True, nogil=True)
def pairs(rec0, proj_a, proj_b, side, index, W_I, W_H, w_out, p, out):  # pragma: no cover - compiled
    """Fill ``out[i, j] = y(row i, column j) mod p``; see :func:`tnrnn.bounds.gfp_kernel.pair_values`."""
    k1, L, R = rec0.shape
    k2 = proj_b.shape[0]
    S = side.shape[0]
    pinv = 1.0 / p
    rec = np.empty((L, R), dtype=np.int64)
    below = np.empty(R, dtype=np.int64)
    a = np.empty(R, dtype=np.int64)
    hs = np.empty((L, R), dtype=np.int64)
    for i in range(k1):
        for j in range(k2):
            rec[:, :] = rec0[i]
            for s in range(S):
                if side[s] == 0:
                    below[:] = proj_a[i, index[s]]
                else:
                    below[:] = proj_b[j, index[s]]
                for l in range(L):
                    if l == 0:
                        a[:] = below
                    else:
                        for r in range(R):
                            acc = 0
                            for c in range(R):
                                acc += W_I[l - 1, r, c] * below[c]
                            a[r] = _mod(acc, p, pinv)
                    for r in range(R):
                        below[r] = _mod(a[r] * rec[l, r], p, pinv)
                        hs[l, r] = below[r]
                if s < S - 1:
                    for l in range(L):
                        for r in range(R):
                            acc = 0
                            for c in range(R):
                                acc += W_H[l, r, c] * hs[l, c]
                            rec[l, r] = _mod(acc, p, pinv)
            acc = 0
            for c in range(R):
                acc += w_out[c] * hs[L - 1, c]
            out[i, j] = _mod(acc, p, pinv)
