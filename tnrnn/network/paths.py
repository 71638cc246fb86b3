"""Contraction paths: the cost simulation and the chosen path.

[`find_path`][tnrnn.network.paths.find_path] runs the selected finders of `tnrnn.network.finders.PATH_FINDERS` (re-exported here),
keeps the cheapest path by flops plus weighted writes, then peak memory, then registry order, and refines it by
subtree reconfiguration ([`tnrnn.network.finders.reconfigure`][tnrnn.network.finders.reconfigure]).

The cost is this module's own walk of the path ([`simulate_path`][tnrnn.network.paths.simulate_path]) rather than cotengra's
``ContractionTree`` costs, for one reason: the weights are shared. A RAC network holds thousands of operands
that are the same few weight arrays, so peak memory counts each distinct leaf array once (the shared-weight
rule); the walk also yields the local pairwise equations the executors run.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import opt_einsum as oe
from opt_einsum.paths import linear_to_ssa, ssa_to_linear

from tnrnn.base.errors import TnrnnError
from tnrnn.network.einsum import EinsumSpec
from tnrnn.network.finders import (
    DEFAULT_OPTIMIZERS,
    HYPER_MAX_OPERANDS,
    PATH_FINDERS,
    RANDOM_GREEDY_MAX_OPERANDS,
    REFINE_MAX_OPERANDS,
    _available,
    _cotengra,
    check_optimizers,
    hyper_trials,
    reconfigure,
)

log = logging.getLogger(__name__)

#: Searches on networks of at least this many operands log a line when they start and when they end (about a
#: second of search on 2 cores at this size; the command line shows these lines on a terminal).
PROGRESS_OPERANDS = 400

#: Batch size the path search assumes. Plans depend on the structure only: the batch is a broadcast dimension
#: and one plan serves every batch size (its cost is re-walked for the actual batch, which takes milliseconds).
PLAN_BATCH = 256

#: Weight of memory traffic in the score that picks a path: ``flops + COMBO_WRITE * (entries written)``, as
#: cotengra's "combo" objective. Flops alone picked a grid-form path with a 2^22-entry intermediate that ran 44x
#: slower than one with 1.6x the flops and 16x smaller intermediates.
COMBO_WRITE = 64



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
        Estimated floating point operations (opt_einsum's counting: 2 per multiply-add) at `batch`.
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
        Batch size used in the cost model (default `PLAN_BATCH`).
    itemsize : int
        Bytes per entry for the memory estimate.
    optimizers : sequence of str
        Names from `PATH_FINDERS`: ``"greedy"``, ``"random-greedy"``, ``"cotengra"`` (hyper-optimised,
        kahypar when installed; skipped when cotengra is not installed), ``"sequential"`` (a sweep in time order
        that follows the recurrence) and ``"tree"`` (leaf elimination, state instance by state instance).
    seed : int
        Seed of the randomised finders: the same seed gives the same path on any machine load.
    refine : bool, default True
        Refine the best path by subtree reconfiguration ([`reconfigure`][tnrnn.network.finders.reconfigure]; when cotengra is installed and the
        network has at most `REFINE_MAX_OPERANDS` operands). The refined path is kept only if it scores
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
    >>> rep.path_optimizer.split("+")[0], rep.flops > 0   # "greedy+reconf" when the refinement improved it
    ('greedy', True)
    """
    import time

    optimizers = check_optimizers(optimizers)
    sizes = es.sized(batch)
    labelled = integer_labels(es)
    t0 = time.perf_counter()
    found: dict[str, list] = {}
    skipped: dict[str, str] = {}
    n = len(es.inputs)
    ordered = sorted(set(optimizers), key=list(PATH_FINDERS).index)
    loud = n >= PROGRESS_OPERANDS
    if loud:
        log.info("searching a contraction path for %s operands (%s)", f"{n:,}", ", ".join(ordered))
    if n == 1:
        found["single"] = [(0,)]
    else:
        for name in ordered:
            why = _available(name)
            if why is not None:
                skipped[name] = why
            elif name == "cotengra":
                trials = hyper_trials(n, alone=len(ordered) == 1)
                if trials:
                    found[name] = _cotengra(labelled, labelled.sized(batch), seed, trials)
                else:
                    skipped[name] = (f"not run above {HYPER_MAX_OPERANDS} operands (this network has {n:,}), "
                                     "where it found no cheaper path than the other finders")
            elif name == "random-greedy" and n > RANDOM_GREEDY_MAX_OPERANDS and len(ordered) > 1:
                skipped[name] = (f"not run above {RANDOM_GREEDY_MAX_OPERANDS} operands beside other finders (this "
                                 f"network has {n:,}), where it found no cheaper path than greedy and tree")
            else:
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
    if best is None:  # check_optimizers lets through a selection of which at least one finder can run
        raise TnrnnError(f"no path finder of {list(optimizers)} could run: {skipped}")
    if refine and _available("cotengra") is None and 3 <= n <= REFINE_MAX_OPERANDS:
        best = _refined(es, labelled, best, candidates, batch, itemsize, seed)
    _, name, path, (steps, flops, peak, largest) = best
    seconds = time.perf_counter() - t0
    if loud:
        log.info("contraction path found by %s in %.1f s", name, seconds)
    return PathReport(tuple(pairwise(path, n)), flops, peak, largest, name, candidates, seconds, steps, skipped,
                      batch)


def _refined(es: EinsumSpec, labelled: EinsumSpec, best: tuple, candidates: dict, batch: int, itemsize: int,
             seed: int) -> tuple:
    """``best`` (score, name, path, walk), or its subtree-reconfigured path when that scores better."""
    name = best[1] + "+reconf"
    path = reconfigure(labelled, labelled.sized(batch), pairwise(best[2], len(es.inputs)), seed)
    walked = simulate_path(es, path, itemsize=itemsize, batch=batch)
    candidates[name] = walked[1]
    score = _score(walked, es.sized(batch))
    return (score, name, path, walked) if score < best[0] else best


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
