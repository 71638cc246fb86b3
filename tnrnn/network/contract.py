"""Contracting a RAC tensor network: einsum form, path search, jitted executors, cost guard.

The network of :func:`tnrnn.network.build.build_network` is turned into one einsum expression in which every
copy tensor (roles ``copy`` and ``tie``) is a shared *hyper-index* rather than a dense delta array: all edges
touching a copy tensor carry one index symbol and the copy tensor itself disappears. On a RAC this needs about
an order of magnitude fewer flops than contracting dense deltas (``benchmarks/bench_contract.py`` measures it).

A contraction path is searched with several optimisers (opt_einsum's greedy and random-greedy, cotengra when
installed, a time-ordered sweep that follows the recurrence, and a leaf-elimination "tree" order that computes
state instance by state instance) and the cheapest by flops, then by peak memory, is kept: none wins on every
RAC shape (greedy is best on grid tables, the sweep on shallow batches, the tree order on deep batches, where
greedy can cost 10^4 times more). The path is compiled into a ``jax.jit`` function cached per network structure
``(L, R, M, K, T, form, batch, arithmetic, p, has_h0, output order)``; weights and inputs are arguments, so new
weights reuse the compiled function without re-tracing. Paths longer than :data:`MAX_FUSED_STEPS` run step by
step instead (each distinct step jitted once), because XLA compile time explodes on very long unrolled paths.

Two arithmetics:

* **float**: pairwise ``jnp.einsum`` along the path. Every few contractions (:data:`RESCALE_EVERY`) an
  intermediate is rescaled to max-abs 1 (per sequence when it carries the batch index) and the log of the scale
  is carried, as in :func:`tnrnn.rac.recurrence.rac_forward`, so evaluation stays finite for long sequences (tested at
  T = 300 and 400, where plain float32 underflows to 0), given inputs and weights of moderate size.
  The materialised grid tensor is one array, so it shares one scale per intermediate: entries far below the
  largest one lose relative precision there (float tables are estimates; certify with ``p``).
* **exact mod p**: int64 under ``jax.enable_x64``, every pairwise contraction reduced mod p; before running, each
  pairwise contraction's number of summed terms times ``(p-1)**2`` is checked to fit int64.

Before anything is contracted, flops and peak memory are estimated from the path and requests above the budget
(``budget_bytes``, default ``$TNRNN_MAX_BYTES`` or 4 GiB; ``budget_flops``, default ``$TNRNN_MAX_FLOPS`` or 1e13)
are refused with a :class:`tnrnn.base.errors.ResourceError` that states the estimate and what to use instead.
"""

from __future__ import annotations

import functools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from tnrnn.base.budget import default_budget_bytes, default_budget_flops
from tnrnn.base.errors import ResourceError, TnrnnError, format_count, human_bytes
from tnrnn.base.validate import check_positive_int
from tnrnn.network.build import RACNetwork, build_network, check_form, nodes_over_limit, structure_zeros
from tnrnn.rac.partition import Partition, make_partition
from tnrnn.rac.recurrence import (
    DEFAULT_PRIME,
    RACParams,
    check_inputs,
    check_prime,
    float_params,
    max_safe_terms,
    reduce_modp,
)
from tnrnn.rac.spec import RACSpec

#: Path optimisers tried by default ("cotengra" is skipped when cotengra is not installed).
DEFAULT_OPTIMIZERS = ("greedy", "random-greedy", "cotengra", "sequential", "tree")
OPTIMIZERS = DEFAULT_OPTIMIZERS

#: Networks with more operands than this are not contracted (path search and compilation would take minutes).
MAX_OPERANDS = 10_000


# Python-side trace counter: incremented only while jax traces an executor (tests use it to prove reuse).
_TRACES = Counter()


def trace_count() -> int:
    """How many times a contraction executor has been traced by jax in this process (for tests)."""
    return sum(_TRACES.values())


def check_optimizers(names: Iterable[str], what: str = "path optimizers") -> tuple:
    """Return ``names`` as a tuple if it is a non-empty selection of :data:`OPTIMIZERS`, else raise ``TnrnnError``.

    Examples
    --------
    >>> check_optimizers(["greedy", "tree"])
    ('greedy', 'tree')
    """
    opts = (names,) if isinstance(names, str) else tuple(names)
    unknown = [o for o in opts if o not in OPTIMIZERS]
    if unknown or not opts:
        raise TnrnnError(f"{what} must be among {', '.join(OPTIMIZERS)}, got {list(opts)}")
    return opts


# ---------------------------------------------------------------------------------------------------------------
# Network -> einsum


class OperandRef(NamedTuple):
    """What an einsum operand holds.

    ``kind`` is ``"W_I"``, ``"W_H"`` (``index`` = layer 0..L-1), ``"W_O"``, ``"h0"`` (layer), ``"x"`` (``index`` =
    time step 0..T-1: the input features of that step), ``"delta"`` (a dense copy tensor, ``shape`` given) or
    ``"ones"`` (an all-ones initial vector, kept only with dense deltas).
    """

    kind: str
    index: int = 0
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
        Dimension of every symbol.
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
    batch_symbol: str | None = None
    order: tuple = ()

    @property
    def eq(self) -> str:
        """The einsum equation, e.g. ``'ab,bc->ac'``."""
        return ",".join("".join(ix) for ix in self.inputs) + "->" + "".join(self.output)

    def shapes(self) -> list[tuple]:
        """Shape of every operand."""
        return [tuple(self.sizes[s] for s in ix) for ix in self.inputs]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, a: int) -> int:
        self.parent.setdefault(a, a)
        root = a
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[a] != root:  # path compression
            self.parent[a], a = root, self.parent[a]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _symbol(i: int) -> str:
    import opt_einsum as oe

    return oe.get_symbol(i)


