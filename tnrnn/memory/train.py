"""Training loop: optax optimiser + clipping + schedule, jitted in chunks of steps with ``lax.scan``.

[`train`][tnrnn.memory.train.train] is model-agnostic: it takes initial parameters, a ``loss_fn(params, batch) -> (loss, aux)``
and a ``sample_batch(key, batch_size) -> batch`` (both jittable), and runs ``config.steps`` optimiser steps.
Steps run in chunks of ``config.eval_every`` inside one jitted ``lax.scan`` (one compilation per chunk
length, so at most two per run); after each chunk the model is evaluated on a held-out batch, the progress
bar (stderr) is updated, and, if ``checkpoint`` is given, the state is written there atomically.

Resuming is exact: the batch of step ``s`` is drawn from ``fold_in(train_key, s)``, so a run interrupted
after a checkpoint and resumed reproduces the uninterrupted run. A chunk whose loss is not finite stops the
run and marks it ``diverged`` (the last finite parameters are kept).

With ``plateau_patience`` set, [`train`][tnrnn.memory.train.train] follows the authors' protocol ([`tnrnn.memory.protocol`][tnrnn.memory.protocol]):
the learning rate is multiplied by ``plateau_factor`` when the held-out loss stops improving for that many
checks, the run stops at the ``max_plateaus``-th plateau, and with ``restore_best`` the parameters of the best
held-out loss are returned.

Shared API (also used by [`tnrnn.capacity`][tnrnn.capacity]): [`make_optimizer`][tnrnn.memory.optim.make_optimizer] (pure optax, vmappable: clipping,
Adam or RMSProp on [`learning_rate_schedule`][tnrnn.memory.optim.learning_rate_schedule], then a learning-rate factor that [`scale_learning_rate`][tnrnn.memory.optim.scale_learning_rate]
changes in the state), [`make_train_chunk`][tnrnn.memory.train.make_train_chunk] (the jitted ``lax.scan`` of steps) and [`train`][tnrnn.memory.train.train].
[`tnrnn.memory.fit.train_task`][tnrnn.memory.fit.train_task] wires a cell stack to a task.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from tnrnn.base.checkpoint import load_checkpoint, save_checkpoint
from tnrnn.base.errors import TnrnnError
from tnrnn.memory.optim import (
    OPTIMIZERS,
    SCHEDULES,
    TrainConfig,
    learning_rate_factor,
    learning_rate_schedule,
    make_optimizer,
    scale_learning_rate,
)
from tnrnn.memory.protocol import Plateau

__all__ = ["OPTIMIZERS", "SCHEDULES", "TrainConfig", "TrainResult", "learning_rate_factor", "learning_rate_schedule",
           "load_checkpoint", "make_optimizer", "make_train_chunk", "save_checkpoint", "scale_learning_rate", "train"]

_CHECKPOINT_FORMAT = "tnrnn-train-checkpoint/1"


@dataclass
class TrainResult:
    """Outcome of [`train`][tnrnn.memory.train.train].

    Attributes
    ----------
    params : pytree
        Final parameters (the last finite ones if the run diverged).
    history : list of dict
        One entry per chunk: ``step``, ``lr``, ``train_loss`` and the other train metrics (chunk means),
        ``eval_*`` metrics on the held-out batch, ``seconds`` since the start of this process's run.
    final : dict
        Held-out metrics of the final parameters.
    steps_done : int
    diverged : bool
    resumed_from : int
        Step the run was resumed from (0 for a fresh run).
    seconds : float
        Wall time spent in this call (compilation included).
    steps_per_second : float
        Training steps per second in this call, compilation of the first chunk excluded.
    best_step : int
        Step of the best held-out loss (-1 when not tracked); the returned parameters with ``restore_best``.
    stopped_early : bool
        The protocol stopped the run at its last plateau.
    plateaus : int
        Plateaus met (learning-rate decays, plus the stopping one).
    """

    params: Any
    history: list
    final: dict
    steps_done: int
    diverged: bool = False
    resumed_from: int = 0
    seconds: float = 0.0
    steps_per_second: float = float("nan")
    best_step: int = -1
    stopped_early: bool = False
    plateaus: int = 0
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """Everything but the parameters, JSON-ready."""
        return {
            "steps_done": self.steps_done,
            "diverged": self.diverged,
            "resumed_from": self.resumed_from,
            "seconds": self.seconds,
            "steps_per_second": self.steps_per_second if np.isfinite(self.steps_per_second) else None,
            "best_step": self.best_step,
            "stopped_early": self.stopped_early,
            "plateaus": self.plateaus,
            "final": self.final,
            "history": self.history,
            **self.extra,
        }


# ------------------------------------------------------------------------------------------------ loop


_CACHE: dict = {}
_CACHE_SIZE = 32


def _fn_key(fn: Callable):
    """Cache key of a callable: a bound method by (instance, function), since bound methods compare their
    instance by identity; equal tasks (frozen dataclasses) made anew for each run then share compiled code.
    """
    inst, func = getattr(fn, "__self__", None), getattr(fn, "__func__", None)
    return (inst, func) if inst is not None and func is not None else fn


def _cached(key, build: Callable):
    """Memoise a jitted function (jax caches compilations per function object, so reuse the object)."""
    try:
        hit = _CACHE.get(key)
    except TypeError:  # an unhashable callable: no caching
        return build()
    if hit is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        hit = _CACHE[key] = build()
    return hit


def make_train_chunk(loss_fn: Callable, sample_batch: Callable, config: TrainConfig) -> Callable:
    """The jitted training chunk [`train`][tnrnn.memory.train.train] runs (cached per arguments, the seed aside).

    ``run_chunk(params, opt_state, train_key, steps) -> ((params, opt_state), metrics)`` runs one optimiser
    step per entry of the int array ``steps`` inside one ``lax.scan``; the batch of step ``s`` is
    ``sample_batch(fold_in(train_key, s), config.batch_size)``. ``opt_state`` comes from
    ``make_optimizer(config).init(params)``; ``metrics`` holds per-step ``loss``, ``grad_norm`` and the aux.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> cfg = TrainConfig(learning_rate=0.1)
    >>> run = make_train_chunk(lambda p, b: (jnp.mean((p - b) ** 2), {}), lambda k, n: jnp.ones(n), cfg)
    >>> (p, o), m = run(jnp.zeros(()), make_optimizer(cfg).init(jnp.zeros(())), jax.random.PRNGKey(0),
    ...                 jnp.arange(3))
    >>> m["loss"].shape
    (3,)
    """

    def build():
        tx = make_optimizer(config)
        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
        batch_size = config.batch_size

        def run_chunk(p, o, train_key, steps):
            def body(state, step):
                p, o = state
                batch = sample_batch(jax.random.fold_in(train_key, step), batch_size)
                (loss, aux), grads = grad_fn(p, batch)
                updates, o = tx.update(grads, o, p)
                p = optax.apply_updates(p, updates)
                return (p, o), {"loss": loss, "grad_norm": optax.tree.norm(grads), **aux}

            return jax.lax.scan(body, (p, o), steps)

        return jax.jit(run_chunk)

    key = ("chunk", _fn_key(loss_fn), _fn_key(sample_batch), TrainConfig.from_dict({**config.to_json(), "seed": 0}))
    return _cached(key, build)


def _run_identity(loss_fn: Callable, sample_batch: Callable, config: TrainConfig) -> dict:
    """What a checkpoint must match to be resumed: the config and, when known, the task and the model.

    Parameter shapes alone do not tell runs apart (Start-End Similarity at T = 20 and T = 40, or tanh and
    ReLU cells, have the same shapes), and resuming another run's state would silently mix the two.
    """
    task = getattr(getattr(sample_batch, "__self__", None), "describe", None)
    run = {"config": config.to_json(), "task": task() if callable(task) else None,
           "model": getattr(loss_fn, "model", None)}
    return json.loads(json.dumps(run))  # as a checkpoint stores it


def _loss_metrics(loss_fn: Callable, params, batch) -> dict:
    loss, aux = loss_fn(params, batch)
    return {"loss": loss, **aux}


def _mean_metrics(tree: dict) -> dict:
    return {k: float(np.mean(np.asarray(v))) for k, v in tree.items()}


@dataclass
class _Loop:
    """Mutable state of one [`train`][tnrnn.memory.train.train] call between chunks."""

    params: Any
    opt_state: Any
    plateau: Plateau
    best_params: Any
    step: int = 0
    history: list = field(default_factory=list)
    diverged: bool = False
    stopped: bool = False
    last_eval: dict | None = None
    best_eval: dict | None = None

    def meta(self, run: dict) -> dict:
        return {"step": self.step, "history": self.history, "diverged": self.diverged, "stopped": self.stopped,
                "plateau": self.plateau.to_json() | {"best": _finite_or_none(self.plateau.best)},
                "best_eval": self.best_eval, **run}


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _start(params, tx, config: TrainConfig, checkpoint, run: dict) -> _Loop:
    """A fresh loop state, or the one stored in ``checkpoint`` (checked to belong to the same run)."""
    plateau = Plateau(config.plateau_patience or 2**62, config.max_plateaus)  # no patience: never a plateau
    st = _Loop(params, tx.init(params), plateau, params)
    if checkpoint is None or not Path(checkpoint).exists():
        return st
    # the identity is required (a checkpoint without one is refused) and may extend a finished run's steps
    (params, best), opt_state, meta = load_checkpoint(checkpoint, (params, params), st.opt_state, identity=run)
    st.params, st.best_params, st.opt_state = params, best, opt_state
    st.step, st.history = int(meta["step"]), list(meta.get("history", []))
    st.diverged, st.stopped = bool(meta.get("diverged")), bool(meta.get("stopped"))
    if meta.get("plateau"):
        st.plateau = Plateau.from_json(meta["plateau"])
    st.best_eval = meta.get("best_eval")
    return st


def _evaluator(loss_fn: Callable, sample_batch: Callable, config: TrainConfig, eval_fn, eval_batch, eval_key):
    """``evaluate(params) -> dict`` of held-out metrics on the fixed held-out batch."""
    if eval_fn is None:
        eval_jit = _cached(("eval-loss", _fn_key(loss_fn)), lambda: jax.jit(partial(_loss_metrics, loss_fn)))
    else:
        eval_jit = _cached(("eval", _fn_key(eval_fn)), lambda: jax.jit(eval_fn))
    if eval_batch is None:
        sample_jit = _cached(("sample", _fn_key(sample_batch)), lambda: jax.jit(sample_batch, static_argnums=1))
        eval_batch = sample_jit(eval_key, config.eval_batch_size)
    return lambda params: _mean_metrics(jax.device_get(eval_jit(params, eval_batch)))


def _apply_protocol(st: _Loop, entry: dict, config: TrainConfig) -> None:
    """Plateau bookkeeping after a check: remember the best parameters, decay the rate or stop."""
    assert st.last_eval is not None
    action = st.plateau.update(st.last_eval.get("loss", float("nan")), st.step)
    entry["plateau"] = action
    if action == "improved":
        st.best_params, st.best_eval = st.params, dict(st.last_eval)
    elif action == "decay":
        st.opt_state = scale_learning_rate(st.opt_state, config.plateau_factor)
    elif action == "stop":
        st.stopped = True


def _advance(st: _Loop, run_chunk: Callable, train_key, n: int, evaluate: Callable, sched, config) -> float:
    """Run one chunk of ``n`` steps, evaluate, apply the protocol and append a history entry; return its
    wall time.
    """
    t0 = time.perf_counter()
    (new_p, new_o), metrics = run_chunk(st.params, st.opt_state, train_key, jnp.arange(st.step, st.step + n))
    train_metrics = _mean_metrics(jax.device_get(metrics))
    dt = time.perf_counter() - t0
    if not np.isfinite(train_metrics["loss"]):
        st.diverged = True
    else:
        st.params, st.opt_state = new_p, new_o
        st.step += n
    entry = {"step": st.step, "lr": float(sched(max(st.step - 1, 0))) * learning_rate_factor(st.opt_state)}
    entry.update({f"train_{k}": v for k, v in train_metrics.items()})
    if not st.diverged:
        st.last_eval = evaluate(st.params)
        entry.update({f"eval_{k}": v for k, v in st.last_eval.items()})
        _apply_protocol(st, entry, config)
    entry["diverged"] = st.diverged
    st.history.append(entry)
    return dt


def _show(bar, st: _Loop, n: int) -> None:
    bar.update(0 if st.diverged else n)
    shown = {k: st.history[-1][k] for k in ("train_loss", "eval_accuracy") if k in st.history[-1]}
    bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()}, refresh=False)


def train(params, loss_fn: Callable, sample_batch: Callable, config: TrainConfig, *, eval_fn: Callable | None = None,
          eval_batch=None, checkpoint: str | os.PathLike | None = None, progress: bool = True, desc: str = "train",
          until: int | None = None) -> TrainResult:
    """Train ``params`` to minimise ``loss_fn`` on batches from ``sample_batch``.

    Parameters
    ----------
    params : pytree
        Initial parameters (a shape template when resuming from ``checkpoint``).
    loss_fn : callable
        ``loss_fn(params, batch) -> (loss, aux)``, ``aux`` a dict of scalar metrics; jittable.
    sample_batch : callable
        ``sample_batch(key, batch_size) -> batch``; jittable with ``batch_size`` static (it may ignore the key
        and return a fixed data set).
    config : TrainConfig
    eval_fn : callable, optional
        ``eval_fn(params, batch) -> dict`` of held-out metrics (with ``loss`` for the protocol); default:
        ``loss`` and the aux of ``loss_fn``.
    eval_batch : pytree, optional
        Fixed held-out (validation) batch; default: ``config.eval_batch_size`` sequences at a key disjoint
        from the training keys.
    checkpoint : path, optional
        ``.npz`` file, resumed if it exists, rewritten after every chunk.
    progress, desc
        A tqdm progress bar on stderr and its label.
    until : int, optional
        Stop after this many steps in all, leaving the rest for a later call resumed from ``checkpoint``.

    Returns
    -------
    TrainResult

    Raises
    ------
    TnrnnError
        A ``config`` that is not a [`TrainConfig`][tnrnn.memory.optim.TrainConfig]; a checkpoint of another run.

    Examples
    --------
    >>> loss = lambda p, b: (jnp.mean((p["w"] * b - 2.0 * b) ** 2), {})
    >>> sample = lambda key, n: jax.random.normal(key, (n,))
    >>> res = train({"w": jnp.zeros(())}, loss, sample, TrainConfig(steps=200, eval_every=100,
    ...             learning_rate=0.05), progress=False)
    >>> round(float(res.params["w"]), 2), res.final["loss"] < 1e-4
    (2.0, True)
    """
    from tqdm.auto import tqdm

    if not isinstance(config, TrainConfig):
        raise TnrnnError("config must be a TrainConfig")
    t_start, sched = time.perf_counter(), learning_rate_schedule(config)
    root = jax.random.PRNGKey(config.seed)
    train_key, eval_key = jax.random.fold_in(root, 0), jax.random.fold_in(root, 1)
    run = _run_identity(loss_fn, sample_batch, config)
    st = _start(params, make_optimizer(config), config, checkpoint, run)
    resumed_from = st.step
    evaluate = _evaluator(loss_fn, sample_batch, config, eval_fn, eval_batch, eval_key)
    run_chunk = make_train_chunk(loss_fn, sample_batch, config)
    bar = tqdm(total=config.steps, initial=min(st.step, config.steps), desc=desc, disable=not progress,
               file=sys.stderr, leave=False, dynamic_ncols=True)
    timed_steps, timed_seconds, first_chunk = 0, 0.0, True
    stop = config.steps if until is None else min(config.steps, until)
    try:
        while st.step < stop and not st.diverged and not st.stopped:
            n = min(config.eval_every, stop - st.step)
            dt = _advance(st, run_chunk, train_key, n, evaluate, sched, config)
            st.history[-1]["seconds"] = time.perf_counter() - t_start
            # the first chunk includes compilation
            timed_steps, timed_seconds = (0, 0.0) if first_chunk else (timed_steps + n, timed_seconds + dt)
            first_chunk = False
            if checkpoint is not None:
                save_checkpoint(checkpoint, (st.params, st.best_params), st.opt_state, st.meta(run))
            _show(bar, st, n)
    finally:
        bar.close()
    return _result(st, config, evaluate, resumed_from, time.perf_counter() - t_start,
                   (timed_steps / timed_seconds) if timed_seconds > 0 else float("nan"))


def _result(st: _Loop, config: TrainConfig, evaluate: Callable, resumed_from: int, seconds: float,
            steps_per_second: float) -> TrainResult:
    """The [`TrainResult`][tnrnn.memory.train.TrainResult] of a finished loop: the best-validation parameters with ``restore_best``."""
    use_best = config.restore_best and st.best_eval is not None
    final = st.best_eval if use_best else (st.last_eval if st.last_eval is not None else evaluate(st.params))
    return TrainResult(
        params=st.best_params if use_best else st.params, history=st.history, final=dict(final or {}),
        steps_done=st.step, diverged=st.diverged, resumed_from=resumed_from, seconds=seconds,
        steps_per_second=steps_per_second, best_step=st.plateau.best_step, stopped_early=st.stopped,
        plateaus=st.plateau.plateaus,
    )
