"""``tnrnn rank --model convac`` and ``tnrnn render --model convac``."""

from __future__ import annotations

import json

from tnrnn.cli import main


def test_rank_convac_json(capsys):
    assert main(["rank", "--model", "convac", "-L", "2", "-T", "8", "-M", "3", "-R", "2", "--partition",
                 "odd-even", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lower"]["value"] == "16" and data["exact"] and data["bounds"]["mincut"]["value"] == "16"
    assert data["left"] == ["x1", "x3", "x5", "x7"] and "deep ConvAC" in data["label"]


def test_rank_convac_shallow_text(capsys):
    assert main(["rank", "--model", "convac", "-L", "1", "-T", "6", "-M", "2", "-R", "3"]) == 0
    out = capsys.readouterr().out
    assert "shallow ConvAC" in out and "CP width <= 3" in out


def test_rank_convac_bad_size_is_one_line(capsys):
    assert main(["rank", "--model", "convac", "-L", "2", "-T", "6"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2^k" in err[0]


def test_render_convac(tmp_path, capsys):
    out = tmp_path / "convac.png"
    assert main(["render", "--model", "convac", "-L", "2", "-T", "4", "--partition", "odd-even", "--out",
                 str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert out.exists() and out.stat().st_size > 0
    assert info["mincut"].split(" = ")[-1] == "4" and info["cut_edges"] == 2


def test_rank_convac_depth_beyond_two_is_refused_before_work(capsys, monkeypatch):
    import tnrnn.models.convac as convac

    def boom(*a, **k):  # pragma: no cover - must not run
        raise AssertionError("a network was built for a refused depth")

    monkeypatch.setattr(convac, "build_convac", boom)
    assert main(["rank", "--model", "convac", "-L", "3", "-T", "8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "-L 3" in err[0] and "-L 2" in err[0]


def test_rank_convac_certificate_follows_the_time_box(capsys):
    # issue: --certify-seconds was ignored; now it caps the sketched matrix (no wall-clock assert: the side is checked)
    from tnrnn.models.convac import certificate_side

    args = ["rank", "--model", "convac", "-L", "2", "-T", "32", "-M", "2", "-R", "2", "--partition", "odd-even",
            "--json", "--certify-seconds", "0.05", "--seeds", "0"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    side = certificate_side(seconds=0.05)
    runs = data["certificate"]["runs"]
    assert runs and all(r["rows"] <= side and r["cols"] <= side for r in runs)
    assert 1 <= int(data["lower"]["value"]) <= side and not data["exact"]
    assert any("capped" in n for n in data["notes"])
