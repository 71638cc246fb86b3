"""Tutorial 5: separation-rank bounds for a tensor network you build yourself, and interop.

Run from the repository root:  .venv/bin/python docs/tutorials/own_network.py [FIGURE_DIR]
"""

import sys
from pathlib import Path

import networkx as nx
import numpy as np
import opt_einsum as oe
import tensornetwork as tn

import tnrnn
from tnrnn.models.convac import build_convac, convac_bounds

FIGURES = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "pages" / "figures"
FIGURES.mkdir(parents=True, exist_ok=True)

# A matrix product state of 8 sites, physical dimension 2, bond dimension 3, with random values.
rng = np.random.default_rng(0)
shapes = [(2, 3)] + [(3, 2, 3)] * 6 + [(3, 2)]
sites = [tn.Node(rng.normal(size=s), name=f"site{i}") for i, s in enumerate(shapes)]
for a, b in zip(sites, sites[1:]):
    a[-1] ^ b[0]

# Bounds for the middle cut: sites 0..3 on the left. The min-cut is one bond (3); the certified lower bound
# contracts the network with random GF(p) tensors and takes the exact rank of the 16 x 16 matricization.
report = tnrnn.separation_bounds(sites, sites[:4])
print(report)
print()

# The same network for other libraries: one einsum expression (opt_einsum, cotengra) and a networkx graph.
eq, arrays = tnrnn.to_einsum(sites)
psi = oe.contract(eq, *arrays)
print(f"einsum: {eq}  ->  tensor of shape {psi.shape}")
print(f"rank of the matricization at these values (float estimate): {np.linalg.matrix_rank(psi.reshape(16, 16))}")
graph = tnrnn.to_networkx(sites)
print(f"networkx graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges, "
      f"connected: {nx.is_connected(graph)}")

# A second family through the same interface: convolutional arithmetic circuits over N = 8 inputs, M = 3
# representation channels, width 2. Shallow (CP) ones are limited by their width for every partition; deep ones
# (pooling windows of 2) are limited at the top for the left-right partition but reach min(M, r)^(N/2) for the
# interleaved one (Cohen, Sharir, Shashua 2016; Cohen, Shashua 2017).
print("ConvAC, N = 8, M = 3, width 2:")
for kind in ("shallow", "deep"):
    for part in ("left-right", "odd-even"):
        rep = convac_bounds(build_convac(kind, 8, 3, 2), part)
        print(f"  {kind:>7} {part:>10}: separation rank {rep.lower}{' (exact)' if rep.exact else ''}")

fig = tnrnn.draw(sites, left=sites[:4], cut=report.cut, title="MPS, 8 sites, bond 3: the middle cut")
path = FIGURES / "own_network.png"
fig.savefig(path, dpi=110)
print(f"figure: {path.name}")
