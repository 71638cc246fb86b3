"""Exact GF(p) arithmetic for every word-size prime: int64 where products fit, Python integers beyond.

The certified matrices ([`tnrnn.bounds.gfp`][tnrnn.bounds.gfp]) compute in int64, which is exact while a dot product of ``n``
reduced products, at most ``n (p - 1)^2``, stays below 2^63: primes up to about 2^31. The probabilistic statement
([`tnrnn.bounds.statement`][tnrnn.bounds.statement]) wants primes near 2^62, where one product needs 124 bits. This module gives the
small, per-row parts of an evaluation (weights, input projections, the shared prefix of side A) in whichever exact
representation the prime needs: int64 residues when they are safe, object arrays of Python integers (arbitrary
precision) otherwise. The per-pair bulk of the work runs in the compiled kernels ([`tnrnn.bounds.gfp_kernel`][tnrnn.bounds.gfp_kernel]).
"""

from __future__ import annotations

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int

__all__ = ["WIDE_LIMIT", "int64_safe", "as_field", "check_field_prime", "matvec", "hadamard"]

#: Largest prime modulus (exclusive) of the exact paths: the Montgomery kernel needs ``p < 2^62``.
WIDE_LIMIT = 2**62


def int64_safe(p: int, terms: int) -> bool:
    """Whether int64 holds a dot product of ``terms`` reduced products mod ``p`` exactly.

    >>> int64_safe(1_048_573, 3), int64_safe(4611686018427387847, 1)
    (True, False)
    """
    return terms * (p - 1) ** 2 <= 2**63 - 1


def check_field_prime(p: int) -> int:
    """A prime below `WIDE_LIMIT` (the field of an exact evaluation), else ``TnrnnError``.

    >>> check_field_prime(4611686018427387847)
    4611686018427387847
    >>> check_field_prime(2**62 + 135)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: p must be a prime below 2^62 for exact evaluation, got 4611686018427388039
    """
    import flint

    p = check_positive_int("p", p, minimum=2)
    if p >= WIDE_LIMIT or not flint.fmpz(p).is_prime():
        raise TnrnnError(f"p must be a prime below 2^62 for exact evaluation, got {p}")
    return p


def as_field(a: np.ndarray, p: int, terms: int) -> np.ndarray:
    """Residues of an integer array: int64 when [`int64_safe`][tnrnn.bounds.gfp_wide.int64_safe] for ``terms``, else an object array of ints.

    >>> as_field(np.array([-1, 5]), 7, 2).dtype, as_field(np.array([-1, 5]), 4611686018427387847, 2).dtype
    (dtype('int64'), dtype('O'))
    """
    arr = np.asarray(a)
    if not np.issubdtype(arr.dtype, np.integer) and arr.dtype != object:
        raise TnrnnError(f"exact arithmetic needs integers, got dtype {arr.dtype}")
    if int64_safe(p, terms):
        return (arr % p).astype(np.int64)
    return np.array([int(v) % p for v in arr.ravel().tolist()], dtype=object).reshape(arr.shape)


def matvec(h: np.ndarray, W: np.ndarray, p: int) -> np.ndarray:
    """``(h @ W.T) mod p`` on residues from [`as_field`][tnrnn.bounds.gfp_wide.as_field] (int64 or Python integers, exact either way).

    >>> int(matvec(as_field(np.array([[3, 4]]), 7, 2), as_field(np.array([[1, 1]]), 7, 2), 7)[0, 0])
    0
    """
    return (h @ W.T) % p


def hadamard(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    """``(a * b) mod p`` elementwise on residues from [`as_field`][tnrnn.bounds.gfp_wide.as_field] (broadcasting as numpy does).

    >>> int(hadamard(np.array([3]), np.array([5]), 7)[0])
    1
    """
    return (a * b) % p


def to_int64(a: np.ndarray) -> np.ndarray:
    """Residues (below 2^62) as int64, from either representation.

    >>> to_int64(np.array([2**61], dtype=object)).dtype
    dtype('int64')
    """
    return np.asarray(a).astype(np.int64)
