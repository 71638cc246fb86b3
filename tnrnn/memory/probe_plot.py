"""The probe figure: effective Start-End rank of trained networks against T, one line per depth, next to
the certified generic rank of a RAC of the same depth and width (the theory's curve; docs/theory.md,
'Separation rank').

``python -m tnrnn.memory.probe_plot PREFIX [STEPS]`` (or ``PREFIX replot``: redraw from ``PREFIX.json``) trains every (cell, depth, T) of `GRID` briefly on
Start-End Similarity over the whole halves, probes it ([`tnrnn.memory.probe.probe`][tnrnn.memory.probe.probe]) and writes
``PREFIX.json`` (the records, the regeneration command) and ``PREFIX.png``.
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
GRID: dict[str, Any] = {"cells": ["rac", "gru", "scornn"], "depths": [1, 2, 3], "times": [4, 6, 8], "symbols": 2, "width": 4}


def probe_records(steps: int = 300, grid: dict | None = None, seed: int = 0) -> list[dict]:
    """Train and probe every point of ``grid``; one record per point (tolerance 1e-3 rank, effective rank,
    test accuracy) plus the certified RAC rank per (depth, T).

    Examples
    --------
    >>> recs = probe_records(steps=2, grid={"cells": ["rac"], "depths": [1], "times": [4], "symbols": 2,
    ...                                     "width": 2})
    >>> recs[0]["certified_rac_rank"], recs[0]["numerical_rank_1e-03"] <= 2
    (2, True)
    """
    from tnrnn.memory.fit import train_task
    from tnrnn.memory.optim import TrainConfig
    from tnrnn.memory.probe import certified_rac_rank, probe
    from tnrnn.memory.protocol import protocol_settings
    from tnrnn.memory.tasks import make_task

    g = grid or GRID
    M, R = g["symbols"], g["width"]
    records = []
    for cell, depth, T in itertools.product(g["cells"], g["depths"], g["times"]):
        task = make_task("ses", time=T, symbols=M, span=T // 2)
        cfg = TrainConfig.from_dict({**protocol_settings("scaled", steps=steps, eval_every=max(steps // 4, 1),
                                                         eval_batch_size=256, test_batch_size=300), "seed": seed})
        res = train_task(task, cell, depth, R, cfg, progress=False)
        rep = probe(res.params, cell, M, T, n_in=task.n_in, certify=False)
        records.append({"cell": cell, "depth": depth, "time": T, "symbols": M, "width": R, "steps": res.steps_done,
                        "test_accuracy": res.extra["test"]["accuracy"],
                        "numerical_rank_1e-03": rep["max_numerical_rank"]["1e-03"],
                        "effective_rank": rep["max_effective_rank"],
                        "certified_rac_rank": certified_rac_rank(depth, R, M, T)["lower"]})
    return records


def plot_probe(records: list[dict], path: str | os.PathLike) -> Path:
    """Effective rank (solid) and numerical rank at 1e-3 (dotted) against T per cell, lines per depth, with the
    certified generic RAC rank (dashed grey) of each depth; log scale.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = list(CELL_TABLE)
    cells = sorted({r["cell"] for r in records}, key=order.index)
    depths = sorted({r["depth"] for r in records})
    colors = plt.get_cmap("viridis")([0.15 + 0.7 * i / max(len(depths) - 1, 1) for i in range(len(depths))])
    fig, axes = plt.subplots(1, len(cells), figsize=(4.2 * len(cells), 4.0), sharey=True, squeeze=False)
    for ax, cell in zip(axes[0], cells):
        for color, depth in zip(colors, depths):
            pts = sorted((r for r in records if r["cell"] == cell and r["depth"] == depth), key=lambda r: r["time"])
            ts = [r["time"] for r in pts]
            ax.plot(ts, [r["effective_rank"] for r in pts], "o-", color=color, label=f"L={depth} effective")
            ax.plot(ts, [r["numerical_rank_1e-03"] for r in pts], "s:", color=color, ms=4)
            ax.plot(ts, [r["certified_rac_rank"] for r in pts], "--", color="0.5", lw=1)
        ax.set_yscale("log", base=2)
        ax.set_xticks(sorted({r["time"] for r in records}))
        ax.set_title(f"{CELL_TABLE[cell].label} (width {records[0]['width']})")
        ax.set_xlabel("sequence length T")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Start-End rank (float estimates)")
    axes[0][0].legend(fontsize=8, title="dotted: numerical rank at 1e-3\ndashed: certified generic rank of a\n"
                      "RAC of each depth (lowest: L=1)", title_fontsize=7)
    fig.suptitle(f"Start-End rank used by trained networks, M = {records[0]['symbols']} symbols "
                 f"({records[0]['steps']} steps on whole-halves SES)", fontsize=11)
    fig.tight_layout()
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
    steps = int(argv[1]) if len(argv) > 1 else 300
    records = probe_records(steps)
    write_json(f"{argv[0]}.json", {"records": records, "grid": GRID, "steps": steps,
                                   "regenerate": f"python -m tnrnn.memory.probe_plot {argv[0]} {steps}",
                                   "kind": "floating-point estimates beside certified RAC ranks"})
    print(plot_probe(records, f"{argv[0]}.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
