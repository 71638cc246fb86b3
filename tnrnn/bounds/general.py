"""Separation-rank bounds for any tensor network: the exact min-cut and a certified GF(p) lower bound.

[`separation_bounds`][tnrnn.bounds.general.separation_bounds] takes a network a user built (``tensornetwork`` nodes, a quimb ``TensorNetwork``, an
einsum equation with shapes or arrays, a RACNetwork) and a bipartition of its open legs, and returns a
[`NetworkRankReport`][tnrnn.bounds.general.NetworkRankReport] (a [`tnrnn.rank.RankReport`][tnrnn.report.RankReport]):

* the min-cut upper bound (Levine, Yakira, Cohen, Shashua, ICLR 2018; docs/theory.md, 'Min-cut bound'), exact,
  with the cut edges ([`tnrnn.bounds.cut_explicit.explicit_mincut`][tnrnn.bounds.cut_explicit.explicit_mincut]);
* a certified lower bound: the rank over GF(p) of the network contracted with random weights
  ([`tnrnn.bounds.gfp_network`][tnrnn.bounds.gfp_network]), its seeds and primes in the certificate; ``exact`` when the two meet;
* with ``weights="given"``, also the rank at the tensors' own values: exact for integer or rational data, a
  labelled floating-point estimate otherwise.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tnrnn.base.budget import budget_bytes as resolve_budget
from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import ResourceError, TnrnnError, human_bytes
from tnrnn.base.validate import bounded_int_list, check_budget_mb, shown
from tnrnn.bounds.certificate import Certificate, CertRun
from tnrnn.bounds.cut_explicit import CutResult, _solve_cut, split_open
from tnrnn.bounds.gfp_network import Plan, given_tensors, is_exact_data, random_tensors, rank_mod_p, rank_over_q
from tnrnn.network.indexed import IndexedNetwork, as_network
from tnrnn.rac.params import DEFAULT_PRIME
from tnrnn.rank import RankReport

#: Most certificate runs (seeds) per prime.
MAX_SEEDS = 1000
#: Most primes (each runs with every seed).
MAX_PRIMES = 100
#: Bytes per matrix entry budgeted for the certificate (int64 blocks, the python list flint reads, flint's copy).
BYTES_PER_ENTRY = 64


@dataclass
class NetworkRankReport(RankReport):
    """A [`RankReport`][tnrnn.report.RankReport] about a user's network (no RAC spec, T or partition).

    Extra attributes
    ----------------
    left, right : tuple of str
        The open legs on each side (index names of [`IndexedNetwork`][tnrnn.network.indexed.IndexedNetwork]).
    cut : CutResult
        The min-cut with its cut ``edges`` and the ``sides`` of every tensor.
    given_rank : int or None
        The rank at the tensors' own values (``weights="given"``).
    given_rank_kind : str
        ``"exact"`` (integer or rational data, rank over Q) or ``"floating-point estimate"``.
    """

    left: tuple = ()
    right: tuple = ()
    cut: CutResult | None = None
    given_rank: int | None = None
    given_rank_kind: str = ""

    def to_json(self) -> dict:
        """A JSON-ready dict; every count (``lower``, ``upper``, ``bounds``, ``given_rank``) in the one count shape
        ``{"value": "<decimal>", "log2": float}`` of [`tnrnn.ExactCount.to_json`][tnrnn.base.counts.ExactCount.to_json].

        ``cut`` describes the min-cut (its value is ``bounds["mincut"]``): ``edges`` as the strings of
        [`cut_edge_name`][tnrnn.bounds.general.cut_edge_name], the method, the number of cut bonds per dimension and why it is exact.

        Examples
        --------
        >>> rep = separation_bounds(("ab,bc->ac", [(2, 3), (3, 2)]), left=["a"])
        >>> data = rep.to_json()
        >>> data["lower"], data["upper"]["value"], data["cut"]["edges"]
        ({'value': '2', 'log2': 1.0}, '2', ['a'])
        """
        def count(x: Any) -> dict | None:
            return None if x is None else (x if isinstance(x, ExactCount) else ExactCount(int(x))).to_json()

        cut = None
        if self.cut is not None:
            cut = {"edges": [cut_edge_name(e) for e in self.cut.edges], "method": self.cut.method,
                   "form": self.cut.form, "counts": {str(d): n for d, n in self.cut.counts.items()},
                   "certificate": self.cut.certificate, "stats": self.cut.stats}
        return {
            "left": list(self.left),
            "right": list(self.right),
            "lower": count(self.lower),
            "upper": count(self.upper),
            "upper_source": self.upper_source,
            "exact": self.exact,
            "bounds": {k: count(v) for k, v in self.bounds.items()},
            "bound_notes": dict(self.bound_notes),
            "cut": cut,
            "given_rank": count(self.given_rank),
            "given_rank_kind": self.given_rank_kind,
            "notes": list(self.notes),
            "certificate": self.certificate.to_json(),
            "timings": dict(self.timings),
        }

    def __str__(self) -> str:
        rows = [
            ("lower (certified)", str(self.lower), f"GF(p) rank, max over {len(self.certificate.runs)} run(s)"),
            ("upper (best)", str(self.upper), f"from {self.upper_source}"),
            ("exact", "yes" if self.exact else "no", "lower == upper" if self.exact else "gap remains"),
        ]
        rows += [(f"  {k}", "-" if v is None else str(v), self.bound_notes.get(k, "")) for k, v in self.bounds.items()]
        if self.given_rank is not None:
            rows.append(("rank at the given values", str(self.given_rank), self.given_rank_kind))
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        label = getattr(self, "label", "") or f"tensor network, {len(self.left)} | {len(self.right)} open legs"
        lines = [f"Separation rank of a {label}"]
        lines += [f"  {a:<{w0}}  {b:<{w1}}  {c}".rstrip() for a, b, c in rows]
        if self.cut is not None:
            lines.append(f"  cut: {', '.join(map(cut_edge_name, self.cut.edges)) or 'nothing'}")
        lines.extend(f"  note: {n}" for n in self.notes)
        cert = self.certificate
        lines.append(f"  certificate: seeds {sorted(set(cert.seeds))}, primes {sorted(set(cert.primes))}; {cert.method}")
        return "\n".join(lines)


def cut_edge_name(e: Any) -> str:
    """A cut edge (a [`CutEdge`][tnrnn.bounds.mincut.CutEdge], an Edge or an index name) as text: the index label
    of a quimb or einsum network, a ``tensornetwork`` Edge as ``"name (dim)"`` or ``"node1-node2 (dim)"``.

    Examples
    --------
    >>> cut_edge_name("k3")
    'k3'
    """
    if isinstance(e, str):
        return e
    if getattr(e, "edge", "") is None:  # a CutEdge of a quimb or einsum network: its index label
        return str(e.index)
    e = getattr(e, "edge", e)
    name = getattr(e, "name", "")
    if name and name != "__unnamed_edge__":
        return f"{name} ({e.dimension})"
    ends = [n.name for n in (e.node1, e.node2) if n is not None]
    return f"{'-'.join(ends) if ends else 'edge'} ({e.dimension})"


def _apply_marks(net: IndexedNetwork, shared: Any, fixed: Any) -> IndexedNetwork:
    """A copy of ``net`` with the user's groups of identical tensors and fixed tensors marked."""
    tensors = list(net.tensors)
    if shared is not None:
        groups = [shared] if isinstance(shared, str) else list(shared)
        for k, group in enumerate(groups):
            for i in net.select_tensors(group):
                tensors[i] = replace(tensors[i], group=f"shared{k}")
    if fixed is not None:
        for i in net.select_tensors(fixed):
            tensors[i] = replace(tensors[i], fixed=True)
    return replace(net, tensors=tensors)


