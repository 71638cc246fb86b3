"""Drawing any tensor network a user brings: ``tnrnn.draw(nodes, left=..., cut=...)``.

The look follows quimb's ``TensorNetwork.draw``: a generic graph layout, tensors as circles, bonds as lines
labelled with their dimension, open legs as short stubs. Given a bipartition of the open legs (``left``) and a
cut, exactly the cut edges are drawn bold and every tensor is coloured by the side it ends on: the sides a cut
object carries (``.sides``), or else the connected pieces left when the cut edges are removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import matplotlib

from tnrnn.base.errors import TnrnnError
from tnrnn.draw import style
from tnrnn.draw.layout import edge_key, generic_layout, node_index
from tnrnn.draw.primitives import cut_keys, cut_value, draw_path, figure_for, legend, math_count

__all__ = ["draw", "draw_tensor_network", "node_sides"]

_UNKNOWN = "#d9d9d9"


def _node_of(ref, nodes: list, nid: Callable) -> int:
    """Position of a node named by the node itself, its index or its name."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        if 0 <= ref < len(nodes):
            return ref
        raise TnrnnError(f"node index {ref} is outside 0..{len(nodes) - 1}")
    if isinstance(ref, str):
        hits = [i for i, n in enumerate(nodes) if n.name == ref]
        if len(hits) != 1:
            raise TnrnnError(f"{'no' if not hits else 'more than one'} node is named {ref!r}")
        return hits[0]
    return nid(ref)


def _left_legs(left, nodes: list, nid: Callable) -> set:
    """Keys of the open legs on side A: ``left`` lists dangling edges, or nodes (by object, index or name) whose
    open legs are all on side A.
    """
    if left is None:
        return set()
    refs = [left] if isinstance(left, (str, int)) or hasattr(left, "is_dangling") else list(left)
    keys = set()
    for ref in refs:
        if hasattr(ref, "is_dangling"):
            if not ref.is_dangling():
                raise TnrnnError("left= names open legs; a bond between two tensors is not an open leg")
            keys.add(edge_key(nid, ref))
            continue
        i = _node_of(ref, nodes, nid)
        legs = [e for e in nodes[i].edges if e.is_dangling()]
        if not legs:
            raise TnrnnError(f"node {nodes[i].name!r} in left= has no open leg")
        keys.update(edge_key(nid, e) for e in legs)
    return keys


def node_sides(nodes: list, left_keys: set, cut, nid: Callable) -> dict[int, str]:
    """Side (``"A"``/``"B"``) of every node: the cut's own ``sides`` when it has them, else the side of the open
    legs each piece of the network still reaches once the cut edges are removed (pieces reaching no open leg
    are left out).

    Raises
    ------
    TnrnnError
        A piece reaches open legs of both sides (the cut does not separate them).

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> a, b = tn.Node(np.ones((2, 3)), name="a"), tn.Node(np.ones((3, 2)), name="b")
    >>> bond = a[1] ^ b[0]
    >>> ids = {id(a): 0, id(b): 1}
    >>> node_sides([a, b], {"0.0"}, [bond], lambda n: ids[id(n)])
    {0: 'A', 1: 'B'}
    """
    given = getattr(cut, "sides", None)
    if isinstance(given, Mapping) and given:
        sides = {}
        for ref, side in given.items():
            if side not in ("A", "B"):
                raise TnrnnError(f"a cut's sides must be 'A' or 'B', got {side!r}")
            sides[_node_of(ref, nodes, nid)] = side
        return sides
    if not left_keys:
        return {}
    import networkx as nx
    import tensornetwork as tn

    cut_set = cut_keys(cut, nid)
    g = nx.Graph()
    g.add_nodes_from(range(len(nodes)))
    seeds: dict[int, set] = {}
    for e in tn.get_all_edges(nodes):
        key = edge_key(nid, e)
        if key in cut_set:
            continue
        if e.is_dangling():
            seeds.setdefault(nid(e.node1), set()).add("A" if key in left_keys else "B")
        else:
            g.add_edge(nid(e.node1), nid(e.node2))
    sides = {}
    for comp in nx.connected_components(g):
        reached = set().union(*(seeds.get(i, set()) for i in comp))
        if len(reached) == 2:
            names = ", ".join(sorted(str(nodes[i].name) for i in comp)[:4])
            raise TnrnnError(f"the cut does not separate the left legs from the others: tensors {names} still "
                             "join both sides")
        if reached:
            (side,) = reached
            sides.update(dict.fromkeys(comp, side))
    return sides