def network_to_einsum(
    net: RACNetwork, *, mode: str = "forward", hyper: bool = True, output_steps: Sequence[int] | None = None
) -> EinsumSpec:
    """Express a RAC network as an einsum expression.

    Parameters
    ----------
    net : RACNetwork
        From :func:`tnrnn.network.build.build_network`.
    mode : {"forward", "tensor"}
        ``"forward"``: one input operand (batch, M) per open input leg, all sharing one batch index, output
        ``(batch, K)``. ``"tensor"``: no input operands; the open input legs stay open and the output is those legs
        (time order, or ``output_steps`` order) followed by ``K``.
    hyper : bool, default True
        Merge every edge touching a copy tensor into one shared index and drop the copy tensors (and the
        all-ones initial vectors, whose index always appears in another operand too). ``False`` keeps them as
        dense operands (only sensible for small networks; used to measure what hyper-indices save).
    output_steps : sequence of int, optional
        1-based steps in the order their legs should appear in a ``"tensor"`` output (default 1..T).

    Returns
    -------
    EinsumSpec

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> es = network_to_einsum(build_network(RACSpec(1, 2, 3), T=2))
    >>> len(es.operands), es.shapes()[-1]   # W_O, W_I, W_H, W_I, then 2 inputs; copies are hyper-indices
    (6, (1, 3))
    """
    if mode not in ("forward", "tensor"):
        raise TnrnnError(f"mode must be 'forward' or 'tensor', got {mode!r}")
    import tensornetwork as tn

    edges = list(tn.get_all_edges(net.nodes))
    eid = {id(e): i for i, e in enumerate(edges)}
    uf = _UnionFind()
    for i in range(len(edges)):
        uf.find(i)
    copy_roles = ("copy", "tie")
    if hyper:
        for node, tag in zip(net.nodes, net.tags):
            if tag.role in copy_roles:
                first = eid[id(node.edges[0])]
                for e in node.edges[1:]:
                    uf.union(first, eid[id(e)])
    symbols: dict[int, str] = {}

    def sym(edge) -> str:
        root = uf.find(eid[id(edge)])
        if root not in symbols:
            symbols[root] = _symbol(len(symbols))
        return symbols[root]

    sizes: dict[str, int] = {}
    inputs: list[tuple] = []
    refs: list[OperandRef] = []
    order: list[float] = []
    for node, tag in zip(net.nodes, net.tags):
        ix = tuple(sym(e) for e in node.edges)
        for s, e in zip(ix, node.edges):
            sizes[s] = e.dimension
        if tag.role in copy_roles:
            if hyper:
                continue
            refs.append(OperandRef("delta", 0, tuple(e.dimension for e in node.edges)))
        elif tag.role == "init":
            behind_copy = any(
                (e.node1 is not node and net.tag(e.node1).role == "copy")
                or (e.node2 is not None and e.node2 is not node and net.tag(e.node2).role == "copy")
                for e in node.edges
            )
            if behind_copy:  # the all-ones convention W_H h[0] = 1
                if hyper:
                    continue
                refs.append(OperandRef("ones", tag.layer - 1, (node.edges[0].dimension,)))
            else:
                refs.append(OperandRef("h0", tag.layer - 1))
        elif tag.role in ("W_I", "W_H"):
            refs.append(OperandRef(tag.role, tag.layer - 1))
        elif tag.role == "W_O":
            refs.append(OperandRef("W_O"))
        else:  # pragma: no cover - build.py defines no other role
            raise TnrnnError(f"unknown node role {tag.role!r}")
        inputs.append(ix)
        # Sweep order: step by step, layer by layer; within a (step, layer) W_H first; W_O last.
        order.append(math.inf if tag.role == "W_O" else tag.time + 0.1 * tag.layer + (-0.05 if tag.role == "W_H" else 0.0))
    out_sym = sym(net.output_edge)
    batch_symbol = None
    if mode == "forward":
        batch_symbol = _symbol(len(symbols))
        sizes[batch_symbol] = 1
        for t, legs in enumerate(net.input_edges):
            for leg in legs:
                inputs.append((batch_symbol, sym(leg)))
                refs.append(OperandRef("x", t))
                order.append(t + 1 - 0.5)
        output = (batch_symbol, out_sym)
    else:
        steps = list(range(1, net.T + 1)) if output_steps is None else [int(s) for s in output_steps]
        if sorted(steps) != list(range(1, net.T + 1)):
            raise TnrnnError(f"output_steps must be a permutation of 1..{net.T}, got {list(steps)}")
        output = tuple(sym(leg) for t in steps for leg in net.input_edges[t - 1]) + (out_sym,)
    return EinsumSpec(tuple(inputs), output, sizes, tuple(refs), batch_symbol, tuple(order))


# ---------------------------------------------------------------------------------------------------------------
# Paths: search, simulation, cost


@dataclass(frozen=True)
class Step:
    """One pairwise (or single-operand) contraction of a path.

    ``positions`` index the current operand list (contracted operands are removed, the result appended);
    ``eq`` is the local einsum equation; ``summed`` the product of the summed dimensions (terms per output entry);
    ``batch_axis`` the position of the batch index in the result (None when absent).
    """

    positions: tuple
    eq: str
    out: tuple
    summed: int
    batch_axis: int | None


@dataclass(frozen=True)
class PathReport:
    """A contraction path with its cost.

    Attributes
    ----------
    path : tuple of tuple of int
        opt_einsum-style path, made pairwise.
    flops : int
        Estimated floating point operations (opt_einsum's counting: 2 per multiply-add).
    peak_bytes : int
        Peak of live memory along the path (distinct leaf arrays plus live intermediates), at ``itemsize``.
    largest_intermediate : int
        Entries of the largest intermediate.
    path_optimizer : str
        The optimiser that found the path.
    candidates : dict
        Flops of every optimiser tried (None: abandoned at more than 16x the best).
    search_seconds : float
    steps : tuple of Step
        The path as local contractions.
    skipped : dict
        Optimisers not run, with the reason.
    """

    path: tuple
    flops: int
    peak_bytes: int
    largest_intermediate: int
    path_optimizer: str
    candidates: dict = field(default_factory=dict)
    search_seconds: float = 0.0
    steps: tuple = ()
    skipped: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "flops": self.flops,
            "peak_bytes": self.peak_bytes,
            "largest_intermediate": self.largest_intermediate,
            "path_optimizer": self.path_optimizer,
            "candidates": dict(self.candidates),
            "skipped": dict(self.skipped),
            "search_seconds": round(self.search_seconds, 4),
        }


def _pairwise(path: Iterable[Sequence[int]], n: int) -> list[tuple]:
    """Split k-ary steps of an opt_einsum path into pairwise ones (same remove-then-append convention)."""
    out: list[tuple] = []
    size = n
    for step in path:
        step = tuple(int(i) for i in step)
        if len(step) <= 2:
            out.append(step)
            size -= len(step) - 1
            continue
        # Contract the first two, then fold each further operand into the appended result.
        pending = list(step)
        a, b = pending[0], pending[1]
        out.append((a, b))
        rest = [p - sum(q < p for q in (a, b)) for p in pending[2:]]
        size -= 1
        for k, p in enumerate(rest):
            out.append((p, size - 1))
            rest[k + 1:] = [q - (q > p) for q in rest[k + 1:]]
            size -= 1
    return out


