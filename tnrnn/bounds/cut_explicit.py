"""Exact min-cut of an explicit tensor network (docs/theory.md, 'Min-cut bound').

Any set of edges whose removal separates the A legs from the B legs bounds the separation rank by the product of
their bond dimensions (Levine, Yakira, Cohen, Shashua, ICLR 2018); the best such bound is a minimum cut with
capacities ``log(dimension)``, solved here exactly with integer max-flow (see [`tnrnn.bounds.mincut`][tnrnn.bounds.mincut] for the
exactness argument when the dimensions are not powers of one integer). Copy tensors with more than three legs
are hyperedges, modelled with Lawler's gadget (two auxiliary nodes joined by one arc of the bond's weight, every
member attached with unbounded capacity).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import networkx as nx
import numpy as np
from networkx.utils import UnionFind

from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import TnrnnError
from tnrnn.bounds.mincut import CutEdge, CutResult, _common_exponents, _perfect_root
from tnrnn.network.indexed import IndexedNetwork, as_network, from_rac
from tnrnn.rac.partition import Partition, make_partition

_INT32_MAX = 2**31 - 1


# ---------------------------------------------------------------------------------------------------------------
# explicit cut graph
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _CutGraph:
    """Arc list of the cut graph. Nodes 0..n-1 are the network's tensors, then the terminals and Lawler nodes."""

    labels: list  # graph node label per index (tensor position, "A", "B", gadget labels)
    src: np.ndarray  # arc tails
    dst: np.ndarray  # arc heads
    dim: np.ndarray  # bond dimension, 0 = unbounded capacity
    tn_edge: list  # per arc: what it stands for in the user's terms (an Edge or an index name; None if unbounded)
    source: int
    sink: int
    tie_aux: dict  # absorbed copy tensor position -> (in index, out index) of its gadget (or its first member)
    cut_edge: list = field(default_factory=list)  # per arc: the CutEdge reported when it is cut (None if unbounded)

    @property
    def n(self) -> int:
        return len(self.labels)


def _hyperedges(net: IndexedNetwork, side: dict) -> list[tuple[int, list, str, int | None]]:
    """``(dim, members, index, absorbed)`` per hyperedge of the cut graph.

    Copy tensors with more than three legs are absorbed: their legs merge into one hyperedge (networkx's
    union-find), since every matricisation of a copy tensor has the rank of one leg. Smaller copy tensors stay
    plain nodes (any split of three legs cuts exactly one of them). Members are tensor positions and the terminal
    (``-1`` for A, ``-2`` for B) of every open index with a side; open indices without a side are free.
    """
    absorbed = [i for i, t in enumerate(net.tensors) if t.copy and len(set(t.inds)) > 3]
    terminal = {ix: (-1 if s == 0 else -2) for ix, s in side.items()}
    members = net.members()
    if not absorbed:  # the common case: one hyperedge per index, no merging
        return [(net.sizes[ix], mem + [terminal[ix]] if ix in terminal else mem, ix, None)
                for ix, mem in members.items()]
    uf = UnionFind(net.sizes)
    for i in absorbed:
        uf.union(*net.tensors[i].inds)
    skip = set(absorbed)
    groups: dict = {}
    for ix, mem in members.items():
        g = groups.setdefault(uf[ix], {"members": [], "inds": [], "absorbed": None})
        g["inds"].append(ix)
        g["members"].extend(i for i in mem if i not in skip)
        if ix in terminal:
            g["members"].append(terminal[ix])
    for i in absorbed:
        groups[uf[net.tensors[i].inds[0]]]["absorbed"] = i
    out = []
    for g in groups.values():
        rep = next((ix for ix in g["inds"] if ix in side), g["inds"][0])  # report a cut tie by its open leg
        out.append((net.sizes[rep], list(dict.fromkeys(g["members"])), rep, g["absorbed"]))
    return out


