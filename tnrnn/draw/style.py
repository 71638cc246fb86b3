"""The one plotting set-up of every tnrnn figure: colours, fonts, figure creation and deterministic, atomic saving.

Network figures draw on an inch-scaled canvas ([`new_figure`][tnrnn.draw.style.new_figure]); data plots (rank curves, memory and capacity
studies) get their axes from [`new_plot`][tnrnn.draw.style.new_plot] and are written by [`finish_figure`][tnrnn.draw.style.finish_figure] (title, wrapped footer,
layout, save) or [`save_figure`][tnrnn.draw.style.save_figure]. Nothing here touches pyplot, so a notebook's backend stays as it is.
"""

from __future__ import annotations

import io
import os
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import output_file, write_bytes_atomic

# Figures are made with matplotlib.figure.Figure, not pyplot: no display, no GUI backend and no global state are
# needed or touched (a notebook's backend stays as it is), and nothing accumulates in pyplot's figure registry.

#: File formats the figure writers accept (by extension).
FORMATS = ("svg", "png")

#: Fill colours per node role; drawing code looks roles up here instead of special-casing them.
ROLE_COLORS = {
    "W_I": "#8ecae6",
    "W_H": "#b8e0a8",
    "W_O": "#f4c06b",
    "copy": "#333333",
    "tie": "#555555",
    "init": "#ffffff",
    "other": "#d9d9d9",
}
#: Sides of a partition: A (start side) and B.
SIDE_COLORS = {"A": "#1f77b4", "B": "#e07b00"}
SIDE_TINTS = {"A": "#e3eef8", "B": "#fcebd9"}
CUT_COLOR = "#d62728"
EDGE_COLOR = "#8a8a8a"
#: One colour per series (depth, cell, ...): colour-blind friendly, distinct in grey scale too.
SERIES_COLORS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
GRID_COLOR = "#e4e4e4"

#: Fixed settings that make the same inputs give the same bytes (typed Any: matplotlib's stubs want literal keys).
RC: Any = {
    "svg.hashsalt": "tnrnn",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "path.simplify": False,
}


def check_output_path(path: str | os.PathLike) -> tuple[Path, str]:
    """Validate a figure path and return it with its format (``"svg"`` or ``"png"``).

    Raises
    ------
    TnrnnError
        Missing or unsupported extension, a directory given as the path, or a parent that is not a directory.

    Examples
    --------
    >>> check_output_path("net.svg")[1]
    'svg'
    """
    if path is None:
        raise TnrnnError("an output path is required, e.g. --out network.svg")
    if str(path).strip() == "":
        raise TnrnnError("the output path is empty; give one, e.g. --out network.svg")
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if p.exists() and p.is_dir():
        raise TnrnnError(f"output path {str(p)!r} is a directory, expected a .svg or .png file")
    if fmt not in FORMATS:
        raise TnrnnError(f"unsupported figure format {p.suffix or '(none)'!r} for {str(p)!r}: use .svg or .png")
    return output_file(p, what="figure"), fmt


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Save ``fig`` to ``path`` (SVG or PNG) deterministically and atomically.

    Same figure, same bytes: the SVG hash salt is fixed and no date or software version is written.
    The file is written beside its target and renamed, so an interruption never leaves half a figure.

    Raises
    ------
    TnrnnError
        Bad extension or an unwritable location (one readable line).

    Examples
    --------
    >>> import tempfile, os
    >>> fig, ax = new_figure(2.0, 1.0)
    >>> p = os.path.join(tempfile.mkdtemp(), "f.svg")
    >>> first = save_figure(fig, p).read_bytes()
    >>> save_figure(fig, p).read_bytes() == first
    True
    """
    p, fmt = check_output_path(path)
    buf = io.BytesIO()
    metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata)
    try:
        write_bytes_atomic(p, buf.getvalue())
    except OSError as exc:
        raise TnrnnError(f"cannot write {str(p)!r}: {exc.strerror or exc}") from None
    return p


def new_figure(width_in: float, height_in: float):
    """A figure of the given size in inches with one axes filling it, data units = inches, axes hidden.

    Examples
    --------
    >>> fig, ax = new_figure(4.0, 3.0)
    >>> fig.get_size_inches().tolist(), [float(v) for v in ax.get_xlim()]
    ([4.0, 3.0], [0.0, 4.0])
    """
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width_in, height_in))
        ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width_in)
    ax.set_ylim(0, height_in)
    ax.set_axis_off()
    return fig, ax


def new_plot(width_in: float, height_in: float, *, nrows: int = 1, ncols: int = 1, sharey: bool = False):
    """A figure with a grid of data axes in the shared look (light grid, no top/right spines).

    Parameters
    ----------
    width_in, height_in : float
        Figure size in inches.
    nrows, ncols : int
        Axes grid.
    sharey : bool
        Share the y axis across the grid.

    Returns
    -------
    (Figure, list of Axes)
        The axes in row-major order.

    Examples
    --------
    >>> fig, axes = new_plot(6.0, 3.0, ncols=2)
    >>> len(axes), axes[0].spines["top"].get_visible()
    (2, False)
    """
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width_in, height_in))
        grid = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes:
        ax.grid(True, color=GRID_COLOR, lw=0.7, zorder=0)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig, axes


def finish_figure(fig, path: str | os.PathLike, *, title: str | None = None, footer: str | None = None,
                  width_chars: int = 120, dpi: int = 130) -> Path:
    """Add a title and a wrapped footer (e.g. the training budget), lay the figure out and save it.

    Parameters
    ----------
    fig : matplotlib Figure
        From [`new_plot`][tnrnn.draw.style.new_plot].
    path : path
        ``.svg`` or ``.png``.
    title, footer : str, optional
        Heading above the axes; small grey text along the bottom, wrapped at ``width_chars``.
    width_chars : int
        Footer line length.
    dpi : int
        Resolution of PNG output.

    Returns
    -------
    Path

    Raises
    ------
    TnrnnError
        Bad path or format, unwritable location.

    Examples
    --------
    >>> import tempfile, os
    >>> fig, (ax,) = new_plot(4.0, 3.0)
    >>> _ = ax.plot([1, 2], [3, 4])
    >>> finish_figure(fig, os.path.join(tempfile.mkdtemp(), "f.png"), title="t", footer="budget").suffix
    '.png'
    """
    with matplotlib.rc_context(RC):
        top = 1.0
        if title:
            fig.suptitle(title, fontsize=11)
            top = 0.95
        bottom = 0.0
        if footer:
            lines = textwrap.wrap(footer, width=width_chars)
            fig.text(0.5, 0.01, "\n".join(lines), ha="center", va="bottom", fontsize=7.5, color="0.25")
            bottom = 0.02 + 0.028 * len(lines)
        fig.tight_layout(rect=(0, bottom, 1, top))
    return save_figure(fig, path, dpi=dpi)
