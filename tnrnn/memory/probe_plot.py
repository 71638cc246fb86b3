"""The probe figure: the Start-End rank that trained networks use against T, one line per depth, with each
network's test accuracy beside its rank; only networks that learned the task are drawn as results.

``python -m tnrnn.memory.probe_plot PREFIX [STEPS]`` (or ``PREFIX replot``: redraw from ``PREFIX.json``) trains
every (cell, depth, T) of ``GRID`` on Start-End Similarity over the whole halves (up to ``TRIES``
seeds, stopping at the first whose test accuracy reaches ``LEARNED``), probes it
([`tnrnn.memory.probe.probe`][tnrnn.memory.probe.probe]: float64 RAC tables, every table equilibrated, the rank
at a stated relative tolerance) and writes ``PREFIX.json`` (the records, the regeneration command) and
``PREFIX.png``. A network below ``LEARNED`` is kept in the records with ``learned: false`` and drawn only
as a grey cross: the rank of a network that did not learn says nothing about the memory the task needs.

The certified generic rank of a RAC (the theory's quantity; docs/theory.md, 'Separation rank') is drawn on
the RAC panel only: it bounds RACs, not GRUs or scoRNNs. Every panel shows the trivial bound ``M^(T/2)`` (the
side of the table) and the rank ``(T/2)(M - 1) + 1`` that suffices to solve the task (logits affine in the
number of matching positions).
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path
from typing import Any

from tnrnn.base.io import read_json, write_json
from tnrnn.memory.cells import CELL_TABLE

#: The probe figure's grid: small enough for a few minutes of CPU.
GRID: dict[str, Any] = {"cells": ["rac", "gru", "scornn"], "depths": [1, 2, 3], "times": [8, 10], "symbols": 2,
                        "width": 8, "learning_rate": 1e-2, "batch_size": 64}

#: Test accuracy at which a trained network counts as having learned the task (chance is 1/3).
LEARNED = 0.9

#: Seeds tried per point before it is recorded as not learned.
TRIES = 2


def solving_rank(symbols: int, time: int) -> int:
    """Start-End rank that suffices to solve SES over whole halves: logits affine in the match count
    ``sum_i [s_i = e_i]``, a sum of (T/2)(M - 1) + 1 separable terms (one per position and non-constant
    indicator, plus the constant).

    Examples
    --------
    >>> solving_rank(2, 8)
    5
    """
    return (time // 2) * (symbols - 1) + 1


def probe_records(steps: int = 1000, grid: dict | None = None, seed: int = 0, tries: int = TRIES) -> list[dict]:
    """Train and probe every point of ``grid``; one record per point: the rank at the probe's tolerance, the
    numerical rank at 1e-3, the effective rank, the test accuracy and whether it reached ``LEARNED``, the
    seed used, and for a RAC the certified generic rank (None for other cells).

    Examples
    --------
    >>> recs = probe_records(steps=2, grid={"cells": ["rac"], "depths": [1], "times": [4], "symbols": 2,
    ...                                     "width": 2}, tries=1)
    >>> recs[0]["certified_rac_rank"], recs[0]["rank"] <= 2, recs[0]["learned"] == (recs[0]["test_accuracy"] >= 0.9)
    (2, True, True)
    """
    from tnrnn.memory.fit import train_task
    from tnrnn.memory.optim import TrainConfig
    from tnrnn.memory.probe import certified_rac_rank, probe
    from tnrnn.memory.protocol import protocol_settings
    from tnrnn.memory.tasks import make_task

    g = grid or GRID
    M, R = g["symbols"], g["width"]
    extra = {k: g[k] for k in ("learning_rate", "batch_size") if k in g}
    records = []
    for cell, depth, T in itertools.product(g["cells"], g["depths"], g["times"]):
        task = make_task("ses", time=T, symbols=M, span=T // 2)
        for s in range(seed, seed + max(int(tries), 1)):
            cfg = TrainConfig.from_dict({**protocol_settings("scaled", steps=steps, eval_every=max(steps // 5, 1),
                                                             eval_batch_size=256, test_batch_size=500),
                                         **extra, "seed": s})
            res = train_task(task, cell, depth, R, cfg, init_seed=s, progress=False)
            acc = float(res.extra["test"]["accuracy"])
            if acc >= LEARNED:
                break
        rep = probe(res.params, cell, M, T, n_in=task.n_in, certify=False)
        records.append({"cell": cell, "depth": depth, "time": T, "symbols": M, "width": R, "seed": s,
                        "steps": res.steps_done, "test_accuracy": acc, "learned": acc >= LEARNED,
                        "rank": rep["max_rank"], "rank_rtol": rep["rank_rtol"], "table": rep["table"],
                        "numerical_rank_1e-03": rep["max_numerical_rank"]["1e-03"],
                        "effective_rank": rep["max_effective_rank"], "side": rep["side"],
                        "solving_rank": solving_rank(M, T),
                        "certified_rac_rank": certified_rac_rank(depth, R, M, T)["lower"] if cell == "rac" else None})
    return records


def plot_probe(records: list[dict], path: str | os.PathLike) -> Path:
    """Rank at the probe's tolerance (and the entropy effective rank, hollow) against T per cell, lines per
    depth through the networks that learned, each point labelled with its test accuracy; networks that did not learn as grey crosses; the certified
    generic RAC rank (dashed) on the RAC panel only; the trivial bound and the solving rank on every panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = list(CELL_TABLE)
    cells = sorted({r["cell"] for r in records}, key=order.index)
    depths = sorted({r["depth"] for r in records})
    times = sorted({r["time"] for r in records})
    colors = plt.get_cmap("viridis")([0.15 + 0.7 * i / max(len(depths) - 1, 1) for i in range(len(depths))])
    fig, axes = plt.subplots(1, len(cells), figsize=(4.6 * len(cells), 4.6), sharey=True, squeeze=False)
    first = records[0]
    for ax, cell in zip(axes[0], cells):
        for color, depth in zip(colors, depths):
            pts = sorted((r for r in records if r["cell"] == cell and r["depth"] == depth), key=lambda r: r["time"])
            good = [r for r in pts if r["learned"]]
            ax.plot([r["time"] for r in good], [r["rank"] for r in good], "o-", color=color, label=f"L={depth}")
            ax.plot([r["time"] for r in good], [r["effective_rank"] for r in good], "s:", color=color, ms=4,
                    mfc="none")
            for r in good:
                ax.annotate(f"{r['test_accuracy']:.2f}", (r["time"], r["rank"]), textcoords="offset points",
                            xytext=(4, 3 - 9 * depths.index(depth)), fontsize=7, color=color)
            bad = [r for r in pts if not r["learned"]]
            ax.plot([r["time"] for r in bad], [r["rank"] for r in bad], "x", color="0.55", ms=6)
            for r in bad:
                ax.annotate(f"L{depth} {r['test_accuracy']:.2f}", (r["time"], r["rank"]), textcoords="offset points",
                            xytext=(4, -10), fontsize=6, color="0.45")
            if cell == "rac":
                cert = [(r["time"], r["certified_rac_rank"]) for r in pts if r["certified_rac_rank"] is not None]
                ax.plot([t for t, _ in cert], [c for _, c in cert], "--", color=color, lw=1, alpha=0.8)
        ax.plot(times, [first["symbols"] ** (t // 2) for t in times], ":", color="k", lw=1)
        ax.plot(times, [solving_rank(first["symbols"], t) for t in times], "-.", color="tab:red", lw=1)
        ax.set_yscale("log", base=2)
        ax.set_xticks(times)
        rtol = next((r["rank_rtol"] for r in records if r["cell"] == cell), None)
        ax.set_title(f"{CELL_TABLE[cell].label} (width {first['width']}; rank at rtol {rtol:g})", fontsize=10)
        ax.set_xlabel("sequence length T")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    axes[0][0].set_ylabel("Start-End rank of the trained network")
    fig.suptitle(f"Start-End rank used by trained networks, M = {first['symbols']} (numbers: test accuracy; "
                 f"grey x: below {LEARNED}, not a result)", fontsize=11)
    fig.text(0.5, 0.01, "solid: rank at the stated relative tolerance; hollow squares: entropy effective rank; "
             "black dotted: M^(T/2), the largest possible rank; red dash-dot: (T/2)(M-1)+1, enough to solve the "
             "task;\ndashed (RAC panel only): certified generic rank of a RAC of that depth and width. Tables: "
             "float64 for the RAC, float32 otherwise, rows and columns equilibrated (rank-preserving).",
             ha="center", va="bottom", fontsize=7, color="0.25")
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m tnrnn.memory.probe_plot PREFIX [STEPS]``."""
    argv = sys.argv[1:] if argv is None else argv
    if not 1 <= len(argv) <= 2:
        print("usage: python -m tnrnn.memory.probe_plot PREFIX [STEPS]", file=sys.stderr)
        return 2
    if argv[1:] == ["replot"]:
        print(plot_probe(read_json(f"{argv[0]}.json")["records"], f"{argv[0]}.png"))
        return 0
    steps = int(argv[1]) if len(argv) > 1 else 1000
    records = probe_records(steps)
    write_json(f"{argv[0]}.json", {
        "records": records, "grid": GRID, "steps": steps, "learned_accuracy": LEARNED, "tries": TRIES,
        "regenerate": f"python -m tnrnn.memory.probe_plot {argv[0]} {steps}",
        "kind": "floating-point estimates (stated tolerance, equilibrated tables) beside certified RAC ranks"})
    print(plot_probe(records, f"{argv[0]}.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
