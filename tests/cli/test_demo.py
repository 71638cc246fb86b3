"""``tnrnn demo``: shallow vs deep ranks side by side, the deep network built once with one min-cut, drawn; the
numbers agree with the library and the defaults shown in --help are the ones that run."""

from __future__ import annotations

import json
import re

import pytest

import tnrnn
from tnrnn.cli import build_parser, main


def test_demo_shows_shallow_vs_deep(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    # R = M = 3, T = 8, one-hot: depth 1 is capped by R = 3, depth 2 reaches 45, depth 3 the ceiling M^(T/2) = 81
    rows = {int(m[0]): (m[1], int(m[2])) for m in re.findall(r"^\s+(\d)\s+(=?\d+(?:\.\.\S+)?)\s+(\d+)\s", text, re.M)}
    assert rows == {1: ("=3", 3), 2: ("=45", 45), 3: ("=81", 81)}
    assert "3 -> 45 -> 81" in text
    assert "exact min-cut 3^4 = 81" in text and f"figure written to {out}" in text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def count(v) -> int:
    """An exact count from JSON: the shared {"value", "log2"} shape (or a plain integer)."""
    return v if isinstance(v, int) else int(v["value"])


def test_demo_json_agrees_with_the_library(tmp_path, capsys):
    out = tmp_path / "demo.svg"
    assert main(["demo", "--depths", "1,2", "-R", "2", "-M", "2", "-T", "4", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    lows = [count(r["lower"]) for r in doc["ranks"]]
    reports = [tnrnn.separation_rank(tnrnn.RACSpec(L, 2, 2), 4) for L in (1, 2)]
    assert lows == [r.lower for r in reports] == [2, 4]  # docs/theory.md anchors at M = R = 2, T = 4
    assert doc["network"]["input_copies"] == [4, 3, 2, 1]
    # The cut drawn is the one reported: same value as the report's min-cut bound, every edge drawn.
    assert doc["mincut"]["value"] == doc["ranks"][-1]["bounds"]["mincut"]
    assert doc["figure"]["mincut_log2"] == pytest.approx(reports[-1].bounds["mincut"].log2)
    assert len(doc["figure"]["cut_edges"]) == 2
    assert out.read_text().lstrip().startswith("<?xml")


def test_demo_builds_its_network_once_and_computes_one_mincut(tmp_path, monkeypatch, capsys):
    calls = {"build": 0, "network_mincut": 0}
    real_build, real_cut = tnrnn.build_network, tnrnn.network_mincut

    def counting(name, real):
        def wrapped(*a, **k):
            calls[name] += 1
            return real(*a, **k)
        return wrapped

    import tnrnn.network.build as build

    monkeypatch.setattr(tnrnn, "build_network", counting("build", real_build))
    monkeypatch.setattr(build, "build_network", counting("build", real_build))
    monkeypatch.setattr(tnrnn, "network_mincut", counting("network_mincut", real_cut))
    import tnrnn.bounds.mincut as mincut

    calls["rac_mincut"] = 0
    monkeypatch.setattr(mincut, "rac_mincut", counting("rac_mincut", mincut.rac_mincut))
    assert main(["demo", "--out", str(tmp_path / "d.png")]) == 0
    # the deep network's min-cut is computed once (the drawn explicit one, handed to its report); the shallower
    # depths' reports compute their own networks' min-cuts
    assert calls == {"build": 1, "network_mincut": 1, "rac_mincut": 2}


def test_help_defaults_are_what_runs():
    parser = build_parser("demo")
    args = parser.parse_args(["demo"])
    assert (args.depths, args.width, args.features, args.time, args.out) == ([1, 2, 3], 3, 3, 8, "tnrnn-demo.png")
    sub = next(a for a in parser._actions if a.dest == "command").choices["demo"]
    text = sub.format_help()
    assert "(default: 1,2,3)" in text and "(default: 8)" in text and "(default: 3)" in text


@pytest.mark.parametrize("args,pattern", [(["--out", "demo.txt"], "unsupported figure format"),
                                          (["-T", "7"], "even T"), (["-T", "100000000"], "T <= 40"),
                                          (["--depths", "0"], "--depths")])
def test_demo_errors_fail_fast_on_one_line(tmp_path, capsys, monkeypatch, args, pattern):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(pattern, err), err
    assert not list(tmp_path.iterdir())
