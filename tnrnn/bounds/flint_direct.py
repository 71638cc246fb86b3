"""Ranks over GF(p) straight from a numpy buffer into FLINT's ``nmod_mat`` (no Python integer per entry).

python-flint builds a matrix from Python integers, one conversion per entry (about as long as the elimination
itself at n = 2,000). The FLINT library bundled with python-flint is the same code; this module calls three of
its functions through `ctypes`: ``nmod_mat_init``, ``nmod_mat_rank`` and ``nmod_mat_clear``, and copies the
residues into the freshly initialised matrix's entry buffer with one ``memmove``.

The only assumption is the documented layout of ``nmod_mat_struct``: the entry pointer first, then the row and
column counts (FLINT 3: ``entries, r, c, stride, mod``). It is checked on every call: the counts read back must
equal the requested ones and the stride must be the column count (a fresh matrix is contiguous); otherwise, or when
the library cannot be found, [`rank_direct`][tnrnn.bounds.flint_direct.rank_direct] returns None and the caller takes python-flint's path. Tests
compare both on random matrices of every shape.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
from typing import Any

import numpy as np

__all__ = ["rank_direct", "available"]

# Bytes reserved for one nmod_mat_struct: generously more than its FLINT 3 size (pointer, 3 counts, nmod_t).
_STRUCT_BYTES = 256


@functools.lru_cache(maxsize=1)
def _library() -> Any:
    """The FLINT shared library python-flint loaded, with the three signatures set; None when absent."""
    try:
        import flint
    except ImportError:  # pragma: no cover - python-flint is a core dependency
        return None
    root = os.path.dirname(os.path.dirname(flint.__file__))
    for path in sorted(glob.glob(os.path.join(root, "python_flint.libs", "libflint*.so*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:  # pragma: no cover - an unloadable build: use python-flint
            continue
        lib.nmod_mat_init.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_ulong]
        lib.nmod_mat_init.restype = None
        lib.nmod_mat_rank.argtypes = [ctypes.c_void_p]
        lib.nmod_mat_rank.restype = ctypes.c_long
        lib.nmod_mat_clear.argtypes = [ctypes.c_void_p]
        lib.nmod_mat_clear.restype = None
        return lib
    return None  # pragma: no cover - wheels without a bundled library


def available() -> bool:
    """Whether the bundled FLINT library was found (the layout is still checked per call)."""
    return _library() is not None


def rank_direct(residues: np.ndarray, p: int) -> int | None:
    """Rank over GF(p) of a matrix of residues in ``[0, p)``, or None when the direct path is unavailable.

    Parameters
    ----------
    residues : (m, n) integer array
        Entries already reduced into ``[0, p)`` (the caller reduces exactly; they are copied as uint64).
    p : int
        A prime below 2^63.

    Returns
    -------
    int or None

    Examples
    --------
    >>> rank_direct(np.array([[1, 2], [2, 4]]), 101) in (1, None)
    True
    """
    lib = _library()
    m, n = residues.shape
    if lib is None or m == 0 or n == 0:
        return None
    buf = ctypes.create_string_buffer(_STRUCT_BYTES)
    lib.nmod_mat_init(buf, m, n, ctypes.c_ulong(int(p)))
    try:
        head = np.frombuffer(memoryview(buf), dtype=np.int64, count=4)
        if head[1] != m or head[2] != n or head[3] != n:
            return None  # another struct layout: let python-flint do it
        data = np.ascontiguousarray(residues, dtype=np.uint64)
        ctypes.memmove(int(head[0]), data.ctypes.data, data.nbytes)
        return int(lib.nmod_mat_rank(buf))
    finally:
        lib.nmod_mat_clear(buf)
