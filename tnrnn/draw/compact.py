"""The compact view of a RAC: its (time, layer) grid, each state drawn once with its copy multiplicity, and the
cut it is given aggregated onto the grid.

Every bond of the explicit network belongs to one link of the grid: the hidden link ``h[t-1, l] -> h[t, l]``
(through ``W_H`` of the instance at (t, l), or its initial state), the link up a layer ``h[t, l-1] -> h[t, l]``
(through ``W_I``), the input ``x_t`` (``W_I`` of layer 1, its open legs and the grid-form tie) or the output.
A cut drawn here shows, on every link, how many of its bonds are cut (``✂k``), and colours every state by the
side its copies end on; the counts add up to the number of cut edges.
"""

from __future__ import annotations

from collections import Counter

import matplotlib

from tnrnn.base.errors import TnrnnError
from tnrnn.draw import style
from tnrnn.draw.layout import cell_counts
from tnrnn.draw.primitives import cut_edges, cut_value, heading, legend, math_count
from tnrnn.draw.views import check_compact_size
from tnrnn.rac.partition import make_partition


def edge_link(net, edge) -> tuple:
    """The grid link an edge of the explicit network belongs to: ``("h", t, l)``, ``("v", t, l)``, ``("x", t)``
    or ``("y",)`` (see the module docstring).

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> from tnrnn.network.build import build_network
    >>> net = build_network(RACSpec(2, 2, 2), 3)
    >>> edge_link(net, net.input_edges[0][0]), edge_link(net, net.output_edge)
    (('x', 1), ('y',))
    """
    ends = [edge.node1] if edge.is_dangling() else [edge.node1, edge.node2]
    for node in ends:
        g = net.tag(node)
        if g.role == "W_H":
            return ("h", g.time, g.layer)
        if g.role == "init":
            return ("h", 1, g.layer)
        if g.role == "tie" or (g.role == "W_I" and g.layer == 1):
            return ("x", g.time)
        if g.role == "W_I":
            return ("v", g.time, g.layer)
        if g.role == "W_O":
            return ("y",)
    raise TnrnnError("a cut edge joins two copy tensors: not a network from build_network")  # pragma: no cover


def aggregate_cut(net, cut) -> tuple[Counter, dict]:
    """Cut bonds per grid link, and per state ``(t, l)`` the number of its copies on side A and on side B.

    The side counts are empty when the cut carries no ``sides`` (node id -> ``"A"``/``"B"``).

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> from tnrnn.network.build import build_network
    >>> net = build_network(RACSpec(1, 2, 2), 4)
    >>> links, sides = aggregate_cut(net, [net.input_edges[0][0], net.input_edges[1][0]])
    >>> sorted(links.items()), sides
    ([(('x', 1), 1), (('x', 2), 1)], {})
    """
    links: Counter = Counter()
    for e in cut_edges(cut):
        try:
            links[edge_link(net, e)] += 1
        except KeyError:
            raise TnrnnError("the cut holds an edge that is not part of the network being drawn") from None
    sides: dict = {}
    node_sides = getattr(cut, "sides", None) or {}
    for i, g in enumerate(net.tags):
        if g.role == "copy" and i in node_sides:
            a, b = sides.get((g.time, g.layer), (0, 0))
            sides[(g.time, g.layer)] = (a + (node_sides[i] == "A"), b + (node_sides[i] != "A"))
    return links, sides


class _Grid:
    """Geometry of the compact grid (inches)."""

    def __init__(self, L: int, T: int, counts: dict, n_lines: int) -> None:
        widest = max(len(f"×{n}") for n in counts.values())
        self.cw, self.ch = max(0.62, 0.085 * widest + 0.3), 0.4
        self.col_w, self.row_h = self.cw + 0.38, 0.85
        ml, self.mb, mt = 1.1, 1.1, 0.15 + 0.2 * n_lines + 0.4
        self.width = max(7.5, ml + T * self.col_w + 1.4)
        x0 = (self.width - (T * self.col_w + 0.6)) / 2 if self.width > ml + T * self.col_w + 1.4 else ml
        self.height = self.mb + L * self.row_h + mt
        self.xs = {t: x0 + (t - 0.5) * self.col_w for t in range(1, T + 1)}
        self.ys = {l: self.mb + (l - 0.5) * self.row_h for l in range(1, L + 1)}