def simulate_path(
    es: EinsumSpec, path: Sequence[Sequence[int]], *, itemsize: int = 4, batch: int = 1, max_flops: float | None = None
):
    """Walk a path: local equations, flops, peak live memory, largest intermediate.

    Parameters
    ----------
    es : EinsumSpec
    path : opt_einsum-style path (k-ary steps are split into pairwise ones)
    itemsize : int
        Bytes per entry (4 for float32, 8 for int64).
    batch : int
        Size of the batch index (``es`` is built with size 1 for it).
    max_flops : float, optional
        Give up (return None) as soon as the path costs more than this: a bad candidate can build
        intermediates with thousands of indices, and walking it to the end would take minutes.

    Returns
    -------
    steps, flops, peak_bytes, largest_intermediate (or None when ``max_flops`` was exceeded)

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> es = network_to_einsum(build_network(RACSpec(1, 2, 2), T=2))
    >>> steps, flops, peak, largest = simulate_path(es, [(0, 1)] * (len(es.inputs) - 1), batch=4)
    >>> len(steps) >= len(es.inputs) - 1, flops > 0, peak >= largest * 4
    (True, True, True)
    """
    sizes = dict(es.sizes)
    if es.batch_symbol is not None:
        sizes[es.batch_symbol] = batch
    live = [tuple(ix) for ix in es.inputs]
    count = Counter(s for ix in live for s in set(ix))
    for s in es.output:
        count[s] += 1
    # Leaves are a few distinct arrays referenced many times: count each distinct one once.
    leaf_bytes = 0
    seen = set()
    for ref, ix in zip(es.operands, es.inputs):
        key = (ref.kind, ref.index, ref.shape)
        if key not in seen:
            seen.add(key)
            leaf_bytes += math.prod(sizes[s] for s in ix) * itemsize
    is_leaf = [True] * len(live)
    inter_bytes = 0
    peak = leaf_bytes
    flops = 0
    largest = 0
    steps = []
    for pos in _pairwise(path, len(live)):
        ops = [live[i] for i in pos]
        for ix in ops:
            for s in set(ix):
                count[s] -= 1
        involved = list(dict.fromkeys(s for ix in ops for s in ix))
        out = tuple(s for s in involved if count[s] > 0)
        for s in out:
            count[s] += 1
        summed = math.prod(sizes[s] for s in involved if s not in out)
        inner = len(out) < len(involved)
        flops += math.prod(sizes[s] for s in involved) * (max(1, len(ops) - 1) + (1 if inner else 0))
        if max_flops is not None and flops > max_flops:
            return None
        out_size = math.prod(sizes[s] for s in out)
        largest = max(largest, out_size)
        freed = sum(math.prod(sizes[s] for s in ix) * itemsize for ix, leaf in zip(ops, (is_leaf[i] for i in pos)) if not leaf)
        inter_bytes += out_size * itemsize
        peak = max(peak, leaf_bytes + inter_bytes)
        inter_bytes -= freed
        letters = {s: _symbol(k) for k, s in enumerate(involved)} if len(involved) <= 52 else {s: s for s in involved}
        eq = ",".join("".join(letters[s] for s in ix) for ix in ops) + "->" + "".join(letters[s] for s in out)
        batch_axis = out.index(es.batch_symbol) if es.batch_symbol in out else None
        steps.append(Step(tuple(pos), eq, out, summed, batch_axis))
        for i in sorted(pos, reverse=True):
            del live[i]
            del is_leaf[i]
        live.append(out)
        is_leaf.append(False)
    if len(live) != 1 or sorted(live[0]) != sorted(es.output):
        raise TnrnnError("internal error: the contraction path does not reduce the network to its output")
    if live[0] != tuple(es.output):
        perm = tuple(live[0].index(s) for s in es.output)
        steps.append(Step(perm, "transpose", tuple(es.output), 1, None))
    return tuple(steps), flops, peak, largest


def _sequential_path(es: EinsumSpec) -> list[tuple]:
    """A sweep in time order that absorbs operands one by one into a running tensor.

    Each input operand is first paired with the operand it feeds (its ``W_I``), then the sweep follows
    ``es.order`` (step by step, ``W_H`` before the input side), which on a shallow RAC is the recurrence and keeps
    the running tensor at ``batch x R``. On deep RACs the running tensor grows with every live copy, so this
    candidate only wins on shallow ones; the cost comparison in :func:`find_path` takes care of that.
    """
    live = list(range(len(es.inputs)))  # ids of the operands at each position
    keys = {i: k for i, k in enumerate(es.order)}
    path: list[tuple] = []
    next_id = len(live)

    def contract(a: int, b: int) -> int:
        nonlocal next_id
        pa, pb = sorted((live.index(a), live.index(b)))
        path.append((pa, pb))
        del live[pb]
        del live[pa]
        live.append(next_id)
        next_id += 1
        return next_id - 1

    owner: dict[str, list[int]] = {}
    for i, ix in enumerate(es.inputs):
        for s in ix:
            owner.setdefault(s, []).append(i)
    for i, ref in enumerate(es.operands):
        if ref.kind != "x":
            continue
        leg = [s for s in es.inputs[i] if s != es.batch_symbol]
        partners = [j for j in owner.get(leg[0], []) if j != i and es.operands[j].kind == "W_I"] if leg else []
        if len(partners) == 1 and partners[0] in live:
            keys[next_id] = keys[partners[0]]
            contract(i, partners[0])
    running = None
    for oid in sorted(list(live), key=lambda j: keys[j]):
        running = oid if running is None else contract(running, oid)
    return path


