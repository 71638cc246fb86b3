"""Long-term memory tasks as seeded generators (SCIENCE.md section 6).

Every task is a frozen dataclass with ``n_in``, ``n_out``, ``time`` and ``chance``, and a method
``sample(key, batch) -> TaskBatch(inputs, targets, mask)``:

* ``inputs``: float32 (batch, T, n_in), one-hot symbols;
* ``targets``: int32 (batch, T), the class expected at each step (0 where nothing is asked);
* ``mask``: float32 (batch, T), 1 where the prediction is scored (loss and accuracy), 0 elsewhere.

``sample`` is written in jax and is jittable (``batch`` static), so the training loop draws fresh batches on
the fly inside its ``lax.scan``. The same key (or int seed) always gives the same batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int


class TaskBatch(NamedTuple):
    """A batch of sequences: one-hot ``inputs`` (B, T, n_in), int ``targets`` (B, T), float ``mask`` (B, T)."""

    inputs: jax.Array
    targets: jax.Array
    mask: jax.Array


def _key(key):
    if isinstance(key, (int, np.integer)):
        return jax.random.PRNGKey(int(key))
    return key


def _check_int(name: str, value, minimum: int) -> int:
    return check_positive_int(name, value, minimum=minimum)


@dataclass(frozen=True)
class CopyingMemory:
    """Copying Memory: recall ``symbols`` random symbols after a delay.

    The input is ``symbols`` (m) random symbols from an alphabet of ``alphabet`` (n), then blanks, with the
    recall marker m steps before the end; ``T = 2m + delay``. The target at the last m steps is the m
    symbols in order; only those steps are scored. Input ids: symbols ``0..n-1``, blank ``n``, marker
    ``n+1`` (so ``n_in = n + 2``); outputs: the n symbols. Chance accuracy is ``1/n``.

    Parameters
    ----------
    alphabet : int, default 32
        Number of symbols n (>= 2).
    symbols : int, default 30
        Number of symbols to recall m (>= 1).
    delay : int, default 100
        Delay B (>= 1; the marker takes one of the B steps between the symbols and the recall).

    Examples
    --------
    >>> task = CopyingMemory(alphabet=4, symbols=3, delay=5)
    >>> b = task.sample(0, batch=2)
    >>> b.inputs.shape, task.time, task.chance
    ((2, 11, 6), 11, 0.25)
    >>> bool((b.targets[:, -3:] == b.inputs[:, :3].argmax(-1)).all())
    True
    """

    alphabet: int = 32
    symbols: int = 30
    delay: int = 100

    def __post_init__(self) -> None:
        _check_int("alphabet", self.alphabet, 2)
        _check_int("symbols", self.symbols, 1)
        if isinstance(self.delay, (int, np.integer)) and self.delay < 1:
            raise TnrnnError(f"delay must be >= 1 (the recall marker needs a step), got {self.delay}")
        _check_int("delay", self.delay, 1)

    name = "copy"

    @property
    def time(self) -> int:
        return 2 * self.symbols + self.delay

    @property
    def n_in(self) -> int:
        return self.alphabet + 2

    @property
    def n_out(self) -> int:
        return self.alphabet

    @property
    def chance(self) -> float:
        return 1.0 / self.alphabet

    def describe(self) -> dict:
        """Parameters and derived sizes as a JSON-ready dict."""
        return {"task": self.name, **asdict(self), "time": self.time, "chance": self.chance}

    def sample(self, key, batch: int) -> TaskBatch:
        """Draw ``batch`` sequences (deterministic in ``key``; an int is a seed)."""
        return _sample_jit(self, _key(key), batch)

    def _sample(self, key, batch: int) -> TaskBatch:
        n, m, T = self.alphabet, self.symbols, self.time
        sym = jax.random.randint(key, (batch, m), 0, n)
        ids = jnp.full((batch, T), n, jnp.int32)
        ids = ids.at[:, :m].set(sym)
        ids = ids.at[:, T - m - 1].set(n + 1)
        targets = jnp.zeros((batch, T), jnp.int32).at[:, T - m :].set(sym)
        mask = jnp.zeros((batch, T), jnp.float32).at[:, T - m :].set(1.0)
        return TaskBatch(jax.nn.one_hot(ids, self.n_in, dtype=jnp.float32), targets, mask)


@dataclass(frozen=True)
class StartEndSimilarity:
    """Start-End Similarity: does the end half repeat the start half? Three balanced classes.

    A sequence of even length ``time`` (T) over ``alphabet`` (n) symbols. The first T/2 steps hold a random
    word; the second half holds a word that agrees with it at 0, ``compare // 2`` or ``compare`` (m) of the
    compared positions, which are the first m positions of each half (so every compared pair is T/2 steps
    apart). Agreement is exact: a position that should differ gets a different symbol; the other positions
    are random. Class = 0, 1 or 2 (none, half, all agree), predicted at the last step only; classes are
    balanced within each batch (counts differ by at most one). Chance accuracy is 1/3.

    Parameters
    ----------
    time : int
        Sequence length T (even, >= 4).
    alphabet : int, default 4
        Number of symbols n (>= 2).
    compare : int or None, default None
        Compared positions m (2 <= m <= T/2); None means T/2 (the whole halves are compared).

    Examples
    --------
    >>> task = StartEndSimilarity(time=8, alphabet=3, compare=4)
    >>> b = task.sample(0, batch=6)
    >>> b.inputs.shape, task.n_out, round(task.chance, 3)
    ((6, 8, 3), 3, 0.333)
    >>> sorted(np.asarray(b.targets[:, -1]).tolist())
    [0, 0, 1, 1, 2, 2]
    """

    time: int
    alphabet: int = 4
    compare: int | None = None

    name = "ses"

    def __post_init__(self) -> None:
        T = _check_int("time", self.time, 4)
        if T % 2:
            raise TnrnnError(f"time must be even (two halves), got {T}")
        _check_int("alphabet", self.alphabet, 2)
        if self.compare is not None:
            m = self.compare
            if isinstance(m, (int, np.integer)) and m > T // 2:
                raise TnrnnError(f"compare (m) must be at most T/2 = {T // 2}, got {m}")
            _check_int("compare", m, 2)

    @property
    def m(self) -> int:
        return self.time // 2 if self.compare is None else int(self.compare)

    @property
    def n_in(self) -> int:
        return self.alphabet

    @property
    def n_out(self) -> int:
        return 3

    @property
    def chance(self) -> float:
        return 1.0 / 3.0

    def describe(self) -> dict:
        """Parameters and derived sizes as a JSON-ready dict."""
        return {"task": self.name, "time": self.time, "alphabet": self.alphabet, "compare": self.m, "chance": self.chance}

    def sample(self, key, batch: int) -> TaskBatch:
        """Draw ``batch`` sequences (deterministic in ``key``; an int is a seed)."""
        return _sample_jit(self, _key(key), batch)

    def _sample(self, key, batch: int) -> TaskBatch:
        T, n, m = self.time, self.alphabet, self.m
        half = T // 2
        k_lab, k_start, k_end, k_shift, k_pos = jax.random.split(key, 5)
        labels = jax.random.permutation(k_lab, jnp.arange(batch, dtype=jnp.int32) % 3)
        start = jax.random.randint(k_start, (batch, half), 0, n)
        end = jax.random.randint(k_end, (batch, half), 0, n)
        agree_count = jnp.where(labels == 0, 0, jnp.where(labels == 1, m // 2, m))
        # A random set of `agree_count` compared positions agrees: rank random scores within the m positions.
        ranks = jnp.argsort(jnp.argsort(jax.random.uniform(k_pos, (batch, m)), axis=1), axis=1)
        agree = ranks < agree_count[:, None]
        # Differ by a nonzero shift mod n, so "disagree" is exact and the new symbol stays uniform.
        shift = jax.random.randint(k_shift, (batch, m), 1, n)
        compared_end = jnp.where(agree, start[:, :m], (start[:, :m] + shift) % n)
        end = end.at[:, :m].set(compared_end)
        ids = jnp.concatenate([start, end], axis=1)
        targets = jnp.zeros((batch, T), jnp.int32).at[:, -1].set(labels)
        mask = jnp.zeros((batch, T), jnp.float32).at[:, -1].set(1.0)
        return TaskBatch(jax.nn.one_hot(ids, n, dtype=jnp.float32), targets, mask)


@partial(jax.jit, static_argnums=(0, 2))
def _sample_jit(task, key, batch: int) -> TaskBatch:
    # One fused program per (task, batch size); tasks are frozen dataclasses, hence hashable static args.
    return task._sample(key, batch)


TASKS = {"copy": CopyingMemory, "ses": StartEndSimilarity}


def make_task(name: str, *, time: int | None = None, alphabet: int | None = None, symbols: int | None = None,
              delay: int | None = None, compare: int | None = None):
    """Build a task by name (``"copy"`` or ``"ses"``) from the options that apply to it.

    For ``copy``, ``time`` may be given instead of ``delay``: the delay is then ``time - 2 * symbols``.

    Examples
    --------
    >>> make_task("ses", time=20, alphabet=4, compare=4).m
    4
    >>> make_task("copy", time=30, alphabet=8, symbols=5).delay
    20
    """
    if name == "ses":
        if time is None:
            raise TnrnnError("the ses task needs a sequence length (time)")
        return StartEndSimilarity(time=time, alphabet=4 if alphabet is None else alphabet, compare=compare)
    if name == "copy":
        m = 30 if symbols is None else symbols
        if delay is None and time is not None:
            T = check_positive_int("time", time)
            if isinstance(m, (int, np.integer)) and T < 2 * m + 1:
                raise TnrnnError(f"copy: delay must be >= 1, but time T = {T} leaves T - 2 * symbols = "
                                 f"{T - 2 * m}; use T >= {2 * m + 1} or fewer symbols")
            delay = T - 2 * m
        elif delay is None:
            delay = 100
        elif time is not None and time != 2 * m + delay:
            raise TnrnnError(f"copy: time must equal 2*symbols + delay = {2 * m + delay}, got {time}")
        return CopyingMemory(alphabet=32 if alphabet is None else alphabet, symbols=m, delay=delay)
    raise TnrnnError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
