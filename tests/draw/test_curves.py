"""The rank-curve figure: grouping of table records, what is drawn where, clipping of huge bounds, determinism."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.draw.curves import _pow2_label, curve_data, plot_rank_curves


def mset(n: int, k: int) -> int:
    return math.comb(n + k - 1, k)


def anchor_records() -> list[dict]:
    """Rank-table records built from docs/theory.md: the depth-2 anchors (M = R = 2: 2, 4, 8, 10), the shallow
    theorem min(R, M^(T/2)), the one-hot bound M^(T/2) and the state bound R * ((R, T/2)) as upper bounds, the
    depth-2 theorem and the depth-3 conjecture as theory."""
    recs = []
    anchors2 = {2: 2, 4: 4, 6: 8, 8: 10}
    for T in (2, 4, 6, 8):
        onehot = 2 ** (T // 2)
        recs.append({"depth": 1, "width": 2, "features": 2, "time": T, "domain": "onehot", "partition": "start-end",
                     "lower": 2, "upper": "2", "upper_log2": 1.0, "exact": True,
                     "theory": [{"name": "shallow", "kind": "theorem", "relation": "=", "value": "2",
                                 "value_log2": 1.0, "applies": True, "contradicted": False}]})
        up2 = min(onehot, 2 * mset(2, T // 2))
        recs.append({"depth": 2, "width": 2, "features": 2, "time": T, "domain": "onehot", "partition": "start-end",
                     "lower": anchors2[T], "upper": str(up2), "upper_log2": math.log2(up2),
                     "exact": anchors2[T] == up2,
                     "theory": [{"name": "depth-2", "kind": "theorem", "relation": ">=", "value": str(mset(2, T // 2)),
                                 "value_log2": math.log2(mset(2, T // 2)), "applies": True, "contradicted": False}]})
        conj = mset(2, math.comb(T // 2 + 1, 2))
        recs.append({"depth": 3, "width": 2, "features": 2, "time": T, "domain": "onehot", "partition": "start-end",
                     "lower": max(1, onehot // 2), "upper": f"2^{T * 3}", "upper_log2": float(T * 3), "exact": False,
                     "theory": [{"name": "depth-L", "kind": "conjecture", "relation": ">=", "value": str(conj),
                                 "value_log2": math.log2(conj), "applies": True,
                                 "contradicted": False}]})
    # A flagged theory value (as the rank table flags a formula its bounds rule out) must be marked.
    recs[-1]["theory"][0]["contradicted"] = True
    return recs


def test_curve_data_groups_sorts_and_skips():
    recs = anchor_records()[::-1]  # any order
    recs.append({"depth": 2, "time": 10, "lower": None, "error": "boom"})
    data = curve_data(recs)
    assert list(data["curves"]) == [1, 2, 3]
    c2 = data["curves"][2]
    assert c2["T"] == [2, 4, 6, 8]
    assert c2["lower"] == [2, 4, 8, 10]
    assert c2["lower_log2"] == pytest.approx([1, 2, 3, math.log2(10)])
    assert c2["exact"] == [True, True, True, True]
    assert data["skipped"] == 1
    assert data["theory"][(3, "depth-L")]["kind"] == "conjecture"
    assert data["meta"]["width"] == [2]


def test_curve_data_refuses_nothing_to_plot():
    with pytest.raises(TnrnnError, match="no rank records"):
        curve_data([{"depth": 1, "time": 2, "lower": None, "error": "x"}])
    with pytest.raises(TnrnnError, match="depth"):
        curve_data([{"lower": 3}])


def test_markers_bands_and_lines_show_the_records():
    recs = anchor_records()
    fig = plot_rank_curves(recs)
    ax = fig.axes[0]
    lines = {l.get_gid(): l for l in ax.lines if l.get_gid()}
    for d in (1, 2, 3):
        mine = [r for r in recs if r["depth"] == d]
        exact = [r for r in mine if r["exact"]]
        lower = [r for r in mine if not r["exact"]]
        # exact points are filled markers, the others hollow, one marker per record, at log2 of the lower bound
        assert len(lines[f"exact-L{d}"].get_xdata()) == len(exact)
        assert len(lines[f"lower-L{d}"].get_xdata()) == len(lower)
        assert list(lines[f"exact-L{d}"].get_ydata()) == pytest.approx([math.log2(r["lower"]) for r in exact])
        assert lines[f"lower-L{d}"].get_markerfacecolor() == "white"
    # theorems dashed, conjectures dotted: visibly distinct
    assert lines["theory-L2"].get_linestyle() != lines["theory-L3"].get_linestyle()
    assert [round(x) for x in lines["contradicted-L3"].get_xdata()] == [8]  # at T = 8, shifted with its depth
    bands = [c.get_gid() for c in ax.collections]
    assert {"upper-band-L1", "upper-band-L2", "upper-band-L3"} <= set(bands)
    # ticks are powers of two
    assert _pow2_label(5.0) == "$2^{5}$" and _pow2_label(2.5) == ""


def test_astronomical_upper_bounds_are_clipped_not_squashing():
    recs = [{"depth": 4, "time": T, "lower": 2 ** (T // 2), "upper": f"2^{23_068_672}", "upper_log2": 23_068_672.0,
             "exact": False, "theory": []} for T in (2, 4, 6)]
    fig = plot_rank_curves(recs)
    ax = fig.axes[0]
    top = ax.get_ylim()[1]
    assert top < 20  # the certified values (at most 2^3) stay readable
    clipped = [l for l in ax.lines if l.get_gid() == "upper-clipped-L4"]
    assert len(clipped) == 1 and len(clipped[0].get_xdata()) == 3


def test_written_svg_parses_and_is_deterministic(tmp_path):
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    plot_rank_curves(anchor_records(), a)
    plot_rank_curves(anchor_records(), b)
    root = ET.parse(a).getroot()
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert {"exact-L2", "lower-L3", "theory-L2", "upper-band-L3"} <= ids
    assert a.read_bytes() == b.read_bytes()
    p = tmp_path / "c.png"
    plot_rank_curves(anchor_records(), p)
    q = tmp_path / "d.png"
    plot_rank_curves(anchor_records(), q)
    assert p.read_bytes() == q.read_bytes() and p.read_bytes()[:4] == b"\x89PNG"


def test_bad_path_is_refused(tmp_path):
    with pytest.raises(TnrnnError, match="unsupported figure format"):
        plot_rank_curves(anchor_records(), tmp_path / "x.gif")
    with pytest.raises(TnrnnError, match="is a directory"):
        plot_rank_curves(anchor_records(), tmp_path)


def test_real_table_records_plot(tmp_path):
    from tnrnn.rank import table_point

    recs = [table_point(L, 2, 2, T) for L in (1, 2) for T in (2, 4)]
    out = plot_rank_curves(recs, tmp_path / "r.svg")
    ids = {el.get("id") for el in ET.parse(out).getroot().iter() if el.get("id")}
    assert {"upper-band-L1", "upper-band-L2"} <= ids
    data = curve_data(recs)
    assert data["curves"][2]["lower"] == [2, 4]  # docs/theory.md anchors, depth 2, M = R = 2


def test_no_text_overlaps_or_clipping():
    import itertools

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    fig = plot_rank_curves(anchor_records())
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = {id(t): t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()}
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts.values()]
    assert len(boxes) > 15  # title, axis labels, ticks, both legends
    assert [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)] == []
    W, H = fig.canvas.get_width_height()
    assert [n for n, b in boxes if b.x0 < 0 or b.y0 < 0 or b.x1 > W or b.y1 > H] == []


def _lines(fig):
    return {line.get_gid(): line for line in fig.axes[0].lines if line.get_gid()}


def test_markers_and_upper_lines_share_their_x_positions():
    """Depths are shifted sideways to keep shared values apart; each depth's upper line, band, formula and
    markers share one shift, so an exact point sits on its upper line (it looked gapped before)."""
    fig = plot_rank_curves(anchor_records())
    lines = _lines(fig)
    for d in (1, 2, 3):
        upper = dict(zip(lines[f"upper-L{d}"].get_xdata(), lines[f"upper-L{d}"].get_ydata()))
        theory_x = set(lines[f"theory-L{d}"].get_xdata())
        for kind in ("exact", "lower"):
            for x, y in zip(lines[f"{kind}-L{d}"].get_xdata(), lines[f"{kind}-L{d}"].get_ydata()):
                assert x in upper and x in theory_x
                if kind == "exact":
                    assert upper[x] == pytest.approx(y)
    shifts = {round(lines[f"upper-L{d}"].get_xdata()[0] - 2, 9) for d in (1, 2, 3)}
    assert len(shifts) == 3  # the depths are still told apart


def test_clipped_label_names_the_edge_where_bounds_are_clipped():
    recs = [{"depth": 2, "time": T, "lower": 2 ** (T // 2), "upper_log2": u, "exact": False, "theory": []}
            for T, u in ((2, 1.5), (4, 9.7), (6, 400.0))]
    fig = plot_rank_curves(recs)
    lines = _lines(fig)
    top = lines["upper-clipped-L2"].get_ydata()[0]
    assert float(top).is_integer()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"upper bound above $2^{{{int(top)}}}$ (drawn at the top edge)" in labels
    clipped_x = list(lines["upper-clipped-L2"].get_xdata())
    assert len(clipped_x) == sum(r["upper_log2"] > top for r in recs) >= 1
    assert max(lines["upper-L2"].get_ydata()) <= top


def test_a_lower_bound_of_zero_is_drawn_below_rank_one():
    recs = [{"depth": 1, "time": 2, "lower": 0, "upper": "2", "upper_log2": 1.0, "exact": False, "theory": []},
            {"depth": 1, "time": 4, "lower": 1, "upper": "2", "upper_log2": 1.0, "exact": False, "theory": []}]
    fig = plot_rank_curves(recs)
    lines = _lines(fig)
    zero = lines["lower-zero-L1"]
    assert list(zero.get_ydata()) == [fig.axes[0].get_ylim()[0]] and zero.get_ydata()[0] < 0  # below log2(1) = 0
    assert list(lines["lower-L1"].get_ydata()) == [0.0]  # rank >= 1 is a real point at 2^0
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "lower bound 0: nothing certified" in labels
    assert curve_data(recs)["curves"][1]["lower_log2"] == [None, 0.0]


def test_typed_table_records_plot_like_their_json():
    from tnrnn.base.counts import ExactCount
    from tnrnn.report import TableRecord

    typed = [TableRecord(2, 2, 2, T, "onehot", "start-end", r, ExactCount(u), "mincut", r == u)
             for T, r, u in [(2, 2, 2), (4, 4, 4), (6, 7, 8)]]
    from_typed = curve_data(typed)["curves"][2]
    from_json = curve_data([t.to_json() for t in typed])["curves"][2]
    assert from_typed == from_json
    assert from_typed["lower"] == [2, 4, 7] and from_typed["exact"] == [True, True, False]
    assert from_typed["upper_log2"] == pytest.approx([1.0, 2.0, 3.0])


def test_probabilistic_statements_are_marked_apart_from_certified_values():
    recs = [{"depth": 3, "time": T, "lower": lo, "upper": up, "upper_log2": math.log2(up), "exact": lo == up,
             "theory": [], "probabilistic": prob}
            for T, lo, up, prob in [(4, 8, 8, None), (6, 52, 56, {"rank": 52, "epsilon": 1e-4}), (8, 106, 110, None)]]
    fig = plot_rank_curves(recs)
    lines = _lines(fig)
    marked = lines["probabilistic-L3"]
    assert [round(x) for x in marked.get_xdata()] == [6]
    assert list(marked.get_ydata()) == pytest.approx([math.log2(52)])
    assert len(lines["lower-L3"].get_xdata()) == 2  # still drawn as a certified lower bound, not as exact
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "rank = lower bound with high probability (not certified)" in labels
