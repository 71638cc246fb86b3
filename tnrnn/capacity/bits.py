"""Bits per parameter: how many random binary labels a cell can memorise (Collins et al., ICLR 2017).

One sweep point ([`bits_point`][tnrnn.capacity.bits.bits_point]) is one cell at one parameter budget and one number of samples
``b = round(b_multiple * num_params)``. It trains every (learning rate, seed) pair of the point **at once**
([`tnrnn.capacity.vtrain.train_members`][tnrnn.capacity.vtrain.train_members]: same shapes, one jitted, vmapped program), each seed with its
own data set and initialisation, and measures the accuracy ``p`` on the training set itself, then
``I = b (1 - H2(p))`` ([`tnrnn.capacity.info.stored_bits`][tnrnn.capacity.info.stored_bits]).

Stored bits can never exceed ``b``, so the search over ``b`` must go past the capacity. [`BitsStudy`][tnrnn.capacity.bits.BitsStudy]
runs the preset's ``b_multiples`` grid (reaching 8 samples per parameter) and then, per (cell, size), adds
``b`` 25 % larger ([`next_multiple`][tnrnn.capacity.bits.next_multiple]) for as long as the stored bits at the largest ``b`` exceed those at
the one before ([`search_status`][tnrnn.capacity.bits.search_status]): the search stops only when stored bits fall (or the 2^n_in distinct
inputs run out), so the reported capacity is a maximum found inside the searched range, not a cap. When the
stored bits peak at the smallest ``b`` searched, a smaller one is added ([`lower_multiple`][tnrnn.capacity.bits.lower_multiple]), so the
maximum is bracketed on both sides.

[`summarize_bits`][tnrnn.capacity.bits.summarize_bits] turns the sweep records into the study: for each (cell, size) the capacity is the
maximum over the searched ``b`` and learning rates of the seed-mean ``I`` (the seed spread at that maximum is
kept), bits per parameter = capacity / parameters, the stored-bits curve against ``b`` with the reason the
search stopped, and the log-log slope of capacity against parameter count per cell (1 means capacity linear
in the parameter count, as the paper finds). The training budget travels with every number.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from time import perf_counter
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from tnrnn.base.errors import TnrnnError
from tnrnn.capacity.info import stored_bits
from tnrnn.capacity.presets import BITS
from tnrnn.capacity.study import Option, Study
from tnrnn.capacity.tasks import memorisation_set
from tnrnn.capacity.vtrain import evaluate_members, lr_seed_members, runs_by_learning_rate, stack_init, train_members
from tnrnn.memory.cells import CELLS, apply_stack, check_cell, init_stack, num_params, width_for_budget

POINT_TASK = "tnrnn.capacity.bits:bits_point"


def size_of(cell: str, budget: int, *, n_in: int, depth: int) -> tuple[int, int]:
    """``(width, num_params)`` of the largest ``cell`` stack (two outputs) within ``budget`` parameters.

    Examples
    --------
    >>> size_of("gru", 1000, n_in=16, depth=1)
    (11, 959)
    """
    width = width_for_budget(cell, n_in, depth, 2, budget)
    return width, num_params(cell, n_in, width, depth, 2)


@lru_cache(maxsize=32)
def _fns(cell: str, nonlinearity: str, batch_size: int, samples: int, time_steps: int):
    """Loss and evaluation of one member; cached so repeated points reuse the compiled program."""

    def logits_of(params, x, hp):
        xs = jnp.zeros((x.shape[0], time_steps, x.shape[1]), jnp.float32).at[:, 0].set(x)
        out = apply_stack(params, xs, cell=cell, nonlinearity=nonlinearity, forget_bias=hp["forget_bias"])
        return out[:, -1]

    def loss_fn(params, data, hp, key):
        x, y = data
        if batch_size < samples:
            idx = jax.random.randint(key, (batch_size,), 0, samples)
            x, y = x[idx], y[idx]
        logits = logits_of(params, x, hp)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y)), {}

    def eval_fn(params, data, hp):
        x, y = data
        logits = logits_of(params, x, hp)
        loss = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))
        return {"accuracy": jnp.mean(jnp.argmax(logits, -1) == y), "loss": loss}

    return loss_fn, eval_fn


def bits_point(
    *,
    cell: str,
    budget: int,
    b_multiple: float,
    learning_rates: Sequence[float] = (1e-3, 3e-3, 1e-2),
    seeds: Sequence[int] = (0, 1),
    n_in: int = 16,
    depth: int = 1,
    time: int = 5,
    steps: int = 2000,
    batch_size: int = 256,
    clip_norm: float = 10.0,
    forget_bias: float = 1.0,
    nonlinearity: str = "tanh",
    chunk: int = 500,
) -> dict:
    """Memorise ``b = round(b_multiple * num_params)`` random labels with every (lr, seed); return ``p`` and ``I``.

    Parameters
    ----------
    cell : str
        A cell of `tnrnn.memory.cells.CELLS` (``plusrnn`` needs ``depth >= 2``).
    budget : int
        Parameter budget; the width is the largest that fits (two output logits).
    b_multiple : float
        Samples per parameter.
    learning_rates, seeds : sequences
        The grid trained together (vmapped); seed ``s`` fixes the data set and the initial weights.
    n_in, depth, time : int
        Input dimension, layers, sequence length (label read at the last step).
    steps, batch_size, clip_norm : training budget (Adam, cosine decay to 0.1 of the learning rate);
        minibatches are drawn with replacement from the fixed set (the whole set when ``batch_size >= b``).
    forget_bias, nonlinearity : cell options.

    Returns
    -------
    dict
        ``cell, depth, budget, width, num_params, b, b_multiple`` and ``runs``: one entry per (lr, seed) with
        ``learning_rate, seed, accuracy, loss, bits, diverged``; ``train_seconds``.

    Examples
    --------
    >>> r = bits_point(cell="rnn", budget=100, b_multiple=0.5, learning_rates=[1e-2], seeds=[0], n_in=8,
    ...                steps=20, batch_size=8, chunk=10)
    >>> r["b"], len(r["runs"]), 0 <= r["runs"][0]["bits"] <= r["b"]
    (44, 1, True)
    """
    cell = check_cell(cell)
    if not (b_multiple > 0 and math.isfinite(b_multiple)):
        raise TnrnnError(f"b_multiple must be a positive number, got {b_multiple}")
    grid, hps = lr_seed_members(learning_rates, seeds, clip_norm=clip_norm, forget_bias=forget_bias,
                                what="bits_point")
    seed_list = list(dict.fromkeys(s for _, s in grid))
    width, P = size_of(cell, budget, n_in=n_in, depth=depth)
    b = max(2, int(round(b_multiple * P)))
    data_sets = {s: memorisation_set(1000 * s + 17, b, n_in, time) for s in seed_list}
    x = jnp.stack([data_sets[s].inputs[:, 0] for _, s in grid])
    y = jnp.stack([data_sets[s].targets[:, -1] for _, s in grid])
    params = stack_init(lambda s: init_stack(s, cell, n_in, width, depth, 2, nonlinearity=nonlinearity),
                        [s for _, s in grid])
    loss_fn, eval_fn = _fns(cell, nonlinearity, int(batch_size), b, int(time))
    t0 = perf_counter()
    out = train_members(params, (x, y), hps, loss_fn, steps=steps, seed=int(seed_list[0]), chunk=chunk)
    ev = evaluate_members(out["params"], (x, y), hps, eval_fn)
    runs = []
    for i, (lr, s) in enumerate(grid):
        acc = float(ev["accuracy"][i])
        runs.append({"learning_rate": lr, "seed": s, "accuracy": acc, "loss": float(ev["loss"][i]),
                     "bits": float(stored_bits(b, acc)), "diverged": bool(out["diverged"][i])})
    return {"cell": cell, "depth": int(depth), "budget": int(budget), "width": int(width), "num_params": int(P),
            "n_in": int(n_in), "b": int(b), "b_multiple": float(b_multiple), "runs": runs,
            "train_seconds": perf_counter() - t0}


def bits_points(cells: Sequence[str], budgets: Sequence[int], b_multiples: Sequence[float], *,
                depth_of: dict | None = None, **training: Any) -> list[dict]:
    """The sweep grid for [`bits_point`][tnrnn.capacity.bits.bits_point], validated before anything runs.

    ``depth_of`` maps a cell to its depth (default 1, and 2 for ``plusrnn``, which needs a layer below).

    Examples
    --------
    >>> pts = bits_points(["rnn", "plusrnn"], [500], [1, 2], steps=10)
    >>> [(p["cell"], p["depth"], p["b_multiple"]) for p in pts]
    [('rnn', 1, 1.0), ('rnn', 1, 2.0), ('plusrnn', 2, 1.0), ('plusrnn', 2, 2.0)]
    """
    if not cells or not budgets or not b_multiples:
        raise TnrnnError("the bits study needs at least one cell, one budget and one b multiple")
    depth_of = depth_of or {}
    points = []
    for cell, budget, mult in itertools.product(cells, budgets, b_multiples):
        cell = check_cell(cell)
        depth = int(depth_of.get(cell, 2 if cell == "plusrnn" else 1))
        n_in = int(training.get("n_in", 16))
        _, P = size_of(cell, int(budget), n_in=n_in, depth=depth)
        if not (float(mult) > 0):
            raise TnrnnError(f"b multiples must be positive, got {mult}")
        b = max(2, int(round(float(mult) * P)))
        if b > 2**n_in:  # the check bits_point makes, here before any point runs (a misuse, not a failed point)
            raise TnrnnError(f"budget {budget} with b multiple {mult} needs b = {b} samples, more than the "
                             f"{2 ** n_in} distinct binary inputs of dimension {n_in}; lower the budget or raise "
                             "--n-in")
        points.append({"cell": cell, "budget": int(budget), "b_multiple": float(mult), "depth": depth, **training})
    return points


def fit_slope(num_params: Sequence[float], capacity: Sequence[float]) -> float | None:
    """Least-squares slope of ``log capacity`` against ``log num_params`` (None with fewer than 2 usable sizes).

    Examples
    --------
    >>> round(fit_slope([100, 1000, 10000], [300, 3000, 30000]), 6)
    1.0
    """
    pts = [(math.log(p), math.log(c)) for p, c in zip(num_params, capacity) if p > 0 and c and c > 0]
    if len({p for p, _ in pts}) < 2:
        return None
    xs, ys = np.array(pts).T
    return float(np.polyfit(xs, ys, 1)[0])


def next_multiple(multiple: float) -> float:
    """The next ``b`` multiple of the adaptive search: 25 % larger, rounded up to a whole number.

    Examples
    --------
    >>> [next_multiple(m) for m in (8, 10, 13)]
    [10.0, 13.0, 17.0]
    """
    return float(math.ceil(multiple * 1.25 - 1e-9))


def search_status(curve: Sequence[tuple[float, float]], base: Sequence[float], *, num_params: int,
                  n_in: int) -> tuple[float | None, str]:
    """Where the adaptive ``b`` search of one (cell, size) stands: ``(next multiple or None, reason)``.

    Parameters
    ----------
    curve : sequence of (b_multiple, stored bits)
        Finished multiples with their best seed-mean stored bits, any order.
    base : sequence of float
        The preset grid, run in full first.
    num_params, n_in : int
        ``b`` may not exceed the ``2 ** n_in`` distinct inputs.

    Returns
    -------
    next_multiple : float or None
        The multiple to run next, or None when the search is over (or waits for the base grid).
    reason : str

    Examples
    --------
    >>> search_status([(2, 100), (4, 180), (8, 200)], [2, 4, 8], num_params=50, n_in=16)
    (10.0, 'stored bits still rising at b = 8P')
    >>> search_status([(2, 100), (4, 180), (8, 200), (10, 190)], [2, 4, 8], num_params=50, n_in=16)[1]
    'stored bits fell from 200 at b = 8P to 190 at b = 10P'
    """
    done = dict(sorted((float(m), float(v)) for m, v in curve))
    missing = [m for m in base if float(m) not in done]
    if missing:
        return None, "base grid unfinished (b = " + ", ".join(f"{m:g}P" for m in missing) + " missing)"
    ms = list(done)
    if len(ms) >= 2 and done[ms[-1]] <= done[ms[-2]]:
        return None, (f"stored bits fell from {done[ms[-2]]:.4g} at b = {ms[-2]:g}P to {done[ms[-1]]:.4g} "
                      f"at b = {ms[-1]:g}P")
    nxt = next_multiple(ms[-1])
    if round(nxt * num_params) > 2**n_in:
        return None, f"b = {nxt:g}P would exceed the {2 ** n_in} distinct inputs of dimension {n_in}"
    return nxt, f"stored bits still rising at b = {ms[-1]:g}P"


def lower_multiple(curve: Sequence[tuple[float, float]], base: Sequence[float]) -> float | None:
    """A smaller ``b`` multiple to run when the stored bits peak at the smallest one searched (else None).

    The upward search brackets the capacity from above; this brackets it from below, so that the reported
    maximum has a smaller stored-bits value on each side (or sits at ``b = P``). It waits for the base grid.

    Parameters
    ----------
    curve : sequence of (b_multiple, stored bits)
    base : sequence of float

    Returns
    -------
    float or None
        ``floor(smallest / 1.25)``, if at least 1 and the peak is at the smallest searched multiple.

    Examples
    --------
    >>> lower_multiple([(4, 600), (6, 530), (8, 510)], [4, 6, 8])
    3.0
    >>> lower_multiple([(3, 580), (4, 600), (6, 530)], [4, 6]) is None
    True
    """
    done = dict(sorted((float(m), float(v)) for m, v in curve))
    if not done or any(float(m) not in done for m in base):
        return None
    smallest = next(iter(done))
    if max(done, key=lambda m: done[m]) != smallest:
        return None
    lower = float(math.floor(smallest / 1.25 + 1e-9))
    return lower if lower >= 1 and lower not in done else None


def _size_groups(records: list[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        if r.get("status") == "ok" and r.get("result"):
            res = r["result"]
            groups.setdefault((res["cell"], res["depth"], res["budget"]), []).append(res)
    return groups


def _best_by_multiple(results: list[dict]) -> list[dict]:
    """Per finished ``b`` multiple, the learning rate with the highest seed-mean stored bits."""
    rows = []
    for res in results:
        entries = [{"b_multiple": res["b_multiple"], "b": res["b"], "learning_rate": lr,
                    "mean_bits": float(np.mean([r["bits"] for r in runs])),
                    "mean_accuracy": float(np.mean([r["accuracy"] for r in runs])),
                    "seed_bits": [r["bits"] for r in runs], "diverged": sum(r["diverged"] for r in runs)}
                   for lr, runs in runs_by_learning_rate(res["runs"]).items()]
        rows.append(max(entries, key=lambda e: e["mean_bits"]))  # the first of equal means, as before
    return sorted(rows, key=lambda e: e["b_multiple"])


def summarize_bits(records: list[dict], training: dict) -> dict:
    """Capacity per (cell, size), bits per parameter, the search curve and the fitted log-log slope per cell.

    Parameters
    ----------
    records : list of dict
        Sweep records of [`bits_point`][tnrnn.capacity.bits.bits_point] (``tnrnn.sweep.run_sweep`` output).
    training : dict
        The study config (grid and training budget); attached as ``training``. Its ``b_multiples`` and
        ``n_in`` give each search's stop reason.

    Returns
    -------
    dict
        ``sizes``: one entry per (cell, budget) with ``capacity_bits`` (max over b and lr of the seed-mean I),
        ``bits_per_param``, the best ``b_multiple`` and ``learning_rate``, ``seed_bits`` at the best setting,
        ``max_single_run_bits``, ``search`` (best stored bits per searched multiple), ``stop_reason`` and
        ``peak_inside`` (the maximum lies strictly between the smallest and the largest searched b: the capacity
        is bracketed); ``slopes`` per cell; ``errors``;
        ``training`` (with ``total_point_seconds``).
    """
    errors = [{"params": r["params"], "error": r.get("error")} for r in records if r.get("status") != "ok"]
    base = [float(m) for m in training.get("b_multiples", [])]
    sizes = []
    for (cell, depth, budget), results in sorted(_size_groups(records).items(),
                                                 key=lambda kv: (_order(kv[0][0]), kv[0][1], kv[0][2])):
        search = _best_by_multiple(results)
        best = max(search, key=lambda e: e["mean_bits"])
        P = results[0]["num_params"]
        _, reason = search_status([(e["b_multiple"], e["mean_bits"]) for e in search], base or
                                  [search[0]["b_multiple"]], num_params=P, n_in=int(results[0].get("n_in", 16)))
        sizes.append({"cell": cell, "depth": depth, "budget": budget, "width": results[0]["width"],
                      "num_params": P, "capacity_bits": best["mean_bits"], "bits_per_param": best["mean_bits"] / P,
                      "best_b_multiple": best["b_multiple"], "best_learning_rate": best["learning_rate"],
                      "best_accuracy": best["mean_accuracy"], "seed_bits": best["seed_bits"],
                      "max_single_run_bits": max(max(r["bits"] for r in res["runs"]) for res in results),
                      "b_multiples_searched": [e["b_multiple"] for e in search],
                      "search": [{k: e[k] for k in ("b_multiple", "b", "learning_rate", "mean_bits", "seed_bits")}
                                 for e in search],
                      "stop_reason": reason,
                      "peak_inside": search[0]["b_multiple"] < best["b_multiple"] < search[-1]["b_multiple"]})
    slopes = {}
    for cell in dict.fromkeys(s["cell"] for s in sizes):
        rows = [s for s in sizes if s["cell"] == cell]
        slopes[cell] = fit_slope([s["num_params"] for s in rows], [s["capacity_bits"] for s in rows])
    seconds = sum(float(r.get("seconds") or 0.0) for r in records)
    return {"study": "bits_per_parameter", "sizes": sizes, "slopes": slopes, "errors": errors,
            "training": {**training, "total_point_seconds": seconds}}


def _order(cell: str) -> int:
    return CELLS.index(cell) if cell in CELLS else len(CELLS)


def _grid_points(config: dict, records: list[dict]) -> list[dict]:
    """The base grid, plus each size's finished extensions, the next larger b while its stored bits rise, and a
    smaller b while they peak at the smallest one searched.
    """
    training = {k: v for k, v in config.items() if k not in _GRID_KEYS}
    points = bits_points(config["cells"], config["budgets"], config["b_multiples"], **training)
    if not config.get("adaptive"):
        return points
    base = [float(m) for m in config["b_multiples"]]
    groups = _size_groups(records)
    extra = []
    for first in {(p["cell"], p["depth"], p["budget"]): p for p in points}.values():
        results = groups.get((first["cell"], first["depth"], first["budget"]), [])
        search = _best_by_multiple(results)
        ext = sorted({e["b_multiple"] for e in search} - set(base))
        if search:
            curve = [(e["b_multiple"], e["mean_bits"]) for e in search]
            nxt, _ = search_status(curve, base, num_params=results[0]["num_params"], n_in=int(config.get("n_in", 16)))
            ext += [m for m in (lower_multiple(curve, base), nxt) if m is not None]
        extra += [{**first, "b_multiple": float(m)} for m in ext]
    return points + extra


_GRID_KEYS = ("cells", "budgets", "b_multiples", "adaptive")


class BitsStudy(Study):
    """Bits per parameter with the adaptive ``b`` search (``tnrnn capacity bits``)."""

    name = "bits"
    help = "bits per parameter on the memorisation task (b searched until stored bits fall)"
    description = ("Memorise b random binary labels; stored bits I = b(1 - H2(p)); capacity = max over b and the "
                   "learning rates; b grows past the preset grid while the stored bits still rise.")
    point_task = POINT_TASK
    presets = BITS
    options = (
        Option("--cells", "cells", "cells", "comma-separated cells (+RNN runs at depth 2)"),
        Option("--budgets", "budgets", "int_list", "parameter budgets, e.g. 250,1000"),
        Option("--b-multiples", "b_multiples", "float_list", "samples per parameter searched first"),
        Option("--lrs", "learning_rates", "float_list", "learning-rate grid (trained together)"),
        Option("--seeds", "seeds", "seed_list", "seeds (data set and initialisation)"),
        Option("--steps", "steps", "int", "Adam steps per point"),
        Option("--batch-size", "batch_size", "int", "minibatch size (the whole set when >= b)"),
        Option("--n-in", "n_in", "int", "input dimension"),
    )

    def points(self, config: dict, records: list[dict]) -> list[dict]:
        """See [`tnrnn.capacity.study.Study.points`][tnrnn.capacity.study.Study.points]."""
        return _grid_points(config, records)

    def summary(self, records: list[dict], config: dict) -> dict:
        """See [`tnrnn.capacity.study.Study.summary`][tnrnn.capacity.study.Study.summary]."""
        return summarize_bits(records, {**config, "optimizer": "adam (cosine to 0.1 lr)", "clip_norm": 10.0})

    def table(self, summary: dict) -> list[dict]:
        """See [`tnrnn.capacity.study.Study.table`][tnrnn.capacity.study.Study.table]."""
        keys = ("cell", "depth", "num_params", "capacity_bits", "bits_per_param", "best_b_multiple",
                "best_learning_rate", "peak_inside", "stop_reason")
        return [{k: s[k] for k in keys} for s in summary["sizes"]]

    def plot(self, summary: dict, path: str | os.PathLike) -> Path:
        """See [`tnrnn.capacity.study.Study.plot`][tnrnn.capacity.study.Study.plot]."""
        from tnrnn.capacity.plots import plot_bits

        return plot_bits(summary, path)