def _tree_path(es: EinsumSpec) -> list[tuple]:
    """Leaf elimination: repeatedly contract an operand that shares at most one index with the rest.

    Without its batch index, a RAC network in forward mode (continuous form) is a tree of hyper-edges, and
    absorbing leaves into their neighbours, oldest first, computes every state instance from its children like
    the recurrence does, keeping intermediates at ``batch x R``. Greedy optimisers, distracted by the batch
    index, often build weight-weight products instead and pay many times more. A leaf joins a partner that is a
    leaf on the same index when there is one (an elementwise product), else the smallest partner. Whatever is
    left unconnected (other components, e.g. the grid form's ties) is contracted in time order at the end.
    """
    import heapq

    keep = set(es.output) | ({es.batch_symbol} if es.batch_symbol else set())
    ix: dict[int, tuple] = {i: tuple(v) for i, v in enumerate(es.inputs)}
    key: dict[int, float] = dict(enumerate(es.order))
    members: dict[str, set] = {}
    for i, v in ix.items():
        for s in set(v):
            if s not in keep:
                members.setdefault(s, set()).add(i)
    sizes = es.sizes
    live = list(range(len(ix)))
    path: list[tuple] = []
    next_id = len(live)

    def shared(i: int) -> list:
        return [s for s in set(ix[i]) if s not in keep and len(members[s]) > 1]

    def size(i: int) -> int:
        return math.prod(sizes[s] for s in ix[i])

    heap = [(key[i], i) for i in live]
    heapq.heapify(heap)
    while heap and len(live) > 1:
        _, a = heapq.heappop(heap)
        if a not in ix:
            continue
        sh = shared(a)
        if len(sh) != 1:
            continue  # not a leaf (yet): pushed again when a neighbour goes away
        s = sh[0]
        others = [j for j in members[s] if j != a]
        leaves = [j for j in others if len(shared(j)) == 1]
        b = min(leaves or others, key=lambda j: (size(j), key[j]))
        pa, pb = sorted((live.index(a), live.index(b)))
        path.append((pa, pb))
        del live[pb]
        del live[pa]
        c = next_id
        next_id += 1
        live.append(c)
        both = set(ix[a]) | set(ix[b])
        touched = set()
        for t in both:
            if t in keep:
                continue
            members[t].discard(a)
            members[t].discard(b)
            # An index private to the pair is summed now; one used elsewhere stays on the result.
            if members[t]:
                members[t].add(c)
                touched |= members[t]
        ix[c] = tuple(t for t in dict.fromkeys(ix[a] + ix[b]) if t in keep or members.get(t))
        key[c] = max(key[a], key[b])
        del ix[a], ix[b]
        for j in touched:
            heapq.heappush(heap, (key[j], j))
    # Leftover components: sweep them together in time order.
    rest = sorted(live, key=lambda j: key[j])
    while len(rest) > 1:
        a, b = rest[0], rest[1]
        pa, pb = sorted((live.index(a), live.index(b)))
        path.append((pa, pb))
        del live[pb]
        del live[pa]
        live.append(next_id)
        key[next_id] = max(key[a], key[b])
        rest = [next_id] + rest[2:]
        next_id += 1
    return path


def _cotengra_available() -> bool:
    try:
        import cotengra  # noqa: F401
    except Exception:  # pragma: no cover - optional dependency
        return False
    return True


def find_path(
    es: EinsumSpec,
    *,
    batch: int = 1,
    itemsize: int = 4,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
    time_budget: float = 0.5,
) -> PathReport:
    """Search a contraction path with several optimisers and keep the cheapest (flops, then peak memory).

    Parameters
    ----------
    es : EinsumSpec
    batch : int
        Batch size used in the cost model.
    itemsize : int
        Bytes per entry for the memory estimate.
    optimizers : sequence of str
        Any of ``"greedy"``, ``"random-greedy"``, ``"cotengra"`` (skipped when not installed) and
        ``"sequential"`` (a sweep in time order that follows the recurrence; good for shallow RACs) and
        ``"tree"`` (leaf elimination, state instance by state instance; good for deep RACs in the continuous form).
    time_budget : float
        Seconds allowed to each of random-greedy and cotengra; both are skipped when greedy's own run time
        shows they could not finish enough trials in it (large networks).

    Returns
    -------
    PathReport

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> es = network_to_einsum(build_network(RACSpec(1, 2, 2), T=3))
    >>> rep = find_path(es, batch=8, optimizers=("greedy",))
    >>> rep.path_optimizer, rep.flops > 0
    ('greedy', True)
    """
    import opt_einsum as oe

    optimizers = check_optimizers(optimizers)
    sizes = dict(es.sizes)
    if es.batch_symbol is not None:
        sizes[es.batch_symbol] = batch
    shapes = [tuple(sizes[s] for s in ix) for ix in es.inputs]
    eq = es.eq
    t0 = time.perf_counter()
    found: dict[str, list] = {}
    skipped: dict[str, str] = {}
    if len(es.inputs) == 1:
        found["single"] = [(0,)]
    # Greedy first: its run time predicts the others' (one random-greedy trial costs about one greedy run,
    # one cotengra trial several), and on large networks they cannot finish a useful number of trials within
    # the time budget, so they are skipped rather than allowed to run for minutes.
    ordered = sorted(optimizers, key=lambda o: o != "greedy")
    t_greedy = None
    for name in ordered:
        if name == "greedy":
            t = time.perf_counter()
            found[name] = list(oe.contract_path(eq, *shapes, shapes=True, optimize="greedy")[0])
            t_greedy = time.perf_counter() - t
        elif name == "random-greedy":
            if t_greedy is not None and 4 * t_greedy > time_budget:
                skipped[name] = "network too large for the time budget"
                continue
            opt = oe.RandomGreedy(max_repeats=32, max_time=time_budget, minimize="flops")
            found[name] = list(oe.contract_path(eq, *shapes, shapes=True, optimize=opt)[0])
        elif name == "cotengra":
            if not _cotengra_available():
                skipped[name] = "cotengra is not installed"
                continue
            if t_greedy is not None and 40 * t_greedy > time_budget:
                skipped[name] = "network too large for the time budget"
                continue
            import cotengra as ctg

            opt = ctg.HyperOptimizer(
                methods=["greedy"], max_repeats=16, max_time=time_budget, minimize="flops", parallel=False,
                progbar=False, optlib="random", on_trial_error="ignore",
            )
            found[name] = list(oe.contract_path(eq, *shapes, shapes=True, optimize=opt)[0])
        elif name == "sequential" and len(es.inputs) > 1:
            found[name] = _sequential_path(es)
        elif name == "tree" and len(es.inputs) > 1:
            found[name] = _tree_path(es)
    best = None
    candidates = {}
    for name, path in found.items():
        walked = simulate_path(es, path, itemsize=itemsize, batch=batch,
                               max_flops=None if best is None else 16 * best[0][0])
        if walked is None:
            candidates[name] = None  # more than 16x the best so far: abandoned
            continue
        steps, flops, peak, largest = walked
        candidates[name] = flops
        key = (flops, peak)
        if best is None or key < best[0]:
            best = (key, name, path, steps, largest)
    (flops, peak), name, path, steps, largest = best
    return PathReport(
        tuple(tuple(s) for s in _pairwise(path, len(es.inputs))), flops, peak, largest, name, candidates,
        time.perf_counter() - t0, steps, skipped,
    )


