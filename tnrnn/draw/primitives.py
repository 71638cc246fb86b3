"""Drawing primitives shared by the network figures: routed edges, node shapes, headings, legends, cut lookup.

All coordinates are inches on a canvas from [`tnrnn.draw.style.new_figure`][tnrnn.draw.style.new_figure]. Every drawn element that a test
or a reader may want to find carries an SVG id (``gid``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

from tnrnn.base.errors import TnrnnError
from tnrnn.draw import style
from tnrnn.draw.layout import BOX_H, BOX_W, Layout, edge_key

_ROLE_TEXT = {"W_I": r"$W_I$", "W_H": r"$W_H$", "W_O": r"$W_O$"}


def math_count(text: str) -> str:
    """Typeset the powers of a compact count for matplotlib: ``"2^5 = 32"`` -> ``"$2^{5}$ = 32"``.

    Examples
    --------
    >>> math_count("2^5 * 3^2 = 288")
    '$2^{5}$ * $3^{2}$ = 288'
    """
    return re.sub(r"(\d+)\^(\d+)", r"$\1^{\2}$", text)


def cut_edges(cut) -> list:
    """The cut edges of ``cut``: its ``.edges`` (a CutResult or any object with edges), or ``cut`` itself when it
    is a plain collection of edges; ``[]`` for ``None``.

    Examples
    --------
    >>> cut_edges(None), cut_edges({"e"})
    ([], ['e'])
    """
    if cut is None:
        return []
    edges = getattr(cut, "edges", cut)
    # a CutResult's CutEdge stands for a tensornetwork Edge (``.edge``) when the network has them: draw that one
    return [e.edge if getattr(e, "edge", None) is not None else e for e in (edges or [])]


def cut_value(cut) -> str | None:
    """The bound a cut certifies, as text (``None`` when the cut carries no ``value``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> cut_value(SimpleNamespace(value=16)), cut_value([])
    ('16', None)
    """
    value = getattr(cut, "value", None)
    return None if value is None else str(value)


def cut_keys(cut, node_id: Callable) -> set:
    """The [`edge_key`][tnrnn.draw.layout.edge_key] of every cut edge.

    Raises
    ------
    TnrnnError
        An edge touches a node that ``node_id`` does not know (the cut belongs to another network).

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> a, b = tn.Node(np.ones(2)), tn.Node(np.ones(2))
    >>> e = a[0] ^ b[0]
    >>> ids = {id(a): 0, id(b): 1}
    >>> cut_keys([e], lambda n: ids[id(n)])
    {'0.0-1.0'}
    """
    keys = set()
    for e in cut_edges(cut):
        try:
            keys.add(edge_key(node_id, e))
        except (KeyError, TnrnnError, AttributeError):
            raise TnrnnError("the cut holds an edge that is not part of the network being drawn") from None
    return keys


def draw_path(ax, pts, *, color, lw, gid, zorder, ls="-"):
    """A polyline through ``pts`` with round caps, tagged ``gid``."""
    from matplotlib.lines import Line2D

    line = Line2D([p[0] for p in pts], [p[1] for p in pts], color=color, lw=lw, ls=ls, zorder=zorder,
                  solid_capstyle="round", solid_joinstyle="round")
    line.set_gid(gid)
    ax.add_line(line)
    return line


def cut_mark(ax, pts, key) -> None:
    """A short bar across the middle of the longest segment of a cut edge, so even a short cut bond is seen."""
    segs = list(zip(pts, pts[1:]))
    (x0, y0), (x1, y1) = max(segs, key=lambda ab: math.dist(ab[0], ab[1]))
    length = math.dist((x0, y0), (x1, y1)) or 1.0
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    nx_, ny_ = -(y1 - y0) / length, (x1 - x0) / length
    h = 0.09
    draw_path(ax, [(mx - h * nx_, my - h * ny_), (mx + h * nx_, my + h * ny_)], color=style.CUT_COLOR, lw=1.6,
              gid=f"cutmark-{key}", zorder=3)


def draw_node(ax, x, y, role, gid, *, label=None, face=None, fontsize=7.0, edge="#4d4d4d"):
    """One node: a dot (copy tensor), a ring (initial state), a rounded box (weights, named nodes) or a circle."""
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
                               facecolor=face, edgecolor=edge, lw=0.7, zorder=4)
    else:  # a generic tensor: a circle, as quimb draws them
        patch = Circle((x, y), 0.16, facecolor=face, edgecolor=edge, lw=0.9, zorder=4)
    patch.set_gid(gid)
    ax.add_patch(patch)
    text = label if label is not None else _ROLE_TEXT.get(role)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=5)
    return patch


def heading_height(lines: Iterable[tuple[str, str, float]]) -> float:
    """Height in inches of the heading [`heading`][tnrnn.draw.primitives.heading] draws for ``lines``."""
    return sum(size / 72 * 1.45 for _, _, size in lines)


def heading(ax, x, y, lines) -> None:
    """Centred lines ``(text, colour, size)`` downwards from ``y``."""
    for text, color, size in lines:
        ax.text(x, y, text, ha="center", va="top", fontsize=size, color=color)
        y -= size / 72 * 1.45


def legend(where, items, ncol):
    """Legend along the bottom of a figure (or of an axes, when drawing into a caller's axes).

    ``items`` are ``(label, kind, colour)`` with kind ``"dot"``, ``"box"``, ``"ring"``, ``"circle"``, ``"bold"``
    or ``"line"``.
    """
    from matplotlib.lines import Line2D

    marker = {"dot": dict(marker="o", ms=4), "box": dict(marker="s", ms=8, markeredgecolor="#4d4d4d"),
              "ring": dict(marker="o", ms=7, markeredgecolor="#555555"),
              "circle": dict(marker="o", ms=9, markeredgecolor="#4d4d4d")}
    handles = []
    for label, kind, color in items:
        if kind in marker:
            face = "white" if kind == "ring" else color
            handles.append(Line2D([], [], ls="none", color=color, markerfacecolor=face, label=label, **marker[kind]))
        else:
            handles.append(Line2D([], [], color=color, lw=3 if kind == "bold" else 2, label=label))
    where.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=7.5, frameon=False,
                 bbox_to_anchor=(0.5, 0.0), handletextpad=0.4, columnspacing=1.2, borderaxespad=0.3)


def figure_for(layout: Layout, ax):
    """A new inch-scaled figure of the layout's size, or ``ax`` prepared to hold the layout."""
    if ax is None:
        return style.new_figure(*layout.size)
    ax.set_xlim(0, layout.size[0])
    ax.set_ylim(0, layout.size[1])
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax.figure, ax
