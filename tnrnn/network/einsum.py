"""A RAC tensor network as one einsum expression, copy tensors turned into shared hyper-indices.

Every copy tensor (roles ``copy`` and ``tie``) of [`tnrnn.network.build.build_network`][tnrnn.network.build.build_network] becomes one shared
index symbol carried by all its neighbours, and the copy tensor itself disappears; on a RAC this needs about an
order of magnitude fewer flops than contracting dense deltas (``benchmarks/bench_contract.py`` measures it).
[`network_to_einsum`][tnrnn.network.einsum.network_to_einsum] is the public entry point; other tools (path finders, ``quimb``/``cotengra``
interoperability) consume its [`EinsumSpec`][tnrnn.network.einsum.EinsumSpec].
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import opt_einsum as oe
import tensornetwork as tn
from scipy.cluster.hierarchy import DisjointSet

from tnrnn.base.errors import TnrnnError
from tnrnn.network.build import RACNetwork
from tnrnn.rac.params import RACParams

MODES = ("forward", "tensor")
_COPY_ROLES = ("copy", "tie")


class OperandRef(NamedTuple):
    """What an einsum operand holds.

    ``kind`` is ``"W_I"``, ``"W_H"`` (``index`` = layer 0..L-1), ``"W_O"``, ``"h0"`` (layer), ``"x"`` (``index`` =
    time step 0..T-1: the input features of that step), ``"delta"`` (a dense copy tensor, ``shape`` given) or
    ``"ones"`` (an all-ones initial vector, kept only with dense deltas).
    """

    kind: str
    index: int = 0  # type: ignore[assignment]  # shadows tuple.index; the name is public API
    shape: tuple = ()


@dataclass(frozen=True)
class EinsumSpec:
    """A RAC network as one einsum expression.

    Attributes
    ----------
    inputs : tuple of tuple of str
        Index symbols of each operand.
    output : tuple of str
        Output index symbols: ``(batch, K)`` for evaluation, or the open input legs then ``K`` for a tensor.
    sizes : dict
        Dimension of every symbol (the batch symbol has size 1: the batch is a broadcast dimension).
    operands : tuple of OperandRef
        What each operand is.
    batch_symbol : str or None
        The shared batch index (evaluation mode only).
    order : tuple of float
        A time-order sort key per operand (step by step, layer by layer, ``W_O`` last), used by the
        sequential path.
    """

    inputs: tuple
    output: tuple
    sizes: dict
    operands: tuple
    batch_symbol: Hashable | None = None
    order: tuple = ()

    @property
    def eq(self) -> str:
        """The einsum equation, e.g. ``'ab,bc->ac'``."""
        return ",".join("".join(ix) for ix in self.inputs) + "->" + "".join(self.output)

    def shapes(self, batch: int = 1) -> list[tuple]:
        """Shape of every operand, the batch index (if any) of size ``batch``."""
        sizes = self.sized(batch)
        return [tuple(sizes[s] for s in ix) for ix in self.inputs]

    def sized(self, batch: int) -> dict:
        """`sizes` with the batch symbol set to ``batch``."""
        sizes = dict(self.sizes)
        if self.batch_symbol is not None:
            sizes[self.batch_symbol] = int(batch)
        return sizes


def _hyper_classes(net: RACNetwork, edges: list, hyper: bool) -> DisjointSet:
    """Edges joined through a copy tensor share one index: the classes of that relation."""
    classes = DisjointSet(range(len(edges)))
    if hyper:
        eid = {id(e): i for i, e in enumerate(edges)}
        for node, tag in zip(net.nodes, net.tags):
            if tag.role in _COPY_ROLES:
                first = eid[id(node.edges[0])]
                for e in node.edges[1:]:
                    classes.merge(first, eid[id(e)])
    return classes


def _init_behind_copy(net: RACNetwork, node) -> bool:
    """An ``init`` node joined straight to a copy tensor is the all-ones convention ``W_H h[0] = 1``."""
    return any(
        (e.node1 is not node and net.tag(e.node1).role == "copy")
        or (e.node2 is not None and e.node2 is not node and net.tag(e.node2).role == "copy")
        for e in node.edges
    )


def _operand_ref(net: RACNetwork, node, tag, hyper: bool) -> OperandRef | None:
    """The operand a node becomes, or None when it vanishes into a hyper-index."""
    if tag.role in _COPY_ROLES:
        return None if hyper else OperandRef("delta", 0, tuple(e.dimension for e in node.edges))
    if tag.role == "init":
        if _init_behind_copy(net, node):
            return None if hyper else OperandRef("ones", tag.layer - 1, (node.edges[0].dimension,))
        return OperandRef("h0", tag.layer - 1)
    if tag.role in ("W_I", "W_H"):
        return OperandRef(tag.role, tag.layer - 1)
    if tag.role == "W_O":
        return OperandRef("W_O")
    raise TnrnnError(f"unknown node role {tag.role!r}")  # pragma: no cover - build.py defines no other role


def _sweep_key(tag) -> float:
    # Step by step, layer by layer; within a (step, layer) W_H first; W_O last.
    if tag.role == "W_O":
        return math.inf
    return tag.time + 0.1 * tag.layer + (-0.05 if tag.role == "W_H" else 0.0)


def network_to_einsum(
    net: RACNetwork, *, mode: str = "forward", hyper: bool = True, output_steps: Sequence[int] | None = None
) -> EinsumSpec:
    """Express a RAC network as an einsum expression (the network <-> einsum bridge).

    Parameters
    ----------
    net : RACNetwork
        From [`tnrnn.network.build.build_network`][tnrnn.network.build.build_network].
    mode : {"forward", "tensor"}
        ``"forward"``: one input operand (batch, M) per open input leg, all sharing one batch index, output
        ``(batch, K)``. ``"tensor"``: no input operands; the open input legs stay open and the output is those legs
        (time order, or ``output_steps`` order) followed by ``K``.
    hyper : bool, default True
        Merge the edges of every copy tensor into one shared index and drop the copy tensors and all-ones
        initial vectors. ``False`` keeps them as dense operands (to measure what hyper-indices save).
    output_steps : sequence of int, optional
        1-based steps in the order their legs should appear in a ``"tensor"`` output (default 1..T).

    Returns
    -------
    EinsumSpec
        The equation, what each operand is (arrays: [`einsum_operands`][tnrnn.network.einsum.einsum_operands]) and the symbol sizes.

    Raises
    ------
    TnrnnError
        Unknown mode, or ``output_steps`` that is not a permutation of 1..T.

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.rac.spec import RACSpec
    >>> es = network_to_einsum(build_network(RACSpec(1, 2, 3), T=2))
    >>> len(es.operands), es.shapes()[-1]   # W_O, W_I, W_H, W_I, then 2 inputs; copies are hyper-indices
    (6, (1, 3))
    """
    if mode not in MODES:
        raise TnrnnError(f"mode must be 'forward' or 'tensor', got {mode!r}")
    edges = list(tn.get_all_edges(net.nodes))
    eid = {id(e): i for i, e in enumerate(edges)}
    classes = _hyper_classes(net, edges, hyper)
    symbols: dict[int, str] = {}

    def sym(edge) -> str:
        root = classes[eid[id(edge)]]
        if root not in symbols:
            symbols[root] = oe.get_symbol(len(symbols))
        return symbols[root]

    sizes: dict[str, int] = {}
    inputs: list[tuple] = []
    refs: list[OperandRef] = []
    order: list[float] = []
    for node, tag in zip(net.nodes, net.tags):
        ix = tuple(sym(e) for e in node.edges)
        for s, e in zip(ix, node.edges):
            sizes[s] = e.dimension
        ref = _operand_ref(net, node, tag, hyper)
        if ref is None:
            continue
        refs.append(ref)
        inputs.append(ix)
        order.append(_sweep_key(tag))
    out_sym = sym(net.output_edge)
    if mode == "tensor":
        steps = list(range(1, net.T + 1)) if output_steps is None else [int(s) for s in output_steps]
        if sorted(steps) != list(range(1, net.T + 1)):
            raise TnrnnError(f"output_steps must be a permutation of 1..{net.T}, got {list(steps)}")
        output = tuple(sym(leg) for t in steps for leg in net.input_edges[t - 1]) + (out_sym,)
        return EinsumSpec(tuple(inputs), output, sizes, tuple(refs), None, tuple(order))
    # Forward mode: one (batch, M) input operand per open leg, the batch a shared index of size 1 (broadcast).
    batch = oe.get_symbol(len(symbols))
    sizes[batch] = 1
    for t, legs in enumerate(net.input_edges):
        for leg in legs:
            inputs.append((batch, sym(leg)))
            refs.append(OperandRef("x", t))
            order.append(t + 1 - 0.5)
    return EinsumSpec(tuple(inputs), (batch, out_sym), sizes, tuple(refs), batch, tuple(order))


def split_onehot_inputs(es: EinsumSpec) -> EinsumSpec:
    """``es`` with every input leg shared by several operands split into one leg per operand, each with its own input.

    On basis (one-hot) inputs the rewrite is exact: a one-hot vector ``e_d`` on an index shared by operands
    ``A_1..A_k`` selects entry ``d`` of each of them, which is what ``k`` copies of ``e_d``, one on a private leg per
    operand, select. The grid form ties all copies of ``x_t`` to one hyper-index, and with a batch index every
    contraction then carries the input legs of the steps not yet absorbed (a largest intermediate of
    ``batch x M^(T/2)``); split, each copy meets its own input first, like the recurrence. Feature vectors that are
    not one-hot must not be split (they enter the tied network linearly, the copies of the split one
    multilinearly). Only forward-mode expressions have inputs; others are returned unchanged.

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.rac.spec import RACSpec
    >>> es = network_to_einsum(build_network(RACSpec(2, 2, 2), T=3, form="grid"))
    >>> sum(r.kind == "x" for r in es.operands), sum(r.kind == "x" for r in split_onehot_inputs(es).operands)
    (3, 6)
    """
    if es.batch_symbol is None:
        return es
    users: dict = {}
    for i, ix in enumerate(es.inputs):
        for s in ix:
            users.setdefault(s, []).append(i)
    inputs, operands, order = list(es.inputs), list(es.operands), list(es.order)
    sizes = dict(es.sizes)
    fresh = 0
    drop: set[int] = set()
    for i, (ref, ix) in enumerate(zip(es.operands, es.inputs)):
        leg = ix[-1]
        others = [j for j in users[leg] if j != i]
        if ref.kind != "x" or len(others) < 2 or leg in es.output:
            continue
        drop.add(i)
        for j in others:
            while oe.get_symbol(fresh) in sizes:
                fresh += 1
            new = oe.get_symbol(fresh)
            sizes[new] = sizes[leg]
            inputs[j] = tuple(new if s == leg else s for s in inputs[j])
            inputs.append((es.batch_symbol, new))
            operands.append(ref)
            order.append(es.order[i])
    if not drop:
        return es
    keep = [k for k in range(len(inputs)) if k not in drop]
    for s in {ix[-1] for k, ix in enumerate(es.inputs) if k in drop}:
        del sizes[s]
    return EinsumSpec(tuple(inputs[k] for k in keep), es.output, sizes, tuple(operands[k] for k in keep),
                      es.batch_symbol, tuple(order[k] for k in keep))


def einsum_operands(es: EinsumSpec, params: RACParams, x=None) -> list[np.ndarray]:
    """The arrays of an [`EinsumSpec`][tnrnn.network.einsum.EinsumSpec]'s operands, in order, as float64 numpy arrays.

    Parameters
    ----------
    es : EinsumSpec
    params : RACParams
        The weights.
    x : array_like, optional
        Features (B, T, M) for a ``"forward"`` expression (symbol ids: pass ``np.eye(M)[ids]``).

    Returns
    -------
    list of numpy arrays
        ``opt_einsum.contract(es.eq, *einsum_operands(es, params, x))`` evaluates the network.

    Examples
    --------
    >>> import opt_einsum as oe
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.rac.recurrence import init_params_modp, rac_forward_modp
    >>> from tnrnn.rac.spec import RACSpec
    >>> q = init_params_modp(RACSpec(2, 2, 2), seed=0, p=7)
    >>> es = network_to_einsum(build_network(q.spec, T=3))
    >>> x = np.eye(2)[[[0, 1, 1]]]
    >>> int(round(float(oe.contract(es.eq, *einsum_operands(es, q, x))[0, 0]))) % 7 == int(rac_forward_modp(q, [[0, 1, 1]], 7)[0, 0])
    True
    """
    feats = None if x is None else np.asarray(x, np.float64)
    out = []
    for ref in es.operands:
        if ref.kind == "delta":
            d = np.zeros(ref.shape)
            d[(np.arange(ref.shape[0]),) * len(ref.shape)] = 1
            out.append(d)
        elif ref.kind == "ones":
            out.append(np.ones(ref.shape))
        elif ref.kind == "x":
            if feats is None:
                raise TnrnnError("this expression has input operands: pass x")
            out.append(feats[:, ref.index, :])
        elif ref.kind == "W_O":
            out.append(np.asarray(params.W_O, np.float64))
        else:
            out.append(np.asarray(getattr(params, ref.kind)[ref.index], np.float64))
    return out