def build_cut_graph(net: IndexedNetwork, side: dict, gadget_label: Callable[[str, int | None], Any] | None = None) -> _CutGraph:
    """The cut graph of a network whose open indices ``side`` puts on A (0) or B (1).

    Bonds are pairs of opposite arcs of their dimension; a hyperedge (an index of three or more members, or an
    absorbed copy tensor) is Lawler's gadget: ``in -> out`` of its dimension, every member ``m -> in`` and
    ``out -> m`` unbounded. ``gadget_label(index, absorbed)`` names the gadget's two nodes (``(*label, "in")``).
    """
    n_net = len(net.tensors)
    labels: list = list(range(n_net)) + ["A", "B"]
    source, sink = n_net, n_net + 1
    terminal = {-1: source, -2: sink}
    src: list[int] = []
    dst: list[int] = []
    dim: list[int] = []
    edges: list = []
    reported: list = []
    hubs: dict = {}
    current: list = [None]  # the CutEdge of the hyperedge being added

    def arc(u: int, v: int, d: int, edge: Any) -> None:
        src.append(u)
        dst.append(v)
        dim.append(d)
        edges.append(edge)
        reported.append(current[0] if d else None)

    for d, members, rep, absorbed in _hyperedges(net, side):
        nodes = [terminal.get(m, m) for m in members]
        edge = net.origin.get(rep, rep)
        origin = net.origin.get(rep)
        current[0] = CutEdge(str(rep), int(d), tuple(net.tensors[m].name for m in members if m >= 0),
                             None if isinstance(origin, str) else origin)
        if len(nodes) > 2 and d > 1:
            key = ("hyper", rep) if gadget_label is None else gadget_label(rep, absorbed)
            a_in, a_out = len(labels), len(labels) + 1
            labels.extend([(*key, "in"), (*key, "out")])
            arc(a_in, a_out, d, edge)
            for m in nodes:
                arc(m, a_in, 0, None)
                arc(a_out, m, 0, None)
            if absorbed is not None:
                hubs[absorbed] = (a_in, a_out)
        elif len(nodes) == 2 and d > 1:  # log 1 = 0: a dimension-1 bond is never worth recording
            arc(nodes[0], nodes[1], d, edge)
            arc(nodes[1], nodes[0], d, edge)
        if absorbed is not None and absorbed not in hubs and nodes:
            hubs[absorbed] = (nodes[0], nodes[0])  # a degenerate hyperedge: the tensor follows its first member
    return _CutGraph(labels, np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64),
                     np.asarray(dim, dtype=np.int64), edges, source, sink, hubs, reported)


def _rac_sides(net, partition: Partition) -> tuple[IndexedNetwork, dict, Callable]:
    inet = from_rac(net)
    on_a = set(partition.A)
    side = {ix: (0 if t in on_a else 1) for ix, t in inet.meta["step"].items()}

    def label(rep: str, absorbed: int | None) -> tuple:
        if absorbed is not None and net.tags[absorbed].role == "tie":
            return ("tie", net.tags[absorbed].time)
        return ("hyper", rep)

    return inet, side, label


def graph_to_networkx(cg: _CutGraph) -> nx.DiGraph:
    """A cut graph as a networkx ``DiGraph`` (``capacity = log(dim)`` on bonds; gadget members unbounded)."""
    g = nx.DiGraph()
    g.add_nodes_from(label for i, label in enumerate(cg.labels) if i not in cg.tie_aux)  # gadgets replace hubs
    for u, v, d, e in zip(cg.src.tolist(), cg.dst.tolist(), cg.dim.tolist(), cg.tn_edge):
        a, b = cg.labels[u], cg.labels[v]
        if d:
            g.add_edge(a, b, capacity=math.log(d), dim=d, edge=e)
        else:
            g.add_edge(a, b, dim=0, edge=None)
    return g


def network_graph(net, partition: Partition | str = "start-end") -> nx.DiGraph:
    """The cut graph of an explicit RAC network as a networkx ``DiGraph``.

    Nodes are the network's node ids (positions in ``net.nodes``), the terminals ``"A"`` and ``"B"``, and
    ``("tie", t, "in")`` / ``("tie", t, "out")`` for Lawler's gadget of every tie with more than three legs. A
    bond of dimension ``d > 1`` is a pair of opposite arcs with attributes ``capacity = log(d)``, ``dim = d`` and
    ``edge`` (the ``tensornetwork`` Edge); unbounded arcs (gadget members) carry no ``capacity`` (networkx reads
    that as infinite) and ``dim = 0``.

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.rac.spec import RACSpec
    >>> g = network_graph(build_network(RACSpec(2, 2, 2), 4, form="grid"), "start-end")
    >>> ("tie", 1, "in") in g, g.has_edge(("tie", 1, "in"), ("tie", 1, "out"))
    (True, True)
    """
    partition = make_partition(net.T, partition)
    return graph_to_networkx(build_cut_graph(*_rac_sides(net, partition)))


def _capacities(cg: _CutGraph, weights: dict[int, int]) -> np.ndarray:
    """Integer capacity per arc: ``weights[dim]`` for bonds, more than any finite cut for unbounded arcs."""
    finite = np.zeros(len(cg.dim), dtype=np.int64)
    for d, w in weights.items():
        finite[cg.dim == d] = w
    inf = int(finite.sum()) + 1  # more than any cut of finite arcs: never cut
    return np.where(cg.dim == 0, inf, finite)


