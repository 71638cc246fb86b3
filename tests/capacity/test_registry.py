"""Studies as objects: the registry, configs, the adaptive b search and the run loop, the figures."""

from __future__ import annotations

import math

import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.capacity.bits import BitsStudy, next_multiple, search_status, summarize_bits
from tnrnn.capacity.plots import plot_bits, plot_trainability
from tnrnn.capacity.registry import STUDIES, get_study
from tnrnn.capacity.study import Option, Study, run_study

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_registered_study_has_presets_and_valid_points():
    for name, study in STUDIES.items():
        assert study.name == name and {"quick", "full"} <= set(study.presets)
        points = study.points(study.config("quick"), [])
        assert points and all(isinstance(p, dict) for p in points)
        assert {o.key for o in study.options} <= set(study.presets["full"])  # every flag sets a preset entry
    with pytest.raises(TnrnnError, match="unknown capacity study"):
        get_study("volume")
    with pytest.raises(TnrnnError, match="presets"):
        STUDIES["mc"].config("long")
    with pytest.raises(TnrnnError, match="no setting"):
        STUDIES["mc"].config("quick", {"depths": [1]})
    with pytest.raises(TnrnnError, match="kind"):
        Option("--x", "x", "complex")


def test_the_presets_asked_for_by_the_capacity_issue():
    bits = STUDIES["bits"].presets["long"]
    assert max(bits["b_multiples"]) >= 8 and bits["adaptive"] and bits["steps"] >= 20000
    assert {"rnn", "gru"} <= set(bits["cells"]) and len(bits["seeds"]) >= 3
    assert min(bits["budgets"]) <= 300 and max(bits["budgets"]) >= 1000
    train = STUDIES["trainability"].presets["full"]
    assert train["draws"] >= 50 and len(train["cells"]) >= 3 and 8 in train["depths"]


def test_search_status_extends_while_stored_bits_rise_and_stops_when_they_fall():
    base = [2, 4, 6, 8]
    assert search_status([(2, 1.0), (4, 2.0)], base, num_params=100, n_in=16)[0] is None  # base unfinished
    nxt, why = search_status([(2, 1.0), (4, 2.0), (6, 3.0), (8, 3.5)], base, num_params=100, n_in=16)
    assert nxt == next_multiple(8) == 10 and "rising" in why
    assert search_status([(2, 1.0), (4, 2.0), (6, 3.0), (8, 3.5), (10, 3.4)], base, num_params=100,
                         n_in=16) == (None, "stored bits fell from 3.5 at b = 8P to 3.4 at b = 10P")
    # a fall inside the base grid does not stop it early: the grid always reaches 8P, then the last step decides
    assert search_status([(2, 5.0), (4, 2.0), (6, 1.0), (8, 1.5)], base, num_params=100, n_in=16)[0] == 10
    # never beyond the distinct inputs
    nxt, why = search_status([(8, 3.0)], [8], num_params=100, n_in=9)
    assert nxt is None and "512 distinct inputs" in why


def _record(multiple: float, bits: float, P: int = 100) -> dict:
    runs = [{"learning_rate": 0.01, "seed": s, "bits": bits + s, "accuracy": 0.8, "diverged": False}
            for s in (0, 1)]
    return {"status": "ok", "seconds": 1.0, "result": {"cell": "rnn", "depth": 1, "budget": 120, "width": 9,
                                                        "num_params": P, "n_in": 16, "b": int(multiple * P),
                                                        "b_multiple": float(multiple), "runs": runs}}


