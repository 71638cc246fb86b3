"""Tensor-network figures: one drawn shape per node, the drawn cut is exactly the cut given (and the computed one
when rendered through ``render_rac``), nothing overlaps, same inputs give the same bytes, bad paths are refused
with a clear error, figures never compute a bound."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
import tensornetwork as tn
from hypothesis import given, settings
from hypothesis import strategies as st

import tnrnn
import tnrnn.figures as figures
from tnrnn import network_mincut
from tnrnn.base.errors import TnrnnError
from tnrnn.draw.compact import aggregate_cut, draw_compact_grid, link_total
from tnrnn.draw.generic import draw_tensor_network
from tnrnn.draw.layout import BOX_H, BOX_W, cell_counts, edge_key, generic_layout, rac_layout
from tnrnn.draw.network import draw_network, render_network
from tnrnn.draw.primitives import math_count
from tnrnn.draw.style import check_output_path
from tnrnn.figures import render_rac
from tnrnn.network.build import build_network
from tnrnn.rac.partition import make_partition
from tnrnn.rac.spec import RACSpec


def svg_ids(path) -> list[str]:
    root = ET.parse(path).getroot()  # also checks the file is well-formed XML
    return [el.get("id") for el in root.iter() if el.get("id")]


def gids(fig, prefix: str) -> list[str]:
    ax = fig.axes[0]
    return [a.get_gid() for a in list(ax.patches) + list(ax.lines) if (a.get_gid() or "").startswith(prefix)]


def nx_cut_keys(net, part) -> tuple[set, int]:
    """An independent min-cut of a continuous-form network: networkx on its bond graph, every bond of capacity
    log R (all bonds have dimension R), the open input legs as edges to the terminals with capacity log M."""
    g = nx.Graph()
    nid = net.node_id
    for e in net.edges():
        if e.is_dangling():
            continue
        g.add_edge(nid(e.node1), nid(e.node2), capacity=1, key=edge_key(nid, e))
    big = 10**6
    for t, legs in enumerate(net.input_edges, start=1):
        for e in legs:
            side = "S" if part.side(t) == "A" else "Z"
            g.add_edge(nid(e.node1), side + str(nid(e.node1)), capacity=1, key=edge_key(nid, e))
            g.add_edge(side + str(nid(e.node1)), side, capacity=big)
    value, (S, _) = nx.minimum_cut(g.to_directed(), "S", "Z")
    keys = {d["key"] for a, b, d in g.edges(data=True) if (a in S) != (b in S)}
    return keys, value


# ---------------------------------------------------------------------------------------------------------------
# one drawn element per node, cut edges exactly the computed cut


@pytest.mark.parametrize("L,T,form,partition", [
    (1, 8, "continuous", "start-end"),
    (2, 4, "continuous", "start-end"),
    (2, 6, "grid", "start-end"),
    (3, 4, "continuous", "odd-even"),
    (2, 5, "continuous", "1,4"),
])
def test_svg_has_one_node_element_per_node_and_exactly_the_cut(tmp_path, L, T, form, partition):
    spec = RACSpec(L, 2, 2)
    out = tmp_path / "net.svg"
    info = render_rac(spec, T, partition, form, out)
    assert info["view"] == "full"
    net = build_network(spec, T, form=form)
    ids = svg_ids(out)
    nodes = [i for i in ids if i.startswith("node-")]
    assert len(nodes) == net.stats()["nodes"] == len(set(nodes))
    assert set(nodes) == {f"node-{i}" for i in range(len(net.nodes))}
    cut = network_mincut(net, make_partition(T, partition))
    expected = {f"cut-{edge_key(net.node_id, e)}" for e in cut.edges}
    assert expected, "a min-cut between non-empty sides cuts something"
    assert {i for i in ids if i.startswith("cut-")} == expected
    # The drawn cut costs what the bound says.
    assert math.isclose(sum(math.log2(e.dimension) for e in cut.edges), info["mincut_log2"])
    # Every edge of the network is drawn once.
    assert len([i for i in ids if i.startswith("edge-")]) == net.stats()["edges"]


def test_drawn_cut_matches_an_independent_networkx_cut():
    """Start-End of depth 2, continuous form: the value is R^(T/2+1) (docs/theory.md, 'Min-cut bound') and the edges an
    independent networkx cut finds are drawn bold when passed in."""
    T = 6
    net = build_network(RACSpec(2, 2, 2), T)
    part = make_partition(T)
    keys, value = nx_cut_keys(net, part)
    assert value == T // 2 + 1
    edges = [e for e in net.edges() if edge_key(net.node_id, e) in keys]
    fig = draw_network(net, part, edges)
    assert set(gids(fig, "cut-")) == {f"cut-{k}" for k in keys}


@settings(max_examples=6, deadline=None)
@given(L=st.integers(1, 3), T=st.integers(2, 6), form=st.sampled_from(["continuous", "grid"]), seed=st.integers(0, 99))
def test_property_nodes_and_cut(L, T, form, seed):
    rng = np.random.default_rng(seed)
    A = sorted(rng.choice(np.arange(1, T + 1), size=int(rng.integers(1, T)), replace=False).tolist())
    part = make_partition(T, A)
    net = build_network(RACSpec(L, 2, 2), T, form=form)
    cut = network_mincut(net, part)
    fig = draw_network(net, part, cut)
    assert sorted(gids(fig, "node-")) == sorted(f"node-{i}" for i in range(len(net.nodes)))
    assert set(gids(fig, "cut-")) == {f"cut-{edge_key(net.node_id, e)}" for e in cut.edges}


# ---------------------------------------------------------------------------------------------------------------
# readability: nothing overlaps, routes attach to their nodes, hidden chains are straight


def _half_size(role: str) -> tuple[float, float]:
    if role in ("W_I", "W_H"):
        return BOX_W / 2, BOX_H / 2
    if role == "W_O":
        return BOX_W / 2 + 0.02, BOX_H / 2 + 0.02
    return 0.08, 0.08


@pytest.mark.parametrize("L,T,form", [(1, 16, "continuous"), (2, 8, "continuous"), (2, 8, "grid"),
                                      (3, 4, "continuous"), (3, 6, "grid")])
def test_full_view_shapes_do_not_overlap(L, T, form):
    net = build_network(RACSpec(L, 2, 2), T, form=form)
    lay = rac_layout(net)
    boxes = []
    for i, tag in enumerate(net.tags):
        (x, y), (hw, hh) = lay.pos[i], _half_size(tag.role)
        boxes.append((x - hw, x + hw, y - hh, y + hh))
    b = np.array(boxes)
    for i in range(len(b)):
        overlap = (b[i, 0] < b[:, 1]) & (b[:, 0] < b[i, 1]) & (b[i, 2] < b[:, 3]) & (b[:, 2] < b[i, 3])
        overlap[i] = False
        assert not overlap.any(), f"node {i} overlaps {np.flatnonzero(overlap)}"
    W, H = lay.size
    assert b[:, 0].min() > 0 and b[:, 1].max() < W and b[:, 2].min() > 0 and b[:, 3].max() < H


@pytest.mark.parametrize("L,T,form", [(2, 6, "continuous"), (3, 4, "grid")])
def test_edge_routes_start_and_end_at_their_nodes(L, T, form):
    net = build_network(RACSpec(L, 2, 2), T, form=form)
    lay = rac_layout(net)
    nid = net.node_id
    assert set(lay.paths) == {edge_key(nid, e) for e in net.edges()}
    for e in net.edges():
        pts = lay.paths[edge_key(nid, e)]
        ends = [e.node1] if e.is_dangling() else [e.node1, e.node2]
        for node in ends:
            x, y = lay.pos[nid(node)]
            hw, hh = _half_size(net.tag(node).role)
            near = [abs(px - x) <= hw + 1e-9 and abs(py - y) <= hh + 1e-9 for px, py in (pts[0], pts[-1])]
            assert any(near), f"edge {edge_key(nid, e)} does not touch {net.tag(node)}"


def test_hidden_chains_are_horizontal():
    """Instances are ordered by their consumer's slot, so every state handed to the next step's W_H in the same
    layer is a horizontal line."""
    net = build_network(RACSpec(3, 2, 2), 5)
    lay = rac_layout(net)
    nid = net.node_id
    checked = 0
    for e in net.edges():
        if e.is_dangling():
            continue
        roles = {net.tag(e.node1).role, net.tag(e.node2).role}
        if roles == {"copy", "W_H"}:
            (_, y0), (_, y1) = lay.paths[edge_key(nid, e)][0], lay.paths[edge_key(nid, e)][-1]
            assert y0 == pytest.approx(y1)
            checked += 1
    assert checked == sum(1 for g in net.tags if g.role == "W_H") * 2  # into its copy, and from the previous one


def test_cell_counts_match_the_network():
    for L, T in [(1, 5), (2, 6), (3, 5)]:
        net = build_network(RACSpec(L, 2, 2), T)
        counted = {}
        for g in net.tags:
            if g.role == "copy":
                counted[(g.time, g.layer)] = counted.get((g.time, g.layer), 0) + 1
        assert counted == cell_counts(L, T)


# ---------------------------------------------------------------------------------------------------------------
# automatic compact view


@pytest.mark.parametrize("L,T,full", [(1, 16, True), (2, 8, True), (2, 10, True), (3, 4, True), (1, 17, False),
                                      (2, 12, False), (3, 6, False), (4, 5, False), (2, 20, False)])
def test_view_is_chosen_by_size(tmp_path, L, T, full):
    # Depth 3 at T = 6 (250 nodes in a 1410 x 2310 tower) is drawn as the readable compact grid.
    info = render_rac(RACSpec(L, 2, 2), T, "odd-even", "continuous", tmp_path / "n.svg")
    assert info["view"] == ("full" if full else "compact")
    ids = svg_ids(tmp_path / "n.svg")
    if full:
        assert sum(i.startswith("node-") for i in ids) == info["nodes"]
    else:
        assert sum(i.startswith("cell-") for i in ids) == L * T
        assert not any(i.startswith("node-") for i in ids)


def test_compact_view_says_so_and_shows_multiplicities():
    fig = draw_compact_grid(RACSpec(3, 2, 2), 8, "start-end", cut=SimpleNamespace(value="2^15 = 32768", edges=[]),
                            note="compact view: test")
    texts = [t.get_text() for t in fig.axes[0].texts]
    counts = cell_counts(3, 8)
    for n in set(counts.values()):
        assert f"×{n}" in texts
    assert any("compact view" in t for t in texts)
    assert any("min-cut" in t and "2^{15}" in t for t in texts)


def test_cut_annotation_and_legend():
    net = build_network(RACSpec(2, 2, 2), 4)
    cut = network_mincut(net, "start-end")
    fig = draw_network(net, "start-end", cut)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("min-cut: ") and math_count(str(cut.value)) in t for t in texts)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "cut edge" in labels and "input leg, side A" in labels


@pytest.mark.parametrize("L,T,form,expected", [
    (2, 6, "continuous", "min-cut: $R^{4}$ = $2^{4}$ = 16"),  # R^(T/2+1), docs/theory.md 'Min-cut bound'
    (1, 8, "continuous", "min-cut: $R$ = 2"),                 # shallow: one bond
    (2, 6, "grid", "min-cut: $M^{3}$ = $2^{3}$ = 8"),        # grid form: the three A legs
])
def test_cut_is_annotated_in_powers_of_R_and_M(L, T, form, expected):
    net = build_network(RACSpec(L, 2, 2), T, form=form)
    fig = draw_network(net, "start-end", network_mincut(net, "start-end"))
    assert any(t.get_text().startswith(expected + "  (") for t in fig.axes[0].texts)


def test_math_count():
    assert math_count("2^5 = 32") == "$2^{5}$ = 32"
    assert math_count("7") == "7"


# ---------------------------------------------------------------------------------------------------------------
# generic tensornetwork networks


def _triangle():
    a, b, c = (tn.Node(np.ones((3, 3, 4)), name=n) for n in ("A", "B", "C"))
    a[1] ^ b[0]
    b[1] ^ c[0]
    c[1] ^ a[0]
    return [a, b, c]


def test_generic_network_is_drawn_with_every_node_and_edge(tmp_path):
    from tnrnn.draw.style import save_figure

    nodes = _triangle()
    fig = draw_tensor_network(nodes, cut=[nodes[0][1]])
    save_figure(fig, tmp_path / "g.svg")
    ids = svg_ids(tmp_path / "g.svg")
    assert sorted(i for i in ids if i.startswith("node-")) == ["node-0", "node-1", "node-2"]
    assert len([i for i in ids if i.startswith("edge-")]) == 6  # 3 bonds + 3 open legs
    assert [i for i in ids if i.startswith("cut-")] == ["cut-0.1-1.0"]


def test_generic_layout_is_deterministic_and_separates_nodes():
    lay1, lay2 = generic_layout(_triangle()), generic_layout(_triangle())
    assert lay1.pos == lay2.pos
    pts = list(lay1.pos.values())
    assert min(math.dist(p, q) for i, p in enumerate(pts) for q in pts[i + 1:]) > 0.5


def _chain(n):
    nodes = [tn.Node(np.ones((2, 2))) for _ in range(n)]
    for a, b in zip(nodes, nodes[1:]):
        a[1] ^ b[0]
    return nodes


def test_generic_layout_of_a_large_network_is_quick_and_deterministic(monkeypatch):
    # Kamada-Kawai alone took about 75 s at 300 nodes (and hung beyond); big components use a seeded spring layout.
    import networkx as nx

    def refuse(*args, **kwargs):
        raise AssertionError("Kamada-Kawai called on a large component")

    monkeypatch.setattr(nx, "kamada_kawai_layout", refuse)
    lay1, lay2 = generic_layout(_chain(150)), generic_layout(_chain(150))
    assert lay1.pos == lay2.pos and len(lay1.pos) == 150
    with pytest.raises(TnrnnError, match="limited to 300 nodes"):
        generic_layout(_chain(301))


def test_draw_network_dispatches_plain_node_lists():
    fig = draw_network(_triangle())
    assert len(gids(fig, "node-")) == 3
    with pytest.raises(TnrnnError, match="partition"):
        draw_network(_triangle(), "start-end")


def test_foreign_cut_edge_is_refused():
    net = build_network(RACSpec(1, 2, 2), 4)
    other = _triangle()
    with pytest.raises(TnrnnError, match="not part of the network"):
        draw_network(net, "start-end", [other[0][1]])


# ---------------------------------------------------------------------------------------------------------------
# determinism and errors


@pytest.mark.parametrize("ext", ["svg", "png"])
def test_same_inputs_same_bytes(tmp_path, ext):
    spec = RACSpec(2, 2, 2)
    a, b = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
    render_rac(spec, 4, "start-end", "continuous", a)
    render_rac(spec, 4, "start-end", "continuous", b)
    assert a.read_bytes() == b.read_bytes()
    c = tmp_path / f"c.{ext}"
    render_rac(spec, 4, "odd-even", "continuous", c)
    assert c.read_bytes() != a.read_bytes()


def test_bad_output_paths(tmp_path):
    spec = RACSpec(2, 2, 2)
    with pytest.raises(TnrnnError, match="unsupported figure format"):
        render_rac(spec, 4, out=tmp_path / "n.jpg")
    with pytest.raises(TnrnnError, match="unsupported figure format"):
        render_rac(spec, 4, out=tmp_path / "noext")
    with pytest.raises(TnrnnError, match="is a directory"):
        render_rac(spec, 4, out=tmp_path)
    (tmp_path / "d.svg").mkdir()
    with pytest.raises(TnrnnError, match="is a directory"):
        render_rac(spec, 4, out=tmp_path / "d.svg")
    (tmp_path / "file").write_text("x")
    with pytest.raises(TnrnnError, match="(?i)not a directory"):
        render_rac(spec, 4, out=tmp_path / "file" / "n.svg")
    with pytest.raises(TnrnnError, match="output path"):
        render_rac(spec, 4, out=None)
    assert check_output_path(tmp_path / "new" / "x.PNG")[1] == "png"
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "file"]


def test_bad_path_refused_before_work(tmp_path, monkeypatch):
    import tnrnn.network.build as build

    def boom(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("work started before the path was checked")

    monkeypatch.setattr(build, "build_network", boom)
    with pytest.raises(TnrnnError, match="unsupported"):
        render_rac(RACSpec(2, 2, 2), 4, out=tmp_path / "n.pdf")


def test_bad_inputs(tmp_path):
    spec = RACSpec(2, 2, 2)
    with pytest.raises(TnrnnError, match="even T"):
        render_rac(spec, 5, "start-end", out=tmp_path / "n.svg")
    with pytest.raises(TnrnnError, match="form"):
        render_rac(spec, 4, form="dense", out=tmp_path / "n.svg")
    with pytest.raises(TnrnnError, match="view"):
        render_rac(spec, 4, view="huge", out=tmp_path / "n.svg")
    with pytest.raises(TnrnnError, match="T <= 40"):
        render_rac(spec, 64, out=tmp_path / "n.svg")
    with pytest.raises(TnrnnError, match="compact"):
        render_rac(RACSpec(3, 2, 2), 160, view="full", out=tmp_path / "n.svg")


def test_no_partition_draws_no_cut(tmp_path):
    info = render_rac(RACSpec(2, 2, 2), 5, None, "continuous", tmp_path / "n.svg")
    assert info["mincut"] is None
    assert not any(i.startswith("cut-") for i in svg_ids(tmp_path / "n.svg"))


def test_explicit_initial_state_and_given_axes():
    import matplotlib.pyplot as plt

    from tnrnn.rac.recurrence import init_params_modp

    spec = RACSpec(2, 2, 2)
    net = build_network(spec, 4, init_params_modp(spec, 0, init_state=True))
    assert net.stats()["roles"]["init"] == 5  # h0 behind W_H in every instance at t = 1
    fig, ax = plt.subplots()
    assert draw_network(net, "start-end", ax=ax) is fig
    assert sorted(gids(fig, "node-")) == sorted(f"node-{i}" for i in range(len(net.nodes)))
    plt.close(fig)
    lay = rac_layout(net)
    xs = {(g.role, round(lay.pos[i][0], 6)) for i, g in enumerate(net.tags) if g.time <= 1 and g.role != "W_O"}
    by_role = {}
    for role, x in xs:
        by_role.setdefault(role, set()).add(x)
    assert all(len(v) == 1 for v in by_role.values())  # one x per role in the first column
    x = {role: v.pop() for role, v in by_role.items()}
    assert x["init"] < x["W_H"] < x["copy"] == x["W_I"]  # the state flows in from the left


def test_compact_view_without_a_cut_when_the_bound_is_refused(tmp_path, monkeypatch):
    from tnrnn.base.errors import ResourceError

    def refuse(*a, **k):
        raise ResourceError("too big for the test")

    # Over EXPLICIT_CUT_MAX_NODES the structured solver is asked (and here refuses); the grid is drawn anyway.
    monkeypatch.setattr(figures, "EXPLICIT_CUT_MAX_NODES", 100)
    monkeypatch.setattr(tnrnn, "rac_mincut", refuse)
    info = render_rac(RACSpec(3, 2, 2), 10, "start-end", "grid", tmp_path / "n.svg")
    assert info["view"] == "compact" and info["mincut"] is None
    assert not any(i.startswith("cut-") for i in svg_ids(tmp_path / "n.svg"))


def test_headless_without_pyplot(tmp_path):
    """Rendering needs no display and leaves matplotlib's global state alone (pyplot never imported)."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, tnrnn.figures as n, tnrnn.draw.curves as c\n"
        "from tnrnn.rac.spec import RACSpec\n"
        f"n.render_rac(RACSpec(2, 2, 2), 4, out={str(tmp_path / 'a.png')!r})\n"
        "c.plot_rank_curves([{'depth': 1, 'time': 2, 'lower': 2, 'upper_log2': 1.0, 'exact': True}], "
        f"{str(tmp_path / 'b.svg')!r})\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND", "WAYLAND_DISPLAY")}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         cwd=root)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
    assert (tmp_path / "a.png").stat().st_size > 0 and (tmp_path / "b.svg").stat().st_size > 0


