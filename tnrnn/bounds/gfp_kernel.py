"""A compiled kernel for the pair evaluations of certified sample matrices (optional: used when numba is installed).

:func:`tnrnn.bounds.gfp._pair_values` broadcasts over (rows, columns, R) numpy arrays; for small R every step is a
handful of tiny operations, and numpy's per-call overhead and temporaries dominate. This kernel runs the same
recurrence pair by pair in compiled code. It is exact: integers only, every dot product of at most R reduced
products (each below p^2) is reduced once, and the reduction ``x mod p`` uses a floating-point estimate of the
quotient followed by an exact integer correction (the estimate is off by at most one for ``x < 2^63``), the
standard Barrett-style trick, never a floating-point result. Tests compare it entry by entry with the numpy path.

numba comes with the ``interop`` extra (quimb depends on it); without it the numpy path is used.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

_KERNEL: Any = None


def available() -> bool:
    """Whether numba is importable (the kernel can be compiled)."""
    return importlib.util.find_spec("numba") is not None


def _build() -> Any:
    from tnrnn.bounds import _gfp_numba

    return _gfp_numba.pairs


def pair_values(rec0: np.ndarray, proj_a: np.ndarray, proj_b: np.ndarray, side: np.ndarray, index: np.ndarray,
                W_I: list[np.ndarray], W_H: list[np.ndarray], w_out: np.ndarray, p: int) -> np.ndarray:
    """``y`` for every (row, column) pair, compiled; arguments as prepared by :func:`tnrnn.bounds.gfp._pair_values`.

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
    """
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _build()
    R = rec0.shape[2]
    wi = np.ascontiguousarray(np.stack(W_I) if W_I else np.zeros((1, R, R), dtype=np.int64), dtype=np.int64)
    out = np.empty((rec0.shape[0], proj_b.shape[0]), dtype=np.int64)
    _KERNEL(np.ascontiguousarray(rec0, dtype=np.int64), np.ascontiguousarray(proj_a, dtype=np.int64),
            np.ascontiguousarray(proj_b, dtype=np.int64), side.astype(np.int64), index.astype(np.int64), wi,
            np.ascontiguousarray(np.stack(W_H), dtype=np.int64), np.ascontiguousarray(w_out, dtype=np.int64),
            int(p), out)
    return out