def _maxflow_networkx(cg: _CutGraph, caps: np.ndarray) -> tuple[int, np.ndarray]:
    """``networkx.minimum_cut`` on python ints (exact at any size)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(cg.n))
    for u, v, c, d in zip(cg.src.tolist(), cg.dst.tolist(), caps.tolist(), cg.dim.tolist()):
        if d and c == 0:
            continue
        if g.has_edge(u, v):
            if d:
                g[u][v]["w"] = g[u][v].get("w", 0) + c
            continue
        if d:
            g.add_edge(u, v, w=c)
        else:
            g.add_edge(u, v)  # no attribute: infinite capacity for networkx
    value, (side_s, _) = nx.minimum_cut(g, cg.source, cg.sink, capacity="w")
    mask = np.zeros(cg.n, dtype=bool)
    mask[list(side_s)] = True
    return int(value), mask


def _maxflow_scipy(cg: _CutGraph, caps: np.ndarray) -> tuple[int, np.ndarray]:
    """``scipy.sparse.csgraph.maximum_flow`` (int32 capacities; larger ones are handed to networkx)."""
    if int(caps.max(initial=0)) * 2 >= _INT32_MAX:
        return _maxflow_networkx(cg, caps)
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow

    cap = sp.csr_matrix((caps, (cg.src, cg.dst)), shape=(cg.n, cg.n))
    cap.sum_duplicates()
    cap.eliminate_zeros()  # caps of 0 (dimension-1 bonds) must not appear as arcs
    cap = cap.astype(np.int32)
    res = maximum_flow(cap, cg.source, cg.sink)
    # residual capacity: cap - flow (flow is antisymmetric, so reverse arcs of used arcs appear too)
    resid = (cap.astype(np.int64) - res.flow.astype(np.int64)).tocsr()
    resid.data[resid.data < 0] = 0
    resid.eliminate_zeros()
    order = breadth_first_order(resid, cg.source, directed=True, return_predecessors=False)
    mask = np.zeros(cg.n, dtype=bool)
    mask[order] = True
    return int(res.flow_value), mask


#: Integer max-flow solvers by name, one signature: ``(cut graph, integer capacity per arc) -> (value, mask)``
#: where ``mask`` marks the nodes on the source side of a minimum cut.
MAXFLOW_SOLVERS: dict[str, Callable[[_CutGraph, np.ndarray], tuple[int, np.ndarray]]] = {
    "scipy": _maxflow_scipy,
    "networkx": _maxflow_networkx,
}


def _solver(name: str) -> Callable[[_CutGraph, np.ndarray], tuple[int, np.ndarray]]:
    try:
        return MAXFLOW_SOLVERS[name]
    except (KeyError, TypeError):
        raise TnrnnError(f"solver must be one of {', '.join(MAXFLOW_SOLVERS)}, got {name!r}") from None


def _cut_counts(cg: _CutGraph, mask: np.ndarray) -> tuple[dict[int, int], list]:
    cut = mask[cg.src] & ~mask[cg.dst]
    counts: dict[int, int] = {}
    edges = []
    for k in np.nonzero(cut)[0].tolist():
        d = int(cg.dim[k])
        if d == 0:
            raise AssertionError("an unbounded arc was cut: the max-flow result is inconsistent")
        counts[d] = counts.get(d, 0) + 1
        edges.append(cg.cut_edge[k])
    return dict(sorted(counts.items())), edges


def _convergents(x: Fraction):
    """Continued-fraction convergents of a positive rational."""
    h0, h1, k0, k1 = 0, 1, 1, 0
    while True:
        a = x.numerator // x.denominator
        h0, h1 = h1, a * h1 + h0
        k0, k1 = k1, a * k1 + k0
        yield Fraction(h1, k1)
        frac = x - a
        if frac == 0:
            return
        x = 1 / frac


def _exact_min_cut(cg: _CutGraph, solve: Callable[[dict[int, int]], tuple[int, np.ndarray]]):
    """Exact min-cut: returns (mask, counts, certificate, max-flow calls)."""
    dims = sorted({int(d) for d in cg.dim.tolist() if d > 1})
    exps = _common_exponents(dims)
    if exps is not None:
        _, mask = solve(exps)
        counts, _ = _cut_counts(cg, mask)
        base = dims and _perfect_root(dims[0])[0]
        cert = (
            f"all bond dimensions are powers of {base}: integer capacities (exponents), exact integer max-flow"
            if dims
            else "no bond of dimension > 1"
        )
        return mask, counts, cert, 1
    if len(dims) != 2:
        return _cone_min_cut(cg, solve, dims)
    d1, d2 = dims
    rho = Fraction(math.log(d2) / math.log(d1))
    lo = hi = None
    calls = 0
    for c in _convergents(rho):
        p, q = c.numerator, c.denominator
        # exact side of rho = log d2 / log d1 relative to p/q: compare d2^q with d1^p
        if d2**q > d1**p:
            lo = c
        elif d2**q < d1**p:
            hi = c
        else:  # pragma: no cover - impossible for incommensurable dims
            raise AssertionError("commensurable dimensions reached the bracket method")
        if lo is None or hi is None:
            continue
        w_lo = {d1: lo.denominator, d2: lo.numerator}
        w_hi = {d1: hi.denominator, d2: hi.numerator}
        _, mask = solve(w_lo)
        value_hi, _ = solve(w_hi)
        calls += 2
        counts, _ = _cut_counts(cg, mask)
        at_hi = counts.get(d1, 0) * w_hi[d1] + counts.get(d2, 0) * w_hi[d2]
        if at_hi == value_hi:
            cert = (
                f"bond dimensions {d1} and {d2} have no common base; the cut is optimal for the integer weights of "
                f"both brackets {lo} < log {d2} / log {d1} < {hi} (checked with integers), hence at the true ratio"
            )
            return mask, counts, cert, calls
        if max(lo.denominator, hi.denominator, lo.numerator, hi.numerator) > 10**9:
            break
    raise TnrnnError("could not certify the min-cut with rational brackets (please report this case)")


def network_mincut(net, partition: Partition | str = "start-end", *, solver: str = "scipy") -> CutResult:
    """Exact min-cut upper bound of an explicit RAC network.

    Parameters
    ----------
    net : RACNetwork
        From [`tnrnn.network.build.build_network`][tnrnn.network.build.build_network] (either form; weights are not needed).
    partition : Partition or str
        Partition of the steps 1..T (see [`tnrnn.rac.partition.make_partition`][tnrnn.rac.partition.make_partition]).
    solver : str
        A key of `MAXFLOW_SOLVERS`: ``"scipy"`` (``scipy.sparse.csgraph.maximum_flow``; capacities that would
        overflow int32 go to networkx) or ``"networkx"`` (``networkx.minimum_cut``).

    Returns
    -------
    CutResult
        With the cut ``edges`` and the ``sides`` of every node.

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.rac.spec import RACSpec
    >>> net = build_network(RACSpec(depth=1, width=3, features=2), T=4)
    >>> str(network_mincut(net, "start-end").value)   # min(R, M^(T/2)) = min(3, 4)
    '3'
    """
    partition = make_partition(net.T, partition)
    inet, side, label = _rac_sides(net, partition)
    return _solve_cut(inet, side, solver=solver, gadget_label=label, form=net.form)


def _solve_cut(net: IndexedNetwork, side: dict, *, solver: str, gadget_label=None, form: str = "network") -> CutResult:
    """Exact min-cut of ``net`` with its open indices on the sides ``side`` gives (0 = A, 1 = B)."""
    maxflow = _solver(solver)
    cg = build_cut_graph(net, side, gadget_label)
    used = set()

    def solve(weights: dict[int, int]) -> tuple[int, np.ndarray]:
        caps = _capacities(cg, weights)
        # scipy needs int32 capacities; larger ones go to networkx (python ints), and the method says so
        used.add("networkx" if maxflow is _maxflow_networkx or int(caps.max(initial=0)) * 2 >= _INT32_MAX else solver)
        return maxflow(cg, caps)

    mask, counts, cert, calls = _exact_min_cut(cg, solve)
    _, edges = _cut_counts(cg, mask)
    sides = {i: "A" if mask[cg.tie_aux.get(i, (i,))[0]] else "B" for i in range(len(net.tensors))}
    return CutResult(
        value=ExactCount.product(counts),
        edges=edges,
        method="explicit-" + "+".join(sorted(used)),
        form=form,
        sides=sides,
        counts=counts,
        certificate=cert,
        stats={"graph_nodes": cg.n, "graph_arcs": int(len(cg.src)), "maxflow_calls": calls},
    )


def _cone_min_cut(cg: _CutGraph, solve: Callable[[dict[int, int]], tuple[int, np.ndarray]], dims: list[int]):
    """Exact min-cut for any bond dimensions: integer weight vectors over primes whose cone holds the true one.

    A cut's cost is ``sum_p x_p log p`` over the primes p of the dimensions (``x`` its prime-exponent vector), and
    the logs of primes are linearly independent over Q, so the true weight vector ``lam = (log p)`` lies inside the
    cone of weights for which the optimal ``x`` is optimal. With ``a_p = ceil(S lam_p) + 1`` and ``m = 2k`` (k
    primes) the integer vectors ``a - m e_p`` span a cone holding ``lam`` (``a_p / lam_p >= S >= (sum a - m) /
    sum lam``; float error in ``S lam_p`` stays far below the margin of 1 for ``S <= 2^40``). A cut optimal for
    every one of them is optimal for every vector of their cone, hence at ``lam``. S grows until that holds.
    """
    import flint

    factors = {d: dict((int(p), int(e)) for p, e in flint.fmpz(d).factor()) for d in dims}
    primes = sorted({p for f in factors.values() for p in f})
    k = len(primes)
    calls = 0
    for bits in range(12, 41, 4):
        a = [math.ceil(2.0**bits * math.log(p)) + 1 for p in primes]
        vectors = [[a[i] - (2 * k if i == j else 0) for i in range(k)] for j in range(k)]
        centre = [sum(v[i] for v in vectors) for i in range(k)]

        def weights(v: list[int]) -> dict[int, int]:
            return {d: sum(e * v[primes.index(p)] for p, e in factors[d].items()) for d in dims}

        _, mask = solve(weights(centre))
        calls += 1
        counts, _ = _cut_counts(cg, mask)
        optimal = True
        for v in vectors:
            w = weights(v)
            value, _ = solve(w)
            calls += 1
            if sum(counts.get(d, 0) * w[d] for d in dims) != value:
                optimal = False
                break
        if optimal:
            cert = (
                f"bond dimensions {dims} over the primes {primes}: the cut is optimal for {k} integer weight vectors "
                f"(scale 2^{bits}) whose cone holds the true log weights, hence at them"
            )
            return mask, counts, cert, calls
    raise TnrnnError("could not certify the min-cut with integer weight cones (please report this case)")


def explicit_mincut(net: Any, left: Any, right: Any = None, *, solver: str = "scipy") -> CutResult:
    """Exact min-cut upper bound on the separation rank of any tensor network.

    Parameters
    ----------
    net
        Any network [`tnrnn.network.indexed.as_network`][tnrnn.network.indexed.as_network] reads: a list of ``tensornetwork`` nodes, a quimb
        ``TensorNetwork``, ``(equation, shapes)``, a RACNetwork. Values are not needed.
    left, right
        The open legs on each side: open index names, edge objects, or tensors (names, tags, node objects) whose
        open legs they are. ``right`` defaults to every other open leg; open legs on neither side are free (the
        bound then holds for every fixed value of them).
    solver : str
        A key of `MAXFLOW_SOLVERS`.

    Returns
    -------
    CutResult
        ``edges`` are [`CutEdge`][tnrnn.bounds.mincut.CutEdge] records (index, dimension, tensors, and the
        ``tensornetwork`` Edge when there is one), for every kind of network; ``sides`` maps
        every tensor position to ``"A"`` or ``"B"``; ``form = "network"``.

    Raises
    ------
    TnrnnError
        Unreadable network, a selector naming no open leg, a leg on both sides, or an empty side.

    Examples
    --------
    >>> cut = explicit_mincut(("ab,bc,cd->ad", [(2, 3), (3, 5), (5, 2)]), ["a"])
    >>> str(cut.value), [(e.index, e.dimension, e.tensors) for e in cut.edges]
    ('2', [('a', 2, ('T0',))])
    """
    inet = as_network(net)
    side = split_open(inet, left, right)
    return _solve_cut(inet, side, solver=solver)


def split_open(net: IndexedNetwork, left: Any, right: Any = None) -> dict:
    """Open index -> 0 (left, A) or 1 (right, B); see [`explicit_mincut`][tnrnn.bounds.cut_explicit.explicit_mincut]."""
    a = net.select_open(left, "left")
    b = tuple(ix for ix in net.open if ix not in set(a)) if right is None else net.select_open(right, "right")
    both = set(a) & set(b)
    if both:
        raise TnrnnError(f"open legs on both sides: {sorted(both)}")
    if not a or not b:
        raise TnrnnError("both sides need at least one open leg")
    return {**{ix: 0 for ix in a}, **{ix: 1 for ix in b}}
