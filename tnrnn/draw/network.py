"""Tensor-network figures: a RAC as a tensor network with its partition and min-cut.

* :func:`draw_network` draws an explicit network, one shape per node (tag-driven layout for RAC networks, a
  generic graph layout otherwise), the input legs coloured by side of the partition and the cut edges bold.
* :func:`draw_compact_grid` draws the (time, layer) grid with the copy multiplicity of every state, for networks
  too large to show node by node.
* :func:`render_network` picks one of the two automatically, computes the min-cut and writes the file.

Every drawn node carries the SVG id ``node-<id>`` (its index in ``net.nodes``), every edge ``edge-<key>`` and
every cut edge ``cut-<key>`` (keys from :func:`tnrnn.draw.layout.edge_key`), so figures can be checked
mechanically.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence

import matplotlib

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.draw import style
from tnrnn.draw.layout import BOX_H, BOX_W, Layout, cell_counts, edge_key, generic_layout, rac_layout, stack_height

#: Full view limits: the largest sizes drawn node by node (larger ones get the compact grid).
FULL_MAX_T = 16
FULL_MAX_STACK = 28
FULL_MAX_NODES = 300
#: The compact grid is drawn up to this many time steps and layers.
COMPACT_MAX_T = 40
COMPACT_MAX_L = 12

_ROLE_TEXT = {"W_I": r"$W_I$", "W_H": r"$W_H$", "W_O": r"$W_O$"}


def full_view_fits(L: int, T: int, nodes: int | None = None) -> bool:
    """Whether the node-by-node view stays readable: ``T <= 16``, at most 28 instances stacked in a column and
    at most 300 nodes (covers shallow T <= 16, depth 2 up to T = 12, depth 3 up to T = 6).

    Examples
    --------
    >>> full_view_fits(2, 8), full_view_fits(3, 6), full_view_fits(3, 8)
    (True, True, False)
    """
    if T > FULL_MAX_T or stack_height(L, T) > FULL_MAX_STACK:
        return False
    if nodes is None:
        nodes = 3 * sum(cell_counts(L, T).values()) + 1
    return nodes <= FULL_MAX_NODES


def _cut_keys(net, cut, node_id) -> set:
    if cut is None:
        return set()
    edges = getattr(cut, "edges", cut)
    keys = set()
    for e in edges:
        try:
            keys.add(edge_key(node_id, e))
        except (KeyError, TnrnnError):
            raise TnrnnError("the cut holds an edge that is not part of the network being drawn") from None
    return keys


def _cut_value(cut) -> str | None:
    value = getattr(cut, "value", None)
    return None if value is None else str(value)


def math_count(text: str) -> str:
    """Typeset the powers of a compact count for matplotlib: ``"2^5 = 32"`` -> ``"$2^{5}$ = 32"``.

    Examples
    --------
    >>> math_count("2^5 * 3^2 = 288")
    '$2^{5}$ * $3^{2}$ = 288'
    """
    return re.sub(r"(\d+)\^(\d+)", r"$\1^{\2}$", text)


def _draw_path(ax, pts, *, color, lw, gid, zorder, ls="-"):
    from matplotlib.lines import Line2D

    line = Line2D([p[0] for p in pts], [p[1] for p in pts], color=color, lw=lw, ls=ls, zorder=zorder,
                  solid_capstyle="round", solid_joinstyle="round")
    line.set_gid(gid)
    ax.add_line(line)
    return line


def _cut_mark(ax, pts, key) -> None:
    """A short bar across the middle of the longest segment of a cut edge, so even a short cut bond is seen."""
    segs = [(a, b) for a, b in zip(pts, pts[1:])]
    (x0, y0), (x1, y1) = max(segs, key=lambda ab: math.dist(ab[0], ab[1]))
    length = math.dist((x0, y0), (x1, y1)) or 1.0
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    nx_, ny_ = -(y1 - y0) / length, (x1 - x0) / length
    h = 0.09
    _draw_path(ax, [(mx - h * nx_, my - h * ny_), (mx + h * nx_, my + h * ny_)], color=style.CUT_COLOR, lw=1.6,
               gid=f"cutmark-{key}", zorder=3)


def _draw_node(ax, x, y, role, gid, *, label=None, face=None, fontsize=7.0):
    from matplotlib.patches import Circle, FancyBboxPatch

    face = face or style.ROLE_COLORS.get(role, style.ROLE_COLORS["other"])
    if role == "copy":
        patch = Circle((x, y), 0.045, facecolor=face, edgecolor="none", zorder=4)
    elif role == "tie":
        patch = Circle((x, y), 0.06, facecolor=face, edgecolor="none", zorder=4)
    elif role == "init":
        patch = Circle((x, y), 0.075, facecolor="white", edgecolor="#555555", lw=0.8, zorder=4)
    elif role in _ROLE_TEXT or role == "other":
        w, h = (BOX_W + 0.04, BOX_H + 0.04) if role == "W_O" else (BOX_W, BOX_H)
        if role == "other":
            w, h = max(BOX_W, 0.075 * len(label or "") + 0.12), BOX_H + 0.04
        patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.035",
                               facecolor=face, edgecolor="#4d4d4d", lw=0.7, zorder=4)
    else:
        patch = Circle((x, y), 0.07, facecolor=face, edgecolor="#4d4d4d", lw=0.7, zorder=4)
    patch.set_gid(gid)
    ax.add_patch(patch)
    text = label if label is not None else _ROLE_TEXT.get(role)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=5)
    return patch


def _heading(ax, x, y, lines) -> None:
    for text, color, size in lines:
        ax.text(x, y, text, ha="center", va="top", fontsize=size, color=color)
        y -= size / 72 * 1.45


def _legend(where, items, ncol):
    """Legend along the bottom of a figure (or of an axes, when drawing into a caller's axes)."""
    from matplotlib.lines import Line2D

    handles = []
    for label, kind, color in items:
        if kind == "dot":
            handles.append(Line2D([], [], ls="none", marker="o", ms=4, color=color, label=label))
        elif kind == "box":
            handles.append(Line2D([], [], ls="none", marker="s", ms=8, markerfacecolor=color,
                                  markeredgecolor="#4d4d4d", label=label))
        elif kind == "ring":
            handles.append(Line2D([], [], ls="none", marker="o", ms=7, markerfacecolor="white",
                                  markeredgecolor="#555555", label=label))
        else:
            handles.append(Line2D([], [], color=color, lw=3 if kind == "bold" else 2, label=label))
    where.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=7.5, frameon=False,
                 bbox_to_anchor=(0.5, 0.0), handletextpad=0.4, columnspacing=1.2, borderaxespad=0.3)


