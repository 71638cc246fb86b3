"""``tnrnn rank`` and ``tnrnn table`` (tnrnn/cli/rank.py)."""

from __future__ import annotations

import json

import pytest

from tnrnn.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rank_json_keys(capsys):
    code, out, _ = run(capsys, "rank", "-L", "2", "-R", "3", "-M", "3", "-T", "6", "--json", "--no-progress")
    assert code == 0
    data = json.loads(out)
    for key in ("lower", "upper", "exact", "bounds", "theory", "certificate"):
        assert key in data
    assert set(data["bounds"]) >= {"mincut", "state", "input", "trivial"}
    assert data["lower"] == {"value": "27", "log2": pytest.approx(4.754887502163468)} and data["exact"] is True
    assert data["certificate"]["runs"][0]["prime"] == 1048573


def test_rank_text_custom_partition_and_primes(capsys):
    code, out, _ = run(capsys, "rank", "-L", "2", "-T", "6", "--partition", "1,3,5", "--seeds", "0,1,2",
                       "--primes", "1048573,1000003", "--no-progress")
    assert code == 0
    assert "custom (A = 1,3,5 | B = 2,4,6)" in out
    assert "lower (certified)" in out and "seed 0, p 1048573" in out


def test_rank_continuous(capsys):
    code, out, _ = run(capsys, "rank", "-L", "2", "-R", "2", "-M", "2", "-T", "4", "--domain", "continuous",
                       "--json", "--no-progress")
    assert code == 0 and json.loads(out)["lower"]["value"] == "6"


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["rank", "-T", "5"], "even"),
        (["rank", "--domain", "reals"], "invalid choice"),
        (["rank", "-T", "4", "--partition", "1,7"], "1..4"),
        (["rank", "-T", "4", "--primes", "100"], "prime"),
        (["rank", "-L", "4", "-R", "8", "-M", "8", "-T", "100000000", "--no-progress"], "time steps"),
        (["table", "--depths", "3", "-R", "64", "-M", "64", "--times", "100000000"], "time steps"),
        (["rank", "--certify-seconds", "-1"], "seconds"),
        (["table", "--times", "2:5"], "even"),
        (["rank", "-K", "2", "--output", "2"], "output"),
        (["table", "--partition", "1,2"], "partition"),
    ],
)
def test_errors_are_one_line_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_table_runs_resumes_and_prints(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "table", "--depths", "1,2", "--width", "2", "--features", "2", "--times", "2:6:2",
                       "--no-progress", "--workers", "1")
    assert code == 0
    assert (tmp_path / "tnrnn-table.jsonl").exists()  # the default results file
    lines = out.splitlines()
    assert lines[1].split() == ["depth", "\\", "T", "2", "4", "6"]
    assert lines[2].split() == ["1", "=2", "=2", "=2"]
    assert lines[3].split() == ["2", "=2", "=4", "=8"]
    code, out, _ = run(capsys, "table", "--depths", "1,2", "--times", "2:6:2", "--no-progress", "--json")
    data = json.loads(out)
    assert code == 0 and len(data["records"]) == 6
    rec = data["records"][-1]
    for key in ("depth", "width", "features", "time", "domain", "partition", "lower", "upper", "upper_source",
                "exact", "theory", "seconds"):
        assert key in rec
    # every count has the shape of rank --json
    code, out, _ = run(capsys, "rank", "-L", "2", "-T", "6", "--json", "--no-progress")
    assert set(rec["lower"]) == set(json.loads(out)["lower"]) == {"value", "log2"}
    assert set(rec["upper"]) == set(json.loads(out)["upper"]) == {"value", "log2"}


def test_table_csv_and_budget(capsys, tmp_path):
    import csv

    path = tmp_path / "t.csv"
    code, out, _ = run(capsys, "table", "--depths", "1,2", "--times", "2,4", "--results", str(tmp_path / "t.jsonl"),
                       "--csv", str(path), "--budget-mb", "256", "--no-progress", "--workers", "1")
    assert code == 0 and f"csv: {path}" in out
    rows = list(csv.DictReader(path.open()))
    assert [(r["depth"], r["time"], r["lower"], r["upper"]) for r in rows] == [
        ("1", "2", "2", "2"), ("1", "4", "2", "2"), ("2", "2", "2", "2"), ("2", "4", "4", "4")]


def test_rank_bounds_only_and_huge_sizes(capsys):
    code, out, _ = run(capsys, "rank", "-L", "4", "-R", "2", "-M", "2", "-T", "1024", "--domain", "continuous",
                       "--certify-seconds", "0", "--json", "--no-progress")
    data = json.loads(out)
    assert code == 0 and data["lower"] is None
    assert data["bounds"]["mincut"]["value"] == "2^22632191"


def test_table_marks_gaps_with_a_probabilistic_statement(capsys, tmp_path):
    # one-hot L = 3, M = R = 3, T = 4: the conjecture does not apply there, so nothing is marked contradicted
    code, out, _ = run(capsys, "table", "--depths", "3", "--width", "3", "--features", "3", "--times", "4",
                       "--results", str(tmp_path / "t.jsonl"), "--no-progress", "--workers", "1")
    assert code == 0
    assert out.splitlines()[2].split() == ["3", "=9"] and "contradicted:" not in out
    # continuous L = 3, R = M = 2, T = 8: 106 certified, 110 the best upper bound, marked '~' with the statement
    code, out, _ = run(capsys, "table", "--depths", "3", "--times", "8", "--domain", "continuous",
                       "--results", str(tmp_path / "c.jsonl"), "--no-progress", "--workers", "1")
    assert code == 0 and "106..110~" in out and "probabilistic, not certified" in out


def test_rank_second_output(capsys):
    code, out, _ = run(capsys, "rank", "-L", "2", "-T", "4", "-K", "2", "--output", "1", "--json", "--no-progress")
    data = json.loads(out)
    assert code == 0 and data["certificate"]["output"] == 1 and data["lower"]["value"] == "4"


def test_table_bad_plot_path_fails_before_any_point_runs(capsys, tmp_path):
    results = tmp_path / "r.jsonl"
    argv = ["table", "--depths", "1", "--times", "2", "--results", str(results), "--plot", str(tmp_path / "x.pdf")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unsupported figure format" in err
    assert not results.exists()


def test_table_point_beyond_any_matrix_is_answered_not_failed(capsys, tmp_path):
    # L = 3, R = M = 64, T = 400: the one-hot table has 64^200 rows. The point must come back with its upper
    # bounds (an open or partial lower bound), be stored as finished, and not be recomputed on a rerun.
    results = tmp_path / "big.jsonl"
    argv = ["table", "--depths", "3", "-R", "64", "-M", "64", "--times", "400", "--certify-seconds", "0",
            "--results", str(results), "--json", "--no-progress"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    record = json.loads(out)["records"][0]
    # the best upper bound is below the trivial bound 64^200 = 2^1200, and nothing was certified in 0 s
    assert 0 < record["upper"]["log2"] < 1200 and record["lower"] is None and record["exact"] is False
    code, _, err = run(capsys, *argv)
    assert code == 0 and "1 of 1 points failed" not in err