def test_bits_points_grow_the_grid_until_the_stored_bits_fall():
    study = BitsStudy()
    cfg = study.config("quick", {"cells": ["rnn"], "budgets": [120], "b_multiples": [2, 8]})
    cfg["adaptive"] = True
    first = study.points(cfg, [])
    assert [p["b_multiple"] for p in first] == [2.0, 8.0]
    rising = [_record(2, 100.0), _record(8, 300.0)]
    assert [p["b_multiple"] for p in study.points(cfg, rising)] == [2.0, 8.0, 10.0]
    more = rising + [_record(10, 350.0)]
    assert [p["b_multiple"] for p in study.points(cfg, more)] == [2.0, 8.0, 10.0, 13.0]
    fell = more + [_record(13, 340.0)]
    assert [p["b_multiple"] for p in study.points(cfg, fell)] == [2.0, 8.0, 10.0, 13.0]  # no new point
    size = summarize_bits(fell, cfg)["sizes"][0]
    assert size["capacity_bits"] == 350.5 and size["best_b_multiple"] == 10.0 and size["peak_inside"]
    # a peak at the smallest b searched asks for a smaller b, until a smaller one stores less
    peak_low = [_record(2, 300.0), _record(8, 100.0)]
    assert [p["b_multiple"] for p in study.points(cfg, peak_low)] == [2.0, 8.0, 1.0]
    assert not summarize_bits(peak_low, cfg)["sizes"][0]["peak_inside"]
    bracketed = peak_low + [_record(1, 100.0)]
    assert [p["b_multiple"] for p in study.points(cfg, bracketed)] == [2.0, 8.0, 1.0]
    assert summarize_bits(bracketed, cfg)["sizes"][0]["peak_inside"]
    assert size["b_multiples_searched"] == [2.0, 8.0, 10.0, 13.0] and "fell" in size["stop_reason"]
    cfg["adaptive"] = False
    assert len(study.points(cfg, rising)) == 2


class _Squares(Study):
    """A study whose points are squares of 1, 2, ... until a square exceeds 10 (checks the run loop)."""

    name = "squares"
    help = description = "test"
    point_task = "tnrnn.sweep.demo:square"
    presets = {"quick": {}}

    def points(self, config, records):
        done = [r["result"]["square"] for r in records if r["status"] == "ok"]
        n = len(done) + (0 if done and max(done) > 10 else 1)
        return [{"x": x} for x in range(1, n + 1)]

    def summary(self, records, config):
        return {"rows": [r["result"] for r in records]}

    def table(self, summary):
        return summary["rows"]

    def plot(self, summary, path):
        raise AssertionError("not drawn here")


def test_run_study_runs_rounds_until_no_new_point(tmp_path):
    results = tmp_path / "sq.jsonl"
    records = run_study(_Squares(), {}, results, executor="serial", progress=False)
    assert [r["result"]["square"] for r in records] == [1, 4, 9, 16]
    # a rerun finds everything finished
    again = run_study(_Squares(), {}, results, executor="serial", progress=False)
    assert [r["result"]["square"] for r in again] == [1, 4, 9, 16]


def test_figures_draw_the_search_and_the_baseline(tmp_path):
    fell = [_record(2, 100.0), _record(8, 300.0), _record(10, 280.0)]
    summary = summarize_bits(fell, {"b_multiples": [2, 8], "steps": 5})
    assert plot_bits(summary, tmp_path / "b.png").read_bytes()[:8] == PNG
    row = {"cell": "gru", "depth": 8, "width": 3, "num_params": 90, "draws": 50, "baseline_loss": 1.42,
           "chance_loss": math.log(6), "diverged_fraction": 0.1, "above_initial_fraction": 0.2,
           "above_baseline_fraction": 0.5, "learned_nothing_fraction": 0.6, "failed_fraction": 0.3,
           "median_final_loss": 1.5, "best_final_loss": 0.4, "best_accuracy": 0.9, "median_initial_loss": 1.8}
    summary = {"rows": [row, {**row, "cell": "rnn", "median_final_loss": math.inf}], "baseline_loss": 1.42,
               "training": {"steps": 5}}
    assert plot_trainability(summary, tmp_path / "t.png").read_bytes()[:8] == PNG
    with pytest.raises(TnrnnError, match="no finished"):
        plot_trainability({"rows": []}, tmp_path / "x.png")
