"""Tutorial 1: Start-End separation rank against T, by depth (the comparison of Levine, Sharir, Ziv, Shashua).

Run from the repository root:  .venv/bin/python docs/tutorials/rank_vs_depth.py [FIGURE_DIR]
"""

import sys
import tempfile
from pathlib import Path

import tnrnn

FIGURES = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "pages" / "figures"
FIGURES.mkdir(parents=True, exist_ok=True)

# One separation rank, with every bound, the certified lower bound and the published values beside it.
spec = tnrnn.RACSpec(depth=2, width=3, features=3)
report = tnrnn.separation_rank(spec, 8, partition="start-end", domain="onehot")
print(report)
print()

# The table across depth and T. rank_table runs the resumable sweep runner; a throwaway results file here.
depths, times = [1, 2, 3], [2, 4, 6, 8]
with tempfile.TemporaryDirectory() as tmp:
    records = tnrnn.rank_table(depths, 3, 3, times, results=f"{tmp}/ranks.jsonl", executor="serial", progress=False)

print("Start-End separation rank, one-hot domain, R = M = 3 ('=' exact: certified lower bound = upper bound)")
print("depth " + "".join(f"{f'T={T}':>7}" for T in times))
for L in depths:
    row = {r.time: r for r in records if r.depth == L}  # TableRecord: depth, time, lower, upper, exact, ...
    cells = [("=" if row[T].exact else "") + str(row[T].lower) for T in times]
    print(f"{L:>5} " + "".join(f"{c:>7}" for c in cells))

# The continuous domain differs: a deep RAC has degree > 1 in each input, so its rank can exceed M^(T/2).
small = tnrnn.RACSpec(depth=2, width=2, features=2)
for domain in ("onehot", "continuous"):
    r = tnrnn.separation_rank(small, 4, domain=domain)
    print(f"L=2, R=M=2, T=4, {domain} domain: rank {r.lower} ({'exact' if r.exact else 'lower bound'})")

path = tnrnn.plot_rank_curves(records, FIGURES / "rank_vs_depth.png",
                              title="Start-End separation rank, one-hot, R = M = 3")
print(f"figure: {Path(path).name}")
