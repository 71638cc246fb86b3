"""Independent references the tests compare the toolkit against.

Everything here follows the definitions directly (docs/theory.md, "Recurrent Arithmetic Circuits"), in plain
Python integers or plain numpy, and shares no code with the package beyond reading weights: a bug in the
package cannot hide by being repeated here.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import flint
import numpy as np


def brute_y(params, feats, output: int = 0) -> int:
    """y for one sequence of feature vectors (lists of ints), exact over Z, by the RAC recurrence.

    h[t, l] = (W_I[l] h[t, l-1]) * (W_H[l] h[t-1, l]) with W_H[l] h[0, l] = 1, and y = W_O h[T, L].
    """
    W_I = [np.asarray(w).tolist() for w in params.W_I]
    W_H = [np.asarray(w).tolist() for w in params.W_H]
    W_O = np.asarray(params.W_O).tolist()
    L, R = len(W_I), len(W_H[0])
    prev: list = [None] * L
    for t, f in enumerate(feats):
        below = list(f)
        for l in range(L):
            a = [sum(W_I[l][i][k] * below[k] for k in range(len(below))) for i in range(R)]
            rec = [1] * R if t == 0 else [sum(W_H[l][i][k] * prev[l][k] for k in range(R)) for i in range(R)]
            prev[l] = [a[i] * rec[i] for i in range(R)]
            below = prev[l]
    return sum(W_O[output][i] * prev[L - 1][i] for i in range(R))


def sequences_by_sides(M: int, T: int, A, B):
    """Every symbol sequence of length T, as (row index, column index, sequence) for the (A, B) matricization."""
    for ia, a in enumerate(itertools.product(range(M), repeat=len(A))):
        for ib, b in enumerate(itertools.product(range(M), repeat=len(B))):
            seq = [0] * T
            for s, v in zip(A, a):
                seq[s - 1] = v
            for s, v in zip(B, b):
                seq[s - 1] = v
            yield ia, ib, seq


def brute_table(M: int, T: int, params, A, B, output: int = 0) -> list[list[int]]:
    """The one-hot matricization over the time steps A (rows) and B (columns), exact over Z."""
    eye = np.eye(M, dtype=np.int64).tolist()
    rows = [[0] * M ** len(B) for _ in range(M ** len(A))]
    for ia, ib, seq in sequences_by_sides(M, T, A, B):
        rows[ia][ib] = brute_y(params, [eye[s] for s in seq], output)
    return rows


def rank_over_q(rows) -> int:
    """Exact rank over the rationals of an integer matrix (list of lists)."""
    return int(flint.fmpz_mat(rows).rank())


def svg_ids(path) -> list[str]:
    """The ids of an SVG file's elements, in document order (parsing also checks the XML is well formed)."""
    return [el.get("id") for el in ET.parse(path).getroot().iter() if el.get("id")]
