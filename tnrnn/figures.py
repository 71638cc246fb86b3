"""Compute, then draw: the RAC network figure of ``tnrnn render`` with its exact min-cut.

The figures in [`tnrnn.draw`][tnrnn.draw] draw what they are given and compute nothing; this module is the caller that
checks sizes, builds the network once, computes its min-cut once and hands both to the drawing.
"""

from __future__ import annotations

import os

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.draw import style
from tnrnn.draw.views import choose_view
from tnrnn.rac.partition import make_partition
from tnrnn.rac.spec import RACSpec

__all__ = ["render_rac", "EXPLICIT_CUT_MAX_NODES"]

#: Compact views of networks up to this many nodes get the explicit min-cut (its edges are drawn per grid link);
#: larger ones the structured min-cut (its value only), without building the network.
EXPLICIT_CUT_MAX_NODES = 20_000


def render_rac(
    spec: RACSpec,
    T: int,
    partition="start-end",
    form: str = "continuous",
    out: str | os.PathLike | None = None,
    *,
    view: str = "auto",
    title: str | None = None,
) -> dict:
    """Draw a RAC as a tensor network with its partition and exact min-cut, and write it to ``out``.

    The network is built once (when the figure or the cut needs it) and its min-cut computed once: the explicit
    solver when the network is small enough to build (its cut edges are drawn), the structured solver otherwise
    (its value is annotated).

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
        ``"auto"`` draws node by node when the network is small enough to read, else the compact grid.
    title : str, optional

    Returns
    -------
    dict
        ``{"path", "view", "nodes", "form", "partition", "mincut", "mincut_log2", "cut_edges"}``
        (``cut_edges`` is None when the structured solver gave the value).

    Raises
    ------
    TnrnnError
        Bad path or format, T, form, view or partition; sizes too large to draw (refused from L and T alone,
        before any allocation).

    Examples
    --------
    >>> import tempfile, os
    >>> info = render_rac(RACSpec(2, 2, 2), 6, out=os.path.join(tempfile.mkdtemp(), "n.svg"))
    >>> info["view"], info["mincut"], len(info["cut_edges"])   # R^(T/2+1)
    ('full', '2^4 = 16', 4)
    """
    if out is None:
        raise TnrnnError("render needs an output path (.svg or .png)")
    path, _ = style.check_output_path(out)
    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    T = check_positive_int("T", T)
    choose_view(spec.L, T, None, view)  # refuses what cannot be drawn, from (L, T) alone
    # Imported only now: the network builder pulls in jax (seconds), and a refusal must not wait for it.
    from tnrnn import network_mincut
    from tnrnn.draw.network import render_network
    from tnrnn.network.build import build_network, check_form, count_nodes

    check_form(form)
    part = None if partition is None else make_partition(T, partition)
    n_nodes = count_nodes(spec, T, form)
    chosen = choose_view(spec.L, T, n_nodes, view)
    if chosen == "full" or (part is not None and n_nodes <= EXPLICIT_CUT_MAX_NODES):
        net = build_network(spec, T, form=form)
        cut = None if part is None else network_mincut(net, part)
        return render_network(net, cut, path, partition=part, view=chosen, title=title)
    return _render_structured(spec, T, part, form, n_nodes, path, title)


def _render_structured(spec: RACSpec, T: int, part, form: str, n_nodes: int, path, title) -> dict:
    """The compact grid of a network too large to build: the structured min-cut's value, no edges."""
    from tnrnn import rac_mincut
    from tnrnn.draw.compact import draw_compact_grid

    note = (f"compact view: the explicit network has {n_nodes:,} nodes, too many to draw one by one; each box is a "
            "state h[t, l] drawn once")
    cut = None
    if part is not None:
        try:
            cut = rac_mincut(spec, T, part, form=form)
            note += "; min-cut from the structured solver (its edges are not listed)"
        except ResourceError as exc:  # draw the grid anyway, and say why the bound is missing
            note += f"; min-cut not computed ({exc})"
    fig = draw_compact_grid(spec, T, part, form=form, cut=cut, note=note, title=title)
    style.save_figure(fig, path)
    value = None if cut is None else cut.value
    return {"path": str(path), "view": "compact", "nodes": n_nodes, "form": form,
            "partition": None if part is None else part.to_json(), "mincut": None if value is None else str(value),
            "mincut_log2": None if value is None else value.log2, "cut_edges": None}
