"""``tnrnn render`` and ``tnrnn gallery``: files written, one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from tnrnn.cli import main


def count(v) -> int:
    """An exact count from JSON: the shared {"value", "log2"} shape (or a plain integer)."""
    return v if isinstance(v, int) else int(v["value"])


def ids_of(path) -> list[str]:
    return [el.get("id") for el in ET.parse(path).getroot().iter() if el.get("id")]


def test_render_svg(tmp_path, capsys):
    out = tmp_path / "net.svg"
    assert main(["render", "--depth", "2", "--width", "2", "--features", "2", "--time", "6", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "min-cut: 2^4 = 16" in text  # R^(T/2+1) for depth 2, Start-End (docs/theory.md, 'Min-cut bound')
    ids = ids_of(out)
    assert sum(i.startswith("cut-") for i in ids) == 4
    assert sum(i.startswith("node-") for i in ids) > 0


def test_render_json_and_compact(tmp_path, capsys):
    out = tmp_path / "big.png"
    assert main(["render", "-L", "3", "-T", "10", "--form", "grid", "--out", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["view"] == "compact" and info["form"] == "grid"
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_render_partition_none_and_custom(tmp_path, capsys):
    out = tmp_path / "n.svg"
    assert main(["render", "-L", "2", "-T", "5", "--partition", "none", "--out", str(out)]) == 0
    assert not any(i.startswith("cut-") for i in ids_of(out))
    assert main(["render", "-L", "2", "-T", "5", "--partition", "1,3", "--out", str(out)]) == 0
    assert any(i.startswith("cut-") for i in ids_of(out))


@pytest.mark.parametrize("args,pattern", [
    (["--out", "{tmp}/n.jpg"], "unsupported figure format"),
    (["--out", "{tmp}/file/n.svg"], "Not a directory"),
    (["--out", "{tmp}"], "is a directory"),
    (["-T", "5", "--out", "{tmp}/n.svg"], "even T"),
    (["--partition", "0,9", "--out", "{tmp}/n.svg"], "1..4"),
    (["--form", "dense", "--out", "{tmp}/n.svg"], "form must be one of"),
    (["-T", "0", "--out", "{tmp}/n.svg"], ">= 1"),
    (["--out", "/proc/n.svg"], "refuses new files"),  # was found only after the min-cut and the drawing
])
def test_render_errors_are_one_line_exit_2(tmp_path, capsys, args, pattern):
    if "/proc/n.svg" in args and not os.path.isdir("/proc"):
        pytest.skip("needs /proc")
    (tmp_path / "file").write_text("x")
    argv = ["render", "-L", "2", "-T", "4"] + [a.format(tmp=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(pattern, err), err


HUGE = [
    (["-T", "100000000"], r"T <= 40 .*T = 100000000"),  # took 4+ GB and 17 s: partitions were built first
    (["-T", "1000000"], r"T <= 40 .*T = 1000000"),  # was a hang: the min-cut ran before the size check
    (["-L", "100000", "-T", "4"], r"depth <= 12"),
    (["-T", "1000000", "--view", "full"], r"at least 6,000,001 nodes"),
    (["-L", "3", "-T", "100000000", "--partition", "1,5"], r"T <= 40"),
]


@pytest.mark.parametrize("args,pattern", HUGE)
def test_render_huge_sizes_refused(tmp_path, capsys, args, pattern):
    assert main(["render", "-L", "2", "-T", "4", *args, "--out", str(tmp_path / "n.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(pattern, err), err
    assert not (tmp_path / "n.svg").exists()


@pytest.mark.parametrize("args,pattern", HUGE[:1] + HUGE[-1:])
def test_render_huge_sizes_refused_within_small_resource_limits(tmp_path, args, pattern):
    """The refusal comes from (L, T) alone: under 1 GiB of address space and 20 s of CPU the command still
    exits 2 with its one line (a size check after allocating would be killed by the limits instead)."""
    import resource
    import subprocess
    import sys

    def limits():  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
        resource.setrlimit(resource.RLIMIT_CPU, (20, 20))

    code = "import sys; from tnrnn.cli import main; sys.exit(main(sys.argv[1:]))"
    from tests.misuse.harness import PRLIMIT  # limits set without Python code between fork and exec

    prefix = [PRLIMIT, f"--as={2**30}", "--cpu=20"] if PRLIMIT else []
    res = subprocess.run([*prefix, sys.executable, "-c", code, "render", *args, "--out", str(tmp_path / "n.svg")],
                         capture_output=True, text=True, preexec_fn=None if PRLIMIT else limits, timeout=300)
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and re.search(pattern, res.stderr), res.stderr


def test_render_wide_network_quickly(tmp_path, capsys):
    # R = 10**5 was a numpy MemoryError traceback (structure-only weights were real zero arrays)
    out = tmp_path / "wide.svg"
    assert main(["render", "-L", "2", "-R", "100000", "-T", "4", "--out", str(out)]) == 0
    assert "min-cut: 2^3 = 8" in capsys.readouterr().out and out.exists()


def test_render_requires_out(capsys):
    assert main(["render", "-L", "2", "-T", "4"]) == 2
    assert "--out" in capsys.readouterr().err


def test_gallery_without_curves(tmp_path, capsys):
    d = tmp_path / "diagrams"
    assert main(["gallery", "--out-dir", str(d), "--no-curves", "--no-progress"]) == 0
    readme = (d / "README.md").read_text()
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert len(linked) == 9
    for name in linked:
        data = (d / name).read_bytes()
        assert data[:4] == b"\x89PNG", name
    assert "shallow_T8.png" in linked and "depth2_T6_odd_even.png" in linked
    assert "min-cut `2^4 = 16`" in readme  # depth 2, T = 6, Start-End: R^(T/2+1)
    assert "min-cut `2^20 = 1048576`" in readme  # the compact view of depth 3, T = 10 carries its cut too
    # A deep ConvAC (N = 8, min(M, r) = 2): interleaved cut min(M, r)^(N/2) = 16, contiguous halves one bond.
    assert "min-cut `2^4 = 16` (4 bonds cut), certified rank 16: exact" in readme
    assert "min-cut `2` (1 bond cut), certified rank 2: exact" in readme
    assert "input copies per step [10, 6, 3, 1]" in readme  # depth 3, T = 4: C(T - j + 2, 2)



def test_gallery_lists_study_figures_with_their_commands(tmp_path, capsys):
    from tnrnn.gallery import STUDY_FIGURES

    d = tmp_path / "diagrams"
    d.mkdir()
    png = b"\x89PNG\r\n\x1a\n"
    (d / "capacity_units.png").write_bytes(png)
    (d / "capacity_units.json").write_text("{}")
    (d / "memory_ses.png").write_bytes(png)
    (d / "my_own_plot.png").write_bytes(png)
    assert main(["gallery", str(d), "--no-curves", "--no-progress"]) == 0
    readme = (d / "README.md").read_text()
    studies = readme[readme.index("## Studies"):]
    # Known studies first, in the table's order, each with its command; data linked only where it exists.
    assert studies.index("memory_ses.png") < studies.index("capacity_units.png") < studies.index("my_own_plot")
    assert f"`{STUDY_FIGURES['capacity_units.png'][1]}`" in studies
    assert "[`capacity_units.json`](capacity_units.json)" in studies
    assert "[`memory_ses.json`]" not in studies  # no data file, so no data link
    assert "### my_own_plot.png" in studies

@pytest.mark.parametrize("args,pattern", [(["--curve-times", "2,3"], "even T"),
                                          (["--curve-depths", "0"], "depth must be")])
def test_gallery_bad_curve_grid_fails_before_drawing(tmp_path, capsys, args, pattern):
    d = tmp_path / "g"
    assert main(["gallery", str(d), *args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(pattern, err), err
    assert not list(d.glob("*.png"))  # used to fail only after drawing every network figure


@pytest.mark.parametrize("args,pattern", [(["--out-dir", ""], "empty"), (["--out-dir", "a", "b"], "two gallery folders")])
def test_gallery_folder_errors(tmp_path, capsys, monkeypatch, args, pattern):
    monkeypatch.chdir(tmp_path)
    assert main(["gallery", *args, "--no-curves", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(pattern, err), err
    assert not list(tmp_path.iterdir())  # '' used to write the gallery into the current folder


def test_gallery_refuses_a_file_as_folder(tmp_path, capsys):
    f = tmp_path / "f"
    f.write_text("x")
    assert main(["gallery", str(f), "--no-curves"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_gallery_rank_curves_small_grid(tmp_path):
    d = tmp_path / "g"
    argv = ["gallery", str(d), "--curve-times", "2,4", "--curve-depths", "1,2", "--no-progress"]
    assert main(argv) == 0
    for stem in ("rank_curves", "rank_curves_continuous"):
        assert (d / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
        data = json.loads((d / f"{stem}.json").read_text())
        got = {(r["depth"], r["time"]): count(r["lower"]) for r in data["records"]}
        assert set(got) == {(1, 2), (1, 4), (2, 2), (2, 4)}
        assert got[(1, 4)] == 2  # shallow: min(R, M^(T/2)) = 2
    one_hot = {(r["depth"], r["time"]): count(r["lower"]) for r in json.loads((d / "rank_curves.json").read_text())["records"]}
    assert one_hot[(2, 4)] == 4  # docs/theory.md anchor: L = 2, M = R = 2, T = 4
    cont = {(r["depth"], r["time"]): count(r["lower"]) for r in
            json.loads((d / "rank_curves_continuous.json").read_text())["records"]}
    assert cont[(2, 4)] == 6  # docs/theory.md: continuous domain, L = 2, M = R = 2, T = 4 has rank 6
    before = (d / "rank_curves.png").read_bytes()
    assert main(argv) == 0  # rerun: finished points are reused, same figure
    assert (d / "rank_curves.png").read_bytes() == before
    assert "rank_curves.png" in (d / "README.md").read_text()


def test_gallery_without_curves_keeps_the_curves_already_there(tmp_path, capsys):
    d = tmp_path / "g"
    d.mkdir()
    (d / "rank_curves.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    rec = {"depth": 2, "time": 4, "lower": {"value": "4", "log2": 2.0}, "upper": {"value": "4", "log2": 2.0},
           "exact": True, "theory": []}
    (d / "rank_curves.json").write_text(json.dumps({"records": [rec]}))
    assert main(["gallery", "--out-dir", str(d), "--no-curves", "--no-progress"]) == 0
    readme = (d / "README.md").read_text()
    section = readme[readme.index("## Rank curves, one-hot domain"):]
    assert "Exact at all 1 points." in section and "[`rank_curves.json`](rank_curves.json)" in section
    assert "## Studies" not in readme  # not relisted as a study without its command


@pytest.mark.parametrize("partition,cut,value", [("odd-even", 4, "2^4 = 16"), ("start-end", 1, "2")])
def test_render_a_convac(tmp_path, capsys, partition, cut, value):
    """--model convac: a deep ConvAC (N = 8, min(M, r) = 2) drawn with exactly its min-cut: min(M, r)^(N/2)
    for the interleaved partition, one bond for contiguous halves (Cohen and Shashua, ICLR 2017)."""
    out = tmp_path / "c.svg"
    argv = ["render", "--model", "convac", "-L", "2", "-T", "8", "-M", "3", "-R", "2", "--partition", partition,
            "--out", str(out)]
    assert main(argv) == 0
    assert f"min-cut: {value}" in capsys.readouterr().out
    assert sum(i.startswith("cut-") for i in ids_of(out)) == cut
    assert sum(i.startswith("node-") for i in ids_of(out)) == 30
