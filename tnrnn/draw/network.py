"""RAC tensor-network figures: the network it is given, its partition and the cut it is given.

* [`draw_network`][tnrnn.draw.network.draw_network] draws an explicit network node by node (tag-driven layout for RAC networks; any other
  list of ``tensornetwork`` nodes goes to [`tnrnn.draw.generic.draw`][tnrnn.draw.generic.draw]), the input legs coloured by side of
  the partition and the cut edges bold.
* [`render_network`][tnrnn.draw.network.render_network] picks the node-by-node view or the compact (time, layer) grid by size
  ([`choose_view`][tnrnn.draw.views.choose_view]), draws and writes the file.

Nothing here computes a bound: the cut comes from the caller (``tnrnn.figures.render_rac`` computes it for
``tnrnn render``). Every drawn node carries the SVG id ``node-<id>`` (its index in ``net.nodes``), every edge
``edge-<key>`` and every cut edge ``cut-<key>`` (keys from [`tnrnn.draw.layout.edge_key`][tnrnn.draw.layout.edge_key]), so figures can be
checked mechanically.
"""

from __future__ import annotations

import os

import matplotlib

from tnrnn.base.errors import TnrnnError
from tnrnn.draw import style
from tnrnn.draw.compact import draw_compact_grid
from tnrnn.draw.layout import Layout, edge_key, rac_layout
from tnrnn.draw.primitives import (
    cut_edges,
    cut_keys,
    cut_mark,
    cut_value,
    draw_node,
    draw_path,
    figure_for,
    heading,
    heading_height,
    legend,
    math_count,
)
from tnrnn.draw.views import choose_view, full_view_fits
from tnrnn.rac.partition import Partition, make_partition

__all__ = ["draw_network", "render_network", "choose_view", "full_view_fits", "math_count"]

