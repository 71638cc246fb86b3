"""Contraction plans: one per network structure, whatever the batch size, cached in memory and on disk.

A plan is the einsum form of a network ([`tnrnn.network.einsum`][tnrnn.network.einsum]) and its chosen path
([`tnrnn.network.paths`][tnrnn.network.paths]). It depends on the structure only (``L, R, M, K, T``, form, explicit initial states,
output mode): the batch is a broadcast dimension, weights and inputs are arguments, the prime and the float or
integer arithmetic do not change the path. Searching a path can take seconds (cotengra's hyper-optimiser), so
found paths are stored on disk, one small JSON file per structure hash, under ``$TNRNN_CACHE_DIR/plans`` (default
the user cache folder, ``$XDG_CACHE_HOME/tnrnn/plans`` or ``~/.cache/tnrnn/plans`` on Linux). The folder is safe
to delete; files are written atomically, readable by their owner only; a corrupt or stale entry is ignored and
searched again.

The cache is not trusted (anyone who can write the folder could plant a plan 10^6 times costlier than the right
one): an entry is used only if its size is within `MAX_PLAN_FILE_BYTES` (checked before reading), its
content digest and structure key match, its path is a valid contraction of this very structure, and its cost,
recomputed here (never read from the file), is no worse than a cheap greedy path's (see [`check_cached_cost`][tnrnn.network.plan.check_cached_cost]).
Finder names and notes from the file are kept only when they are known names or printable text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from tnrnn.base.cachedir import cache_root
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.io import loads_json, read_bytes_bounded, write_json
from tnrnn.network.build import build_network, check_form, nodes_over_limit, structure_zeros
from tnrnn.network.einsum import EinsumSpec, network_to_einsum, split_onehot_inputs
from tnrnn.network.finders import DEFAULT_OPTIMIZERS, PATH_FINDERS, REFINE_SUBTREE, SEARCH_TRIALS, check_optimizers
from tnrnn.network.paths import PLAN_BATCH, PathReport, find_path, pairwise, simulate_path
from tnrnn.rac.params import RACParams
from tnrnn.rac.spec import RACSpec

#: Networks with more operands than this are not contracted (path search and compilation would take minutes).
MAX_OPERANDS = 10_000

#: Bumped whenever the stored plan format or the path finders change, so older cache entries are not reused.
PLAN_FORMAT = 6

#: Seed of the randomised path finders.
PLAN_SEED = 0

#: A cache file larger than this is not read (a plan of MAX_OPERANDS operands takes about 200 KB).
MAX_PLAN_FILE_BYTES = 4 * 2**20

#: A cached plan is kept when its recomputed flops and peak memory are at most this factor times a greedy path's
#: (1 when greedy is among the plan's finders: the search then never returns worse than greedy).
CACHED_COST_SLACK = 16.0

_FINDER_NAME = re.compile(r"^(?P<base>[a-z][a-z0-9-]{0,40})(\+reconf)?$")

# Path searches run in this process, per structure (tests count them to prove a plan is reused).
_SEARCHES: Counter = Counter()


class PlanKey(NamedTuple):
    """What a plan depends on: the structure only (no batch size, no prime, no arithmetic)."""

    L: int
    R: int
    M: int
    K: int
    T: int
    form: str
    has_h0: bool
    mode: str = "forward"
    output_steps: tuple = ()
    optimizers: tuple = DEFAULT_OPTIMIZERS
    onehot: bool = False


@dataclass(frozen=True)
class Plan:
    """The einsum form of a network and its chosen path (costs at `PLAN_BATCH`, float32)."""

    es: EinsumSpec
    report: PathReport


def plan_key(spec: RACSpec, T: int, form: str, has_h0: bool, mode: str = "forward", output_steps=(),
             optimizers=DEFAULT_OPTIMIZERS, onehot: bool = False) -> PlanKey:
    """A validated [`PlanKey`][tnrnn.network.plan.PlanKey].

    ``onehot`` declares the inputs symbol ids (one-hot vectors): a tied input leg is then split into one leg per
    copy ([`tnrnn.network.einsum.split_onehot_inputs`][tnrnn.network.einsum.split_onehot_inputs]), exact on such inputs and much cheaper on the grid form.

    Examples
    --------
    >>> plan_key(RACSpec(2, 3, 4), 5, "grid", False).form
    'grid'
    """
    return PlanKey(spec.L, spec.R, spec.M, spec.K, int(T), check_form(form), bool(has_h0), mode,
                   tuple(output_steps), check_optimizers(optimizers), bool(onehot) and mode == "forward")


def search_count() -> int:
    """How many path searches this process has run (cache hits, in memory or on disk, do not count)."""
    return sum(_SEARCHES.values())


def cache_dir() -> Path:
    """Folder of the on-disk plan cache: ``plans`` under [`tnrnn.base.cachedir.cache_root`][tnrnn.base.cachedir.cache_root]
    (``$TNRNN_CACHE_DIR``, else the user cache folder: ``$XDG_CACHE_HOME/tnrnn`` or ``~/.cache/tnrnn`` on Linux).

    Examples
    --------
    >>> cache_dir().name
    'plans'
    """
    return cache_root() / "plans"


def structure_hash(es: EinsumSpec, key: PlanKey) -> str:
    """A hash of everything a path depends on: the expression, the finders, their seed and trial count."""
    text = json.dumps([PLAN_FORMAT, es.eq, sorted(es.sizes.items()), list(key.optimizers), PLAN_SEED, PLAN_BATCH,
                       SEARCH_TRIALS, REFINE_SUBTREE])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _structure_params(spec: RACSpec, has_h0: bool) -> RACParams | None:
    """Weightless parameters that only make the builder add the explicit initial-state nodes."""
    if not has_h0:
        return None
    R, M, L, K = spec.R, spec.M, spec.L, spec.K
    return RACParams(tuple(structure_zeros(R, M if l == 0 else R) for l in range(L)),
                     tuple(structure_zeros(R, R) for _ in range(L)), structure_zeros(K, R),
                     tuple(structure_zeros(R) for _ in range(L)))


def check_operand_count(spec: RACSpec, T: int, form: str, has_h0: bool) -> None:
    """Refuse (``ResourceError``) networks too large to contract, before building them.

    Examples
    --------
    >>> check_operand_count(RACSpec(3, 2, 2), 60, "continuous", False)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.ResourceError: the RAC network of L=3, T=60 has 119,131 nodes (contraction limit 10,000); evaluate with the recurrence (tnrnn.rac.recurrence.rac_forward / rac_forward_modp) instead, or use a smaller T
    """
    over = nodes_over_limit(spec, T, form, init_state=has_h0, limit=MAX_OPERANDS)
    if over is not None:
        raise ResourceError(
            f"the RAC network of L={spec.L}, T={T} has {over} nodes (contraction limit {MAX_OPERANDS:,}); "
            "evaluate with the recurrence (tnrnn.rac.recurrence.rac_forward / rac_forward_modp) instead, "
            "or use a smaller T"
        )


def check_path_shape(route: object, n: int) -> tuple:
    """``route`` as a linear contraction path over ``n`` operands, or ``TnrnnError`` when it is not one.

    Each step names distinct positions of the operands live at that step, and the steps leave one tensor.

    Examples
    --------
    >>> check_path_shape([[0, 1], [0, 1]], 3)
    ((0, 1), (0, 1))
    >>> check_path_shape([[0, 0], [0, 1]], 3)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: step 0 of the path repeats an operand
    """
    if not isinstance(route, list) or len(route) > max(n - 1, 1):
        raise TnrnnError(f"the path must be a list of at most {max(n - 1, 1)} steps")
    live, out = n, []
    for k, step in enumerate(route):
        if not isinstance(step, list) or not step or not all(type(i) is int for i in step):
            raise TnrnnError(f"step {k} of the path is not a list of operand positions")
        if len(set(step)) != len(step):
            raise TnrnnError(f"step {k} of the path repeats an operand")
        if not all(0 <= i < live for i in step):
            raise TnrnnError(f"step {k} of the path names an operand that does not exist")
        live -= len(step) - 1
        out.append(tuple(step))
    if live != 1:
        raise TnrnnError(f"the path leaves {live} tensors instead of one")
    return tuple(out)


def _printable(text: object, limit: int = 200) -> str | None:
    return text if isinstance(text, str) and text.isprintable() and len(text) <= limit else None


def _known_finder(name: object) -> bool:
    match = _FINDER_NAME.match(name) if isinstance(name, str) else None
    return match is not None and match.group("base") in PATH_FINDERS


def _greedy_cost(es: EinsumSpec) -> tuple[int, int]:
    """Flops and peak bytes of opt_einsum's greedy path at `PLAN_BATCH`: the cheap reference."""
    route = PATH_FINDERS["greedy"](es, es.sized(PLAN_BATCH), PLAN_SEED)
    walked = simulate_path(es, pairwise(route, len(es.inputs)), batch=PLAN_BATCH)
    return walked[1], walked[2]


