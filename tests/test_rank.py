"""The separation-rank report (tnrnn/rank.py): bounds, certified lower bound, theory, JSON, the rank table."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.io import read_jsonl
from tnrnn.rac.spec import RACSpec
from tnrnn.rank import BOUND_NAMES, RankReport, rank_table, separation_rank, table_point


def multiset(n: int, k: int) -> int:
    return math.comb(n + k - 1, k)


@pytest.mark.parametrize("R", [1, 2, 3, 4])
@pytest.mark.parametrize("M", [1, 2, 3])
@pytest.mark.parametrize("T", [2, 4, 6])
def test_shallow_start_end_exact(R, M, T):
    if M ** (T // 2) > 100:
        pytest.skip("kept small")
    rep = separation_rank(RACSpec(1, R, M), T)
    assert rep.lower == min(R, M ** (T // 2))
    assert rep.exact and rep.upper == rep.lower


@pytest.mark.parametrize("L,M,R,T,expected", [(2, 2, 2, 8, 10), (2, 3, 3, 6, 27), (3, 3, 2, 6, 18), (1, 3, 3, 8, 3)])
def test_anchors_through_the_report(L, M, R, T, expected):
    rep = separation_rank(RACSpec(L, R, M), T)
    assert rep.lower == expected
    assert rep.lower <= rep.upper


@pytest.mark.parametrize("M,R,T", [(2, 2, 6), (2, 3, 4), (3, 3, 6)])
def test_depth2_lower_at_least_theorem(M, R, T):
    rep = separation_rank(RACSpec(2, R, M), T)
    assert rep.lower >= multiset(min(M, R), T // 2)
    # The depth-2 theorem (a ">=" statement) can never be contradicted by a correct computation.
    assert not any(row["contradicted"] for row in rep.theory_rows() if row["kind"] == "theorem")


partitions = st.sampled_from(["start-end", "odd-even", "custom"])


@settings(max_examples=15, deadline=None)
@given(L=st.integers(1, 3), R=st.integers(1, 3), M=st.integers(1, 3), half=st.integers(1, 3),
       kind=partitions, domain=st.sampled_from(["onehot", "continuous"]), data=st.data())
def test_property_lower_at_most_every_upper_bound(L, R, M, half, kind, domain, data):
    T = 2 * half
    if M**T > 729:
        M = 2
    if kind == "custom":
        part = sorted(data.draw(st.sets(st.integers(1, T), min_size=1, max_size=T - 1)))
    else:
        part = kind
    rep = separation_rank(RACSpec(L, R, M), T, part, domain, seeds=1)
    assert 1 <= rep.lower <= rep.upper
    for name in BOUND_NAMES:
        if rep.bounds[name] is not None:
            assert rep.lower <= rep.bounds[name]
            assert rep.upper <= rep.bounds[name]
    assert rep.bounds[rep.upper_source] == rep.upper
    assert rep.exact == (rep.upper == rep.lower)
    # A contradiction is only ever reported with its reason.
    assert len(rep.contradictions) == sum(r["contradicted"] for r in rep.theory_rows())


def test_onehot_conjecture_does_not_apply_and_is_not_contradicted():
    # docs/theory.md: L = 3, M = R = 3, T = 4: the depth-L conjecture says >= 10, the one-hot rank is 9.
    rep = separation_rank(RACSpec(3, 3, 3), 4)
    assert rep.lower == 9 and rep.exact
    assert not any(row["contradicted"] for row in rep.theory_rows()) and rep.contradictions == []
    row = [r for r in rep.theory_rows() if r["name"] == "depth-L"][0]
    assert row["value"]["value"] == "10" and not row["applies"]
    text = str(rep)
    assert "does not apply on the one-hot domain (exceeds the trivial bound)" in text and "CONTRADICTED" not in text


def test_continuous_domain_keeps_apart():
    onehot = separation_rank(RACSpec(2, 2, 2), 4)
    cont = separation_rank(RACSpec(2, 2, 2), 4, domain="continuous")
    assert (onehot.lower, cont.lower) == (4, 6)
    assert onehot.bounds["trivial"] == 4 and cont.bounds["trivial"] is None
    assert cont.upper >= 6
    assert onehot.to_json()["domain"] == "onehot" and cont.to_json()["domain"] == "continuous"


def test_report_json_and_text():
    rep = separation_rank(RACSpec(2, 3, 3), 6, seeds=[3, 5], primes=[1_000_003])
    assert isinstance(rep, RankReport)
    data = json.loads(json.dumps(rep.to_json()))
    for key in ("lower", "upper", "exact", "bounds", "theory", "certificate", "timings", "spec", "T", "partition",
                "domain", "upper_source", "contradictions"):
        assert key in data
    assert set(data["bounds"]) == set(BOUND_NAMES)
    assert data["lower"] == {"value": "27", "log2": math.log2(27)} and data["upper"]["value"] == str(rep.upper.exact())
    assert data["probabilistic"] is None  # exact: no probabilistic statement
    assert {r["seed"] for r in data["certificate"]["runs"]} <= {3, 5}
    for count in [data["upper"], data["lower"], *data["bounds"].values(), *(r["value"] for r in data["theory"])]:
        assert count is None or set(count) == {"value", "log2"}
    assert {r["prime"] for r in data["certificate"]["runs"]} == {1_000_003}
    assert {"bounds", "certify", "total"} <= set(data["timings"])
    for row in data["theory"]:
        assert {"name", "kind", "relation", "value", "value_log2", "applies", "contradicted"} <= set(row)
    text = str(rep)
    for word in ("lower (certified)", "upper (best)", "exact", "mincut", "state", "input", "trivial", "theory",
                 "seed 3"):
        assert word in text


def test_huge_request_answers_within_the_budget():
    # L = 4, T = 1024: every upper bound at once (closed-form min-cut), a certified lower bound within the budget,
    # and the report says what more would need.
    rep = separation_rank(RACSpec(4, 2, 2), 1024, domain="continuous", certify_seconds=1)
    assert rep.bounds["mincut"] == ExactCount.power(2, 22_632_191)
    assert 1 <= rep.lower <= rep.upper and not rep.exact
    assert rep.certificate.next_size is not None and rep.certificate.next_size["rows"] > rep.lower
    assert any(r.stop.startswith("time budget") for r in rep.certificate.runs)
    assert "more needs a" in str(rep)


def test_bounds_only():
    rep = separation_rank(RACSpec(4, 2, 2), 1024, domain="continuous", certify_seconds=0)
    assert rep.lower is None and rep.certificate is None and not rep.exact
    data = json.loads(json.dumps(rep.to_json()))
    assert data["lower"] is None and data["bounds"]["mincut"] == {"value": "2^22632191", "log2": 22632191.0}
    assert "bounds only" in str(rep)


def test_no_matrix_in_the_time_budget_leaves_the_lower_bound_open():
    rep = separation_rank(RACSpec(3, 64, 64), 400, certify_seconds=0.01)
    assert rep.lower is None and not rep.exact and rep.certificate.runs == []
    assert rep.certificate.next_size["rows"] >= 1 and rep.to_json()["lower"] is None
    assert "no certified lower bound" in str(rep) and "not computed (time budget)" in str(rep)


def test_gap_gets_a_separate_probabilistic_statement():
    # docs/theory.md: continuous L = 3, R = M = 2, T = 8: certified 106, every upper bound >= 110
    rep = separation_rank(RACSpec(3, 2, 2), 8, domain="continuous", seeds=2, primes=[1048573, 1000003],
                          certify_seconds=None)
    assert rep.lower == 106 and rep.upper == 110 and not rep.exact
    st = rep.statement
    assert st is not None and st.rank == 106 and 0 < st.epsilon < 0.01
    assert st.text.startswith("probabilistic, not certified") and "exact" not in st.text
    data = rep.to_json()
    assert data["probabilistic"]["kind"] == "probabilistic" and data["exact"] is False
    assert data["lower"]["value"] == "106"  # the certified value is reported apart from the statement
    assert "probabilistic, not certified" in str(rep)


def test_bad_input():
    with pytest.raises(TnrnnError, match="even"):
        separation_rank(RACSpec(2, 2, 2), 5)
    with pytest.raises(TnrnnError, match="domain"):
        separation_rank(RACSpec(2, 2, 2), 4, domain="real")
    with pytest.raises(TnrnnError):
        separation_rank(RACSpec(2, 2, 2), 4, partition="1,9")
    with pytest.raises(TnrnnError):
        separation_rank(RACSpec(2, 2, 2), 4, seeds=0)
    with pytest.raises(TnrnnError):
        separation_rank((2, 2, 2), 4)


def test_table_point_record():
    from tnrnn.report import TableRecord

    rec = table_point(2, 2, 2, 6)
    json.dumps(rec)
    for key in ("depth", "width", "features", "time", "domain", "partition", "lower", "upper", "upper_source",
                "exact", "theory", "certificate", "probabilistic"):
        assert key in rec
    # Deterministic: a rerun (or another executor) stores the same record.
    assert table_point(2, 2, 2, 6) == rec
    assert rec["lower"] == rec["upper"] == {"value": "8", "log2": 3.0} and rec["exact"] is True
    # the same count shape as rank --json, and the record reads back
    rep = separation_rank(RACSpec(2, 2, 2), 6).to_json()
    assert rep["upper"] == rec["upper"] and rep["lower"] == rec["lower"]
    assert TableRecord.from_json(rec).to_json() == rec


def test_rank_table_resumes(tmp_path):
    path = tmp_path / "table.jsonl"
    first = rank_table([1, 2], 2, 2, [2, 4], results=str(path), executor="serial", progress=False)
    assert [(r.depth, r.time, r.lower) for r in first] == [(1, 2, 2), (1, 4, 2), (2, 2, 2), (2, 4, 4)]
    def points_stored() -> int:
        return sum(1 for rec in read_jsonl(path) if "status" in rec)  # not the provenance lines

    lines = points_stored()
    again = rank_table([1, 2], 2, 2, [2, 4, 6], results=str(path), executor="serial", progress=False)
    assert points_stored() == lines + 2  # only the two new points ran
    assert [r.lower for r in again if r.time == 6] == [2, 8]


def test_rank_table_validates_before_running(tmp_path):
    path = tmp_path / "t.jsonl"
    with pytest.raises(TnrnnError, match="even"):
        rank_table([1], 2, 2, [2, 3], results=str(path), executor="serial", progress=False)
    with pytest.raises(TnrnnError, match="partition"):
        rank_table([1], 2, 2, [2], partition="1,2", results=str(path), executor="serial", progress=False)
    assert not path.exists()
    # oversized points are refused up front, as rank refuses them, never run as failed points
    with pytest.raises(ResourceError, match="time steps"):
        rank_table([3], 64, 64, [10**8], results=str(path), executor="serial", progress=False)
    assert not path.exists()


def test_upper_is_exact_count():
    rep = separation_rank(RACSpec(2, 2, 2), 4)
    assert isinstance(rep.upper, ExactCount)
    assert all(v is None or isinstance(v, (ExactCount, int)) for v in rep.bounds.values())


def test_seed_counts_are_checked_before_any_work():
    import numpy as np

    with pytest.raises(TnrnnError, match="at most"):
        separation_rank(RACSpec(1, 2, 2), 4, seeds=10**9)  # used to build a list of 10^9 seeds
    with pytest.raises(TnrnnError, match="at most"):
        table_point(1, 2, 2, 4, seeds=5000)
    assert separation_rank(RACSpec(1, 2, 2), 4, seeds=np.int64(2)).lower == 2  # numpy counts work like ints


def test_huge_T_refused_before_allocating():
    with pytest.raises(ResourceError, match="cells"):
        separation_rank(RACSpec(2, 2, 2), 10**6)
    with pytest.raises(ResourceError, match="time steps"):
        separation_rank(RACSpec(4, 8, 8), 10**8)  # partitions are never built as 10^8-long tuples


def test_certified_value_above_a_supplied_upper_bound_raises():
    from tnrnn.bounds.certify import CertificateError, certified_rank

    with pytest.raises(CertificateError, match="exceeds the supplied upper bound 3"):
        certified_rank(RACSpec(2, 2, 2), 6, upper=3)


def test_a_min_cut_from_the_caller_is_used_and_must_be_of_the_domain_form():
    import tnrnn
    from tnrnn.base.errors import TnrnnError

    spec = RACSpec(2, 2, 2)
    grid = tnrnn.network_mincut(tnrnn.build_network(spec, 6, form="grid"), "start-end")
    rep = separation_rank(spec, 6, mincut=grid, certify_seconds=0)
    assert rep.bounds["mincut"] == grid.value and "computed by the caller" in rep.bound_notes["mincut"]
    assert rep.bounds["mincut"] == separation_rank(spec, 6, certify_seconds=0).bounds["mincut"]
    continuous = tnrnn.network_mincut(tnrnn.build_network(spec, 6, form="continuous"), "start-end")
    with pytest.raises(TnrnnError, match="continuous form"):
        separation_rank(spec, 6, mincut=continuous, certify_seconds=0)
