"""Convolutional arithmetic circuits (ConvACs) as explicit tensor networks.

Cohen, Sharir, Shashua, *On the expressive power of deep learning: a tensor analysis* (COLT 2016), and Cohen,
Shashua, *Inductive bias of deep convolutional networks through pooling geometry* (ICLR 2017). A ConvAC maps
``N`` inputs ``x_1..x_N`` through a representation layer (``M`` functions, one matrix ``F`` shared by every
position), 1x1 convolutions and product pooling to a score; its coefficient tensor is

* **shallow** (CP): one hidden layer of width ``r`` and global product pooling:
  ``A = sum_z a_z  (x)_i a^{z,i}``. A copy tensor (hyper-index ``z``) joins the ``N`` convolutions and the
  output weights, so every partition costs ``r`` once: ``sep <= r``.
* **deep** (hierarchical Tucker) with pooling windows of size 2 and ``N = 2^L``: level ``l`` convolves with
  ``a^{l,j}`` (``r_{l-1} x r_l``, ``r_{-1} = M``) and a 3-leg copy tensor pools each window. The contiguous halves
  meet only at the top pooling (``sep <= r_{L-1}``), while an interleaved partition splits every window of the
  first level: ``min(M, r_0)`` per window, so the min-cut is ``min(M, r_0)^(N/2)``, exponential in ``N``.

[`build_convac`][tnrnn.models.convac.build_convac] builds the network (``tensornetwork`` nodes, tags, shared representation group);
[`convac_bounds`][tnrnn.models.convac.convac_bounds] returns the same [`NetworkRankReport`][tnrnn.bounds.general.NetworkRankReport] as any network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensornetwork as tn

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.network.indexed import IndexedNetwork, from_nodes

KINDS = ("shallow", "deep")
PARTITIONS = ("left-right", "odd-even")
#: Networks above this many inputs are refused before anything is built.
MAX_INPUTS = 4096


@dataclass
class ConvACNetwork:
    """A ConvAC as ``tensornetwork`` nodes.

    Attributes
    ----------
    kind : str
        ``"shallow"`` or ``"deep"``.
    N, M : int
        Inputs and representation channels.
    widths : tuple of int
        ``(r,)`` for the shallow network, ``(r_0, ..., r_{L-1})`` for the deep one.
    features : int
        Dimension of each input leg (the representation matrix is ``features x M``).
    nodes : list
        Every node; ``tags[i]`` (a set of str) describes ``nodes[i]``: ``rep``, ``conv<l>``, ``pool<l>``,
        ``out`` and the positions ``x<i>`` it owns.
    input_edges : list
        The open leg of each input, positions 1..N.
    groups : dict
        Node index -> group name of identical tensors (``"rep"``; ``"conv<l>"`` with ``share_conv``).
    """

    kind: str
    N: int
    M: int
    widths: tuple
    features: int
    nodes: list
    tags: list
    input_edges: list
    groups: dict = field(default_factory=dict)

    def to_indexed(self) -> IndexedNetwork:
        """The network as an [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork]: inputs ``x1..xN`` in order, tags and
        groups kept, pooling nodes as copy tensors.
        """
        base = from_nodes(self.nodes)
        rename = {base.aliases[id(e)]: f"x{i}" for i, e in enumerate(self.input_edges, start=1)}
        tensors = []
        for k, t in enumerate(base.tensors):
            tags = frozenset(self.tags[k])
            name = sorted(g for g in tags if not g.startswith("x"))[0] + f"_{k}"
            tensors.append(type(t)(name, tuple(rename.get(ix, ix) for ix in t.inds), t.data, tags, t.copy,
                                   self.groups.get(k)))
        sizes = {rename.get(ix, ix): d for ix, d in base.sizes.items()}
        origin = {rename.get(ix, ix): e for ix, e in base.origin.items()}
        aliases = {key: rename.get(v, v) if isinstance(v, str) else v for key, v in base.aliases.items()}
        for k, node in enumerate(self.nodes):
            aliases[id(node)] = tensors[k].name
        return IndexedNetwork(tensors, sizes, tuple(f"x{i}" for i in range(1, self.N + 1)), origin, aliases,
                              {"model": "convac", "kind": self.kind})

    def stats(self) -> dict:
        """Node count, pooling levels and widths."""
        return {"kind": self.kind, "inputs": self.N, "channels": self.M, "widths": list(self.widths),
                "features": self.features, "nodes": len(self.nodes)}


def _widths(kind: str, N: int, width: Any) -> tuple:
    levels = 1 if kind == "shallow" else int(math.log2(N))
    ws = (width,) * levels if isinstance(width, (int, np.integer)) else tuple(width)
    if len(ws) != levels:
        raise TnrnnError(f"a {kind} ConvAC with N={N} needs {levels} width(s), got {len(ws)}")
    return tuple(check_positive_int("width", w) for w in ws)


def _check(kind: str, N: int, M: int) -> None:
    if kind not in KINDS:
        raise TnrnnError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if N > MAX_INPUTS:
        raise ResourceError(f"a ConvAC with N={N:,} inputs has over {2 * N:,} nodes (limit {MAX_INPUTS:,} inputs); "
                            "use a smaller N")
    if kind == "deep" and (N < 2 or N & (N - 1)):
        raise TnrnnError(f"a deep ConvAC with pooling windows of size 2 needs N = 2^k >= 2 inputs, got N={N}")


def build_convac(
    kind: str,
    N: int,
    M: int,
    width: int | tuple = 2,
    *,
    features: int | None = None,
    share_conv: bool = False,
    seed: int | None = 0,
) -> ConvACNetwork:
    """Build a shallow (CP) or deep (hierarchical Tucker, pooling windows of 2) ConvAC as a tensor network.

    Parameters
    ----------
    kind : {"shallow", "deep"}
    N : int
        Number of inputs (a power of 2 for ``"deep"``).
    M : int
        Representation channels.
    width : int or tuple of int
        Hidden width ``r`` (shallow), or ``r_0..r_{L-1}`` per level (deep; one int for all levels).
    features : int, optional
        Dimension of each input (default M); the representation layer is one ``features x M`` matrix shared by
        every position.
    share_conv : bool
        Share each level's convolution across positions too (default: one kernel per position, as in the tensor
        analysis).
    seed : int or None
        Integer weights in [-9, 9] from ``numpy.random.default_rng(seed)``; None gives zeros (structure only).

    Returns
    -------
    ConvACNetwork

    Raises
    ------
    TnrnnError
        Bad sizes, or N not a power of 2 for a deep network.
    ResourceError
        More than ``MAX_INPUTS`` inputs (before anything is built).

    Examples
    --------
    >>> net = build_convac("deep", 4, 2, 3)
    >>> net.stats()["nodes"], net.widths      # 4 rep + 4 conv0 + 2 pool1 + 2 conv1 + pool2 + out
    (14, (3, 3))
    """
    N, M = check_positive_int("N", N), check_positive_int("M", M)
    _check(kind, N, M)
    widths = _widths(kind, N, width)
    s = M if features is None else check_positive_int("features", features)
    rng = np.random.default_rng(seed) if seed is not None else None
    shared: dict = {}

    def weights(shape: tuple, group: str | None) -> np.ndarray:
        if rng is None:
            return np.zeros(shape, dtype=np.int64)
        if group is not None:
            if group not in shared:
                shared[group] = rng.integers(-9, 10, shape)
            return shared[group]
        return rng.integers(-9, 10, shape)

    nodes: list = []
    tags: list = []
    groups: dict = {}

    def add(node, tag_set: set, group: str | None = None):
        if group is not None:
            groups[len(nodes)] = group
        nodes.append(node)
        tags.append(tag_set)
        return node

    conv_group = "conv0" if share_conv else None
    heads = []  # per position (then per window): the open r-leg of the current level's output
    inputs = []
    for i in range(1, N + 1):
        rep = add(tn.Node(weights((s, M), "rep"), name=f"rep{i}"), {"rep", f"x{i}"}, "rep")
        conv = add(tn.Node(weights((M, widths[0]), conv_group), name=f"conv0_{i}"), {"conv0", f"x{i}"}, conv_group)
        rep[1] ^ conv[0]
        inputs.append(rep[0])
        heads.append((conv[1], {f"x{i}"}))
    if kind == "shallow":
        pool = add(tn.CopyNode(N + 1, widths[0], name="pool"), {"pool1"})
        out = add(tn.Node(weights((widths[0],), None), name="out"), {"out"})
        for k, (leg, _) in enumerate(heads):
            leg ^ pool[k]
        pool[N] ^ out[0]
    else:
        level = 1
        while len(heads) > 1:
            nxt = []
            for j in range(len(heads) // 2):
                (a, pos_a), (b, pos_b) = heads[2 * j], heads[2 * j + 1]
                pool = add(tn.CopyNode(3, widths[level - 1], name=f"pool{level}_{j + 1}"), {f"pool{level}"})
                a ^ pool[0]
                b ^ pool[1]
                if len(heads) == 2:  # the top pooling feeds the output weights
                    out = add(tn.Node(weights((widths[level - 1],), None), name="out"), {"out"})
                    pool[2] ^ out[0]
                    break
                group = f"conv{level}" if share_conv else None
                conv = add(tn.Node(weights((widths[level - 1], widths[level]), group), name=f"conv{level}_{j + 1}"),
                           {f"conv{level}"}, group)
                pool[2] ^ conv[0]
                nxt.append((conv[1], pos_a | pos_b))
            heads = nxt
            level += 1
    return ConvACNetwork(kind, N, M, widths, s, nodes, tags, inputs, groups)


def convac_partition(N: int, partition: str | Any) -> list:
    """The inputs of side A: ``"left-right"`` (first half), ``"odd-even"`` (odd positions), or 1-based positions.

    Examples
    --------
    >>> convac_partition(8, "odd-even"), convac_partition(4, "left-right"), convac_partition(4, "2,3")
    (['x1', 'x3', 'x5', 'x7'], ['x1', 'x2'], ['x2', 'x3'])
    """
    named = {"left-right": range(1, N // 2 + 1), "start-end": range(1, N // 2 + 1),
             "odd-even": range(1, N + 1, 2), "interleaved": range(1, N + 1, 2)}
    if isinstance(partition, str) and partition.strip().lower() in named:
        chosen = list(named[partition.strip().lower()])
    else:
        try:
            items = partition.split(",") if isinstance(partition, str) else list(partition)
            chosen = sorted({int(v) for v in items})
        except (TypeError, ValueError):
            raise TnrnnError(f"partition must be left-right, odd-even or 1-based positions such as 1,3, got "
                             f"{partition!r}") from None
    if not chosen or len(chosen) >= N or chosen[0] < 1 or chosen[-1] > N:
        raise TnrnnError(f"side A must hold 1..{N - 1} of the positions 1..{N}, got {chosen}")
    return [f"x{i}" for i in chosen]


def convac_theory(net: ConvACNetwork, partition: Any) -> list:
    """The published statements about this partition, as ``(name, relation, value, source)``.

    Examples
    --------
    >>> convac_theory(build_convac("deep", 8, 3, 2, seed=None), "odd-even")[0][:3]
    ('interleaved windows', '<=', 16)
    """
    left = {int(x[1:]) for x in convac_partition(net.N, partition)}
    shallow = "Cohen, Sharir, Shashua (COLT 2016): a shallow ConvAC of width r has separation rank <= r"
    pooling = "Cohen, Shashua (ICLR 2017): pooling geometry decides which partitions a deep ConvAC can correlate"
    if net.kind == "shallow":
        return [("CP width", "<=", net.widths[0], shallow)]
    split = sum(1 for j in range(1, net.N, 2) if (j in left) != (j + 1 in left))
    rows = [("interleaved windows", "<=", min(net.M, net.features, net.widths[0]) ** split if split == net.N // 2
             else None, pooling)]
    if left == set(range(1, net.N // 2 + 1)):
        rows = [("top width (contiguous halves)", "<=", net.widths[-1], pooling)]
    return [r for r in rows if r[2] is not None]


#: Seconds per rows x cols x min(rows, cols) of the sketch's elimination, plus its contraction (the fixed cost model
#: of the ConvAC certificate's work budget; measured on this project's benchmark machine, two cores).
_CONVAC_RANK_PER_UNIT = 3e-10
#: Smallest matrix side a budget may impose (a few entries cost nothing and still certify something).
_MIN_SIDE = 8


def certificate_side(seconds: float | None = None, work: float | None | str = "auto", runs: int = 1) -> int | None:
    """Largest matricisation side the certificate of a ConvAC may use under a time box or work budget (None: any).

    The certificate of a general network ([`tnrnn.bounds.general.separation_bounds`][tnrnn.bounds.general.separation_bounds]) contracts the network
    into one matrix, sketched down to what the memory budget holds, and eliminates it: its cost is that of an
    ``n x n`` elimination. So a budget of ``s`` seconds (or work units) is honoured by capping ``n`` at
    ``(s / (runs c))^(1/3)`` (every seed and prime may run), which [`convac_bounds`][tnrnn.models.convac.convac_bounds] turns into the memory budget
    that sketches to that side.
    ``work="auto"`` is the RAC default: `tnrnn.rac.problem.DEFAULT_CERTIFY_WORK` unless a time box is given.

    Examples
    --------
    >>> certificate_side(seconds=2.0), certificate_side(seconds=2.0, runs=2)
    (1882, 1493)
    >>> certificate_side(seconds=None, work=None) is None
    True
    """
    from tnrnn.rac.problem import DEFAULT_CERTIFY_WORK, _check_seconds

    secs = _check_seconds(seconds)
    if isinstance(work, str) and work == "auto":
        work = DEFAULT_CERTIFY_WORK if secs is None else None
    else:
        work = _check_seconds(work, "certify_work")
    limits = [v for v in (secs, work) if v is not None]
    if not limits:
        return None
    return max(_MIN_SIDE, int((min(limits) / (max(1, runs) * _CONVAC_RANK_PER_UNIT)) ** (1 / 3)))


def convac_bounds(net: ConvACNetwork, partition: Any = "left-right", *, certify_seconds: float | None = None,
                  certify_work: float | None | str = "auto", budget_mb: float | None = None, **kwargs: Any):
    """[`tnrnn.bounds.general.separation_bounds`][tnrnn.bounds.general.separation_bounds] of a ConvAC for a partition of its inputs.

    The representation matrix is shared by every position, so the certificate draws it once. The certificate
    honours ``certify_seconds`` / ``certify_work`` (as for RACs; [`certificate_side`][tnrnn.models.convac.certificate_side]) and ``budget_mb``: the
    matrix is sketched to the smaller of what the memory budget holds and what the time or work allows. A sketch's
    rank is still a certified lower bound, only possibly below the separation rank.

    Examples
    --------
    >>> rep = convac_bounds(build_convac("deep", 8, 3, 2), "odd-even")
    >>> str(rep.upper), rep.lower, rep.exact           # min(M, r_0)^(N/2)
    ('2^4 = 16', 16, True)
    >>> convac_bounds(build_convac("deep", 8, 3, 2), "odd-even", certify_seconds=0).lower <= 16
    True
    """
    from tnrnn.base.budget import budget_bytes
    from tnrnn.base.validate import check_budget_mb
    from tnrnn.bounds.general import BYTES_PER_ENTRY, separation_bounds

    runs = len(list(kwargs.get("seeds", (0,)))) * len(list(kwargs.get("primes", (0,))))
    side = certificate_side(certify_seconds, certify_work, runs)
    memory = budget_bytes(check_budget_mb(budget_mb))
    note = ""
    if side is not None and side * side * BYTES_PER_ENTRY * 3 < memory:
        # separation_bounds sketches any matrix over budget / (3 x BYTES_PER_ENTRY) entries down to this side
        memory = (side * side * BYTES_PER_ENTRY * 3 + 3 * BYTES_PER_ENTRY) // 1
        note = (f"certificate capped at a {side} x {side} matrix by the time or work budget (--certify-seconds, "
                "--certify-work); a larger budget may certify more")
    report = separation_bounds(net, convac_partition(net.N, partition), budget_mb=memory / 2**20, **kwargs)
    widths = net.widths[0] if len(set(net.widths)) == 1 else net.widths
    report.label = f"{net.kind} ConvAC (N={net.N}, M={net.M}, r={widths}), partition {partition}"
    if note and not report.exact:
        report.notes.append(note)
    for name, relation, value, source in convac_theory(net, partition):
        verdict = "consistent" if report.lower <= value else "CONTRADICTED by the certified rank"
        report.notes.append(f"published: {name} {relation} {value} ({source}); {verdict}")
    return report