def draw_network(
    net,
    partition=None,
    cut=None,
    *,
    ax=None,
    title: str | None = None,
    note: str | None = None,
):
    """Draw an explicit tensor network, one shape per node.

    Parameters
    ----------
    net : RACNetwork or list of tensornetwork nodes
        A network from :func:`tnrnn.network.build.build_network` (tag-driven layout: time left to right, layers
        bottom up, copies stacked in their cell) or any list of ``tensornetwork`` nodes (generic layout).
    partition : Partition, str or steps, optional
        Colours the input legs and time columns by side (RAC networks only).
    cut : CutResult or list of Edge, optional
        Edges drawn bold in red; a ``value`` attribute (the min-cut bound) is annotated.
    ax : matplotlib Axes, optional
        Draw into this axes (its limits are set to the layout, in inches); by default a new figure is made.
    title, note : str, optional
        Heading lines above the drawing.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> from tnrnn.network.build import build_network
    >>> net = build_network(RACSpec(2, 2, 2), 4)
    >>> fig = draw_network(net, "start-end")
    >>> sum(1 for p in fig.axes[0].patches if (p.get_gid() or "").startswith("node-")) == len(net.nodes)
    True
    """
    if hasattr(net, "tags") and hasattr(net, "spec"):
        with matplotlib.rc_context(style.RC):
            return _draw_rac(net, partition, cut, ax=ax, title=title, note=note)
    if partition is not None:
        raise TnrnnError("a partition can only be drawn on a RAC network (use build_network)")
    return draw_tensor_network(net, cut=cut, ax=ax, title=title)


