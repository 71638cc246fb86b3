"""Small networks and brute-force references for the general-network tests (independent of the package)."""

from __future__ import annotations

import itertools
import math

import flint
import numpy as np
import tensornetwork as tn


def mps(n: int, phys: int, bond: int, rng: np.random.Generator) -> list:
    """An open-boundary MPS of plain tensornetwork nodes with random integer entries."""
    shapes = [(phys, bond)] + [(bond, phys, bond)] * (n - 2) + [(bond, phys)]
    nodes = [tn.Node(rng.integers(-9, 10, s).astype(np.int64), name=f"s{k}") for k, s in enumerate(shapes)]
    for k in range(n - 1):
        nodes[k][-1] ^ nodes[k + 1][0]
    return nodes


def peps(rows: int, cols: int, phys: int, bond: int, rng: np.random.Generator) -> dict:
    """A rows x cols PEPS: node (r, c) has legs [phys, up, down, left, right] (missing ones dropped)."""
    nodes = {}
    for r in range(rows):
        for c in range(cols):
            n_legs = 1 + (r > 0) + (r < rows - 1) + (c > 0) + (c < cols - 1)
            nodes[r, c] = tn.Node(rng.integers(-9, 10, (phys,) + (bond,) * (n_legs - 1)).astype(np.int64),
                                  name=f"p{r}{c}")
    slot = {key: 1 for key in nodes}
    legs = {}
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((1, 0), (0, 1)):
                if r + dr < rows and c + dc < cols:
                    a, b = (r, c), (r + dr, c + dc)
                    legs[a, b] = (slot[a], slot[b])
                    slot[a] += 1
                    slot[b] += 1
    for (a, b), (i, j) in legs.items():
        nodes[a][i] ^ nodes[b][j]
    return nodes


def full_tensor(nodes: list, order: list) -> np.ndarray:
    """Contract plain nodes with numpy.einsum over python ints (object arrays), open legs in ``order``."""
    ids = {}
    for n in nodes:
        for e in n.edges:
            ids.setdefault(id(e), len(ids))
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    terms = ["".join(letters[ids[id(e)]] for e in n.edges) for n in nodes]
    out = "".join(letters[ids[id(e)]] for e in order)
    arrays = [np.asarray(n.tensor).astype(np.int64).astype(object) for n in nodes]  # CopyNode tensors are float
    return np.einsum(",".join(terms) + "->" + out, *arrays, optimize="greedy")  # pairwise, not one nested loop


def rank_q(matrix: np.ndarray) -> int:
    """Exact rank over Q of an integer matrix (flint, python ints)."""
    m, n = matrix.shape
    return int(flint.fmpz_mat(m, n, [int(v) for v in matrix.ravel()]).rank())


def rank_p(matrix: np.ndarray, p: int) -> int:
    m, n = matrix.shape
    return int(flint.nmod_mat(m, n, [int(v) % p for v in matrix.ravel()], p).rank())


def brute_mincut(tensors: list[tuple], sizes: dict, side: dict) -> int:
    """Min over every assignment of tensors to sides of the product of dimensions of split indices.

    ``tensors`` are index tuples; ``side`` puts open indices on 0 or 1 (free ones are omitted). An index whose
    carriers (and terminal) are not all on one side costs its dimension once (a hyper-index is one copy tensor).
    """
    best = None
    for assign in itertools.product((0, 1), repeat=len(tensors)):
        cost = 1
        for ix, d in sizes.items():
            where = {assign[k] for k, inds in enumerate(tensors) if ix in inds}
            if ix in side:
                where.add(side[ix])
            if len(where) > 1:
                cost *= d
        best = cost if best is None else min(best, cost)
    return best


def matricize(full: np.ndarray, n_left: int) -> np.ndarray:
    return full.reshape(math.prod(full.shape[:n_left]), -1)
