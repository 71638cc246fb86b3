"""Figures of a memory-sweep summary ([`tnrnn.memory.study_report.summarize`][tnrnn.memory.study_report.summarize]): they draw what they are
given and compute nothing but the layout.

* [`plot_accuracy`][tnrnn.memory.study_plots.plot_accuracy]: test accuracy against T, one panel per cell, one line per depth, the mean over
  seeds with its bootstrap interval (clipped to [0, 1]) as error bars, every seed as a small point, chance
  and the "solved" level as dashed lines;
* [`plot_classes`][tnrnn.memory.study_plots.plot_classes]: the same per class (rows: classes, columns: cells), plus the "no agreement vs half
  agreement" accuracy for Start-End Similarity.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tnrnn.base.errors import TnrnnError
from tnrnn.memory.cells import CELL_TABLE


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _cells_depths(summary: dict):
    rows = summary["rows"]
    if not rows:
        raise TnrnnError("no finished points to plot")
    order = list(CELL_TABLE)
    cells = sorted({r["cell"] for r in rows}, key=order.index)
    depths = sorted({r["depth"] for r in rows})
    return rows, cells, depths


def _line(ax, rows, stat, color, label, dx=0.0, seeds=False):
    rows = sorted(rows, key=lambda r: r["time"])
    rows = [r for r in rows if stat(r)["mean"] is not None]
    if not rows:
        return
    xs = [r["time"] + dx for r in rows]  # depths side by side, so their intervals do not hide each other
    means = [stat(r)["mean"] for r in rows]
    # max(0, ...): matplotlib refuses negative error lengths, which float rounding of a clipped end can give
    lo = [max(0.0, m - (stat(r)["ci_low"] if stat(r)["ci_low"] is not None else m)) for m, r in zip(means, rows)]
    hi = [max(0.0, (stat(r)["ci_high"] if stat(r)["ci_high"] is not None else m) - m) for m, r in zip(means, rows)]
    ax.errorbar(xs, means, yerr=[lo, hi], fmt="o-", color=color, lw=1.8, ms=4, capsize=3, label=label)
    if seeds:  # every seed as a point: three seeds say more as points than as an interval
        px = [x for x, r in zip(xs, rows) for _ in stat(r).get("values", [])]
        py = [v for r in rows for v in stat(r).get("values", [])]
        ax.scatter(px, py, s=10, color=color, alpha=0.55, marker="x", lw=0.8, zorder=3)


def _dodge(summary: dict, depths: list[int], depth: int) -> float:
    times = sorted({r["time"] for r in summary["rows"]})
    step = min((b - a for a, b in zip(times, times[1:])), default=10)
    return (depths.index(depth) - (len(depths) - 1) / 2) * 0.04 * step


def _footer(fig, summary: dict) -> int:
    tr, task = summary.get("training", {}), summary.get("task", {})
    seeds = sorted({s for r in summary["rows"] for s in r["seeds"]})
    foot = (f"task {task.get('task')}: {task.get('symbols')} symbols, span {task.get('span')}; protocol "
            f"{tr.get('protocol', 'scaled')} (RMSProp 1e-3, batch {tr.get('batch_size', 128)}, at most "
            f"{tr.get('steps')} steps, plateau decay x0.1 and early stop at the 2nd plateau, patience "
            f"{tr.get('plateau_patience')} checks of {tr.get('eval_every')} steps, best-validation parameters); "
            f"mean over seeds {seeds} (x: each seed) with {int(100 * 0.95)}% bootstrap intervals of the mean "
            f"clipped to [0, 1] on a fixed test set of "
            f"{tr.get('test_batch_size')} sequences; {summary.get('total_point_seconds', 0) / 60:.0f} min of "
            "point run time in all")
    lines = textwrap.wrap(foot, width=int(15 * fig.get_figwidth()))
    fig.text(0.5, 0.01, "\n".join(lines), ha="center", va="bottom", fontsize=8, color="0.25")
    return len(lines)


def plot_accuracy(summary: dict, path: str | os.PathLike) -> Path:
    """Test accuracy against T with confidence intervals, one panel per cell; saved as PNG."""
    plt = _pyplot()
    rows, cells, depths = _cells_depths(summary)
    colors = plt.get_cmap("viridis")([0.15 + 0.7 * i / max(len(depths) - 1, 1) for i in range(len(depths))])
    fig, axes = plt.subplots(1, len(cells), figsize=(4.2 * len(cells) + 0.6, 4.4), sharey=True, squeeze=False)
    for ax, cell in zip(axes[0], cells):
        for color, depth in zip(colors, depths):
            sub = [r for r in rows if r["cell"] == cell and r["depth"] == depth]
            if sub:
                widths = sorted({w for r in sub for w in r["widths"]})
                _line(ax, sub, lambda r: r["accuracy"], color,
                      f"L={depth} (R={'/'.join(map(str, widths))}, {max(r['num_params'] for r in sub)} params)",
                      _dodge(summary, depths, depth), seeds=True)
        ax.axhline(rows[0]["chance"], color="0.4", ls="--", lw=1)
        ax.axhline(0.9, color="tab:red", ls=":", lw=1)
        ax.set_title(CELL_TABLE[cell].label)
        ax.set_xlabel("sequence length T")
        ax.set_xticks(sorted({r["time"] for r in rows}))
        ax.set_ylim(0, 1.25)
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", ncol=1, framealpha=0.95)
    axes[0][0].set_ylabel("test accuracy (dashed: chance, dotted: 0.9)")
    names = {"ses": "Start-End Similarity", "copying": "Copying Memory"}
    name = names.get(summary.get("task", {}).get("task"), "Memory task")
    equal = "equal width" if summary.get("training", {}).get("width") else "equal parameter budget"
    fig.suptitle(f"{name}: depth at {equal}", fontsize=12)
    n = _footer(fig, summary)
    fig.tight_layout(rect=(0, 0.03 + 0.03 * n, 1, 0.98))
    return _save(fig, path, plt)


def _class_stat(name: str, row: dict) -> dict:
    return row["per_class"][name]


def plot_classes(summary: dict, path: str | os.PathLike) -> Path:
    """Per-class test accuracy against T (rows: classes, then no-vs-half agreement; columns: cells)."""
    plt = _pyplot()
    rows, cells, depths = _cells_depths(summary)
    classes = list(rows[0]["per_class"])[:3]  # copying: the first three symbols of the alphabet
    ses = summary.get("task", {}).get("task", "ses").startswith("ses")
    stats: list[tuple[str, Callable[[dict], dict]]] = [
        (f"class {c} matching" if ses else f"recalled {c}", partial(_class_stat, c)) for c in classes]
    if rows[0]["no_vs_half"]["mean"] is not None:
        stats.append(("no vs half agreement", lambda r: r["no_vs_half"]))
    colors = plt.get_cmap("viridis")([0.15 + 0.7 * i / max(len(depths) - 1, 1) for i in range(len(depths))])
    fig, axes = plt.subplots(len(stats), len(cells), figsize=(3.8 * len(cells) + 0.6, 2.6 * len(stats) + 0.8),
                             sharex=True, sharey=True, squeeze=False)
    for i, (name, stat) in enumerate(stats):
        for j, cell in enumerate(cells):
            ax = axes[i][j]
            for color, depth in zip(colors, depths):
                sub = [r for r in rows if r["cell"] == cell and r["depth"] == depth]
                if sub:
                    _line(ax, sub, stat, color, f"L={depth}", _dodge(summary, depths, depth))
            ax.axhline(rows[0]["chance"], color="0.4", ls="--", lw=1)
            ax.set_ylim(0, 1.05)
            ax.set_xticks(sorted({r["time"] for r in rows}))
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(CELL_TABLE[cell].label)
            if j == 0:
                ax.set_ylabel(name, fontsize=9)
            if i == len(stats) - 1:
                ax.set_xlabel("sequence length T")
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Test accuracy per class (mean over seeds, 95% bootstrap intervals clipped to [0, 1])", fontsize=12)
    n = _footer(fig, summary)
    fig.tight_layout(rect=(0, 0.03 + 0.025 * n, 1, 0.98))
    return _save(fig, path, plt)


def _save(fig, path, plt) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