def _text_problems(fig):
    """Pairs of overlapping texts (labels, headings, legend entries) and texts reaching outside the page."""
    import itertools

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.axes[0].texts if t.get_text()]
    for legend in fig.legends:
        texts += list(legend.get_texts())
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    overlapping = [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]
    W, H = fig.canvas.get_width_height()
    outside = [name for name, b in boxes if b.x0 < 0 or b.y0 < 0 or b.x1 > W or b.y1 > H]
    return overlapping, outside


@pytest.mark.parametrize("L,T,form", [(1, 16, "continuous"), (2, 8, "grid"), (3, 6, "continuous"), (1, 2, "grid")])
def test_no_text_overlaps_or_clipping_in_the_full_view(L, T, form):
    net = build_network(RACSpec(L, 2, 2), T, form=form)
    fig = draw_network(net, "start-end", network_mincut(net, "start-end"))
    assert _text_problems(fig) == ([], [])


def test_no_text_overlaps_or_clipping_in_the_compact_view():
    fig = draw_compact_grid(RACSpec(4, 2, 2), 24, "odd-even", cut=SimpleNamespace(value="2^1749", edges=[]),
                            note="compact view: a note")
    assert _text_problems(fig) == ([], [])


# ---------------------------------------------------------------------------------------------------------------
# figures draw what they are given and compute nothing


