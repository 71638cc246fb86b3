"""Min-cut upper bounds on the separation rank (docs/theory.md, 'Min-cut bound'), solved exactly.

For a partition (A, B) of the time steps, any set of edges whose removal separates the A input legs from the B
input legs bounds the separation rank by the product of their bond dimensions (Levine, Yakira, Cohen, Shashua, ICLR
2018). The best such bound is a minimum cut with capacities ``log(dimension)``.

Two ways to get it:

* [`tnrnn.bounds.cut_explicit.network_mincut`][tnrnn.bounds.cut_explicit.network_mincut] works on an explicit [`RACNetwork`][tnrnn.network.build.RACNetwork]: the cut graph
  (`network_graph`) has the network's nodes, the terminals ``"A"`` and ``"B"`` (open input legs are edges
  to the terminal of their step's side; the output leg is attached to neither, so the bound is per output
  component when K > 1), and Lawler's gadget for every copy tensor with more than three legs (the grid form's
  ``tie`` of a step): two auxiliary nodes ``("tie", t, "in")`` -> ``("tie", t, "out")`` joined by one arc of the
  bond's weight, every member (the tied legs' nodes and the terminal of the open leg) attached with unbounded
  capacity. A plain hub node would charge one bond per tied leg it separates; a copy tensor's matricisations
  all have rank M, so the hyperedge charges M once.
* [`rac_mincut`][tnrnn.bounds.mincut.rac_mincut] never builds the network. In the continuous form the duplicated network is the tree
  unfolding of the (time, layer) grid, and all instances of ``h[t, l]`` are identical subtrees: a dynamic
  programme over the grid (for each (t, l) and side, the cheapest cut of one instance's subtree with its
  ``copy`` node on that side) is the exact min-cut in O(T L) operations. The grid form is no longer a tree (a
  tie joins every copy of a step), but a cut either splits a tie (cost M once; the step's copies are then free)
  or keeps it (every copy on the step's side). For a given choice of split ties the rest is the same tree DP, so
  the DP runs over the steps carrying every choice made so far as a state (the column of subtree costs
  ``f[t][l][s]`` and the number of ties split) and drops a state whenever another is no worse in every column
  cost and in ties split: the recurrences are monotone, so a dominated state can never finish cheaper. The
  frontier stays small in practice (about T + 2 states for Start-End, a few hundred for random partitions at
  T = 128); past ``max_states`` (or ``MAX_GRID_WORK`` comparisons) the explicit network is used when it is small
  enough, otherwise a ``ResourceError`` names the sizes. Both paths return the same values (tested, including a
  property test).

Exactness (no float may pick a wrong cut): a cut's cost is ``sum_d c_d log d`` over the distinct bond dimensions
``d`` (in a RAC network only R and M; dimension 1 costs nothing).

* When all dimensions are powers of one integer ``g`` (R = M, or R = 4 and M = 8, ...), the capacities are the
  integer exponents and scipy's integer max-flow is exact.
* Otherwise (two dimensions ``d1``, ``d2`` with ``log d2 / log d1 = rho`` irrational) the optimal cut counts
  ``(c1, c2)`` minimise ``c1 + c2 rho``. Rational brackets ``p/q < rho < p'/q'`` (continued-fraction convergents,
  their side checked exactly with integers ``d2^q`` vs ``d1^p``) give two integer max-flow problems; a cut
  optimal for both is optimal at ``rho``, because ``rho -> c1 + c2 rho - mincut(rho)`` is convex, non-negative
  and zero at both ends. The bracket is narrowed until that certificate holds.
* The structured paths count cut bonds as exact integers (R bonds, M legs or ties) and compare costs
  ``(c1, c2)`` by their float value when it decides by a wide margin, and otherwise exactly (integer exponents
  for commensurable dimensions, ball arithmetic for incommensurable ones, where only identical costs are equal).
  The grid-form frontier compares integer counts componentwise, with no logarithms at all.

The value is returned as an [`ExactCount`][tnrnn.base.counts.ExactCount]: ``R^c_R * M^c_M``, never expanded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.factored import sign_of_log_sum
from tnrnn.base.validate import check_positive_int
from tnrnn.rac.partition import Partition, make_partition
from tnrnn.rac.spec import RACSpec

FORMS = ("continuous", "grid")

#: The structured grid-form solver refuses (or hands over to the explicit network) past this many Pareto states.
DEFAULT_MAX_STATES = 20_000
#: The structured solvers refuse (before any work) a (time, layer) grid of more than this many cells, T * L
#: (the continuous-form DP takes a few microseconds per cell).
MAX_GRID_CELLS = 1_000_000
#: The grid-form DP gives up (like past ``max_states``) on more cells than this (it costs about 0.2 ms per step)...
MAX_GRID_FORM_CELLS = 50_000
#: ... or once its Pareto filtering has compared this many (row pair, column) entries in all (L = 4, T = 1024
#: Start-End needs about 6e9, a few seconds).
MAX_GRID_WORK = 15 * 10**9
# Networks with more than 2^this many input copies are refused: their bond counts leave float range (log2).
_MAX_COPIES_BITS = 900
_FORBIDDEN = 2**60  # "infinite" integer cost in the grid-form frontier (real costs stay far below it)
_INT32_MAX = 2**31 - 1
_PARETO_WINDOW = 4  # rows compared in the cheap first pass of _pareto


@dataclass(frozen=True)
class CutEdge:
    """One cut bond of a network, the same type whatever the network was given as.

    Attributes
    ----------
    index : str
        The bond's index name in the network's [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork] view (for a
        ``tensornetwork`` network ``e<k>``, or the edge's own name; for quimb and einsum input the index label).
    dimension : int
        What cutting it costs: the min-cut is the product of the dimensions of the cut edges.
    tensors : tuple of str
        Names of the tensors it joins (one for an open leg cut at the boundary; three or more for a hyper-index).
    edge : tensornetwork.Edge or None
        The ``tensornetwork`` Edge it stands for, when the network was given as ``tensornetwork`` nodes (a RAC
        network, a list of nodes); None for quimb and einsum input. Attributes a ``CutEdge`` lacks (``node1``,
        ``node2``, ``axis1``, ...) are read from this Edge, so code written for Edge objects keeps working.
    """

    index: str
    dimension: int
    tensors: tuple = ()
    edge: Any = None

    def __getattr__(self, name: str) -> Any:
        edge = self.__dict__.get("edge")
        if edge is None or name.startswith("__"):
            raise AttributeError(f"CutEdge has no attribute {name!r} (and no tensornetwork Edge behind it)")
        return getattr(edge, name)


@dataclass
class CutResult:
    """A minimum cut and its value.

    Attributes
    ----------
    value : ExactCount
        Product of the bond dimensions cut: the min-cut upper bound on the separation rank.
    edges : list of CutEdge
        The cut bonds and open legs (explicit paths), each a [`CutEdge`][tnrnn.bounds.mincut.CutEdge] whatever the network was given as;
        ``edge.edge`` is the ``tensornetwork`` Edge when there is one. A split grid-form ``tie`` (a hyperedge) is
        reported by its open leg, whose dimension M is what it costs. Empty for the structured path.
    method : str
        ``"explicit-scipy"``, ``"explicit-networkx"`` or ``"structured"``.
    form : str
        ``"grid"`` or ``"continuous"``.
    sides : dict or None
        Explicit paths: node id (position in ``net.nodes``) -> ``"A"`` or ``"B"``, the side each node ends on
        (for drawing). ``None`` for the structured path.
    counts : dict of int to int
        How many bonds of each dimension are cut: ``value = prod d ** counts[d]``.
    certificate : str
        Why the value is an exact minimum (which exactness argument applied).
    stats : dict
        Solver details (graph size, max-flow calls, largest Pareto frontier of the grid-form DP).
    """

    value: ExactCount
    edges: list
    method: str
    form: str
    sides: dict | None
    counts: dict = field(default_factory=dict)
    certificate: str = ""
    stats: dict = field(default_factory=dict)

    def __str__(self) -> str:
        cut = ", ".join(f"{n} x dim {d}" for d, n in sorted(self.counts.items()) if n)
        return f"min-cut {self.value} (log2 {self.value.log2:.6g}; {self.form} form, {self.method}; cut: {cut or 'nothing'})"

    def to_json(self) -> dict:
        """JSON-ready summary: value, method, form, cut counts per dimension, certificate, stats (no Edge objects)."""
        return {
            "value": self.value.to_json(),
            "value_str": str(self.value),
            "method": self.method,
            "form": self.form,
            "counts": {str(d): n for d, n in self.counts.items()},
            "certificate": self.certificate,
            "stats": self.stats,
        }


# ---------------------------------------------------------------------------------------------------------------
# exact comparison of costs sum_d c_d log d
# ---------------------------------------------------------------------------------------------------------------


def _perfect_root(n: int) -> tuple[int, int]:
    """``(g, k)`` with ``n = g^k`` and k maximal (``n >= 2``)."""
    best = (n, 1)
    for k in range(2, n.bit_length() + 1):
        g = round(n ** (1.0 / k))
        for cand in (g - 1, g, g + 1):
            if cand >= 2 and cand**k == n:
                best = (cand, k)
    return best


def _common_exponents(dims: list[int]) -> dict[int, int] | None:
    """Integer exponents ``{d: e_d}`` with every ``d = g^e_d`` for one g, or None if there is no common base."""
    dims = [d for d in dims if d > 1]
    if not dims:
        return {}
    roots = {d: _perfect_root(d) for d in dims}
    gs = {g for g, _ in roots.values()}
    if len(gs) != 1:
        return None
    return {d: k for d, (_, k) in roots.items()}


class _CostOrder:
    """Total order on costs ``(c_R, c_M)`` (R-bond count, M-bond count, rationals allowed) by ``c_R log R + c_M log M``."""

    def __init__(self, R: int, M: int) -> None:
        self.R, self.M = R, M
        self.lr = math.log(R)
        self.lm = math.log(M)
        self.exps = _common_exponents([R, M])

    def cmp(self, a, b) -> int:
        if a is None or b is None:  # None = forbidden (infinite cost)
            return (a is None) - (b is None)
        da, db = a[0] - b[0], a[1] - b[1]
        if self.exps is not None and type(da) is int and type(db) is int:
            # common base g: compare exponents of g exactly
            s = da * self.exps.get(self.R, 0) + db * self.exps.get(self.M, 0)
            return (s > 0) - (s < 0)
        v = float(da) * self.lr + float(db) * self.lm
        scale = (abs(float(a[0])) + abs(float(b[0]))) * self.lr + (abs(float(a[1])) + abs(float(b[1]))) * self.lm
        if abs(v) > 1e-9 * scale + 1e-12:
            return 1 if v > 0 else -1
        return sign_of_log_sum([(da, self.R), (db, self.M)])

    def lt(self, a, b) -> bool:
        return self.cmp(a, b) < 0


def _add(a, b):
    if a is None or b is None:
        return None
    return (a[0] + b[0], a[1] + b[1])


# ---------------------------------------------------------------------------------------------------------------
# structured fast path
# ---------------------------------------------------------------------------------------------------------------

_R = (1, 0)  # cost of one R bond


def _count_text(n: int) -> str:
    """``1,234`` for modest counts, ``about 10^k`` for huge ones (messages stay one short line)."""
    return f"{n:,}" if n < 10**12 else f"about 10^{len(str(n)) - 1}"


def _grid_fallback(spec: RACSpec, T: int, partition: Partition, reason: str, fallback: bool) -> CutResult:
    from tnrnn.bounds.cut_explicit import network_mincut  # the explicit path imports this module's helpers
    from tnrnn.network.build import DEFAULT_MAX_NODES, build_network, count_nodes

    nodes = count_nodes(spec, T, "grid")
    why = f"the structured grid-form min-cut of L={spec.L}, R={spec.R}, M={spec.M}, T={T} {reason}"
    if not fallback or nodes > DEFAULT_MAX_NODES:
        raise ResourceError(
            f"{why}, and the explicit grid network would have {_count_text(nodes)} nodes (limit {DEFAULT_MAX_NODES:,}); use the "
            f"continuous form (an upper bound on the grid form's min-cut) or a smaller T"
            + (", or raise max_states" if "Pareto states" in reason else "")
        )
    cut = network_mincut(build_network(spec, T, form="grid"), partition)
    cut.stats["fallback"] = f"{why}; solved the explicit grid network ({nodes:,} nodes) instead"
    return cut


def _check_grid_size(L: int, T: int) -> None:
    """Refuse, before any work, a (time, layer) grid too big for the structured solvers."""
    cells = T * L
    if cells > MAX_GRID_CELLS:
        raise ResourceError(
            f"the structured min-cut of L={L}, T={T} is a DP over {cells:,} (time, layer) cells (limit "
            f"{MAX_GRID_CELLS:,}, a few seconds); use a smaller T or depth"
        )
    bits = math.comb(T + L - 1, L).bit_length()
    if bits > _MAX_COPIES_BITS:
        raise ResourceError(
            f"the network of L={L}, T={T} has about 2^{bits - 1} input copies: its bond counts are beyond the "
            f"floating-point range of log2 used to compare and print bounds (limit 2^{_MAX_COPIES_BITS}); use a "
            "smaller T or depth"
        )


def _tree_dp(L: int, T: int, side: list[int], leaf_cost, order: _CostOrder):
    """Continuous-form min-cut: DP over the (time, layer) grid of the tree network.

    ``side[t]`` (0 = A, 1 = B) for t = 1..T; ``leaf_cost`` is the cost pair of one open input leg cut (a layer-1
    ``W_I`` instance on the other side of its step). ``f[l][s]`` is the cost of one instance's subtree of
    ``h[t, l]`` with its copy node on side s; the root ``W_O`` follows the root copy (its leg is free).
    """
    lt = order.lt

    def cheaper(x, y):
        return y if lt(y, x) else x

    zero = (0, 0)
    f_prev: list = []
    for t in range(1, T + 1):
        f_cur: list = [None]
        for l in range(1, L + 1):
            pair = []
            for s in (0, 1):
                # input branch: copy -R- W_I -(M leg | R bond to the copy of h[t, l-1])
                if l == 1:
                    own = zero if s == side[t] else leaf_cost
                    flip = _add(_R, zero if 1 - s == side[t] else leaf_cost)
                else:
                    own, flip = f_cur[l - 1][s], _add(_R, f_cur[l - 1][1 - s])
                cost = cheaper(own, flip)
                # hidden branch: copy -R- W_H -R- copy of h[t-1, l]; two R bonds in series cost at most one
                if t > 1:
                    cost = _add(cost, cheaper(f_prev[l][s], _add(_R, f_prev[l][1 - s])))
                pair.append(cost)
            f_cur.append(pair)
        f_prev = f_cur
    return cheaper(*f_prev[L])


def _grid_column(F: np.ndarray | None, L: int, side_t: int, cut: bool) -> np.ndarray:
    """Column t of the grid-form DP for every state at once.

    ``F`` holds, per state, ``f[t-1][l][s]`` at index ``2 (l - 1) + s``: the R bonds cut in one instance's subtree of
    ``h[t-1, l]`` with its copy node on side s (None at t = 1). A cut tie frees the step's copies; a kept tie forces
    them onto the step's side (``_FORBIDDEN`` otherwise).
    """
    k = 1 if F is None else F.shape[0]
    out = np.empty((k, 2 * L), dtype=np.int64)
    below = None
    for l in range(1, L + 1):
        for s in (0, 1):
            if l == 1:
                own = 0 if (cut or s == side_t) else _FORBIDDEN
                flip = 1 + (0 if (cut or 1 - s == side_t) else _FORBIDDEN)
                inc = np.full(k, min(own, flip), dtype=np.int64)
            else:
                assert below is not None  # set at l = 1
                inc = np.minimum(below[:, s], below[:, 1 - s] + 1)
            if F is None:
                hid = 0
            else:
                hid = np.minimum(F[:, 2 * (l - 1) + s], F[:, 2 * (l - 1) + 1 - s] + 1)
            out[:, 2 * (l - 1) + s] = np.minimum(inc + hid, _FORBIDDEN)
        below = out[:, 2 * (l - 1) : 2 * l]
    return out


def _pareto(X: np.ndarray) -> np.ndarray:
    """Rows of X not dominated (componentwise >=) by another row; duplicates kept once.

    Rows are deduplicated and sorted by their sum: a distinct row can only be dominated by one with a smaller sum,
    so each row is compared with the rows before it. A cheap first pass drops rows dominated by one of the few
    rows just before them; dominance is transitive (every dropped row has a non-dominated dominator, which stays),
    so the full all-pairs pass on the survivors still finds exactly the Pareto set.
    """
    X = X[np.lexsort(X.T[::-1])]
    if len(X) > 1:
        X = X[np.concatenate([[True], (X[1:] != X[:-1]).any(axis=1)])]
    n = X.shape[0]
    if n <= 1:
        return X
    X = X[np.argsort(X.sum(axis=1), kind="stable")]
    Y = X.astype(np.int32) if X.max() <= _INT32_MAX else X  # half the memory traffic when the costs allow it
    dominated = np.zeros(n, dtype=bool)
    for k in range(1, min(_PARETO_WINDOW, n - 1) + 1):
        dominated[k:] |= (Y[:-k] <= Y[k:]).all(axis=1)
    X, Y = X[~dominated], Y[~dominated]
    n = X.shape[0]
    keep = np.ones(n, dtype=bool)
    block = max(1, 8_000_000 // n)  # rows per block: bounds the (block, n) comparison matrix
    cols = [np.ascontiguousarray(Y[:, d]) for d in range(Y.shape[1])]
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        dom = cols[0][None, :i1] <= cols[0][i0:i1, None]  # dom[i, j]: row j <= row i in every column so far
        for c in cols[1:]:
            dom &= c[None, :i1] <= c[i0:i1, None]
        np.fill_diagonal(dom[:, i0:i1], False)
        keep[i0:i1] = ~dom.any(axis=1)
    return X[keep]


def rac_mincut(
    spec: RACSpec,
    T: int,
    partition: Partition | str = "start-end",
    *,
    form: str = "continuous",
    max_states: int | None = None,
    fallback: bool = True,
) -> CutResult:
    """Exact min-cut of a RAC network without building it (structured fast path).

    Parameters
    ----------
    spec : RACSpec
    T : int
        Number of time steps.
    partition : Partition or str
        Partition of the steps 1..T.
    form : {"continuous", "grid"}
        Continuous form (one open leg per input copy; exact DP, O(T L)) or grid form (one open leg per step;
        exact DP over the steps with a Pareto frontier of split/kept ties).
    max_states : int, optional
        Grid form only: the most Pareto states the DP may keep per step before giving up (default
        ``DEFAULT_MAX_STATES``; in practice about T + 2 for Start-End and a few hundred for random partitions).
    fallback : bool
        Grid form only: when the frontier outgrows ``max_states``, solve the explicit grid network instead
        ([`network_mincut`][tnrnn.bounds.cut_explicit.network_mincut]) if it has at most ``DEFAULT_MAX_NODES`` nodes.

    Returns
    -------
    CutResult
        ``method = "structured"``, no ``edges`` or ``sides``; ``counts`` gives the cut bonds per dimension. A grid
        form solved by the fallback has ``method = "explicit-scipy"`` and ``stats["fallback"]`` says why.

    Raises
    ------
    TnrnnError
        Bad arguments.
    ResourceError
        Before any work: more than ``MAX_GRID_CELLS`` (time, layer) cells, or a network with more than 2^900 input
        copies. Grid form whose frontier exceeds ``max_states`` (or whose filtering exceeds ``MAX_GRID_WORK``, or
        whose costs could overflow int64) while the explicit network is too big (or ``fallback=False``).

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> str(rac_mincut(RACSpec(depth=2, width=2, features=2), 8).value)   # R^(T/2+1)
    '2^5 = 32'
    >>> cut = rac_mincut(RACSpec(depth=4, width=2, features=2), 1024)   # well under a second
    >>> str(cut.value)   # R^S(T/2, L), one R bond per copy of a diagonal state h[T/2 + j, j] (closed_form.py)
    '2^22632191'
    """
    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    T = check_positive_int("T", T)
    if form not in FORMS:
        raise TnrnnError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    if max_states is not None:
        max_states = check_positive_int("max_states", max_states)
    partition = make_partition(T, partition)
    L, R, M = spec.L, spec.R, spec.M
    _check_grid_size(L, T)
    on_a = set(partition.A)
    side = [0] + [0 if t in on_a else 1 for t in range(1, T + 1)]
    order = _CostOrder(R, M)
    cert_cmp = (
        "costs compared exactly (integer exponents)"
        if order.exps is not None
        else "costs compared exactly (ball arithmetic; log R / log M irrational)"
    )

    def result(cost, stats, cert) -> CutResult:
        a, b = int(cost[0]), int(cost[1])
        counts: dict[int, int] = {}
        for d, c in ((R, a), (M, b)):
            if c and d > 1:
                counts[d] = counts.get(d, 0) + c
        return CutResult(ExactCount.product(counts), [], "structured", form, None, dict(sorted(counts.items())), cert, stats)

    if form == "continuous":
        cost = _tree_dp(L, T, side, (0, 1), order)
        return result(cost, {"dp_states": 2 * T * L}, f"exact DP over the (time, layer) grid of the tree network; {cert_cmp}")

    # grid form: exact DP over the steps, keeping the Pareto frontier of (column costs, ties cut)
    if max_states is None:
        max_states = DEFAULT_MAX_STATES
    if T * L > MAX_GRID_FORM_CELLS:
        return _grid_fallback(spec, T, partition, f"would run over {T * L:,} (time, layer) cells (limit "
                              f"{MAX_GRID_FORM_CELLS:,})", fallback)
    F = None
    C = np.zeros(1, dtype=np.int64)
    widest = 1
    work = 0
    for t in range(1, T + 1):
        keep = _grid_column(F, L, side[t], cut=False)
        cut = _grid_column(F, L, side[t], cut=True)
        X = np.vstack([np.column_stack([keep, C]), np.column_stack([cut, C + 1])])
        X = X[X[:, : 2 * L].min(axis=1) < _FORBIDDEN]
        # Real costs below _FORBIDDEN / 2 add up to less than _FORBIDDEN, so the first real cost that could be
        # mistaken for "forbidden" lands in [_FORBIDDEN / 2, _FORBIDDEN): stop there rather than misread it.
        if ((X[:, : 2 * L] >= _FORBIDDEN // 2) & (X[:, : 2 * L] < _FORBIDDEN)).any():
            return _grid_fallback(spec, T, partition, f"has R-bond counts beyond its int64 costs at step {t}", fallback)
        work += X.shape[0] ** 2 * X.shape[1] // 2
        if work > MAX_GRID_WORK:
            return _grid_fallback(spec, T, partition, f"exceeded its work limit ({MAX_GRID_WORK:.0e} comparisons) "
                                  f"at step {t} of {T}", fallback)
        X = _pareto(X)
        widest = max(widest, X.shape[0])
        if X.shape[0] > max_states:
            return _grid_fallback(spec, T, partition, f"needed more than {max_states:,} Pareto states", fallback)
        F, C = X[:, : 2 * L], X[:, 2 * L]
    best = None
    assert F is not None  # T >= 1 steps ran
    for a_r, c in zip(np.minimum(F[:, -2], F[:, -1]).tolist(), C.tolist()):
        cand = (int(a_r), int(c))
        if best is None or order.lt(cand, best):
            best = cand
    cert = (
        "exact DP over the steps: for every choice of cut ties (a cut tie costs M once and frees its copies, a kept "
        "tie forces them onto its side) the (time, layer) tree DP gives the cheapest R bonds; partial choices "
        f"dominated in every column cost and in ties cut are dropped (the recurrences are monotone); {cert_cmp}"
    )
    return result(best, {"pareto_states_max": widest, "dp_states": 2 * T * L}, cert)
