"""Results files: sealed records, corrupt lines named by file and line, schema versions, provenance, exports."""

from __future__ import annotations

import csv
import json
import os
import sys

import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import read_jsonl
from tnrnn.sweep import load_results, point_key, read_results, run_sweep
from tnrnn.sweep import store as store_module
from tnrnn.sweep.demo import square
from tnrnn.sweep.store import SCHEMA_VERSION, provenance, record_problem, seal
from tnrnn.sweep.verify import verify_results

SQUARE = "tnrnn.sweep.demo:square"


def _sweep(path, xs=(1, 2, 3), **kw):
    return run_sweep(SQUARE, [{"x": x} for x in xs], path, executor="serial", progress=False, **kw)


def _lines(path):
    return path.read_text().splitlines()


def _edit_record(path, index, edit):
    """Apply ``edit`` to the index-th record line (provenance lines skipped), keeping its digest."""
    lines = _lines(path)
    numbers = [i for i, line in enumerate(lines) if '"kind": "provenance"' not in line]
    rec = json.loads(lines[numbers[index]])
    edit(rec)
    lines[numbers[index]] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    return numbers[index] + 1


# ------------------------------------------------------------------------------------------------ integrity


def test_tampered_record_is_flagged_and_recomputed_not_reused(tmp_path, caplog):
    path = tmp_path / "r.jsonl"
    _sweep(path)
    line = _edit_record(path, 1, lambda r: r["result"].update(square=999999))
    recs = _sweep(path)
    assert [r["result"]["square"] for r in recs] == [square(x)["square"] for x in (1, 2, 3)]
    err = caplog.text  # warnings are logged (logger tnrnn.sweep.store); the CLI prints them on stderr
    assert f"{path}:{line}: digest does not match" in err
    assert [v.status for v in verify_results(path) if v.status != "provenance"] == ["ok", "tampered", "ok", "ok"]


def test_any_single_edit_of_a_record_breaks_its_seal():
    rec = seal({"key": point_key(SQUARE, {"x": 3}), "schema": SCHEMA_VERSION, "task": SQUARE, "params": {"x": 3},
                "status": "ok",
                "result": {"x": 3, "square": 9}, "error": None, "seconds": 0.1, "worker": "h:1", "traceback": None})
    assert record_problem(rec) is None
    for field, value in [("params", {"x": 4}), ("result", {"x": 3, "square": 10}), ("status", "error"),
                         ("seconds", 0.2), ("key", "k2"), ("schema", "1")]:
        assert record_problem(dict(rec, **{field: value})) is not None, field
    assert "no digest" in record_problem({k: v for k, v in rec.items() if k != "digest"})


def test_reforged_digest_passes_the_checksum_but_not_recomputation(tmp_path):
    path = tmp_path / "t.jsonl"
    run_sweep("tnrnn.rank:table_point", [{"depth": 2, "width": 2, "features": 2, "time": 4}], path,
              executor="serial", progress=False)

    def forge(rec):
        rec["result"]["lower"] = {"value": "999999", "log2": 19.93}
        rec.update(seal(rec))

    _edit_record(path, 0, forge)
    assert [v.status for v in verify_results(path) if v.status != "provenance"] == ["ok"]
    (verdict,) = [v for v in verify_results(path, recompute=True) if v.status != "provenance"]
    assert verdict.status == "wrong" and "999999" in verdict.detail


# ------------------------------------------------------------------------------------------- corrupt lines


@pytest.mark.parametrize("junk, problem", [
    (b"\xff\xfe not utf-8", "not valid UTF-8"),
    (b"9" * 5000, "not JSON"),
    (b'{"key": "abc", "status": "ok", "depth": 3}', "not a sweep record"),
    (b"[" * 100000, "JSON nested too deeply"),
], ids=["utf8", "huge-int", "other-shape", "deep"])
def test_corrupt_line_is_named_and_survived(tmp_path, caplog, junk, problem):
    path = tmp_path / "r.jsonl"
    _sweep(path, xs=(1,))
    with open(path, "ab") as fh:
        fh.write(junk + b"\n")
    number = len(path.read_bytes().splitlines())
    recs = _sweep(path, xs=(1, 2))
    assert [r["status"] for r in recs] == ["ok", "ok"]
    err = caplog.text  # warnings are logged (logger tnrnn.sweep.store); the CLI prints them on stderr
    assert f"{path}:{number}: {problem}" in err


