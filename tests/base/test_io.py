"""Atomic result files: round trips, permissions, torn JSON lines, replacement without partial files."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import (
    JsonlAppender,
    append_jsonl,
    check_input_file,
    output_dir,
    output_file,
    read_json,
    read_jsonl,
    scan_jsonl,
    write_csv,
    write_json,
)

_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(data=_values)
def test_json_round_trip(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("j") / "sub" / "r.json"
    write_json(path, data)
    assert read_json(path) == data


def test_numpy_values_serialise(tmp_path):
    path = write_json(tmp_path / "n.json", {"a": np.int64(3), "b": np.float32(0.5), "c": np.arange(3)})
    assert read_json(path) == {"a": 3, "b": 0.5, "c": [0, 1, 2]}


def test_written_files_follow_the_umask_and_leave_no_temporaries(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "r.json", {"x": 1})
        write_json(path, {"x": 2})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert read_json(path) == {"x": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_csv_columns_and_rows(tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"T": 2, "rank": 4}, {"T": 4, "rank": 16}])
    assert path.read_text().splitlines() == ["T,rank", "2,4", "4,16"]


def test_jsonl_appends_and_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "r.jsonl"
    append_jsonl(path, [{"i": 0}, {"i": 1}])
    append_jsonl(path, [{"i": 2}])
    with open(path, "a") as fh:
        fh.write(json.dumps({"i": 3})[:-3])  # an interrupted writer
    assert read_jsonl(path) == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert read_jsonl(tmp_path / "missing.jsonl") == []


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.one_of(_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=40)), max_size=8))
def test_scan_jsonl_never_raises_and_keeps_every_valid_line(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("s") / "r.jsonl"
    lines = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    path.write_bytes(b"\n".join(lines) + b"\n")
    scanned = {ln.number: ln for ln in scan_jsonl(path)}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            assert number not in scanned
            continue
        try:
            expected = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            assert scanned[number].problem
        else:
            assert scanned[number].problem is None and scanned[number].value == expected


def test_jsonl_appender_is_exclusive_and_repairs_a_torn_tail(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"i": 0}\n{"i": 1')  # torn by a killed writer
    with JsonlAppender(path) as out:
        with pytest.raises(TnrnnError, match="another running process"):
            JsonlAppender(path)
        out.append({"i": 2})
    assert read_jsonl(path) == [{"i": 0}, {"i": 2}]


def test_output_file_handles_folders_and_refuses_special_paths(tmp_path):
    folder = tmp_path / "adir"
    folder.mkdir()
    assert output_file(f"{folder}/", what="--out", default_name="s.json") == folder / "s.json"
    assert output_file(folder, what="--out", default_name="s.json") == folder / "s.json"
    assert output_file(tmp_path / "new" / "x.csv", suffixes=(".csv",)).name == "x.csv"
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "file").write_text("x")
    for bad, match in [("", "empty"), (folder, "is a folder"), (tmp_path / "fifo", "FIFO"),
                       ("/dev/null", "character device"), (tmp_path / "file" / "x", "Not a directory|not a folder"),
                       (tmp_path / "x.txt", "must end in .csv")]:
        with pytest.raises(TnrnnError, match=match):
            output_file(bad, what="--out", suffixes=(".csv",) if str(bad).endswith(".txt") else ())


def test_output_dir_and_input_file_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    assert output_dir(tmp_path / "new") == tmp_path / "new"
    for bad, match in [("", "empty"), (tmp_path / "file", "not a folder")]:
        with pytest.raises(TnrnnError, match=match):
            output_dir(bad)
    with pytest.raises(TnrnnError, match="a folder"):
        check_input_file(tmp_path)
    with pytest.raises(TnrnnError, match="not a JSON file"):
        read_json(tmp_path / "file")
