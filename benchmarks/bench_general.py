"""Bounds for user networks: exact min-cut and GF(p) certificate time beside quimb's contraction-cost estimate.

Rows per network (an MPS, a PEPS, a deep ConvAC, all as plain ``tensornetwork`` nodes): ``quimb cost estimate``
(``TensorNetwork.contraction_cost`` with the greedy optimiser on :func:`tnrnn.to_quimb` of the network, the
baseline: what a user already runs), ``min-cut scipy`` / ``min-cut networkx`` (:func:`explicit_mincut`) and
``certificate`` (:func:`separation_bounds`: min-cut plus one GF(p) run). The note gives the min-cut, the certified
rank and quimb's cost (flops) for the same network.
"""

from __future__ import annotations

import numpy as np
import tensornetwork as tn
from harness import compare

from tnrnn.bounds.cut_explicit import explicit_mincut
from tnrnn.bounds.general import separation_bounds
from tnrnn.models.convac import build_convac, convac_partition
from tnrnn.network.indexed import as_network
from tnrnn.network.interop import to_quimb


def _mps(n: int, phys: int, bond: int) -> tuple[list, list]:
    rng = np.random.default_rng(0)
    shapes = [(phys, bond)] + [(bond, phys, bond)] * (n - 2) + [(bond, phys)]
    nodes = [tn.Node(rng.standard_normal(s), name=f"s{k}") for k, s in enumerate(shapes)]
    for k in range(n - 1):
        nodes[k][-1] ^ nodes[k + 1][0]
    return nodes, nodes[: n // 2]


def _peps(size: int, phys: int, bond: int) -> tuple[list, list]:
    rng = np.random.default_rng(0)
    grid = {}
    for r in range(size):
        for c in range(size):
            legs = 1 + (r > 0) + (r < size - 1) + (c > 0) + (c < size - 1)
            grid[r, c] = tn.Node(rng.standard_normal((phys,) + (bond,) * (legs - 1)), name=f"p{r}{c}")
    slot = dict.fromkeys(grid, 1)
    for r in range(size):
        for c in range(size):
            for b in ((r + 1, c), (r, c + 1)):
                if b in grid:
                    grid[r, c][slot[r, c]] ^ grid[b][slot[b]]
                    slot[r, c] += 1
                    slot[b] += 1
    return list(grid.values()), [grid[r, c] for r in range(size) for c in range(size // 2)]


def _row(case: str, net, left, rounds: int) -> list[dict]:
    inet = as_network(net)
    q = to_quimb(inet)
    cost = q.contraction_cost(optimize="greedy", output_inds=inet.open)
    variants = {
        "quimb cost estimate": lambda: q.contraction_cost(optimize="greedy", output_inds=inet.open),
        "min-cut scipy": lambda: explicit_mincut(inet, left),
        "min-cut networkx": lambda: explicit_mincut(inet, left, solver="networkx"),
        "certificate": lambda: separation_bounds(inet, left),
    }
    rep = separation_bounds(inet, left)
    note = (f"{len(inet.tensors)} tensors; min-cut {rep.bounds['mincut']}, certified {rep.lower} "
            f"({'exact' if rep.exact else 'gap'}) from a {rep.certificate.runs[0].rows} x "
            f"{rep.certificate.runs[0].cols} matrix; quimb greedy cost {float(cost):.3g} flops")
    return compare("general", case, variants, rounds=rounds, budget_s=30, roles={"quimb cost estimate": "peer"},
                   notes={"quimb cost estimate": note}).rows()


def rows(quick: bool, rounds: int) -> list[dict]:
    out: list[dict] = []
    nodes, left = _mps(12 if quick else 16, 2, 4)
    out += _row(f"MPS {len(nodes)} sites, phys 2, bond 4, middle cut", nodes, left, rounds)
    nodes, left = _peps(3 if quick else 4, 2, 2)
    out += _row(f"PEPS {int(len(nodes) ** 0.5)}x{int(len(nodes) ** 0.5)}, bond 2, half columns", nodes, left, rounds)
    n = 8 if quick else 16
    convac = build_convac("deep", n, 2, 2)
    out += _row(f"deep ConvAC N={n}, M=r=2, odd-even", convac, convac_partition(n, "odd-even"), rounds)
    return out