def draw_compact_grid(spec, T: int, partition=None, *, form: str = "continuous", cut=None, net=None,
                      note: str | None = None, title: str | None = None):
    """Draw the (time, layer) grid of a RAC, each state once, annotated with its copy multiplicity and the cut.

    Parameters
    ----------
    spec : RACSpec
    T : int
    partition : Partition, str or steps, optional
        Colours the inputs by side.
    form : {"continuous", "grid"}
        Named in the heading.
    cut : CutResult or collection of Edge, optional
        Its ``value`` is annotated; its ``edges`` (which need ``net``) are drawn as cut counts per link, its
        ``sides`` colour the states. A cut without edges (the structured solver's) shows its value only.
    net : RACNetwork, optional
        The explicit network the cut's edges belong to.
    note, title : str, optional
        Heading lines.

    Returns
    -------
    matplotlib Figure

    Raises
    ------
    TnrnnError
        Grid too large ([`check_compact_size`][tnrnn.draw.views.check_compact_size]), cut edges without their network.

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> fig = draw_compact_grid(RACSpec(3, 2, 2), 10, "start-end")
    >>> sum(1 for p in fig.axes[0].patches if (p.get_gid() or "").startswith("cell-"))
    30
    """
    L = spec.L
    check_compact_size(L, T)
    part = None if partition is None else make_partition(T, partition)
    edges = cut_edges(cut)
    if edges and net is None:
        raise TnrnnError("drawing cut edges on the compact grid needs the network they belong to (net=...)")
    links, sides = aggregate_cut(net, cut) if net is not None else (Counter(), {})
    counts = cell_counts(L, T)
    lines = _heading_lines(spec, T, form, part, cut, len(edges), note, title)
    g = _Grid(L, T, counts, len(lines))
    with matplotlib.rc_context(style.RC):
        fig, ax = style.new_figure(g.width, g.height)
        _draw_frame(ax, g, L, T, part)
        _draw_cells(ax, g, counts, sides)
        _draw_links(ax, g, L, T, part, links)
        heading(ax, g.width / 2, g.height - 0.15, lines)
        box = style.ROLE_COLORS["W_I"] if not sides else "#ffffff"
        items = [("state $h[t,l]$, ×n = its copies in the network", "box", box)]
        for s in ("A", "B"):
            if any(ab[0 if s == "A" else 1] for ab in sides.values()):
                items.append((f"copies on side {s}", "box", style.SIDE_TINTS[s]))
        if part is not None:
            items += [("input, side A", "line", style.SIDE_COLORS["A"]), ("input, side B", "line", style.SIDE_COLORS["B"])]
        if links:
            items.append(("k bonds of a link cut (✂k)", "bold", style.CUT_COLOR))
        legend(fig, items, ncol=min(len(items), 3))
    return fig


def _heading_lines(spec, T, form, part, cut, n_edges, note, title) -> list:
    head = title or f"RAC  L = {spec.L}, R = {spec.R}, M = {spec.M}, T = {T}:  {form} form"
    lines = [(head, "#111111", 10.0)]
    if part is not None:
        lines.append((f"partition {part.label()}", "#333333", 9.0))
    value = cut_value(cut)
    if value is not None:
        drawn = f"; {n_edges} edges cut, counted per link" if n_edges else ""
        lines.append((f"min-cut: {math_count(value)}  (separation rank ≤ {math_count(value.split(' = ')[-1])}"
                      f"{drawn})", style.CUT_COLOR, 9.5))
    if note:
        lines.append((note, "#555555", 8.5))
    return lines


def _draw_frame(ax, g: _Grid, L: int, T: int, part) -> None:
    from matplotlib.patches import Rectangle

    for t in range(1, T + 1):
        if part is not None:
            ax.add_patch(Rectangle((g.xs[t] - g.col_w / 2, g.mb - 0.1), g.col_w, L * g.row_h + 0.1,
                                   facecolor=style.SIDE_TINTS[part.side(t)], edgecolor="none", alpha=0.6, zorder=0))
        ax.text(g.xs[t], g.mb + L * g.row_h + 0.05, str(t), ha="center", va="bottom", fontsize=7.5, color="#333333")
    left = g.xs[1] - g.col_w / 2
    ax.text(left - 0.1, g.mb + L * g.row_h + 0.05, "t =", ha="right", va="bottom", fontsize=7.5, color="#333333")
    for l in range(1, L + 1):
        ax.text(left - 0.12, g.ys[l], f"layer {l}", ha="right", va="center", fontsize=8, color="#333333")