# ---------------------------------------------------------------------------------------------------------------
# Plans (cached per structure)


class PlanKey(NamedTuple):
    L: int
    R: int
    M: int
    K: int
    T: int
    form: str
    batch: int
    arithmetic: str
    p: int
    has_h0: bool
    mode: str
    output_steps: tuple
    optimizers: tuple


@dataclass(frozen=True)
class Plan:
    es: EinsumSpec
    report: PathReport


def _structure_params(spec: RACSpec, has_h0: bool) -> RACParams | None:
    """Weightless parameters that only make the builder add the explicit initial-state nodes."""
    if not has_h0:
        return None
    R, M, L, K = spec.R, spec.M, spec.L, spec.K
    return RACParams(tuple(structure_zeros(R, M if l == 0 else R) for l in range(L)),
                     tuple(structure_zeros(R, R) for _ in range(L)), structure_zeros(K, R),
                     tuple(structure_zeros(R) for _ in range(L)))


def _check_operand_count(spec: RACSpec, T: int, form: str, has_h0: bool) -> None:
    over = nodes_over_limit(spec, T, form, init_state=has_h0, limit=MAX_OPERANDS)
    if over is not None:
        raise ResourceError(
            f"the RAC network of L={spec.L}, T={T} has {over} nodes (contraction limit {MAX_OPERANDS:,}); "
            "evaluate with the recurrence (tnrnn.rac.recurrence.rac_forward / rac_forward_modp) instead, or use a smaller T"
        )


def _plan(key: PlanKey) -> Plan:
    """The path for ``key``; it does not depend on the prime, so one search serves every p."""
    return _search_plan(key._replace(p=0))


@functools.lru_cache(maxsize=64)
def _search_plan(key: PlanKey) -> Plan:
    spec = RACSpec(key.L, key.R, key.M, key.K)
    _check_operand_count(spec, key.T, key.form, key.has_h0)
    net = build_network(spec, key.T, _structure_params(spec, key.has_h0), form=key.form)
    es = network_to_einsum(net, mode=key.mode, output_steps=key.output_steps or None)
    itemsize = 8 if key.arithmetic == "modp" else 4
    report = find_path(es, batch=key.batch, itemsize=itemsize, optimizers=key.optimizers)
    return Plan(es, report)


def _make_key(spec, T, form, batch, arithmetic, p, has_h0, mode="forward", output_steps=(), optimizers=DEFAULT_OPTIMIZERS):
    return PlanKey(spec.L, spec.R, spec.M, spec.K, int(T), check_form(form), int(batch), arithmetic, int(p),
                   bool(has_h0), mode, tuple(output_steps), check_optimizers(optimizers))


def _guard(report: PathReport, what: str, instead: str, budget_bytes, budget_flops, batch: int | None = None) -> None:
    budget_bytes = default_budget_bytes() if budget_bytes is None else int(budget_bytes)
    budget_flops = default_budget_flops() if budget_flops is None else int(budget_flops)
    over = []
    if report.peak_bytes > budget_bytes:
        over.append(f"about {human_bytes(report.peak_bytes)} of memory (budget {human_bytes(budget_bytes)})")
    if report.flops > budget_flops:
        over.append(f"about {format_count(report.flops)} flops (budget {budget_flops:.3g})")
    if over:
        hint = instead
        if batch and batch > 1 and report.peak_bytes > budget_bytes:
            fits = max(1, int(batch * budget_bytes / report.peak_bytes))
            hint = f"split the batch into chunks of at most ~{fits} sequences, or {instead}"
        raise ResourceError(
            f"{what} needs {' and '.join(over)} (path by {report.path_optimizer}); {hint}; "
            "or raise budget_bytes/budget_flops (env TNRNN_MAX_BYTES / TNRNN_MAX_FLOPS)"
        )


# ---------------------------------------------------------------------------------------------------------------
# Executors


def _leaf(ref: OperandRef, W_I, W_H, W_O, h0, xs, dtype):
    import jax.numpy as jnp

    if ref.kind == "W_I":
        return W_I[ref.index]
    if ref.kind == "W_H":
        return W_H[ref.index]
    if ref.kind == "W_O":
        return W_O
    if ref.kind == "h0":
        return h0[ref.index]
    if ref.kind == "x":
        return xs[ref.index]
    if ref.kind == "ones":
        return jnp.ones(ref.shape, dtype)
    if ref.kind == "delta":
        n, d = len(ref.shape), ref.shape[0]
        out = jnp.zeros(ref.shape, dtype)
        idx = (jnp.arange(d),) * n
        return out.at[idx].set(1)
    raise TnrnnError(f"unknown operand kind {ref.kind!r}")  # pragma: no cover


#: Paths with more steps than this run step by step (each distinct step jitted once) instead of as one jitted
#: function: XLA compile time grows faster than linearly with the number of unrolled steps (about 40 s for the
#: 1,200 steps of L = 1, T = 400 on one CPU core), while repeated steps of a long chain share one compilation.
MAX_FUSED_STEPS = 256


#: Float intermediates are rescaled once this many contractions have accumulated since the last rescale: often
#: enough that float32 cannot overflow in between (each contraction multiplies magnitudes by a bounded factor
#: for O(1) weights and inputs), rarely enough that rescaling does not dominate a batched evaluation.
RESCALE_EVERY = 4


def _apply_step(ops, op_logs, *, eq: str, batch_axis, modp: bool, p: int, rescale: bool):
    """One pairwise contraction with its mod-p reduction or its log-scale bookkeeping."""
    import jax.numpy as jnp
    from jax import lax

    res = jnp.einsum(eq, *ops, optimize=False)
    if modp:
        # lax.rem, not ``%``: operands are residues, so every result is >= 0 and rem is the residue. jnp's floor
        # mod reads its input several times, and XLA fusing a chain of those duplicated it exponentially: a 65-step
        # path of L = 2, R = 1, T = 5 took over 20 GiB and minutes to compile.
        return lax.rem(res, jnp.asarray(p, res.dtype)), None
    carried = [lg for lg in op_logs if lg is not None]
    log = functools.reduce(lambda a, b: a + b, carried) if carried else jnp.zeros((), res.dtype)
    if rescale:
        res, log = _normalise(res, log, batch_axis)
    return res, log


