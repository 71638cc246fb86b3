"""Training loop: optax optimiser + clipping + schedule, jitted in chunks of steps with ``lax.scan``.

:func:`train` is model-agnostic: it takes initial parameters, a ``loss_fn(params, batch) -> (loss, aux)``
and a ``sample_batch(key, batch_size) -> batch`` (both jittable), and runs ``config.steps`` optimiser steps.
Steps run in chunks of ``config.eval_every`` inside one jitted ``lax.scan`` (one compilation per chunk
length, so at most two per run); after each chunk the model is evaluated on a held-out batch, the progress
bar (stderr) is updated, and, if ``checkpoint`` is given, the state is written there atomically.

Resuming is exact: the batch of step ``s`` is drawn from ``fold_in(train_key, s)``, so a run interrupted
after a checkpoint and resumed reproduces the uninterrupted run. A chunk whose loss is not finite stops the
run and marks it ``diverged`` (the last finite parameters are kept).

:func:`train_task` wires a cell stack (:mod:`tnrnn.memory.cells`) to a task (:mod:`tnrnn.memory.tasks`)
with the masked cross-entropy of :func:`sequence_loss`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from tnrnn.base.checkpoint import load_checkpoint, save_checkpoint
from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int

OPTIMIZERS = ("adam", "rmsprop")
SCHEDULES = ("constant", "cosine", "warmup_cosine", "exponential")

_CHECKPOINT_FORMAT = "tnrnn-train-checkpoint/1"


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run.

    Parameters
    ----------
    optimizer : {"adam", "rmsprop"}
    learning_rate : float
        Peak learning rate.
    clip_norm : float or None
        Clip gradients to this global norm (None: no clipping).
    schedule : {"constant", "cosine", "warmup_cosine", "exponential"}
        ``cosine`` decays to ``final_lr_fraction * learning_rate`` over the run, ``warmup_cosine`` first
        rises linearly for ``warmup_steps``, ``exponential`` decays geometrically to the same end value.
    warmup_steps : int
    final_lr_fraction : float
    steps : int
        Total optimiser steps.
    batch_size : int
    eval_every : int
        Steps per jitted chunk; evaluation, progress and checkpoints happen between chunks.
    eval_batch_size : int
        Size of the held-out evaluation batch.
    seed : int
        Seeds the training batches and the held-out batch (the parameters are seeded by the caller).

    Examples
    --------
    >>> TrainConfig(steps=200, eval_every=50).learning_rate
    0.001
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    clip_norm: float | None = 1.0
    schedule: str = "constant"
    warmup_steps: int = 0
    final_lr_fraction: float = 0.1
    steps: int = 1000
    batch_size: int = 64
    eval_every: int = 100
    eval_batch_size: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise TnrnnError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise TnrnnError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if not (self.learning_rate > 0 and np.isfinite(self.learning_rate)):
            raise TnrnnError(f"learning_rate must be a positive number, got {self.learning_rate}")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise TnrnnError(f"clip_norm must be positive or None, got {self.clip_norm}")
        if not 0 < self.final_lr_fraction <= 1:
            raise TnrnnError(f"final_lr_fraction must be in (0, 1], got {self.final_lr_fraction}")
        for name in ("steps", "batch_size", "eval_every", "eval_batch_size"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("warmup_steps", self.warmup_steps, minimum=0)
        check_positive_int("seed", self.seed, minimum=0)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Build from a dict, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def learning_rate_schedule(config: TrainConfig) -> optax.Schedule:
    """The optax schedule described by ``config`` (step -> learning rate).

    Examples
    --------
    >>> s = learning_rate_schedule(TrainConfig(schedule="cosine", steps=100, learning_rate=1.0))
    >>> float(s(0)), round(float(s(100)), 3)
    (1.0, 0.1)
    """
    lr, steps, end = config.learning_rate, config.steps, config.learning_rate * config.final_lr_fraction
    if config.schedule == "constant":
        return optax.constant_schedule(lr)
    if config.schedule == "cosine":
        return optax.cosine_decay_schedule(lr, decay_steps=steps, alpha=config.final_lr_fraction)
    if config.schedule == "warmup_cosine":
        warm = min(config.warmup_steps, steps - 1)
        return optax.warmup_cosine_decay_schedule(0.0, lr, warmup_steps=warm, decay_steps=steps, end_value=end)
    return optax.exponential_decay(lr, transition_steps=steps, decay_rate=config.final_lr_fraction)


def make_optimizer(config: TrainConfig) -> optax.GradientTransformation:
    """Gradient clipping (if any) followed by Adam or RMSProp on :func:`learning_rate_schedule`.

    Examples
    --------
    >>> tx = make_optimizer(TrainConfig(optimizer="rmsprop", clip_norm=None))
    >>> updates, _ = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.zeros(2)}))
    >>> bool((updates["w"] < 0).all())
    True
    """
    sched = learning_rate_schedule(config)
    opt = optax.adam(sched) if config.optimizer == "adam" else optax.rmsprop(sched, decay=0.9, eps=1e-6)
    if config.clip_norm is None:
        return opt
    return optax.chain(optax.clip_by_global_norm(config.clip_norm), opt)


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

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
    """

    params: Any
    history: list
    final: dict
    steps_done: int
    diverged: bool = False
    resumed_from: int = 0
    seconds: float = 0.0
    steps_per_second: float = float("nan")
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """Everything but the parameters, JSON-ready."""
        return {
            "steps_done": self.steps_done,
            "diverged": self.diverged,
            "resumed_from": self.resumed_from,
            "seconds": self.seconds,
            "steps_per_second": self.steps_per_second,
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
    """The jitted training chunk :func:`train` runs (cached per arguments, the seed aside).

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


def _check_same_run(path, meta: dict, run: dict) -> None:
    diffs = []
    for part, now in run.items():
        then = meta.get(part)  # absent: an older checkpoint that did not record it
        if then is None or now is None or then == now:
            continue
        if isinstance(then, dict) and isinstance(now, dict):
            diffs += [f"{k} {then.get(k)!r} -> {now.get(k)!r}" for k in sorted(set(then) | set(now))
                      if then.get(k) != now.get(k)]
        else:
            diffs.append(f"{part} {then!r} -> {now!r}")
    if diffs:
        raise TnrnnError(f"checkpoint {path} belongs to another run ({'; '.join(diffs)}); resume with the same "
                         "settings, or choose a new checkpoint path")


def _loss_metrics(loss_fn: Callable, params, batch) -> dict:
    loss, aux = loss_fn(params, batch)
    return {"loss": loss, **aux}


def _mean_metrics(tree: dict) -> dict:
    return {k: float(np.mean(np.asarray(v))) for k, v in tree.items()}


def train(
    params,
    loss_fn: Callable,
    sample_batch: Callable,
    config: TrainConfig,
    *,
    eval_fn: Callable | None = None,
    eval_batch=None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    desc: str = "train",
    until: int | None = None,
) -> TrainResult:
    """Train ``params`` to minimise ``loss_fn`` on batches from ``sample_batch``.

    Parameters
    ----------
    params : pytree
        Initial parameters (ignored when resuming from ``checkpoint``, except as a shape template).
    loss_fn : callable
        ``loss_fn(params, batch) -> (loss, aux)``, ``aux`` a dict of scalar metrics; jittable.
    sample_batch : callable
        ``sample_batch(key, batch_size) -> batch``; jittable with ``batch_size`` static. For a fixed data set
        (memorisation) it may ignore the key and return the whole set or a key-chosen subset.
    config : TrainConfig
    eval_fn : callable, optional
        ``eval_fn(params, batch) -> dict`` of held-out metrics; default: ``loss`` and the aux of ``loss_fn``.
    eval_batch : pytree, optional
        Held-out batch; default ``sample_batch`` at a key disjoint from the training keys, of size
        ``config.eval_batch_size``.
    checkpoint : path, optional
        ``.npz`` file; if it exists the run resumes from it, and it is rewritten after every chunk.
    progress : bool
        Show a tqdm progress bar on stderr.
    until : int, optional
        Stop after this many steps in all (at a chunk boundary), leaving the rest of ``config.steps`` for a
        later call that resumes from ``checkpoint``: a run can be done in slices with the same compiled code.

    Returns
    -------
    TrainResult

    Notes
    -----
    The jitted chunk is cached per ``(loss_fn, sample_batch, config without its seed)``, so repeated runs of
    one model and task (seeds, slices, resumes) compile once per process.

    Examples
    --------
    >>> import jax.numpy as jnp
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
    t_start = time.perf_counter()
    tx = make_optimizer(config)
    sched = learning_rate_schedule(config)
    opt_state = tx.init(params)
    root = jax.random.PRNGKey(config.seed)
    train_key, eval_key = jax.random.fold_in(root, 0), jax.random.fold_in(root, 1)

    history: list[dict] = []
    step0, diverged = 0, False
    run = _run_identity(loss_fn, sample_batch, config)
    if checkpoint is not None and Path(checkpoint).exists():
        params, opt_state, meta = load_checkpoint(checkpoint, params, opt_state)
        _check_same_run(checkpoint, meta, run)
        step0, history, diverged = int(meta["step"]), list(meta.get("history", [])), bool(meta.get("diverged"))
    resumed_from = step0

    if eval_fn is None:
        eval_jit = _cached(("eval-loss", _fn_key(loss_fn)), lambda: jax.jit(partial(_loss_metrics, loss_fn)))
    else:
        eval_jit = _cached(("eval", _fn_key(eval_fn)), lambda: jax.jit(eval_fn))
    if eval_batch is None:
        sample_jit = _cached(("sample", _fn_key(sample_batch)), lambda: jax.jit(sample_batch, static_argnums=1))
        eval_batch = sample_jit(eval_key, config.eval_batch_size)

    run_chunk = make_train_chunk(loss_fn, sample_batch, config)

    bar = tqdm(total=config.steps, initial=min(step0, config.steps), desc=desc, disable=not progress,
               file=sys.stderr, leave=False, dynamic_ncols=True)
    step = step0
    timed_steps, timed_seconds, first_chunk = 0, 0.0, True
    last_eval = None  # held-out metrics of the current params, once a chunk has computed them
    try:
        stop = config.steps if until is None else min(config.steps, until)
        while step < stop and not diverged:
            n = min(config.eval_every, stop - step)
            t0 = time.perf_counter()
            (new_p, new_o), metrics = run_chunk(params, opt_state, train_key, jnp.arange(step, step + n))
            train_metrics = _mean_metrics(jax.device_get(metrics))
            dt = time.perf_counter() - t0
            if not first_chunk:
                timed_steps, timed_seconds = timed_steps + n, timed_seconds + dt
            first_chunk = False
            if not np.isfinite(train_metrics["loss"]):
                diverged = True
            else:
                params, opt_state = new_p, new_o
                step += n
            entry = {"step": step, "lr": float(sched(max(step - 1, 0)))}
            entry.update({f"train_{k}": v for k, v in train_metrics.items()})
            if not diverged:
                last_eval = _mean_metrics(jax.device_get(eval_jit(params, eval_batch)))
                entry.update({f"eval_{k}": v for k, v in last_eval.items()})
            entry["seconds"] = time.perf_counter() - t_start
            entry["diverged"] = diverged
            history.append(entry)
            if checkpoint is not None:
                save_checkpoint(checkpoint, params, opt_state,
                                {"step": step, "history": history, "diverged": diverged, **run})
            bar.update(n if not diverged else 0)
            shown = {k: entry[k] for k in ("train_loss", "eval_accuracy") if k in entry}
            bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()}, refresh=False)
    finally:
        bar.close()
    final = last_eval if last_eval is not None else _mean_metrics(jax.device_get(eval_jit(params, eval_batch)))
    return TrainResult(
        params=params,
        history=history,
        final=final,
        steps_done=step,
        diverged=diverged,
        resumed_from=resumed_from,
        seconds=time.perf_counter() - t_start,
        steps_per_second=(timed_steps / timed_seconds) if timed_seconds > 0 else float("nan"),
    )