def _figure_for(layout: Layout, ax):
    if ax is None:
        fig, ax = style.new_figure(*layout.size)
    else:
        fig = ax.figure
        ax.set_xlim(0, layout.size[0])
        ax.set_ylim(0, layout.size[1])
        ax.set_aspect("equal")
        ax.set_axis_off()
    return fig, ax


def _draw_rac(net, partition, cut, *, ax, title, note):
    from tnrnn.rac.partition import make_partition

    spec, T = net.spec, net.T
    part = None if partition is None else make_partition(T, partition)
    nid = net.node_id
    layout = rac_layout(net)
    own = ax is None  # only a figure made here may be resized and get a figure-wide legend
    fig, ax = _figure_for(layout, ax)
    W, H = layout.size
    cut_keys = _cut_keys(net, cut, nid)
    unknown = cut_keys - set(layout.paths)
    if unknown:  # pragma: no cover - layout routes every edge of net
        raise TnrnnError(f"cut edges {sorted(unknown)[:3]} are not edges of this network")

    col_w = (layout.columns[2] - layout.columns[1]) if T > 1 else 1.0
    y_lo, y_hi = layout.rows[1][0] - 0.12, layout.rows[spec.L][1] + 0.1
    # Time columns tinted by side, layer rows labelled.
    for t, x in layout.columns.items():
        if part is not None:
            from matplotlib.patches import Rectangle

            r = Rectangle((x - col_w / 2 - 0.1, y_lo), col_w, y_hi - y_lo, facecolor=style.SIDE_TINTS[part.side(t)],
                          edgecolor="none", zorder=0)
            ax.add_patch(r)
        ax.text(x - 0.1, y_hi + 0.06, f"t = {t}", ha="center", va="bottom", fontsize=8, color="#333333")
    for l, (yb, yt) in layout.rows.items():
        ax.text(layout.columns[1] - col_w / 2 - 0.3, (yb + yt) / 2, f"layer {l}", ha="right", va="center",
                fontsize=8, rotation=90, color="#333333")

    # Edges, then the cut on top of them.
    input_legs = {}
    for t, legs in enumerate(net.input_edges, start=1):
        for e in legs:
            input_legs[edge_key(nid, e)] = t
    for key in sorted(layout.paths):
        pts = layout.paths[key]
        t = input_legs.get(key)
        if t is not None:
            color = style.SIDE_COLORS[part.side(t)] if part is not None else "#444444"
            _draw_path(ax, pts, color=color, lw=1.6, gid=f"edge-{key}", zorder=2)
            ax.plot([pts[-1][0]], [pts[-1][1]], marker="s", ms=3.2, color=color, zorder=2)
        else:
            _draw_path(ax, pts, color=style.EDGE_COLOR, lw=0.8, gid=f"edge-{key}", zorder=1)
    for key in sorted(cut_keys):
        _draw_path(ax, layout.paths[key], color=style.CUT_COLOR, lw=3.0, gid=f"cut-{key}", zorder=3)
        _cut_mark(ax, layout.paths[key], key)

    for i, (node, g) in enumerate(zip(net.nodes, net.tags)):
        x, y = layout.pos[i]
        label = None
        if g.role == "init":
            label = "1" if g.time == 0 and not _behind_weight(net, node) else r"$h_0$"
        _draw_node(ax, x, y, g.role, f"node-{i}", label=label, fontsize=6.5 if g.role == "init" else 7.0)

    # Inputs along the bottom.
    counts = net.input_copies()
    for t, x in layout.columns.items():
        color = style.SIDE_COLORS[part.side(t)] if part is not None else "#333333"
        text = f"$x_{{{t}}}$"
        if net.form == "continuous" and counts[t - 1] > 1:
            text += f"\n×{counts[t - 1]} legs"
        label_y = layout.input_y - 0.4 if net.form == "grid" else layout.rows[1][0] - 0.2
        ax.text(x + 0.1, label_y, text, ha="center", va="top", fontsize=8.5, color=color,
                linespacing=1.1)
    # Output leg label.
    out_i = next(i for i, g in enumerate(net.tags) if g.role == "W_O")
    ox, oy = layout.pos[out_i]
    ax.text(ox + 0.6, oy, "$y$", ha="left", va="center", fontsize=9)

    st = net.stats()
    head = title or (f"RAC  L = {spec.L}, R = {spec.R}, M = {spec.M}, T = {T}:  {net.form} form, "
                     f"{st['nodes']} nodes, {st['total_input_copies']} input copies")
    lines = [(head, "#111111", 10)]
    if part is not None:
        lines.append((f"partition {part.label()}", "#333333", 9))
    value = _cut_value(cut)
    if value is not None:
        sym = _symbolic_cut(net, getattr(cut, "edges", cut))
        bound = math_count(value.split(" = ")[-1])
        n_cut = len(cut_keys)
        lines.append((f"min-cut: {sym + ' = ' if sym else ''}{math_count(value)}  (separation rank ≤ {bound}; "
                      f"{n_cut} edge{'s' if n_cut != 1 else ''} cut, drawn bold)", style.CUT_COLOR, 9.5))
    if note:
        lines.append((note, "#555555", 8.5))
    # Heading lines above the grid; the page grows when they need more room than the layout's top margin.
    need = 0.18 + sum(size / 72 * 1.45 for _, _, size in lines) + 0.3
    room = H - y_hi
    if need > room:
        H += need - room
        if own:
            fig.set_size_inches(W, H)
        ax.set_ylim(0, H)
    _heading(ax, W / 2, H - 0.18, lines)

    items = [("copy tensor (elementwise product)", "dot", style.ROLE_COLORS["copy"]),
             ("input weights $W_I$", "box", style.ROLE_COLORS["W_I"]),
             ("hidden weights $W_H$", "box", style.ROLE_COLORS["W_H"]),
             ("initial state", "ring", "white")]
    if part is not None:
        items += [("input leg, side A", "line", style.SIDE_COLORS["A"]),
                  ("input leg, side B", "line", style.SIDE_COLORS["B"])]
    if cut_keys:
        items.append(("min-cut edge", "bold", style.CUT_COLOR))
    _legend(fig if own else ax, items, ncol=4 if W < 10 else len(items))
    return fig


