"""Trainability: random hyperparameter draws per (cell, depth) on parentheses counting (Collins et al. 2017).

For each (cell, depth) the same ``draws`` random hyperparameter settings are trained **at once** (vmapped;
one jitted program per point) on [`ParenthesesCounting`][tnrnn.capacity.tasks.ParenthesesCounting] at a fixed parameter
budget. Each draw samples, independently:

* learning rate, log-uniform in ``lr_range`` (default 1e-4 .. 1);
* gradient-clipping norm, log-uniform in ``clip_range`` (default 0.1 .. 1000);
* forget bias (constant on the keep gates), uniform in ``forget_bias_range`` (default -1 .. 3);
* scale of the recurrent matrices at initialisation, log-uniform in ``init_scale_range`` (0.3 .. 3),
  multiplying the orthogonal (or, for the IRNN, identity) ``Wh`` / ``Whc`` of every layer.

The draws depend only on ``draw_seed`` and the draw index, so every (cell, depth) sees the same settings.
A draw **failed** when its training diverged (a non-finite loss or gradient; the member is then frozen at
its last finite parameters) or its final held-out loss is above its initial held-out loss. A draw **learned
nothing** when it diverged or its final held-out loss is not below the **no-learning baseline**: the loss,
on the same held-out batch, of the predictor that ignores the input and outputs the per-step label law
([`no_learning_loss`][tnrnn.capacity.tasks.ParenthesesCounting.no_learning_loss]; about 1.42 nats for T = 30, 2 types,
2 noise symbols, counts to 5, far below the ln 6 of a uniform guess). [`summarize_trainability`][tnrnn.capacity.trainability.summarize_trainability]
reports per (cell, depth) the fractions diverged, above initial loss, and above the baseline, and the
median and best final loss with diverged draws counted as ``+inf`` (a median of ``inf`` says more than half
diverged).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.capacity.presets import TRAINABILITY
from tnrnn.capacity.study import Option, Study
from tnrnn.capacity.tasks import CountBatch, ParenthesesCounting
from tnrnn.capacity.vtrain import evaluate_members, stack_init, train_members
from tnrnn.memory.cells import CELLS, apply_stack, check_cell, init_stack, num_params, width_for_budget

POINT_TASK = "tnrnn.capacity.trainability:trainability_point"


def draw_hyperparameters(draws: int, *, draw_seed: int = 0, lr_range=(1e-4, 1.0), clip_range=(0.1, 1000.0),
                         forget_bias_range=(-1.0, 3.0), init_scale_range=(0.3, 3.0)) -> dict[str, np.ndarray]:
    """``draws`` random settings (see the module docstring); deterministic in ``draw_seed``.

    Examples
    --------
    >>> hp = draw_hyperparameters(3, draw_seed=1)
    >>> sorted(hp), hp["lr"].shape, bool((hp["lr"] >= 1e-4).all() and (hp["lr"] <= 1.0).all())
    (['clip', 'forget_bias', 'init_scale', 'lr'], (3,), True)
    """
    draws = check_positive_int("draws", draws)
    for name, (lo, hi) in (("lr_range", lr_range), ("clip_range", clip_range), ("init_scale_range", init_scale_range)):
        if not (0 < lo <= hi and math.isfinite(hi)):
            raise TnrnnError(f"{name} must be 0 < low <= high, got {(lo, hi)}")
    if not forget_bias_range[0] <= forget_bias_range[1]:
        raise TnrnnError(f"forget_bias_range must be low <= high, got {forget_bias_range}")
    rng = np.random.default_rng(check_positive_int("draw_seed", draw_seed, minimum=0))
    logu = lambda lo, hi: np.exp(rng.uniform(math.log(lo), math.log(hi), draws))  # noqa: E731
    return {"lr": logu(*lr_range), "clip": logu(*clip_range),
            "forget_bias": rng.uniform(forget_bias_range[0], forget_bias_range[1], draws), "init_scale": logu(*init_scale_range)}


def _scaled_init(seed: int, scale: float, cell: str, n_in: int, width: int, depth: int, n_out: int):
    p = init_stack(seed, cell, n_in, width, depth, n_out)
    for layer in p["layers"]:
        for name in ("Wh", "Whc", "W_H"):
            if name in layer:
                layer[name] = layer[name] * scale
    return p


@lru_cache(maxsize=32)
def _fns(task: ParenthesesCounting, cell: str, batch_size: int):
    def loss_on(params, batch, hp):
        logits = apply_stack(params, batch.inputs, cell=cell, forget_bias=hp["forget_bias"])
        logits = logits.reshape(logits.shape[:2] + (task.types, task.classes))
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, batch.targets)), logits

    def loss_fn(params, data, hp, key):
        return loss_on(params, task._sample(key, batch_size), hp)[0], {}

    def eval_fn(params, data, hp):
        inputs, targets = data
        loss, logits = loss_on(params, CountBatch(inputs, targets), hp)
        return {"loss": loss, "accuracy": jnp.mean(jnp.argmax(logits, -1) == targets)}

    return loss_fn, eval_fn


def trainability_point(
    *,
    cell: str,
    depth: int,
    budget: int = 3000,
    draws: int = 16,
    draw_seed: int = 0,
    time: int = 50,
    types: int = 2,
    noise: int = 2,
    max_count: int = 5,
    steps: int = 1000,
    batch_size: int = 32,
    eval_batch_size: int = 512,
    chunk: int = 250,
    lr_range: Sequence[float] = (1e-4, 1.0),
    clip_range: Sequence[float] = (0.1, 1000.0),
    forget_bias_range: Sequence[float] = (-1.0, 3.0),
    init_scale_range: Sequence[float] = (0.3, 3.0),
) -> dict:
    """Train ``draws`` random hyperparameter settings of one (cell, depth) on parentheses counting.

    Returns
    -------
    dict
        ``cell, depth, width, num_params, budget, task``, ``baseline_loss`` (the no-learning predictor scored
        on the held-out batch) and ``baseline_loss_expected`` (its expected loss), and ``runs``: per draw its
        hyperparameters, ``initial_loss``, ``final_loss``, ``final_accuracy``, ``diverged``, ``failed``,
        ``learned_nothing``; ``train_seconds``.

    Examples
    --------
    >>> r = trainability_point(cell="gru", depth=1, budget=300, draws=2, time=6, steps=10, batch_size=4,
    ...                        eval_batch_size=16, chunk=5)
    >>> len(r["runs"]), sorted(r["runs"][0])[:3]
    (2, ['clip', 'diverged', 'failed'])
    """
    cell = check_cell(cell)
    task = ParenthesesCounting(time=time, types=types, noise=noise, max_count=max_count)
    width = width_for_budget(cell, task.n_in, depth, task.n_out, budget)
    hp = draw_hyperparameters(draws, draw_seed=draw_seed, lr_range=tuple(lr_range), clip_range=tuple(clip_range),
                              forget_bias_range=tuple(forget_bias_range), init_scale_range=tuple(init_scale_range))
    params = stack_init(lambda i: _scaled_init(i, float(hp["init_scale"][i]), cell, task.n_in, width, depth,
                                               task.n_out), range(draws))
    loss_fn, eval_fn = _fns(task, cell, int(batch_size))
    held = task.sample(jax.random.PRNGKey(10**6 + 3), int(eval_batch_size))  # disjoint from the training keys
    data = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (draws,) + a.shape), (held.inputs, held.targets))
    before = evaluate_members(params, data, hp, eval_fn)
    out = train_members(params, None, hp, loss_fn, steps=steps, seed=draw_seed, chunk=chunk)
    after = evaluate_members(out["params"], data, hp, eval_fn)
    baseline = task.no_learning_loss(np.asarray(held.targets))
    runs = []
    for i in range(draws):
        init_loss, final = float(before["loss"][i]), float(after["loss"][i])
        diverged = bool(out["diverged"][i]) or not math.isfinite(final)
        runs.append({"lr": float(hp["lr"][i]), "clip": float(hp["clip"][i]), "forget_bias": float(hp["forget_bias"][i]),
                     "init_scale": float(hp["init_scale"][i]), "initial_loss": init_loss,
                     "final_loss": final if math.isfinite(final) else None,
                     "final_accuracy": float(after["accuracy"][i]), "diverged": diverged,
                     "failed": diverged or not (final <= init_loss),
                     "learned_nothing": diverged or not (final < baseline)})
    return {"cell": cell, "depth": int(depth), "width": int(width),
            "num_params": num_params(cell, task.n_in, width, depth, task.n_out), "budget": int(budget),
            "task": task.describe(), "baseline_loss": baseline, "baseline_loss_expected": task.no_learning_loss(),
            "runs": runs, "train_seconds": out["seconds"]}


def trainability_points(cells: Sequence[str], depths: Sequence[int], **training: Any) -> list[dict]:
    """The sweep grid for [`trainability_point`][tnrnn.capacity.trainability.trainability_point]; ``plusrnn`` at depth 1 is skipped (it needs depth >= 2).

    Examples
    --------
    >>> [(p["cell"], p["depth"]) for p in trainability_points(["gru", "plusrnn"], [1, 2], steps=5)]
    [('gru', 1), ('gru', 2), ('plusrnn', 2)]
    """
    if not cells or not depths:
        raise TnrnnError("the trainability study needs at least one cell and one depth")
    budget = int(training.get("budget", 3000))
    task = ParenthesesCounting(time=int(training.get("time", 50)), types=int(training.get("types", 2)),
                               noise=int(training.get("noise", 2)), max_count=int(training.get("max_count", 5)))
    pts = []
    for cell, depth in itertools.product(cells, depths):
        cell = check_cell(cell)
        depth = check_positive_int("depth", depth)
        if cell == "plusrnn" and depth < 2:
            continue
        width_for_budget(cell, task.n_in, depth, task.n_out, budget)  # fails early if the budget is too small
        pts.append({"cell": cell, "depth": depth, **training})
    return pts


def _row(res: dict) -> dict:
    runs = res["runs"]
    n = len(runs)
    finals = np.array([math.inf if r["diverged"] or r["final_loss"] is None else r["final_loss"] for r in runs])
    base = res.get("baseline_loss")
    live = [r for r in runs if not r["diverged"]]
    row = {
        "cell": res["cell"], "depth": res["depth"], "width": res["width"], "num_params": res["num_params"],
        "draws": n, "baseline_loss": base, "chance_loss": math.log(res["task"]["max_count"] + 1),
        "diverged_fraction": (n - len(live)) / n,
        "above_initial_fraction": sum(r["failed"] for r in live) / n,
        "failed_fraction": sum(r["failed"] for r in runs) / n,
        "median_final_loss": float(np.median(finals)),
        "best_final_loss": float(np.min(finals)),
        "best_accuracy": max((r["final_accuracy"] for r in live), default=None),
        "median_initial_loss": float(np.median([r["initial_loss"] for r in runs])),
    }
    if base is not None:
        row["above_baseline_fraction"] = sum(not (r["final_loss"] < base) for r in live) / n
        row["learned_nothing_fraction"] = (n - len(live)) / n + row["above_baseline_fraction"]
    return row


def summarize_trainability(records: list[dict], training: dict) -> dict:
    """Fractions diverged / above initial loss / above the no-learning baseline, median and best final loss.

    Parameters
    ----------
    records : list of dict
        Sweep records of [`trainability_point`][tnrnn.capacity.trainability.trainability_point].
    training : dict
        The study config, attached as ``training``.

    Returns
    -------
    dict
        ``rows``: per (cell, depth) ``draws, baseline_loss, diverged_fraction, above_initial_fraction,
        above_baseline_fraction`` (not diverged, final loss >= baseline), ``learned_nothing_fraction``
        (diverged or above the baseline), ``failed_fraction`` (diverged or above initial), ``median_final_loss,
        best_final_loss, best_accuracy, median_initial_loss, width, num_params``; ``baseline_loss`` (expected,
        of the task); ``errors``; ``training``.
    """
    ok = [r["result"] for r in records if r.get("status") == "ok" and r.get("result")]
    errors = [{"params": r["params"], "error": r.get("error")} for r in records if r.get("status") != "ok"]
    rows = sorted((_row(res) for res in ok),
                  key=lambda r: (CELLS.index(r["cell"]) if r["cell"] in CELLS else 99, r["depth"]))
    expected = next((res.get("baseline_loss_expected") for res in ok), None)
    seconds = sum(float(r.get("seconds") or 0.0) for r in records)
    return {"study": "trainability", "rows": rows, "baseline_loss": expected, "errors": errors,
            "training": {**training, "total_point_seconds": seconds}}


_GRID_KEYS = ("cells", "depths")


class TrainabilityStudy(Study):
    """Random hyperparameter draws per (cell, depth) on parentheses counting (``tnrnn capacity trainability``)."""

    name = "trainability"
    help = "random hyperparameter draws per cell and depth (parentheses counting)"
    description = ("Train random hyperparameter draws per (cell, depth) on parentheses counting; fractions "
                   "diverged, above initial loss and above the no-learning baseline; median and best final loss.")
    point_task = POINT_TASK
    presets = TRAINABILITY
    options = (
        Option("--cells", "cells", "cells", "comma-separated cells"),
        Option("--depths", "depths", "int_list", "e.g. 1,2,8"),
        Option("--draws", "draws", "int", "random draws per (cell, depth)"),
        Option("--steps", "steps", "int", "Adam steps per draw"),
        Option("--budget", "budget", "int", "parameter budget"),
        Option("--time", "time", "int", "sequence length"),
    )

    def points(self, config: dict, records: list[dict]) -> list[dict]:
        """See [`tnrnn.capacity.study.Study.points`][tnrnn.capacity.study.Study.points]."""
        training = {k: v for k, v in config.items() if k not in _GRID_KEYS}
        points = trainability_points(config["cells"], config["depths"], **training)
        if not points:
            raise TnrnnError("no (cell, depth) to run: the +RNN needs depth >= 2")
        return points

    def summary(self, records: list[dict], config: dict) -> dict:
        """See [`tnrnn.capacity.study.Study.summary`][tnrnn.capacity.study.Study.summary]."""
        return summarize_trainability(records, config)

    def table(self, summary: dict) -> list[dict]:
        """See [`tnrnn.capacity.study.Study.table`][tnrnn.capacity.study.Study.table]."""
        keys = ("cell", "depth", "num_params", "draws", "diverged_fraction", "above_initial_fraction",
                "above_baseline_fraction", "median_final_loss", "best_final_loss", "baseline_loss")
        return [{k: r.get(k) for k in keys} for r in summary["rows"]]

    def plot(self, summary: dict, path: str | os.PathLike) -> Path:
        """See [`tnrnn.capacity.study.Study.plot`][tnrnn.capacity.study.Study.plot]."""
        from tnrnn.capacity.plots import plot_trainability

        return plot_trainability(summary, path)
