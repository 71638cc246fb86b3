"""Exact ranks over GF(p) with FLINT: numpy integer matrices in, ``nmod_mat`` ranks out.

The one place tnrnn turns numpy arrays into flint matrices. Entries are reduced mod p exactly first (uint64 included),
so every rank here is exact; nothing on this path is floating point.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.bounds.flint_direct import rank_direct
from tnrnn.rac.params import reduce_modp


def to_nmod_mat(matrix: np.ndarray, p: int) -> Any:
    """An integer matrix as a ``flint.nmod_mat`` over GF(p), entries reduced exactly first.

    Reduction goes through [`tnrnn.rac.recurrence.reduce_modp`][tnrnn.rac.params.reduce_modp], which takes the residue before any cast, so
    uint64 entries at or above 2^63 reduce correctly (a cast to int64 first would wrap them). The rows of residues
    are handed to ``fmpz_mat`` and then reduced to ``nmod_mat``: about 1.6x faster than ``nmod_mat``'s own flat-list
    constructor, which converts every entry through a slower path (bench_rank measures it). python-flint converts
    each entry from a Python int (about 0.12 us each), so conversion costs about one rank() at n = 1000 and
    half of one at n = 4000.

    Examples
    --------
    >>> to_nmod_mat(np.array([[1, 2], [3, 4]], dtype=np.uint64), 5).rank()
    2
    """
    import flint

    arr = np.asarray(matrix)
    if arr.ndim != 2:
        raise TnrnnError(f"rank_modp needs a 2-d matrix, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TnrnnError(f"rank_modp needs an integer matrix (exact arithmetic), got dtype {arr.dtype}")
    m, n = arr.shape
    if m == 0 or n == 0:
        return flint.nmod_mat(m, n, [], int(p))
    return flint.nmod_mat(flint.fmpz_mat(reduce_modp(arr, p, "matrix entries").tolist()), int(p))


def rank_modp(matrix: np.ndarray, p: int) -> int:
    """Rank over GF(p) of an integer matrix, with FLINT (exact; never a float rank).

    The residues go into FLINT's ``nmod_mat`` by one buffer copy ([`tnrnn.bounds.flint_direct`][tnrnn.bounds.flint_direct]) where the
    bundled library's layout checks out, else entry by entry through python-flint ([`to_nmod_mat`][tnrnn.bounds.exact_rank.to_nmod_mat]).

    Parameters
    ----------
    matrix : (m, n) integer array
        Any integer dtype, uint64 included; entries are reduced mod ``p`` exactly first.
    p : int
        A prime below 2**63.

    Returns
    -------
    int
        The rank over GF(p).

    Raises
    ------
    TnrnnError
        Not a 2-d integer matrix.

    Examples
    --------
    >>> rank_modp(np.array([[1, 2], [2, 4]]), 101)
    1
    >>> rank_modp(np.array([[1, 2], [3, 4]]), 2)
    1
    >>> rank_modp(np.array([[2**64 - 1, 1], [0, 1]], dtype=np.uint64), 3)   # 2^64 - 1 = 0 mod 3
    1
    """
    arr = np.asarray(matrix)
    if arr.ndim == 2 and 0 in arr.shape and np.issubdtype(arr.dtype, np.integer):
        return 0
    if arr.ndim == 2 and np.issubdtype(arr.dtype, np.integer):
        # straight from the buffer into FLINT when its layout checks out (flint_direct), else through python-flint
        direct = rank_direct(reduce_modp(arr, p, "matrix entries"), int(p))
        if direct is not None:
            return direct
    return int(to_nmod_mat(arr, p).rank())