@functools.lru_cache(maxsize=1)
def _jitted_step():
    import jax

    return jax.jit(_apply_step, static_argnames=("eq", "batch_axis", "modp", "p", "rescale"))


@functools.lru_cache(maxsize=64)
def _executor(key: PlanKey, rescale: bool) -> Callable:
    """A function ``(W_I, W_H, W_O, h0, feats) -> (result, log_scale)`` following the cached plan's path.

    float: ``result`` is the mantissa and ``log_scale`` its log scale (None when nothing was rescaled); mod p:
    the reduced int64 result and None. ``feats`` is features (B, T, M) or symbol ids (B, T) in forward mode and
    ``None`` in tensor mode.
    Up to :data:`MAX_FUSED_STEPS` steps the whole path is one ``jax.jit`` function; longer paths run step by step.
    """
    import jax
    import jax.numpy as jnp

    plan = _plan(key)
    es, steps = plan.es, plan.report.steps
    modp = key.arithmetic == "modp"
    p = key.p
    refs = es.operands
    fused = len(steps) <= MAX_FUSED_STEPS
    apply = _apply_step if fused else _jitted_step()
    last = next((st for st in reversed(steps) if st.eq != "transpose"), None)

    def run(W_I, W_H, W_O, h0, feats):
        if fused:
            _TRACES[key] += 1  # a Python side effect: runs only while jax traces
        dtype = W_O.dtype
        if feats is None:
            xs = None
        elif feats.ndim == 2:
            # Symbol ids: build the one-hot rows here, where XLA fuses them into the W_I contraction, rather
            # than shipping a (B, T, M) one-hot array from the host.
            M = W_I[0].shape[1]
            xs = [jax.nn.one_hot(feats[:, t], M, dtype=dtype) for t in range(feats.shape[1])]
        else:
            xs = [feats[:, t, :] for t in range(feats.shape[1])]
        live = [_leaf(r, W_I, W_H, W_O, h0, xs, dtype) for r in refs]
        # Log scales: None for leaves; an intermediate's value is mantissa * exp(log), log scalar or per batch entry.
        # ages: contractions since the last rescale (static Python ints, summed over merged subtrees).
        logs: list = [None] * len(live)
        ages = [0] * len(live)
        for st in steps:
            if st.eq == "transpose":
                live[-1] = jnp.transpose(live[-1], st.positions)
                continue
            ops = tuple(live[i] for i in st.positions)
            op_logs = tuple(logs[i] for i in st.positions)
            age = sum(ages[i] for i in st.positions) + 1
            now = rescale and (age >= RESCALE_EVERY or st is last)
            res, log = apply(ops, op_logs, eq=st.eq, batch_axis=st.batch_axis, modp=modp, p=p, rescale=now)
            for i in sorted(st.positions, reverse=True):
                del live[i]
                del logs[i]
                del ages[i]
            live.append(res)
            logs.append(log)
            ages.append(0 if now else age)
        return live[0], logs[0]

    return jax.jit(run) if fused else run


def _normalise(res, log, batch_axis):
    """Rescale ``res`` to max-abs 1 (per batch entry when it has the batch axis) and add the log to ``log``."""
    import jax.numpy as jnp

    if batch_axis is None:
        scale = jnp.max(jnp.abs(res))
        safe = jnp.where(scale > 0, scale, 1.0)
        return res / safe, log + jnp.log(safe)
    axes = tuple(a for a in range(res.ndim) if a != batch_axis)
    scale = jnp.max(jnp.abs(res), axis=axes) if axes else jnp.abs(res)
    safe = jnp.where(scale > 0, scale, 1.0)
    shape = [1] * res.ndim
    shape[batch_axis] = res.shape[batch_axis]
    return res / safe.reshape(shape), log + jnp.log(safe)


# ---------------------------------------------------------------------------------------------------------------
# Public API


def _resolve(spec_or_net, params, form: str):
    if isinstance(spec_or_net, RACNetwork):
        net = spec_or_net
        if params is None:
            params = net.params
        if params is None:
            raise TnrnnError("the network was built without weights: pass params")
        return net.spec, params, net.form, net.T
    if isinstance(spec_or_net, RACSpec):
        if params is None:
            raise TnrnnError("params are required")
        return spec_or_net, params, form, None
    if isinstance(spec_or_net, RACParams) and params is None:
        return spec_or_net.spec, spec_or_net, form, None
    raise TnrnnError(f"expected a RACSpec or RACNetwork, got {type(spec_or_net).__name__}")


def _check_params(spec: RACSpec, params) -> None:
    if not isinstance(params, RACParams):
        raise TnrnnError(f"params must be RACParams, got {type(params).__name__}")
    try:
        got = params.spec
    except Exception as exc:
        raise TnrnnError(f"params are malformed: {exc}") from None
    if got != spec:
        raise TnrnnError(f"params are for {got}, not {spec}")
    R, M = spec.R, spec.M
    shapes = [np.shape(w) for w in params.W_I] + [np.shape(w) for w in params.W_H]
    want = [(R, M)] + [(R, R)] * (spec.L - 1) + [(R, R)] * spec.L
    if shapes != want or (params.h0 is not None and [np.shape(h) for h in params.h0] != [(R,)] * spec.L):
        raise TnrnnError(f"params have weight shapes {shapes}, expected {want} for {spec}")


