"""Train many same-shaped models in one jitted program: ``vmap`` over members, ``lax.scan`` over steps.

The capacity studies train the same architecture for several seeds and settings (learning rate, clipping,
forget bias, initial scale). When the shapes agree these are one computation: [`train_members`][tnrnn.capacity.vtrain.train_members] stacks
the members on a leading axis and runs them at once, so a grid of ``M`` members compiles once and runs as
one batched program instead of ``M`` small ones (``benchmarks/bench_capacity.py`` measures the gain).

The optimiser is the package's one optimiser construction, [`tnrnn.memory.train.make_optimizer`][tnrnn.memory.optim.make_optimizer]
(Adam or RMSProp on [`tnrnn.memory.train.learning_rate_schedule`][tnrnn.memory.optim.learning_rate_schedule]), built once at peak learning rate 1
and wrapped as ``optax.chain(optax.clip_by_global_norm(clip), optimizer, optax.scale(lr))`` inside
``optax.inject_hyperparams``: each member's ``lr`` and ``clip`` live in its own optimiser state (vmapped),
so they are data, not constants. Every schedule of the package is linear in its peak learning rate, so
scaling the unit-rate update by ``lr`` is the update of ``make_optimizer`` at rate ``lr`` (a test checks
this against [`tnrnn.memory.train.make_optimizer`][tnrnn.memory.optim.make_optimizer] step by step).

A member whose loss or gradient stops being finite goes back to the parameters of the step before (the last
whose loss was finite), stays there and is marked ``diverged``; the other members go on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.memory.train import TrainConfig, make_optimizer


def member_optimizer(optimizer: str = "adam", *, steps: int, schedule: str = "cosine",
                     final_lr_fraction: float = 0.1) -> Callable[..., optax.GradientTransformation]:
    """The per-member optimiser factory: ``factory(learning_rate=lr, clip_norm=c)`` (values may be traced).

    Parameters
    ----------
    optimizer : {"adam", "rmsprop"}
    steps : int
        Length of the schedule.
    schedule : str
        A schedule of [`tnrnn.memory.train.learning_rate_schedule`][tnrnn.memory.optim.learning_rate_schedule].
    final_lr_fraction : float
        End of the decay, as a fraction of the peak learning rate.

    Returns
    -------
    callable
        ``optax.inject_hyperparams`` factory; the learning rate and clip norm end up in the optimiser state.

    Raises
    ------
    TnrnnError
        An unknown optimizer or schedule, or bad numbers (checked by [`tnrnn.memory.train.TrainConfig`][tnrnn.memory.optim.TrainConfig]).

    Examples
    --------
    >>> tx = member_optimizer("adam", steps=10)(learning_rate=0.1, clip_norm=1.0)
    >>> state = tx.init({"w": jnp.zeros(2)})
    >>> round(float(state.hyperparams["learning_rate"]), 6)
    0.1
    """
    # Every parameter follows the member's rate here (the grid varies it), so the scoRNN's separate skew
    # optimiser of the memory studies is off: scaling the unit update by lr would scale its rate too.
    unit = make_optimizer(TrainConfig(optimizer=optimizer, learning_rate=1.0, clip_norm=None, schedule=schedule,
                                      steps=steps, final_lr_fraction=final_lr_fraction,
                                      recurrent_learning_rate=None))

    def factory(learning_rate, clip_norm):
        return optax.chain(optax.clip_by_global_norm(clip_norm), unit, optax.scale(learning_rate))

    return optax.inject_hyperparams(factory)


@lru_cache(maxsize=32)
def _build_chunk(loss_fn: Callable, optimizer: str, steps_total: int, schedule: str, final_fraction: float):
    """The jitted chunk of steps for one loss and optimiser (cached: repeated points reuse the compilation)."""
    # The update reads lr and clip from each member's state; the values given here are placeholders.
    tx = member_optimizer(optimizer, steps=steps_total, schedule=schedule,
                          final_lr_fraction=final_fraction)(learning_rate=1.0, clip_norm=1.0)
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def member_step(params, opt_state, prev, diverged, data, hp, key, step):
        # prev holds the parameters of the previous step, whose loss was finite: a member whose loss (or
        # gradient) stops being finite goes back to them and stays there.
        (loss, _aux), grads = grad_fn(params, data, hp, jax.random.fold_in(key, step))
        gnorm = optax.tree.norm(grads)
        updates, new_state = tx.update(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        ok = jnp.isfinite(loss) & jnp.isfinite(gnorm) & ~diverged
        pick = lambda a, b: jax.tree_util.tree_map(lambda x, y: jnp.where(ok, x, y), a, b)  # noqa: E731
        first_failure = ~ok & ~diverged
        frozen = jax.tree_util.tree_map(lambda x, y: jnp.where(first_failure, x, y), prev, params)
        return pick(new_params, frozen), pick(new_state, opt_state), pick(params, frozen), diverged | ~ok, loss

    def chunk(params, opt_state, prev, diverged, data, hps, keys, steps):
        def body(state, step):
            p, o, q, d = state
            p, o, q, d, loss = jax.vmap(member_step, in_axes=(0, 0, 0, 0, 0, 0, 0, None))(
                p, o, q, d, data, hps, keys, step)
            return (p, o, q, d), loss

        (p, o, q, d), losses = jax.lax.scan(body, (params, opt_state, prev, diverged), steps)
        return p, o, q, d, losses

    return jax.jit(chunk)


@lru_cache(maxsize=32)
def _build_eval(eval_fn: Callable):
    return jax.jit(jax.vmap(eval_fn, in_axes=(0, 0, 0)))


def _check_hps(hps: dict) -> tuple[dict, int]:
    if "lr" not in hps or "clip" not in hps:
        raise TnrnnError("hps must contain per-member 'lr' and 'clip'")
    arrays = {k: np.asarray(v, np.float64) for k, v in hps.items()}
    M = int(arrays["lr"].shape[0]) if arrays["lr"].ndim == 1 else -1
    if M < 1 or any(v.shape != (M,) for v in arrays.values()):
        raise TnrnnError(f"every hyperparameter must be a non-empty list of one value per member, got shapes "
                         f"{ {k: v.shape for k, v in arrays.items()} }")
    if not all(np.isfinite(v).all() for v in arrays.values()):
        raise TnrnnError("hyperparameters must be finite numbers")
    if (arrays["lr"] <= 0).any() or (arrays["clip"] <= 0).any():
        raise TnrnnError("learning rates and clip norms must be positive")
    return {k: jnp.asarray(v, jnp.float32) for k, v in arrays.items()}, M


def train_members(
    params,
    data,
    hps: dict,
    loss_fn: Callable,
    *,
    steps: int,
    seed: int = 0,
    chunk: int = 250,
    optimizer: str = "adam",
    schedule: str = "cosine",
    final_lr_fraction: float = 0.1,
    progress: bool = False,
    desc: str = "train",
) -> dict:
    """Train ``M`` models stacked on a leading axis, each with its own data and hyperparameters.

    Parameters
    ----------
    params : pytree
        Initial parameters, every leaf with leading axis ``M`` (e.g. [`stack_init`][tnrnn.capacity.vtrain.stack_init]).
    data : pytree or None
        Per-member data with leading axis ``M`` (e.g. a fixed memorisation set per seed); passed to
        ``loss_fn``. ``None`` for tasks that draw fresh batches from the key.
    hps : dict of sequences (M,)
        Per-member hyperparameters; must contain ``lr`` and ``clip`` (used by the optimiser) and may hold
        anything ``loss_fn`` reads (``forget_bias`` ...).
    loss_fn : callable
        ``loss_fn(params, data, hp, key) -> (loss, aux)`` for one member; jittable and hashable (it keys the
        compilation cache). ``key`` differs per member and step, for drawing minibatches.
    steps : int
        Optimiser steps.
    seed : int
        Root of the per-member keys (member ``m`` uses ``fold_in(PRNGKey(seed), m)``).
    chunk : int
        Steps per jitted call (progress is updated between calls).
    optimizer, schedule, final_lr_fraction
        The optimiser of [`member_optimizer`][tnrnn.capacity.vtrain.member_optimizer] (default Adam on a cosine decay to 0.1 of each rate).
    progress : bool
        Show a tqdm bar on stderr.
    desc : str
        Label of the progress bar.

    Returns
    -------
    dict
        ``params`` (trained, leading axis M), ``diverged`` (bool array M), ``loss_curve`` (chunk-mean loss per
        member, shape (chunks, M)), ``seconds`` (wall time, compilation included).

    Raises
    ------
    TnrnnError
        Missing ``lr``/``clip``, hyperparameters of different lengths, non-positive rates or clip norms.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> loss = lambda p, d, hp, k: (jnp.mean((p["w"] - d) ** 2), {})
    >>> out = train_members({"w": jnp.zeros((2, 3))}, jnp.array([[1.0] * 3, [-2.0] * 3]),
    ...                     {"lr": [0.1, 0.1], "clip": [10.0, 10.0]}, loss, steps=300, chunk=100)
    >>> [round(float(v), 1) for v in out["params"]["w"][:, 0]]
    [1.0, -2.0]
    """
    steps = check_positive_int("steps", steps)
    chunk = check_positive_int("chunk", chunk)
    hps, M = _check_hps(hps)
    t0 = time.perf_counter()
    run = _build_chunk(loss_fn, optimizer, steps, schedule, float(final_lr_fraction))
    factory = member_optimizer(optimizer, steps=steps, schedule=schedule, final_lr_fraction=final_lr_fraction)
    opt_state = jax.vmap(lambda p, lr, c: factory(learning_rate=lr, clip_norm=c).init(p))(
        params, hps["lr"], hps["clip"])
    root = jax.random.PRNGKey(seed)
    keys = jax.vmap(lambda m: jax.random.fold_in(root, m))(jnp.arange(M))
    state = (params, opt_state, params, jnp.zeros((M,), bool))  # params, optimiser, previous params, diverged
    state, curve = _run_chunks(lambda st, s: run(*st, data, hps, keys, s), state, steps, chunk, progress, desc)
    return {"params": state[0], "diverged": np.asarray(state[3]), "loss_curve": np.stack(curve),
            "seconds": time.perf_counter() - t0}


def _run_chunks(run: Callable, state, steps: int, chunk: int, progress: bool, desc: str):
    """Call ``run(state, step_indices)`` chunk by chunk with a progress bar; collect per-chunk mean losses."""
    from tqdm.auto import tqdm

    curve = []
    bar = tqdm(total=steps, desc=desc, disable=not progress, file=sys.stderr, leave=False, dynamic_ncols=True)
    try:
        done = 0
        while done < steps:
            n = min(chunk, steps - done)
            *new, losses = run(state, jnp.arange(done, done + n))
            state = tuple(new)
            curve.append(_finite_mean(np.asarray(losses)))
            done += n
            bar.update(n)
    finally:
        bar.close()
    return state, curve


def _finite_mean(losses: np.ndarray) -> np.ndarray:
    """Per-member mean over the finite losses of a chunk (NaN for a member with none)."""
    ok = np.isfinite(losses)
    total = np.where(ok, losses, 0.0).sum(axis=0)
    count = ok.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def evaluate_members(params, data, hps: dict, eval_fn: Callable) -> dict:
    """``eval_fn(params, data, hp) -> dict`` for every member at once; returns numpy arrays (M,).

    Parameters
    ----------
    params, data : pytrees with leading axis M
    hps : dict of sequences (M,)
    eval_fn : callable
        Jittable and hashable.

    Returns
    -------
    dict of numpy.ndarray

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> ev = lambda p, d, hp: {"err": jnp.mean((p["w"] - d) ** 2)}
    >>> evaluate_members({"w": jnp.zeros((2, 1))}, jnp.array([[1.0], [2.0]]), {"lr": jnp.ones(2)}, ev)["err"]
    array([1., 4.], dtype=float32)
    """
    arrays = {k: jnp.asarray(v, jnp.float32) for k, v in hps.items()}
    return {k: np.asarray(v) for k, v in _build_eval(eval_fn)(params, data, arrays).items()}


def stack_init(init_fn: Callable, seeds) -> Any:
    """Initial parameters of several members: ``init_fn(seed)`` stacked on a leading axis.

    Parameters
    ----------
    init_fn : callable
        ``init_fn(seed) -> pytree``.
    seeds : iterable of int

    Returns
    -------
    pytree
        Every leaf stacked on a new leading axis.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> stack_init(lambda s: {"w": jnp.full((2,), float(s))}, [0, 3])["w"].tolist()
    [[0.0, 0.0], [3.0, 3.0]]
    """
    members = [init_fn(int(s)) for s in seeds]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *members)


def lr_seed_members(learning_rates, seeds, *, clip_norm: float, forget_bias: float, what: str):
    """The members of a (learning rate x seed) grid: ``(grid, hps)`` for [`train_members`][tnrnn.capacity.vtrain.train_members].

    Parameters
    ----------
    learning_rates, seeds : sequences
    clip_norm, forget_bias : float
        The same for every member.
    what : str
        Names the caller in the error raised for an empty grid.

    Returns
    -------
    grid : list of (lr, seed) in member order
    hps : dict with per-member ``lr``, ``clip`` and ``forget_bias``

    Raises
    ------
    TnrnnError
        An empty learning-rate or seed list.

    Examples
    --------
    >>> grid, hps = lr_seed_members([1e-3, 1e-2], [0, 1], clip_norm=1.0, forget_bias=1.0, what="demo")
    >>> grid[1], hps["lr"]
    ((0.001, 1), [0.001, 0.001, 0.01, 0.01])
    """
    lrs, seed_list = [float(x) for x in learning_rates], [int(s) for s in seeds]
    if not lrs or not seed_list:
        raise TnrnnError(f"{what} needs at least one learning rate and one seed")
    grid = [(lr, s) for lr in lrs for s in seed_list]
    n = len(grid)
    return grid, {"lr": [lr for lr, _ in grid], "clip": [clip_norm] * n, "forget_bias": [forget_bias] * n}


def runs_by_learning_rate(runs: list[dict]) -> dict[float, list[dict]]:
    """Group a point's per-member ``runs`` by their ``learning_rate`` (the seeds of one setting together).

    Parameters
    ----------
    runs : list of dict
        Each with a ``learning_rate``.

    Returns
    -------
    dict
        Learning rate -> its runs, in first-seen order.

    Examples
    --------
    >>> sorted(runs_by_learning_rate([{"learning_rate": 0.1}, {"learning_rate": 0.2}, {"learning_rate": 0.1}]))
    [0.1, 0.2]
    """
    by_lr: dict[float, list[dict]] = {}
    for run in runs:
        by_lr.setdefault(run["learning_rate"], []).append(run)
    return by_lr