def draw_network(net, partition=None, cut=None, *, ax=None, title: str | None = None, note: str | None = None):
    """Draw an explicit tensor network, one shape per node, with the cut it is given.

    Parameters
    ----------
    net : RACNetwork or list of tensornetwork nodes
        A network from [`tnrnn.network.build.build_network`][tnrnn.network.build.build_network] (tag-driven layout: time left to right, layers
        bottom up, copies stacked in their cell) or any list of ``tensornetwork`` nodes (generic layout,
        [`tnrnn.draw.generic.draw`][tnrnn.draw.generic.draw]).
    partition : Partition, str or steps, optional
        Colours the input legs and time columns by side (RAC networks only).
    cut : CutResult or collection of Edge, optional
        Exactly these edges are drawn bold in red; a ``value`` attribute (the bound) is annotated.
    ax : matplotlib Axes, optional
        Draw into this axes (its limits are set to the layout, in inches); by default a new figure is made.
    title, note : str, optional
        Heading lines above the drawing.

    Returns
    -------
    matplotlib Figure

    Raises
    ------
    TnrnnError
        A cut edge that is not part of ``net``; a partition on a network without time steps.

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
        part = None if partition is None else make_partition(net.T, partition)
        with matplotlib.rc_context(style.RC):
            return _draw_rac(net, part, cut, ax=ax, title=title, note=note)
    if partition is not None:
        raise TnrnnError("a partition can only be drawn on a RAC network (use build_network); for another network "
                         "pass left=... to tnrnn.draw")
    from tnrnn.draw.generic import draw

    return draw(net, cut=cut, ax=ax, title=title)


def _draw_rac(net, part: Partition | None, cut, *, ax, title, note):
    layout = rac_layout(net)
    own = ax is None  # only a figure made here may be resized and get a figure-wide legend
    fig, ax = figure_for(layout, ax)
    keys = cut_keys(cut, net.node_id)
    _draw_columns(ax, net, layout, part)
    _draw_edges(ax, net, layout, part, keys)
    for i, (node, g) in enumerate(zip(net.nodes, net.tags)):
        x, y = layout.pos[i]
        label = None
        if g.role == "init":
            label = "1" if g.time == 0 and not _behind_weight(net, node) else r"$h_0$"
        draw_node(ax, x, y, g.role, f"node-{i}", label=label, fontsize=6.5 if g.role == "init" else 7.0)
    _draw_io_labels(ax, net, layout, part)
    lines = _rac_heading(net, part, cut, len(keys), title, note)
    W, H = layout.size
    y_hi = layout.rows[net.spec.L][1] + 0.1
    # Heading lines above the grid; the page grows when they need more room than the layout's top margin.
    need = 0.18 + heading_height(lines) + 0.3
    if need > H - y_hi:
        H += need - (H - y_hi)
        if own:
            fig.set_size_inches(W, H)
        ax.set_ylim(0, H)
    heading(ax, W / 2, H - 0.18, lines)
    items = [("copy tensor (elementwise product)", "dot", style.ROLE_COLORS["copy"]),
             ("input weights $W_I$", "box", style.ROLE_COLORS["W_I"]),
             ("hidden weights $W_H$", "box", style.ROLE_COLORS["W_H"]),
             ("initial state", "ring", "white")]
    if part is not None:
        items += [("input leg, side A", "line", style.SIDE_COLORS["A"]),
                  ("input leg, side B", "line", style.SIDE_COLORS["B"])]
    if keys:
        items.append(("cut edge", "bold", style.CUT_COLOR))
    legend(fig if own else ax, items, ncol=4 if W < 10 else len(items))
    return fig


def _draw_columns(ax, net, layout: Layout, part) -> None:
    """Time columns tinted by side and labelled, layer rows labelled."""
    from matplotlib.patches import Rectangle

    col_w = (layout.columns[2] - layout.columns[1]) if net.T > 1 else 1.0
    y_lo, y_hi = layout.rows[1][0] - 0.12, layout.rows[net.spec.L][1] + 0.1
    for t, x in layout.columns.items():
        if part is not None:
            ax.add_patch(Rectangle((x - col_w / 2 - 0.1, y_lo), col_w, y_hi - y_lo,
                                   facecolor=style.SIDE_TINTS[part.side(t)], edgecolor="none", zorder=0))
        ax.text(x - 0.1, y_hi + 0.06, f"t = {t}", ha="center", va="bottom", fontsize=8, color="#333333")
    for l, (yb, yt) in layout.rows.items():
        ax.text(layout.columns[1] - col_w / 2 - 0.3, (yb + yt) / 2, f"layer {l}", ha="right", va="center",
                fontsize=8, rotation=90, color="#333333")


def _draw_edges(ax, net, layout: Layout, part, keys: set) -> None:
    """Every edge once (input legs in their side's colour), then exactly the cut edges bold on top."""
    nid = net.node_id
    input_legs = {edge_key(nid, e): t for t, legs in enumerate(net.input_edges, start=1) for e in legs}
    for key in sorted(layout.paths):
        pts = layout.paths[key]
        t = input_legs.get(key)
        if t is not None:
            color = style.SIDE_COLORS[part.side(t)] if part is not None else "#444444"
            draw_path(ax, pts, color=color, lw=1.6, gid=f"edge-{key}", zorder=2)
            ax.plot([pts[-1][0]], [pts[-1][1]], marker="s", ms=3.2, color=color, zorder=2)
        else:
            draw_path(ax, pts, color=style.EDGE_COLOR, lw=0.8, gid=f"edge-{key}", zorder=1)
    for key in sorted(keys):
        draw_path(ax, layout.paths[key], color=style.CUT_COLOR, lw=3.0, gid=f"cut-{key}", zorder=3)
        cut_mark(ax, layout.paths[key], key)


def _draw_io_labels(ax, net, layout: Layout, part) -> None:
    """The inputs x_t along the bottom (with their copy count in the continuous form), the output y."""
    counts = net.input_copies()
    for t, x in layout.columns.items():
        color = style.SIDE_COLORS[part.side(t)] if part is not None else "#333333"
        text = f"$x_{{{t}}}$"
        if net.form == "continuous" and counts[t - 1] > 1:
            text += f"\n×{counts[t - 1]} legs"
        label_y = layout.input_y - 0.4 if net.form == "grid" else layout.rows[1][0] - 0.2
        ax.text(x + 0.1, label_y, text, ha="center", va="top", fontsize=8.5, color=color, linespacing=1.1)
    out_i = next(i for i, g in enumerate(net.tags) if g.role == "W_O")
    ox, oy = layout.pos[out_i]
    ax.text(ox + 0.6, oy, "$y$", ha="left", va="center", fontsize=9)


def _rac_heading(net, part, cut, n_cut: int, title, note) -> list[tuple[str, str, float]]:
    spec, st = net.spec, net.stats()
    head = title or (f"RAC  L = {spec.L}, R = {spec.R}, M = {spec.M}, T = {net.T}:  {net.form} form, "
                     f"{st['nodes']} nodes, {st['total_input_copies']} input copies")
    lines = [(head, "#111111", 10.0)]
    if part is not None:
        lines.append((f"partition {part.label()}", "#333333", 9.0))
    value = cut_value(cut)
    if value is not None:
        sym = symbolic_cut(net, cut_edges(cut))
        bound = math_count(value.split(" = ")[-1])
        lines.append((f"min-cut: {sym + ' = ' if sym else ''}{math_count(value)}  (separation rank ≤ {bound}; "
                      f"{n_cut} edge{'s' if n_cut != 1 else ''} cut, drawn bold)", style.CUT_COLOR, 9.5))
    elif n_cut:
        lines.append((f"cut: {n_cut} edge{'s' if n_cut != 1 else ''}, drawn bold", style.CUT_COLOR, 9.5))
    if note:
        lines.append((note, "#555555", 8.5))
    return lines


def symbolic_cut(net, edges) -> str:
    """The cut as powers of R (hidden bonds) and M (input legs and their ties), e.g. ``"$R^{5}$"``.

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> from tnrnn.network.build import build_network
    >>> net = build_network(RACSpec(1, 3, 2), 4)
    >>> symbolic_cut(net, [net.input_edges[0][0], net.input_edges[1][0]])
    '$M^{2}$'
    """
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


def render_network(
    net,
    cut=None,
    out: str | os.PathLike | None = None,
    *,
    partition=None,
    view: str = "auto",
    title: str | None = None,
    note: str | None = None,
) -> dict:
    """Draw a RAC network with the partition and the cut it is given, and write the figure to ``out``.

    Parameters
    ----------
    net : RACNetwork
        From [`tnrnn.network.build.build_network`][tnrnn.network.build.build_network].
    cut : CutResult or collection of Edge, optional
        Drawn as given (bold edges in the full view, cut bonds per link in the compact view).
    out : path
        ``.svg`` or ``.png``; checked before anything is drawn.
    partition : Partition, str or steps, optional
        Sides of the input legs.
    view : {"auto", "full", "compact"}
        ``"auto"``: node by node when [`full_view_fits`][tnrnn.draw.views.full_view_fits], else the compact (time, layer) grid.
    title, note : str, optional
        Heading lines.

    Returns
    -------
    dict
        ``{"path", "view", "nodes", "form", "partition", "mincut", "mincut_log2", "cut_edges"}``.

    Raises
    ------
    TnrnnError
        Bad path, view or partition; a cut that is not part of ``net``.

    Examples
    --------
    >>> import tempfile, os
    >>> from tnrnn.rac.spec import RACSpec
    >>> from tnrnn.network.build import build_network
    >>> net = build_network(RACSpec(2, 2, 2), 4)
    >>> info = render_network(net, [net.input_edges[0][0]], os.path.join(tempfile.mkdtemp(), "n.svg"))
    >>> info["view"], len(info["cut_edges"])
    ('full', 1)
    """
    if out is None:
        raise TnrnnError("render_network needs an output path (.svg or .png)")
    path, _ = style.check_output_path(out)
    part = None if partition is None else make_partition(net.T, partition)
    n_nodes = len(net.nodes)
    chosen = choose_view(net.spec.L, net.T, n_nodes, view)
    if chosen == "full":
        fig = draw_network(net, part, cut, title=title, note=note)
    else:
        note = note or (f"compact view: the explicit network has {n_nodes:,} nodes, too many to draw one by one; "
                        "each box is a state h[t, l] drawn once")
        fig = draw_compact_grid(net.spec, net.T, part, form=net.form, cut=cut, net=net, note=note, title=title)
    style.save_figure(fig, path)
    value = getattr(cut, "value", None)
    return {"path": str(path), "view": chosen, "nodes": n_nodes, "form": net.form,
            "partition": None if part is None else part.to_json(),
            "mincut": None if value is None else str(value), "mincut_log2": getattr(value, "log2", None),
            "cut_edges": sorted(cut_keys(cut, net.node_id)) if cut is not None else None}