# ------------------------------------------------------------------------------------- cells on tasks


def sequence_loss(logits, targets, mask):
    """Masked mean cross-entropy and accuracy over the scored steps.

    Parameters
    ----------
    logits : (B, T, K) array
    targets : (B, T) int array
    mask : (B, T) array, 1 at scored steps

    Returns
    -------
    loss : scalar
    metrics : dict with ``accuracy``

    Examples
    --------
    >>> logits = jnp.array([[[0.0, 5.0], [5.0, 0.0]]])
    >>> loss, m = sequence_loss(logits, jnp.array([[1, 1]]), jnp.array([[1.0, 0.0]]))
    >>> float(m["accuracy"]), round(float(loss), 4)
    (1.0, 0.0067)
    """
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
    total = jnp.maximum(jnp.sum(mask), 1.0)
    loss = jnp.sum(ce * mask) / total
    acc = jnp.sum((jnp.argmax(logits, axis=-1) == targets) * mask) / total
    return loss, {"accuracy": acc}


def make_task_loss(cell: str, *, nonlinearity: str = "tanh", forget_bias: float = 1.0) -> Callable:
    """``loss_fn(params, batch)`` for a cell stack on a :class:`~tnrnn.memory.tasks.TaskBatch`.

    The same arguments return the same function object, so :func:`train` reuses its compiled code.

    Examples
    --------
    >>> loss_fn = make_task_loss("rnn")
    >>> loss_fn is make_task_loss("RNN"), loss_fn.model["nonlinearity"]
    (True, 'tanh')
    """
    from tnrnn.memory.cells import check_cell

    return _task_loss(check_cell(cell), nonlinearity, float(forget_bias))


