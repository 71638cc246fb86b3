"""A RAC as an explicit tensor network (docs/theory.md, "Tensor-network view"), built with the ``tensornetwork`` library.

Shallow RACs (L = 1) give an MPS. Deep RACs reuse every state twice (``h[t, l-1]`` feeds ``h[t+1, l-1]`` and
``h[t, l]``), which a tensor network cannot do, so the sub-network computing a state is duplicated for every
consumer: the network is the tree unfolding of the (time, layer) grid seen from the output. One instance of
``h[t, l]`` exists per monotone lattice path from (t, l) to (T, L), so input ``x_t`` has
``n_t = C(T - t + L - 1, L - 1)`` copies.

Per instance of ``h[t, l]`` the network holds

* a 3-leg ``copy`` tensor (the elementwise product ``(W_I a) * (W_H b)``), legs ``[out, input side, hidden side]``;
* a ``W_I`` node (legs ``[out, in]``), its ``in`` leg joined to the instance of ``h[t, l-1]`` or, in layer 1,
  to the input;
* a ``W_H`` node (legs ``[out, in]``) joined to the instance of ``h[t-1, l]``; at t = 1 an ``init`` node instead:
  the all-ones vector (convention ``W_H h[0] = 1``, no ``W_H``) or ``h[0, l]`` behind a ``W_H`` node.

Two forms: ``"continuous"`` keeps an open leg of dimension M per input copy; ``"grid"`` ties the copies of
step t with one ``tie`` copy tensor to a single open leg (when ``n_t > 1``). Every node is tagged with
``NodeTag(role, time, layer, copy)``; drawing, min-cuts and contraction read those tags.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import tensornetwork as tn

from tnrnn.base.errors import ResourceError, TnrnnError, format_count
from tnrnn.base.validate import check_positive_int
from tnrnn.rac.params import RACParams
from tnrnn.rac.spec import RACSpec

FORMS = ("continuous", "grid")
ROLES = ("W_I", "W_H", "W_O", "copy", "tie", "init")

#: Explicit networks above this many nodes are refused (the structured min-cut needs no explicit network).
DEFAULT_MAX_NODES = 200_000


class NodeTag(NamedTuple):
    """Where a node sits: ``role`` (one of ROLES), ``time`` 1..T (0 for an explicit initial state, T for
    ``W_O``), ``layer`` 1..L (0 for a grid ``tie``), ``copy`` (index of the duplicated instance).
    """

    role: str
    time: int
    layer: int
    copy: int


@dataclass
class RACNetwork:
    """An explicit RAC tensor network with tagged nodes.

    Attributes
    ----------
    spec, T, form
        What was built.
    nodes : list of tensornetwork nodes
        All nodes; ``tags[i]`` describes ``nodes[i]``.
    tags : list of NodeTag
    input_edges : list of list of Edge
        Open input legs per time step (``input_edges[t-1]``): ``n_t`` legs in the continuous form, one in the
        grid form.
    output_edge : Edge
        The open leg of dimension K on ``W_O``.
    params : RACParams or None
        The weights in the nodes (None when built for structure only: nodes then hold zeros).
    """

    spec: RACSpec
    T: int
    form: str
    nodes: list
    tags: list
    input_edges: list
    output_edge: object
    params: RACParams | None = None
    _index: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {id(n): i for i, n in enumerate(self.nodes)}

    def tag(self, node) -> NodeTag:
        """The tag of a node of this network."""
        return self.tags[self._index[id(node)]]

    def node_id(self, node) -> int:
        """Position of ``node`` in `nodes` (a stable integer id)."""
        return self._index[id(node)]

    def edges(self) -> list:
        """Every edge once (bonds and open legs)."""
        return list(tn.get_all_edges(self.nodes))

    def bonds(self) -> Iterator[tuple[int, int, int]]:
        """``(node_id_a, node_id_b, dimension)`` for every edge joining two nodes."""
        for e in tn.get_all_nondangling(self.nodes):
            yield self.node_id(e.node1), self.node_id(e.node2), e.dimension

    def input_copies(self) -> list[int]:
        """Number of input copies per time step, counted in the network (equals ``spec.input_copies(T)``)."""
        counts = [0] * self.T
        for tag in self.tags:
            if tag.role == "W_I" and tag.layer == 1:
                counts[tag.time - 1] += 1
        return counts

    def stats(self) -> dict:
        """Node and edge counts, input copies per step and in total, open legs, nodes per role."""
        copies = self.input_copies()
        roles: dict[str, int] = {}
        for tag in self.tags:
            roles[tag.role] = roles.get(tag.role, 0) + 1
        open_legs = sum(len(es) for es in self.input_edges) + 1
        return {
            "depth": self.spec.L,
            "width": self.spec.R,
            "features": self.spec.M,
            "outputs": self.spec.K,
            "time": self.T,
            "form": self.form,
            "nodes": len(self.nodes),
            "edges": len(self.edges()),
            "bonds": sum(1 for _ in self.bonds()),
            "open_legs": open_legs,
            "input_copies": copies,
            "total_input_copies": sum(copies),
            "roles": roles,
        }


def check_form(form: str) -> str:
    """Return ``form`` if it is one of `FORMS`, else raise a clear ``TnrnnError``.

    Examples
    --------
    >>> check_form("grid")
    'grid'
    """
    if form not in FORMS:
        raise TnrnnError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    return form


def count_nodes(spec: RACSpec, T: int, form: str = "continuous", *, init_state: bool = False) -> int:
    """Number of nodes [`build_network`][tnrnn.network.build.build_network] would create, in closed form (instant even for T = 10**9).

    One instance of ``h[t, l]`` per lattice path, ``C(T - t + L - l, L - l)`` of them; summed over t and l
    (hockey-stick identity) that is ``C(T + L, L) - 1`` instances of 3 nodes each (copy, W_I, W_H or init).
    The ``C(T + L - 1, L - 1)`` instances at t = 1 get a 4th node with an explicit initial state, the grid form
    one tie per step with more than one input copy (t < T when L > 1), and ``W_O`` is one more.

    Examples
    --------
    >>> count_nodes(RACSpec(1, 2, 2), 3)   # 3 steps x (copy, W_I, W_H-or-init) + W_O
    10
    >>> count_nodes(RACSpec(2, 2, 2), 4, "grid", init_state=True)   # 1 + 3 x 14 instances + 5 at t = 1 + 3 ties
    51
    """
    T = check_positive_int("T", T)
    check_form(form)
    L = spec.L
    total = 1 + 3 * (math.comb(T + L, L) - 1)
    if init_state:
        total += math.comb(T + L - 1, L - 1)
    if form == "grid" and L > 1:
        total += T - 1
    return total


def nodes_over_limit(spec: RACSpec, T: int, form: str, *, init_state: bool = False, limit: int) -> str | None:
    """``None`` when [`count_nodes`][tnrnn.network.build.count_nodes] is at most ``limit``, else that count as text for an error message.

    The count is a binomial in T and L; with both large (say 10**6) computing it exactly takes minutes, so a
    log-gamma estimate decides first and far-too-large counts are shown as ``~10^x``.

    Examples
    --------
    >>> nodes_over_limit(RACSpec(2, 2, 2), 4, "continuous", limit=100) is None
    True
    >>> nodes_over_limit(RACSpec(10**6, 2, 2), 10**6, "grid", limit=100)
    '~10^602057'
    """
    L = spec.L
    log10 = math.log10(3) + (math.lgamma(T + L + 1) - math.lgamma(T + 1) - math.lgamma(L + 1)) / math.log(10)
    if log10 > max(30.0, math.log10(max(limit, 1)) + 1):
        return f"~10^{int(log10)}"
    n = count_nodes(spec, T, form, init_state=init_state)
    return f"{n:,}" if n > limit else None


def build_network(
    spec: RACSpec,
    T: int,
    params: RACParams | None = None,
    *,
    form: str = "continuous",
    max_nodes: int = DEFAULT_MAX_NODES,
) -> RACNetwork:
    """Build the tensor network of a RAC over T time steps.

    Parameters
    ----------
    spec : RACSpec
    T : int
        Number of time steps (>= 1).
    params : RACParams, optional
        Weights to put in the nodes (float or integer). ``None`` builds the structure only (zero tensors), which
        is all min-cuts and drawings need. An explicit initial state in ``params.h0`` adds ``init`` nodes behind
        ``W_H`` at t = 1.
    form : {"continuous", "grid"}
        One open input leg per input copy, or one per time step (copies tied by a copy tensor).
    max_nodes : int
        Refuse (``ResourceError``) networks with more nodes than this.

    Returns
    -------
    RACNetwork

    Raises
    ------
    TnrnnError
        Bad T, form, or params not matching spec.
    ResourceError
        The network would have more than ``max_nodes`` nodes.

    Examples
    --------
    >>> net = build_network(RACSpec(depth=2, width=2, features=2), T=4)
    >>> net.stats()["input_copies"], net.stats()["total_input_copies"]
    ([4, 3, 2, 1], 10)
    """
    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    T = check_positive_int("T", T)
    check_form(form)
    if params is not None and params.spec != spec:
        raise TnrnnError(f"params are for {params.spec}, not {spec}")
    largest = spec.R * max(spec.R, spec.M, spec.K)
    if largest >= 2**62:
        raise ResourceError(
            f"a weight matrix of R={spec.R}, M={spec.M}, K={spec.K} would have {format_count(largest)} entries, "
            "more than an array can index; use smaller sizes (the structured bounds need no network)"
        )
    init_state = params is not None and params.h0 is not None
    over = nodes_over_limit(spec, T, form, init_state=init_state, limit=max_nodes)
    if over is not None:
        raise ResourceError(
            f"the explicit network of L={spec.L}, T={T} would have {over} nodes (limit {max_nodes:,}); "
            "use the structured min-cut (tnrnn.bounds.mincut) or a smaller T, or raise max_nodes"
        )
    return _Builder(spec, T, params, form).build()


def structure_zeros(*shape: int) -> np.ndarray:
    """A read-only float64 zero array that takes no memory (zero strides), for structure-only networks.

    Shapes only matter there, and dense zeros of R x R with R = 10**5 would need 75 GiB.

    Examples
    --------
    >>> z = structure_zeros(10**6, 10**6)
    >>> z.shape, z.strides
    ((1000000, 1000000), (0, 0))
    """
    return np.broadcast_to(np.zeros(()), shape)


class _Builder:
    def __init__(self, spec: RACSpec, T: int, params: RACParams | None, form: str) -> None:
        self.spec, self.T, self.params, self.form = spec, T, params, form
        self.nodes: list = []
        self.tags: list[NodeTag] = []
        self.copy_counter: dict[tuple[str, int, int], int] = {}
        self.inputs: list[list] = [[] for _ in range(T)]
        R, M, K, L = spec.R, spec.M, spec.K, spec.L
        if params is None:
            self.W_I = [structure_zeros(R, M if l == 0 else R) for l in range(L)]
            self.W_H = [structure_zeros(R, R) for _ in range(L)]
            self.W_O = structure_zeros(K, R)
            self.h0 = None
            self.dtype: Any = np.float64
        else:
            self.W_I = [np.asarray(w) for w in params.W_I]
            self.W_H = [np.asarray(w) for w in params.W_H]
            self.W_O = np.asarray(params.W_O)
            self.h0 = None if params.h0 is None else [np.asarray(h) for h in params.h0]
            self.dtype = self.W_O.dtype
        self.ones = np.ones(R, dtype=self.dtype)

    def add(self, node, role: str, time: int, layer: int) -> Any:
        key = (role, time, layer)
        copy = self.copy_counter.get(key, 0)
        self.copy_counter[key] = copy + 1
        node.name = f"{role}[t={time},l={layer},c={copy}]"
        self.nodes.append(node)
        self.tags.append(NodeTag(role, time, layer, copy))
        return node

    def states(self, t: int, l: int, consumer) -> None:
        """Create the instance tree of ``h[t, l]`` whose value feeds the dangling edge ``consumer``.

        Iterative (explicit stack): the tree is T + L deep, too deep for Python recursion at long T.
        """
        R = self.spec.R
        stack = [(t, l, consumer)]
        while stack:
            t, l, consumer = stack.pop()
            delta = self.add(tn.CopyNode(3, R, dtype=self.dtype), "copy", t, l)
            delta[0] ^ consumer
            w_in = self.add(tn.Node(self.W_I[l - 1]), "W_I", t, l)
            w_in[0] ^ delta[1]
            if l == 1:
                self.inputs[t - 1].append(w_in[1])
            else:
                stack.append((t, l - 1, w_in[1]))
            if t > 1:
                w_h = self.add(tn.Node(self.W_H[l - 1]), "W_H", t, l)
                w_h[0] ^ delta[2]
                stack.append((t - 1, l, w_h[1]))
            elif self.h0 is None:
                init = self.add(tn.Node(self.ones), "init", 0, l)
                init[0] ^ delta[2]
            else:
                w_h = self.add(tn.Node(self.W_H[l - 1]), "W_H", t, l)
                w_h[0] ^ delta[2]
                init = self.add(tn.Node(self.h0[l - 1]), "init", 0, l)
                init[0] ^ w_h[1]

    def build(self) -> RACNetwork:
        L, T, M = self.spec.L, self.T, self.spec.M
        w_out = self.add(tn.Node(self.W_O), "W_O", T, L)
        self.states(T, L, w_out[1])
        input_edges = self.inputs
        if self.form == "grid":
            tied = []
            for t, legs in enumerate(self.inputs, start=1):
                if len(legs) == 1:
                    tied.append(legs)
                    continue
                tie = self.add(tn.CopyNode(len(legs) + 1, M, dtype=self.dtype), "tie", t, 0)
                for i, leg in enumerate(legs):
                    leg ^ tie[i]
                tied.append([tie[len(legs)]])
            input_edges = tied
        return RACNetwork(self.spec, T, self.form, self.nodes, self.tags, input_edges, w_out[0], self.params)
