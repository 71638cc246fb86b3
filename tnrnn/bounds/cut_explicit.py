"""Exact min-cut of an explicit tensor network (docs/theory.md, 'Min-cut bound').

Any set of edges whose removal separates the A legs from the B legs bounds the separation rank by the product of
their bond dimensions (Levine, Yakira, Cohen, Shashua, ICLR 2018); the best such bound is a minimum cut with
capacities ``log(dimension)``, solved here exactly with integer max-flow (see :mod:`tnrnn.bounds.mincut` for the
exactness argument when the dimensions are not powers of one integer). Copy tensors with more than three legs
are hyperedges, modelled with Lawler's gadget (two auxiliary nodes joined by one arc of the bond's weight, every
member attached with unbounded capacity).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import networkx as nx
import numpy as np

from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import TnrnnError
from tnrnn.bounds.mincut import CutResult, _common_exponents, _perfect_root
from tnrnn.rac.partition import Partition, make_partition

_INT32_MAX = 2**31 - 1


# ---------------------------------------------------------------------------------------------------------------
# explicit cut graph
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _CutGraph:
    """Arc list of the cut graph. Nodes 0..n-1 are the network's node ids, then terminals and Lawler nodes."""

    labels: list  # graph node label per index (int node id, "A", "B", ("tie", t, "in"/"out"))
    src: np.ndarray  # arc tails
    dst: np.ndarray  # arc heads
    dim: np.ndarray  # bond dimension, 0 = unbounded capacity
    tn_edge: list  # per arc: the tensornetwork Edge it stands for (None for unbounded arcs)
    source: int
    sink: int
    tie_aux: dict  # tie node id -> (in index, out index)

    @property
    def n(self) -> int:
        return len(self.labels)


def _build_cut_graph(net, partition: Partition) -> _CutGraph:
    import tensornetwork as tn

    n_net = len(net.nodes)
    labels: list = list(range(n_net)) + ["A", "B"]
    source, sink = n_net, n_net + 1
    src: list[int] = []
    dst: list[int] = []
    dim: list[int] = []
    tn_edges: list = []

    def undirected(u: int, v: int, d: int, edge) -> None:
        if d <= 1:
            return  # log 1 = 0: never worth recording
        src.extend((u, v))
        dst.extend((v, u))
        dim.extend((d, d))
        tn_edges.extend((edge, edge))

    def unbounded(u: int, v: int) -> None:
        src.append(u)
        dst.append(v)
        dim.append(0)
        tn_edges.append(None)

    hubs: dict[int, tuple[int, int]] = {}  # tie node id -> (in, out)
    for i, (node, tag) in enumerate(zip(net.nodes, net.tags)):
        if tag.role == "tie" and len(node.edges) > 3:
            hubs[i] = (len(labels), len(labels) + 1)
            labels.extend([("tie", tag.time, "in"), ("tie", tag.time, "out")])
    on_a = set(partition.A)  # Partition.side scans a tuple: O(T) per leg

    def side_terminal(t: int) -> int:
        return source if t in on_a else sink

    for i, (a_in, a_out) in hubs.items():
        node = net.nodes[i]
        t = net.tags[i].time
        open_leg = None
        members = []
        for e in node.edges:
            if e.is_dangling():
                open_leg = e
                members.append(side_terminal(t))
            else:
                other = e.node2 if e.node1 is node else e.node1
                members.append(net.node_id(other))
        d = open_leg.dimension if open_leg is not None else node.edges[0].dimension
        if d > 1:
            src.append(a_in)
            dst.append(a_out)
            dim.append(d)
            tn_edges.append(open_leg)
        for m in members:
            unbounded(m, a_in)
            unbounded(a_out, m)

    for e in tn.get_all_nondangling(net.nodes):
        u, v = net.node_id(e.node1), net.node_id(e.node2)
        if u in hubs or v in hubs:
            continue
        undirected(u, v, e.dimension, e)
    for t, legs in enumerate(net.input_edges, start=1):
        for e in legs:
            u = net.node_id(e.node1)
            if u in hubs:
                continue
            undirected(u, side_terminal(t), e.dimension, e)
    # the output leg is attached to neither terminal: the bound holds per output component
    return _CutGraph(
        labels,
        np.asarray(src, dtype=np.int64),
        np.asarray(dst, dtype=np.int64),
        np.asarray(dim, dtype=np.int64),
        tn_edges,
        source,
        sink,
        hubs,
    )


def network_graph(net, partition: Partition | str = "start-end") -> nx.DiGraph:
    """The cut graph of an explicit network as a networkx ``DiGraph``.

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
    cg = _build_cut_graph(net, partition)
    g = nx.DiGraph()
    g.add_nodes_from(label for i, label in enumerate(cg.labels) if i not in cg.tie_aux)  # gadgets replace hubs
    for u, v, d, e in zip(cg.src.tolist(), cg.dst.tolist(), cg.dim.tolist(), cg.tn_edge):
        a, b = cg.labels[u], cg.labels[v]
        if d:
            g.add_edge(a, b, capacity=math.log(d), dim=d, edge=e)
        else:
            g.add_edge(a, b, dim=0, edge=None)
    return g


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
        edges.append(cg.tn_edge[k])
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
        raise TnrnnError(f"exact min-cut supports at most two incommensurable bond dimensions, got {dims}")
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
        From :func:`tnrnn.network.build.build_network` (either form; weights are not needed).
    partition : Partition or str
        Partition of the steps 1..T (see :func:`tnrnn.rac.partition.make_partition`).
    solver : str
        A key of :data:`MAXFLOW_SOLVERS`: ``"scipy"`` (``scipy.sparse.csgraph.maximum_flow``; capacities that would
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
    maxflow = _solver(solver)
    partition = make_partition(net.T, partition)
    cg = _build_cut_graph(net, partition)
    used = set()

    def solve(weights: dict[int, int]) -> tuple[int, np.ndarray]:
        caps = _capacities(cg, weights)
        # scipy needs int32 capacities; larger ones go to networkx (python ints), and the method says so
        used.add("networkx" if maxflow is _maxflow_networkx or int(caps.max(initial=0)) * 2 >= _INT32_MAX else solver)
        return maxflow(cg, caps)

    mask, counts, cert, calls = _exact_min_cut(cg, solve)
    _, edges = _cut_counts(cg, mask)
    sides = {}
    n_net = len(net.nodes)
    for i in range(n_net):
        if i in cg.tie_aux:
            sides[i] = "A" if mask[cg.tie_aux[i][0]] else "B"
        else:
            sides[i] = "A" if mask[i] else "B"
    return CutResult(
        value=ExactCount.product(counts),
        edges=edges,
        method="explicit-" + "+".join(sorted(used)),
        form=net.form,
        sides=sides,
        counts=counts,
        certificate=cert,
        stats={"graph_nodes": cg.n, "graph_arcs": int(len(cg.src)), "maxflow_calls": calls},
    )
