"""Binary entropy and stored bits against the formula ``I = b (1 - H2(p))`` with p clipped to [1/2, 1]."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import TnrnnError
from tnrnn.capacity.info import binary_entropy, clip_accuracy, stored_bits

probs = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _h2(p: float) -> float:
    # the textbook formula, written out independently
    if p in (0.0, 1.0):
        return 0.0
    return -(p * math.log(p) + (1 - p) * math.log(1 - p)) / math.log(2)


def test_known_points():
    assert binary_entropy(0.5) == 1.0
    assert binary_entropy(1.0) == 0.0 and binary_entropy(0.0) == 0.0
    assert binary_entropy(0.25) == pytest.approx(0.8112781244591328, abs=1e-12)
    assert np.allclose(binary_entropy([0.5, 1.0, 0.25]), [1.0, 0.0, 0.8112781244591328])


@given(probs)
def test_h2_formula_and_symmetry(p):
    assert binary_entropy(p) == pytest.approx(_h2(p), abs=1e-12)
    assert binary_entropy(p) == pytest.approx(binary_entropy(1.0 - p), abs=1e-12)
    assert 0.0 <= binary_entropy(p) <= 1.0


@given(st.integers(min_value=0, max_value=10**6), st.floats(min_value=0.5, max_value=1.0))
def test_stored_bits_formula_above_chance(b, p):
    assert stored_bits(b, p) == pytest.approx(b * (1 - _h2(p)), rel=1e-12, abs=1e-9)


@given(st.integers(min_value=0, max_value=10**6), st.floats(min_value=0.0, max_value=0.5))
def test_below_chance_is_clipped_to_zero_bits(b, p):
    assert clip_accuracy(p) == 0.5
    assert stored_bits(b, p) == 0.0


@settings(max_examples=50)
@given(st.floats(min_value=0.5, max_value=1.0), st.floats(min_value=0.5, max_value=1.0))
def test_more_accuracy_stores_more(p, q):
    lo, hi = sorted((p, q))
    assert stored_bits(1000, lo) <= stored_bits(1000, hi) + 1e-9


def test_perfect_recall_stores_every_label():
    assert stored_bits(1234, 1.0) == 1234.0
    assert np.allclose(stored_bits([10, 20], [1.0, 0.5]), [10.0, 0.0])


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), float("inf")])
def test_bad_probability(p):
    with pytest.raises(TnrnnError, match="lie in"):
        binary_entropy(p)
    with pytest.raises(TnrnnError):
        stored_bits(10, p)


@pytest.mark.parametrize("b", [-1, 2.5])
def test_bad_sample_count(b):
    with pytest.raises(TnrnnError, match="b must"):
        stored_bits(b, 0.9)
