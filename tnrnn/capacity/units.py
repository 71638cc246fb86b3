"""Per-unit memory: single-shot recall of one random vector after a delay (Collins et al., ICLR 2017).

One standard-normal ``n_in``-vector is presented at step 1, zeros follow, and a linear readout must give the
vector back ``delay`` steps later. A network whose state carries N real numbers can keep at most N of the
``n_in`` coordinates (the best linear N-dimensional code of an isotropic Gaussian leaves the fraction
``1 - N/n_in`` of its variance unexplained), so the normalised error ``MSE / Var(target)`` should follow
``max(0, 1 - N/n_in)``: about one real number per unit, for every cell (Collins et al. 2017).

One sweep point ([`units_point`][tnrnn.capacity.units.units_point]) is one (cell, N): every (learning rate, seed) pair is trained at once
(vmapped), on fresh batches at every step, and scored on one held-out batch. [`summarize_units`][tnrnn.capacity.units.summarize_units] keeps,
per (cell, N), the learning rate with the lowest seed-mean error (the search), and that error's seed spread.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.capacity.presets import UNITS
from tnrnn.capacity.study import Option, Study
from tnrnn.capacity.tasks import _recall
from tnrnn.capacity.vtrain import evaluate_members, lr_seed_members, runs_by_learning_rate, stack_init, train_members
from tnrnn.memory.cells import apply_stack, check_cell, init_stack, num_params

POINT_TASK = "tnrnn.capacity.units:units_point"


def linear_bound(units, n_in: int):
    """The reference curve ``max(0, 1 - N / n_in)``.

    Examples
    --------
    >>> linear_bound([4, 8, 16, 32], 16).tolist()
    [0.75, 0.5, 0.0, 0.0]
    """
    return np.maximum(0.0, 1.0 - np.asarray(units, np.float64) / check_positive_int("n_in", n_in))


@lru_cache(maxsize=32)
def _fns(cell: str, nonlinearity: str, batch_size: int, n_in: int, delay: int):
    def predict(params, inputs, hp):
        out = apply_stack(params, inputs, cell=cell, nonlinearity=nonlinearity, forget_bias=hp["forget_bias"])
        return out[:, -1]

    def loss_fn(params, data, hp, key):
        batch = _recall(key, batch_size, n_in, delay)
        return jnp.mean((predict(params, batch.inputs, hp) - batch.targets) ** 2), {}

    def eval_fn(params, data, hp):
        inputs, targets = data
        err = jnp.mean((predict(params, inputs, hp) - targets) ** 2, axis=0)
        # normalise per coordinate by the held-out variance of the target (about 1 for standard normals)
        return {"normalized_error": jnp.mean(err / jnp.var(targets, axis=0)), "mse": jnp.mean(err)}

    return loss_fn, eval_fn


def units_point(
    *,
    cell: str,
    units: int,
    n_in: int = 16,
    delay: int = 5,
    depth: int = 1,
    learning_rates: Sequence[float] = (3e-3, 1e-2),
    seeds: Sequence[int] = (0,),
    steps: int = 2000,
    batch_size: int = 128,
    eval_batch_size: int = 4096,
    clip_norm: float = 10.0,
    forget_bias: float = 1.0,
    nonlinearity: str = "tanh",
    chunk: int = 500,
) -> dict:
    """Train single-shot recall with ``units`` hidden units for every (lr, seed); return the normalised errors.

    Returns
    -------
    dict
        ``cell, depth, units, n_in, delay, num_params, bound`` (``max(0, 1 - N/n_in)``) and ``runs``: per
        (lr, seed) ``normalized_error``, ``mse``, ``diverged``; ``train_seconds``.

    Examples
    --------
    >>> r = units_point(cell="gru", units=2, n_in=4, delay=1, learning_rates=[1e-2], steps=20, batch_size=8,
    ...                 eval_batch_size=64, chunk=10)
    >>> r["bound"], len(r["runs"])
    (0.5, 1)
    """
    cell = check_cell(cell)
    N = check_positive_int("units", units)
    n_in = check_positive_int("n_in", n_in)
    delay = check_positive_int("delay", delay, minimum=0)
    grid, hps = lr_seed_members(learning_rates, seeds, clip_norm=clip_norm, forget_bias=forget_bias,
                                what="units_point")
    params = stack_init(lambda s: init_stack(s, cell, n_in, N, depth, n_in, nonlinearity=nonlinearity),
                        [s for _, s in grid])
    loss_fn, eval_fn = _fns(cell, nonlinearity, int(batch_size), n_in, delay)
    out = train_members(params, None, hps, loss_fn, steps=steps, seed=grid[0][1], chunk=chunk)
    held = _recall(jax.random.PRNGKey(10**6 + 7), int(eval_batch_size), n_in, delay)  # disjoint from training keys
    data = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (len(grid),) + a.shape), (held.inputs, held.targets))
    ev = evaluate_members(out["params"], data, hps, eval_fn)
    runs = [{"learning_rate": lr, "seed": s, "normalized_error": float(ev["normalized_error"][i]),
             "mse": float(ev["mse"][i]), "diverged": bool(out["diverged"][i])} for i, (lr, s) in enumerate(grid)]
    return {"cell": cell, "depth": int(depth), "units": N, "n_in": n_in, "delay": delay,
            "num_params": num_params(cell, n_in, N, depth, n_in), "bound": float(linear_bound(N, n_in)),
            "runs": runs, "train_seconds": out["seconds"]}


def units_points(cells: Sequence[str], units: Sequence[int], **training: Any) -> list[dict]:
    """The sweep grid for [`units_point`][tnrnn.capacity.units.units_point] (``plusrnn`` runs at depth 2, the others at depth 1).

    Examples
    --------
    >>> [(p["cell"], p["units"]) for p in units_points(["rnn"], [2, 4], steps=10)]
    [('rnn', 2), ('rnn', 4)]
    """
    if not cells or not units:
        raise TnrnnError("the per-unit study needs at least one cell and one number of units")
    pts = []
    for cell, N in itertools.product(cells, units):
        cell = check_cell(cell)
        pts.append({"cell": cell, "units": check_positive_int("units", N),
                    "depth": 2 if cell == "plusrnn" else 1, **training})
    return pts


def summarize_units(records: list[dict], training: dict) -> dict:
    """Best learning rate per (cell, N): seed-mean normalised error, its seed values, the reference bound.

    Returns
    -------
    dict
        ``curves``: per cell a list of ``{units, normalized_error, seed_errors, best_learning_rate, bound,
        num_params}`` sorted by N; ``errors``; ``training``.
    """
    ok = [r["result"] for r in records if r.get("status") == "ok" and r.get("result")]
    errors = [{"params": r["params"], "error": r.get("error")} for r in records if r.get("status") != "ok"]
    curves: dict[str, list[dict]] = {}
    for res in ok:
        by_lr = {lr: [run["normalized_error"] for run in runs]
                 for lr, runs in runs_by_learning_rate(res["runs"]).items()}
        lr, errs = min(by_lr.items(), key=lambda kv: float(np.mean(kv[1])))
        curves.setdefault(res["cell"], []).append(
            {"units": res["units"], "normalized_error": float(np.mean(errs)), "seed_errors": errs,
             "best_learning_rate": lr, "bound": res["bound"], "num_params": res["num_params"], "depth": res["depth"]})
    for rows in curves.values():
        rows.sort(key=lambda r: r["units"])
    seconds = sum(float(r.get("seconds") or 0.0) for r in records)
    return {"study": "per_unit_memory", "curves": curves, "errors": errors,
            "training": {**training, "total_point_seconds": seconds}}


_GRID_KEYS = ("cells", "units")


class UnitsStudy(Study):
    """Per-unit memory (``tnrnn capacity units``)."""

    name = "units"
    help = "per-unit memory: single-shot recall error against units"
    description = ("Recall one random n_in-vector after a delay; normalised error against N, beside "
                   "max(0, 1 - N/n_in).")
    point_task = POINT_TASK
    presets = UNITS
    options = (
        Option("--cells", "cells", "cells", "comma-separated cells"),
        Option("--units", "units", "int_list", "hidden units N, e.g. 2,4,8,16"),
        Option("--n-in", "n_in", "int", "input dimension"),
        Option("--delay", "delay", "int", "steps between the vector and its recall"),
        Option("--lrs", "learning_rates", "float_list", "learning-rate grid (trained together)"),
        Option("--seeds", "seeds", "seed_list", "seeds"),
        Option("--steps", "steps", "int", "Adam steps per point"),
    )

    def points(self, config: dict, records: list[dict]) -> list[dict]:
        """See [`tnrnn.capacity.study.Study.points`][tnrnn.capacity.study.Study.points]."""
        training = {k: v for k, v in config.items() if k not in _GRID_KEYS}
        return units_points(config["cells"], config["units"], **training)

    def summary(self, records: list[dict], config: dict) -> dict:
        """See [`tnrnn.capacity.study.Study.summary`][tnrnn.capacity.study.Study.summary]."""
        return summarize_units(records, {**config, "optimizer": "adam (cosine to 0.1 lr)", "clip_norm": 10.0})

    def table(self, summary: dict) -> list[dict]:
        """See [`tnrnn.capacity.study.Study.table`][tnrnn.capacity.study.Study.table]."""
        return [{"cell": c, "units": r["units"], "normalized_error": r["normalized_error"], "bound": r["bound"]}
                for c, rows in summary["curves"].items() for r in rows]

    def plot(self, summary: dict, path: str | os.PathLike) -> Path:
        """See [`tnrnn.capacity.study.Study.plot`][tnrnn.capacity.study.Study.plot]."""
        from tnrnn.capacity.plots import plot_units

        return plot_units(summary, path)
