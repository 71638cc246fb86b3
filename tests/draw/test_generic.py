"""``tnrnn.draw`` on networks a user builds from plain tensornetwork nodes: the cut drawn bold, the sides
coloured, open legs as stubs, clear errors for cuts that do not belong to the network or do not separate it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import tensornetwork as tn

import tnrnn
from tnrnn.base.errors import TnrnnError
from tnrnn.draw import style
from tnrnn.draw.generic import draw, node_sides


def mps(n=8, phys=2, bond=3):
    """An open-boundary MPS of n sites: site i has legs (left bond, physical, right bond) inside the chain."""
    nodes = []
    for i in range(n):
        shape = ([bond] if i else []) + [phys] + ([bond] if i < n - 1 else [])
        nodes.append(tn.Node(np.ones(shape), name=f"s{i}"))
    bonds = [nodes[i][-1] ^ nodes[i + 1][0] for i in range(n - 1)]
    return nodes, bonds


def gids(fig, prefix):
    ax = fig.axes[0]
    return [a.get_gid() for a in list(ax.patches) + list(ax.lines) if (a.get_gid() or "").startswith(prefix)]


def face_of(fig, i):
    from matplotlib.colors import to_hex

    patch = next(p for p in fig.axes[0].patches if p.get_gid() == f"node-{i}")
    return to_hex(patch.get_facecolor())


def test_mps_middle_cut_colours_both_sides():
    nodes, bonds = mps()
    fig = tnrnn.draw(nodes, left=nodes[:4], cut={bonds[3]})
    assert gids(fig, "cut-") == ["cut-3.2-4.0"]
    sides = [face_of(fig, i) for i in range(8)]
    assert sides == [style.SIDE_TINTS["A"]] * 4 + [style.SIDE_TINTS["B"]] * 4
    legs = {g: line.get_color() for line in fig.axes[0].lines if (g := line.get_gid() or "").startswith("edge-")}
    # the 8 physical legs are stubs in their side's colour
    stub_colours = [c for g, c in legs.items() if g.count("-") == 1]
    assert sorted(stub_colours).count(style.SIDE_COLORS["A"]) == 4
    assert sorted(stub_colours).count(style.SIDE_COLORS["B"]) == 4


def test_cut_object_with_edges_and_sides_is_drawn_as_given():
    """A result object (like the general min-cut's) is drawn as it says: its edges bold, its sides coloured."""
    nodes, bonds = mps(6)
    sides = {n: ("A" if i < 2 else "B") for i, n in enumerate(nodes)}
    result = SimpleNamespace(edges=[bonds[1]], sides=sides, value="3")
    fig = draw(nodes, left=["s0", "s1"], cut=result)
    assert len(gids(fig, "cut-")) == len(result.edges) == 1
    assert [face_of(fig, i) for i in range(6)] == [style.SIDE_TINTS["A"]] * 2 + [style.SIDE_TINTS["B"]] * 4
    assert any("cut: 3" in t.get_text() for t in fig.axes[0].texts)


def test_sides_by_index_or_name():
    nodes, bonds = mps(3)
    assert node_sides(nodes, set(), SimpleNamespace(edges=[], sides={0: "A", "s1": "B"}), lambda n: nodes.index(n)) \
        == {0: "A", 1: "B"}


def test_a_cut_that_does_not_separate_is_refused():
    nodes, bonds = mps(4)
    with pytest.raises(TnrnnError, match="does not separate"):
        draw(nodes, left=nodes[:2], cut=[bonds[0]])  # s1 and s2 still joined: the left legs reach the right ones


def test_foreign_edges_and_bad_left_are_refused():
    nodes, _ = mps(3)
    other, other_bonds = mps(3)
    with pytest.raises(TnrnnError, match="not in the node list|not part of the network"):
        draw(nodes, cut=[other_bonds[0]])
    with pytest.raises(TnrnnError, match="no node is named"):
        draw(nodes, left=["nope"])
    with pytest.raises(TnrnnError, match="open legs"):
        draw(nodes, left=[nodes[0][1]])
    with pytest.raises(TnrnnError, match="list of tensornetwork nodes"):
        draw("not a network")


def test_draw_is_callable_from_the_package_and_dispatches_rac_networks():
    import tnrnn.draw as package
    from tnrnn.network.build import build_network
    from tnrnn.rac.spec import RACSpec

    assert tnrnn.draw is package and callable(package)
    net = build_network(RACSpec(2, 2, 2), 4)
    fig = tnrnn.draw(net, left="start-end", cut=[net.input_edges[0][0]])
    assert len(gids(fig, "cut-")) == 1 and len(gids(fig, "node-")) == len(net.nodes)


def test_general_min_cut_result_is_drawn():
    """The general min-cut's result (edges and sides) draws as it is, when that solver is available."""
    explicit = __import__("tnrnn.bounds.cut_explicit", fromlist=["explicit_mincut"])
    if not hasattr(explicit, "explicit_mincut"):
        pytest.fail("tnrnn.bounds.cut_explicit.explicit_mincut is missing")
    nodes, _ = mps(8)
    legs = [n.edges[1] if i else n.edges[0] for i, n in enumerate(nodes)]
    result = explicit.explicit_mincut(nodes, legs[:4])
    fig = draw(nodes, left=legs[:4], cut=result)
    assert len(gids(fig, "cut-")) == len(result.edges) == 1
    faces = {face_of(fig, i) for i in range(8)}
    assert faces == {style.SIDE_TINTS["A"], style.SIDE_TINTS["B"]}


def test_a_network_object_holding_its_nodes_is_drawn():
    nodes, bonds = mps(4)
    holder = SimpleNamespace(nodes=nodes)
    fig = draw(holder, left=nodes[:2], cut=[bonds[1]])
    assert len(gids(fig, "node-")) == 4 and gids(fig, "cut-") == ["cut-1.2-2.0"]
