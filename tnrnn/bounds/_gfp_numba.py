"""The numba-compiled pair kernel behind [`tnrnn.bounds.gfp_kernel`][tnrnn.bounds.gfp_kernel] (imported only when numba is installed).

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
    """Fill ``out[i, j] = y(row i, column j) mod p``; see [`tnrnn.bounds.gfp_kernel.pair_values`][tnrnn.bounds.gfp_kernel.pair_values]."""
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


# --------------------------------------------------------------------------------------------------------------
# Column-vectorised kernels: one row at a time, every operation a loop over all columns (contiguous, so the
# compiler vectorises it). Two arithmetics: float64 for small primes, Montgomery uint64 for primes below 2^62.


@numba.njit(cache=True, nogil=True)
def _fmod_vec(x, p, pinv):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``x mod p`` in place for exact float64 integers ``0 <= x < 2^53``: floor estimate (off by at most one), fixed."""
    for j in range(x.shape[0]):
        v = x[j] - np.floor(x[j] * pinv) * p
        if v < 0:
            v += p
        elif v >= p:
            v -= p
        x[j] = v


@numba.njit(cache=True, nogil=True)
def pairs_float(rec0, proj_a, proj_bt, side, index, W_I, W_H, w_out, p, out):  # pragma: no cover - compiled
    """``out[i, j] = y(row i, column j) mod p`` in float64: exact while ``R (p - 1)^2 < 2^53`` (checked by the caller).

    ``rec0`` (k1, L, R), ``proj_a`` (k1, a, R), ``proj_bt`` (b, R, k2) (columns last), all float64 residues.
    """
    k1, L, R = rec0.shape
    k2 = proj_bt.shape[2]
    S = side.shape[0]
    pf = float(p)
    pinv = 1.0 / pf
    rec = np.empty((L, R, k2))
    hs = np.empty((L, R, k2))
    acc = np.empty(k2)
    for i in range(k1):
        for l in range(L):
            for r in range(R):
                rec[l, r, :] = rec0[i, l, r]
        for s in range(S):
            for l in range(L):
                for r in range(R):
                    if l == 0:
                        if side[s] == 0:
                            acc[:] = proj_a[i, index[s], r]
                        else:
                            acc[:] = proj_bt[index[s], r, :]
                    else:
                        acc[:] = 0.0
                        for c in range(R):
                            w = W_I[l - 1, r, c]
                            for j in range(k2):
                                acc[j] += w * hs[l - 1, c, j]
                        _fmod_vec(acc, pf, pinv)
                    for j in range(k2):
                        hs[l, r, j] = acc[j] * rec[l, r, j]
                    _fmod_vec(hs[l, r], pf, pinv)
            if s < S - 1:
                for l in range(L):
                    for r in range(R):
                        acc[:] = 0.0
                        for c in range(R):
                            w = W_H[l, r, c]
                            for j in range(k2):
                                acc[j] += w * hs[l, c, j]
                        _fmod_vec(acc, pf, pinv)
                        rec[l, r, :] = acc
        acc[:] = 0.0
        for c in range(R):
            w = w_out[c]
            for j in range(k2):
                acc[j] += w * hs[L - 1, c, j]
        _fmod_vec(acc, pf, pinv)
        for j in range(k2):
            out[i, j] = np.int64(acc[j])


_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)


@numba.njit(cache=True, nogil=True, inline="always")
def _mul128(a, b):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The 128-bit product of two uint64 as (high, low) words, from four 32 x 32-bit products."""
    a0 = a & _M32
    a1 = a >> _S32
    b0 = b & _M32
    b1 = b >> _S32
    ll = a0 * b0
    lh = a0 * b1
    hl = a1 * b0
    hh = a1 * b1
    mid = (ll >> _S32) + (lh & _M32) + (hl & _M32)
    hi = hh + (lh >> _S32) + (hl >> _S32) + (mid >> _S32)
    lo = (mid << _S32) | (ll & _M32)
    return hi, lo


@numba.njit(cache=True, nogil=True, inline="always")
def _mont_mul(a, b, p, pneg):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Montgomery product ``a b 2^-64 mod p`` for ``a, b < p < 2^62`` (p odd; ``pneg = -p^-1 mod 2^64``)."""
    hi, lo = _mul128(a, b)
    m = lo * pneg  # wraps mod 2^64 by design
    mh, _ = _mul128(m, p)
    # lo + low(m p) is 0 mod 2^64: it carries exactly when lo is nonzero
    t = hi + mh + (_ONE if lo != _ZERO else _ZERO)
    if t >= p:
        t -= p
    return t


@numba.njit(cache=True, nogil=True, inline="always")
def _add_mod(a, b, p):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    s = a + b
    if s >= p:
        s -= p
    return s


@numba.njit(cache=True, nogil=True)
def pairs_mont(rec0, proj_a, proj_bt, side, index, W_I, W_H, w_out, p, pneg, out):  # pragma: no cover - compiled
    """As `pairs_float` for a prime ``p < 2^62``, in Montgomery form: every operand (uint64) and the result are
    ``x 2^64 mod p``; the caller converts in and out ([`tnrnn.bounds.gfp_kernel.pair_values`][tnrnn.bounds.gfp_kernel.pair_values]).
    """
    k1, L, R = rec0.shape
    k2 = proj_bt.shape[2]
    S = side.shape[0]
    rec = np.empty((L, R, k2), dtype=np.uint64)
    hs = np.empty((L, R, k2), dtype=np.uint64)
    acc = np.empty(k2, dtype=np.uint64)
    for i in range(k1):
        for l in range(L):
            for r in range(R):
                rec[l, r, :] = rec0[i, l, r]
        for s in range(S):
            for l in range(L):
                for r in range(R):
                    if l == 0:
                        if side[s] == 0:
                            acc[:] = proj_a[i, index[s], r]
                        else:
                            acc[:] = proj_bt[index[s], r, :]
                    else:
                        acc[:] = _ZERO
                        for c in range(R):
                            w = W_I[l - 1, r, c]
                            for j in range(k2):
                                acc[j] = _add_mod(acc[j], _mont_mul(w, hs[l - 1, c, j], p, pneg), p)
                    for j in range(k2):
                        hs[l, r, j] = _mont_mul(acc[j], rec[l, r, j], p, pneg)
            if s < S - 1:
                for l in range(L):
                    for r in range(R):
                        acc[:] = _ZERO
                        for c in range(R):
                            w = W_H[l, r, c]
                            for j in range(k2):
                                acc[j] = _add_mod(acc[j], _mont_mul(w, hs[l, c, j], p, pneg), p)
                        rec[l, r, :] = acc
        acc[:] = _ZERO
        for c in range(R):
            w = w_out[c]
            for j in range(k2):
                acc[j] = _add_mod(acc[j], _mont_mul(w, hs[L - 1, c, j], p, pneg), p)
        out[i, :] = acc


@numba.njit(cache=True, nogil=True)
def mont_map(x, factor, p, pneg):  # pragma: no cover - compiled
    """``x factor 2^-64 mod p`` elementwise over a flat uint64 array (into Montgomery form with ``factor = 2^128 mod
    p``, out of it with ``factor = 1``).
    """
    out = np.empty_like(x)
    for k in range(x.shape[0]):
        out[k] = _mont_mul(x[k], factor, p, pneg)
    return out
