"""``tnrnn train`` and ``tnrnn memory-sweep``: outputs written, resume, one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tnrnn.base.io import read_json, read_jsonl
from tnrnn.cli import main

TINY = ["--symbols", "2", "--span", "2", "--steps", "4", "--eval-every", "2", "--batch-size", "8", "--eval-batch-size",
        "16", "--test-batch-size", "12"]
SMALL_SWEEP = ["--cells", "gru", "--depths", "1", "--times", "10", "--seeds", "0"]


def test_train_writes_metrics(tmp_path, capsys):
    out = tmp_path / "m.json"
    rc = main(["train", "--cell", "rnn", "--depth", "2", "--width", "4", "--task", "ses", "--time", "6", *TINY,
               "--out", str(out), "--no-progress"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    metrics = read_json(out)
    assert [h["step"] for h in metrics["history"]] == [2, 4]
    assert metrics["width"] == 4 and metrics["depth"] == 2 and metrics["cell"] == "rnn"
    assert 0.0 <= metrics["final"]["accuracy"] <= 1.0
    assert summary["num_params"] == metrics["num_params"] and "history" not in summary
    test = summary["test"]
    assert sum(test["class_counts"].values()) == 12 and set(test["per_class"]) == {"0/2", "1/2", "2/2"}
    assert test["chance"] == pytest.approx(1 / 3) and 0.0 <= test["no_vs_half_accuracy"] <= 1.0


@pytest.mark.parametrize("task, cell", [("ses", "gru"), ("copying", "gru"), ("ses", "scornn")])
def test_train_authors_tasks_report_per_class_accuracy(task, cell, capsys):
    # the command, shrunk: --symbols 32 --span 30 --time 80 ... --steps 50
    argv = ["train", "--task", task, "--symbols", "4", "--span", "3", "--time", "10", "--cell", cell, "--depth", "1",
            "--width", "4", "--steps", "2", "--eval-every", "2", "--batch-size", "4", "--eval-batch-size", "8",
            "--test-batch-size", "16", "--json", "--no-progress"]
    assert main(argv) == 0
    test = json.loads(capsys.readouterr().out)["test"]
    assert len(test["per_class"]) == (3 if task == "ses" else 4)
    assert test["chance"] == pytest.approx(1 / 3 if task == "ses" else 1 / 4)


def test_train_with_budget_and_checkpoint_resume(tmp_path, capsys):
    ck = tmp_path / "ck.npz"
    args = ["train", "--cell", "rnn", "--budget", "200", "--time", "6", *TINY, "--checkpoint", str(ck), "--no-progress"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["num_params"] <= 200 and ck.exists()
    assert main(args) == 0  # finished run: resumed, nothing left to train
    again = json.loads(capsys.readouterr().out)
    assert again["resumed_from"] == 4 and again["final"] == first["final"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--cell", "gru", "--time", "9"], "time must be even"),
        (["train", "--cell", "gru", "--time", "10", "--span", "6"], "at most T/2"),
        (["train", "--cell", "lstm", "--depth", "3", "--budget", "30", "--time", "10", "--span", "2"], "too small for any lstm"),
        (["train", "--cell", "gru", "--task", "copy", "--time", "4", "--span", "2"], "delay T - 2*span = 0 < 1"),
        (["train", "--cell", "gru", "--task", "copying", "--time", "20"], "T - 2*span = -40 < 1; use T >= 61"),
        (["train", "--cell", "gru", "--time", "1000000"], "needs about"),  # was a hang / out of memory
        (["train", "--cell", "gru", "--width", "100000", "--time", "10", "--span", "2"], "smaller width"),  # was a traceback
        (["train", "--cell", "gru", "--budget", "1000000000000", "--time", "10", "--span", "2"], "needs about"),
        (["train", "--cell", "gru", "--time", "10", "--span", "2", "--forget-bias", "nan"], "finite number"),
        (["train", "--cell", "gru", "--time", "10", "--span", "2", "--out", "/proc/m.json"], "refuses new files"),
        (["train", "--cell", "gru", "--time", "10", "--span", "2", "--checkpoint", "/proc/ck.npz"], "refuses new files"),
        (["train", "--cell", "gru", "--time", "10", "--span", "2", "--checkpoint", "{tmp}/text.npz"], "tnrnn training checkpoint"),
        (["memory-sweep", "--cells", "gru", "--times", "1000000", "--span", "2"], "needs about"),  # was a hang
        (["memory-sweep", *SMALL_SWEEP[:-1], "-3"], "seed must be"),  # was one failed record per point
        (["memory-sweep", *SMALL_SWEEP, "--span", "2", "--results", "/proc/r.jsonl"], "refuses new files"),
        (["train", "--cell", "plusrnn", "--depth", "1", "--time", "10", "--span", "2"], "depth >= 2"),
        (["train", "--cell", "elman", "--time", "10", "--span", "2"], "invalid choice"),
        (["memory-sweep", "--cells", "gru,foo"], "unknown cell"),
        (["memory-sweep", "--cells", "gru", "--depths", "1", "--times", "10", "--span", "2", "--budget", "5"], "too small"),
        (["memory-sweep", "--times", "11", "--span", "2"], "even"),
        (["memory-sweep", *SMALL_SWEEP, "--span", "2", "--protocol", "fast"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, message, capsys, tmp_path):
    if "/proc" in " ".join(argv) and not os.path.isdir("/proc"):
        pytest.skip("needs /proc")
    (tmp_path / "text.npz").write_text("root:x:0:0\n")
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main([*argv, "--no-progress"] if argv[0] == "train" else argv + ["--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_memory_sweep_writes_json_figures_and_resumes(tmp_path, capsys):
    prefix = tmp_path / "sweep"
    argv = ["memory-sweep", "--cells", "rnn", "--depths", "1", "--times", "6", "--seeds", "0,1", "--budget", "400",
            *TINY, "--out", str(prefix), "--no-progress"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    summary = read_json(f"{prefix}.json")
    assert len(summary["rows"]) == 1 and not summary["errors"]
    assert {(r["depth"], r["time"]) for r in summary["rows"]} == {(1, 6)}
    assert all(r["num_params"] <= 400 and r["seeds"] == [0, 1] for r in summary["rows"])
    assert all(r["accuracy"]["n"] == 2 and r["accuracy"]["ci_low"] <= r["accuracy"]["mean"] for r in summary["rows"])
    assert summary["training"]["steps"] == 4 and len(summary["solved"]) == 1
    for fig in printed["figures"]:
        assert Path(fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a rerun naming the summary file itself (--out sweep.json, the same stem) finds every point finished:
    # nothing is recomputed, the records are the same
    records = read_jsonl(f"{prefix}.jsonl")
    assert main([a if a != str(prefix) else f"{prefix}.json" for a in argv]) == 0
    capsys.readouterr()
    assert read_jsonl(f"{prefix}.jsonl") == records
    assert read_json(f"{prefix}.json")["rows"] == summary["rows"]


def test_memory_sweep_empty_out_is_refused(capsys):
    assert main(["memory-sweep", "--out", "", *SMALL_SWEEP, "--span", "2", "--no-progress"]) == 2
    assert "--out path is empty" in capsys.readouterr().err
