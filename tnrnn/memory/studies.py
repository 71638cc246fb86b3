"""Depth sweeps of long-term memory at equal parameter budget (SCIENCE.md section 6).

:func:`memory_point` trains one (cell, depth, T) configuration at the width that fits the budget and returns
its held-out accuracy; it is the point function of :func:`tnrnn.sweep.run_sweep`
(``"tnrnn.memory.studies:memory_point"``). :func:`memory_sweep` runs a grid of them, and
:func:`plot_memory_sweep` draws accuracy against T, one panel per cell, one line per depth.

Presets (:data:`PRESETS`) fix the training budget of every point; ``full`` is the one behind
``diagrams/memory_sweep_ses.png``.
"""

from __future__ import annotations

import inspect
import itertools
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tnrnn.base.errors import TnrnnError

#: Training budget per point. ``quick`` is a smoke run (chance-level results are expected at most T; the
#: default quick grid of 12 points takes about 1 to 2 minutes here). ``full`` is the budget of the gallery
#: figure ``diagrams/memory_sweep_ses.png``: its 45 points (rac, gru, lstm x depth 1, 2, 3 x T = 20..100,
#: 20000 parameters) took 37.7 minutes with one worker on the project's 2-core CPU shared with other jobs
#: (load average 5 to 7); 13 to 115 s per point, longer for larger T. (Its RAC row was later rerun after a
#: fix of the RAC initialisation: 15 points in about 5 minutes at load average about 1.)
PRESETS: dict[str, dict[str, Any]] = {
    "quick": {"steps": 150, "batch_size": 32, "learning_rate": 3e-3, "eval_batch_size": 256, "eval_every": 75},
    "full": {"steps": 1500, "batch_size": 64, "learning_rate": 3e-3, "eval_batch_size": 1024, "eval_every": 250},
}

#: Grid used when the command line gives none (per preset).
DEFAULT_GRID: dict[str, dict[str, Any]] = {
    "quick": {"cells": ["rac", "gru"], "depths": [1, 2], "times": [10, 20, 30], "budget": 5000},
    "full": {"cells": ["rac", "gru", "lstm"], "depths": [1, 2, 3], "times": [20, 40, 60, 80, 100], "budget": 20000},
}

POINT_TASK = "tnrnn.memory.studies:memory_point"


def memory_point(
    *,
    cell: str,
    depth: int,
    budget: int,
    task: str = "ses",
    time: int,
    alphabet: int | None = None,
    compare: int | None = None,
    symbols: int | None = None,
    steps: int = 1500,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    optimizer: str = "adam",
    schedule: str = "cosine",
    clip_norm: float | None = 1.0,
    eval_batch_size: int = 1024,
    eval_every: int = 250,
    nonlinearity: str = "tanh",
    forget_bias: float = 1.0,
    seed: int = 0,
) -> dict:
    """Train one configuration at the largest width within ``budget`` parameters; return its metrics.

    Returns
    -------
    dict
        ``cell, depth, time, width, num_params, budget, accuracy`` (held-out, final), ``best_accuracy``
        (best held-out accuracy seen at a chunk boundary), ``final_loss``, ``chance``, ``diverged``,
        ``steps``, ``train_seconds``, ``steps_per_second``, ``task`` (its description) and a compact
        ``curve`` of (step, eval accuracy).

    Examples
    --------
    >>> r = memory_point(cell="gru", depth=1, budget=300, time=6, alphabet=2, steps=4, batch_size=8,
    ...                  eval_batch_size=16, eval_every=2)
    >>> r["num_params"] <= 300, 0.0 <= r["accuracy"] <= 1.0
    (True, True)
    """
    spec, width, config = _point_setup(dict(locals()))  # first line: locals() is exactly the arguments
    from tnrnn.memory.train import train_task

    res = train_task(spec, cell, depth, width, config, nonlinearity=nonlinearity, forget_bias=forget_bias,
                     progress=False)
    accs = [h.get("eval_accuracy") for h in res.history if "eval_accuracy" in h]
    return {
        "cell": res.extra["cell"],
        "depth": depth,
        "time": spec.time,
        "width": width,
        "num_params": res.extra["num_params"],
        "budget": budget,
        "accuracy": res.final.get("accuracy"),
        "best_accuracy": max(accs) if accs else None,
        "final_loss": res.final.get("loss"),
        "chance": spec.chance,
        "diverged": res.diverged,
        "steps": res.steps_done,
        "train_seconds": res.seconds,
        "steps_per_second": res.steps_per_second,
        "task": spec.describe(),
        "curve": [[h["step"], h.get("eval_accuracy")] for h in res.history],
    }


