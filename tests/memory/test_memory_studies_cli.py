"""``tnrnn memory-powered``: the dry run sizes the grid (configurations, runs, steps, a measured estimate)
without training it; a tiny real run writes the summary; bad settings exit 2 with one line."""

from __future__ import annotations

import json

import pytest

from tnrnn.cli import main
from tnrnn.memory.cells import num_params
from tnrnn.memory.powered import AUTHORS_STUDY, powered_points
from tnrnn.memory.tasks import CopyingMemory

TINY = ["--width", "4", "--depths", "1,2", "--delays", "2", "--steps", "4", "--seeds", ",".join(map(str, range(10)))]


def test_dry_run_counts_the_grid_and_trains_nothing_else(tmp_path, capsys, monkeypatch):
    import tnrnn.memory.vtrain_seeds as vt

    calls = []
    real = vt.train_seeds
    monkeypatch.setattr(vt, "train_seeds", lambda *a, **k: calls.append(a[1:5]) or real(*a, **k))
    results = tmp_path / "r.jsonl"
    assert main(["memory-powered", *TINY, "--dry-run", "--json", "--results", str(results)]) == 0
    plan = json.loads(capsys.readouterr().out)
    # independent count: the study's points as the runner builds them (equal width 4 at depths 1, 2; equal
    # parameters of depth 2 at width 4: depth 1 wider, depth 2 the same configuration, trained once)
    pts = powered_points(cell="scornn", symbols=8, span=10, delays=[2], depths=[1, 2], width=4, budget_depth=2,
                         seeds=range(10), protocol={"steps": 4, "min_steps": 4})
    assert plan["configurations"] == len(pts) == 3
    assert plan["runs"] == 30 and plan["steps_per_run"] == 4 and plan["optimiser_steps"] == 120
    assert plan["blocks"] == 3 and plan["estimated_seconds"] == pytest.approx(plan["seconds_per_step"] * 3 * 4)
    task = CopyingMemory(symbols=8, span=10, delay=2)
    params = [num_params("scornn", task.n_in, p["width"], p["depth"], task.n_out) for p in pts]
    assert plan["largest"]["seeds"] == 10 and plan["largest"]["params"] == max(params)
    assert "cpu" in plan["machine"] and "xla_flags" in plan["machine"]
    assert len(calls) == 2 and all(c[1:3] == (plan["largest"]["depth"], plan["largest"]["width"]) for c in calls)
    assert not results.exists()  # nothing trained, nothing written


def test_dry_run_text_on_the_authors_grid_counts_without_timing(capsys, monkeypatch):
    from tnrnn.cli import memory_studies

    keys = ("cell", "symbols", "span", "delays", "depths", "width", "budget_depth", "seeds", "protocol")
    real_plan = memory_studies.plan
    monkeypatch.setattr(memory_studies, "plan", lambda study: {
        **real_plan(study, measure=False), "timed_steps": 20, "seconds_per_step": 0.01, "estimated_seconds": 7200.0})
    assert main(["memory-powered", "--grid", "authors", "--dry-run"]) == 0
    out = capsys.readouterr().out
    pts = powered_points(**{k: AUTHORS_STUDY[k] for k in keys})
    n = len({(p["depth"], p["width"], p["delay"]) for p in pts})
    runs = sum(len(p["seeds"]) for p in pts)
    assert f"grid authors: {n} configurations x {runs // n} seeds = {runs} runs" in out
    assert "50,000 steps" in out and "2.0 h" in out and "L=3" in out


def test_a_tiny_real_run_writes_rows_and_comparisons(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["memory-powered", *TINY, "--results", str(tmp_path / "p.jsonl"), "--out", str(out),
                 "--no-progress"]) == 0
    summary = json.loads(out.with_suffix(".json").read_text())
    assert {r["setting"] for r in summary["rows"]} == {"width", "params"}
    assert all(len(r["seeds"]) == 10 and 0 <= r["success_interval"][0] <= r["success_interval"][1] <= 1
               for r in summary["rows"])
    assert summary["comparisons"] and all(0 <= c["p_holm"] <= 1 for c in summary["comparisons"])
    assert out.with_suffix(".png").exists() and "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("bad, message", [(["--seeds", "0,1,2"], "at least 10 seeds"),
                                          (["--depths", "2,3"], "depth 1"),
                                          (["--delays", "0"], "delay")])
def test_bad_settings_exit_2_with_one_line(bad, message, capsys):
    assert main(["memory-powered", "--dry-run", *bad]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
