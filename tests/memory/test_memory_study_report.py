"""The memory study summaries: every interval inside [0, 1] (a t-interval of three seeds near 1 is not),
computed by the shared statistics, and the sweep command recovered from the provenance record."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from tnrnn.memory.study_report import SOLVED, accuracy_stats, main, summarize


def _rec(seed: int, acc: float, T: int = 20) -> dict:
    return {"status": "ok", "seconds": 1.0, "params": {"steps": 5}, "result": {
        "cell": "scornn", "depth": 2, "time": T, "seed": seed, "accuracy": acc, "width": 4, "num_params": 99,
        "steps": 5, "per_class": {"0/2": acc, "2/2": 1.0}, "no_vs_half_accuracy": acc, "chance": 1 / 3, "task": {}}}


def test_intervals_stay_in_unit_range_where_a_t_interval_leaves_it():
    accs = [0.72, 1.0, 1.0]  # mean 0.907, t-interval upper end about 1.29
    row = summarize([_rec(s, a) for s, a in enumerate(accs)])["rows"][0]
    a = row["accuracy"]
    assert 0.0 <= a["ci_low"] <= a["mean"] <= a["ci_high"] <= 1.0
    # independent check: a bootstrap end is the mean of some resample with replacement of the three values
    possible = {round(float(np.mean(c)), 12) for c in itertools.combinations_with_replacement(accs, 3)}
    assert round(a["ci_low"], 12) in possible and round(a["ci_high"], 12) in possible
    assert a["success"]["successes"] == sum(v >= SOLVED for v in accs) and a["success"]["n"] == 3
    lo, hi = a["success"]["interval"]
    assert 0.0 <= lo <= 2 / 3 <= hi <= 1.0
    assert row["per_class"]["2/2"]["ci_low"] == row["per_class"]["2/2"]["ci_high"] == 1.0
    assert a["values"] == accs and row["seeds"] == [0, 1, 2]


def test_single_seed_has_no_interval():
    a = accuracy_stats([0.4, None])
    assert a["n"] == 1 and a["ci_low"] is None and a["success"]["successes"] == 0


def test_regeneration_keeps_the_sweep_command(tmp_path):
    prov = {"kind": "provenance", "argv": ["/x/tnrnn/__main__.py", "memory-sweep", "--cells", "scornn"]}
    results = tmp_path / "r.jsonl"
    results.write_text("\n".join(json.dumps(r) for r in [prov, _rec(0, 0.5), _rec(1, 0.95)]) + "\n")
    pytest.importorskip("matplotlib")
    assert main([str(results), str(tmp_path / "s")]) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["regenerate"]["sweep"] == "tnrnn memory-sweep --cells scornn"
    assert summary["runs"] == 2 and (tmp_path / "s.png").exists()