@pytest.mark.parametrize("content", [b"42\n", b"42", b"\xff\n", b'{"a": 1}\n'])
def test_a_file_that_is_not_a_results_file_is_refused_untouched(tmp_path, content):
    path = tmp_path / "r.jsonl"
    path.write_bytes(content)
    with pytest.raises(TnrnnError, match="not a tnrnn results file.*line 1"):
        _sweep(path)
    assert path.read_bytes() == content


def test_non_regular_results_files_are_refused_before_computing(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("tnrnn.sweep.runner.run_point", lambda *a: calls.append(a))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for bad, kind in ((fifo, "a FIFO"), ("/dev/null", "a character device"), (tmp_path, "a folder")):
        with pytest.raises(TnrnnError, match=f"not a regular file \\({kind}\\)"):
            _sweep(bad)
    with pytest.raises(TnrnnError, match="path is empty"):
        _sweep("")
    assert calls == []


# ------------------------------------------------------------------------------------ schema and provenance


def test_changed_schema_version_recomputes_instead_of_reusing(tmp_path, monkeypatch):
    path = tmp_path / "r.jsonl"
    first = _sweep(path, xs=(1, 2))
    assert all(r["schema"] == store_module.SCHEMA_VERSION for r in first)
    assert _sweep(path, xs=(1, 2)) == first  # same schema: reused as stored
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", "999")
    again = _sweep(path, xs=(1, 2))
    assert [r["schema"] for r in again] == ["999", "999"]
    assert {r["key"] for r in again}.isdisjoint(r["key"] for r in first)
    assert len([r for r in read_jsonl(path) if "key" in r]) == 4  # recomputed and appended, not reused


def test_a_task_result_schema_is_part_of_the_key(monkeypatch):
    monkeypatch.setattr(square, "result_schema", 7, raising=False)
    (rec,) = run_sweep(SQUARE, [{"x": 2}], None, executor="serial", progress=False)
    assert rec["schema"].endswith(".7") and rec["key"] == point_key(SQUARE, {"x": 2}, schema=rec["schema"])


def test_every_run_that_writes_leaves_a_provenance_line_first(tmp_path):
    path = tmp_path / "r.jsonl"
    _sweep(path, xs=(1,))
    _sweep(path, xs=(1,))  # nothing to do: nothing written
    _sweep(path, xs=(1, 2))
    lines = read_jsonl(path)
    kinds = [r.get("kind", "record") for r in lines]
    assert kinds == ["provenance", "record", "provenance", "record"]
    prov = lines[0]
    assert prov["argv"] == sys.argv and prov["schema"] == store_module.SCHEMA_VERSION
    assert set(prov["versions"]) == {"tnrnn", "python", "jax", "numpy"} and prov["versions"]["numpy"]
    assert read_results(path).provenance == [lines[0], lines[2]]
    assert provenance()["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))


# ---------------------------------------------------------------------------------------------- exports


def test_csv_and_dataframe_agree_with_the_records(tmp_path):
    path, table = tmp_path / "r.jsonl", tmp_path / "r.csv"
    recs = run_sweep(SQUARE, [{"x": x, "fail": x == 2} for x in (1, 2, 3)], path, executor="serial",
                     progress=False, csv=table)
    with open(table, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["status"] for row in rows] == [r["status"] for r in recs]
    assert [row["square"] for row in rows] == ["1", "", "9"]
    frame = load_results(path)
    assert list(frame["x"]) == [1, 2, 3] and list(frame["status"]) == ["ok", "error", "ok"]
    assert frame.loc[frame["status"] == "ok", "square"].tolist() == [1.0, 9.0]


def test_csv_path_is_checked_before_running(tmp_path):
    with pytest.raises(TnrnnError, match="must end in .csv"):
        _sweep(tmp_path / "r.jsonl", csv=tmp_path / "r.txt")
    assert not (tmp_path / "r.jsonl").exists()


def test_load_results_without_pandas_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "r.jsonl"
    _sweep(path, xs=(1,))
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(TnrnnError, match="needs pandas"):
        load_results(path)


def test_load_results_of_missing_or_special_files(tmp_path):
    with pytest.raises(TnrnnError, match="No such file"):
        load_results(tmp_path / "missing.jsonl")
    with pytest.raises(TnrnnError, match="not a regular file"):
        load_results("/dev/null")