def _certify_generic(plan: Plan, seeds: list, primes: list, upper: ExactCount) -> Certificate:
    runs: list = []
    best = 0
    notes: list = []
    for p in primes:
        for seed in seeds:
            if best and upper == best:
                notes.append("remaining runs skipped: the lower bound met the min-cut")
                break
            t0 = time.perf_counter()
            rng = np.random.default_rng([seed, p, 1])  # the sketch's vectors, after the weights' stream
            vectors = {ix: rng.integers(0, p, plan.sizes[ix], dtype=np.int64) for ix in plan.sketched}
            matrix = plan.matrix(random_tensors(plan.net, p, seed), p, vectors)
            r = rank_mod_p(matrix, p)
            best = max(best, r)
            seconds = time.perf_counter() - t0
            runs.append(CertRun(seed, p, r, plan.n_rows, plan.n_cols, "network contracted over GF(p)"
                                + (" (sketch)" if plan.sketched else ""), seconds,
                                [[plan.n_rows, plan.n_cols, r, seconds]], "sketch" if plan.sketched else "full matrix"))
    method = ("every weight tensor uniform over GF(p) from numpy.random.default_rng([seed, p]) in tensor order "
              "(one draw per group of identical tensors; copy and fixed tensors kept); exact contraction along an "
              "opt_einsum path; rank over GF(p) <= rank over Q <= generic rank")
    if plan.sketched:
        method += (f"; sketch: {len(plan.sketched)} open leg(s) ({', '.join(plan.sketched[:6])}"
                   f"{', ...' if len(plan.sketched) > 6 else ''}) contracted with uniform GF(p) vectors from "
                   "default_rng([seed, p, 1]) (the rank of a sketch is at most the matricisation's)")
    return Certificate(best, runs, "tensor", method, 0, notes)


