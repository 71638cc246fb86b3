"""Contraction paths: a registry of path finders with one signature, the cost simulation, the chosen path.

Every finder in :data:`PATH_FINDERS` is ``finder(es, sizes, seed) -> path`` (an opt_einsum linear path) and is
deterministic for a given seed: none stops on a wall-clock limit, so the path chosen for a network does not
depend on how busy the machine is. :func:`find_path` runs the selected finders and keeps the cheapest path by
flops, then peak memory, then registry order. No finder wins on every RAC shape: the time-ordered sweep is best
on shallow batches, the leaf elimination ("tree") on deep continuous batches, cotengra's hyper-optimiser
(kahypar partitions when installed) on grid forms, greedy variants on small tables.

The cost is this module's own walk of the path (:func:`simulate_path`) rather than cotengra's
``ContractionTree`` costs, for one reason: the weights are shared. A RAC network holds thousands of operands
that are the same few weight arrays, so peak memory counts each distinct leaf array once (the shared-weight
rule); the walk also yields the local pairwise equations the executors run.
"""

from __future__ import annotations

import contextlib
import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import opt_einsum as oe
from opt_einsum.paths import linear_to_ssa, ssa_to_linear

from tnrnn.base.errors import TnrnnError
from tnrnn.network.einsum import EinsumSpec

#: Batch size the path search assumes. Plans depend on the structure only: the batch is a broadcast dimension
#: and one plan serves every batch size (its cost is re-walked for the actual batch, which takes milliseconds).
PLAN_BATCH = 256

#: Weight of memory traffic in the score that picks a path: ``flops + COMBO_WRITE * (entries written)``, as
#: cotengra's "combo" objective. Flops alone picked a grid-form path with a 2^22-entry intermediate that ran 44x
#: slower than one with 1.6x the flops and 16x smaller intermediates.
COMBO_WRITE = 64

#: Networks up to this many operands get cotengra's subtree reconfiguration.
RECONF_MAX_OPERANDS = 128

#: Networks up to this many operands get their best path refined by cotengra's subtree reconfiguration (optimal
#: re-contraction of every subtree of :data:`REFINE_SUBTREE` leaves; deterministic, about 0.2 s at 400 operands).
REFINE_MAX_OPERANDS = 2000
REFINE_SUBTREE = 6

#: Trials of the seeded searches (random-greedy, cotengra): a fixed count, never a time limit.
SEARCH_TRIALS = 16