def _point_setup(point: dict):
    """Task, width and :class:`~tnrnn.memory.train.TrainConfig` of one :func:`memory_point`, validated
    (unknown keys, task parameters, budget, training memory) without training anything.
    """
    from tnrnn.memory.cells import width_for_budget
    from tnrnn.memory.tasks import make_task
    from tnrnn.memory.train import TrainConfig, check_training_memory

    try:
        bound = inspect.signature(memory_point).bind(**point)
    except TypeError as exc:
        raise TnrnnError(f"bad memory-sweep point {point!r}: {exc}") from None
    bound.apply_defaults()
    a = bound.arguments
    spec = make_task(a["task"], time=a["time"], alphabet=a["alphabet"], compare=a["compare"], symbols=a["symbols"])
    width = width_for_budget(a["cell"], spec.n_in, a["depth"], spec.n_out, a["budget"])
    config = TrainConfig.from_dict(a)
    check_training_memory(spec, a["cell"], a["depth"], width, config)
    return spec, width, config


def memory_sweep_points(
    cells: Sequence[str],
    depths: Sequence[int],
    times: Sequence[int],
    *,
    budget: int,
    task: str = "ses",
    preset: str = "full",
    **overrides: Any,
) -> list[dict]:
    """The sweep grid as keyword dicts for :func:`memory_point` (training budget from ``preset``).

    Every point is validated here (task parameters, a budget that fits some width, the training
    hyperparameters and their memory estimate), so a bad grid fails before any training starts.

    Examples
    --------
    >>> pts = memory_sweep_points(["gru"], [1, 2], [10, 20], budget=5000, preset="quick")
    >>> len(pts), pts[0]["cell"], pts[0]["steps"]
    (4, 'gru', 150)
    """
    from tnrnn.base.validate import check_positive_int
    from tnrnn.memory.cells import check_cell

    if preset not in PRESETS:
        raise TnrnnError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    if not cells or not depths or not times:
        raise TnrnnError("the sweep needs at least one cell, one depth and one time")
    training = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    points = []
    for cell, depth, T in itertools.product(cells, depths, times):
        point = {"cell": check_cell(cell), "depth": check_positive_int("depth", depth),
                 "budget": check_positive_int("budget", budget), "task": task, "time": check_positive_int("time", T),
                 **training}
        _point_setup(point)
        points.append(point)
    return points


def memory_sweep(points: list[dict], results: str | os.PathLike | None, **sweep_kwargs: Any) -> list[dict]:
    """Run :func:`memory_point` over ``points`` with :func:`tnrnn.sweep.run_sweep` (resumable).

    ``sweep_kwargs`` go to :func:`~tnrnn.sweep.run_sweep` (``executor``, ``workers``, ``scheduler``, ...).

    Examples
    --------
    >>> pts = memory_sweep_points(["gru"], [1], [6], budget=300, preset="quick", alphabet=2, steps=4,
    ...                           eval_every=2, batch_size=8, eval_batch_size=16)   # memory_point's example
    >>> [r["status"] for r in memory_sweep(pts, None, executor="serial", progress=False)]
    ['ok']
    """
    from tnrnn.sweep import run_sweep

    sweep_kwargs.setdefault("desc", "memory sweep")
    return run_sweep(POINT_TASK, points, results, **sweep_kwargs)


def summarize(records: list[dict]) -> dict:
    """Group sweep records into ``{"points": [...], "errors": [...], "training": {...}}`` for JSON and plots.

    Examples
    --------
    >>> recs = [{"status": "ok", "params": {"steps": 10, "budget": 500}, "seconds": 2.0,
    ...          "result": {"cell": "gru", "depth": 1, "time": 6, "accuracy": 0.5}},
    ...         {"status": "error", "params": {"steps": 10}, "error": "ValueError: x", "seconds": 1.0}]
    >>> s = summarize(recs)
    >>> len(s["points"]), s["errors"][0]["error"], s["training"]["budget"], s["total_point_seconds"]
    (1, 'ValueError: x', 500, 3.0)
    """
    ok = [r["result"] for r in records if r.get("status") == "ok" and r.get("result")]
    errors = [{"params": r["params"], "error": r.get("error")} for r in records if r.get("status") != "ok"]
    training = {}
    if records:
        p = records[0]["params"]
        training = {k: p[k] for k in ("steps", "batch_size", "learning_rate", "eval_batch_size", "budget", "task")
                    if k in p}
        defaults = inspect.signature(memory_point).parameters
        for k in ("optimizer", "schedule", "clip_norm"):
            training[k] = p.get(k, defaults[k].default)
    seconds = sum(float(r.get("seconds") or 0.0) for r in records)
    points = [{k: v for k, v in r.items() if k != "curve"} | {"curve": r.get("curve")} for r in ok]
    points.sort(key=lambda r: (r["cell"], r["depth"], r["time"]))
    return {"points": points, "errors": errors, "training": training, "total_point_seconds": seconds}


