"""Where to put every node and how to route every edge of a tensor-network figure.

Two layouts:

* [`rac_layout`][tnrnn.draw.layout.rac_layout] reads the node tags of a [`RACNetwork`][tnrnn.network.build.RACNetwork] (time -> x, layer -> y,
  duplicated instances of a state stacked inside their (time, layer) cell, roles at fixed offsets around the
  instance's copy tensor). Instances are ordered by the slot of their consumer, so each hidden chain
  ``h[t-1, l] -> W_H -> h[t, l]`` is a horizontal line and the states handed up a layer rise in parallel lanes
  that never cross each other.
* [`generic_layout`][tnrnn.draw.layout.generic_layout] for any ``tensornetwork`` network without tags (a networkx layout of its graph).

All coordinates are in inches on a figure whose axes fill it, so node shapes and fonts keep their size
whatever the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from tnrnn.base.errors import TnrnnError

# Geometry, in inches.
SLOT_H = 0.44        # height of one instance slot
ROW_GAP = 0.34       # between layer rows
COL_W_DEEP = 1.3     # column width when states rise to the layer above (room for lanes)
COL_W_SHALLOW = 0.95
DOT_DY = 0.30        # copy dot above the slot bottom
WI_DY = 0.10         # W_I centre above the slot bottom
WH_DX = 0.40         # W_H (or init) left of the dot
BOX_W, BOX_H = 0.30, 0.16
LANE_X0, LANE_SPAN = 0.34, 0.36  # up-going lanes right of the dot
BUS_DX = 0.22        # grid form: the tie bus right of the dot
MARGIN_L, MARGIN_R = 1.4, 1.5
MARGIN_B, MARGIN_T = 1.55, 1.3
MIN_WIDTH = 7.5
MARGIN_B_CONTINUOUS = 1.1

#: Generic layout: the most nodes drawn (beyond, a picture is unreadable and the layout slow), and the largest
#: component laid out by Kamada-Kawai (its cost grows steeply: about 8 s at 100 nodes, 75 s at 300); larger
#: components get a seeded spring layout.
GENERIC_MAX_NODES = 300
KAMADA_KAWAI_MAX_NODES = 100
#: The widest page a generic network figure gets (inches).
MAX_GENERIC_INCHES = 40.0


def edge_key(node_id, edge) -> str:
    """A stable text id of an edge: ``"a.i-b.j"`` (node ids and axes, ends sorted) or ``"a.i"`` if dangling.

    ``node_id`` maps a tensornetwork node to an integer id.

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> a, b = tn.Node(np.ones((2, 3))), tn.Node(np.ones(3))
    >>> e = a[1] ^ b[0]
    >>> ids = {id(a): 0, id(b): 1}
    >>> edge_key(lambda n: ids[id(n)], e), edge_key(lambda n: ids[id(n)], a[0])
    ('0.1-1.0', '0.0')
    """
    if edge.is_dangling():
        return f"{node_id(edge.node1)}.{edge.axis1}"
    ends = sorted([(node_id(edge.node1), edge.axis1), (node_id(edge.node2), edge.axis2)])
    return "-".join(f"{n}.{a}" for n, a in ends)


@dataclass
class Layout:
    """Positions and edge routes of one figure.

    Attributes
    ----------
    pos : dict
        node id -> (x, y) centre in inches.
    paths : dict
        edge key (see [`edge_key`][tnrnn.draw.layout.edge_key]) -> list of (x, y) points; dangling edges end at a free point.
    size : (float, float)
        Figure width and height in inches.
    columns : dict
        time step -> x of its column (RAC layouts only).
    rows : dict
        layer -> (y_bottom, y_top) of its row (RAC layouts only).
    """

    pos: dict
    paths: dict
    size: tuple
    columns: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)
    input_y: float = 0.0


def _other_end(edge, node):
    return edge.node2 if edge.node1 is node else edge.node1


def cell_counts(L: int, T: int) -> dict:
    """Instances of ``h[t, l]`` in the duplicated network: ``C(T - t + L - l, L - l)`` (lattice paths to the top).

    Examples
    --------
    >>> cell_counts(2, 3)[(1, 1)], cell_counts(2, 3)[(3, 2)]
    (3, 1)
    """
    return {(t, l): math.comb(T - t + L - l, L - l) for t in range(1, T + 1) for l in range(1, L + 1)}


def stack_height(L: int, T: int) -> int:
    """Slots in the tallest column of the full view: the sum over layers of the largest cell of each row.

    Examples
    --------
    >>> stack_height(2, 4)   # layer 1 holds up to 4 copies of a state, layer 2 one
    5
    """
    counts = cell_counts(L, T)
    return sum(max(counts[(t, l)] for t in range(1, T + 1)) for l in range(1, L + 1))


def rac_layout(net) -> Layout:
    """Tag-driven layout of a RAC tensor network (full view: one shape per node).

    Parameters
    ----------
    net : RACNetwork
        From [`tnrnn.network.build.build_network`][tnrnn.network.build.build_network], either form.

    Returns
    -------
    Layout

    Raises
    ------
    TnrnnError
        A node the tags do not place (not a network from ``build_network``).

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> from tnrnn.network.build import build_network
    >>> lay = rac_layout(build_network(RACSpec(2, 2, 2), 3))
    >>> len(lay.pos) == len(build_network(RACSpec(2, 2, 2), 3).nodes)
    True
    """
    L, T = net.spec.L, net.T
    counts = cell_counts(L, T)
    up_fed_max = max((counts.get((t, l + 1), 0) for t in range(1, T + 1) for l in range(1, L)), default=0)
    col_w = COL_W_DEEP if up_fed_max else COL_W_SHALLOW
    if net.form == "grid" and max(net.input_copies()) > 1:
        col_w = max(col_w, COL_W_DEEP)
    copies, consumer = _instances(net)
    slot = _slots(net, copies, consumer)
    rows, columns, height = _grid(net, counts, col_w)
    pos, dot_of, tie_y = _place(net, copies, consumer, slot, rows, columns)
    lane_step = min(0.07, LANE_SPAN / max(1, up_fed_max))
    paths = _routes(net, pos, slot, dot_of, lane_step)
    width = columns[T] + MARGIN_R
    # Narrow networks get a centred drawing on a page wide enough for the title and the legend.
    if width < MIN_WIDTH:
        dx = (MIN_WIDTH - width) / 2
        pos = {k: (x + dx, y) for k, (x, y) in pos.items()}
        paths = {k: [(x + dx, y) for x, y in pts] for k, pts in paths.items()}
        columns = {t: x + dx for t, x in columns.items()}
        width = MIN_WIDTH
    return Layout(pos, paths, (width, height), columns, rows, input_y=tie_y)


def _instances(net) -> tuple[list, dict]:
    """The copy tensors (one per instance of a state) and, per copy id, its consumer: ``(node id, "up" | "right")``
    for the W_I above or the W_H to the right across leg 0, ``(None, "out")`` for the output.
    """
    nid = net.node_id
    copies = [n for n, g in zip(net.nodes, net.tags) if g.role == "copy"]
    consumer = {}
    for c in copies:
        other = _other_end(c[0], c)
        role = net.tag(other).role
        if role == "W_O":
            consumer[nid(c)] = (None, "out")
        else:
            consumer[nid(c)] = (nid(_other_end(other[0], other)), "up" if role == "W_I" else "right")
    return copies, consumer


def _slots(net, copies, consumer) -> dict[int, int]:
    """Slot of every instance inside its (time, layer) cell.

    Cells are visited by decreasing t + l so every consumer already has its slot. Right-fed instances take the
    slot of their consumer (horizontal chains), up-fed ones stack above them in their consumer's order.
    """
    nid = net.node_id
    slot: dict[int, int] = {}
    by_cell: dict[tuple, list] = {}
    for c in copies:
        g = net.tag(c)
        by_cell.setdefault((g.time, g.layer), []).append(nid(c))
    for cell in sorted(by_cell, key=lambda tl: (-(tl[0] + tl[1]), -tl[1], tl[0])):
        members = by_cell[cell]
        right = [m for m in members if consumer[m][1] == "right"]
        for m in members:
            target, how = consumer[m]
            if how == "out":
                slot[m] = 0
            elif how == "right":
                slot[m] = slot[target]
            else:
                slot[m] = len(right) + slot[target]
    return slot


def _grid(net, counts, col_w) -> tuple[dict, dict, float]:
    """Layer rows ``l -> (y_bottom, y_top)``, time columns ``t -> x`` and the page height."""
    L, T = net.spec.L, net.T
    rows_slots = {l: max(counts[(t, l)] for t in range(1, T + 1)) for l in range(1, L + 1)}
    rows = {}
    # The grid form needs room below layer 1 for the tie tensors and their legs.
    y = MARGIN_B if net.form == "grid" else MARGIN_B_CONTINUOUS
    for l in range(1, L + 1):
        rows[l] = (y, y + rows_slots[l] * SLOT_H)
        y = rows[l][1] + ROW_GAP
    columns = {t: MARGIN_L + (t - 1) * col_w for t in range(1, T + 1)}
    return rows, columns, y - ROW_GAP + MARGIN_T


def _place(net, copies, consumer, slot, rows, columns) -> tuple[dict, dict, float]:
    """Node centres: roles at fixed offsets around their instance's copy tensor; ties on a line below layer 1."""
    nid = net.node_id
    pos: dict[int, tuple] = {}
    dot_of: dict[int, int] = {}  # node id of an instance's W_I / W_H -> its copy's id
    for c in copies:
        g = net.tag(c)
        x = columns[g.time]
        yb = rows[g.layer][0] + slot[nid(c)] * SLOT_H
        cy = yb + DOT_DY
        pos[nid(c)] = (x, cy)
        wi = _other_end(c[1], c)
        pos[nid(wi)] = (x, yb + WI_DY)
        dot_of[nid(wi)] = nid(c)
        wh = _other_end(c[2], c)
        pos[nid(wh)] = (x - WH_DX, cy)
        dot_of[nid(wh)] = nid(c)
        if net.tag(wh).role == "W_H" and g.time == 1:  # explicit initial state behind W_H
            init = _other_end(wh[1], wh)
            pos[nid(init)] = (x - 2 * WH_DX + 0.05, cy)
    root = next(c for c in copies if consumer[nid(c)][1] == "out")
    rx, ry = pos[nid(root)]
    pos[nid(_other_end(root[0], root))] = (rx + 0.75, ry)
    tie_y = rows[1][0] - 0.42
    for n, g in zip(net.nodes, net.tags):
        if g.role == "tie":
            pos[nid(n)] = (columns[g.time] + BUS_DX, tie_y)
    missing = [nid(n) for n in net.nodes if nid(n) not in pos]
    if missing:
        raise TnrnnError(f"rac_layout: nodes {missing[:5]} have no place (is this a network from build_network?)")
    return pos, dot_of, tie_y