def draw(tn_nodes, left=None, cut=None, *, ax=None, title: str | None = None, seed: int = 0):
    """Draw a tensor network, its bipartition and a cut.

    Parameters
    ----------
    tn_nodes : list of tensornetwork nodes, RACNetwork, or a network object with ``.nodes``
        Any network of plain ``tensornetwork`` nodes (every node it connects to must be in the list), or an object
        holding them in ``.nodes`` (a ConvAC from [`tnrnn.models.convac`][tnrnn.models.convac]). A ``RACNetwork`` from
        [`tnrnn.build_network`][tnrnn.network.build.build_network] gets the RAC figure ([`tnrnn.draw.network.draw_network`][tnrnn.draw.network.draw_network]) with ``left`` as
        its partition.
    left : edges, nodes, names or indices, optional
        The open legs on side A (or the tensors that own them); every other open leg is on side B.
    cut : CutResult, object with ``.edges`` (and optionally ``.sides``), or collection of Edge, optional
        Exactly these edges are drawn bold; a ``value`` (the bound) is annotated. ``sides`` (node, index or
        name -> ``"A"``/``"B"``) colour the tensors; without them the sides are the pieces the cut leaves.
    ax : matplotlib Axes, optional
        Draw into this axes; by default a new figure is made.
    title : str, optional
        Heading.
    seed : int
        Fixes the layout of large networks (same network, same picture).

    Returns
    -------
    matplotlib Figure

    Raises
    ------
    TnrnnError
        An empty or too large network, a cut edge or ``left`` entry not in the network, a cut that does not
        separate the sides.

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> mps = [tn.Node(np.ones((2, 3)), name="s0"), tn.Node(np.ones((3, 2, 3)), name="s1"),
    ...        tn.Node(np.ones((3, 2)), name="s2")]
    >>> b01 = mps[0][1] ^ mps[1][0]
    >>> b12 = mps[1][2] ^ mps[2][0]
    >>> fig = draw(mps, left=["s0"], cut=[b01])
    >>> sorted(line.get_gid() for line in fig.axes[0].lines if (line.get_gid() or "").startswith("cut-"))
    ['cut-0.1-1.0']
    """
    if hasattr(tn_nodes, "tags") and hasattr(tn_nodes, "spec"):
        from tnrnn.draw.network import draw_network

        return draw_network(tn_nodes, left, cut, ax=ax, title=title)
    if hasattr(tn_nodes, "nodes") and not isinstance(tn_nodes, Iterable):  # a model's network (a ConvAC, ...)
        tn_nodes = tn_nodes.nodes
    if not isinstance(tn_nodes, Iterable) or isinstance(tn_nodes, (str, bytes)):
        raise TnrnnError(f"draw expects a list of tensornetwork nodes, got {type(tn_nodes).__name__}")
    nodes = list(tn_nodes)
    if not all(hasattr(n, "edges") and hasattr(n, "name") for n in nodes):
        raise TnrnnError("draw expects a list of tensornetwork nodes")
    layout = generic_layout(nodes, seed=seed)
    nid = node_index(nodes)
    left_keys = _left_legs(left, nodes, nid)
    keys = cut_keys(cut, nid)
    sides = node_sides(nodes, left_keys, cut, nid)
    with matplotlib.rc_context(style.RC):
        fig, ax_ = figure_for(layout, ax)
        _draw_bonds(ax_, nodes, layout, nid, left_keys if left is not None else None, keys)
        for i, n in enumerate(nodes):
            _draw_tensor(ax_, i, n, layout.pos[i], sides.get(i))
        _caption(ax_, layout, len(nodes), cut, len(keys), title)
        items = [(f"tensor, side {s}", "circle", style.SIDE_TINTS[s]) for s in ("A", "B") if s in sides.values()]
        if left is not None:
            items += [("open leg, side A", "line", style.SIDE_COLORS["A"]),
                      ("open leg, side B", "line", style.SIDE_COLORS["B"])]
        if keys:
            items.append(("cut edge", "bold", style.CUT_COLOR))
        if items:
            legend(fig if ax is None else ax_, items, ncol=min(3, len(items)))
    return fig