@settings(max_examples=8, deadline=None)
@given(L=st.integers(1, 3), T=st.integers(2, 5), form=st.sampled_from(["continuous", "grid"]), seed=st.integers(0, 999))
def test_full_view_draws_exactly_the_edges_it_is_given(L, T, form, seed):
    """Any set of edges (not only a min-cut) is drawn bold, edge for edge: count of bold edges == len(cut.edges)."""
    net = build_network(RACSpec(L, 2, 2), T, form=form)
    edges = net.edges()
    rng = np.random.default_rng(seed)
    chosen = [edges[i] for i in rng.choice(len(edges), size=int(rng.integers(0, min(6, len(edges)) + 1)),
                                           replace=False)]
    cut = SimpleNamespace(value=None, edges=chosen, sides=None)
    fig = draw_network(net, None, cut)
    bold = gids(fig, "cut-")
    assert len(bold) == len(cut.edges)
    assert set(bold) == {f"cut-{edge_key(net.node_id, e)}" for e in chosen}


@pytest.mark.parametrize("L,T,form,partition", [(3, 6, "continuous", "start-end"), (3, 8, "grid", "start-end"),
                                                (2, 12, "continuous", "odd-even")])
def test_compact_view_counts_exactly_the_cut_it_is_given(tmp_path, L, T, form, partition):
    net = build_network(RACSpec(L, 2, 2), T, form=form)
    cut = network_mincut(net, make_partition(T, partition))
    info = render_network(net, cut, tmp_path / "n.svg", partition=partition)
    assert info["view"] == "compact"
    fig = draw_compact_grid(net.spec, T, partition, form=form, cut=cut, net=net)
    assert link_total(fig) == len(cut.edges) > 0  # every cut edge counted on exactly one link
    ids = svg_ids(tmp_path / "n.svg")
    assert any(i.startswith("cutlink-") for i in ids)
    # A state whose copies end on both sides says how many are on each.
    for (t, l), (a, b) in aggregate_cut(net, cut)[1].items():
        assert a + b == cell_counts(L, T)[(t, l)]