Finder = Callable[[EinsumSpec, dict, int], list]


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
        opt_einsum-style linear path, made pairwise.
    flops : int
        Estimated floating point operations (opt_einsum's counting: 2 per multiply-add) at :attr:`batch`.
    peak_bytes : int
        Peak of live memory along the path (distinct leaf arrays plus live intermediates), at ``itemsize``.
    largest_intermediate : int
        Entries of the largest intermediate.
    path_optimizer : str
        The finder that found the path.
    candidates : dict
        Flops of every finder tried (None: abandoned at more than 16x the best).
    search_seconds : float
    steps : tuple of Step
        The path as local contractions.
    skipped : dict
        Finders not run, with the reason.
    batch : int
        The batch size the costs are for.
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
    batch: int = PLAN_BATCH

    def to_json(self) -> dict:
        """The costs as a JSON-ready dict (without the path itself)."""
        return {
            "flops": self.flops,
            "peak_bytes": self.peak_bytes,
            "largest_intermediate": self.largest_intermediate,
            "path_optimizer": self.path_optimizer,
            "candidates": dict(self.candidates),
            "skipped": dict(self.skipped),
            "search_seconds": round(self.search_seconds, 4),
        }


# ---------------------------------------------------------------------------------------------------------------
# Path bookkeeping


def pairwise(path: Iterable[Sequence[int]], n: int) -> list[tuple]:
    """Split k-ary steps of a linear path over ``n`` operands into pairwise ones.

    Examples
    --------
    >>> pairwise([(0, 1, 2), (0, 1)], 4)
    [(0, 1), (0, 2), (0, 1)]
    """
    ssa = linear_to_ssa([tuple(int(i) for i in s) for s in path])
    renamed: dict[int, int] = {i: i for i in range(n)}
    out: list[tuple] = []
    next_old, next_new = n, n
    for step in ssa:
        ids = [renamed[i] for i in step]
        acc = ids[0]
        if len(ids) == 1:
            out.append((acc,))
            acc = next_new
            next_new += 1
        for other in ids[1:]:
            out.append((acc, other))
            acc = next_new
            next_new += 1
        renamed[next_old] = acc
        next_old += 1
    return [tuple(s) for s in ssa_to_linear(out)]


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
    >>> from tnrnn.network.einsum import network_to_einsum
    >>> from tnrnn.rac.spec import RACSpec
    >>> es = network_to_einsum(build_network(RACSpec(1, 2, 2), T=2))
    >>> steps, flops, peak, largest = simulate_path(es, [(0, 1)] * (len(es.inputs) - 1), batch=4)
    >>> len(steps) >= len(es.inputs) - 1, flops > 0, peak >= largest * 4
    (True, True, True)
    """
    sizes = es.sized(batch)
    live = [tuple(ix) for ix in es.inputs]
    count = Counter(s for ix in live for s in set(ix))
    for s in es.output:
        count[s] += 1
    # The shared-weight rule: leaves are a few distinct arrays referenced many times; count each one once.
    distinct = {(ref.kind, ref.index, ref.shape): ix for ref, ix in zip(es.operands, es.inputs)}
    leaf_bytes = sum(math.prod(sizes[s] for s in ix) * itemsize for ix in distinct.values())
    is_leaf = [True] * len(live)
    inter_bytes, peak, flops, largest = 0, leaf_bytes, 0, 0
    steps = []
    for pos in pairwise(path, len(live)):
        ops = [live[i] for i in pos]
        for ix in ops:
            for s in set(ix):
                count[s] -= 1
        involved = list(dict.fromkeys(s for ix in ops for s in ix))
        out = tuple(s for s in involved if count[s] > 0)
        if es.batch_symbol in out:  # batch-major intermediates: every product is a plain matrix product over rows
            out = (es.batch_symbol,) + tuple(s for s in out if s != es.batch_symbol)
        for s in out:
            count[s] += 1
        summed = math.prod(sizes[s] for s in involved if s not in out)
        inner = len(out) < len(involved)
        flops += math.prod(sizes[s] for s in involved) * (max(1, len(ops) - 1) + (1 if inner else 0))
        if max_flops is not None and flops > max_flops:
            return None
        out_size = math.prod(sizes[s] for s in out)
        largest = max(largest, out_size)
        freed = sum(math.prod(sizes[s] for s in live[i]) * itemsize for i in pos if not is_leaf[i])
        inter_bytes += out_size * itemsize
        peak = max(peak, leaf_bytes + inter_bytes)
        inter_bytes -= freed
        letters = {s: oe.get_symbol(k) for k, s in enumerate(involved)}
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


# ---------------------------------------------------------------------------------------------------------------
# Path finders: finder(es, sizes, seed) -> linear path


def _greedy(es: EinsumSpec, sizes: dict, seed: int) -> list:
    """opt_einsum's greedy (deterministic)."""
    return list(oe.paths.greedy([set(ix) for ix in es.inputs], set(es.output), sizes))


def _random_greedy(es: EinsumSpec, sizes: dict, seed: int) -> list:
    """opt_einsum's random-greedy, a fixed number of trials (trial r is seeded by r, so no clock is involved)."""
    opt = oe.RandomGreedy(max_repeats=SEARCH_TRIALS, minimize="flops", parallel=False)
    return list(opt([set(ix) for ix in es.inputs], set(es.output), sizes))


def _hyper_methods() -> list[str]:
    try:
        import kahypar  # noqa: F401
    except ImportError:  # optional: graph partitioning then falls back to greedy and label propagation
        return ["greedy", "labels"]
    return ["greedy", "kahypar"]


def _cotengra(es: EinsumSpec, sizes: dict, seed: int) -> list:
    """The cotengra HyperOptimizer: seeded parameter sampling, seeded partitioner, a fixed number of trials."""
    import cotengra as ctg

    methods = _hyper_methods()
    opt = ctg.HyperOptimizer(
        methods=methods, max_repeats=SEARCH_TRIALS, max_time=None, minimize="flops", parallel=False,
        progbar=False, optlib="random", optlib_opts={"seed": seed}, on_trial_error="ignore",
        # Subtree reconfiguration halves the grid form's flops at 88 operands but takes seconds per trial at 400:
        # used on small networks only (a rule on the structure, not on the clock, so the path stays deterministic).
        reconf_opts={"seed": seed} if len(es.inputs) <= RECONF_MAX_OPERANDS else None,
        # kahypar draws its own partitioner seed unless one is given, and contracts inside and between its
        # partitions with cotengra's random-greedy, which is unseeded there and forks a process pool: plain greedy.
        constants={m: ({"seed": seed, "sub_optimize": "greedy", "super_optimize": "greedy"} if m.startswith("kahypar")
                       else {}) for m in methods},
    )
    with _no_fork_pool():
        return list(opt.search([tuple(ix) for ix in es.inputs], tuple(es.output), sizes).get_path())


@contextlib.contextmanager
def _no_fork_pool():
    """Run cotengra as if inside one of its own workers, where it makes no process pool.

    Inside the partitioner and the reconfiguration cotengra still runs searches with ``parallel="auto"``, which
    forks a process pool from this (jax-threaded) process: unsafe, nondeterministic, and the forks outlive a
    killed parent.
    """
    import cotengra as ctg

    par = ctg.parallel
    was = getattr(par, "_IS_WORKER", False)
    par._IS_WORKER = True
    try:
        yield
    finally:
        par._IS_WORKER = was


def reconfigure(es: EinsumSpec, sizes: dict, path: Sequence, seed: int = 0) -> list:
    """``path`` with every subtree of :data:`REFINE_SUBTREE` leaves re-contracted optimally (cotengra).

    Finders that build a path from a rule (leaf elimination, greedy) leave local slack: the order in which a
    state's input, recurrent and read-out factors meet. Optimal subtree re-contraction removes it without a new
    global search (on the L = 2 and L = 3 benchmark networks it reaches the flops of cotengra's full
    hyper-optimisation at about a hundredth of its search time). The result is deterministic.

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.network.einsum import network_to_einsum
    >>> from tnrnn.rac.spec import RACSpec
    >>> es = integer_labels(network_to_einsum(build_network(RACSpec(2, 3, 2), T=3)))
    >>> path = _tree(es, es.sized(64), 0)
    >>> new = reconfigure(es, es.sized(64), path)
    >>> simulate_path(es, new, batch=64)[1] <= simulate_path(es, path, batch=64)[1]
    True
    """
    import cotengra as ctg

    tree = ctg.ContractionTree.from_path([tuple(ix) for ix in es.inputs], tuple(es.output), sizes,
                                         path=[tuple(int(i) for i in step) for step in path])
    with _no_fork_pool():
        tree = tree.subtree_reconfigure(subtree_size=REFINE_SUBTREE, minimize="flops", seed=seed)
    return list(tree.get_path())


def _sequential(es: EinsumSpec, sizes: dict, seed: int) -> list:
    """A sweep in time order that absorbs operands one by one into a running tensor.

    Each input operand is first paired with the operand it feeds (its ``W_I``), then the sweep follows
    ``es.order`` (step by step, ``W_H`` before the input side), which on a shallow RAC is the recurrence and keeps
    the running tensor at ``batch x R``. On deep RACs the running tensor grows with every live copy, so this
    candidate only wins on shallow ones.
    """
    n = len(es.inputs)
    key = dict(enumerate(es.order))
    owner: dict[str, list[int]] = {}
    for i, ix in enumerate(es.inputs):
        for s in ix:
            owner.setdefault(s, []).append(i)
    ssa: list[tuple] = []
    live = set(range(n))
    for i, ref in enumerate(es.operands):
        if ref.kind != "x":
            continue
        leg = [s for s in es.inputs[i] if s != es.batch_symbol]
        partners = [j for j in owner.get(leg[0], []) if j != i and es.operands[j].kind == "W_I"] if leg else []
        if len(partners) == 1 and partners[0] in live:
            new = n + len(ssa)
            ssa.append((i, partners[0]))
            live -= {i, partners[0]}
            live.add(new)
            key[new] = key[partners[0]]
    running = None
    for oid in sorted(live, key=lambda j: key[j]):
        if running is None:
            running = oid
            continue
        ssa.append((running, oid))
        running = n + len(ssa) - 1
    return list(ssa_to_linear(ssa))


def _tree(es: EinsumSpec, sizes: dict, seed: int) -> list:
    """Leaf elimination: repeatedly contract an operand that shares at most one index with the rest.

    Without its batch index, a RAC network in forward mode (continuous form) is a tree of hyper-edges, and
    absorbing leaves into their neighbours, oldest first, computes every state instance from its children like
    the recurrence does, keeping intermediates at ``batch x R``. A leaf joins a partner that is a leaf on the same
    index when there is one (an elementwise product), else the smallest partner. Whatever is left unconnected
    (other components, e.g. the grid form's ties) is contracted in time order at the end.
    """
    keep = set(es.output) | ({es.batch_symbol} if es.batch_symbol else set())
    n = len(es.inputs)
    ix: dict[int, tuple] = {i: tuple(v) for i, v in enumerate(es.inputs)}
    key: dict[int, float] = dict(enumerate(es.order))
    members: dict[str, set] = {}
    for i, v in ix.items():
        for s in set(v):
            if s not in keep:
                members.setdefault(s, set()).add(i)
    ssa: list[tuple] = []

    def shared(i: int) -> list:
        return [s for s in set(ix[i]) if s not in keep and len(members[s]) > 1]

    def merge(a: int, b: int) -> tuple[int, set]:
        c = n + len(ssa)
        ssa.append((a, b))
        touched: set = set()
        for t in set(ix[a]) | set(ix[b]):
            if t in keep:
                continue
            members[t] -= {a, b}
            if members[t]:  # an index used elsewhere stays on the result; one private to the pair is summed
                members[t].add(c)
                touched |= members[t]
        ix[c] = tuple(t for t in dict.fromkeys(ix[a] + ix[b]) if t in keep or members.get(t))
        key[c] = max(key[a], key[b])
        del ix[a], ix[b]
        return c, touched

    heap = [(key[i], i) for i in range(n)]
    heapq.heapify(heap)
    while heap and len(ix) > 1:
        _, a = heapq.heappop(heap)
        if a not in ix or len(sh := shared(a)) != 1:
            continue  # gone, or not a leaf (yet): pushed again when a neighbour goes away
        others = [j for j in members[sh[0]] if j != a]
        leaves = [j for j in others if len(shared(j)) == 1]
        b = min(leaves or others, key=lambda j: (math.prod(sizes[s] for s in ix[j]), key[j]))
        _, touched = merge(a, b)
        for j in touched:
            heapq.heappush(heap, (key[j], j))
    rest = sorted(ix, key=lambda j: key[j])
    while len(rest) > 1:
        c, _ = merge(rest[0], rest[1])
        rest = [c] + rest[2:]
    return list(ssa_to_linear(ssa))


#: name -> finder(es, sizes, seed) -> linear path; registry order breaks cost ties.
PATH_FINDERS: dict[str, Finder] = {
    "sequential": _sequential,
    "tree": _tree,
    "greedy": _greedy,
    "random-greedy": _random_greedy,
    "cotengra": _cotengra,
}

#: Finders tried by default ("cotengra" is skipped when cotengra is not installed).
DEFAULT_OPTIMIZERS = ("greedy", "random-greedy", "cotengra", "sequential", "tree")
OPTIMIZERS = tuple(PATH_FINDERS)


def check_optimizers(names: Iterable[str], what: str = "path optimizers") -> tuple:
    """Return ``names`` as a tuple if it is a non-empty selection of :data:`PATH_FINDERS`, else raise ``TnrnnError``.

    Examples
    --------
    >>> check_optimizers(["greedy", "tree"])
    ('greedy', 'tree')
    """
    opts = (names,) if isinstance(names, str) else tuple(names)
    unknown = [o for o in opts if o not in PATH_FINDERS]
    if unknown or not opts:
        raise TnrnnError(f"{what} must be among {', '.join(PATH_FINDERS)}, got {list(opts)}")
    return opts


def _available(name: str) -> str | None:
    """Why finder ``name`` cannot run here, or None."""
    if name == "cotengra":
        try:
            import cotengra  # noqa: F401
        except ImportError:  # pragma: no cover - optional dependency
            return "cotengra is not installed"
    return None


def integer_labels(es: EinsumSpec) -> EinsumSpec:
    """``es`` with its index symbols renamed 0, 1, 2, ... in sorted order.

    Path finders iterate over sets of indices; sets of strings iterate in an order that changes with Python's
    per-process hash seed, which made the same search return different paths in different processes. Integers
    hash to themselves, so every process sees the same order.

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.network.einsum import network_to_einsum
    >>> from tnrnn.rac.spec import RACSpec
    >>> integer_labels(network_to_einsum(build_network(RACSpec(1, 2, 2), T=1))).inputs
    ((0, 1), (1, 2), (3, 2))
    """
    ids = {s: i for i, s in enumerate(sorted(es.sizes))}
    return EinsumSpec(
        tuple(tuple(ids[s] for s in ix) for ix in es.inputs), tuple(ids[s] for s in es.output),
        {ids[s]: d for s, d in es.sizes.items()}, es.operands,
        None if es.batch_symbol is None else ids[es.batch_symbol], es.order,
    )


def find_path(
    es: EinsumSpec,
    *,
    batch: int = PLAN_BATCH,
    itemsize: int = 4,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
    seed: int = 0,
    refine: bool = True,
) -> PathReport:
    """Run path finders and keep the cheapest path (flops plus weighted writes, then peak memory, then registry order).

    Parameters
    ----------
    es : EinsumSpec
    batch : int
        Batch size used in the cost model (default :data:`PLAN_BATCH`).
    itemsize : int
        Bytes per entry for the memory estimate.
    optimizers : sequence of str
        Names from :data:`PATH_FINDERS`: ``"greedy"``, ``"random-greedy"``, ``"cotengra"`` (hyper-optimised,
        kahypar when installed; skipped when cotengra is not installed), ``"sequential"`` (a sweep in time order
        that follows the recurrence) and ``"tree"`` (leaf elimination, state instance by state instance).
    seed : int
        Seed of the randomised finders: the same seed gives the same path on any machine load.
    refine : bool, default True
        Refine the best path by subtree reconfiguration (:func:`reconfigure`; when cotengra is installed and the
        network has at most :data:`REFINE_MAX_OPERANDS` operands). The refined path is kept only if it scores
        better, and is reported as ``"<finder>+reconf"``.

    Returns
    -------
    PathReport

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.network.einsum import network_to_einsum
    >>> from tnrnn.rac.spec import RACSpec
    >>> es = network_to_einsum(build_network(RACSpec(1, 2, 2), T=3))
    >>> rep = find_path(es, batch=8, optimizers=("greedy",))
    >>> rep.path_optimizer, rep.flops > 0
    ('greedy', True)
    """
    import time

    optimizers = check_optimizers(optimizers)
    sizes = es.sized(batch)
    labelled = integer_labels(es)
    t0 = time.perf_counter()
    found: dict[str, list] = {}
    skipped: dict[str, str] = {}
    if len(es.inputs) == 1:
        found["single"] = [(0,)]
    else:
        for name in sorted(set(optimizers), key=list(PATH_FINDERS).index):
            why = _available(name)
            if why is not None:
                skipped[name] = why
                continue
            found[name] = PATH_FINDERS[name](labelled, labelled.sized(batch), seed)
    best = None
    candidates: dict = {}
    for name, path in found.items():
        walked = simulate_path(es, path, itemsize=itemsize, batch=batch,
                               max_flops=None if best is None else 16 * best[0][0])
        candidates[name] = None if walked is None else walked[1]  # None: more than 16x the best so far
        if walked is None:
            continue
        score = _score(walked, sizes)
        if best is None or score < best[0]:
            best = (score, name, path, walked)
    assert best is not None  # the first candidate is always walked to the end
    if refine and _available("cotengra") is None and 3 <= len(es.inputs) <= REFINE_MAX_OPERANDS:
        name = best[1] + "+reconf"
        path = reconfigure(labelled, labelled.sized(batch), pairwise(best[2], len(es.inputs)), seed)
        walked = simulate_path(es, path, itemsize=itemsize, batch=batch)
        candidates[name] = walked[1]
        score = _score(walked, sizes)
        if score < best[0]:
            best = (score, name, path, walked)
    _, name, path, (steps, flops, peak, largest) = best
    return PathReport(tuple(pairwise(path, len(es.inputs))), flops, peak, largest, name, candidates,
                      time.perf_counter() - t0, steps, skipped, batch)


def _score(walked: tuple, sizes: dict) -> tuple:
    """What a path is ranked by: flops plus weighted entries written, then peak memory."""
    written = sum(math.prod(sizes[s] for s in st.out) for st in walked[0])
    return walked[1] + COMBO_WRITE * written, walked[2]


def path_cost(es: EinsumSpec, report: PathReport, *, batch: int, itemsize: int) -> PathReport:
    """The same path with its costs re-walked for another batch size or item size (no search).

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.network.einsum import network_to_einsum
    >>> from tnrnn.rac.spec import RACSpec
    >>> es = network_to_einsum(build_network(RACSpec(1, 2, 2), T=3))
    >>> rep = find_path(es, optimizers=("sequential",))
    >>> path_cost(es, rep, batch=2, itemsize=4).flops < rep.flops
    True
    """
    steps, flops, peak, largest = simulate_path(es, report.path, itemsize=itemsize, batch=batch)
    return PathReport(report.path, flops, peak, largest, report.path_optimizer, report.candidates,
                      report.search_seconds, steps, report.skipped, batch)
