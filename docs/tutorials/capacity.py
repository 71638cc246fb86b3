"""Tutorial 4: capacity after Collins, Sohl-Dickstein and Sussillo: stored bits of a tiny RNN, and the memory
capacity of a linear network (Jaeger).

Run from the repository root:  .venv/bin/python docs/tutorials/capacity.py [FIGURE_DIR]
"""

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import tnrnn

FIGURES = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "pages" / "figures"
FIGURES.mkdir(parents=True, exist_ok=True)

# Bits per parameter: memorise b random labels of b random binary inputs (dimension 10); the stored information is
# I = b (1 - H2(p)) bits for training accuracy p. A capacity point is the best I over b; stored bits can never
# exceed b, so the search over b must go past the capacity. Tiny budget and short training: a demonstration.
points = [tnrnn.bits_point(cell="rnn", budget=80, b_multiple=m, learning_rates=[1e-2], seeds=[0], n_in=10,
                           steps=400, batch_size=256, chunk=200)
          for m in (1.0, 2.0, 4.0)]
P = points[0]["num_params"]
print(f"RNN, width {points[0]['width']}, {P} parameters, 400 Adam steps per point")
print("     b  accuracy  stored bits  bits/param")
for pt in points:
    run = pt["runs"][0]
    print(f"{pt['b']:>6}  {run['accuracy']:8.3f}  {run['bits']:11.1f}  {run['bits'] / P:10.3f}")
best = max(points, key=lambda pt: pt["runs"][0]["bits"])
print(f"capacity (best over b): {best['runs'][0]['bits']:.1f} bits = {best['runs'][0]['bits'] / P:.3f} bits/parameter")

# Memory capacity of a linear network s_t = W s_{t-1} + v u_t: exact from a discrete Lyapunov equation, equal
# to the number of units N for a generic network without noise.
rng = np.random.default_rng(0)
N = 6
Q, _ = np.linalg.qr(rng.normal(size=(N, N)))
W, v = 0.9 * Q, rng.normal(size=N)
mc = tnrnn.linear_memory_capacity(W, v)
print(f"linear network, N = {N} units: memory capacity {mc:.4f}")

fig = Figure(figsize=(5, 3.4), layout="constrained")
ax = fig.subplots()
bs = [pt["b"] for pt in points]
ax.plot(bs, [pt["runs"][0]["bits"] for pt in points], marker="o", label="stored bits I")
ax.plot(bs, bs, color="grey", ls="--", label="I = b (everything stored)")
ax.set(xscale="log", yscale="log", xlabel="number of random labels b", ylabel="bits",
       title=f"RNN with {P} parameters, 400 steps")
ax.legend()
path = FIGURES / "capacity.png"
fig.savefig(path, dpi=110)
print(f"figure: {path.name}")
