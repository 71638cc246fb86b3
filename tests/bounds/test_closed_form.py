"""The closed form R^S(T/2, L) of the continuous Start-End min-cut against the structured DP and explicit max-flow."""

from __future__ import annotations

import math

import pytest

from tnrnn.base.counts import ExactCount
from tnrnn.bounds.algebraic import upper_bounds
from tnrnn.bounds.closed_form import closed_form_mincut, diagonal_count, is_start_end
from tnrnn.bounds.mincut import rac_mincut
from tnrnn.rac.partition import make_partition
from tnrnn.rac.spec import RACSpec


@pytest.mark.parametrize("L", range(1, 7))
def test_closed_form_equals_the_dp_over_a_grid(L):
    for T in range(2, 42, 2):
        for R, M in ((1, 1), (2, 2), (2, 3), (3, 3), (2, 7), (3, 2**40)):
            spec = RACSpec(L, R, M)
            closed = closed_form_mincut(spec, make_partition(T))
            assert closed == rac_mincut(spec, T, form="continuous").value, (L, T, R, M)


def test_closed_form_against_the_explicit_network():
    from tnrnn.bounds.cut_explicit import network_mincut
    from tnrnn.network.build import build_network

    for L, T in ((2, 6), (3, 6), (4, 4)):
        spec = RACSpec(L, 2, 2)
        explicit = network_mincut(build_network(spec, T, form="continuous"), make_partition(T))
        assert closed_form_mincut(spec, make_partition(T)) == explicit.value


def test_diagonal_count_is_symmetric_and_counts_diagonal_copies():
    for k in range(1, 12):
        for L in range(1, 12):
            assert diagonal_count(k, L) == diagonal_count(L, k)
            # copies of h[k + j, j] in the tree of h[2k, L]: monotone lattice paths up to the root
            paths = sum(math.comb((2 * k - (k + j)) + (L - j), L - j) for j in range(1, min(k, L) + 1))
            assert diagonal_count(k, L) == paths
    assert diagonal_count(512, 4) == 22_632_191


def test_closed_form_applies_only_where_proved():
    assert closed_form_mincut(RACSpec(3, 3, 2), make_partition(8)) is None  # M < R
    assert closed_form_mincut(RACSpec(3, 2, 2), make_partition(8, "odd-even")) is None
    assert is_start_end(make_partition(8, "5,6,7,8")) and not is_start_end(make_partition(8, "1,2,3"))
    assert closed_form_mincut(RACSpec(3, 2, 2), make_partition(8, "5,6,7,8")) == rac_mincut(RACSpec(3, 2, 2), 8).value


def test_upper_bounds_use_the_closed_form_on_the_continuous_domain():
    bounds, notes = upper_bounds(RACSpec(4, 2, 2), 1024, "start-end", "continuous")
    assert bounds["mincut"] == ExactCount.power(2, 22_632_191)
    assert "closed form" in notes["mincut"]
    # below the W_H cut R^C(T/2 + L - 1, L - 1)
    assert bounds["mincut"] < ExactCount.power(2, math.comb(512 + 3, 3))
