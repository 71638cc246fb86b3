"""Train many same-shaped models in one jitted program: ``vmap`` over members, ``lax.scan`` over steps.

The capacity studies train the same architecture for several seeds and settings (learning rate, clipping,
forget bias, initial scale). When the shapes agree these are one computation: :func:`train_members` stacks
the members on a leading axis and runs Adam on all of them at once, so a grid of ``M`` members compiles once
and runs as one batched program instead of ``M`` small ones (``benchmarks/bench_capacity.py`` measures the
gain on this machine).

The optimiser is Adam (``optax.scale_by_adam``) after per-member gradient clipping to a global norm, with a
per-member learning rate on a cosine decay to ``final_lr_fraction`` of it: the learning rate and the clip
norm are data, not constants, so they can differ between members. A member whose loss or gradient stops
being finite goes back to the parameters of the step before (the last whose loss was finite), stays there and
is marked ``diverged``; the other members go on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int

_CACHE: dict = {}


def _cosine_factor(step, total: int, final_fraction: float):
    frac = jnp.clip(step / max(total, 1), 0.0, 1.0)
    return final_fraction + (1.0 - final_fraction) * 0.5 * (1.0 + jnp.cos(jnp.pi * frac))


def _build_chunk(loss_fn: Callable, steps_total: int, final_fraction: float):
    adam = optax.scale_by_adam()
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def member_step(params, opt_state, prev, diverged, data, hp, key, step):
        # prev holds the parameters of the previous step, whose loss was finite: a member whose loss (or
        # gradient) stops being finite goes back to them and stays there.
        (loss, aux), grads = grad_fn(params, data, hp, jax.random.fold_in(key, step))
        gnorm = optax.tree.norm(grads)
        # Clip per member: the norm cap is a hyperparameter like the learning rate.
        grads = jax.tree_util.tree_map(lambda g: g * jnp.minimum(1.0, hp["clip"] / (gnorm + 1e-12)), grads)
        updates, new_state = adam.update(grads, opt_state, params)
        lr = hp["lr"] * _cosine_factor(step, steps_total, final_fraction)
        new_params = jax.tree_util.tree_map(lambda p, u: p - lr * u, params, updates)
        ok = jnp.isfinite(loss) & jnp.isfinite(gnorm) & ~diverged
        pick = lambda a, b: jax.tree_util.tree_map(lambda x, y: jnp.where(ok, x, y), a, b)  # noqa: E731
        first_failure = ~ok & ~diverged
        frozen = jax.tree_util.tree_map(lambda x, y: jnp.where(first_failure, x, y), prev, params)
        out_params = pick(new_params, frozen)
        out_state = pick(new_state, opt_state)
        out_prev = pick(params, frozen)
        return out_params, out_state, out_prev, diverged | ~ok, loss

    def chunk(params, opt_state, prev, diverged, data, hps, keys, steps):
        def body(state, step):
            p, o, q, d = state
            p, o, q, d, loss = jax.vmap(member_step, in_axes=(0, 0, 0, 0, 0, 0, 0, None))(
                p, o, q, d, data, hps, keys, step)
            return (p, o, q, d), loss

        (p, o, q, d), losses = jax.lax.scan(body, (params, opt_state, prev, diverged), steps)
        return p, o, q, d, losses

    return jax.jit(chunk)


def _build_eval(eval_fn: Callable):
    return jax.jit(jax.vmap(eval_fn, in_axes=(0, 0, 0)))


def train_members(
    params,
    data,
    hps: dict,
    loss_fn: Callable,
    *,
    steps: int,
    seed: int = 0,
    chunk: int = 250,
    final_lr_fraction: float = 0.1,
    progress: bool = False,
    desc: str = "train",
) -> dict:
    """Train ``M`` models stacked on a leading axis, each with its own data and hyperparameters.

    Parameters
    ----------
    params : pytree
        Initial parameters, every leaf with leading axis ``M`` (e.g. ``jax.vmap(init)(keys)``).
    data : pytree or None
        Per-member data with leading axis ``M`` (e.g. a fixed memorisation set per seed); passed to
        ``loss_fn``. ``None`` for tasks that draw fresh batches from the key.
    hps : dict of arrays (M,)
        Per-member hyperparameters; must contain ``lr`` and ``clip`` (used by the optimiser) and may hold
        anything ``loss_fn`` reads (``forget_bias`` ...).
    loss_fn : callable
        ``loss_fn(params, data, hp, key) -> (loss, aux)`` for one member; jittable. ``key`` differs per
        member and step, for drawing minibatches.
    steps : int
        Optimiser steps.
    seed : int
        Root of the per-member keys (member ``m`` uses ``fold_in(PRNGKey(seed), m)``).
    chunk : int
        Steps per jitted call (progress is updated between calls).
    final_lr_fraction : float
        End of the cosine decay, as a fraction of each member's learning rate.
    progress : bool
        Show a tqdm bar on stderr.

    Returns
    -------
    dict
        ``params`` (trained, leading axis M), ``diverged`` (bool array M), ``loss_curve`` (chunk-mean loss per
        member, shape (chunks, M)), ``seconds`` (wall time, compilation included).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> loss = lambda p, d, hp, k: (jnp.mean((p["w"] - d) ** 2), {})
    >>> out = train_members({"w": jnp.zeros((2, 3))}, jnp.array([[1.0] * 3, [-2.0] * 3]),
    ...                     {"lr": jnp.array([0.1, 0.1]), "clip": jnp.array([10.0, 10.0])}, loss,
    ...                     steps=300, chunk=100)
    >>> [round(float(v), 1) for v in out["params"]["w"][:, 0]]
    [1.0, -2.0]
    """
    from tqdm.auto import tqdm

    steps = check_positive_int("steps", steps)
    chunk = check_positive_int("chunk", chunk)
    if "lr" not in hps or "clip" not in hps:
        raise TnrnnError("hps must contain per-member 'lr' and 'clip'")
    hps = {k: jnp.asarray(v, jnp.float32) for k, v in hps.items()}
    M = int(hps["lr"].shape[0])
    if any(v.shape != (M,) for v in hps.values()):
        raise TnrnnError(f"every hyperparameter must have shape ({M},)")
    if bool(jnp.any(hps["lr"] <= 0)) or bool(jnp.any(hps["clip"] <= 0)):
        raise TnrnnError("learning rates and clip norms must be positive")
    t0 = time.perf_counter()
    cache_key = (loss_fn, steps, float(final_lr_fraction))
    run = _CACHE.get(cache_key)
    if run is None:
        run = _CACHE[cache_key] = _build_chunk(loss_fn, steps, float(final_lr_fraction))
    opt_state = jax.vmap(optax.scale_by_adam().init)(params)
    diverged = jnp.zeros((M,), bool)
    prev = params
    root = jax.random.PRNGKey(seed)
    keys = jax.vmap(lambda m: jax.random.fold_in(root, m))(jnp.arange(M))
    curve = []
    bar = tqdm(total=steps, desc=desc, disable=not progress, file=sys.stderr, leave=False, dynamic_ncols=True)
    try:
        done = 0
        while done < steps:
            n = min(chunk, steps - done)
            params, opt_state, prev, diverged, losses = run(params, opt_state, prev, diverged, data, hps, keys,
                                                            jnp.arange(done, done + n))
            curve.append(_finite_mean(np.asarray(losses)))
            done += n
            bar.update(n)
    finally:
        bar.close()
    return {"params": params, "diverged": np.asarray(diverged), "loss_curve": np.stack(curve),
            "seconds": time.perf_counter() - t0}


def _finite_mean(losses: np.ndarray) -> np.ndarray:
    """Per-member mean over the finite losses of a chunk (NaN for a member with none)."""
    ok = np.isfinite(losses)
    total = np.where(ok, losses, 0.0).sum(axis=0)
    count = ok.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def evaluate_members(params, data, hps: dict, eval_fn: Callable) -> dict:
    """``eval_fn(params, data, hp) -> dict`` for every member at once; returns numpy arrays (M,).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> ev = lambda p, d, hp: {"err": jnp.mean((p["w"] - d) ** 2)}
    >>> evaluate_members({"w": jnp.zeros((2, 1))}, jnp.array([[1.0], [2.0]]), {"lr": jnp.ones(2)}, ev)["err"]
    array([1., 4.], dtype=float32)
    """
    hps = {k: jnp.asarray(v, jnp.float32) for k, v in hps.items()}
    key = ("eval", eval_fn)
    fn = _CACHE.get(key)
    if fn is None:
        fn = _CACHE[key] = _build_eval(eval_fn)
    return {k: np.asarray(v) for k, v in fn(params, data, hps).items()}


def stack_init(init_fn: Callable, seeds) -> Any:
    """Initial parameters of several members: ``init_fn(seed)`` stacked on a leading axis.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> stack_init(lambda s: {"w": jnp.full((2,), float(s))}, [0, 3])["w"].tolist()
    [[0.0, 0.0], [3.0, 3.0]]
    """
    members = [init_fn(int(s)) for s in seeds]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *members)


def lr_seed_members(learning_rates, seeds, *, clip_norm: float, forget_bias: float, what: str):
    """The members of a (learning rate x seed) grid: ``(grid, hps)`` for :func:`train_members`.

    ``grid`` lists ``(lr, seed)`` in member order; ``hps`` holds per-member ``lr``, ``clip`` and ``forget_bias``.
    ``what`` names the caller in the error raised for an empty grid.

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

    Examples
    --------
    >>> sorted(runs_by_learning_rate([{"learning_rate": 0.1}, {"learning_rate": 0.2}, {"learning_rate": 0.1}]))
    [0.1, 0.2]
    """
    by_lr: dict[float, list[dict]] = {}
    for run in runs:
        by_lr.setdefault(run["learning_rate"], []).append(run)
    return by_lr
