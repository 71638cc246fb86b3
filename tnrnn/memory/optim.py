"""Optimiser settings of one training run: [`TrainConfig`][tnrnn.memory.optim.TrainConfig], the optax schedule and optimiser.

[`make_optimizer`][tnrnn.memory.optim.make_optimizer] is pure optax (clipping, Adam or RMSProp, then a learning-rate factor held in the
state), so it works under ``jax.vmap``; [`scale_learning_rate`][tnrnn.memory.optim.scale_learning_rate] changes the factor between jitted chunks
(the plateau decay of [`tnrnn.memory.protocol`][tnrnn.memory.protocol]) without recompiling anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import jax
import jax.numpy as jnp  # noqa: F401  (doctests)
import numpy as np
import optax

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int

OPTIMIZERS = ("adam", "rmsprop")
SCHEDULES = ("constant", "cosine", "warmup_cosine", "exponential")

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
    plateau_patience : int or None
        Evaluation checks without improvement of the held-out loss that make a plateau (None: no plateau
        logic). At a plateau the learning rate is multiplied by ``plateau_factor``.
    plateau_factor : float
    max_plateaus : int
        The run stops at this plateau (the authors': 2).
    restore_best : bool
        Return the parameters (and held-out metrics) of the best held-out loss rather than the last ones.
    test_batch_size : int
        Size of a separate fixed test set that callers such as [`tnrnn.memory.fit.train_task`][tnrnn.memory.fit.train_task] evaluate
        once at the end (0: none).
    recurrent_learning_rate, recurrent_clip : float or None
        The scoRNN's skew parameters (every leaf named ``A``) train with their own RMSProp at this rate, their
        gradients clipped elementwise at ``recurrent_clip``, and are decayed by the plateau factor with the
        main rate (the authors' scoRNN). None: they train with the main optimiser. Models without such
        leaves are unaffected.

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
    plateau_patience: int | None = None
    plateau_factor: float = 0.1
    max_plateaus: int = 2
    restore_best: bool = False
    test_batch_size: int = 0
    recurrent_learning_rate: float | None = 1e-4
    recurrent_clip: float | None = 10.0

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
        check_positive_int("test_batch_size", self.test_batch_size, minimum=0)
        check_positive_int("max_plateaus", self.max_plateaus)
        if self.plateau_patience is not None:
            check_positive_int("plateau_patience", self.plateau_patience)
        if not 0 < self.plateau_factor <= 1:
            raise TnrnnError(f"plateau_factor must be in (0, 1], got {self.plateau_factor}")
        for name in ("recurrent_learning_rate", "recurrent_clip"):
            value = getattr(self, name)
            if value is not None and not (value > 0 and np.isfinite(value)):
                raise TnrnnError(f"{name} must be a positive number or None, got {value}")

    def to_json(self) -> dict:
        """The settings as a JSON-ready dict."""
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
    """Gradient clipping (if any), Adam or RMSProp on [`learning_rate_schedule`][tnrnn.memory.optim.learning_rate_schedule], then a learning-rate
    factor (initially 1) held in the optimiser state, which [`scale_learning_rate`][tnrnn.memory.optim.scale_learning_rate] changes.

    Pure optax, so it works under ``jax.vmap`` (one state per vmapped member).

    Examples
    --------
    >>> tx = make_optimizer(TrainConfig(optimizer="rmsprop", clip_norm=None))
    >>> updates, _ = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.zeros(2)}))
    >>> bool((updates["w"] < 0).all())
    True
    """
    sched = learning_rate_schedule(config)
    # decay 0.9 is the authors' RMSProp (and TensorFlow's default)
    opt = optax.adam(sched) if config.optimizer == "adam" else optax.rmsprop(sched, decay=0.9, eps=1e-6)
    main = optax.chain(optax.clip_by_global_norm(config.clip_norm), opt) if config.clip_norm is not None else opt
    if config.recurrent_learning_rate is not None:
        recurrent = optax.rmsprop(config.recurrent_learning_rate, decay=0.9, eps=1e-6)
        if config.recurrent_clip is not None:
            recurrent = optax.chain(optax.clip(config.recurrent_clip), recurrent)
        main = optax.multi_transform({"main": main, "recurrent": recurrent}, _recurrent_labels)
    # the plateau factor scales both groups: the authors decay the skew parameters with the main rate
    return optax.chain(main, optax.inject_hyperparams(optax.scale)(step_size=1.0))


def _recurrent_labels(params):
    """``"recurrent"`` for every leaf stored under the key ``A`` (the scoRNN's skew entries), else ``"main"``."""
    def label(path, _leaf):
        return "recurrent" if any(getattr(k, "key", None) == "A" for k in path) else "main"

    return jax.tree_util.tree_map_with_path(label, params)


def learning_rate_factor(opt_state) -> float:
    """The plateau factor currently applied on top of the schedule (1 until a plateau).

    Examples
    --------
    >>> tx = make_optimizer(TrainConfig())
    >>> round(learning_rate_factor(scale_learning_rate(tx.init({"w": jnp.zeros(2)}), 0.1)), 6)  # float32 or 64
    0.1
    """
    return round(float(opt_state[-1].hyperparams["step_size"]), 12)


def scale_learning_rate(opt_state, factor: float):
    """The optimiser state of [`make_optimizer`][tnrnn.memory.optim.make_optimizer] with its learning-rate factor multiplied by ``factor``."""
    last = opt_state[-1]
    hyper = dict(last.hyperparams)
    hyper["step_size"] = hyper["step_size"] * factor
    return (*opt_state[:-1], last._replace(hyperparams=hyper))
