"""Train the seeds of one memory configuration at once: ``vmap`` over seeds, the authors' plateau protocol per
seed (Levine et al., arXiv 1710.09431, released code; docs/theory.md, 'Long-term memory tasks').

[`train_seeds`][tnrnn.memory.vtrain_seeds.train_seeds] stacks S copies of one (cell, depth, width) stack on a leading axis, each with its own
initial weights, training batches, validation set and test set drawn from its seed. Seed ``s`` draws its data
from ``PRNGKey(s)`` only, so the same seed sees the same sequences at every depth and width: comparisons across
depths are paired.

The protocol is applied per seed on the host between jitted chunks of ``eval_every`` steps:

* a check that does not improve the seed's validation loss by more than ``min_delta`` is a bad check; after
  ``patience`` bad checks in a row the seed's learning rate is multiplied by ``factor`` (the authors: more than
  10 bad checks, i.e. patience 11, factor 0.1);
* the second plateau stops the seed, but never before ``min_steps`` (a plateau before that only decays the rate
  once and the counting starts again), and no seed trains past ``steps``;
* a stopped seed keeps its best-validation parameters: its learning-rate factor is set to 0, so the shared
  program moves it no more;
* the reported parameters of each seed are those of its best validation loss; the test set is evaluated once,
  on them.

Everything a seed does is a function of its seed and the settings, so results do not depend on how many seeds
share the program (up to floating-point reassociation, which differs across machines anyway; docs/results.md).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.memory.cells import apply_stack, check_cell, init_stack, num_params
from tnrnn.memory.fit import sequence_loss
from tnrnn.memory.optim import TrainConfig, make_optimizer


@dataclass(frozen=True)
class SeedProtocol:
    """The per-seed plateau protocol of [`train_seeds`][tnrnn.memory.vtrain_seeds.train_seeds].

    Parameters
    ----------
    steps : int
        Most optimiser steps of any seed.
    eval_every : int
        Steps between validation checks.
    patience : int
        Bad checks in a row that make a plateau (the authors: 11, i.e. "more than 10").
    factor : float
        Learning-rate multiplier at a plateau.
    min_steps : int
        No seed stops before this many steps.
    min_delta : float
        An improvement of the validation loss by at most this much is a bad check (the authors: 1e-3).
    batch_size, val_size, test_size : int
        Training batch, fixed validation and test sets (per seed).
    learning_rate : float
        RMSProp (decay 0.9) learning rate; the scoRNN's skew parameters get their own
        ([`tnrnn.memory.optim.TrainConfig`][tnrnn.memory.optim.TrainConfig]).

    Examples
    --------
    >>> SeedProtocol().patience, SeedProtocol().factor
    (11, 0.1)
    """

    steps: int = 20_000
    eval_every: int = 250
    patience: int = 11
    factor: float = 0.1
    min_steps: int = 6_000
    min_delta: float = 1e-3
    batch_size: int = 128
    val_size: int = 1000
    test_size: int = 2000
    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        for name in ("steps", "eval_every", "patience", "batch_size", "val_size", "test_size"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("min_steps", self.min_steps, minimum=0)
        if not 0 < self.factor < 1:
            raise TnrnnError(f"factor must be in (0, 1), got {self.factor}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise TnrnnError(f"learning_rate must be a positive number, got {self.learning_rate}")
        if not self.min_delta >= 0:
            raise TnrnnError(f"min_delta must be >= 0, got {self.min_delta}")

    def to_json(self) -> dict:
        """The settings as a JSON-ready dict."""
        return asdict(self)


def _data_key(seed: int, purpose: int):
    # purpose 0: training batches, 1: validation set, 2: test set, 3: parameters, 4: eval initial states
    return jax.random.fold_in(jax.random.PRNGKey(int(seed)), purpose)


@lru_cache(maxsize=16)
def _programs(task, cell: str, config: TrainConfig, batch_size: int):
    """Jitted (chunk, evaluate) for one task, cell and optimiser: shared by every width and depth of it."""
    tx = make_optimizer(config)

    def loss_fn(params, batch):
        logits = apply_stack(params, batch.inputs, cell=cell, key=batch.key)
        return sequence_loss(logits, batch.targets, batch.mask)

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def member_step(params, opt_state, seed_key, step):
        batch = task._sample(jax.random.fold_in(seed_key, step), batch_size)._replace(
            key=jax.random.fold_in(seed_key, step + (1 << 30)))
        (loss, _aux), grads = grad_fn(params, batch)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = jax.tree_util.tree_map(lambda p, u: p + u, params, updates)
        return params, opt_state, loss

    def chunk(params, opt_state, seed_keys, steps):
        def body(state, step):
            p, o = state
            p, o, loss = jax.vmap(member_step, in_axes=(0, 0, 0, None))(p, o, seed_keys, step)
            return (p, o), loss

        (p, o), losses = jax.lax.scan(body, (params, opt_state), steps)
        return p, o, losses

    def member_eval(params, batch):
        loss, metrics = loss_fn(params, batch)
        return {"loss": loss, "accuracy": metrics["accuracy"]}

    return jax.jit(chunk), jax.jit(jax.vmap(member_eval)), tx


def _stack(trees: list) -> Any:
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def _fixed_sets(task, seeds: Sequence[int], size: int, purpose: int):
    batches = [task._sample(_data_key(s, purpose), size)._replace(key=_data_key(s, 4)) for s in seeds]
    return _stack(batches)


def _set_factor(opt_state, factors: np.ndarray):
    """The vmapped optimiser state with each member's learning-rate factor replaced."""
    last = opt_state[-1]
    hyper = dict(last.hyperparams)
    hyper["step_size"] = jnp.asarray(factors, hyper["step_size"].dtype)
    return (*opt_state[:-1], last._replace(hyperparams=hyper))


