"""Which view of a RAC network is drawn, and the sizes that can be drawn at all: decided from (L, T) alone.

Nothing here imports matplotlib or builds a network, so a request too large to draw is refused in
milliseconds, before anything proportional to T or L exists.
"""

from __future__ import annotations

from tnrnn.base.errors import TnrnnError
from tnrnn.draw.layout import cell_counts, stack_height

#: Views of a RAC network figure: node by node, the compact (time, layer) grid, or chosen by size.
VIEWS = ("auto", "full", "compact")
#: Full view limits: the largest sizes drawn node by node (larger ones get the compact grid). Depth 3 at T = 6
#: (250 nodes, 28 instances stacked in the first column) was a 1410 x 2310 pixel tower nobody could read.
FULL_MAX_T = 16
FULL_MAX_STACK = 16
FULL_MAX_NODES = 200
#: The compact grid is drawn up to this many time steps and layers.
COMPACT_MAX_T = 40
COMPACT_MAX_L = 12


def full_view_fits(L: int, T: int, nodes: int | None = None) -> bool:
    """Whether the node-by-node view stays readable: ``T <= 16``, at most 16 instances stacked in a column and
    at most 200 nodes (covers shallow T <= 16, depth 2 up to T = 10, depth 3 up to T = 4).

    Examples
    --------
    >>> full_view_fits(2, 8), full_view_fits(3, 4), full_view_fits(3, 6)
    (True, True, False)
    """
    if T > FULL_MAX_T or L > FULL_MAX_STACK or stack_height(L, T) > FULL_MAX_STACK:
        return False
    if nodes is None:
        nodes = 3 * sum(cell_counts(L, T).values()) + 1
    return nodes <= FULL_MAX_NODES


def check_compact_size(L: int, T: int) -> None:
    """Refuse grids too large to draw.

    Raises
    ------
    TnrnnError
        ``T > 40`` or ``L > 12``.

    Examples
    --------
    >>> check_compact_size(3, 10)
    """
    if T > COMPACT_MAX_T or L > COMPACT_MAX_L:
        raise TnrnnError(f"drawing is limited to T <= {COMPACT_MAX_T} and depth <= {COMPACT_MAX_L} "
                         f"(got T = {T}, L = {L}); use `tnrnn rank` for the bounds of larger networks")


def choose_view(L: int, T: int, nodes: int | None = None, view: str = "auto") -> str:
    """``"full"`` or ``"compact"``: the requested view, or for ``"auto"`` the full view when it fits; refuses
    sizes that cannot be drawn in the view chosen.

    Parameters
    ----------
    L, T : int
        Depth and sequence length.
    nodes : int, optional
        Node count of the explicit network, when known (else bounded from L and T).
    view : {"auto", "full", "compact"}

    Returns
    -------
    str

    Raises
    ------
    TnrnnError
        Unknown view; ``"full"`` for a network far too large to draw node by node; a compact grid over
        `COMPACT_MAX_T` steps or `COMPACT_MAX_L` layers.

    Examples
    --------
    >>> choose_view(2, 6), choose_view(3, 10), choose_view(2, 6, view="compact")
    ('full', 'compact', 'compact')
    """
    if view not in VIEWS:
        raise TnrnnError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    if view == "full":
        # Every (time, layer) cell holds at least a copy tensor, W_I and W_H: a lower bound on the node count.
        least = 3 * T * L + 1 if nodes is None else nodes
        if least > 4 * FULL_MAX_NODES:
            raise TnrnnError(f"the full view of L = {L}, T = {T} would draw at least {least:,} nodes; use "
                             "--view compact")
        return "full"
    if view == "auto" and full_view_fits(L, T, nodes):
        return "full"
    check_compact_size(L, T)
    return "compact"
