"""Published separation-rank values: formulas, applicability, and contradictions found by exact computation."""

from __future__ import annotations

import json
import math

import pytest

from tests.bounds.test_algebraic import ANCHORS, onehot_rank, sample_rank
from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import TnrnnError
from tnrnn.bounds.algebraic import best_bound, trivial_bound, upper_bounds
from tnrnn.bounds.theory import TheoryValue, contradictions, theory_values
from tnrnn.rac.spec import RACSpec


def _by_name(values: list[TheoryValue]) -> dict[str, TheoryValue]:
    return {v.name: v for v in values}


@pytest.mark.parametrize("R,M,T", [(3, 2, 2), (3, 2, 4), (2, 3, 6), (5, 2, 8), (1, 4, 4)])
def test_shallow_theorem_value_and_brute_force(R, M, T):
    v = _by_name(theory_values(RACSpec(1, R, M), T))["shallow"]
    assert (v.kind, v.relation, v.applies) == ("theorem", "=", True)
    assert v.value == min(R, M ** (T // 2))
    if M**T <= 4096:
        assert onehot_rank(RACSpec(1, R, M), T, "start-end") == v.value
    assert v.contradicted_by(lower=v.value, upper=v.value) is None


def test_depth2_theorem_is_a_valid_lower_bound():
    for T, anchor in zip((2, 4, 6, 8), ANCHORS[(2, 2, 2)]):
        v = _by_name(theory_values(RACSpec(2, 2, 2), T))["depth-2"]
        assert v.applies and v.relation == ">=" and v.kind == "theorem"
        assert v.value == math.comb(2 + T // 2 - 1, T // 2)  # ((min(M,R), T/2))
        assert v.value <= anchor
    for T, anchor in zip((2, 4, 6, 8), ANCHORS[(2, 3, 3)]):
        assert _by_name(theory_values(RACSpec(2, 3, 3), T))["depth-2"].value <= anchor
    # and below an independent brute-force rank
    assert onehot_rank(RACSpec(2, 3, 2), 6, "start-end") >= _by_name(theory_values(RACSpec(2, 3, 2), 6))["depth-2"].value


def test_depth_L_conjecture_does_not_apply_on_the_onehot_domain():
    spec, T = RACSpec(3, 3, 3), 4
    v = _by_name(theory_values(spec, T, "start-end", "onehot"))["depth-L"]
    assert (v.kind, v.relation, v.applies) == ("conjecture", ">=", False)
    assert v.value == 10
    assert trivial_bound(spec, T, "start-end", "onehot") == 9
    assert "does not apply on the one-hot domain (exceeds the trivial bound)" in v.note
    assert "false" not in v.note and "refuted" not in v.note
    rank = onehot_rank(spec, T, "start-end")
    assert rank == 9  # docs/theory.md: the one-hot table has rank 9
    # not applicable, so never reported as a contradiction
    assert contradictions(theory_values(spec, T, "start-end", "onehot"), rank, 9) == []
    # on the continuous domain it applies, and an upper bound below it would contradict it
    vc = _by_name(theory_values(spec, T, "start-end", "continuous"))["depth-L"]
    assert vc.value == 10 and vc.applies and "does not apply" not in vc.note
    msgs = contradictions(theory_values(spec, T, "start-end", "continuous"), 9, 9)
    assert len(msgs) == 1 and "depth-L conjecture" in msgs[0]


def test_sources_are_attributed_correctly():
    from tnrnn.bounds.theory import MINCUT_SOURCE, SOURCE

    assert "Sharir" in SOURCE and "1710.09431" in SOURCE and "Yakira" not in SOURCE
    assert "Yakira" in MINCUT_SOURCE


def test_depth_L_conjecture_consistent_with_anchors_where_they_allow():
    for T, anchor in zip((2, 4, 6, 8), ANCHORS[(3, 3, 2)]):
        vals = theory_values(RACSpec(3, 2, 3), T)
        v = _by_name(vals)["depth-L"]
        assert v.value == math.comb(2 + math.comb(T // 2 + 1, 2) - 1, math.comb(T // 2 + 1, 2))
        assert v.value <= anchor
        bounds, _ = upper_bounds(RACSpec(3, 2, 3), T, "start-end", "onehot")
        assert contradictions(vals, anchor, best_bound(bounds)[0]) == []


def test_continuous_domain_depth2_lower_bound_below_sampled_rank():
    spec = RACSpec(2, 2, 2)
    v = _by_name(theory_values(spec, 4, "start-end", "continuous"))["depth-2"]
    assert sample_rank(spec, 4, "start-end", n=10) >= v.value


def test_applicability_and_equality_contradictions():
    vals = _by_name(theory_values(RACSpec(2, 2, 2), 6, "odd-even"))
    assert not any(v.applies for v in vals.values())
    assert all("Start-End" in v.note for v in vals.values())
    assert vals["depth-2"].contradicted_by(upper=1) is None  # not applicable: never contradicted
    shallow = _by_name(theory_values(RACSpec(1, 3, 2), 4))["shallow"]
    assert "lower bound is 4" in shallow.contradicted_by(lower=4)
    assert "upper bound is 2" in shallow.contradicted_by(upper=2)
    only = [v.name for v in theory_values(RACSpec(3, 2, 2), 8) if v.applies]
    assert only == ["depth-L"]


def test_json_and_huge_values():
    vals = theory_values(RACSpec(4, 3, 3), 1024, "start-end", "continuous")
    data = json.loads(json.dumps([v.to_json() for v in vals]))
    assert [d["name"] for d in data] == ["shallow", "depth-2", "depth-L"]
    for d in data:
        assert set(d) >= {"name", "kind", "relation", "value", "value_log2", "applies", "source", "note"}
    conj = _by_name(vals)["depth-L"].value
    assert conj == math.comb(math.comb(512 + 2, 3) + 2, 2)  # ((3, C(T/2+L-2, L-1)))
    assert ExactCount.from_json(data[2]["value"]) == conj and set(data[2]["value"]) == {"value", "log2"}


def test_bad_input():
    with pytest.raises(TnrnnError):
        theory_values(RACSpec(2, 2, 2), 5, "start-end")
    with pytest.raises(TnrnnError):
        theory_values(RACSpec(2, 2, 2), 4, "start-end", "grid")


@pytest.mark.parametrize("part", ["1,2,3", "4,5,6", "start-end"])
def test_custom_side_equal_to_start_end_is_start_end(part):
    # side A = 1..T/2 (or T/2+1..T) given as steps is the Start-End partition: the theorems apply to it
    vals = _by_name(theory_values(RACSpec(2, 2, 2), 6, part))
    assert vals["depth-2"].applies and not vals["shallow"].applies
    assert not _by_name(theory_values(RACSpec(2, 2, 2), 6, "1,2,4"))["depth-2"].applies
