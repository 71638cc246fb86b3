"""Capacity task generators: deterministic under a seed, balanced labels, counts match a reference."""

from __future__ import annotations

import numpy as np
import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.capacity.tasks import ParenthesesCounting, memorisation_set, recall_batch


def test_memorisation_set_is_deterministic_distinct_and_balanced():
    a, b, c = memorisation_set(3, 200, 10), memorisation_set(3, 200, 10), memorisation_set(4, 200, 10)
    for x, y in zip(a, b):
        assert np.array_equal(np.asarray(x), np.asarray(y))
    assert not np.array_equal(np.asarray(a.inputs), np.asarray(c.inputs))
    x = np.asarray(a.inputs)
    assert set(np.unique(x[:, 0])) == {-1.0, 1.0} and not x[:, 1:].any()  # binary at step 1, silent after
    assert len({tuple(r) for r in x[:, 0]}) == 200  # distinct inputs
    labels = np.asarray(a.targets)[:, -1]
    assert labels.sum() == 100  # exactly balanced
    assert np.asarray(a.mask)[:, -1].all() and not np.asarray(a.mask)[:, :-1].any()


def test_memorisation_set_refuses_more_samples_than_inputs():
    with pytest.raises(TnrnnError, match="distinct binary inputs"):
        memorisation_set(0, 17, 4)
    with pytest.raises(TnrnnError):
        memorisation_set(0, 1, 4)


def test_recall_batch_is_deterministic():
    a, b = recall_batch(5, 8, 6, 3), recall_batch(5, 8, 6, 3)
    assert np.array_equal(np.asarray(a.inputs), np.asarray(b.inputs))
    assert a.inputs.shape == (8, 4, 6)
    assert np.array_equal(np.asarray(a.inputs[:, 0]), np.asarray(a.targets))
    assert not np.asarray(a.inputs[:, 1:]).any()
    assert not np.array_equal(np.asarray(recall_batch(6, 8, 6, 3).targets), np.asarray(a.targets))


def _reference_counts(ids: np.ndarray, types: int, max_count: int) -> np.ndarray:
    out = np.zeros(ids.shape + (types,), int)
    for b in range(ids.shape[0]):
        count = [0] * types
        for t, s in enumerate(ids[b]):
            if s < 2 * types:
                kind, closing = divmod(int(s), 2)
                count[kind] = max(0, count[kind] + (-1 if closing else 1))
            out[b, t] = [min(c, max_count) for c in count]
    return out


def test_parentheses_targets_match_a_reference_count():
    task = ParenthesesCounting(time=40, types=2, noise=2, max_count=3)
    batch = task.sample(7, 32)
    ids = np.asarray(batch.inputs).argmax(-1)
    assert np.array_equal(np.asarray(batch.targets), _reference_counts(ids, 2, 3))
    again = task.sample(7, 32)
    assert np.array_equal(np.asarray(again.inputs), np.asarray(batch.inputs))
    assert not np.array_equal(np.asarray(task.sample(8, 32).inputs), np.asarray(batch.inputs))


def test_parentheses_opening_and_closing_are_balanced_and_every_count_occurs():
    task = ParenthesesCounting(time=50, types=2, noise=2, max_count=5)
    b = task.sample(0, 512)
    ids = np.asarray(b.inputs).argmax(-1)
    freq = np.bincount(ids.ravel(), minlength=task.n_in) / ids.size
    assert np.allclose(freq, 1 / task.n_in, atol=0.01)  # every symbol equally likely, opening = closing
    counts = np.bincount(np.asarray(b.targets).ravel(), minlength=task.classes)
    assert (counts > 0.02 * counts.sum()).all()  # no class is missing or negligible


def test_parentheses_bad_arguments():
    with pytest.raises(TnrnnError):
        ParenthesesCounting(time=0)
    with pytest.raises(TnrnnError):
        ParenthesesCounting(types=0)
    with pytest.raises(TnrnnError):
        ParenthesesCounting(noise=-1)


@pytest.mark.parametrize("time, types, noise, max_count", [(30, 2, 2, 5), (12, 1, 0, 2), (20, 3, 1, 4)])
def test_no_learning_baseline_equals_a_monte_carlo_estimate(time, types, noise, max_count):
    """The exact per-step label law and its mean entropy against frequencies counted on sampled sequences."""
    task = ParenthesesCounting(time=time, types=types, noise=noise, max_count=max_count)
    y = np.asarray(task.sample(3, 20000).targets)  # (B, T, types)
    freq = np.stack([np.bincount(y[:, t].ravel(), minlength=task.classes) / y[:, t].size for t in range(time)])
    law = task.label_distribution()
    assert law.shape == (time, task.classes) and np.allclose(law.sum(1), 1.0)
    assert np.abs(law - freq).max() < 0.02  # sampling error of 20000 x types draws is about 0.004
    with np.errstate(divide="ignore", invalid="ignore"):
        mc_entropy = -np.where(freq > 0, freq * np.log(freq), 0.0).sum(1).mean()
    assert task.no_learning_loss() == pytest.approx(mc_entropy, abs=0.01)
    # the same predictor scored on the sampled labels: its cross-entropy, close to the expected value
    assert task.no_learning_loss(y) == pytest.approx(task.no_learning_loss(), abs=0.01)
    # and well below the uniform guess over the classes
    assert task.no_learning_loss() < np.log(task.classes)


def test_no_learning_baseline_bad_targets_and_lengths():
    task = ParenthesesCounting(time=5, types=2)
    with pytest.raises(TnrnnError, match="shape"):
        task.no_learning_loss(np.zeros((4, 5, 1), int))
    with pytest.raises(TnrnnError, match="20000"):
        ParenthesesCounting(time=30000).label_distribution()
