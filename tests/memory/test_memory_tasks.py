"""Task generators against the authors' definitions: padding, offset, class balance, forced mismatches,
the copying layout, determinism under a seed, bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import TnrnnError
from tnrnn.memory.tasks import CopyingMemory, StartEndHalves, StartEndSimilarity, make_task


def _np(batch):
    return tuple(np.asarray(a) for a in (batch.inputs, batch.targets, batch.mask))


def read_ses(ids: np.ndarray, T: int, m: int, blank: int) -> tuple[int, int]:
    """Independent reader of one SES sequence: (offset, matching positions); asserts the layout."""
    half = T // 2
    first = np.flatnonzero(ids[:half] != blank)
    second = np.flatnonzero(ids[half:] != blank)
    assert len(first) == m and np.array_equal(first, second), "both words: m symbols, same offset"
    offset = int(first[0])
    assert np.array_equal(first, offset + np.arange(m)), "a contiguous word"
    return offset, int((ids[offset:offset + m] == ids[half + offset:half + offset + m]).sum())


def test_reader_on_hand_built_sequences():
    # T = 12, m = 3, 4 symbols, blank 4: the word [1 2 3] at offset 1, then [1 0 3] at offset 1 of the
    # second half: two of three positions match.
    ids = np.array([4, 1, 2, 3, 4, 4, 4, 1, 0, 3, 4, 4])
    assert read_ses(ids, 12, 3, 4) == (1, 2)
    with pytest.raises(AssertionError):
        read_ses(np.array([4, 1, 2, 3, 4, 4, 1, 0, 3, 4, 4, 4]), 12, 3, 4)  # offsets differ


# A few fixed shapes (each compiles once) and many seeds (no recompilation): (T, n, m, batch).
SES_SHAPES = [(12, 3, 2, 31), (20, 8, 6, 30), (8, 2, 4, 9), (40, 8, 10, 60)]


@settings(max_examples=20, deadline=None)
@given(shape=st.sampled_from(SES_SHAPES), seed=st.integers(0, 2**31 - 1))
def test_ses_layout_labels_and_forced_mismatches(shape, seed):
    T, n, m, batch = shape
    task = StartEndSimilarity(time=T, symbols=n, span=m)
    x, y, mask = _np(task.sample(seed, batch))
    assert x.shape == (batch, T, n + 1) and (x.sum(-1) == 1).all()
    ids = x.argmax(-1)
    labels = y[:, -1]
    counts = np.bincount(labels, minlength=3)
    assert counts.max() - counts.min() <= 1 and counts.sum() == batch  # balanced classes
    for row, label in zip(ids, labels):
        offset, matches = read_ses(row, T, m, blank=n)
        assert 0 <= offset < max(T // 2 - m, 1)  # offset in [0, T/2 - m)
        # exactly 0, m//2 or m matches: every other compared position is forced to differ
        assert matches == (0, m // 2, m)[label]
    assert mask[:, -1].all() and mask[:, :-1].sum() == 0 and (y[:, :-1] == 0).all()


def test_ses_offsets_cover_their_range_and_symbols_are_uniform():
    task = StartEndSimilarity(time=20, symbols=4, span=6)  # offsets 0..3
    ids = _np(task.sample(5, 900))[0].argmax(-1)
    offsets = {read_ses(r, 20, 6, 4)[0] for r in ids}
    assert offsets == {0, 1, 2, 3}
    words = ids[ids != 4]
    freq = np.bincount(words, minlength=4) / words.size
    assert np.abs(freq - 0.25).max() < 0.02  # a forced mismatch favours no symbol


def test_ses_full_span_has_no_padding():
    ids = _np(StartEndSimilarity(time=8, symbols=3, span=4).sample(0, 12))[0].argmax(-1)
    assert (ids != 3).all()


def test_ses_deterministic_under_seed():
    task = StartEndSimilarity(time=20, symbols=4, span=5)
    a, b, c = _np(task.sample(3, 30)), _np(task.sample(jax.random.PRNGKey(3), 30)), _np(task.sample(4, 30))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_ses_sizes_and_labels():
    task = StartEndSimilarity(time=80)
    assert (task.symbols, task.span, task.n_in, task.n_out) == (32, 30, 33, 3)
    assert task.chance == pytest.approx(1 / 3) and task.class_labels == ("0/30", "15/30", "30/30")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"time": 10, "span": 6}, r"at most T/2 = 5"),
        ({"time": 9, "span": 2}, "even"),
        ({"time": 2, "span": 2}, "time must be"),
        ({"time": 10, "span": 1}, "span must be"),
        ({"time": 10, "span": 2, "symbols": 1}, "symbols must be"),
        ({"time": 10.5, "span": 2}, "time must be"),
    ],
)
def test_ses_bad_parameters(kwargs, message):
    with pytest.raises(TnrnnError, match=message):
        StartEndSimilarity(**kwargs)


def test_ses_halves_compares_the_whole_halves():
    task = StartEndHalves(time=10, symbols=3)
    x, y, _ = _np(task.sample(1, 30))
    ids = x.argmax(-1)
    agree = (ids[:, :5] == ids[:, 5:]).sum(1)
    np.testing.assert_array_equal(agree, np.array([0, 2, 5])[y[:, -1]])


# -------------------------------------------------------------------------------------------- copying


@settings(max_examples=15, deadline=None)
@given(shape=st.sampled_from([(2, 1, 1), (8, 3, 5), (5, 6, 2)]), seed=st.integers(0, 2**31 - 1))
def test_copy_structure(shape, seed):
    n, m, delay = shape
    task = CopyingMemory(symbols=n, span=m, delay=delay)
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


def test_copy_hand_built_example():
    # symbols 0..2, blank 3, marker 4; span 2, delay 3: T = 7, the marker 2 steps before the end
    x, y, mask = _np(CopyingMemory(symbols=3, span=2, delay=3).sample(0, 1))
    ids = x.argmax(-1)[0]
    a, b = ids[:2]
    np.testing.assert_array_equal(ids, [a, b, 3, 3, 4, 3, 3])
    np.testing.assert_array_equal(y[0, -2:], [a, b])
    np.testing.assert_array_equal(mask[0], [0, 0, 0, 0, 0, 1, 1])


@pytest.mark.parametrize("n, m, delay", [(8, 10, 10), (32, 30, 10), (3, 1, 1)])
def test_copy_layout_against_the_standard_definition(n, m, delay):
    """Pins what the CopyingMemory docstring states: the marker at m + B - 1 as in Arjovsky et al. (2016), no
    blank output class, exactly the m recalled steps scored, and the loss blind to every other step."""
    from tnrnn.memory.fit import sequence_loss

    task = CopyingMemory(symbols=n, span=m, delay=delay)
    x, y, mask = _np(task.sample(3, 6))
    ids = x.argmax(-1)
    assert np.flatnonzero(ids[0] == n + 1).tolist() == [m + delay - 1]  # one marker, at m + B - 1
    assert task.time == 2 * m + delay and task.n_out == n and task.n_in == n + 2  # no blank output class
    assert y.max() < n  # no target is a blank class
    assert (mask.sum(1) == m).all() and mask[:, -m:].all()  # the m recalled steps, and only they, scored
    # the loss ignores the unscored steps: changing the logits there changes nothing
    logits = np.random.default_rng(0).normal(size=(6, task.time, n)).astype(np.float32)
    other = logits.copy()
    other[:, : task.time - m] += 50.0 * np.random.default_rng(1).normal(size=(6, task.time - m, n))
    (l1, a1), (l2, a2) = (sequence_loss(jnp.asarray(v), jnp.asarray(y), jnp.asarray(mask)) for v in (logits, other))
    assert float(l1) == pytest.approx(float(l2)) and float(a1["accuracy"]) == float(a2["accuracy"])


def test_copy_deterministic_and_chance():
    task = CopyingMemory(symbols=8, span=5, delay=10)
    a, b = _np(task.sample(1, 4)), _np(task.sample(1, 4))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], _np(task.sample(2, 4))[0])
    assert task.chance == 1 / 8 and task.n_out == 8


@pytest.mark.parametrize(
    "kwargs, message",
    [({"delay": -3}, "delay must be >= 1"), ({"delay": 0}, "delay must be >= 1"), ({"span": 0}, "span"),
     ({"symbols": 1}, "symbols")],
)
def test_copy_bad_parameters(kwargs, message):
    with pytest.raises(TnrnnError, match=message):
        CopyingMemory(**kwargs)


def test_make_task():
    assert make_task("copy", time=30, span=5, symbols=8).delay == 20
    assert make_task("copying", time=80).delay == 20
    assert make_task("ses", time=80).span == 30
    assert make_task("ses-halves", time=12).m == 6
    with pytest.raises(TnrnnError, match="unknown task"):
        make_task("parity", time=4)
    with pytest.raises(TnrnnError, match="delay T - 2\\*span = -2"):
        make_task("copying", time=8, span=5)
    with pytest.raises(TnrnnError, match="needs a sequence length"):
        make_task("ses")