def _dangling_route(role: str, pa) -> list:
    if role == "W_O":
        return [(pa[0] + BOX_W / 2 + 0.02, pa[1]), (pa[0] + 0.55, pa[1])]
    if role == "tie":
        return [pa, (pa[0], pa[1] - 0.3)]
    x0 = pa[0] + BOX_W / 2  # continuous-form input leg: a short stub right of W_I
    return [(x0, pa[1]), (x0 + 0.13, pa[1])]


def _routes(net, pos, slot, dot_of, lane_step) -> dict[str, list]:
    """Edge routes: states handed up a layer run right, up their own lane and left into W_I; ties feed W_I from
    the bus below; everything else is a straight segment.
    """
    nid = net.node_id
    paths: dict[str, list] = {}
    for e in net.edges():
        key = edge_key(nid, e)
        a = e.node1
        if e.is_dangling():
            paths[key] = _dangling_route(net.tag(a).role, pos[nid(a)])
            continue
        b = e.node2
        ends = {net.tag(a).role: a, net.tag(b).role: b}
        if "copy" in ends and len(ends) == 2:
            c = ends.pop("copy")
            ((orole, o),) = ends.items()
            ax_c = e.axis1 if e.node1 is c else e.axis2
            pc, po = pos[nid(c)], pos[nid(o)]
            if ax_c == 0 and orole == "W_I":
                lane = pc[0] + LANE_X0 + lane_step * slot[dot_of[nid(o)]]
                paths[key] = [pc, (lane, pc[1]), (lane, po[1]), (po[0] + BOX_W / 2, po[1])]
            else:
                paths[key] = [pc, po]
        elif "tie" in ends:
            pt, pw = pos[nid(ends["tie"])], pos[nid(ends["W_I"])]
            paths[key] = [pt, (pt[0], pw[1]), (pw[0] + BOX_W / 2, pw[1])]
        else:
            paths[key] = [pos[nid(a)], pos[nid(b)]]
    return paths