@lru_cache(maxsize=64)
def _task_loss(cell: str, nonlinearity: str, forget_bias: float) -> Callable:
    from tnrnn.memory.cells import apply_stack

    def loss_fn(params, batch):
        logits = apply_stack(params, batch.inputs, cell=cell, nonlinearity=nonlinearity, forget_bias=forget_bias)
        return sequence_loss(logits, batch.targets, batch.mask)

    loss_fn.model = {"cell": cell, "nonlinearity": nonlinearity, "forget_bias": forget_bias}  # checkpoint identity
    return loss_fn


def training_memory_bytes(task, cell: str, depth: int, width: int, config: TrainConfig) -> int:
    """Rough peak memory of :func:`train_task`, estimated before anything is allocated.

    Parameters, gradients and the two Adam moments (4 float32 copies), plus the activations the backward
    pass keeps for a training batch (every step of every layer: the input projection, the gates and the
    state) and the forward pass over the held-out batch (one layer at a time); one-hot inputs included.

    Examples
    --------
    >>> from tnrnn.memory.tasks import StartEndSimilarity
    >>> training_memory_bytes(StartEndSimilarity(time=40), "gru", 2, 64, TrainConfig()) < 2**30
    True
    """
    from tnrnn.memory.cells import GATES, check_cell, num_params

    cell = check_cell(cell)
    n_in, n_out, T, G = task.n_in, task.n_out, task.time, GATES[cell]
    params = num_params(cell, n_in, width, depth, n_out)
    train_act = T * config.batch_size * (n_in + n_out + depth * width * (G + 3))
    eval_act = T * config.eval_batch_size * (n_in + n_out + width * (G + 2))
    return 4 * (4 * params + train_act + eval_act)