def estimate_cost(
    spec: RACSpec,
    T: int,
    *,
    form: str = "continuous",
    batch: int = 1,
    tensor: bool = False,
    arithmetic: str = "float",
    has_h0: bool = False,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
) -> dict:
    """Estimate the cost of contracting a RAC network, without contracting anything.

    Parameters
    ----------
    spec : RACSpec
    T : int
    form : {"continuous", "grid"}
    batch : int
        Sequences evaluated together (ignored with ``tensor=True``).
    tensor : bool
        Estimate materialising the grid tensor (open input legs) instead of evaluating a batch.
    arithmetic : {"float", "modp"}
        float32 (4 bytes per entry) or int64 mod p (8 bytes).
    has_h0 : bool
        Explicit initial states.
    optimizers : sequence of str
        Path optimisers to try (see :func:`find_path`).

    Returns
    -------
    dict with ``flops``, ``peak_bytes``, ``largest_intermediate``, ``path_optimizer``, ``candidates`` (flops per
    optimiser) and ``search_seconds``.

    Examples
    --------
    >>> c = estimate_cost(RACSpec(1, 4, 3), T=8, batch=16)
    >>> sorted(c)[:3], c["flops"] > 0
    (['candidates', 'flops', 'largest_intermediate'], True)
    """
    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    T = check_positive_int("T", T)
    batch = check_positive_int("batch", batch)
    if arithmetic not in ("float", "modp"):
        raise TnrnnError(f"arithmetic must be 'float' or 'modp', got {arithmetic!r}")
    mode = "tensor" if tensor else "forward"
    key = _make_key(spec, T, form, 1 if tensor else batch, arithmetic, 0, has_h0, mode, (), optimizers)
    return _plan(key).report.to_json()


def _prepare_inputs(spec: RACSpec, x, T: int | None, modp: bool, p: int, form: str):
    """Validated inputs for an executor: int32 symbol ids, int64 residues (mod p) or float features."""
    kind, arr = check_inputs(spec, x, T=T)
    if kind == "features" and form == "grid" and spec.L > 1 and arr.shape[1] > 1:
        # A tie makes every copy of x_t read the same basis index, so a feature vector f enters linearly:
        # the grid network computes the multilinear extension of the one-hot table, not y, off one-hot inputs.
        raise TnrnnError(
            "the grid form ties the copies of each input to one leg, so it evaluates y only on one-hot inputs: "
            "pass symbol ids (B, T), or use form='continuous' for feature vectors"
        )
    if kind == "ids":
        return np.asarray(arr, dtype=np.int32)  # one-hot rows are built inside the compiled function
    if modp:
        return reduce_modp(arr, p, "mod-p feature inputs")
    return arr  # float features: cast by _run, without a host round trip for arrays already on the device


def _run(key: PlanKey, params: RACParams, feats, *, what: str, instead: str, budget_bytes, budget_flops,
         batch: int | None = None, rescale: bool = True):
    """Guard the cost of ``key``'s plan, then contract: ``(result, log_scale)``, result numpy int64 for mod p.

    Everything the user can get wrong (sizes, budgets, int64 overflow, weight dtypes) is checked before the
    executor runs.
    """
    import jax
    import jax.numpy as jnp

    plan = _plan(key)
    _guard(plan.report, what, instead, budget_bytes, budget_flops, batch)
    if key.arithmetic == "float":
        fp = float_params(params)
        xs = None if feats is None else jnp.asarray(feats, jnp.int32 if feats.ndim == 2 else fp.W_O.dtype)
        return _executor(key, rescale)(fp.W_I, fp.W_H, fp.W_O, fp.h0, xs)
    _check_modp_steps(plan.report, key.p)
    red = lambda ws: tuple(reduce_modp(w, key.p, "mod-p weights") for w in ws)  # noqa: E731
    W_I, W_H, W_O = red(params.W_I), red(params.W_H), reduce_modp(params.W_O, key.p, "mod-p weights")
    h0 = None if params.h0 is None else red(params.h0)
    with jax.enable_x64(True):
        out, _ = _executor(key, False)(*jax.tree_util.tree_map(jnp.asarray, (W_I, W_H, W_O, h0, feats)))
        return np.asarray(out, dtype=np.int64), None


def network_forward(
    spec_or_net,
    params: RACParams | None = None,
    x=None,
    *,
    form: str = "continuous",
    return_log_scale: bool = False,
    rescale: bool = True,
    budget_bytes: int | None = None,
    budget_flops: int | None = None,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
):
    """Evaluate ``y`` for a batch of sequences by contracting the RAC tensor network (float, jitted).

    Parameters
    ----------
    spec_or_net : RACSpec or RACNetwork
        The shape (the network is built and cached per structure), or a network (its spec, T and form are used;
        its weights too when ``params`` is None).
    params : RACParams
        Float weights (:func:`tnrnn.rac.recurrence.init_params`).
    x : array_like
        Symbol ids (B, T) or feature vectors (B, T, M).
    form : {"continuous", "grid"}
        Network form. Both give ``y`` on symbol ids; feature vectors need the continuous form when L > 1 (the
        grid form's ties make it the multilinear extension of the one-hot table, and it is refused there).
    return_log_scale : bool
        Return ``(mantissa, log_scale)`` with ``y = mantissa * exp(log_scale)[:, None]`` (finite for any T).
    rescale : bool, default True
        Rescale intermediates and carry log scales (turn off only to measure its cost).
    budget_bytes, budget_flops : int, optional
        Refuse (``ResourceError``) above these estimates; defaults :func:`default_budget_bytes`,
        :func:`default_budget_flops`.
    optimizers : sequence of str
        Path optimisers to try.

    Returns
    -------
    (B, K) array, or ``(mantissa, log_scale)``

    Examples
    --------
    >>> import jax, numpy as np
    >>> from tnrnn.rac.recurrence import init_params, rac_forward
    >>> spec = RACSpec(depth=2, width=3, features=2)
    >>> params = init_params(spec, jax.random.PRNGKey(0))
    >>> x = np.array([[0, 1, 1, 0], [1, 1, 0, 0]])
    >>> y = network_forward(spec, params, x, optimizers=("greedy", "tree"))   # the default tries more, slower
    >>> bool(np.allclose(y, rac_forward(params, x), rtol=1e-4))
    True
    """
    import jax.numpy as jnp

    spec, params, form, T = _resolve(spec_or_net, params, form)
    _check_params(spec, params)
    if x is None:
        raise TnrnnError("inputs x are required: symbol ids (B, T) or features (B, T, M)")
    feats = _prepare_inputs(spec, x, T, False, 0, form)
    B, T = int(feats.shape[0]), int(feats.shape[1])
    key = _make_key(spec, T, form, B, "float", 0, params.h0 is not None, "forward", (), optimizers)
    mant, log = _run(key, params, feats, what=f"evaluating {B} sequences through the L={spec.L}, T={T} {form} network",
                     instead="evaluate with the recurrence tnrnn.rac.recurrence.rac_forward (memory O(batch x R))",
                     budget_bytes=budget_bytes, budget_flops=budget_flops, batch=B, rescale=bool(rescale))
    if log is None:
        log = jnp.zeros((B,), mant.dtype)
    log = jnp.broadcast_to(log, (B,))
    if return_log_scale:
        return mant, log
    return mant * jnp.exp(log)[:, None]


