"""The atlas (tnrnn/atlas.py): its grid, its verdict words, and rows against the rank engine they come from."""

from __future__ import annotations

import csv
import io

import pytest

from tnrnn.atlas import COLUMNS, GRID, atlas_cell, atlas_points, atlas_rows, rows_csv, verdict, write_atlas_csv
from tnrnn.base.errors import TnrnnError
from tnrnn.rac.spec import RACSpec
from tnrnn.rank import separation_rank


def test_grid_has_every_cell_once():
    points = atlas_points()
    keys = {(p["depth"], p["width"], p["features"], p["time"], p["domain"], p["partition"]) for p in points}
    assert len(points) == len(keys) == 4 * 3 * 3 * 8 * 2 * 2 >= 1000
    assert {p["time"] for p in points} == set(GRID["T"]) and all(p["time"] % 2 == 0 for p in points)
    with pytest.raises(TnrnnError, match="unknown atlas axes"):
        atlas_points({"depth": (1,)})


def test_onehot_conjecture_above_the_trivial_bound_does_not_apply():
    # L = 3, R = M = 3, T = 4, one-hot: the conjecture says 10, the one-hot table has rank 9 (M^(T/2))
    row = atlas_cell(3, 3, 3, 4, "onehot", "start-end", 1.0)
    assert row["lower"] == 9 and row["exact"] and row["depthL_value"] == "10"
    assert row["depthL_conjecture"] == "does not apply"
    # on the continuous domain the same value is checked against the certified rank
    cont = atlas_cell(3, 3, 3, 4, "continuous", "start-end", 1.0)
    assert cont["depthL_conjecture"] in ("holds", "open", "contradicted") and cont["depthL_conjecture"] == verdict(
        10, True, int(cont["upper"]) < 10, cont["lower"])


def test_row_matches_the_rank_engine():
    row = atlas_cell(3, 2, 2, 8, "continuous", "start-end", 1.0)
    rep = separation_rank(RACSpec(3, 2, 2), 8, "start-end", "continuous", certify_work=1.0)
    assert (row["lower"], row["upper"], row["exact"]) == (rep.lower, str(int(rep.upper)), rep.exact)
    assert row["status"] == "statement" and row["epsilon"] == rep.statement.epsilon <= 1e-9
    assert row["primes"] == str(rep.certificate.primes[0])
    # the depth-2 theorem is about L = 2 only
    assert row["depth2_theorem"] == "does not apply"
    assert atlas_cell(2, 2, 2, 8, "continuous", "start-end", 1.0)["depth2_theorem"] == "holds"


def test_odd_even_is_outside_the_published_statements():
    row = atlas_cell(2, 2, 2, 6, "continuous", "odd-even", 1.0)
    assert row["depth2_theorem"] == row["depthL_conjecture"] == "does not apply"


def test_csv_from_a_resumable_sweep(tmp_path):
    from tnrnn.sweep import run_sweep

    grid = {"L": (1, 2), "R": (2,), "M": (2,), "T": (2, 4), "domain": ("onehot",), "partition": ("start-end",)}
    results = tmp_path / "atlas.jsonl"
    run_sweep("tnrnn.atlas:atlas_cell", atlas_points(grid, work=0.5), str(results), executor="serial", progress=False)
    n = write_atlas_csv(results, tmp_path / "atlas.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "atlas.csv").read_text())))
    assert n == len(rows) == 4 and tuple(rows[0]) == COLUMNS
    assert [(r["L"], r["T"]) for r in rows] == [("1", "2"), ("1", "4"), ("2", "2"), ("2", "4")]
    assert all(r["exact"] == "True" and r["status"] == "exact" and r["epsilon"] == "" for r in rows)
    assert atlas_rows(results)[0]["model"] == "rac" and rows_csv([]).count("\n") == 1
    assert {r["work"] for r in rows} == {"0.5"}
    # filling in: only cells without a row are computed; a cell under two budgets keeps the larger one's row
    from tnrnn.atlas import missing_points

    more = atlas_points(dict(grid, T=(2, 4, 6)), work=0.2)
    todo = missing_points(more, results)
    assert [(p["depth"], p["time"]) for p in todo] == [(1, 6), (2, 6)]
    run_sweep("tnrnn.atlas:atlas_cell", todo + more[:1], str(results), executor="serial", progress=False)
    got = {(r["L"], r["T"]): r["work"] for r in atlas_rows(results)}
    assert got == {(1, 2): 0.5, (1, 4): 0.5, (2, 2): 0.5, (2, 4): 0.5, (1, 6): 0.2, (2, 6): 0.2}


def test_onehot_value_above_a_valid_upper_bound_is_not_a_refutation():
    # L = 4, R = 3, M = 4, T = 4, one-hot: the conjecture says 15 (within the trivial bound 16) but the min-cut is 12
    row = atlas_cell(4, 3, 4, 4, "onehot", "start-end", 0.5)
    assert row["exact"] and row["lower"] == 12 and row["depthL_value"] == "15"
    assert row["depthL_conjecture"] == "does not apply"


def test_markdown_tables_and_figure(tmp_path):
    from tnrnn.atlas import atlas_markdown, plot_atlas, write_atlas_page

    rows = [atlas_cell(L, 3, 3, T, "continuous", "start-end", 0.2) for L in (1, 2) for T in (2, 4)]
    text = atlas_markdown(rows)
    assert "### continuous, start-end" in text and "| 2 | 3 | 3 | 3 | 18 |" in text
    page = tmp_path / "atlas.md"
    write_atlas_page(rows, page, "# Atlas\n<!-- atlas tables -->\n")
    assert page.read_text().startswith("# Atlas\n4 of 1,152 cells computed")
    with pytest.raises(TnrnnError, match="marker"):
        write_atlas_page(rows, page, "# no marker")
    assert plot_atlas(rows, tmp_path / "atlas.png").stat().st_size > 0