def _symbolic_cut(net, edges) -> str:
    """The cut as powers of R (hidden bonds) and M (input legs and their ties), e.g. ``"$R^{5}$"``."""
    n_r = n_m = 0
    for e in edges:
        ends = [(e.node1, e.axis1)] + ([] if e.is_dangling() else [(e.node2, e.axis2)])
        tags = [(net.tag(n), ax) for n, ax in ends]
        if any(t.role == "tie" or (t.role == "W_I" and t.layer == 1 and ax == 1) for t, ax in tags):
            n_m += 1
        else:
            n_r += 1
    parts = [f"${sym}^{{{n}}}$" if n > 1 else f"${sym}$" for sym, n in (("R", n_r), ("M", n_m)) if n]
    return " ".join(parts)


def _behind_weight(net, init_node) -> bool:
    other = init_node[0].node2 if init_node[0].node1 is init_node else init_node[0].node1
    return net.tag(other).role == "W_H"


def draw_tensor_network(nodes: Sequence, *, cut=None, ax=None, title: str | None = None, seed: int = 0):
    """Draw any ``tensornetwork`` network (no tags needed): a Kamada-Kawai layout of its graph.

    Nodes are labelled with their names (or their index), edges with their dimension, open legs are short
    stubs pointing outward; ``cut`` edges are drawn bold.

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> a, b, c = (tn.Node(np.ones((2, 2, 2)), name=n) for n in "abc")
    >>> _ = a[1] ^ b[0]; _ = b[1] ^ c[0]; _ = c[1] ^ a[0]
    >>> fig = draw_tensor_network([a, b, c])
    >>> sorted(p.get_gid() for p in fig.axes[0].patches)
    ['node-0', 'node-1', 'node-2']
    """
    import tensornetwork as tn

    nodes = list(nodes)
    layout = generic_layout(nodes, seed=seed)
    index = {id(n): i for i, n in enumerate(nodes)}

    def nid(n):
        return index[id(n)]

    with matplotlib.rc_context(style.RC):
        fig, ax = _figure_for(layout, ax)
        cut_keys = _cut_keys(None, cut, nid)
        for e in sorted(tn.get_all_edges(nodes), key=lambda e: edge_key(nid, e)):
            key = edge_key(nid, e)
            pts = layout.paths[key]
            _draw_path(ax, pts, color=style.EDGE_COLOR, lw=1.0, gid=f"edge-{key}", zorder=1)
            mx, my = (pts[0][0] + pts[-1][0]) / 2, (pts[0][1] + pts[-1][1]) / 2
            ax.text(mx, my, str(e.dimension), fontsize=6.5, color="#555555", ha="center", va="center", zorder=4,
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"))
        for key in sorted(cut_keys):
            _draw_path(ax, layout.paths[key], color=style.CUT_COLOR, lw=3.0, gid=f"cut-{key}", zorder=3)
        for i, n in enumerate(nodes):
            x, y = layout.pos[i]
            name = n.name if n.name and n.name != "__unnamed_node__" else str(i)
            _draw_node(ax, x, y, "other", f"node-{i}", label=name, fontsize=7.0)
        W, H = layout.size
        head = title or f"tensor network: {len(nodes)} nodes"
        ax.text(W / 2, H - 0.15, head, ha="center", va="top", fontsize=10)
        value = _cut_value(cut)
        if value is not None:
            ax.text(W / 2, H - 0.4, f"cut: {math_count(value)}", ha="center", va="top", fontsize=9, color=style.CUT_COLOR)
    return fig


def _check_compact_size(L: int, T: int) -> None:
    if T > COMPACT_MAX_T or L > COMPACT_MAX_L:
        raise TnrnnError(f"drawing is limited to T <= {COMPACT_MAX_T} and depth <= {COMPACT_MAX_L} "
                         f"(got T = {T}, L = {L}); use `tnrnn rank` for the bounds of larger networks")


def draw_compact_grid(spec, T: int, partition=None, *, form: str = "continuous", cut_value=None,
                      note: str | None = None, title: str | None = None):
    """Draw the (time, layer) grid of a RAC, each state once, annotated with its copy multiplicity.

    The duplicated network holds ``C(T - t + L - l, L - l)`` copies of ``h[t, l]`` (shown as ``×n``); the input
    legs of each step are coloured by side of the partition; ``cut_value`` (the min-cut bound) is annotated.

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> fig = draw_compact_grid(RACSpec(3, 2, 2), 10, "start-end")
    >>> sum(1 for p in fig.axes[0].patches if (p.get_gid() or "").startswith("cell-"))
    30
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

    from tnrnn.rac.partition import make_partition

    L = spec.L
    _check_compact_size(L, T)
    part = None if partition is None else make_partition(T, partition)
    counts = cell_counts(L, T)
    widest = max(len(f"×{n}") for n in counts.values())
    cw = max(0.62, 0.085 * widest + 0.3)
    col_w, row_h = cw + 0.38, 0.85
    n_lines = 1 + (partition is not None) + (cut_value is not None) + bool(note)
    ml, mb, mt = 1.1, 1.1, 0.15 + 0.2 * n_lines + 0.4
    width = max(7.5, ml + T * col_w + 1.4)
    x0 = (width - (T * col_w + 1.4 - 0.8)) / 2 if width > ml + T * col_w + 1.4 else ml
    height = mb + L * row_h + mt
    xs = {t: x0 + (t - 0.5) * col_w for t in range(1, T + 1)}
    ys = {l: mb + (l - 0.5) * row_h for l in range(1, L + 1)}
    with matplotlib.rc_context(style.RC):
        fig, ax = style.new_figure(width, height)
        for t in range(1, T + 1):
            if part is not None:
                ax.add_patch(Rectangle((xs[t] - col_w / 2, mb - 0.1), col_w, L * row_h + 0.1,
                                       facecolor=style.SIDE_TINTS[part.side(t)], edgecolor="none", zorder=0))
            ax.text(xs[t], mb + L * row_h + 0.05, str(t), ha="center", va="bottom", fontsize=7.5, color="#333333")
        ax.text(xs[1] - col_w / 2 - 0.1, mb + L * row_h + 0.05, "t =", ha="right", va="bottom", fontsize=7.5,
                color="#333333")
        for l in range(1, L + 1):
            ax.text(xs[1] - col_w / 2 - 0.12, ys[l], f"layer {l}", ha="right", va="center", fontsize=8,
                    color="#333333")
        arrow = dict(arrowstyle="-|>", mutation_scale=7, color=style.EDGE_COLOR, lw=0.8, zorder=1)
        ch = 0.4
        for (t, l), n in sorted(counts.items()):
            x, y = xs[t], ys[l]
            box = FancyBboxPatch((x - cw / 2, y - ch / 2), cw, ch, boxstyle="round,pad=0,rounding_size=0.06",
                                 facecolor=style.ROLE_COLORS["W_I"] if n > 1 else "#e8f4fa", edgecolor="#4d4d4d",
                                 lw=0.7, zorder=3)
            box.set_gid(f"cell-{t}-{l}")
            ax.add_patch(box)
            ax.text(x, y, f"×{n}", ha="center", va="center", fontsize=7.5, zorder=4)
            if t < T:
                ax.add_patch(FancyArrowPatch((x + cw / 2, y), (xs[t + 1] - cw / 2, y), **arrow))
            if l < L:
                ax.add_patch(FancyArrowPatch((x, y + ch / 2), (x, ys[l + 1] - ch / 2), **arrow))
            if l == 1:
                color = style.SIDE_COLORS[part.side(t)] if part is not None else "#444444"
                ax.plot([x, x], [mb - 0.35, y - ch / 2], color=color, lw=1.6, zorder=2)
                ax.text(x, mb - 0.42, f"$x_{{{t}}}$", ha="center", va="top", fontsize=8, color=color)
        xo = xs[T] + col_w / 2 + 0.2
        ax.add_patch(FancyArrowPatch((xs[T] + cw / 2, ys[L]), (xo + 0.05, ys[L]), **arrow))
        ax.text(xo + 0.1, ys[L], "$y$", ha="left", va="center", fontsize=9)

        head = title or f"RAC  L = {L}, R = {spec.R}, M = {spec.M}, T = {T}:  {form} form"
        lines = [(head, "#111111", 10)]
        if part is not None:
            lines.append((f"partition {part.label()}", "#333333", 9))
        if cut_value is not None:
            lines.append((f"min-cut: {math_count(str(cut_value))}  (separation rank ≤ "
                          f"{math_count(str(cut_value).split(' = ')[-1])})", style.CUT_COLOR, 9.5))
        if note:
            lines.append((note, "#555555", 8.5))
        _heading(ax, width / 2, height - 0.15, lines)
        items = [("state $h[t,l]$, ×n = its copies in the network", "box", style.ROLE_COLORS["W_I"])]
        if part is not None:
            items += [("input, side A", "line", style.SIDE_COLORS["A"]), ("input, side B", "line", style.SIDE_COLORS["B"])]
        _legend(fig, items, ncol=len(items))
    return fig


def _mincut_module():
    try:
        from tnrnn.bounds import mincut
    except ImportError:  # the min-cut module is optional for drawing
        return None
    return mincut


def render_network(
    spec,
    T: int,
    partition="start-end",
    form: str = "continuous",
    out: str | os.PathLike | None = None,
    *,
    view: str = "auto",
    title: str | None = None,
) -> dict:
    """Draw a RAC as a tensor network with its partition and min-cut, and write it to ``out``.

    Parameters
    ----------
    spec : RACSpec
    T : int
    partition : str, steps, Partition or None
        ``None`` draws no partition and no cut.
    form : {"continuous", "grid"}
    out : path
        ``.svg`` or ``.png``; checked before any work starts.
    view : {"auto", "full", "compact"}
        ``"auto"`` draws node by node when :func:`full_view_fits`, else the compact (time, layer) grid with a
        note saying so.
    title : str, optional

    Returns
    -------
    dict
        ``{"path", "view", "nodes", "mincut", "mincut_log2", "cut_edges", "partition"}``.

    Raises
    ------
    TnrnnError
        Bad path or format (before any work), bad partition or form, ``view="full"`` on a network too large.

    Examples
    --------
    >>> import tempfile, os
    >>> from tnrnn.rac.spec import RACSpec
    >>> info = render_network(RACSpec(2, 2, 2), 4, out=os.path.join(tempfile.mkdtemp(), "n.svg"))
    >>> info["view"]
    'full'
    """
    from tnrnn.base.validate import check_positive_int
    from tnrnn.network.build import FORMS, build_network, count_nodes
    from tnrnn.rac.partition import make_partition

    if out is None:
        raise TnrnnError("render_network needs an output path (.svg or .png)")
    path, _ = style.check_output_path(out)
    T = check_positive_int("T", T)
    if form not in FORMS:
        raise TnrnnError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    if view not in ("auto", "full", "compact"):
        raise TnrnnError(f"view must be auto, full or compact, got {view!r}")
    part = None if partition is None else make_partition(T, partition)
    L = spec.L
    # Every (time, layer) cell holds at least a copy tensor, W_I and W_H: huge sizes are refused (or sent to
    # the compact view) from this lower bound, before the exact count, the min-cut or anything O(T * L).
    if view == "full" and 3 * T * L + 1 > 4 * FULL_MAX_NODES:
        raise TnrnnError(f"the full view of L = {L}, T = {T} would draw at least {3 * T * L + 1:,} nodes; use "
                         "--view compact")
    n_nodes = count_nodes(spec, T, form) if view == "full" or (T <= FULL_MAX_T and L <= FULL_MAX_STACK) else None
    fits = n_nodes is not None and full_view_fits(L, T, n_nodes)
    if view == "full" and not fits and n_nodes > 4 * FULL_MAX_NODES:
        raise TnrnnError(f"the full view of L = {L}, T = {T} would draw {n_nodes:,} nodes; use --view compact")
    chosen = "full" if view == "full" or (view == "auto" and fits) else "compact"
    if chosen == "compact":
        _check_compact_size(L, T)
        n_nodes = count_nodes(spec, T, form) if n_nodes is None else n_nodes
    mc = _mincut_module()
    info = {"path": str(path), "view": chosen, "nodes": n_nodes, "form": form,
            "partition": None if part is None else part.to_json(), "mincut": None, "mincut_log2": None,
            "cut_edges": None}
    if chosen == "full":
        net = build_network(spec, T, form=form)
        from tnrnn.bounds.cut_explicit import network_mincut

        cut = network_mincut(net, part) if (mc is not None and part is not None) else None
        fig = draw_network(net, part, cut, title=title)
        if cut is not None:
            info["cut_edges"] = sorted(edge_key(net.node_id, e) for e in cut.edges)
    else:
        note = (f"compact view: the explicit network has {n_nodes:,} nodes, too many to draw one by one; "
                "each box is a state h[t, l] drawn once")
        cut = None
        if mc is not None and part is not None:
            try:
                cut = mc.rac_mincut(spec, T, part, form=form)
            except ResourceError as exc:  # draw the grid anyway, and say why the bound is missing
                note += f"; min-cut not computed ({exc})"
        fig = draw_compact_grid(spec, T, part, form=form, cut_value=None if cut is None else cut.value, note=note,
                                title=title)
    if cut is not None:
        info["mincut"] = str(cut.value)
        info["mincut_log2"] = getattr(cut.value, "log2", None)
    style.save_figure(fig, path)
    return info