def check_cached_cost(flops: int, peak: int, reference: tuple[int, int], greedy_searched: bool) -> str | None:
    """Why a cached plan of ``flops`` and ``peak`` bytes must be discarded, or None when it may be used.

    ``reference`` is the greedy path's ``(flops, peak)``. A plan searched with greedy among its finders is never
    worse than greedy in flops; otherwise it may be worse by at most `CACHED_COST_SLACK` in either.

    Examples
    --------
    >>> check_cached_cost(816, 200, (816, 200), True) is None
    True
    >>> check_cached_cost(470_000_000, 2**28, (816, 200), True)
    'it costs 470000000 flops where a greedy path needs 816'
    """
    allowed = 1.0 if greedy_searched else CACHED_COST_SLACK
    if flops > reference[0] * allowed:
        return f"it costs {flops} flops where a greedy path needs {reference[0]}"
    if peak > reference[1] * CACHED_COST_SLACK:
        return f"its peak memory is {peak} bytes where a greedy path needs {reference[1]}"
    return None


def _digest(data: dict) -> str:
    body = {k: v for k, v in data.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _load(path: Path, es: EinsumSpec, key: PlanKey) -> PathReport | None:
    """A cached report, or None when the entry is missing, unreadable, forged or worse than a greedy path."""
    try:
        data = loads_json(read_bytes_bounded(path, MAX_PLAN_FILE_BYTES, "plan cache file").decode("utf-8"))
        if not isinstance(data, dict) or data.get("digest") != _digest(data) or data.get("key") != path.stem:
            return None
        route = check_path_shape(data["path"], len(es.inputs))
        reference = _greedy_cost(es)
        # Walk the path with a flops ceiling: a planted path that builds huge intermediates is abandoned early.
        allowed = reference[0] * ("greedy" in key.optimizers and 1.0 or CACHED_COST_SLACK)
        walked = simulate_path(es, route, batch=PLAN_BATCH, max_flops=allowed)
        if walked is None:
            return None
        steps, flops, peak, largest = walked
        if check_cached_cost(flops, peak, reference, "greedy" in key.optimizers) is not None:
            return None
        name = data.get("path_optimizer")
        candidates = data.get("candidates")
        skipped = data.get("skipped", {})
        if not _known_finder(name) or not isinstance(candidates, dict) or not isinstance(skipped, dict):
            return None
        # Only known finder names, numbers and printable notes: nothing from the file reaches a terminal raw.
        kept_candidates = {k: v for k, v in candidates.items()
                           if _known_finder(k) and (v is None or (type(v) is int and v >= 0))}
        kept_skipped = {k: _printable(v) or "(reason not shown)" for k, v in skipped.items() if _known_finder(k)}
        return PathReport(route, flops, peak, largest, str(name), kept_candidates, 0.0, steps, kept_skipped)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError, TnrnnError):
        return None  # a torn, edited, oversized or stale entry: search again and overwrite it


