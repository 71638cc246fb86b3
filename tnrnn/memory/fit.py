"""A cell stack trained on a memory task: loss, memory estimate, fixed validation and test sets, and the
per-class report ([`train_task`][tnrnn.memory.fit.train_task]).

The validation set (``config.eval_batch_size`` sequences) and the test set (``config.test_batch_size``) are
drawn once from keys derived from ``config.seed`` and disjoint from the training keys; the validation set
drives the protocol (plateaus, early stop, best parameters) and the test set is evaluated once, at the end,
on the reported parameters.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import optax

from tnrnn.base.budget import default_budget_bytes
from tnrnn.base.errors import ResourceError, human_bytes
from tnrnn.base.machine import machine_provenance
from tnrnn.memory.cells import GATES, apply_stack, check_cell, init_stack, num_params
from tnrnn.memory.train import TrainConfig, TrainResult, train


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
    """``loss_fn(params, batch)`` for a cell stack on a [`TaskBatch`][tnrnn.memory.tasks.TaskBatch].

    The same arguments return the same function object, so [`train`][tnrnn.memory.train.train] reuses its compiled code.

    Examples
    --------
    >>> loss_fn = make_task_loss("rnn")
    >>> loss_fn is make_task_loss("RNN"), loss_fn.model["nonlinearity"]
    (True, 'tanh')
    """
    return _task_loss(check_cell(cell), nonlinearity, float(forget_bias))


@lru_cache(maxsize=64)
def _task_loss(cell: str, nonlinearity: str, forget_bias: float) -> Callable:
    def loss_fn(params, batch):
        logits = apply_stack(params, batch.inputs, cell=cell, nonlinearity=nonlinearity, forget_bias=forget_bias,
                             key=batch.key)
        return sequence_loss(logits, batch.targets, batch.mask)

    # the checkpoint identity of the model
    loss_fn.model = {"cell": cell, "nonlinearity": nonlinearity, "forget_bias": forget_bias}  # type: ignore[attr-defined]
    return loss_fn


def training_memory_bytes(task, cell: str, depth: int, width: int, config: TrainConfig) -> int:
    """Rough peak memory of [`train_task`][tnrnn.memory.fit.train_task], estimated before anything is allocated.

    Parameters, gradients and the two Adam moments (4 float32 copies), plus the activations the backward
    pass keeps for a training batch (every step of every layer: the input projection, the gates and the
    state; the GRU projects inside its scan, but the backward pass keeps each step's projection just the same)
    and the forward pass over the larger of the validation and test sets (one layer at a time);
    one-hot inputs included.

    Examples
    --------
    >>> from tnrnn.memory.tasks import StartEndSimilarity
    >>> training_memory_bytes(StartEndSimilarity(time=80), "gru", 2, 64, TrainConfig()) < 2**30
    True
    """
    cell = check_cell(cell)
    n_in, n_out, T, G = task.n_in, task.n_out, task.time, GATES[cell]
    params = num_params(cell, n_in, width, depth, n_out)
    train_act = T * config.batch_size * (n_in + n_out + depth * width * (G + 3))
    eval_act = T * max(config.eval_batch_size, config.test_batch_size) * (n_in + n_out + width * (G + 2))
    return 4 * (4 * params + train_act + eval_act)


def check_training_memory(task, cell: str, depth: int, width: int, config: TrainConfig) -> int:
    """Raise [`ResourceError`][tnrnn.base.errors.ResourceError] when [`training_memory_bytes`][tnrnn.memory.fit.training_memory_bytes] exceeds the memory
    budget (``$TNRNN_MAX_BYTES``, default 4 GiB); return the estimate otherwise.

    Examples
    --------
    >>> from tnrnn.memory.tasks import StartEndSimilarity
    >>> check_training_memory(StartEndSimilarity(time=10**6), "gru", 1, 64, TrainConfig())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.ResourceError: training gru L=1 R=64 at T=1000000 (batch 64, held-out batch 512) needs about ...
    """
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


def class_report(task, logits, batch) -> dict:
    """Accuracy overall and per class on the scored steps of ``batch``, chance, and for Start-End Similarity
    the accuracy on the "no agreement" and "half agreement" examples together.

    The last one matters because a network that only detects identical words scores 2/3 overall without
    remembering anything else, but chance (1/3) on those two classes.

    Parameters
    ----------
    task : a task of [`tnrnn.memory.tasks`][tnrnn.memory.tasks]
    logits : array (B, T, n_out)
    batch : TaskBatch

    Returns
    -------
    dict
        ``accuracy``, ``loss``, ``per_class`` ({class label: accuracy or None when absent}), ``class_counts``,
        ``chance`` and, for the SES tasks, ``no_vs_half_accuracy``.

    Examples
    --------
    >>> from tnrnn.memory.tasks import StartEndSimilarity
    >>> task = StartEndSimilarity(time=8, symbols=3, span=2)
    >>> b = task.sample(0, 6)
    >>> logits = 5.0 * jax.nn.one_hot(jnp.full((6, 8), 2), 3)   # always "all agree"
    >>> r = class_report(task, logits, b)
    >>> r["per_class"], round(r["accuracy"], 3), r["no_vs_half_accuracy"]
    ({'0/2': 0.0, '1/2': 0.0, '2/2': 1.0}, 0.333, 0.0)
    """
    mask = np.asarray(batch.mask) > 0
    targets = np.asarray(batch.targets)[mask]
    pred = np.asarray(jnp.argmax(logits, axis=-1))[mask]
    ce = np.asarray(optax.softmax_cross_entropy_with_integer_labels(logits, batch.targets))[mask]
    k = task.n_out
    counts = np.bincount(targets, minlength=k)
    correct = np.bincount(targets[pred == targets], minlength=k)
    labels = task.class_labels
    report = {
        "accuracy": float((pred == targets).mean()),
        "loss": float(ce.mean()),
        "per_class": {labels[c]: (float(correct[c] / counts[c]) if counts[c] else None) for c in range(k)},
        "class_counts": {labels[c]: int(counts[c]) for c in range(k)},
        "chance": task.chance,
    }
    if task.name.startswith("ses"):
        report["no_vs_half_accuracy"] = float(correct[:2].sum() / max(counts[:2].sum(), 1))
    return report


def fixed_sets(task, config: TrainConfig):
    """The fixed validation and test batches of a run (keys disjoint from the training keys).

    Examples
    --------
    >>> from tnrnn.memory.tasks import StartEndSimilarity
    >>> val, test = fixed_sets(StartEndSimilarity(time=8, symbols=3, span=2),
    ...                        TrainConfig(eval_batch_size=6, test_batch_size=9))
    >>> val.inputs.shape[0], test.inputs.shape[0]
    (6, 9)
    """
    root = jax.random.PRNGKey(config.seed)
    val = task.sample(jax.random.fold_in(root, 1), config.eval_batch_size)  # train() draws its own eval here too
    test = task.sample(jax.random.fold_in(root, 2), config.test_batch_size) if config.test_batch_size else None
    return val, test


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

    Parameters
    ----------
    task : a task of [`tnrnn.memory.tasks`][tnrnn.memory.tasks]
    cell : str
    depth, width : int
    config : TrainConfig
        With ``test_batch_size > 0`` a fixed test set is evaluated on the reported parameters.
    nonlinearity, forget_bias
        Passed to [`tnrnn.memory.cells.apply_stack`][tnrnn.memory.cells.apply_stack].
    init_seed : int, optional
        Seeds the parameters (default ``config.seed``).
    checkpoint, progress, until
        As in [`tnrnn.memory.train.train`][tnrnn.memory.train.train].

    Returns
    -------
    TrainResult
        Its ``extra`` records the cell, depth, width, parameter count, task, chance, the validation report
        (``validation``) and, with a test set, the test report (``test``), both from [`class_report`][tnrnn.memory.fit.class_report],
        and ``machine`` ([`tnrnn.base.machine.machine_provenance`][tnrnn.base.machine.machine_provenance]: CPU,
        accelerator, XLA flags, jax versions), because float training is not bit-reproducible across machines.

    Raises
    ------
    ResourceError
        When [`training_memory_bytes`][tnrnn.memory.fit.training_memory_bytes] exceeds the memory budget (checked before anything is allocated).

    Examples
    --------
    >>> from tnrnn.memory.tasks import StartEndSimilarity
    >>> res = train_task(StartEndSimilarity(time=6, symbols=2, span=2), "gru", 1, 4,
    ...                  TrainConfig(steps=4, eval_every=2, batch_size=8, eval_batch_size=8, test_batch_size=9),
    ...                  progress=False)
    >>> res.steps_done, res.extra["num_params"], res.extra["test"]["class_counts"]["0/2"]
    (4, 115, 3)
    >>> res.extra["machine"]["backend"] in ("cpu", "gpu", "tpu", "cuda", "rocm"), "xla_flags" in res.extra["machine"]
    (True, True)
    """
    cell = check_cell(cell)
    check_training_memory(task, cell, depth, width, config)
    params = init_stack(config.seed if init_seed is None else init_seed, cell, task.n_in, width, depth, task.n_out,
                        nonlinearity=nonlinearity, forget_bias=forget_bias)
    loss_fn = make_task_loss(cell, nonlinearity=nonlinearity, forget_bias=forget_bias)
    val, test = fixed_sets(task, config)
    result = train(params, loss_fn, task.sample, config, eval_batch=val, checkpoint=checkpoint, progress=progress,
                   desc=f"{cell} L={depth} R={width}", until=until)
    forward = _forward(cell, nonlinearity, float(forget_bias))
    result.extra = {
        "cell": cell, "depth": depth, "width": width, "nonlinearity": nonlinearity, "forget_bias": forget_bias,
        "num_params": num_params(cell, task.n_in, width, depth, task.n_out), "task": task.describe(),
        "chance": task.chance, "config": config.to_json(),
        "validation": class_report(task, forward(result.params, val.inputs), val),
        "machine": machine_provenance(),  # where the floats came from: runs differ across machines
    }
    if test is not None:
        result.extra["test"] = class_report(task, forward(result.params, test.inputs), test)
    return result


@lru_cache(maxsize=64)
def _forward(cell: str, nonlinearity: str, forget_bias: float) -> Callable:
    return jax.jit(lambda params, xs: apply_stack(params, xs, cell=cell, nonlinearity=nonlinearity,
                                                  forget_bias=forget_bias))