def train_seeds(
    task,
    cell: str,
    depth: int,
    width: int,
    seeds: Sequence[int],
    protocol: SeedProtocol = SeedProtocol(),
    *,
    progress: bool = False,
    desc: str = "seeds",
) -> dict:
    """Train one configuration for every seed at once; return per-seed results.

    Parameters
    ----------
    task
        A task of [`tnrnn.memory.tasks`][tnrnn.memory.tasks] (its jittable ``_sample``).
    cell : str
        A cell of [`tnrnn.memory.cells`][tnrnn.memory.cells].
    depth, width : int
    seeds : sequence of int
        Distinct non-negative seeds (each seeds its parameters and data).
    protocol : SeedProtocol
    progress : bool
        A progress line on stderr (terminal only).

    Returns
    -------
    dict
        ``num_params``, ``seconds``, and ``runs``: one dict per seed with ``seed``, ``accuracy`` (test set,
        best-validation parameters), ``val_accuracy``, ``best_step``, ``steps`` trained, ``plateaus``,
        ``stopped`` (by the protocol, not the step cap), ``diverged`` and ``curve`` (step, validation loss,
        validation accuracy) at every check.

    Raises
    ------
    TnrnnError
        Bad seeds or sizes.

    Examples
    --------
    >>> from tnrnn.memory.tasks import CopyingMemory
    >>> out = train_seeds(CopyingMemory(symbols=3, span=2, delay=2), "scornn", 1, 4, [0, 1],
    ...                   SeedProtocol(steps=20, eval_every=10, min_steps=0, val_size=8, test_size=8, batch_size=8))
    >>> [r["seed"] for r in out["runs"]], out["runs"][0]["steps"], 0 <= out["runs"][0]["accuracy"] <= 1
    ([0, 1], 20, True)
    """
    cell = check_cell(cell)
    seeds = [check_positive_int("seed", s, minimum=0) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise TnrnnError(f"give one or more distinct seeds, got {seeds}")
    depth, width = check_positive_int("depth", depth), check_positive_int("width", width)
    p = protocol
    config = TrainConfig(optimizer="rmsprop", learning_rate=p.learning_rate, clip_norm=None)
    chunk, evaluate, tx = _programs(task, cell, config, p.batch_size)
    t0 = time.perf_counter()
    S = len(seeds)
    params = _stack([init_stack(_data_key(s, 3), cell, task.n_in, width, depth, task.n_out) for s in seeds])
    opt_state = jax.vmap(tx.init)(params)
    seed_keys = jnp.stack([_data_key(s, 0) for s in seeds])
    val, test = _fixed_sets(task, seeds, p.val_size, 1), _fixed_sets(task, seeds, p.test_size, 2)
    best_params = params
    best = np.full(S, np.inf)
    best_step = np.zeros(S, int)
    bad = np.zeros(S, int)
    plateaus = np.zeros(S, int)
    factor = np.ones(S)
    active = np.ones(S, bool)
    diverged = np.zeros(S, bool)
    trained = np.zeros(S, int)
    curves: list[list] = [[] for _ in seeds]
    done = 0
    show = progress and sys.stderr.isatty()
    while done < p.steps and active.any():
        n = min(p.eval_every, p.steps - done)
        params, opt_state, _ = chunk(params, _set_factor(opt_state, np.where(active, factor, 0.0)), seed_keys,
                                     jnp.arange(done, done + n))
        done += n
        trained[active] = done
        metrics = {k: np.asarray(v, float) for k, v in evaluate(params, val).items()}
        improved = np.zeros(S, bool)
        for i in np.flatnonzero(active):
            loss, acc = metrics["loss"][i], metrics["accuracy"][i]
            curves[i].append([done, None if not math.isfinite(loss) else round(loss, 5), round(acc, 5)])
            if not math.isfinite(loss):
                diverged[i], active[i] = True, False
                continue
            if loss < best[i] - p.min_delta:
                best[i], best_step[i], bad[i], improved[i] = loss, done, 0, True
                continue
            bad[i] += 1
            if bad[i] < p.patience:
                continue
            bad[i] = 0
            if plateaus[i] >= 1 and done >= p.min_steps:
                plateaus[i] += 1
                active[i] = False
            elif plateaus[i] == 0:
                plateaus[i] = 1
                factor[i] *= p.factor
        best_params = _keep_improved(best_params, params, jnp.asarray(improved))
        if show:
            print(f"\r{desc}: step {done}/{p.steps}, {int(active.sum())}/{S} seeds training, best val loss "
                  f"{np.nanmin(best):.3f}", end="", file=sys.stderr, flush=True)
    if show:
        print(file=sys.stderr)
    val_best = {k: np.asarray(v, float) for k, v in evaluate(best_params, val).items()}
    test_m = {k: np.asarray(v, float) for k, v in evaluate(best_params, test).items()}
    runs = []
    for k, seed in enumerate(seeds):
        runs.append({
            "seed": seed, "accuracy": float(test_m["accuracy"][k]), "test_loss": _finite(test_m["loss"][k]),
            "val_accuracy": float(val_best["accuracy"][k]), "best_step": int(best_step[k]),
            "steps": int(trained[k]), "plateaus": int(plateaus[k]),
            "stopped": bool(not active[k] and not diverged[k]), "diverged": bool(diverged[k]),
            "curve": curves[k],
        })
    return {"num_params": num_params(cell, task.n_in, width, depth, task.n_out),
            "seconds": time.perf_counter() - t0, "runs": runs}


def _keep_improved(best, params, improved):
    """Per member: the new parameters where the validation loss improved, the kept best ones elsewhere."""
    return jax.tree_util.tree_map(
        lambda b, x: jnp.where(improved.reshape((-1,) + (1,) * (x.ndim - 1)), x, b), best, params)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(float(x)) else None


def still_improving(curve: list, window: int = 4) -> bool:
    """Whether a run's validation loss fell by more than 1% over its last ``window`` checks (it had not
    flattened when it ended).

    Examples
    --------
    >>> still_improving([[1, 1.0, 0.1], [2, 0.9, 0.2], [3, 0.8, 0.3], [4, 0.7, 0.4], [5, 0.6, 0.5]])
    True
    >>> still_improving([[1, 0.5, 0.1], [2, 0.5, 0.2], [3, 0.5, 0.3], [4, 0.5, 0.4], [5, 0.5, 0.5]])
    False
    """
    losses = [c[1] for c in curve if c[1] is not None]
    if len(losses) <= window:
        return False
    before, last = min(losses[:-window]), min(losses[-window:])
    return bool(last < 0.99 * before)


def estimate_seconds(step_seconds: float, configurations: int, protocol: SeedProtocol) -> float:
    """Upper estimate of a study's time: every configuration trains its seeds (vmapped) for ``steps``.

    Examples
    --------
    >>> estimate_seconds(0.01, 6, SeedProtocol(steps=1000))
    60.0
    """
    return float(step_seconds) * configurations * protocol.steps

