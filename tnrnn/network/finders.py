"""Path finders: one registry, one signature, each deterministic for a given seed.

Every finder in `PATH_FINDERS` is ``finder(es, sizes, seed) -> path`` (an opt_einsum linear path); none
stops on a wall-clock limit, so the path chosen for a network does not depend on how busy the machine is; search
budgets are rules on the structure ([`hyper_trials`][tnrnn.network.finders.hyper_trials]). No finder wins on every RAC shape: the time-ordered
sweep is best on shallow batches, the leaf elimination ("tree") on deep continuous batches, greedy variants on
the rest; cotengra's hyper-optimiser (kahypar partitions when installed) runs on small networks only, as it found
no cheaper RAC path than these above `HYPER_MAX_OPERANDS` operands, at up to minutes of search, and
random-greedy beside the others up to `RANDOM_GREEDY_MAX_OPERANDS` (above it, never cheaper, and most of the
search time). [`reconfigure`][tnrnn.network.finders.reconfigure] refines any path by optimal re-contraction of its
subtrees. [`tnrnn.network.paths`][tnrnn.network.paths] runs the finders and keeps the cheapest path.
"""

from __future__ import annotations

import contextlib
import heapq
import importlib.util
import math
from collections.abc import Callable, Iterable, Sequence

import opt_einsum as oe
from opt_einsum.paths import ssa_to_linear

from tnrnn.base.errors import TnrnnError
from tnrnn.network.einsum import EinsumSpec

#: Networks up to this many operands get cotengra's subtree reconfiguration.
RECONF_MAX_OPERANDS = 128

#: Networks up to this many operands get their best path refined by cotengra's subtree reconfiguration (optimal
#: re-contraction of every subtree of ``REFINE_SUBTREE`` leaves; deterministic, about 0.2 s at 400 operands).
REFINE_MAX_OPERANDS = 2000
REFINE_SUBTREE = 6

#: Trials of the seeded searches (random-greedy, cotengra): a fixed count, never a time limit.
SEARCH_TRIALS = 16

#: Largest network (operands) on which cotengra's HyperOptimizer runs beside the other finders (see
#: ``hyper_trials`` for the measurements behind it).
HYPER_MAX_OPERANDS = 64

#: Largest network (operands) on which opt_einsum's random-greedy runs beside the other finders. Measured on RAC
#: networks (batch 256, every candidate refined by subtree reconfiguration): at 116 to 1,616 operands its path
#: never scored below the rule-based finders' (greedy, tree), and above 400 operands it cost 0.3 to 1.9 s, most of
#: a cold search (L=3 R=4 M=4 T=12: 1.2 of 2.6 s). Asked for alone, it always runs.
RANDOM_GREEDY_MAX_OPERANDS = 400

Finder = Callable[[EinsumSpec, dict, int], list]


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