def plot_memory_sweep(summary: dict, path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Accuracy against T: one panel per cell, one line per depth, chance as a dashed line; saved as PNG.

    The legend gives each depth's width and parameter count (equal budget), and the footer the training
    budget that produced the points.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = summary["points"]
    if not points:
        raise TnrnnError("no finished points to plot")
    cells = sorted({p["cell"] for p in points}, key=lambda c: ("rac", "rnn", "irnn", "ugrnn", "gru", "lstm", "plusrnn").index(c))
    depths = sorted({p["depth"] for p in points})
    colors = plt.get_cmap("viridis")(
        [0.15 + 0.7 * i / max(len(depths) - 1, 1) for i in range(len(depths))]
    )
    fig, axes = plt.subplots(1, len(cells), figsize=(max(7.0, 4.2 * len(cells) + 0.6), 4.2), sharey=True, squeeze=False)
    for ax, cell in zip(axes[0], cells):
        for color, depth in zip(colors, depths):
            pts = sorted((p for p in points if p["cell"] == cell and p["depth"] == depth), key=lambda p: p["time"])
            if not pts:
                continue
            widths = sorted({p["width"] for p in pts})
            nparams = max(p["num_params"] for p in pts)
            wtxt = f"R={widths[0]}" if len(widths) == 1 else f"R={widths[0]}-{widths[-1]}"
            ax.plot([p["time"] for p in pts], [p["accuracy"] for p in pts], "o-", color=color, lw=2, ms=5,
                    label=f"L={depth} ({wtxt}, {nparams / 1000:.1f}k params)")
        ax.set_xticks(sorted({p["time"] for p in points if p["cell"] == cell}))
        chance = points[0]["chance"]
        ax.axhline(chance, color="0.4", ls="--", lw=1)
        ax.text(ax.get_xlim()[0], chance, " chance", va="bottom", ha="left", fontsize=9, color="0.3")
        ax.set_title(cell.upper() if cell != "plusrnn" else "+RNN", fontsize=12)
        ax.set_xlabel("sequence length T")
        ax.grid(alpha=0.3)
        # headroom above accuracy 1 holds the legend, so it never hides a point
        ax.set_ylim(0, 1.0 + 0.075 * (len(depths) + 1))
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.legend(fontsize=8.5, loc="upper center", framealpha=0.95)
    axes[0][0].set_ylabel("held-out accuracy")
    tr = summary.get("training", {})
    task = points[0].get("task", {})
    tdesc = task.get("task", "?")
    if tdesc == "ses":
        compared = "whole halves compared" if all(p["task"].get("compare") == p["time"] // 2 for p in points) \
            else f"{task.get('compare')} positions compared"
        tdesc = f"Start-End Similarity (alphabet {task.get('alphabet')}, {compared})"
    elif tdesc == "copy":
        tdesc = f"Copying Memory (alphabet {task.get('alphabet')}, {task.get('symbols')} symbols recalled)"
    head = title or f"{tdesc}: depth at equal parameter budget ({tr.get('budget', '?')} parameters)"
    fig.suptitle("\n".join(textwrap.wrap(head, width=int(10 * fig.get_figwidth()))), fontsize=12)
    foot = (f"training per point: {tr.get('steps')} steps of {tr.get('optimizer', 'adam')}, batch {tr.get('batch_size')}, "
            f"lr {tr.get('learning_rate')} ({tr.get('schedule', 'cosine')}), clip {tr.get('clip_norm')}; "
            f"accuracy on {tr.get('eval_batch_size')} held-out sequences, one seed per point; "
            f"{summary.get('total_point_seconds', 0) / 60:.0f} min of point run time in all")
    lines = textwrap.wrap(foot, width=int(16 * fig.get_figwidth()))
    fig.text(0.5, 0.01, "\n".join(lines), ha="center", va="bottom", fontsize=8.5, color="0.25")
    fig.tight_layout(rect=(0, 0.025 + 0.035 * len(lines), 1, 0.99))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
