"""Seeded data generators of the capacity studies (Collins, Sohl-Dickstein and Sussillo, ICLR 2017).

* [`memorisation_set`][tnrnn.capacity.tasks.memorisation_set]: ``b`` distinct random binary (+-1) input vectors fed at step 1 and a random
  binary label read out at the last step (step 5 by default); the labels are exactly balanced (as many 0 as
  1, in random order), so chance accuracy is exactly 1/2. A fixed set, made in numpy once per run.
* [`recall_batch`][tnrnn.capacity.tasks.recall_batch]: single-shot recall, one standard-normal ``n_in``-vector at step 1, zeros after,
  the vector to be read back after ``delay`` further steps.
* [`ParenthesesCounting`][tnrnn.capacity.tasks.ParenthesesCounting]: a stream of opening/closing parentheses of several types and noise symbols;
  at every step, for every type, the number of open parentheses of that type (saturating at
  ``max_count``). A closing parenthesis with none open is ignored.

These tasks live here and not in [`tnrnn.memory.tasks`][tnrnn.memory.tasks] because only the capacity studies use them and
their targets are not the one-class-per-step ``TaskBatch`` of that module (regression targets, several
counters per step). [`memorisation_set`][tnrnn.capacity.tasks.memorisation_set] returns a ``TaskBatch`` so the memory package's
``sequence_loss`` scores it unchanged.
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
from tnrnn.memory.tasks import TaskBatch


def _key(key):
    if isinstance(key, (int, np.integer)):
        return jax.random.PRNGKey(int(key))
    return key


# ----------------------------------------------------------------------------------------------- memorisation


def memorisation_set(seed: int, samples: int, n_in: int, time: int = 5) -> TaskBatch:
    """The fixed memorisation set: ``samples`` distinct +-1 vectors at step 1, a balanced label at step ``time``.

    Parameters
    ----------
    seed : int
        Seeds inputs and labels (numpy ``default_rng``).
    samples : int
        Number of samples b (>= 2, at most ``2 ** n_in`` so the inputs can be distinct: two equal inputs
        with different labels could not both be stored).
    n_in : int
        Input dimension (1 to 62).
    time : int, default 5
        Sequence length; the label is read out at the last step only.

    Returns
    -------
    TaskBatch
        ``inputs`` (b, time, n_in) float32, zero after step 1; ``targets`` (b, time) int32, the label at the
        last step; ``mask`` (b, time), 1 at the last step.

    Examples
    --------
    >>> d = memorisation_set(0, samples=6, n_in=4)
    >>> d.inputs.shape, int(d.targets[:, -1].sum()), float(d.mask.sum())
    ((6, 5, 4), 3, 6.0)
    """
    seed = check_positive_int("seed", seed, minimum=0)
    n_in = check_positive_int("n_in", n_in)
    b = check_positive_int("samples", samples, minimum=2)
    T = check_positive_int("time", time)
    if n_in > 62:
        raise TnrnnError(f"n_in must be at most 62 for the memorisation set, got {n_in}")
    if b > 2**n_in:
        raise TnrnnError(f"samples (b = {b}) exceeds the {2 ** n_in} distinct binary inputs of dimension {n_in}")
    rng = np.random.default_rng(seed)
    codes = rng.choice(2**n_in, size=b, replace=False)  # distinct inputs
    bits = (codes[:, None] >> np.arange(n_in)[None, :]) & 1
    x = np.zeros((b, T, n_in), np.float32)
    x[:, 0, :] = 2.0 * bits - 1.0
    labels = rng.permutation(np.arange(b) % 2).astype(np.int32)
    targets = np.zeros((b, T), np.int32)
    targets[:, -1] = labels
    mask = np.zeros((b, T), np.float32)
    mask[:, -1] = 1.0
    return TaskBatch(jnp.asarray(x), jnp.asarray(targets), jnp.asarray(mask))


# ------------------------------------------------------------------------------------------ single-shot recall


class RecallBatch(NamedTuple):
    """Single-shot recall: ``inputs`` (B, delay+1, n_in), ``targets`` (B, n_in) to read at the last step."""

    inputs: jax.Array
    targets: jax.Array


def recall_batch(key, batch: int, n_in: int, delay: int) -> RecallBatch:
    """Draw ``batch`` single-shot recall sequences (jittable with ``batch, n_in, delay`` static).

    The target is standard normal, so its variance per coordinate is 1 and the normalised error is the MSE.

    Examples
    --------
    >>> b = recall_batch(0, batch=3, n_in=4, delay=2)
    >>> b.inputs.shape, bool((b.inputs[:, 0] == b.targets).all()), float(abs(b.inputs[:, 1:]).sum())
    ((3, 3, 4), True, 0.0)
    """
    check_positive_int("batch", batch)
    check_positive_int("n_in", n_in)
    check_positive_int("delay", delay, minimum=0)
    return _recall_jit(_key(key), int(batch), int(n_in), int(delay))


@partial(jax.jit, static_argnums=(1, 2, 3))
def _recall_jit(key, batch: int, n_in: int, delay: int) -> RecallBatch:
    return _recall(key, batch, n_in, delay)


def _recall(key, batch: int, n_in: int, delay: int) -> RecallBatch:
    x = jax.random.normal(key, (batch, n_in), jnp.float32)
    inputs = jnp.zeros((batch, delay + 1, n_in), jnp.float32).at[:, 0].set(x)
    return RecallBatch(inputs, x)


# ------------------------------------------------------------------------------------------ parentheses counting


class CountBatch(NamedTuple):
    """Parentheses counting: one-hot ``inputs`` (B, T, n_in), ``targets`` (B, T, types) int counts."""

    inputs: jax.Array
    targets: jax.Array


@dataclass(frozen=True)
class ParenthesesCounting:
    """Count the open parentheses of each type at every step, saturating at ``max_count``.

    Symbols (input ids): ``2i`` opens type ``i``, ``2i+1`` closes it, then ``noise`` distractor symbols; all
    ``2 * types + noise`` symbols are equally likely at every step. The count of a type rises by one at its
    opening symbol and falls by one at its closing symbol, never below zero (an unmatched closing symbol is
    ignored); the target is ``min(count, max_count)``, one ``max_count + 1``-way class per type and step.
    Opening and closing are equally likely, so each count is a reflected random walk: the task needs an
    unbounded counter remembered over the whole sequence, which is what makes it hard to train.

    Parameters
    ----------
    time : int, default 50
    types : int, default 2
    noise : int, default 2
        Number of distractor symbols.
    max_count : int, default 5

    Examples
    --------
    >>> task = ParenthesesCounting(time=6, types=1, noise=1, max_count=2)
    >>> b = task.sample(0, batch=2)
    >>> b.inputs.shape, b.targets.shape, task.n_out
    ((2, 6, 3), (2, 6, 1), 3)
    """

    time: int = 50
    types: int = 2
    noise: int = 2
    max_count: int = 5

    name = "parentheses"

    def __post_init__(self) -> None:
        check_positive_int("time", self.time)
        check_positive_int("types", self.types)
        check_positive_int("noise", self.noise, minimum=0)
        check_positive_int("max_count", self.max_count)

    @property
    def n_in(self) -> int:
        """Input symbols: an opening and a closing one per type, then the noise symbols."""
        return 2 * self.types + self.noise

    @property
    def classes(self) -> int:
        """Classes per type (counts 0 .. max_count)."""
        return self.max_count + 1

    @property
    def n_out(self) -> int:
        """Logits per step: ``classes`` for each type, concatenated."""
        return self.types * self.classes

    def describe(self) -> dict:
        """Parameters as a JSON-ready dict."""
        return {"task": self.name, **asdict(self)}

    def label_distribution(self) -> np.ndarray:
        """Exact law of one type's target at every step: array ``(time, classes)``, rows summing to 1.

        A type's count is a random walk reflected at 0: each step it opens with probability ``1/n_in``,
        closes with ``1/n_in`` (ignored at 0) and stays otherwise; the target saturates at ``max_count``.
        Every type has the same law. The recursion is over the count (0 .. time), so it costs
        ``O(time^2)``.

        Returns
        -------
        numpy.ndarray
            ``P[t, c]`` = probability that the target at step ``t + 1`` is ``c``.

        Raises
        ------
        TnrnnError
            ``time`` over 20000 (the recursion would take minutes).

        Examples
        --------
        >>> P = ParenthesesCounting(time=2, types=1, noise=0, max_count=3).label_distribution()
        >>> P.tolist()  # one step: open (count 1) or close (ignored, 0), each 1/2
        [[0.5, 0.5, 0.0, 0.0], [0.5, 0.25, 0.25, 0.0]]
        """
        if self.time > 20000:
            raise TnrnnError(f"the exact label law needs time <= 20000 (O(time^2) work), got {self.time}")
        p = 1.0 / self.n_in
        count = np.zeros(self.time + 2)
        count[0] = 1.0
        rows = []
        for _ in range(self.time):
            nxt = (1.0 - 2.0 * p) * count
            nxt[1:] += p * count[:-1]  # open
            nxt[:-1] += p * count[1:]  # close
            nxt[0] += p * count[0]  # a close at 0 is ignored
            count = nxt
            row = count[: self.classes].copy()
            row[-1] += count[self.classes:].sum()  # saturation at max_count
            rows.append(row)
        return np.array(rows)

    def no_learning_loss(self, targets=None) -> float:
        """Cross-entropy (nats) of the predictor that ignores the input and outputs the per-step label law.

        Parameters
        ----------
        targets : array (B, time, types), optional
            Score the predictor on these labels (e.g. a held-out batch); default its expected loss, the mean
            over steps of the entropy of [`label_distribution`][tnrnn.capacity.tasks.ParenthesesCounting.label_distribution] (the same for every type).

        Returns
        -------
        float
            Mean per step and type, in nats, comparable with the training loss.

        Examples
        --------
        >>> task = ParenthesesCounting(time=1, types=1, noise=0, max_count=2)
        >>> round(task.no_learning_loss(), 6) == round(float(np.log(2)), 6)  # count 0 or 1, each 1/2
        True
        """
        P = self.label_distribution()
        if targets is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                ent = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=1)
            return float(ent.mean())
        y = np.asarray(targets)
        if y.ndim != 3 or y.shape[1:] != (self.time, self.types):
            raise TnrnnError(f"targets must have shape (batch, {self.time}, {self.types}), got {y.shape}")
        steps = np.arange(self.time)[None, :, None]
        with np.errstate(divide="ignore"):
            return float(-np.log(P[steps, y]).mean())

    def sample(self, key, batch: int) -> CountBatch:
        """Draw ``batch`` sequences (deterministic in ``key``; an int is a seed)."""
        check_positive_int("batch", batch)
        return _count_jit(self, _key(key), int(batch))

    def _sample(self, key, batch: int) -> CountBatch:
        ids = jax.random.randint(key, (batch, self.time), 0, self.n_in)
        kinds = jnp.arange(self.types)
        delta = (ids[..., None] == 2 * kinds).astype(jnp.int32) - (ids[..., None] == 2 * kinds + 1).astype(jnp.int32)

        def step(count, d):
            count = jnp.maximum(count + d, 0)
            return count, count

        _, counts = jax.lax.scan(step, jnp.zeros((batch, self.types), jnp.int32), jnp.swapaxes(delta, 0, 1))
        targets = jnp.minimum(jnp.swapaxes(counts, 0, 1), self.max_count)
        return CountBatch(jax.nn.one_hot(ids, self.n_in, dtype=jnp.float32), targets.astype(jnp.int32))


@partial(jax.jit, static_argnums=(0, 2))
def _count_jit(task, key, batch: int) -> CountBatch:
    return task._sample(key, batch)
