"""Exports and imports: quimb, einsum (opt_einsum / cotengra) and networkx views of any tensor network.

Each function accepts whatever [`tnrnn.network.indexed.as_network`][tnrnn.network.indexed.as_network] reads: a list of ``tensornetwork`` nodes,
a quimb ``TensorNetwork``, ``(equation, shapes or arrays)``, a [`RACNetwork`][tnrnn.network.build.RACNetwork] or an
[`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork]. Copy tensors become hyper-indices for einsum (opt_einsum
contracts those natively); the quimb export writes them as explicit copy tensors by default, so that quimb's
outer indices are the open legs. quimb is an optional dependency (``pip install tnrnn[interop]``), imported only here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import networkx as nx
import numpy as np
from opt_einsum import get_symbol

from tnrnn.base.errors import TnrnnError
from tnrnn.network.indexed import IndexedNetwork, IndexedTensor, as_network


class EinsumExpr(NamedTuple):
    """An einsum equation and its operands: ``opt_einsum.contract(expr.eq, *expr.arrays)``.

    Attributes
    ----------
    eq : str
        The equation, one symbol per index (``opt_einsum.get_symbol``), hyper-indices allowed.
    arrays : list of numpy.ndarray
        One array per operand.
    """

    eq: str
    arrays: list

    @property
    def shapes(self) -> list:
        """Shape of every operand (what cotengra's path finders take)."""
        return [tuple(np.shape(a)) for a in self.arrays]


def _dense(net: IndexedNetwork, i: int) -> np.ndarray:
    """The values of tensor ``i`` (a copy tensor is built as a dense delta)."""
    t = net.tensors[i]
    if t.copy:
        d = net.sizes[t.inds[0]] if t.inds else 1
        out = np.zeros((d,) * len(t.inds))
        out[(np.arange(d),) * len(t.inds)] = 1
        return out
    if t.data is None:
        raise TnrnnError(f"tensor {t.name!r} holds no values (a structure-only network): give arrays")
    return np.asarray(t.data)


def to_einsum(net: Any) -> EinsumExpr:
    """A network as one einsum expression, usable with ``opt_einsum.contract`` and cotengra.

    Parameters
    ----------
    net
        Any network [`tnrnn.network.indexed.as_network`][tnrnn.network.indexed.as_network] reads (its tensors must hold values).

    Returns
    -------
    EinsumExpr
        ``(eq, arrays)``; the output lists the open legs in the network's order.

    Raises
    ------
    TnrnnError
        A tensor without values.

    Examples
    --------
    >>> import numpy as np, opt_einsum as oe, tensornetwork as tn
    >>> a, b = tn.Node(np.arange(6.0).reshape(2, 3)), tn.Node(np.ones((3, 2)))
    >>> _ = a[1] ^ b[0]
    >>> eq, arrays = to_einsum([a, b])
    >>> eq, oe.contract(eq, *arrays).tolist()
    ('ab,bc->ac', [[3.0, 3.0], [12.0, 12.0]])
    """
    net = as_network(net)
    positions, inputs, output = net.einsum_form()
    sym: dict = {}

    def s(ix: str) -> str:
        if ix not in sym:
            sym[ix] = get_symbol(len(sym))
        return sym[ix]

    terms = ["".join(s(ix) for ix in ixs) for ixs in inputs]
    eq = ",".join(terms) + "->" + "".join(s(ix) for ix in output)
    return EinsumExpr(eq, [_dense(net, i) for i in positions])


#: quimb tag of the copy tensors that ``to_quimb`` writes in place of hyper-indices (read back by
#: ``from_quimb`` as copy tensors).
COPY_TAG = "tnrnn:copy"


def to_quimb(net: Any, *, hyper: bool = False):
    """A network as a quimb ``TensorNetwork`` whose outer indices are exactly the network's open legs.

    Parameters
    ----------
    net
        Any network [`tnrnn.network.indexed.as_network`][tnrnn.network.indexed.as_network] reads (its tensors must hold values).
    hyper : bool, default False
        By default every index that three or more tensors carry, or two and the output (a RAC grid form's tied
        input), becomes a chain of 3-leg copy tensors tagged `COPY_TAG`: every index then appears at most
        twice, so quimb's ``outer_inds()`` are the open legs and its plain ``contract()`` works.
        ``hyper=True`` keeps such indices as quimb hyper-indices (fewer tensors; contract them with
        ``output_inds=as_network(net).open``, as quimb counts an index carried by two tensors as inner).

    Returns
    -------
    quimb.tensor.TensorNetwork
        Index names as in [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork] (an index split into a copy chain
        keeps its name on the open leg, or on one of its carriers); tags and names kept as tags.

    Raises
    ------
    TnrnnError
        quimb is not installed, or a tensor holds no values.

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> a, b = tn.Node(np.eye(2), name="a"), tn.Node(np.eye(2), name="b")
    >>> _ = a[1] ^ b[0]
    >>> qtn = to_quimb([a, b])
    >>> sorted(qtn.outer_inds()), sorted(qtn.tags)
    (['e0', 'e2'], ['a', 'b'])
    >>> cp = to_quimb(("za,zb,zc->abc", [np.ones((2, 3))] * 3))   # the hyper-index z becomes a copy tensor
    >>> sorted(cp.outer_inds()), cp.contract().shape
    (['a', 'b', 'c'], (3, 3, 3))
    """
    qtn = _quimb()
    net = as_network(net)
    positions, inputs, output = net.einsum_form()
    arrays = [_dense(net, i) for i in positions]
    inputs = [list(ix) for ix in inputs]
    extra = []
    if not hyper:
        open_set = set(output)
        carriers: dict = {}
        for k, inds in enumerate(inputs):
            for j, ix in enumerate(inds):
                carriers.setdefault(ix, []).append((k, j))
        dtype = np.result_type(*arrays) if arrays else np.float64
        for ix, where in carriers.items():
            legs = len(where) + (ix in open_set)
            if legs <= 2:
                continue
            # each carrier gets its own leg name; the copy chain joins them (and the open leg, which keeps ix)
            names = [f"{ix}~{n}" for n in range(len(where))]
            for (k, j), name in zip(where, names):
                inputs[k][j] = name
            if ix in open_set:
                names.append(ix)
            extra += _copy_chain(qtn, ix, names, _size(net, ix), dtype)
    tensors = []
    for i, inds, data in zip(positions, inputs, arrays):
        t = net.tensors[i]
        tensors.append(qtn.Tensor(data, inds=tuple(inds), tags=set(t.tags) | {t.name}))
    return qtn.TensorNetwork(tensors + extra, virtual=True)


def _size(net: IndexedNetwork, ix: str) -> int:
    return int(net.sizes[ix])


def _copy_chain(qtn: Any, ix: str, legs: list, d: int, dtype: Any) -> list:
    """3-leg copy tensors joining ``legs`` (a chain, so no tensor has more than d^3 entries)."""
    tags = {COPY_TAG, f"copy:{ix}"}
    if len(legs) <= 3:
        return [qtn.COPY_tensor(d, tuple(legs), tags=tags, dtype=dtype)]
    out = []
    prev = legs[0]
    for n, leg in enumerate(legs[1:-2]):
        bond = f"{ix}~c{n}"
        out.append(qtn.COPY_tensor(d, (prev, leg, bond), tags=tags, dtype=dtype))
        prev = bond
    out.append(qtn.COPY_tensor(d, (prev, legs[-2], legs[-1]), tags=tags, dtype=dtype))
    return out


def from_quimb(tn: Any, open: tuple | None = None) -> IndexedNetwork:
    """An [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork] from a quimb ``TensorNetwork``.

    Tensors keep quimb's tags (and are named by their first sorted tag, or ``T<k>``); the open legs are quimb's
    ``outer_inds()`` unless ``open`` lists them (needed for an open hyper-index); indices carried by three or
    more tensors are hyper-indices. Tensors tagged `COPY_TAG` (the copy chains of [`to_quimb`][tnrnn.network.interop.to_quimb]) are
    read as copy tensors, so ``from_quimb(to_quimb(net))`` has the open legs, the einsum form and the values of
    ``net``.

    Raises
    ------
    TnrnnError
        Not a quimb tensor network.

    Examples
    --------
    >>> import numpy as np, quimb.tensor as qtn
    >>> tn = qtn.Tensor(np.ones((2, 3)), ("a", "b"), {"A"}) & qtn.Tensor(np.ones((3, 4)), ("b", "c"), {"B"})
    >>> net = from_quimb(tn)
    >>> net.open, [t.name for t in net.tensors]
    (('a', 'c'), ['A', 'B'])
    """
    if not (type(tn).__module__.startswith("quimb") and hasattr(tn, "tensors")):
        raise TnrnnError(f"expected a quimb TensorNetwork, got {type(tn).__name__}")
    from tnrnn.base.validate import check_tensor_count

    check_tensor_count(int(getattr(tn, "num_tensors", 0)), "the quimb network")  # before walking its tensors
    tensors = []
    sizes: dict = {}
    used: set = set()
    for k, t in enumerate(tn.tensors):
        tags = frozenset(str(g) for g in t.tags)
        name = min(tags) if tags else f"T{k}"
        if name in used:
            name = f"{name}#{k}"
        used.add(name)
        for ix, d in zip(t.inds, t.shape):
            sizes[str(ix)] = int(d)
        copy = COPY_TAG in tags
        tensors.append(IndexedTensor(name, tuple(str(ix) for ix in t.inds), None if copy else np.asarray(t.data),
                                     tags, copy=copy))
    output = tuple(str(ix) for ix in (tn.outer_inds() if open is None else open))
    return IndexedNetwork(tensors, sizes, output)


def to_networkx(net: Any) -> nx.MultiGraph:
    """The plain graph of a network: one node per tensor (tags as attributes), one edge per bond.

    Parameters
    ----------
    net
        Any network [`tnrnn.network.indexed.as_network`][tnrnn.network.indexed.as_network] reads (values are not needed).

    Returns
    -------
    networkx.MultiGraph
        Tensor nodes are keyed by name with attributes ``kind="tensor"``, ``tags``, ``shape``, ``copy``,
        ``group``; an index carried by three or more tensors (or by two and open) gets its own node
        ``("hyper", index)`` (``kind="hyper"``), an open leg a node ``("open", index)`` (``kind="open"``).
        Edges carry ``index`` and ``dim``.

    Examples
    --------
    >>> g = to_networkx(("ab,bc,cd->ad", [(2, 3), (3, 3), (3, 2)]))
    >>> [n for n, kind in g.nodes(data="kind") if kind == "tensor"], g.number_of_edges()
    (['T0', 'T1', 'T2'], 4)
    """
    net = as_network(net)
    g = nx.MultiGraph()
    for i, t in enumerate(net.tensors):
        g.add_node(t.name, kind="tensor", tags=sorted(t.tags), shape=net.shape(i), copy=t.copy, group=t.group)
    open_set = set(net.open)
    for ix, mem in net.members().items():
        ends = [net.tensors[i].name for i in mem]
        if ix in open_set:
            g.add_node(("open", ix), kind="open")
            ends.append(("open", ix))
        if len(ends) == 2:
            g.add_edge(ends[0], ends[1], index=ix, dim=net.sizes[ix])
        elif len(ends) > 2:
            g.add_node(("hyper", ix), kind="hyper", dim=net.sizes[ix])
            for e in ends:
                g.add_edge(("hyper", ix), e, index=ix, dim=net.sizes[ix])
    return g


def to_nodes(net: Any) -> list:
    """A network as plain ``tensornetwork`` nodes (hyper-indices become ``CopyNode`` objects), e.g. for drawing
    a quimb or einsum network with ``tnrnn.draw``.

    Parameters
    ----------
    net
        Any network [`tnrnn.network.indexed.as_network`][tnrnn.network.indexed.as_network] reads; tensors without values get zeros.

    Returns
    -------
    list
        The nodes: the network's tensors (named as in the network) in order, then one copy node per hyper-index
        (named ``hyper:<index>``) and an all-ones vector per index summed inside one tensor (``sum:<index>``).
        Open legs are the dangling edges, named by their index.

    Examples
    --------
    >>> nodes = to_nodes(("za,zb,zc->abc", [(2, 3)] * 3))
    >>> [n.name for n in nodes], sorted(e.name for n in nodes for e in n.edges if e.is_dangling())
    (['T0', 'T1', 'T2', 'hyper:z'], ['a', 'b', 'c'])
    """
    import tensornetwork as tn

    net = as_network(net)
    nodes = []
    for i, t in enumerate(net.tensors):
        if t.copy:
            nodes.append(tn.CopyNode(len(t.inds), net.sizes[t.inds[0]], name=t.name))
        else:
            data = np.zeros(net.shape(i)) if t.data is None else np.asarray(t.data)
            nodes.append(tn.Node(data, name=t.name))
    open_set = set(net.open)
    for ix, mem in net.members().items():
        legs = [nodes[i][k] for i in mem for k, j in enumerate(net.tensors[i].inds) if j == ix]
        if len(legs) + (ix in open_set) > 2:  # a hyper-index: one copy node joins every carrier (and the open leg)
            hub = tn.CopyNode(len(legs) + (ix in open_set), net.sizes[ix], name=f"hyper:{ix}")
            nodes.append(hub)
            for k, leg in enumerate(legs):
                leg ^ hub[k]
            legs = [hub[len(legs)]] if ix in open_set else []
        if len(legs) == 1 and ix not in open_set:  # summed inside one tensor: an all-ones vector does the sum
            ones = tn.Node(np.ones(net.sizes[ix]), name=f"sum:{ix}")
            nodes.append(ones)
            legs.append(ones[0])
        if len(legs) == 2:
            legs[0] ^ legs[1]
        elif len(legs) == 1:
            legs[0].set_name(ix)
    return nodes


def _quimb():
    try:
        import quimb.tensor as qtn
    except ImportError as exc:  # optional extra
        raise TnrnnError("quimb is not installed: pip install 'tnrnn[interop]'") from exc
    return qtn
