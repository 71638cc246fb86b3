"""Contraction plans: one per network structure, whatever the batch size, cached in memory and on disk.

A plan is the einsum form of a network (:mod:`tnrnn.network.einsum`) and its chosen path
(:mod:`tnrnn.network.paths`). It depends on the structure only (``L, R, M, K, T``, form, explicit initial states,
output mode): the batch is a broadcast dimension, weights and inputs are arguments, the prime and the float or
integer arithmetic do not change the path. Searching a path can take seconds (cotengra's hyper-optimiser), so
found paths are stored on disk, one small JSON file per structure hash, under ``$TNRNN_CACHE_DIR/plans`` (default
``~/.cache/tnrnn/plans``). The folder is safe to delete; files are written atomically; a corrupt or stale entry is
ignored and searched again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.io import read_json, write_json
from tnrnn.network.build import build_network, check_form, nodes_over_limit, structure_zeros
from tnrnn.network.einsum import EinsumSpec, network_to_einsum, split_onehot_inputs
from tnrnn.network.finders import DEFAULT_OPTIMIZERS, REFINE_SUBTREE, SEARCH_TRIALS, check_optimizers
from tnrnn.network.paths import PLAN_BATCH, PathReport, find_path, simulate_path
from tnrnn.rac.params import RACParams
from tnrnn.rac.spec import RACSpec

#: Networks with more operands than this are not contracted (path search and compilation would take minutes).
MAX_OPERANDS = 10_000

#: Bumped whenever the stored plan format or the path finders change, so older cache entries are not reused.
PLAN_FORMAT = 6

#: Seed of the randomised path finders.
PLAN_SEED = 0

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
    """The einsum form of a network and its chosen path (costs at :data:`PLAN_BATCH`, float32)."""

    es: EinsumSpec
    report: PathReport


def plan_key(spec: RACSpec, T: int, form: str, has_h0: bool, mode: str = "forward", output_steps=(),
             optimizers=DEFAULT_OPTIMIZERS, onehot: bool = False) -> PlanKey:
    """A validated :class:`PlanKey`.

    ``onehot`` declares the inputs symbol ids (one-hot vectors): a tied input leg is then split into one leg per
    copy (:func:`tnrnn.network.einsum.split_onehot_inputs`), exact on such inputs and much cheaper on the grid form.

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
    """Folder of the on-disk plan cache: ``$TNRNN_CACHE_DIR/plans`` or ``~/.cache/tnrnn/plans``.

    Examples
    --------
    >>> cache_dir().name
    'plans'
    """
    root = os.environ.get("TNRNN_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "tnrnn")
    return Path(root) / "plans"


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


def _load(path: Path, es: EinsumSpec) -> PathReport | None:
    """A cached report, or None when the entry is missing, unreadable or does not fit ``es``."""
    try:
        data = read_json(path)
        route = tuple(tuple(int(i) for i in step) for step in data["path"])
        steps, flops, peak, largest = simulate_path(es, route, batch=PLAN_BATCH)
        return PathReport(route, flops, peak, largest, str(data["path_optimizer"]), dict(data["candidates"]),
                          0.0, steps, dict(data.get("skipped", {})))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError, TnrnnError):
        return None  # a torn, edited or stale entry: search again and overwrite it


def _store(path: Path, report: PathReport) -> None:
    data = {"format": PLAN_FORMAT, "path": [list(s) for s in report.path], **report.to_json()}
    try:
        write_json(path, data)
    except OSError:
        pass  # a read-only or full cache folder only costs a new search next time


_PLANS: dict[PlanKey, Plan] = {}


def get_plan(key: PlanKey) -> Plan:
    """The plan for ``key``: from memory, else from the disk cache, else searched (and stored).

    Raises
    ------
    ResourceError
        The network has more than :data:`MAX_OPERANDS` nodes (refused before it is built).

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
    report = _load(path, es)
    if report is None:
        _SEARCHES[key] += 1
        report = find_path(es, optimizers=key.optimizers, seed=PLAN_SEED)
        _store(path, report)
    plan = _PLANS[key] = Plan(es, report)
    return plan


def clear_plans() -> None:
    """Forget the plans held in memory (the disk cache stays)."""
    _PLANS.clear()
