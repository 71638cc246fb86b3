"""``tnrnn demo``: the main job builds, bounds and renders, and its numbers agree with the library."""

from __future__ import annotations

import json

from tnrnn.cli import main
from tnrnn.rac.spec import RACSpec


def test_demo_json_agrees_with_the_library(tmp_path, capsys):
    out = tmp_path / "demo.svg"
    assert main(["demo", "--time", "4", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    from tnrnn.bounds.mincut import rac_mincut
    from tnrnn.rac.partition import make_partition

    assert doc["network"]["input_copies"] == [4, 3, 2, 1]
    rank = doc["rank"]
    assert int(rank["lower"]) <= int(rank["upper"]["value"]) <= int(rank["bounds"]["mincut"]["value"])
    # The cut drawn in the figure is the one the bound reports, and both equal an independent solve.
    cut = rac_mincut(RACSpec(2, 2, 2), 4, make_partition(4, "start-end"), form="grid")
    assert doc["figure"]["mincut_log2"] == rank["bounds"]["mincut"]["log2"] == cut.value.log2
    assert len(doc["figure"]["cut_edges"]) == 2
    assert out.read_text().lstrip().startswith("<?xml")


def test_demo_text_report(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--time", "4", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "RAC L=2 R=2 M=2" in text and f"figure written to {out}" in text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_bad_path_fails_before_work(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unsupported figure format" in err