def hyper_trials(n_operands: int, alone: bool = False) -> int:
    """Trials of cotengra's HyperOptimizer on a network of ``n_operands`` operands (0: not run).

    The search budget is a rule on the structure, never on the clock, so a network gets the same path on any
    machine load. Measured on RAC networks (2 cores, batch 256; its path and the best rule-based path both refined
    by subtree reconfiguration): at 24 to 74 operands the hyper-optimiser's path scored 0.994x to 1.005x the
    rule-based one in 0.6 s to 3.5 s of search; at 116 to 424 operands 1.00x to 1.37x in 5 s to 21 s; at 1,182
    operands (L=3 R=4 M=4 T=12) it took 248 s for a costlier path than greedy's, found in 0.03 s. So up to
    `HYPER_MAX_OPERANDS` operands it gets `SEARCH_TRIALS` trials, and above it is not run beside the
    other finders. Asked for alone, it gets fewer trials as the network grows (at least one).

    Examples
    --------
    >>> hyper_trials(50), hyper_trials(1182), hyper_trials(1182, alone=True)
    (16, 0, 1)
    """
    if n_operands <= HYPER_MAX_OPERANDS:
        return SEARCH_TRIALS
    return max(1, SEARCH_TRIALS * HYPER_MAX_OPERANDS // n_operands) if alone else 0


def _cotengra(es: EinsumSpec, sizes: dict, seed: int, trials: int = SEARCH_TRIALS) -> list:
    """The cotengra HyperOptimizer: seeded parameter sampling, seeded partitioners, ``trials`` trials."""
    import cotengra as ctg

    methods = _hyper_methods()
    opt = ctg.HyperOptimizer(
        methods=methods, max_repeats=trials, max_time=None, minimize="flops", parallel=False,
        progbar=False, optlib="random", optlib_opts={"seed": seed}, on_trial_error="ignore",
        # Subtree reconfiguration halves the grid form's flops at 88 operands but takes seconds per trial at 400:
        # used on small networks only (a rule on the structure, not on the clock, so the path stays deterministic).
        reconf_opts={"seed": seed} if len(es.inputs) <= RECONF_MAX_OPERANDS else None,
        # The partitioners (kahypar, labels) draw their own seed unless given one, and contract inside and between
        # their partitions with cotengra's random-greedy by default, which is unseeded there and, with cotengra's
        # parallel="auto", forks a process pool from this jax-threaded process: plain greedy instead. With these
        # options no cotengra call here makes a pool (tests/network/test_plans.py checks it), so cotengra's private
        # worker flag is no longer needed.
        constants={m: ({"seed": seed, "sub_optimize": "greedy", "super_optimize": "greedy"} if m != "greedy"
                       else {}) for m in methods},
    )
    return list(opt.search([tuple(ix) for ix in es.inputs], tuple(es.output), sizes).get_path())


@contextlib.contextmanager
def _no_fork_pool():
    """Run cotengra as if inside one of its own workers, where ``parallel="auto"`` makes no process pool.

    The library no longer needs this (`_cotengra` passes options that keep every sub-search serial); it is
    kept for ``benchmarks/bench_contract.py``, whose peer search runs cotengra's own defaults. It sets cotengra's
    private ``parallel._IS_WORKER`` because cotengra has no public switch that makes ``"auto"`` serial.
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
    """``path`` with every subtree of `REFINE_SUBTREE` leaves re-contracted optimally (cotengra).

    Finders that build a path from a rule (leaf elimination, greedy) leave local slack: the order in which a
    state's input, recurrent and read-out factors meet. Optimal subtree re-contraction removes it without a new
    global search (on the L = 2 and L = 3 benchmark networks it reaches the flops of cotengra's full
    hyper-optimisation at about a hundredth of its search time). The result is deterministic.

    Examples
    --------
    >>> from tnrnn.network.build import build_network
    >>> from tnrnn.network.einsum import network_to_einsum
    >>> from tnrnn.network.paths import integer_labels, simulate_path
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
    """Return ``names`` as a tuple if it is a non-empty selection of `PATH_FINDERS`, else raise ``TnrnnError``.

    Examples
    --------
    >>> check_optimizers(["greedy", "tree"])
    ('greedy', 'tree')
    """
    opts = (names,) if isinstance(names, str) else tuple(names)
    unknown = [o for o in opts if o not in PATH_FINDERS]
    if unknown or not opts:
        raise TnrnnError(f"{what} must be among {', '.join(PATH_FINDERS)}, got {list(opts)}")
    reasons = [why for o in dict.fromkeys(opts) if (why := _available(o)) is not None]
    if len(reasons) == len(set(opts)):  # checked here, before any network is built or searched
        raise TnrnnError(f"none of the {what} {list(opts)} can run here: {'; '.join(reasons)}; "
                         f"choose among {', '.join(n for n in PATH_FINDERS if _available(n) is None)}")
    return opts


def _available(name: str) -> str | None:
    """Why finder ``name`` cannot run here, or None (looked up without importing the library).

    Examples
    --------
    >>> _available("greedy") is None
    True
    """
    if name == "cotengra" and importlib.util.find_spec("cotengra") is None:
        return "cotengra is not installed (pip install cotengra)"
    return None