def _given_exact(plan: Plan) -> tuple[int, str]:
    matrix = plan.matrix(given_tensors(plan.net, exact=True), None)
    return rank_over_q(matrix), "exact (integer/rational data, rank over Q with flint fmpz_mat)"


def _given_float(plan: Plan) -> tuple[int, str]:
    values = given_tensors(plan.net, exact=False)
    # Complex data keep their imaginary parts: the rank is then over C (casting to float would drop them).
    field = "C" if any(v is not None and np.iscomplexobj(v) for v in values) else "R"
    mat = plan.matrix(values, None, dtype=complex if field == "C" else float)
    return (int(np.linalg.matrix_rank(mat)),
            f"floating-point estimate over {field} (numpy.linalg.matrix_rank, default tolerance)")


#: How the rank at the user's values is computed, by whether the data are exact (integer or rational).
GIVEN_RANK: dict[bool, Callable[[Plan], tuple[int, str]]] = {True: _given_exact, False: _given_float}
WEIGHTS = ("generic", "given")


def separation_bounds(
    tn: Any,
    left: Any,
    *,
    right: Any = None,
    weights: str = "generic",
    shared: Any = None,
    fixed: Any = None,
    seeds: Iterable[int] = (0,),
    primes: Iterable[int] = (DEFAULT_PRIME,),
    budget_mb: float | None = None,
    sketch: bool = True,
    solver: str = "scipy",
) -> NetworkRankReport:
    """Min-cut upper bound and certified lower bound on the separation rank of any tensor network.

    Parameters
    ----------
    tn
        A list of ``tensornetwork`` nodes (dangling edges are the open legs), a quimb ``TensorNetwork``,
        ``(equation, shapes or arrays)`` with hyper-indices allowed, a RACNetwork, or an IndexedNetwork.
    left, right
        The open legs of each side: open index names, Edge objects, or tensors (names, tags, node objects) whose
        open legs they are. ``right`` defaults to all other open legs; legs on neither side are fixed at index 0.
    weights : {"generic", "given"}
        ``"generic"``: bounds for almost all weight values. ``"given"``: also the rank at the tensors' values
        (over Q for integer or Fraction data, exact; a floating-point estimate over R for real data and over C
        for complex data, imaginary parts included).
    shared : str or list of lists, optional
        Groups of tensors holding identical values (selectors as for ``left``); a single tag is one group.
    fixed : selectors, optional
        Tensors that are constants, not weights (kept as given; integer or rational values).
    seeds, primes : iterables of int
        The certificate's runs (every prime with every seed); stops once the lower bound meets the min-cut.
    budget_mb : float, optional
        Memory budget (default ``$TNRNN_MAX_BYTES``).
    sketch : bool, default True
        When the matricisation is over the budget, keep only enough open legs of each side to reach the min-cut
        (within the budget) and contract the others with random GF(p) vectors: the rank of that sketch is still
        a certified lower bound. ``False`` refuses instead.
    solver : str
        Max-flow solver (`tnrnn.bounds.cut_explicit.MAXFLOW_SOLVERS`).

    Returns
    -------
    NetworkRankReport

    Raises
    ------
    TnrnnError
        An unreadable network (malformed equation, dimensions that are not integers from 1 to 2^31 - 1,
        arrays that are not finite numbers, more than `tnrnn.base.validate.MAX_TENSORS` tensors),
        selectors naming nothing or unhashable, bad seeds (more than `MAX_SEEDS`, read lazily), primes,
        weights or ``budget_mb``; all checked before any work proportional to them.
    ResourceError
        The matricisation exceeds the budget and ``sketch=False``, or an intermediate of the contraction exceeds
        it; the message gives the estimate and the min-cut upper bound, which remains valid.

    Examples
    --------
    >>> import numpy as np, tensornetwork as tn
    >>> a, b, c = (tn.Node(np.ones(s)) for s in [(2, 3), (3, 2, 3), (3, 2)])
    >>> _ = a[1] ^ b[0]; _ = b[2] ^ c[0]
    >>> rep = separation_bounds([a, b, c], [a])   # an MPS of 3 sites, bond 3: cut after the first site
    >>> str(rep.upper), rep.lower, rep.exact
    ('2', 2, True)
    """
    # Every argument checked from its metadata before the network is read (tnrnn.base.validate).
    if not isinstance(weights, str) or weights not in WEIGHTS:
        raise TnrnnError(f"weights must be one of {', '.join(WEIGHTS)}, got {shown(weights)}")
    seed_list = bounded_int_list("seeds", seeds, MAX_SEEDS)
    prime_list = bounded_int_list("primes", primes, MAX_PRIMES, minimum=2, maximum=2**31 - 1)
    for p in prime_list:
        if not _is_prime(p):
            raise TnrnnError(f"primes must be primes below 2^31, got {p}")
    budget_mb = check_budget_mb(budget_mb)
    if not isinstance(sketch, (bool, np.bool_)):
        raise TnrnnError(f"sketch must be True or False, got {shown(sketch)}")
    t_start = time.perf_counter()
    net = _apply_marks(as_network(tn), shared, fixed)
    side = split_open(net, left, right)
    rows = tuple(ix for ix in net.open if side.get(ix) == 0)
    cols = tuple(ix for ix in net.open if side.get(ix) == 1)
    cut = _solve_cut(net, side, solver=solver)
    trivial = min(ExactCount.product(_dim_counts(net, rows)), ExactCount.product(_dim_counts(net, cols)))
    bounds = {"mincut": cut.value, "trivial": trivial}
    upper_source = "mincut" if cut.value <= trivial else "trivial"
    upper = bounds[upper_source]
    t_bounds = time.perf_counter()
    budget = resolve_budget(budget_mb)
    remains = f"the min-cut upper bound remains: {cut.value} (raise budget_mb, or choose a side with fewer legs)"
    n_rows, n_cols = (math.prod(net.sizes[ix] for ix in legs) for legs in (rows, cols))
    sketched: tuple = ()
    if n_rows * n_cols * BYTES_PER_ENTRY * 3 > budget:  # decided before any path search or allocation
        if not sketch:
            raise ResourceError(f"the certified lower bound needs a {_big(n_rows)} x {_big(n_cols)} matrix, over "
                                f"the budget of {human_bytes(budget)}; {remains}")
        cap = math.isqrt(budget // (BYTES_PER_ENTRY * 3))  # most rows (and columns) the budget holds
        target = min(cap, int(upper) if upper.log2 < 62 else cap)
        keep_r, keep_c = _keep(net, rows, target, cap), _keep(net, cols, target, cap)
        sketched = tuple(ix for ix in rows + cols if ix not in set(keep_r) | set(keep_c))
        rows, cols = keep_r, keep_c
    _check_tensor_sizes(net, budget, remains)
    plan = Plan(net, rows, cols, sketched=sketched)
    plan.check(budget, BYTES_PER_ENTRY, "the certified lower bound", remains)
    cert = _certify_generic(plan, seed_list, prime_list, upper)
    notes: list = []
    given = kind = None
    if weights == "given" and sketched:
        notes.append("no rank at the given values: the matricisation is over the budget (the certificate is a sketch)")
    elif weights == "given":
        given, kind = GIVEN_RANK[is_exact_data(net)](plan)
        if given is not None and upper < given:  # pragma: no cover - a float estimate above a valid bound
            notes.append(f"the floating-point rank {given} exceeds the upper bound {upper}: tolerance too tight")
    t_end = time.perf_counter()
    report = NetworkRankReport(
        spec=None, T=None, partition=None, domain="tensor", lower=cert.rank, upper=upper,
        upper_source=upper_source, exact=upper == cert.rank, bounds=bounds, theory=[], contradictions=[],
        certificate=cert, timings={"bounds": t_bounds - t_start, "certify": t_end - t_bounds, "total": t_end - t_start},
        upper_sources=[k for k, v in bounds.items() if v == upper],
        bound_notes={"mincut": f"{cut.method}: {cut.certificate}",
                     "trivial": "the smaller side's product of open-leg dimensions"},
        notes=notes, left=rows, right=cols, cut=cut, given_rank=given, given_rank_kind=kind or "",
    )
    report.label = f"tensor network of {len(net.tensors)} tensors, {len(rows)} | {len(cols)} open legs"
    return report


def _check_tensor_sizes(net: IndexedNetwork, budget: int, remains: str) -> None:
    """Refuse, from the shapes, a tensor the certificate cannot draw at random within the budget."""
    for t in net.tensors:
        if t.copy:
            continue
        entries = math.prod(net.sizes[ix] for ix in t.inds)
        if entries * BYTES_PER_ENTRY > budget:
            raise ResourceError(f"tensor {shown(t.name)} has {_big(entries)} entries: drawing it for the certificate "
                                f"exceeds the budget of {human_bytes(budget)}; {remains}")


def _keep(net: IndexedNetwork, legs: tuple, target: int, cap: int) -> tuple:
    """Open legs kept for a sketch: in order, until their dimensions multiply to ``target``, never past ``cap``."""
    kept: list = []
    size = 1
    for ix in legs:
        if size >= target:
            break
        if size * net.sizes[ix] <= cap:
            kept.append(ix)
            size *= net.sizes[ix]
    return tuple(kept)


def _big(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"~2^{n.bit_length() - 1}"


def _dim_counts(net: IndexedNetwork, legs: tuple) -> dict:
    counts: dict = {}
    for ix in legs:
        d = net.sizes[ix]
        counts[d] = counts.get(d, 0) + 1
    return counts


def _is_prime(p: int) -> bool:
    import flint

    return bool(flint.fmpz(p).is_prime())


__all__ = ["NetworkRankReport", "separation_bounds", "ResourceError"]
