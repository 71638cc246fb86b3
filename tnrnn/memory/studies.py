"""Depth sweeps of long-term memory, at equal parameter budget or at equal width, over several seeds
(Levine et al., arXiv 1710.09431, section 5; docs/theory.md, 'Long-term memory tasks').

[`memory_point`][tnrnn.memory.studies.memory_point] trains one (cell, depth, T, seed) configuration with a training protocol of
[`tnrnn.memory.protocol`][tnrnn.memory.protocol] and returns its test-set report (overall and per-class accuracy); it is the
point function of the resumable sweep runner (``"tnrnn.memory.studies:memory_point"``).
[`memory_sweep_points`][tnrnn.memory.studies.memory_sweep_points] builds and validates a grid of them and [`memory_sweep`][tnrnn.memory.studies.memory_sweep] runs it.
Summaries over seeds (mean, confidence interval, the largest T solved) and figures are in
[`tnrnn.memory.study_report`][tnrnn.memory.study_report].
"""

from __future__ import annotations

import inspect
import itertools
import os
from collections.abc import Sequence
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.memory.cells import check_cell, width_for_budget
from tnrnn.memory.fit import check_training_memory, train_task
from tnrnn.memory.optim import TrainConfig
from tnrnn.memory.protocol import protocol_settings
from tnrnn.memory.tasks import make_task

#: Grid used when the command line gives none: the study behind ``diagrams/memory_ses.*``.
DEFAULT_GRID: dict[str, Any] = {"cells": ["gru", "scornn", "rac"], "depths": [1, 2, 3],
                                "times": [20, 40, 60, 80], "budget": 2000, "seeds": [0, 1, 2],
                                "symbols": 8, "span": 10}

POINT_TASK = "tnrnn.memory.studies:memory_point"

#: Training settings a point may override (None: the protocol's value).
TRAINING_KEYS = ("steps", "batch_size", "learning_rate", "optimizer", "schedule", "clip_norm", "eval_every",
                 "eval_batch_size", "test_batch_size", "plateau_patience", "max_plateaus", "plateau_factor",
                 "restore_best")


def memory_point(
    *,
    cell: str,
    depth: int,
    time: int,
    task: str = "ses",
    symbols: int | None = None,
    span: int | None = None,
    budget: int | None = None,
    width: int | None = None,
    protocol: str = "scaled",
    seed: int = 0,
    nonlinearity: str = "tanh",
    forget_bias: float = 1.0,
    **training: Any,
) -> dict:
    """Train one configuration (at the widest width within ``budget``, or at ``width``); return its report.

    Parameters
    ----------
    cell, depth, time, task, symbols, span
        The stack and the task ([`tnrnn.memory.tasks.make_task`][tnrnn.memory.tasks.make_task]).
    budget, width : int
        Exactly one: a parameter budget (equal-parameter studies) or a fixed width (equal-width studies).
    protocol : str
        Training preset of `tnrnn.memory.protocol.PROTOCOLS`; ``training`` overrides its entries
        (`TRAINING_KEYS`).
    seed : int
        Seeds the parameters, the training batches and the fixed validation and test sets.

    Returns
    -------
    dict
        ``cell, depth, time, width, num_params, budget, seed``, ``accuracy`` (test set, reported
        parameters), ``per_class`` and ``no_vs_half_accuracy`` (SES) on the test set, ``val_accuracy``,
        ``chance``, ``steps`` done, ``best_step``, ``stopped_early``, ``plateaus``, ``diverged``,
        ``train_seconds``, ``steps_per_second``, ``task``, a compact ``curve`` of (step, validation
        accuracy) and ``machine`` (CPU, accelerator, XLA flags: float results differ across machines).

    Raises
    ------
    TnrnnError
        For bad settings (before training).

    Examples
    --------
    >>> r = memory_point(cell="gru", depth=1, budget=300, time=6, symbols=2, span=2, steps=4, batch_size=8,
    ...                  eval_batch_size=16, test_batch_size=12, eval_every=2)
    >>> r["num_params"] <= 300, 0.0 <= r["accuracy"] <= 1.0, sorted(r["per_class"])
    (True, True, ['0/2', '1/2', '2/2'])
    >>> sorted(r["machine"])[:3]
    ['backend', 'cpu', 'cpu_count']
    """
    spec, width, config = point_setup(dict(locals(), **training))
    res = train_task(spec, cell, depth, width, config, nonlinearity=nonlinearity, forget_bias=forget_bias,
                     progress=False)
    test = res.extra.get("test") or res.extra["validation"]
    return {
        "cell": res.extra["cell"], "depth": depth, "time": spec.time, "width": width,
        "num_params": res.extra["num_params"], "budget": budget, "seed": seed,
        "accuracy": test["accuracy"], "per_class": test["per_class"],
        "no_vs_half_accuracy": test.get("no_vs_half_accuracy"), "test_loss": test["loss"],
        "val_accuracy": res.extra["validation"]["accuracy"], "chance": spec.chance,
        "steps": res.steps_done, "best_step": res.best_step, "stopped_early": res.stopped_early,
        "plateaus": res.plateaus, "diverged": res.diverged, "train_seconds": res.seconds,
        "steps_per_second": res.to_json()["steps_per_second"], "task": spec.describe(),
        "curve": [[h["step"], h.get("eval_accuracy")] for h in res.history],
        "machine": res.extra["machine"],
    }


