"""Compiled kernels for the pair evaluations of certified sample matrices (optional: used when numba is installed).

`tnrnn.bounds.gfp._pair_values` broadcasts over (rows, columns, R) numpy arrays; for small R every step is a
handful of tiny operations, and numpy's per-call overhead and temporaries dominate. These kernels run the same
recurrence one row at a time, each operation a loop over all columns (which the compiler vectorises). They are
exact, integers only in meaning:

* float64 words for small primes ([`float_exact`][tnrnn.bounds.gfp_kernel.float_exact]): every residue, product and dot product of at most R
  products is an integer below 2^53, so float64 holds it exactly; ``x mod p`` takes a floating estimate of the
  quotient and corrects it by one, never a rounded result;
* Montgomery multiplication on uint64 words for any odd prime below 2^62 ([`montgomery_ok`][tnrnn.bounds.gfp_kernel.montgomery_ok]): the large primes
  of the probabilistic statement ([`tnrnn.bounds.statement`][tnrnn.bounds.statement]), where products need 128 bits.

Tests compare both with the numpy path (small primes) and with Python integers (large primes), entry by entry.
numba comes with the ``interop`` extra (quimb depends on it); without it the numpy path is used for small primes.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from tnrnn.base.errors import TnrnnError


def available() -> bool:
    """Whether numba is importable (the kernel can be compiled)."""
    return importlib.util.find_spec("numba") is not None


def float_exact(p: int, R: int) -> bool:
    """Whether the float64 kernel is exact for prime ``p`` and width ``R``: a dot product of R reduced products,
    at most ``R (p - 1)^2``, must stay below 2^53 (every integer up to it is a float64).

    >>> float_exact(1_048_573, 16), float_exact(2**31 - 1, 2)
    (True, False)
    """
    return R * (p - 1) ** 2 < 2**53


def montgomery_ok(p: int) -> bool:
    """Whether the Montgomery kernel handles ``p``: odd and below 2^62 (so sums of two residues stay below 2^63).

    >>> montgomery_ok(4611686018427387847), montgomery_ok(2**62 + 135)
    (True, False)
    """
    return p % 2 == 1 and p < 2**62


def pair_values(rec0: np.ndarray, proj_a: np.ndarray, proj_b: np.ndarray, side: np.ndarray, index: np.ndarray,
                W_I: list[np.ndarray], W_H: list[np.ndarray], w_out: np.ndarray, p: int) -> np.ndarray:
    """``y`` for every (row, column) pair, compiled; arguments as prepared by `tnrnn.bounds.gfp._pair_values`.

    The arithmetic follows the prime: float64 (exact integers below 2^53) when [`float_exact`][tnrnn.bounds.gfp_kernel.float_exact], else
    Montgomery multiplication on uint64 words for any odd prime below 2^62 ([`montgomery_ok`][tnrnn.bounds.gfp_kernel.montgomery_ok]), whose 128-bit
    products are assembled from 32-bit halves. Both run one row at a time over all columns at once.

    Parameters
    ----------
    rec0 : (k1, L, R) int64
        Recurrent factor ``W_H h`` entering the first step after the shared prefix, per row.
    proj_a, proj_b : (k1, a, R), (k2, b, R) int64
        ``W_I[1] f(x_t)`` for the steps of each side after the prefix, in step order.
    side, index : (S,) int64
        For each remaining step: 0 (side A) or 1 (side B), and its position in ``proj_a`` / ``proj_b``.
    W_I, W_H : lists of (R, R) int64
        ``W_I[2..L]`` and ``W_H[1..L]``, reduced mod p.
    w_out : (R,) int64
    p : int

    Returns
    -------
    (k1, k2) int64 array with entries in ``[0, p)``.

    Examples
    --------
    >>> one = np.ones((1, 1, 1), dtype=np.int64)
    >>> pair_values(one, 3 * one, 5 * one, np.array([0, 1]), np.array([0, 0]), [], [2 * one[0]], one[0, 0], 7)
    array([[2]])
    """
    from tnrnn.bounds import _gfp_numba as nb

    R = rec0.shape[2]
    k1, k2 = rec0.shape[0], proj_b.shape[0]
    wi = np.stack(W_I) if W_I else np.zeros((1, R, R), dtype=np.int64)
    wh = np.stack(W_H)
    pbt = np.ascontiguousarray(np.transpose(proj_b, (1, 2, 0)))  # (b, R, k2): columns contiguous
    side, index = side.astype(np.int64), index.astype(np.int64)
    if float_exact(p, R):
        out = np.empty((k1, k2), dtype=np.int64)
        f = [np.ascontiguousarray(a, dtype=np.float64) for a in (rec0, proj_a, pbt, wi, wh, w_out)]
        nb.pairs_float(f[0], f[1], f[2], side, index, f[3], f[4], f[5], int(p), out)
        return out
    if not montgomery_ok(p):
        raise TnrnnError(f"the compiled pair kernel needs an odd prime below 2^62, got {p}")
    p64, pneg = np.uint64(p), np.uint64((-pow(p, -1, 2**64)) % 2**64)
    r2 = np.uint64(pow(2, 128, p))

    def mont(a: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(a, dtype=np.int64).astype(np.uint64).ravel()
        return nb.mont_map(flat, r2, p64, pneg).reshape(np.shape(a))

    res = np.empty((k1, k2), dtype=np.uint64)
    nb.pairs_mont(mont(rec0), mont(proj_a), mont(pbt), side, index, mont(wi), mont(wh), mont(w_out), p64, pneg, res)
    return nb.mont_map(res.ravel(), np.uint64(1), p64, pneg).reshape(k1, k2).astype(np.int64)
