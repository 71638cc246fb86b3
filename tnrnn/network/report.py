"""The cost of contracting a RAC network, estimated from its plan, and the budget guard every contraction passes.

Before anything is contracted, flops and peak memory are estimated from the plan's path at the actual batch size
and requests above the budget (``budget_bytes``, default ``$TNRNN_MAX_BYTES`` or 4 GiB; ``budget_flops``, default
``$TNRNN_MAX_FLOPS`` or 1e13; see [`tnrnn.base.budget`][tnrnn.base.budget]) are refused with a
[`tnrnn.base.errors.ResourceError`][tnrnn.base.errors.ResourceError] that states the estimate and what to use instead. Mod-p contractions are
also checked to fit int64: each pairwise contraction's number of summed products times ``(p-1)**2``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from tnrnn.base.budget import default_budget_bytes, default_budget_flops
from tnrnn.base.errors import ResourceError, TnrnnError, format_count, human_bytes
from tnrnn.base.validate import check_positive_int
from tnrnn.network.finders import DEFAULT_OPTIMIZERS
from tnrnn.network.paths import PathReport, path_cost
from tnrnn.network.plan import PlanKey, get_plan, plan_key
from tnrnn.rac.params import DEFAULT_PRIME, max_safe_terms
from tnrnn.rac.spec import RACSpec

ARITHMETICS = {"float": 4, "modp": 8}  # arithmetic -> bytes per entry


@functools.lru_cache(maxsize=256)
def plan_cost(key: PlanKey, batch: int, itemsize: int) -> PathReport:
    """The plan of ``key`` with its costs at ``batch`` and ``itemsize`` (re-walked once per batch size, no search).

    Examples
    --------
    >>> key = plan_key(RACSpec(1, 4, 3), 6, "continuous", False, optimizers=("sequential",))
    >>> plan_cost(key, 10, 4).flops < plan_cost(key, 20, 4).flops
    True
    """
    plan = get_plan(key)
    return path_cost(plan.es, plan.report, batch=batch, itemsize=itemsize)


def guard(report: PathReport, what: str, instead: str, budget_bytes: int | None, budget_flops: int | None,
          batch: int | None = None) -> None:
    """Raise ``ResourceError`` (with the estimate and a suggestion) when ``report`` exceeds a budget.

    Examples
    --------
    >>> key = plan_key(RACSpec(1, 4, 3), 6, "continuous", False, optimizers=("sequential",))
    >>> guard(plan_cost(key, 8, 4), "evaluating", "use less", 10**9, 10**9) is None
    True
    """
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


def check_modp_steps(report: PathReport, p: int) -> None:
    """Refuse a prime for which some pairwise contraction of the path could overflow int64.

    Examples
    --------
    >>> key = plan_key(RACSpec(1, 3, 2), 2, "continuous", False, optimizers=("sequential",))
    >>> check_modp_steps(plan_cost(key, 1, 8), 2_147_483_647)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: a pairwise contraction of this path sums 3 products, and 3 x (p-1)^2 overflows int64 for p = 2147483647; use a prime below 1753413056 (the default DEFAULT_PRIME = 1048573 allows 8,388,672 terms)
    """
    limit = max_safe_terms(p)
    worst = max((s.summed for s in report.steps), default=1)
    if worst > limit:
        bound = math.isqrt((2**63 - 1) // worst)
        raise TnrnnError(
            f"a pairwise contraction of this path sums {worst:,} products, and {worst:,} x (p-1)^2 overflows int64 "
            f"for p = {p}; use a prime below {bound} (the default DEFAULT_PRIME = {DEFAULT_PRIME} allows "
            f"{max_safe_terms(DEFAULT_PRIME):,} terms)"
        )


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
        Path finders to try (see `tnrnn.network.paths.PATH_FINDERS`).

    Returns
    -------
    dict
        ``flops``, ``peak_bytes``, ``largest_intermediate``, ``path_optimizer``, ``candidates`` (flops per finder
        at the planning batch size), ``skipped`` and ``search_seconds``.

    Raises
    ------
    TnrnnError
        Bad T, batch, form, arithmetic or finder names.
    ResourceError
        The network is too large to plan a contraction for.

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
    if arithmetic not in ARITHMETICS:
        raise TnrnnError(f"arithmetic must be 'float' or 'modp', got {arithmetic!r}")
    # Forward evaluation of the grid form takes symbol ids (feature vectors need the continuous form): its plan
    # splits the tied input legs.
    key = plan_key(spec, T, form, has_h0, "tensor" if tensor else "forward", (), optimizers, form == "grid")
    return plan_cost(key, 1 if tensor else batch, ARITHMETICS[arithmetic]).to_json()