def _check_modp_steps(report: PathReport, p: int) -> None:
    limit = max_safe_terms(p)
    worst = max((s.summed for s in report.steps), default=1)
    if worst > limit:
        bound = math.isqrt((2**63 - 1) // worst)
        raise TnrnnError(
            f"a pairwise contraction of this path sums {worst:,} products, and {worst:,} x (p-1)^2 overflows int64 "
            f"for p = {p}; use a prime below {bound} (the default DEFAULT_PRIME = {DEFAULT_PRIME} allows "
            f"{max_safe_terms(DEFAULT_PRIME):,} terms)"
        )


def network_forward_modp(
    spec_or_net,
    params: RACParams | None = None,
    x=None,
    p: int | None = None,
    *,
    form: str = "continuous",
    budget_bytes: int | None = None,
    budget_flops: int | None = None,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
) -> np.ndarray:
    """Evaluate ``y`` exactly over GF(p) by contracting the RAC tensor network (int64, jitted).

    Every pairwise contraction is reduced mod p; each one's number of summed products is checked to fit int64
    first. The result equals :func:`tnrnn.rac.recurrence.rac_forward_modp` exactly.

    Parameters
    ----------
    spec_or_net : RACSpec or RACNetwork
    params : RACParams
        Integer weights (:func:`tnrnn.rac.recurrence.init_params_modp`).
    x : array_like
        Symbol ids (B, T) or integer features (B, T, M).
    p : int
        The prime (default :data:`tnrnn.rac.recurrence.DEFAULT_PRIME`).
    form, budget_bytes, budget_flops, optimizers
        As in :func:`network_forward`.

    Returns
    -------
    numpy int64 array (B, K) with entries in ``[0, p)``

    Examples
    --------
    >>> from tnrnn.rac.recurrence import init_params_modp, rac_forward_modp
    >>> spec = RACSpec(depth=2, width=2, features=3)
    >>> q = init_params_modp(spec, seed=0, p=101)
    >>> x = [[0, 2, 1], [1, 1, 2]]
    >>> bool((network_forward_modp(spec, q, x, p=101) == rac_forward_modp(q, x, p=101)).all())
    True
    """
    spec, params, form, T = _resolve(spec_or_net, params, form)
    _check_params(spec, params)
    p = check_prime(DEFAULT_PRIME if p is None else p)
    if x is None:
        raise TnrnnError("inputs x are required: symbol ids (B, T) or features (B, T, M)")
    feats = _prepare_inputs(spec, x, T, True, p, form)
    B, T = int(feats.shape[0]), int(feats.shape[1])
    key = _make_key(spec, T, form, B, "modp", p, params.h0 is not None, "forward", (), optimizers)
    out, _ = _run(key, params, feats, what=f"evaluating {B} sequences mod p through the L={spec.L}, T={T} {form} network",
                  instead="evaluate with the recurrence tnrnn.rac.recurrence.rac_forward_modp",
                  budget_bytes=budget_bytes, budget_flops=budget_flops, batch=B)
    return out


def grid_tensor_matrix(
    spec: RACSpec,
    T: int,
    params: RACParams,
    partition: str | Iterable[int] | Partition = "start-end",
    *,
    p: int | None = None,
    budget_bytes: int | None = None,
    budget_flops: int | None = None,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
):
    """Materialise the matricization ``[A]_(A,B)`` of the one-hot grid tensor by contracting the grid network.

    ``A[d_1..d_T] = y(e_d1, ..., e_dT)`` (SCIENCE.md section 2). Rows run over the side-A steps in increasing
    order, row-major over their symbols (the first A step varies slowest); columns likewise over side B.

    Parameters
    ----------
    spec : RACSpec
    T : int
    params : RACParams
        Float weights, or integer weights when ``p`` is given.
    partition : str, iterable of int, or Partition
        As in :func:`tnrnn.rac.partition.make_partition`.
    p : int, optional
        Compute exactly over GF(p) (int64 entries in ``[0, p)``) instead of in float.
    budget_bytes, budget_flops, optimizers
        As in :func:`network_forward`.

    Returns
    -------
    ``(M^|A|, M^|B|)`` array for K = 1, else ``(K, M^|A|, M^|B|)``; numpy int64 for ``p``, else a float jax array
    (an estimate: never certify a rank with it).

    Examples
    --------
    >>> from tnrnn.rac.recurrence import init_params_modp
    >>> spec = RACSpec(depth=1, width=2, features=2)
    >>> A = grid_tensor_matrix(spec, 4, init_params_modp(spec, seed=3, p=101), "start-end", p=101)
    >>> A.shape
    (4, 4)
    """
    import jax.numpy as jnp

    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    T = check_positive_int("T", T)
    _check_params(spec, params)
    part = make_partition(T, partition)
    if p is not None:
        p = check_prime(p)
    M, K = spec.M, spec.K
    itemsize = 8 if p is not None else 4
    out_bytes = M**T * K * itemsize
    budget = default_budget_bytes() if budget_bytes is None else int(budget_bytes)
    if out_bytes > budget:
        # The table alone is too big: refuse before building or searching anything.
        raise ResourceError(
            f"the grid tensor of T={T} over M={M} symbols has {format_count(M**T * K)} entries ({human_bytes(out_bytes)}, "
            f"budget {human_bytes(budget)}); use sample matrices of the continuous domain or a smaller T, or raise "
            "budget_bytes (env TNRNN_MAX_BYTES)"
        )
    order = tuple(part.A) + tuple(part.B)
    key = _make_key(spec, T, "grid", 1, "float" if p is None else "modp", p or 0, params.h0 is not None, "tensor",
                    order, optimizers)
    res, log = _run(key, params, None, what=f"materialising the L={spec.L}, T={T} grid tensor" + (" mod p" if p else ""),
                    instead="use a smaller T or sample matrices", budget_bytes=budget_bytes, budget_flops=budget_flops)
    if log is not None:
        res = res * jnp.exp(log)
    # res has axes (steps in A then B order..., K)
    rows, cols = M ** len(part.A), M ** len(part.B)
    return res.reshape(rows * cols, K).T.reshape(K, rows, cols) if K > 1 else res.reshape(rows, cols)


def clear_cache() -> None:
    """Forget cached paths and compiled executors."""
    _search_plan.cache_clear()
    _executor.cache_clear()
