"""Atomic result files: round trips, permissions, torn JSON lines, replacement without partial files."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.io import append_jsonl, read_json, read_jsonl, write_csv, write_json

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
