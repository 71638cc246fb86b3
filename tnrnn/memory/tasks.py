"""Long-term memory tasks as seeded generators (Levine, Sharir, Ziv, Shashua, arXiv 1710.09431, section 5;
the definitions follow the authors' released code; docs/theory.md, 'Long-term memory tasks').

Every task is a frozen dataclass with ``n_in``, ``n_out``, ``time``, ``chance`` and ``class_labels``, and a
method ``sample(key, batch) -> TaskBatch(inputs, targets, mask)``:

* ``inputs``: float32 (batch, T, n_in), one-hot symbols;
* ``targets``: int32 (batch, T), the class expected at each step (0 where nothing is asked);
* ``mask``: float32 (batch, T), 1 where the prediction is scored (loss and accuracy), 0 elsewhere.

``sample`` is written in jax and is jittable (``batch`` static), so the training loop draws fresh batches on
the fly inside its ``lax.scan``. The same key (or int seed) always gives the same batch.

Registered tasks (`TASKS`, built by [`make_task`][tnrnn.memory.tasks.make_task]):

* ``ses``: Start-End Similarity as the authors define it (fixed compared span, blank padding, random offset);
* ``copying``: Copying Memory (``copy`` is accepted as an alias);
* ``ses-halves``: an older variant that compares the whole halves (the span grows with T), kept under its own
  name for the figures made with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.memory.catalog import TASK_ALIASES, TASK_NAMES


class TaskBatch(NamedTuple):
    """A batch of sequences: one-hot ``inputs`` (B, T, n_in), int ``targets`` (B, T), float ``mask`` (B, T),
    and the ``key`` it was drawn from (models that draw per-batch randomness, such as the scoRNN's initial
    states, take it from there).
    """

    inputs: jax.Array
    targets: jax.Array
    mask: jax.Array
    key: Any = None


def _key(key):
    if isinstance(key, (int, np.integer)):
        return jax.random.PRNGKey(int(key))
    return key


def _check_int(name: str, value, minimum: int) -> int:
    return check_positive_int(name, value, minimum=minimum)


def _balanced_labels(key, batch: int) -> jax.Array:
    # Classes 0, 1, 2 balanced within the batch (counts differ by at most one), in random order.
    return jax.random.permutation(key, jnp.arange(batch, dtype=jnp.int32) % 3)


def _second_word(key, first: jax.Array, agree_count: jax.Array, n: int) -> jax.Array:
    """A word equal to ``first`` at ``agree_count`` random positions and *different* everywhere else.

    A differing position is shifted by a uniform nonzero amount mod n, so it is uniform over the other n - 1
    symbols and no symbol is favoured.
    """
    k_pos, k_shift = jax.random.split(key)
    ranks = jnp.argsort(jnp.argsort(jax.random.uniform(k_pos, first.shape), axis=1), axis=1)
    agree = ranks < agree_count[:, None]
    shift = jax.random.randint(k_shift, first.shape, 1, n)
    return jnp.where(agree, first, (first + shift) % n)


@dataclass(frozen=True)
class CopyingMemory:
    """Copying Memory: recall ``span`` random symbols after a delay.

    The input is ``span`` (m) random symbols from an alphabet of ``symbols`` (n), then blanks, with the recall
    marker m steps before the end; ``T = 2m + delay``. The target at the last m steps is the m symbols in
    order; only those steps are scored (loss and accuracy on the recalled span). Input ids: symbols
    ``0..n-1``, blank ``n``, marker ``n+1`` (so ``n_in = n + 2``); outputs: the n symbols. Chance is ``1/n``.

    How this differs from the standard definition (Arjovsky, Shah and Bengio, arXiv 1511.06464, section 4.1),
    stated so that results are read correctly (tests/memory/test_memory_tasks.py pins the layout):

    * **Layout: the same as Arjovsky et al.** The marker is at index ``m + B - 1`` (0-based): the m symbols,
      ``B - 1`` blanks, the marker, then m blank steps during which the symbols are recalled; ``T = 2m + B``.
      Definitions that put B blanks before the marker have it one step later (index ``m + B``,
      ``T = 2m + B + 1``): the delay B here is one step shorter than theirs.
    * **No blank output class.** The standard task has ``n + 1`` outputs and asks for the blank at every step
      before the recall; here ``n_out = n`` and the network is never asked to output the blank.
    * **Loss on the recalled steps only.** The standard loss is the cross-entropy averaged over all T steps
      (most of them blanks, so its baseline is ``m log(n) / T``); here loss and accuracy are averaged over
      the m recalled steps (baseline ``log(n)``, chance accuracy ``1/n``). Accuracies here are therefore on
      the recalled symbols, comparable to the standard task's accuracy restricted to those steps, not to a
      whole-sequence accuracy, and losses are not comparable with the standard's.

    Parameters
    ----------
    symbols : int, default 32
        Alphabet size n (>= 2).
    span : int, default 30
        Number of symbols to recall m (>= 1).
    delay : int, default 10
        Delay B (>= 1; the marker takes one of the B steps between the symbols and the recall).

    Examples
    --------
    >>> task = CopyingMemory(symbols=4, span=3, delay=5)
    >>> b = task.sample(0, batch=2)
    >>> b.inputs.shape, task.time, task.chance
    ((2, 11, 6), 11, 0.25)
    >>> bool((b.targets[:, -3:] == b.inputs[:, :3].argmax(-1)).all())
    True
    """

    symbols: int = 32
    span: int = 30
    delay: int = 10

    name = "copying"

    def __post_init__(self) -> None:
        _check_int("symbols", self.symbols, 2)
        _check_int("span", self.span, 1)
        if isinstance(self.delay, (int, np.integer)) and self.delay < 1:
            raise TnrnnError(f"delay must be >= 1 (the recall marker needs a step), got {self.delay}")
        _check_int("delay", self.delay, 1)

    @classmethod
    def from_options(cls, *, time: int | None, symbols: int | None, span: int | None) -> CopyingMemory:
        """Build from the command-line options: ``time`` gives the delay ``T - 2 * span``."""
        n = 32 if symbols is None else symbols
        m = 30 if span is None else span
        if time is None:
            return cls(symbols=n, span=m)
        T = check_positive_int("time", time)
        if isinstance(m, (int, np.integer)) and T < 2 * m + 1:
            raise TnrnnError(f"copying: time T = {T} leaves a delay T - 2*span = {T - 2 * m} < 1; "
                             f"use T >= {2 * m + 1} or a shorter span")
        return cls(symbols=n, span=m, delay=T - 2 * m)

    @property
    def time(self) -> int:
        """Sequence length T."""
        return 2 * self.span + self.delay

    @property
    def n_in(self) -> int:
        """Input dimension (one-hot)."""
        return self.symbols + 2

    @property
    def n_out(self) -> int:
        """Number of output classes."""
        return self.symbols

    @property
    def chance(self) -> float:
        """Accuracy of a uniform guess."""
        return 1.0 / self.symbols

    @property
    def class_labels(self) -> tuple[str, ...]:
        """Name of each output class (here the recalled symbol)."""
        return tuple(f"symbol {i}" for i in range(self.symbols))

    def describe(self) -> dict:
        """Parameters and derived sizes as a JSON-ready dict."""
        return {"task": self.name, **asdict(self), "time": self.time, "chance": self.chance}

    def sample(self, key, batch: int) -> TaskBatch:
        """Draw ``batch`` sequences (deterministic in ``key``; an int is a seed)."""
        return _sample_jit(self, _key(key), batch)

    def _sample(self, key, batch: int) -> TaskBatch:
        n, m, T = self.symbols, self.span, self.time
        sym = jax.random.randint(key, (batch, m), 0, n)
        ids = jnp.full((batch, T), n, jnp.int32)
        ids = ids.at[:, :m].set(sym)
        ids = ids.at[:, T - m - 1].set(n + 1)
        targets = jnp.zeros((batch, T), jnp.int32).at[:, T - m :].set(sym)
        mask = jnp.zeros((batch, T), jnp.float32).at[:, T - m :].set(1.0)
        return TaskBatch(jax.nn.one_hot(ids, self.n_in, dtype=jnp.float32), targets, mask)


def _check_ses(time: Any, span: Any) -> None:
    T = _check_int("time", time, 4)
    if T % 2:
        raise TnrnnError(f"time must be even (two halves), got {T}")
    if isinstance(span, (int, np.integer)) and span > T // 2:
        raise TnrnnError(f"span (m) must be at most T/2 = {T // 2}, got {span}")
    _check_int("span", span, 2)


class _ThreeAgreementClasses:
    """The three classes of both Start-End Similarity variants: 0, m/2 or m of the m compared positions agree."""

    @property
    def compared(self) -> int:
        """How many positions are compared (m)."""
        raise NotImplementedError

    @property
    def n_out(self) -> int:
        """Number of output classes."""
        return 3

    @property
    def chance(self) -> float:
        """Accuracy of a uniform guess."""
        return 1.0 / 3.0

    @property
    def class_labels(self) -> tuple[str, ...]:
        """Name of each class: the number of agreeing positions out of m."""
        m = self.compared
        return (f"0/{m}", f"{m // 2}/{m}", f"{m}/{m}")


@dataclass(frozen=True)
class StartEndSimilarity(_ThreeAgreementClasses):
    """Start-End Similarity as the authors define it: a fixed span of m symbols compared T/2 steps apart.

    A sequence of even length ``time`` (T) over ``symbols`` (n) symbols plus a blank (id n). The first word
    (m = ``span`` symbols, uniform) sits at a random offset ``o`` in ``[0, T/2 - m)`` of the first half (``o =
    0`` when ``m = T/2``), the second word at the same offset of the second half; every other step is blank.
    The class (0, 1 or 2) says how many positions agree: 0, ``m // 2`` or m. The second word copies the
    first at that many random positions and takes a *different* symbol everywhere else. Classes are balanced
    within each batch; one prediction at the last step; chance is 1/3. So the pairs compared are T/2 apart
    and only the lag grows with T, not the amount to remember.

    Parameters
    ----------
    time : int
        Sequence length T (even, >= 4).
    symbols : int, default 32
        Alphabet size n (>= 2).
    span : int, default 30
        Compared span m (2 <= m <= T/2).

    Examples
    --------
    >>> task = StartEndSimilarity(time=12, symbols=3, span=4)
    >>> b = task.sample(0, batch=6)
    >>> b.inputs.shape, task.n_out, round(task.chance, 3)
    ((6, 12, 4), 3, 0.333)
    >>> sorted(np.asarray(b.targets[:, -1]).tolist())
    [0, 0, 1, 1, 2, 2]
    """

    time: int
    symbols: int = 32
    span: int = 30

    name = "ses"

    def __post_init__(self) -> None:
        _check_ses(self.time, self.span)
        _check_int("symbols", self.symbols, 2)

    @classmethod
    def from_options(cls, *, time: int | None, symbols: int | None, span: int | None) -> StartEndSimilarity:
        """Build from the command-line options (``time`` is required)."""
        if time is None:
            raise TnrnnError("the ses task needs a sequence length (time)")
        return cls(time=time, symbols=32 if symbols is None else symbols, span=30 if span is None else span)

    @property
    def n_in(self) -> int:
        """Input dimension (one-hot)."""
        return self.symbols + 1

    @property
    def compared(self) -> int:
        """How many positions are compared: the span m."""
        return self.span

    def describe(self) -> dict:
        """Parameters and derived sizes as a JSON-ready dict."""
        return {"task": self.name, **asdict(self), "chance": self.chance}

    def sample(self, key, batch: int) -> TaskBatch:
        """Draw ``batch`` sequences (deterministic in ``key``; an int is a seed)."""
        return _sample_jit(self, _key(key), batch)

    def _sample(self, key, batch: int) -> TaskBatch:
        T, n, m = self.time, self.symbols, self.span
        half = T // 2
        k_lab, k_word, k_second, k_off = jax.random.split(key, 4)
        labels = _balanced_labels(k_lab, batch)
        first = jax.random.randint(k_word, (batch, m), 0, n)
        second = _second_word(k_second, first, jnp.array([0, m // 2, m])[labels], n)
        offset = jax.random.randint(k_off, (batch, 1), 0, max(half - m, 1))
        pos = offset + jnp.arange(m)[None, :]  # (batch, m) positions of the word inside its half
        rows = jnp.arange(batch)[:, None]
        ids = jnp.full((batch, T), n, jnp.int32).at[rows, pos].set(first).at[rows, half + pos].set(second)
        targets = jnp.zeros((batch, T), jnp.int32).at[:, -1].set(labels)
        mask = jnp.zeros((batch, T), jnp.float32).at[:, -1].set(1.0)
        return TaskBatch(jax.nn.one_hot(ids, self.n_in, dtype=jnp.float32), targets, mask)


@dataclass(frozen=True)
class StartEndHalves(_ThreeAgreementClasses):
    """The older whole-halves Start-End Similarity (no blank, no offset): the first ``span`` positions of
    each half are compared (default: the whole halves), every other position is uniform random.

    With the default span the amount to remember grows with T together with the lag, which is why ``ses``
    (the authors' definition) is the default task. Three balanced classes as in ``ses``; chance 1/3.

    Examples
    --------
    >>> task = StartEndHalves(time=8, symbols=3)
    >>> task.m, task.sample(0, batch=3).inputs.shape
    (4, (3, 8, 3))
    """

    time: int
    symbols: int = 4
    span: int | None = None

    name = "ses-halves"

    def __post_init__(self) -> None:
        _check_ses(self.time, self.m)
        _check_int("symbols", self.symbols, 2)

    @classmethod
    def from_options(cls, *, time: int | None, symbols: int | None, span: int | None) -> StartEndHalves:
        """Build from the command-line options (``time`` is required)."""
        if time is None:
            raise TnrnnError("the ses-halves task needs a sequence length (time)")
        return cls(time=time, symbols=4 if symbols is None else symbols, span=span)

    @property
    def m(self) -> int:
        """Number of compared positions."""
        return self.time // 2 if self.span is None else int(self.span)

    @property
    def n_in(self) -> int:
        """Input dimension (one-hot)."""
        return self.symbols

    @property
    def compared(self) -> int:
        """How many positions are compared: the whole half, m = T/2."""
        return self.m

    def describe(self) -> dict:
        """Parameters and derived sizes as a JSON-ready dict."""
        return {"task": self.name, "time": self.time, "symbols": self.symbols, "span": self.m, "chance": self.chance}

    def sample(self, key, batch: int) -> TaskBatch:
        """Draw ``batch`` sequences (deterministic in ``key``; an int is a seed)."""
        return _sample_jit(self, _key(key), batch)

    def _sample(self, key, batch: int) -> TaskBatch:
        T, n, m = self.time, self.symbols, self.m
        half = T // 2
        k_lab, k_start, k_end, k_second = jax.random.split(key, 4)
        labels = _balanced_labels(k_lab, batch)
        start = jax.random.randint(k_start, (batch, half), 0, n)
        end = jax.random.randint(k_end, (batch, half), 0, n)
        end = end.at[:, :m].set(_second_word(k_second, start[:, :m], jnp.array([0, m // 2, m])[labels], n))
        ids = jnp.concatenate([start, end], axis=1)
        targets = jnp.zeros((batch, T), jnp.int32).at[:, -1].set(labels)
        mask = jnp.zeros((batch, T), jnp.float32).at[:, -1].set(1.0)
        return TaskBatch(jax.nn.one_hot(ids, n, dtype=jnp.float32), targets, mask)


@partial(jax.jit, static_argnums=(0, 2))
def _sample_jit(task, key, batch: int) -> TaskBatch:
    # One fused program per (task, batch size); tasks are frozen dataclasses, hence hashable static args.
    return task._sample(key, batch)._replace(key=key)


#: Task name -> class; each class has ``from_options(time=, symbols=, span=)``.
TASKS: dict[str, Callable[..., Any]] = {
    "ses": StartEndSimilarity,
    "copying": CopyingMemory,
    "ses-halves": StartEndHalves,
}

if tuple(TASKS) != TASK_NAMES:  # pragma: no cover - a guard on the two lists staying in step
    raise ImportError("tnrnn.memory.catalog.TASK_NAMES must list tnrnn.memory.tasks.TASKS in order")


def make_task(name: str, *, time: int | None = None, symbols: int | None = None, span: int | None = None):
    """Build a task by name (`TASKS`) from the options that apply to it.

    Parameters
    ----------
    name : str
        ``"ses"``, ``"copying"`` (alias ``"copy"``) or ``"ses-halves"``.
    time : int, optional
        Sequence length T (copying: the delay is ``T - 2 * span``; default delay 10).
    symbols : int, optional
        Alphabet size n (default 32; 4 for ``ses-halves``).
    span : int, optional
        Compared span (ses) or recalled span (copying) m (default 30; the whole half for ``ses-halves``).

    Raises
    ------
    TnrnnError
        For an unknown name or parameters the task does not allow.

    Examples
    --------
    >>> make_task("ses", time=80, symbols=8, span=10).describe()["span"]
    10
    >>> make_task("copy", time=30, symbols=8, span=5).delay
    20
    """
    key = TASK_ALIASES.get(str(name).lower(), str(name).lower())
    if key not in TASKS:
        raise TnrnnError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[key].from_options(time=time, symbols=symbols, span=span)  # type: ignore[attr-defined]
