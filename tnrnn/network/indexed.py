"""One description of any tensor network: tensors with index labels, hyper-indices and open indices.

Every network a user brings (a list of ``tensornetwork`` nodes, a quimb ``TensorNetwork``, an einsum equation with
shapes or arrays, or a [`RACNetwork`][tnrnn.network.build.RACNetwork]) is turned into an [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork] by
[`as_network`][tnrnn.network.indexed.as_network]; the min-cut, the GF(p) certificate and the exports ([`tnrnn.network.interop`][tnrnn.network.interop]) all read
that one description.

* An index carried by two tensors is a bond; by one tensor and listed in ``open``, an open leg; by three or more
  tensors (or two and open), a hyper-index: a copy tensor in einsum form (docs/theory.md, 'Min-cut bound').
* A tensor may itself be marked ``copy`` (a ``tensornetwork.CopyNode``, a RAC ``copy``/``tie`` node): its legs
  are merged into one hyper-index when the network is written as an einsum ([`IndexedNetwork.einsum_form`][tnrnn.network.indexed.IndexedNetwork.einsum_form]).
* ``group`` names tensors that hold the same values (weights shared across positions or time): the certificate
  draws one random tensor per group. ``fixed`` tensors (a RAC's all-ones initial state) keep their values.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from networkx.utils import UnionFind

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import (
    MAX_EQUATION_CHARS,
    check_array,
    check_dim,
    check_selector,
    check_shape,
    check_tensor_count,
    shown,
)

_UNNAMED = ("__unnamed_node__", "__unnamed_edge__", "", None)


@dataclass
class IndexedTensor:
    """One tensor of an [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork].

    Attributes
    ----------
    name : str
        Unique within the network.
    inds : tuple of str
        Index label of every leg, in the order of the data's axes.
    data : numpy.ndarray or None
        The values (None: structure only, or a copy tensor).
    tags : frozenset of str
        Labels a user can select the tensor (and its open legs) by.
    copy : bool
        A copy (delta) tensor: 1 where all its indices agree, 0 elsewhere; ``data`` is not used.
    group : str or None
        Tensors of one group hold the same values (same shape): the certificate draws one random tensor for them.
    fixed : bool
        Constant values (not a weight): kept as they are when the certificate draws random weights.
    """

    name: str
    inds: tuple
    data: Any = None
    tags: frozenset = frozenset()
    copy: bool = False
    group: str | None = None
    fixed: bool = False


@dataclass
class IndexedNetwork:
    """A tensor network as tensors over named indices (see the module docstring).

    Attributes
    ----------
    tensors : list of IndexedTensor
    sizes : dict
        Dimension of every index.
    open : tuple of str
        Open indices, in output order.
    origin : dict
        Index -> the object it came from (a ``tensornetwork`` Edge), for reporting cuts in the user's terms.
    aliases : dict
        Extra names a user may select an open index or a tensor by (edge names, node objects' ids).
    meta : dict
        Converter-specific facts (a RAC's step of every input leg, ...).

    Examples
    --------
    >>> net = from_einsum("ab,bc->ac", [(2, 3), (3, 4)])
    >>> net.open, net.sizes["b"], [t.name for t in net.tensors]
    (('a', 'c'), 3, ['T0', 'T1'])
    """

    tensors: list
    sizes: dict
    open: tuple
    origin: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The one gate every converter passes: dimensions and values checked before anything uses them. (The
        # tensor count is checked by the converters of user input, from lengths, before they walk anything: a
        # RAC network built here may be larger, up to tnrnn.network.build.DEFAULT_MAX_NODES.)
        for ix, d in self.sizes.items():
            self.sizes[ix] = check_dim(d, f"index {shown(ix)}")
        names = [t.name for t in self.tensors]
        if len(set(names)) != len(names):
            raise TnrnnError("tensor names must be unique")
        for t in self.tensors:
            for ix in t.inds:
                if ix not in self.sizes:
                    raise TnrnnError(f"index {ix!r} of tensor {t.name!r} has no size")
            if t.data is not None and not t.copy:
                check_array(t.data, f"tensor {shown(t.name)}")  # validated; the caller's array type is kept
                shape = tuple(np.shape(t.data))
                want = tuple(self.sizes[ix] for ix in t.inds)
                if shape != want:
                    raise TnrnnError(f"tensor {t.name!r} has shape {shape}, its indices say {want}")
            if t.copy and len({self.sizes[ix] for ix in t.inds}) > 1:
                raise TnrnnError(f"copy tensor {t.name!r} has legs of different dimensions")
        if len(set(self.open)) != len(self.open):
            raise TnrnnError("an open index is listed twice")
        for ix in self.open:
            if ix not in self.sizes:
                raise TnrnnError(f"open index {ix!r} has no size")

    def members(self) -> dict:
        """Index -> positions of the tensors carrying it (each once, in tensor order)."""
        out: dict = {ix: [] for ix in self.sizes}
        for i, t in enumerate(self.tensors):
            for ix in dict.fromkeys(t.inds):
                out[ix].append(i)
        return out

    def shape(self, i: int) -> tuple:
        """Shape of tensor ``i``."""
        return tuple(self.sizes[ix] for ix in self.tensors[i].inds)

    def einsum_form(self) -> tuple[list, list, tuple]:
        """The network as an einsum: copy tensors merged into hyper-indices (networkx's union-find).

        Returns
        -------
        (positions, inputs, output)
            ``positions[k]`` is the tensor behind operand k, ``inputs[k]`` its index labels, ``output`` the open
            indices. A copy tensor with two or more open legs stays a dense operand (an einsum output cannot
            repeat an index).
        """
        open_set = set(self.open)
        uf = UnionFind(self.sizes)
        merged = [i for i, t in enumerate(self.tensors)
                  if t.copy and t.inds and sum(ix in open_set for ix in set(t.inds)) < 2]
        for i in merged:
            uf.union(*self.tensors[i].inds)
        # merging two copy tensors' open legs would repeat an output index: keep the second one dense
        root_open: dict = {}
        for ix in self.open:
            r = uf[ix]
            if r in root_open:
                raise TnrnnError(f"open indices {root_open[r]!r} and {ix!r} are joined by copy tensors: "
                                 "their einsum output would repeat one index")
            root_open[r] = ix
        skip = set(merged)

        def label(ix: str) -> str:
            return root_open.get(uf[ix], uf[ix])

        positions = [i for i in range(len(self.tensors)) if i not in skip]
        inputs = [tuple(label(ix) for ix in self.tensors[i].inds) for i in positions]
        output = tuple(label(ix) for ix in self.open)
        return positions, inputs, output

    def select_open(self, selectors: Iterable, what: str = "left") -> tuple:
        """Open indices named by ``selectors``: open index names or aliases, edge objects, or tensor names, tags,
        aliases or node objects (all open legs of those tensors).

        Raises
        ------
        TnrnnError
            A selector that names nothing open.
        """
        open_set = set(self.open)
        chosen: list = []
        for sel in self._selector_list(selectors, what):
            found = self._open_of(sel, open_set)
            if not found:
                raise TnrnnError(f"{what}: {shown(sel)} names no open leg (open legs: {_short(self.open)})")
            chosen.extend(found)
        return tuple(dict.fromkeys(chosen))

    def _selector_list(self, selectors: Any, what: str) -> list:
        """``selectors`` as a list of hashable selectors, read lazily up to one selector per leg and tensor."""
        if isinstance(selectors, (str, bytes)) or not isinstance(selectors, Iterable):
            selectors = [selectors]
        limit = len(self.open) + len(self.tensors) + len(self.aliases)
        out = list(itertools.islice(iter(selectors), limit + 1))
        if len(out) > limit:
            raise TnrnnError(f"{what}: more selectors than the network has legs, tensors and names ({limit:,})")
        return [check_selector(sel, what) for sel in out]

    def _labels(self) -> dict:
        """Tensor name or tag -> positions (built once: selecting by label is then a lookup, not a scan)."""
        owner, cached = self.meta.get("_labels", (None, None))
        if owner is not self.tensors or cached is None:  # meta is shared by copies made with replace()
            cached = {}
            for i, t in enumerate(self.tensors):
                for label in {t.name, *t.tags}:
                    cached.setdefault(label, []).append(i)
            self.meta["_labels"] = (self.tensors, cached)
        return cached

    def _open_of(self, sel: Any, open_set: set) -> list:
        key = self.aliases.get(id(sel), sel) if not isinstance(sel, (str, int)) else self.aliases.get(sel, sel)
        if isinstance(key, str) and key in open_set:
            return [key]
        return [ix for i in self.select_tensors([key], strict=False) for ix in self.tensors[i].inds if ix in open_set]

    def select_tensors(self, selectors: Iterable, *, strict: bool = True) -> list:
        """Positions of the tensors named by ``selectors`` (position, name, tag, alias or node object)."""
        out: list = []
        for sel in self._selector_list(selectors, "tensors"):
            key = self.aliases.get(id(sel), sel) if not isinstance(sel, (str, int)) else self.aliases.get(sel, sel)
            if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < len(self.tensors):
                hits = [int(key)]
            else:
                hits = list(self._labels().get(key, ())) if isinstance(key, str) else \
                    [i for i, t in enumerate(self.tensors) if key == t.name or key in t.tags]
            if strict and not hits:
                raise TnrnnError(f"{shown(sel)} names no tensor of the network")
            out.extend(hits)
        return list(dict.fromkeys(out))


def _short(items: Iterable, k: int = 8) -> str:
    items = list(items)
    text = ", ".join(map(str, items[:k]))
    return text + (f", ... ({len(items)} in all)" if len(items) > k else "")


# ---------------------------------------------------------------------------------------------------------------
# converters
# ---------------------------------------------------------------------------------------------------------------


def from_nodes(nodes: Iterable, *, max_tensors: int | None = None) -> IndexedNetwork:
    """An [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork] from ``tensornetwork`` nodes (dangling edges are the open legs).

    Index ``e<k>`` is the k-th edge met (node order, leg order); named edges and nodes may be selected by name,
    and every node and edge object by itself. ``tensornetwork.CopyNode`` objects are copy tensors.

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> a, b = tn.Node(np.ones((2, 3)), name="a"), tn.Node(np.ones((3, 2)), name="b")
    >>> _ = a[1] ^ b[0]
    >>> net = from_nodes([a, b])
    >>> net.open, [t.inds for t in net.tensors]
    (('e0', 'e2'), [('e0', 'e1'), ('e1', 'e2')])
    """
    import tensornetwork as tn

    from tnrnn.base.validate import MAX_TENSORS

    # A user's list is read at most one node past the limit; tnrnn's own RAC networks (from_rac) pass their own.
    limit = MAX_TENSORS if max_tensors is None else max_tensors
    nodes = list(itertools.islice(iter(nodes), limit + 1)) if isinstance(nodes, Iterable) else []
    check_tensor_count(len(nodes), "the list of nodes", limit=limit)
    if not nodes or not all(isinstance(n, tn.AbstractNode) for n in nodes):
        raise TnrnnError("expected a non-empty list of tensornetwork nodes")
    members = {id(n) for n in nodes}
    index: dict = {}
    sizes: dict = {}
    origin: dict = {}
    aliases: dict = {}
    opened: list = []
    tensors: list = []
    used: set = set()
    for k, node in enumerate(nodes):
        inds = []
        for e in node.edges:
            if id(e) not in index:
                for other in (e.node1, e.node2):
                    if other is not None and id(other) not in members:
                        raise TnrnnError(f"node {node.name!r} is connected to a node that is not in the list")
                ix = f"e{len(index)}"
                index[id(e)] = ix
                sizes[ix] = int(e.dimension)
                origin[ix] = e
                aliases[id(e)] = ix
                if e.name not in _UNNAMED and e.name not in aliases:
                    aliases[e.name] = ix
                if e.is_dangling():
                    opened.append(ix)
            inds.append(index[id(e)])
        name = node.name if node.name not in _UNNAMED else f"n{k}"
        if name in used:
            name = f"{name}#{k}"
        used.add(name)
        aliases[id(node)] = name
        copy = isinstance(node, tn.CopyNode)
        data = None if copy else np.asarray(node.tensor)
        tags = frozenset([node.name]) if node.name not in _UNNAMED else frozenset()
        tensors.append(IndexedTensor(name, tuple(inds), data, tags, copy))
    return IndexedNetwork(tensors, sizes, tuple(opened), origin, aliases)


def from_rac(net) -> IndexedNetwork:
    """An [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork] from a [`RACNetwork`][tnrnn.network.build.RACNetwork].

    Tensors are named ``<role>_t<time>_l<layer>_c<copy>`` and tagged with their role, ``t<time>``, ``l<layer>``
    and ``<role>[<layer>]``, and ``x<t>`` when they own an input leg of step t (``left=["x1", "x2"]``); weights shared over time form one group per role and layer; ``copy``/``tie`` nodes
    are copy tensors and the all-ones initial vectors are fixed. ``meta["step"]`` maps every open input index to
    its step, and the output leg is ``y``.
    """
    from tnrnn.network.build import DEFAULT_MAX_NODES

    base = from_nodes(net.nodes, max_tensors=max(DEFAULT_MAX_NODES, len(net.nodes)))  # built (and sized) by tnrnn
    step: dict = {}
    for t, legs in enumerate(net.input_edges, start=1):
        for e in legs:
            step[base.aliases[id(e)]] = t
    out_ix = base.aliases.get(id(net.output_edge))
    rename = {} if out_ix is None else {out_ix: "y"}
    for t in range(1, net.T + 1):
        legs = [ix for ix, s in step.items() if s == t]
        for c, ix in enumerate(legs):
            rename[ix] = f"x{t}" if len(legs) == 1 else f"x{t}_{c}"
    copy_ids = {i for i, tag in enumerate(net.tags) if tag.role in ("copy", "tie")}
    tensors = []
    for i, (t, tag) in enumerate(zip(base.tensors, net.tags)):
        inds = tuple(rename.get(ix, ix) for ix in t.inds)
        fixed = False
        group: str | None = f"{tag.role}[{tag.layer}]"
        if tag.role in ("copy", "tie"):
            group = None
        elif tag.role == "init":
            neighbours = {net.node_id(o) for e in net.nodes[i].edges for o in (e.node1, e.node2) if o is not None}
            fixed = bool(neighbours & copy_ids)  # the all-ones convention W_H h[0] = 1, not a weight
            group = None if fixed else f"h0[{tag.layer}]"
        tags = {tag.role, f"t{tag.time}", f"l{tag.layer}", f"{tag.role}[{tag.layer}]"}
        if any(step.get(ix) for ix in t.inds):
            tags.add(f"x{tag.time}")  # owns an input leg of its step: select a step's legs by "x<t>"
        name = f"{tag.role}_t{tag.time}_l{tag.layer}_c{tag.copy}"
        data = None if (t.copy or tag.role in ("copy", "tie")) else t.data
        tensors.append(IndexedTensor(name, inds, data, frozenset(tags), tag.role in ("copy", "tie"), group, fixed))
    sizes = {rename.get(ix, ix): d for ix, d in base.sizes.items()}
    origin = {rename.get(ix, ix): e for ix, e in base.origin.items()}
    aliases = {k: (rename.get(v, v) if isinstance(v, str) else v) for k, v in base.aliases.items()}
    for i, node in enumerate(net.nodes):
        aliases[id(node)] = tensors[i].name
    # open legs in step order (copies in build order), the output leg last
    position = {ix: k for k, ix in enumerate(base.open)}
    ordered = sorted(base.open, key=lambda ix: (step.get(ix, net.T + 1), position[ix]))
    opened = tuple(rename.get(ix, ix) for ix in ordered)
    meta = {"step": {rename[ix]: s for ix, s in step.items()}, "rac": net}
    return IndexedNetwork(tensors, sizes, opened, origin, aliases, meta)


def from_einsum(equation: str, operands: Iterable, names: Iterable[str] | None = None) -> IndexedNetwork:
    """An [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork] from an einsum equation and the operands' shapes or arrays.

    An index in three or more operands (or in two and the output) is a hyper-index. Operands are named
    ``T0, T1, ...`` unless ``names`` are given.

    Raises
    ------
    TnrnnError
        A malformed equation, a size mismatch, an output index no operand carries.

    Examples
    --------
    >>> net = from_einsum("ia,ib,ic->abc", [(2, 3)] * 3)   # a 3-leg copy tensor (hyper-index i) and 3 matrices
    >>> net.members()["i"]
    [0, 1, 2]
    """
    if not isinstance(equation, str) or len(equation) > MAX_EQUATION_CHARS:
        raise TnrnnError(f"expected an einsum equation such as 'ab,bc->ac' of at most {MAX_EQUATION_CHARS:,} "
                         f"characters, got {type(equation).__name__}"
                         + (f" of {len(equation):,}" if isinstance(equation, str) else ""))
    if equation.count("->") != 1 or "..." in equation:
        raise TnrnnError(f"expected an explicit einsum equation 'ab,bc->ac' (one '->', no '...'), got {shown(equation)}")
    lhs, out = "".join(equation.split()).split("->")
    check_tensor_count(lhs.count(",") + 1, "the equation")
    terms = lhs.split(",")
    for term in [*terms, out]:
        bad = set(term) & set("-<>,.")
        if bad:
            raise TnrnnError(f"einsum term {shown(term)} holds {shown(''.join(sorted(bad)))}: indices are letters")
    if isinstance(operands, (str, bytes)) or not isinstance(operands, Iterable):
        raise TnrnnError(f"einsum operands must be a list of shapes or arrays, got {type(operands).__name__}")
    ops = list(itertools.islice(iter(operands), len(terms) + 1))
    if len(ops) != len(terms):
        raise TnrnnError(f"the equation has {len(terms)} operands, {'more' if len(ops) > len(terms) else len(ops)} "
                         "shapes or arrays were given")
    if names is None:
        names = [f"T{k}" for k in range(len(ops))]
    else:
        names = [str(n) for n in itertools.islice(iter(names), len(ops) + 1)]
        if len(names) != len(ops):
            raise TnrnnError(f"give one name per operand ({len(ops)})")
    sizes: dict = {}
    tensors = []
    for k, (term, op) in enumerate(zip(terms, ops)):
        # A flat tuple or list of integers is a shape (values checked: no bools, negatives or 2^63).
        is_shape = isinstance(op, (tuple, list)) and all(isinstance(d, (int, np.integer, np.bool_)) for d in op)
        data = None if is_shape else check_array(op, f"operand {k}")
        shape = check_shape(list(op), f"operand {k}") if data is None else data.shape
        if len(shape) != len(term):
            raise TnrnnError(f"operand {k} has {len(shape)} axes, its term {shown(term)} has {len(term)}")
        for ix, d in zip(term, shape):
            if sizes.setdefault(ix, int(d)) != int(d):
                raise TnrnnError(f"index {shown(ix)} has sizes {sizes[ix]} and {d}")
        tensors.append(IndexedTensor(names[k], tuple(term), data, frozenset([names[k]])))
    for ix in out:
        if ix not in sizes:
            raise TnrnnError(f"output index {ix!r} is carried by no operand")
    return IndexedNetwork(tensors, sizes, tuple(out))


def _is_quimb(obj: Any) -> bool:
    return type(obj).__module__.startswith("quimb") and hasattr(obj, "tensors")


def _is_einsum(obj: Any) -> bool:
    if isinstance(obj, dict):
        return "equation" in obj
    return isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], str)


def _from_einsum_obj(obj: Any) -> IndexedNetwork:
    if isinstance(obj, dict):
        return from_einsum(obj["equation"], obj.get("shapes", obj.get("arrays")) or (), obj.get("names"))
    return from_einsum(obj[0], obj[1])


def _from_quimb(obj: Any) -> IndexedNetwork:
    from tnrnn.network.interop import from_quimb

    return from_quimb(obj)


def _is_rac(obj: Any) -> bool:
    from tnrnn.network.build import RACNetwork

    return isinstance(obj, RACNetwork)


def _is_nodes(obj: Any) -> bool:
    import tensornetwork as tn

    return isinstance(obj, (list, tuple, set)) and bool(obj) and all(isinstance(n, tn.AbstractNode) for n in obj)


#: What ``as_network`` accepts: (test, converter), tried in order.
CONVERTERS: list[tuple[Callable[[Any], bool], Callable[[Any], IndexedNetwork]]] = [
    (lambda obj: isinstance(obj, IndexedNetwork), lambda obj: obj),
    (_is_rac, from_rac),
    (_is_einsum, _from_einsum_obj),
    (_is_quimb, _from_quimb),
    (_is_nodes, lambda obj: from_nodes(list(obj))),
    # any model that knows its own description (tnrnn.models.convac.ConvACNetwork, ...)
    (lambda obj: callable(getattr(obj, "to_indexed", None)), lambda obj: obj.to_indexed()),
]


def _check_size_first(obj: Any) -> None:
    """Refuse a network of too many tensors from its length alone, before any converter walks it."""
    if isinstance(obj, IndexedNetwork):
        check_tensor_count(len(obj.tensors))
    elif isinstance(obj, (list, tuple, set)) and not _is_einsum(obj):
        check_tensor_count(len(obj))
    elif _is_quimb(obj):
        check_tensor_count(int(getattr(obj, "num_tensors", 0)), "the quimb network")


def as_network(obj: Any) -> IndexedNetwork:
    """Any supported network as an [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork].

    Parameters
    ----------
    obj
        An [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork]; a [`RACNetwork`][tnrnn.network.build.RACNetwork]; ``(equation, shapes or arrays)``
        or ``{"equation": ..., "shapes": ...}``; a quimb ``TensorNetwork``; a list of ``tensornetwork`` nodes; or
        any object with a ``to_indexed()`` method (a ConvAC network).

    Raises
    ------
    TnrnnError
        Anything else.

    Examples
    --------
    >>> as_network(("ab,bc->ac", [(2, 3), (3, 2)])).open
    ('a', 'c')
    """
    _check_size_first(obj)
    for test, convert in CONVERTERS:
        if test(obj):
            return convert(obj)
    raise TnrnnError(
        f"cannot read a tensor network from {type(obj).__name__}: give a list of tensornetwork nodes, a quimb "
        "TensorNetwork, (equation, shapes or arrays), or a RACNetwork"
    )