def check_training_memory(task, cell: str, depth: int, width: int, config: TrainConfig) -> int:
    """Raise :class:`~tnrnn.base.errors.ResourceError` when :func:`training_memory_bytes` exceeds the memory
    budget (``$TNRNN_MAX_BYTES``, default 4 GiB); return the estimate otherwise.

    Examples
    --------
    >>> from tnrnn.memory.tasks import StartEndSimilarity
    >>> check_training_memory(StartEndSimilarity(time=10**6), "gru", 1, 64, TrainConfig())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.ResourceError: training gru L=1 R=64 at T=1000000 (batch 64, held-out batch 512) needs about ...
    """
    from tnrnn.base.budget import default_budget_bytes
    from tnrnn.base.errors import ResourceError, human_bytes

    need = training_memory_bytes(task, cell, depth, width, config)
    budget = default_budget_bytes()
    if need > budget:
        raise ResourceError(
            f"training {cell} L={depth} R={width} at T={task.time} (batch {config.batch_size}, held-out batch "
            f"{config.eval_batch_size}) needs about {human_bytes(need)} (budget {human_bytes(budget)}, "
            "$TNRNN_MAX_BYTES); use a shorter T, smaller batches (--batch-size, --eval-batch-size) or a smaller "
            "width"
        )
    return need


def train_task(
    task,
    cell: str,
    depth: int,
    width: int,
    config: TrainConfig,
    *,
    nonlinearity: str = "tanh",
    forget_bias: float = 1.0,
    init_seed: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    until: int | None = None,
) -> TrainResult:
    """Train a ``depth``-layer stack of ``cell`` of width ``width`` on ``task``.

    The parameters are seeded by ``init_seed`` (default ``config.seed``). The result's ``extra`` records the
    cell, depth, width, parameter count, task description and chance accuracy.

    Examples
    --------
    >>> from tnrnn.memory.tasks import StartEndSimilarity
    >>> res = train_task(StartEndSimilarity(time=6, alphabet=2, compare=2), "gru", 1, 4,
    ...                  TrainConfig(steps=4, eval_every=2, batch_size=8, eval_batch_size=8), progress=False)
    >>> res.steps_done, res.extra["num_params"]
    (4, 103)
    """
    from tnrnn.memory.cells import init_stack, num_params

    check_training_memory(task, cell, depth, width, config)
    params = init_stack(config.seed if init_seed is None else init_seed, cell, task.n_in, width, depth, task.n_out,
                        nonlinearity=nonlinearity, forget_bias=forget_bias)
    loss_fn = make_task_loss(cell, nonlinearity=nonlinearity, forget_bias=forget_bias)
    result = train(params, loss_fn, task.sample, config, checkpoint=checkpoint, progress=progress,
                   desc=f"{cell} L={depth} R={width}", until=until)
    result.extra = {
        "cell": cell,
        "depth": depth,
        "width": width,
        "nonlinearity": nonlinearity,
        "forget_bias": forget_bias,
        "num_params": num_params(cell, task.n_in, width, depth, task.n_out),
        "task": task.describe(),
        "chance": task.chance,
        "config": config.to_json(),
    }
    return result
