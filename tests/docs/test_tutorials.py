"""The documentation's tutorials run as a reader would run them, and print what the theory says they must.

Each script in ``docs/tutorials/`` runs in its own process with a temporary figure folder; the expected values
come from outside the code under test: the published theorems, the exact one-hot ranks listed in
docs/theory.md ('Results of the literature'), formulas recomputed here (input copies, the closed-form Start-End
min-cut by its recursion, stored bits from accuracy), and internal consistency of the printed numbers.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Guards against a hung script only (the tutorials take seconds); not a timing assertion.
HANG_GUARD_S = 600


def run_tutorial(name: str, figures: Path) -> str:
    proc = subprocess.run([sys.executable, str(TUTORIALS / f"{name}.py"), str(figures)], cwd=ROOT,
                          capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, f"{name}.py failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


def assert_png(path: Path) -> None:
    assert path.is_file(), f"missing figure {path}"
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG"


def printed_figures(out: str) -> list[str]:
    return re.findall(r"^figure: (\S+\.png)", out, flags=re.M)


def multiset(n: int, k: int) -> int:
    return math.comb(n + k - 1, k)


def start_end_matching(k: int, L: int) -> int:
    """Diagonal-state count by the greedy-matching recursion m(k, l) = m(k, l-1) + m(k-1, l) + [k = l]."""
    m = [[0] * (L + 1) for _ in range(k + 1)]
    for i in range(1, k + 1):
        for j in range(1, L + 1):
            m[i][j] = m[i][j - 1] + m[i - 1][j] + (i == j)
    return m[k][L]


def test_rank_vs_depth(tmp_path):
    out = run_tutorial("rank_vs_depth", tmp_path)
    rows = {int(m[1]): m[2].split() for m in re.finditer(r"^\s*(\d)\s+((?:=?\d+\s*){4})$", out, flags=re.M)}
    assert set(rows) == {1, 2, 3}, out
    times = [2, 4, 6, 8]
    # every entry certified exact
    assert all(c.startswith("=") for row in rows.values() for c in row), rows
    ranks = {L: [int(c.lstrip("=")) for c in row] for L, row in rows.items()}
    # shallow theorem: min(R, M^(T/2)) at R = M = 3
    assert ranks[1] == [min(3, 3 ** (T // 2)) for T in times]
    # exact one-hot anchors (docs/theory.md) and the trivial bound M^(T/2) reached at depth 3
    assert ranks[2] == [3, 9, 27, 45]
    assert ranks[3] == [3 ** (T // 2) for T in times] == [3, 9, 27, 81]
    # depth-2 theorem: a lower bound ((min(M,R), T/2))
    assert all(r >= multiset(3, T // 2) for r, T in zip(ranks[2], times))
    assert re.search(r"onehot domain: rank 4 \(exact\)", out)
    assert re.search(r"continuous domain: rank 6 \(exact\)", out)
    assert printed_figures(out) == ["rank_vs_depth.png"]
    assert_png(tmp_path / "rank_vs_depth.png")


def test_network_cut(tmp_path):
    out = run_tutorial("network_cut", tmp_path)
    L, R, M, T = 2, 2, 2, 6
    copies = [int(x) for x in re.search(r"input copies n_j: \[([\d, ]+)\]", out)[1].split(",")]
    # n_j = number of monotone lattice paths from (j, 1) to (T, L)
    assert copies == [math.comb(T - j + L - 1, L - 1) for j in range(1, T + 1)] == [6, 5, 4, 3, 2, 1]
    cont = re.search(r"^continuous form: min-cut (\S+)", out, flags=re.M)
    grid = re.search(r"^grid form: min-cut (\S+)", out, flags=re.M)
    assert cont and grid, out
    assert cont[1] == f"{R}^{start_end_matching(T // 2, L)}" == "2^4"
    assert re.search(rf"closed form R\^S\(T/2, L\) = 2\^4 = {2 ** 4}", out)
    assert grid[1] == f"{M}^{T // 2}"  # the grid form's ties: cutting the End legs costs M^(T/2)
    assert printed_figures(out) == ["network_cut.png", "network_cut_grid.png"]
    for name in printed_figures(out):
        assert_png(tmp_path / name)


def test_memory_run(tmp_path):
    out = run_tutorial("memory_run", tmp_path)
    assert re.search(r"^chance 0\.333$", out, flags=re.M)
    acc = float(re.search(r"^test accuracy ([\d.]+) on (\d+) sequences", out, flags=re.M)[1])
    classes = [(float(a), int(n)) for a, n in
               re.findall(r"class \S+ matching: accuracy ([\d.]+) \((\d+) sequences\)", out)]
    assert len(classes) == 3
    counts = [n for _, n in classes]
    assert sum(counts) == 999 and max(counts) - min(counts) <= 1  # balanced classes
    # overall accuracy is the count-weighted mean of the per-class accuracies
    assert acc == pytest.approx(sum(a * n for a, n in classes) / sum(counts), abs=2e-3)
    assert all(0.0 <= a <= 1.0 for a, _ in classes)
    assert acc > 0.5  # the run learns something: chance is 1/3 (deterministic seeds)
    assert printed_figures(out) == ["memory_run.png"]
    assert_png(tmp_path / "memory_run.png")


def binary_entropy(p: float) -> float:
    p = min(max(p, 0.5), 1.0)
    return 0.0 if p == 1.0 else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def test_capacity(tmp_path):
    out = run_tutorial("capacity", tmp_path)
    P = int(re.search(r"(\d+) parameters", out)[1])
    rows = [(int(b), float(p), float(bits), float(bpp)) for b, p, bits, bpp in
            re.findall(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, flags=re.M)]
    assert len(rows) == 3
    for b, p, bits, bpp in rows:
        assert 0.0 <= bits <= b + 0.05
        # I = b (1 - H2(p)); p is printed with 3 decimals, hence the tolerance
        slope = b * abs(math.log2(max(1 - p, 1e-3) / p)) if p < 1 else 0.0
        assert bits == pytest.approx(b * (1 - binary_entropy(p)), abs=0.06 + 6e-4 * slope)
        assert bpp == pytest.approx(bits / P, abs=2e-3)
    best = float(re.search(r"capacity \(best over b\): ([\d.]+) bits", out)[1])
    assert best == pytest.approx(max(r[2] for r in rows), abs=0.05)
    mc = re.search(r"N = (\d+) units: memory capacity ([\d.]+)", out)
    assert float(mc[2]) == pytest.approx(int(mc[1]), abs=1e-3)  # linear memory capacity equals N
    assert printed_figures(out) == ["capacity.png"]
    assert_png(tmp_path / "capacity.png")


def test_own_network(tmp_path):
    out = run_tutorial("own_network", tmp_path)
    # an MPS of bond dimension 3 with 2^4 states per side: the middle cut crosses one bond, so the
    # separation rank is at most 3; generic tensors reach it
    assert re.search(r"^\s*lower \(certified\)\s+3\b", out, flags=re.M), out
    assert re.search(r"^\s*upper \(best\)\s+3\b", out, flags=re.M), out
    assert re.search(r"^\s*exact\s+yes\b", out, flags=re.M), out
    assert re.search(r"tensor of shape \(2, 2, 2, 2, 2, 2, 2, 2\)", out)
    assert re.search(r"float estimate\): 3$", out, flags=re.M)
    assert re.search(r"connected: True", out)
    assert printed_figures(out) == ["own_network.png"]
    assert_png(tmp_path / "own_network.png")
    # ConvACs: shallow bounded by its width 2 for any partition; deep, left-right bounded by the top width 2,
    # interleaved min(M, r)^(N/2) = 2^4 (Cohen, Sharir, Shashua 2016; Cohen, Shashua 2017)
    convac = {(k, p): int(r) for k, p, r in re.findall(r"^\s*(shallow|deep)\s+(\S+): separation rank (\d+) \(exact\)",
                                                       out, flags=re.M)}
    assert convac == {("shallow", "left-right"): 2, ("shallow", "odd-even"): 2,
                      ("deep", "left-right"): 2, ("deep", "odd-even"): min(3, 2) ** (8 // 2)}