def generic_layout(nodes, *, seed: int = 0, scale: float | None = None) -> Layout:
    """Layout for any ``tensornetwork`` network (no tags): networkx Kamada-Kawai on the node graph (a seeded
    spring layout for components of more than `KAMADA_KAWAI_MAX_NODES` nodes), components side by side,
    open legs as short stubs pointing away from the centre.

    Parameters
    ----------
    nodes : list of tensornetwork nodes
    seed : int
        Fixes the layout (same network -> same picture).
    scale : float, optional
        Inches per layout unit (default: about an inch per bond, pages at most `MAX_GENERIC_INCHES` wide).

    Returns
    -------
    Layout

    Raises
    ------
    TnrnnError
        No nodes, more than `GENERIC_MAX_NODES`, or an edge to a node missing from ``nodes``.

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> a, b = tn.Node(np.ones((2, 3))), tn.Node(np.ones(3))
    >>> _ = a[1] ^ b[0]
    >>> len(generic_layout([a, b]).pos)
    2
    """
    import networkx as nx
    import tensornetwork as tn

    nodes = list(nodes)
    if not nodes:
        raise TnrnnError("nothing to draw: the network has no nodes")
    if len(nodes) > GENERIC_MAX_NODES:
        raise TnrnnError(f"a generic network figure is limited to {GENERIC_MAX_NODES} nodes (got {len(nodes)}); "
                         "draw a sub-network")
    nid = node_index(nodes)
    g = nx.Graph()
    g.add_nodes_from(range(len(nodes)))
    edges = list(tn.get_all_edges(nodes))
    for e in edges:
        if not e.is_dangling():
            g.add_edge(nid(e.node1), nid(e.node2))
    raw = _upright(_component_positions(g, seed), list(g.edges()))
    if len(raw) > 1 and raw[0][0] > raw[len(raw) - 1][0]:  # the first tensor on the left (a chain reads 0..n-1)
        raw = {k: (-x, y) for k, (x, y) in raw.items()}
    xs = [p[0] for p in raw.values()]
    ys = [p[1] for p in raw.values()]
    if scale is None:
        # About an inch per bond, but no page wider than MAX_GENERIC_INCHES.
        bonds = sorted(math.dist(raw[a], raw[b]) for a, b in g.edges()) or [1.0]
        span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
        scale = min(1.0 / max(bonds[len(bonds) // 2], 1e-9), MAX_GENERIC_INCHES / span)
    margin, legend_room, title_room = 0.9, 0.6, 0.5
    pos = {k: (margin + (x - min(xs)) * scale, margin + legend_room + (y - min(ys)) * scale)
           for k, (x, y) in raw.items()}
    width = margin * 2 + (max(xs) - min(xs)) * scale
    height = margin * 2 + legend_room + (max(ys) - min(ys)) * scale + title_room
    neighbours = {k: [pos[m] for m in g.neighbors(k)] for k in pos}
    paths = {edge_key(nid, e): _generic_route(e, nid, pos, neighbours) for e in edges}
    return Layout(pos, paths, (max(width, 3.0), max(height, 2.5)))


def node_index(nodes) -> Callable:
    """``node -> position in nodes``; a node outside the list is a clear error (it is connected to them)."""
    index = {id(n): i for i, n in enumerate(nodes)}

    def nid(n) -> int:
        try:
            return index[id(n)]
        except KeyError:
            raise TnrnnError(f"node {getattr(n, 'name', n)!r} is connected to the network but not in the node "
                             "list") from None

    return nid


def _component_positions(g, seed: int) -> dict:
    """Unit-scale positions, one component after another left to right (Kamada-Kawai is deterministic)."""
    import networkx as nx

    if g.number_of_nodes() == 1:
        return {0: (0.0, 0.0)}
    raw: dict = {}
    offset = 0.0
    for comp in sorted(nx.connected_components(g), key=lambda c: min(c)):
        sub = g.subgraph(sorted(comp))
        if len(comp) == 1:
            p = {next(iter(comp)): (0.0, 0.0)}
        elif len(comp) <= KAMADA_KAWAI_MAX_NODES:
            p = nx.kamada_kawai_layout(sub, scale=1.0)
        else:
            p = nx.spring_layout(sub, seed=seed, scale=1.0)
        shift = offset - min(v[0] for v in p.values())
        for k, (x, y) in p.items():
            raw[k] = (float(x) + shift, float(y))
        offset = max(x for x, _ in raw.values()) + 1.0
    return raw


def _upright(raw: dict, edges: list) -> dict:
    """Rotate a layout so its bonds run as nearly horizontal or vertical as possible, and wider than tall: a
    chain (an MPS) comes out as a row, a lattice (a PEPS) square to the page. Deterministic.
    """
    if not edges:
        return raw
    angles = [math.atan2(raw[b][1] - raw[a][1], raw[b][0] - raw[a][0]) for a, b in edges]

    def misalignment(theta: float) -> float:
        return sum(min(abs(math.sin(phi - theta)), abs(math.cos(phi - theta))) for phi in angles)

    best = min((math.radians(d / 2) for d in range(180)), key=misalignment)
    c, s = math.cos(-best), math.sin(-best)
    out = {k: (x * c - y * s, x * s + y * c) for k, (x, y) in raw.items()}
    xs, ys = [p[0] for p in out.values()], [p[1] for p in out.values()]
    if max(ys) - min(ys) > max(xs) - min(xs) + 1e-9:  # a quarter turn: wider than tall
        out = {k: (y, -x) for k, (x, y) in out.items()}
    return out


def _generic_route(e, nid, pos, neighbours) -> list:
    """A bond is a segment; an open leg a short stub in the direction farthest from the node's bonds (down when
    several are as good, as quimb draws the physical legs of an MPS); several legs of one node fan out.
    """
    if not e.is_dangling():
        return [pos[nid(e.node1)], pos[nid(e.node2)]]
    px, py = pos[nid(e.node1)]
    bonds = [math.atan2(q[1] - py, q[0] - px) for q in neighbours.get(nid(e.node1)) or []]

    def clearance(a: float) -> float:
        return min((abs(math.remainder(a - b, 2 * math.pi)) for b in bonds), default=math.pi)

    candidates = [math.radians(d) for d in range(-90, 270, 15)]  # from "down", so ties keep the stub down
    ang = max(candidates, key=lambda a: round(clearance(a), 6))
    ang += 0.5 * sum(1 for f in e.node1.edges[: e.axis1] if f.is_dangling())
    return [(px, py), (px + 0.45 * math.cos(ang), py + 0.45 * math.sin(ang))]
