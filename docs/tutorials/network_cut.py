"""Tutorial 2: a deep RAC as a tensor network, its Start-End min-cut, and the figure of the cut.

Run from the repository root:  .venv/bin/python docs/tutorials/network_cut.py [FIGURE_DIR]
"""

import sys
from math import comb
from pathlib import Path

import tnrnn

FIGURES = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "pages" / "figures"
FIGURES.mkdir(parents=True, exist_ok=True)

L, R, M, T = 2, 2, 2, 6
spec = tnrnn.RACSpec(depth=L, width=R, features=M)

# The continuous form: every copy of an input keeps its own open leg (n_j copies of x_j).
net = tnrnn.build_network(spec, T, form="continuous")
print(f"continuous form, L={L}, R={R}, M={M}, T={T}: {len(net.nodes)} nodes")
print("input copies n_j:", [comb(T - j + L - 1, L - 1) for j in range(1, T + 1)])

# The exact min-cut of the network (max-flow on the cut graph) bounds the separation rank from above.
cut = tnrnn.network_mincut(net, "start-end")
print("continuous form:", cut)


def S(k: int, L: int) -> int:
    """Exponent of the closed-form Start-End min-cut R^S(T/2, L) (continuous form, M >= R)."""
    return sum(comb(k + L - 2 * j, L - j) for j in range(1, min(k, L) + 1))


print(f"closed form R^S(T/2, L) = {R}^{S(T // 2, L)} = {R ** S(T // 2, L)}")

# The grid form ties the copies of each step to one open leg of dimension M: cutting those legs is cheaper.
grid = tnrnn.build_network(spec, T, form="grid")
grid_cut = tnrnn.network_mincut(grid, "start-end")
print("grid form:", grid_cut)

# The figures draw the network and the cut they are given: time left to right, layers bottom up, duplicated
# copies offset, input legs coloured by side, the cut bonds bold.
for name, network, c in [("network_cut", net, cut), ("network_cut_grid", grid, grid_cut)]:
    info = tnrnn.render_network(network, c, FIGURES / f"{name}.png", partition="start-end")
    print(f"figure: {Path(info['path']).name} ({info['view']} view, {info['nodes']} nodes, cut {info['mincut']})")