def _store(path: Path, report: PathReport) -> None:
    data = {"format": PLAN_FORMAT, "key": path.stem, "path": [list(s) for s in report.path], **report.to_json()}
    data["digest"] = _digest(data)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_json(path, data, mode=0o600)
    except OSError:
        pass  # a read-only or full cache folder only costs a new search next time


_PLANS: dict[PlanKey, Plan] = {}


def get_plan(key: PlanKey) -> Plan:
    """The plan for ``key``: from memory, else from the disk cache, else searched (and stored).

    Raises
    ------
    ResourceError
        The network has more than `MAX_OPERANDS` nodes (refused before it is built).

    Examples
    --------
    >>> plan = get_plan(plan_key(RACSpec(1, 2, 2), 3, "continuous", False, optimizers=("sequential",)))
    >>> plan.report.path_optimizer.split("+")[0]   # "+reconf" when the subtree refinement improved it
    'sequential'
    """
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    spec = RACSpec(key.L, key.R, key.M, key.K)
    check_operand_count(spec, key.T, key.form, key.has_h0)
    net = build_network(spec, key.T, _structure_params(spec, key.has_h0), form=key.form)
    es = network_to_einsum(net, mode=key.mode, output_steps=key.output_steps or None)
    if key.onehot:
        es = split_onehot_inputs(es)
    path = cache_dir() / f"{structure_hash(es, key)}.json"
    report = _load(path, es, key)
    if report is None:
        _SEARCHES[key] += 1
        report = find_path(es, optimizers=key.optimizers, seed=PLAN_SEED)
        _store(path, report)
    plan = _PLANS[key] = Plan(es, report)
    return plan


def clear_plans() -> None:
    """Forget the plans held in memory (the disk cache stays)."""
    _PLANS.clear()