def _draw_cells(ax, g: _Grid, counts: dict, sides: dict) -> None:
    """One rounded box per state; with sides, filled by the share of its copies on each side."""
    from matplotlib.patches import FancyBboxPatch, Rectangle

    for (t, l), n in sorted(counts.items()):
        x, y = g.xs[t], g.ys[l]
        x0, y0 = x - g.cw / 2, y - g.ch / 2
        face = style.ROLE_COLORS["W_I"] if n > 1 else "#e8f4fa"
        if (t, l) in sides:
            a, b = sides[(t, l)]
            face = "none"
            frac = a / (a + b)
            for left, w, s in ((x0, g.cw * frac, "A"), (x0 + g.cw * frac, g.cw * (1 - frac), "B")):
                if w > 0:
                    ax.add_patch(Rectangle((left, y0), w, g.ch, facecolor=style.SIDE_TINTS[s], edgecolor="none",
                                           zorder=2.5))
            if a and b:
                # beside the link that rises from the middle of the box, not across it
                ax.text(x + 0.07, y0 - 0.03, f"A {a} | B {b}", ha="left", va="top", fontsize=5.5, color="#333333",
                        zorder=4)
        box = FancyBboxPatch((x0, y0), g.cw, g.ch, boxstyle="round,pad=0,rounding_size=0.06", facecolor=face,
                             edgecolor="#4d4d4d", lw=0.7, zorder=3)
        box.set_gid(f"cell-{t}-{l}")
        ax.add_patch(box)
        ax.text(x, y, f"×{n}", ha="center", va="center", fontsize=7.5, zorder=4)


def _link_arrow(ax, p0, p1, k: int, gid: str) -> None:
    """A grid link; cut links bold red with their count of cut bonds."""
    from matplotlib.patches import FancyArrowPatch

    cut = k > 0
    arrow = FancyArrowPatch(p0, p1, arrowstyle="-|>", mutation_scale=8 if cut else 7, zorder=2 if cut else 1,
                            color=style.CUT_COLOR if cut else style.EDGE_COLOR, lw=2.6 if cut else 0.8)
    arrow.set_gid(f"cutlink-{gid}" if cut else f"link-{gid}")
    ax.add_patch(arrow)
    if cut:
        mx, my = (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2
        horizontal = abs(p1[0] - p0[0]) > abs(p1[1] - p0[1])
        label = ax.text(mx + (0 if horizontal else 0.06), my + (0.06 if horizontal else 0), f"✂{k}",
                        ha="center" if horizontal else "left", va="bottom" if horizontal else "center",
                        fontsize=7, color=style.CUT_COLOR, zorder=5)
        label.set_gid(f"cutcount-{gid}")


def _draw_links(ax, g: _Grid, L: int, T: int, part, links: Counter) -> None:
    cw, ch = g.cw, g.ch
    for t in range(1, T + 1):
        for l in range(1, L + 1):
            x, y = g.xs[t], g.ys[l]
            if t > 1:
                _link_arrow(ax, (g.xs[t - 1] + cw / 2, y), (x - cw / 2, y), links[("h", t, l)], f"h-{t}-{l}")
            elif links[("h", 1, l)]:
                _link_arrow(ax, (x - cw / 2 - 0.3, y), (x - cw / 2, y), links[("h", 1, l)], f"h-1-{l}")
            if l > 1:
                _link_arrow(ax, (x, g.ys[l - 1] + ch / 2), (x, y - ch / 2), links[("v", t, l)], f"v-{t}-{l}")
        color = style.SIDE_COLORS[part.side(t)] if part is not None else "#444444"
        x, y1 = g.xs[t], g.ys[1] - ch / 2
        k = links[("x", t)]
        ax.plot([x, x], [g.mb - 0.35, y1], color=style.CUT_COLOR if k else color, lw=2.6 if k else 1.6, zorder=2,
                gid=f"cutlink-x-{t}" if k else f"link-x-{t}")
        if k:
            ax.text(x + 0.06, (g.mb - 0.35 + y1) / 2, f"✂{k}", ha="left", va="center", fontsize=7,
                    color=style.CUT_COLOR, zorder=5, gid=f"cutcount-x-{t}")
        ax.text(x, g.mb - 0.42, f"$x_{{{t}}}$", ha="center", va="top", fontsize=8, color=color)
    xo = g.xs[T] + g.col_w / 2 + 0.2
    _link_arrow(ax, (g.xs[T] + cw / 2, g.ys[L]), (xo + 0.05, g.ys[L]), links[("y",)], "y")
    ax.text(xo + 0.1, g.ys[L], "$y$", ha="left", va="center", fontsize=9)


def link_total(fig) -> int:
    """Sum of the cut counts drawn on a compact grid (for checks: it equals the number of cut edges).

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> link_total(draw_compact_grid(RACSpec(2, 2, 2), 4))
    0
    """
    return sum(int(t.get_text()[1:]) for t in fig.axes[0].texts if (t.get_gid() or "").startswith("cutcount-"))


__all__ = ["draw_compact_grid", "check_compact_size", "edge_link", "aggregate_cut", "link_total"]