def test_compact_view_needs_the_network_of_the_edges():
    net = build_network(RACSpec(3, 2, 2), 6)
    cut = network_mincut(net, "start-end")
    with pytest.raises(TnrnnError, match="needs the network"):
        draw_compact_grid(net.spec, 6, "start-end", cut=cut)


def test_drawing_never_computes_a_bound(tmp_path, monkeypatch):
    import tnrnn.bounds.cut_explicit as explicit
    import tnrnn.bounds.mincut as structured

    net = build_network(RACSpec(3, 2, 2), 6, form="grid")
    cut = network_mincut(net, "start-end")

    def boom(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("a figure computed a bound")

    for module in (explicit, structured, tnrnn):
        for name in ("network_mincut", "rac_mincut"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, boom)
    render_network(net, cut, tmp_path / "c.svg", partition="start-end")
    render_network(net, cut, tmp_path / "f.svg", partition="start-end", view="full")
    draw_network(net, "start-end", cut)
    draw_compact_grid(net.spec, 6, "start-end", form="grid", cut=cut, net=net)


def test_render_rac_builds_once_and_cuts_once(tmp_path, monkeypatch):
    import tnrnn.network.build as build

    calls = {"build": 0, "cut": 0}
    real_build, real_cut = build.build_network, tnrnn.network_mincut

    def counting_build(*a, **k):
        calls["build"] += 1
        return real_build(*a, **k)

    def counting_cut(*a, **k):
        calls["cut"] += 1
        return real_cut(*a, **k)

    monkeypatch.setattr(build, "build_network", counting_build)
    monkeypatch.setattr(tnrnn, "network_mincut", counting_cut)
    info = render_rac(RACSpec(3, 2, 2), 6, "start-end", "continuous", tmp_path / "n.svg")
    assert calls == {"build": 1, "cut": 1}
    assert info["mincut"] == "2^9 = 512" and len(info["cut_edges"]) == 9


@pytest.mark.parametrize("L,T,form,partition", [(3, 6, "continuous", "start-end"), (3, 8, "grid", "start-end"),
                                                (4, 6, "continuous", "1,2,5")])
def test_no_text_overlaps_or_clipping_in_the_compact_view_with_a_cut(L, T, form, partition):
    net = build_network(RACSpec(L, 2, 2), T, form=form)
    cut = network_mincut(net, partition)
    fig = draw_compact_grid(net.spec, T, partition, form=form, cut=cut, net=net, note="compact view: a note")
    assert _text_problems(fig) == ([], [])
