"""The references themselves, checked on cases small enough to do by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tests.reference import brute_table, brute_y, rank_over_q


def _params(W_I, W_H, W_O):
    return SimpleNamespace(W_I=[np.array(w) for w in W_I], W_H=[np.array(w) for w in W_H], W_O=np.array(W_O))


def test_brute_y_by_hand_depth_one():
    # R = 1, M = 2: h1 = W_I f(x1); h2 = (W_I f(x2)) * (W_H h1); y = W_O h2
    p = _params([[[2, 3]]], [[[5]]], [[7]])
    assert brute_y(p, [[1, 0], [0, 1]]) == 7 * (3 * (5 * 2))


def test_brute_table_of_a_shallow_width_one_rac_has_rank_one():
    p = _params([[[2, 3]]], [[[5]]], [[1]])
    rows = brute_table(2, 2, p, [1], [2])
    assert rows == [[20, 30], [30, 45]]
    assert rank_over_q(rows) == 1