def point_setup(point: dict):
    """Task, width and [`TrainConfig`][tnrnn.memory.optim.TrainConfig] of one [`memory_point`][tnrnn.memory.studies.memory_point], validated
    (unknown keys, task parameters, budget or width, training memory) without training anything.

    Examples
    --------
    >>> spec, width, cfg = point_setup({"cell": "gru", "depth": 2, "time": 40, "symbols": 8, "span": 10,
    ...                                 "width": 16})
    >>> spec.n_in, width, cfg.optimizer, cfg.batch_size
    (9, 16, 'rmsprop', 128)
    """
    point = dict(point)
    training = {k: point.pop(k) for k in list(point) if k in TRAINING_KEYS}
    point.pop("training", None)
    try:
        bound = inspect.signature(memory_point).bind(**point)
    except TypeError as exc:
        raise TnrnnError(f"bad memory-sweep point {point!r}: {exc}") from None
    bound.apply_defaults()
    a = bound.arguments
    extra = set(a.get("training", {})) - set(TRAINING_KEYS)
    if extra:
        raise TnrnnError(f"bad memory-sweep point: unknown setting(s) {', '.join(sorted(extra))}")
    spec = make_task(a["task"], time=a["time"], symbols=a["symbols"], span=a["span"])
    cell = check_cell(a["cell"])
    if (a["budget"] is None) == (a["width"] is None):
        raise TnrnnError("give exactly one of budget (equal parameters) and width (equal width)")
    if a["budget"] is not None:
        width = width_for_budget(cell, spec.n_in, a["depth"], spec.n_out, a["budget"])
    else:
        width = check_positive_int("width", a["width"])
    settings = protocol_settings(a["protocol"], **training)
    config = TrainConfig.from_dict({**settings, "seed": a["seed"]})
    check_training_memory(spec, cell, a["depth"], width, config)
    return spec, width, config


def memory_sweep_points(
    cells: Sequence[str],
    depths: Sequence[int],
    times: Sequence[int],
    *,
    seeds: Sequence[int] = (0,),
    budget: int | None = None,
    width: int | None = None,
    **common: Any,
) -> list[dict]:
    """The sweep grid as keyword dicts for [`memory_point`][tnrnn.memory.studies.memory_point], every point validated before any training.

    ``common`` holds the other keywords of [`memory_point`][tnrnn.memory.studies.memory_point] (task, symbols, span, protocol, training
    overrides; None values are dropped). Seeds vary fastest (one compilation serves a point's seeds), then
    cells, depths and T, so a partial sweep holds whole small-T columns first.

    Examples
    --------
    >>> pts = memory_sweep_points(["gru"], [1, 2], [20, 40], seeds=[0, 1], budget=2000, symbols=8, span=10)
    >>> len(pts), pts[0]["cell"], pts[1]["seed"], pts[2]["depth"]
    (8, 'gru', 1, 2)
    """
    if not cells or not depths or not times or not seeds:
        raise TnrnnError("the sweep needs at least one cell, one depth, one time and one seed")
    common = {k: v for k, v in common.items() if v is not None}
    size = {"budget": budget} if budget is not None else {"width": width}
    points = []
    for T, depth, cell, seed in itertools.product(times, depths, cells, seeds):
        point = {"cell": check_cell(cell), "depth": check_positive_int("depth", depth),
                 "time": check_positive_int("time", T), "seed": check_positive_int("seed", seed, minimum=0),
                 **size, **common}
        point_setup(point)
        points.append(point)
    return points


def memory_sweep(points: list[dict], results: str | os.PathLike | None, **sweep_kwargs: Any) -> list[dict]:
    """Run [`memory_point`][tnrnn.memory.studies.memory_point] over ``points`` with the resumable sweep runner.

    ``sweep_kwargs`` go to [`tnrnn.sweep.run_sweep`][tnrnn.sweep.runner.run_sweep] (``executor``, ``workers``, ``scheduler``, ...).

    Examples
    --------
    >>> pts = memory_sweep_points(["gru"], [1], [6], budget=300, symbols=2, span=2, steps=4, eval_every=2,
    ...                           batch_size=8, eval_batch_size=16, test_batch_size=12)
    >>> [r["status"] for r in memory_sweep(pts, None, executor="serial", progress=False)]
    ['ok']
    """
    from tnrnn.sweep import run_sweep

    sweep_kwargs.setdefault("desc", "memory sweep")
    return run_sweep(POINT_TASK, points, results, **sweep_kwargs)