def _draw_bonds(ax, nodes, layout, nid, left_keys: set | None, keys: set) -> None:
    import tensornetwork as tn

    for e in sorted(tn.get_all_edges(nodes), key=lambda e: edge_key(nid, e)):
        key = edge_key(nid, e)
        pts = layout.paths[key]
        color = style.EDGE_COLOR
        if e.is_dangling() and left_keys is not None:
            color = style.SIDE_COLORS["A" if key in left_keys else "B"]
        draw_path(ax, pts, color=color, lw=1.8 if e.is_dangling() else 1.2, gid=f"edge-{key}", zorder=1)
        mx, my = (pts[0][0] + pts[-1][0]) / 2, (pts[0][1] + pts[-1][1]) / 2
        if not e.is_dangling():
            ax.text(mx, my, str(e.dimension), fontsize=6.5, color="#555555", ha="center", va="center", zorder=4,
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"))
    for key in sorted(keys):
        draw_path(ax, layout.paths[key], color=style.CUT_COLOR, lw=3.2, gid=f"cut-{key}", zorder=3)


def _draw_tensor(ax, i: int, node, xy, side: str | None) -> None:
    """A circle, tinted by side, with the tensor's name inside (or below it when the name is long)."""
    from matplotlib.patches import Circle

    x, y = xy
    face = style.SIDE_TINTS[side] if side else _UNKNOWN
    edge = style.SIDE_COLORS[side] if side else "#4d4d4d"
    name = node.name if node.name and node.name != "__unnamed_node__" else str(i)
    inside = len(name) <= 8
    radius = max(0.16, 0.028 * len(name) + 0.06) if inside else 0.16
    patch = Circle((x, y), radius, facecolor=face, edgecolor=edge, lw=1.0, zorder=4)
    patch.set_gid(f"node-{i}")
    ax.add_patch(patch)
    ax.text(x, y if inside else y - radius - 0.04, name, ha="center", va="center" if inside else "top",
            fontsize=6.5, color="#222222", zorder=5)


def _caption(ax, layout, n_nodes: int, cut, n_cut: int, title) -> None:
    W, H = layout.size
    ax.text(W / 2, H - 0.15, title or f"tensor network: {n_nodes} tensors", ha="center", va="top", fontsize=10)
    value = cut_value(cut)
    if value is not None:
        text = f"cut: {math_count(value)}  ({n_cut} edge{'s' if n_cut != 1 else ''}, drawn bold)"
        ax.text(W / 2, H - 0.4, text, ha="center", va="top", fontsize=9, color=style.CUT_COLOR)


def draw_tensor_network(nodes, *, cut=None, ax=None, title: str | None = None, seed: int = 0):
    """Draw any ``tensornetwork`` network with an optional cut ([`draw`][tnrnn.draw.generic.draw] without a bipartition).

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> a, b, c = (tn.Node(np.ones((2, 2, 2)), name=n) for n in "abc")
    >>> _ = a[1] ^ b[0]; _ = b[1] ^ c[0]; _ = c[1] ^ a[0]
    >>> fig = draw_tensor_network([a, b, c])
    >>> sorted(p.get_gid() for p in fig.axes[0].patches)
    ['node-0', 'node-1', 'node-2']
    """
    return draw(nodes, None, cut, ax=ax, title=title, seed=seed)
