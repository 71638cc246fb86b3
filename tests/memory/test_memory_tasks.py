"""Task generators: structure, label balance, exact agreement counts, determinism under a seed, bad input."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import TnrnnError
from tnrnn.memory.tasks import CopyingMemory, StartEndSimilarity, make_task


def _np(batch):
    return tuple(np.asarray(a) for a in batch)


# ------------------------------------------------------------------------------------ start-end similarity


# A few fixed shapes (each compiles once) and many seeds (no recompilation).
SES_SHAPES = [(4, 3, 2, 31), (6, 2, 6, 6), (10, 5, 7, 20), (3, 4, 3, 1)]  # (half, n, m, batch)


@settings(max_examples=20, deadline=None)
@given(shape=st.sampled_from(SES_SHAPES), seed=st.integers(0, 2**31 - 1))
def test_ses_labels_match_agreement_counts_and_are_balanced(shape, seed):
    half, n, m, batch = shape
    T = 2 * half
    task = StartEndSimilarity(time=T, alphabet=n, compare=m)
    x, y, mask = _np(task.sample(seed, batch))
    assert x.shape == (batch, T, n) and y.shape == (batch, T) and mask.shape == (batch, T)
    ids = x.argmax(-1)
    assert (x.sum(-1) == 1).all()  # one-hot
    labels = y[:, -1]
    # balanced: class counts differ by at most one
    counts = np.bincount(labels, minlength=3)
    assert counts.max() - counts.min() <= 1 and counts.sum() == batch
    # the label is exactly the agreement count over the m compared positions
    agree = (ids[:, :m] == ids[:, half:half + m]).sum(1)
    expect = np.select([labels == 0, labels == 1, labels == 2], [0, m // 2, m])
    np.testing.assert_array_equal(agree, expect)
    # scored only at the last step
    assert mask[:, -1].all() and mask[:, :-1].sum() == 0 and (y[:, :-1] == 0).all()


def test_ses_deterministic_under_seed():
    task = StartEndSimilarity(time=20, alphabet=4)
    a, b, c = _np(task.sample(3, 30)), _np(task.sample(jax.random.PRNGKey(3), 30)), _np(task.sample(4, 30))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_ses_symbols_roughly_uniform():
    # Disagreeing positions are shifted by a nonzero amount mod n, so no symbol is favoured.
    x, _, _ = _np(StartEndSimilarity(time=20, alphabet=4).sample(0, 600))
    freq = x.reshape(-1, 4).mean(0)
    assert np.abs(freq - 0.25).max() < 0.02


def test_ses_chance_and_sizes():
    task = StartEndSimilarity(time=10, alphabet=5)
    assert task.chance == pytest.approx(1 / 3)
    assert (task.n_in, task.n_out, task.m) == (5, 3, 5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"time": 10, "compare": 6}, r"at most T/2 = 5"),
        ({"time": 9}, "even"),
        ({"time": 2}, "time must be"),
        ({"time": 10, "compare": 1}, "compare must be"),
        ({"time": 10, "alphabet": 1}, "alphabet must be"),
        ({"time": 10.5}, "time must be"),
    ],
)
def test_ses_bad_parameters(kwargs, message):
    with pytest.raises(TnrnnError, match=message):
        StartEndSimilarity(**kwargs)


# -------------------------------------------------------------------------------------------- copying


@settings(max_examples=15, deadline=None)
@given(shape=st.sampled_from([(2, 1, 1), (8, 3, 5), (5, 6, 2)]), seed=st.integers(0, 2**31 - 1))
def test_copy_structure(shape, seed):
    n, m, delay = shape
    task = CopyingMemory(alphabet=n, symbols=m, delay=delay)
    T = task.time
    assert T == 2 * m + delay
    x, y, mask = _np(task.sample(seed, 5))
    ids = x.argmax(-1)
    assert x.shape == (5, T, n + 2)
    assert (ids[:, :m] < n).all()
    blank, marker = n, n + 1
    assert (ids[:, T - m - 1] == marker).all()
    others = np.delete(ids[:, m:], T - m - 1 - m, axis=1)
    assert (others == blank).all()
    np.testing.assert_array_equal(y[:, T - m:], ids[:, :m])
    assert mask[:, T - m:].all() and mask[:, :T - m].sum() == 0


def test_copy_deterministic_and_chance():
    task = CopyingMemory(alphabet=8, symbols=5, delay=10)
    a, b = _np(task.sample(1, 4)), _np(task.sample(1, 4))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], _np(task.sample(2, 4))[0])
    assert task.chance == 1 / 8 and task.n_out == 8


@pytest.mark.parametrize(
    "kwargs, message",
    [({"delay": -3}, "delay must be >= 1"), ({"delay": 0}, "delay must be >= 1"), ({"symbols": 0}, "symbols"),
     ({"alphabet": 1}, "alphabet")],
)
def test_copy_bad_parameters(kwargs, message):
    with pytest.raises(TnrnnError, match=message):
        CopyingMemory(**kwargs)


def test_make_task():
    assert make_task("copy", time=30, symbols=5, alphabet=8).delay == 20
    assert make_task("ses", time=12).m == 6
    with pytest.raises(TnrnnError, match="unknown task"):
        make_task("parity", time=4)
    with pytest.raises(TnrnnError, match="time must equal"):
        make_task("copy", time=30, symbols=5, delay=3)
    with pytest.raises(TnrnnError, match="delay must be"):
        make_task("copy", time=8, symbols=5)  # delay -2
