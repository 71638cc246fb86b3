"""The powered depth study: paired seeds, the per-seed protocol, and summaries whose intervals stay in [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.memory.powered import SUCCESS, powered_points, summarize_powered
from tnrnn.memory.tasks import CopyingMemory
from tnrnn.memory.vtrain_seeds import SeedProtocol, _data_key, train_seeds


def test_seeds_see_the_same_data_at_every_depth():
    task = CopyingMemory(symbols=3, span=2, delay=2)
    a = task._sample(_data_key(5, 1), 8)
    b = task._sample(_data_key(5, 1), 8)
    c = task._sample(_data_key(6, 1), 8)
    assert np.array_equal(np.asarray(a.inputs), np.asarray(b.inputs))
    assert not np.array_equal(np.asarray(a.inputs), np.asarray(c.inputs))


def test_a_seed_trains_the_same_alone_or_with_others():
    task = CopyingMemory(symbols=3, span=2, delay=2)
    proto = SeedProtocol(steps=6, eval_every=3, min_steps=0, val_size=8, test_size=8, batch_size=8)
    both = train_seeds(task, "scornn", 1, 4, [0, 1], proto)["runs"]
    alone = train_seeds(task, "scornn", 1, 4, [1], proto)["runs"]
    assert both[1]["seed"] == alone[0]["seed"] == 1
    np.testing.assert_allclose(both[1]["accuracy"], alone[0]["accuracy"], atol=1e-6)
    np.testing.assert_allclose([c[1] for c in both[1]["curve"]], [c[1] for c in alone[0]["curve"]], rtol=1e-4)


def test_protocol_stops_at_the_second_plateau_but_not_before_min_steps():
    task = CopyingMemory(symbols=3, span=2, delay=2)
    # a learning rate this small changes nothing: every check after the first is a bad check
    fast = SeedProtocol(steps=40, eval_every=2, patience=2, min_steps=0, val_size=8, test_size=8, batch_size=8,
                        learning_rate=1e-12, min_delta=1.0)
    run = train_seeds(task, "scornn", 1, 3, [0], fast)["runs"][0]
    assert run["stopped"] and run["plateaus"] == 2 and run["steps"] < 40
    held = SeedProtocol(**{**fast.to_json(), "min_steps": 30})
    run = train_seeds(task, "scornn", 1, 3, [0], held)["runs"][0]
    assert run["steps"] >= 30


def test_fewer_than_ten_seeds_or_no_depth_one_are_refused():
    with pytest.raises(TnrnnError, match="10 seeds"):
        powered_points(seeds=range(5))
    with pytest.raises(TnrnnError, match="depth 1"):
        powered_points(depths=[2, 3])


def test_summary_merges_seed_blocks_and_keeps_intervals_in_the_unit_interval():
    def rec(depth, width, params, accs, first):
        return {"cell": "scornn", "depth": depth, "width": width, "time": 30, "delay": 10, "num_params": params,
                "runs": [{"seed": first + i, "accuracy": a, "steps": 10, "stopped": True}
                         for i, a in enumerate(accs)]}

    recs = [rec(1, 16, 400, [0.5] * 10, 0), rec(1, 16, 400, [0.95] * 10, 10),
            rec(2, 16, 800, [1.0] * 10, 0), rec(2, 16, 800, [1.0] * 10, 10)]
    out = summarize_powered(recs, width=16, budget_depth=2)
    row = next(r for r in out["rows"] if r["setting"] == "width" and r["depth"] == 1)
    assert len(row["seeds"]) == 20 and row["successes"] == 10
    for r in out["rows"]:
        lo, hi = r["success_interval"]
        assert 0.0 <= lo <= r["success_rate"] <= hi <= 1.0
        if r["median_interval"]:
            assert 0.0 <= r["median_interval"][0] <= r["median_interval"][1] <= 1.0
    comp = next(c for c in out["comparisons"] if c["setting"] == "width")
    assert (comp["deeper_only_success"], comp["shallow_only_success"]) == (10, 0)
    assert comp["p_holm"] >= comp["p_value"]
    assert SUCCESS == 0.9
