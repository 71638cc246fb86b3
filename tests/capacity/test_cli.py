"""``tnrnn capacity``: JSON + figure written, reruns resume from the results file, one-line errors (exit 2)."""

from __future__ import annotations

import json

import pytest

from tnrnn.base.io import read_json
from tnrnn.cli import main
from tnrnn.sweep import read_results

PNG = b"\x89PNG\r\n\x1a\n"


def test_mc_run_writes_json_figure_and_resumes(tmp_path, capsys):
    argv = ["capacity", "mc", "--quick", "--sizes", "3,5", "--kinds", "orthogonal", "--train-steps", "3000",
            "--test-steps", "3000", "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    summary = read_json(tmp_path / "capacity_mc.json")
    assert [(r["n"], round(r["analytic"], 6)) for r in summary["rows"]] == [(3, 3.0), (5, 5.0)]
    assert summary["training"]["train_steps"] == 3000 and printed["training"]["test_steps"] == 3000
    assert (tmp_path / "capacity_mc.png").read_bytes()[:8] == PNG
    records = read_results(tmp_path / "capacity_mc.jsonl").records
    assert len(records) == 2
    # a rerun finds both points finished: nothing is appended, the summary is the same
    assert main(argv) == 0
    capsys.readouterr()
    assert read_results(tmp_path / "capacity_mc.jsonl").records == records
    again = read_json(tmp_path / "capacity_mc.json")
    assert again["rows"] == summary["rows"]
    # the rerun trained nothing, so it keeps the wall time of the run that did the work
    assert again["training"]["wall_seconds"] == summary["training"]["wall_seconds"]
    # growing the grid runs only the new point
    assert main(argv[:4] + ["3,5,4"] + argv[5:]) == 0
    capsys.readouterr()
    assert len(read_results(tmp_path / "capacity_mc.jsonl").records) == 3


@pytest.mark.slow  # a real training in a worker process: about 30 s
def test_bits_run_prints_the_budget_beside_the_numbers(tmp_path, capsys):
    argv = ["capacity", "bits", "--quick", "--cells", "rnn", "--budgets", "120", "--b-multiples", "1",
            "--steps", "20", "--n-in", "8", "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["training"]["steps"] == 20 and printed["training"]["b_multiples"] == [1.0]
    assert "learning_rates" in printed["training"] and "total_point_seconds" in printed["training"]
    assert [row["num_params"] <= 120 for row in printed["table"]] == [True]
    assert set(printed["slopes"]) == {"rnn"}
    summary = read_json(tmp_path / "capacity_bits.json")
    assert summary["training"]["seeds"] == [0] and len(summary["sizes"]) == 1
    assert (tmp_path / "capacity_bits.png").read_bytes()[:8] == PNG


@pytest.mark.parametrize(
    "argv, message",
    [
        (["capacity", "bits", "--cells", "rnn,elman"], "unknown cell"),
        (["capacity", "bits", "--cells", "lstm", "--budgets", "20"], "too small"),
        (["capacity", "bits", "--lrs", "0.1,-1"], "expected a positive number"),
        (["capacity", "units", "--units", "x"], "integers"),
        (["capacity", "mc", "--spectral-radius", "1.5"], "spectral radius"),
        (["capacity", "mc", "--kinds", "sparse"], "orthogonal or gaussian"),
        (["capacity", "trainability", "--cells", "plusrnn", "--depths", "1"], "depth >= 2"),
        (["capacity", "trainability", "--workers", "2", "--dask-local", "2"], "--workers"),
        (["capacity", "volume"], "invalid choice"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(argv, message, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path)] if argv[1] != "volume" else argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing ran


def test_no_run_summarises_what_the_results_hold(tmp_path, capsys):
    base = ["capacity", "mc", "--quick", "--kinds", "orthogonal", "--train-steps", "2000", "--test-steps", "2000",
            "--out", str(tmp_path), "--no-progress"]
    assert main(base + ["--sizes", "3"]) == 0
    capsys.readouterr()
    lines = (tmp_path / "capacity_mc.jsonl").read_text()
    # ask for two sizes without running: only the stored one is summarised, nothing is appended
    assert main(base + ["--sizes", "3,4", "--no-run"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [row["n"] for row in printed["table"]] == [3]
    assert (tmp_path / "capacity_mc.jsonl").read_text() == lines
