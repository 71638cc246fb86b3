"""Separation ranks of RACs: every upper bound, a certified lower bound within a time budget, the theory beside them.

[`separation_rank`][tnrnn.rank.separation_rank] is the entry point of the CLI and the figures: it validates the question once
([`tnrnn.rac.problem.make_problem`][tnrnn.rac.problem.make_problem]) and [`solve`][tnrnn.rank.solve] answers it:

* upper bounds (docs/theory.md, 'Upper bounds'), in about a second wherever the closed forms and the structured DP
  cover the size: the min-cut (closed form ``R^S(T/2, L)`` for the continuous Start-End cut, the structured DP
  otherwise), the state, per-site input and trivial bounds; the best is their minimum;
* a certified lower bound ([`tnrnn.bounds.certify.certify`][tnrnn.bounds.certify.certify], exact over GF(p)) within ``certify_seconds``
  (0: bounds only), with what was tried and what more would need;
* where a gap remains, a separate probabilistic statement ([`tnrnn.bounds.statement`][tnrnn.bounds.statement]);
* the published values (shallow theorem, depth-2 theorem, depth-L conjecture).

[`table_point`][tnrnn.rank.table_point] / [`rank_table`][tnrnn.rank.rank_table] give the rank table across T and depth, run by the resumable sweep runner;
the records are [`tnrnn.report.TableRecord`][tnrnn.report.TableRecord].
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.bounds.algebraic import BOUND_NAMES, best_bound, upper_bounds
from tnrnn.bounds.certify import certify, with_statement
from tnrnn.bounds.theory import contradictions as theory_contradictions
from tnrnn.bounds.theory import theory_values
from tnrnn.rac.partition import Partition
from tnrnn.rac.problem import DEFAULT_CERTIFY_SECONDS, DOMAINS, RankProblem, make_problem, seed_list_of
from tnrnn.rac.spec import RACSpec
from tnrnn.report import RankReport, TableRecord

__all__ = ["RankReport", "TableRecord", "separation_rank", "solve", "table_point", "table_points", "rank_table",
           "table_record", "BOUND_NAMES", "TABLE_TASK", "DEFAULT_CERTIFY_SECONDS"]

#: The sweep task behind ``tnrnn table``.
TABLE_TASK = "tnrnn.rank:table_point"


def separation_rank(
    spec: RACSpec,
    T: int,
    partition: str | Iterable[int] | Partition = "start-end",
    domain: str = "onehot",
    *,
    seeds: int | Sequence[int] = 2,
    primes: int | Sequence[int] | None = None,
    budget_bytes: int | None = None,
    budget_mb: float | None = None,
    certify_seconds: float | None = DEFAULT_CERTIFY_SECONDS,
    progress: bool = False,
    output: int = 0,
    mincut: Any = None,
    certify_work: float | None | str = "auto",
) -> RankReport:
    """Bounds, a certified lower bound and the theory for the separation rank of a generic RAC.

    Parameters
    ----------
    spec : RACSpec
    T : int
    partition : str, iterable of int or Partition, default "start-end"
        ``"start-end"`` (T even), ``"odd-even"``, or side A as 1-based steps.
    domain : {"onehot", "continuous"}
    seeds : int or sequence of int, default 2
        A count (seeds 0..n-1) or explicit seeds.
    primes : int or sequence of int, optional
    budget_bytes, budget_mb : optional
        Memory budget (default ``$TNRNN_MAX_BYTES`` or 4 GiB).
    certify_seconds : float or None, default None
        Wall-clock box for the certified lower bound; 0 for upper bounds only; None for no box.
    progress : bool, default False
    output : int, default 0
    mincut : CutResult, optional
        The min-cut of this problem's network when the caller already computed it (for a figure, say): used
        instead of computing it again. Grid form on the one-hot domain, continuous form otherwise.
    certify_work : float, None or "auto", default "auto"
        Deterministic work budget of the certificate ([`tnrnn.rac.problem.make_problem`][tnrnn.rac.problem.make_problem]): by default
        ``DEFAULT_CERTIFY_WORK`` unless a time box is given.

    Returns
    -------
    RankReport

    Raises
    ------
    TnrnnError
        Bad input; ``ResourceError`` for sizes beyond the limits (before any work).

    Examples
    --------
    >>> rep = separation_rank(RACSpec(depth=2, width=2, features=2), T=4)
    >>> rep.lower, str(rep.upper), rep.exact
    (4, '2^2 = 4', True)
    >>> separation_rank(RACSpec(2, 2, 2), 4, certify_seconds=0).lower is None
    True
    """
    problem = make_problem(spec, T, partition, domain, seeds=seeds, primes=primes, budget_bytes=budget_bytes,
                           budget_mb=budget_mb, certify_seconds=certify_seconds, output=output,
                           certify_work=certify_work)
    return solve(problem, progress=progress, mincut=mincut)


def solve(problem: RankProblem, *, progress: bool = False, mincut: Any = None) -> RankReport:
    """Answer a validated problem: upper bounds, theory, the certificate within its time budget.

    Parameters
    ----------
    problem : RankProblem
    progress : bool, default False
    mincut : CutResult, optional
        The network's min-cut when the caller already has it (see [`separation_rank`][tnrnn.rank.separation_rank]).

    Returns
    -------
    RankReport
    """
    t_start = time.perf_counter()
    spec, T, part, domain = problem.spec, problem.T, problem.partition, problem.domain
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    bounds, bound_notes = upper_bounds(spec, T, part, domain, cut=mincut)
    upper, sources = best_bound(bounds)
    sources = [name for name in BOUND_NAMES if name in sources]
    timings["bounds"] = time.perf_counter() - t0
    theory = list(theory_values(spec, T, part, domain))
    notes: list[str] = []
    cert = None
    if problem.bounds_only:
        notes.append("bounds only (certify_seconds or certify_work = 0): no certified lower bound was computed")
    else:
        t0 = time.perf_counter()
        cert = with_statement(certify(problem, upper, progress=progress), problem, upper)
        timings["certify"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    lower = cert.rank if cert is not None and cert.runs else None  # None: no matrix fitted the time budget
    if cert is not None and not cert.runs:
        notes.append("no certified lower bound: even the smallest matrix needs more than the time or work budget "
                     "allows")
    return RankReport(
        spec=spec, T=T, partition=part, domain=domain, lower=lower, upper=upper, upper_source=sources[0],
        exact=lower is not None and bool(upper == lower), bounds=bounds, theory=theory,
        contradictions=theory_contradictions(theory, lower, upper), certificate=cert, timings=timings,
        upper_sources=sources, bound_notes=bound_notes, notes=notes,
    )


# --------------------------------------------------------------------------------------------------------------
# The rank table (a sweep over depth and T)


def table_point(
    depth: int,
    width: int,
    features: int,
    time: int,
    domain: str = "onehot",
    partition: str = "start-end",
    seeds: int | Sequence[int] = 2,
    certify_seconds: float | None = DEFAULT_CERTIFY_SECONDS,
    budget_mb: float | None = None,
    certify_work: float | None | str = "auto",
) -> dict:
    """One point of the rank table: the JSON of its [`TableRecord`][tnrnn.report.TableRecord].

    Examples
    --------
    >>> rec = table_point(2, 2, 2, 4)
    >>> rec["lower"]["value"], rec["upper"]["value"], rec["exact"]
    ('4', '4', True)
    """
    rep = separation_rank(RACSpec(depth=depth, width=width, features=features), time, partition, domain, seeds=seeds,
                          budget_mb=budget_mb, certify_seconds=certify_seconds, certify_work=certify_work)
    return TableRecord.from_report(rep, rep.partition.name if rep.partition is not None else partition).to_json()


# Bump when the record's meaning changes: the sweep runner recomputes older records instead of reusing them.
table_point.result_schema = 3  # type: ignore[attr-defined]


def table_points(
    depths: Iterable[int],
    width: int,
    features: int,
    times: Iterable[int],
    *,
    domain: str = "onehot",
    partition: str = "start-end",
    seeds: int | Sequence[int] = 2,
    certify_seconds: float | None = DEFAULT_CERTIFY_SECONDS,
    budget_mb: float | None = None,
    certify_work: float | None | str = "auto",
) -> list[dict]:
    """The sweep points of a rank table, each validated as a whole problem up front (sizes, partition, budget), so
    an oversized or bad point fails before any work instead of being retried as a failed point.

    Examples
    --------
    >>> [(p["depth"], p["time"]) for p in table_points([1, 2], 2, 2, [2, 4])]
    [(1, 2), (1, 4), (2, 2), (2, 4)]
    >>> table_points([1], 2, 2, [3])
    Traceback (most recent call last):
    tnrnn.base.errors.TnrnnError: the start-end partition needs an even T, got T = 3
    """
    if domain not in DOMAINS:
        raise TnrnnError(f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}")
    if partition not in ("start-end", "odd-even"):
        raise TnrnnError(f"a rank table takes a named partition (start-end or odd-even), got {partition!r}")
    depths = [check_positive_int("depth", d) for d in depths]
    times = [check_positive_int("T", t) for t in times]
    if not depths or not times:
        raise TnrnnError("a rank table needs at least one depth and one T")
    chosen = seed_list_of(seeds)
    # seeds 0..n-1 are stored as the count n: one canonical form, so equal requests share their stored results
    seeds = len(chosen) if chosen == list(range(len(chosen))) else chosen
    for d in depths:
        spec = RACSpec(depth=d, width=width, features=features)
        for t in times:
            make_problem(spec, t, partition, domain, seeds=seeds, budget_mb=budget_mb, certify_seconds=certify_seconds,
                         certify_work=certify_work)
    return [
        {"depth": d, "width": width, "features": features, "time": t, "domain": domain, "partition": partition,
         "seeds": seeds, "certify_seconds": certify_seconds, "budget_mb": budget_mb, "certify_work": certify_work}
        for d in depths
        for t in times
    ]


def rank_table(
    depths: Iterable[int],
    width: int,
    features: int,
    times: Iterable[int],
    *,
    domain: str = "onehot",
    partition: str = "start-end",
    seeds: int | Sequence[int] = 2,
    certify_seconds: float | None = DEFAULT_CERTIFY_SECONDS,
    budget_mb: float | None = None,
    results: str | None = None,
    certify_work: float | None | str = "auto",
    **sweep_kwargs: Any,
) -> list[TableRecord]:
    """The rank table across T and depth, computed by the resumable sweep runner.

    Parameters
    ----------
    depths, times : iterables of int
    width, features : int
    domain, partition : str
    seeds : int or sequence of int
    certify_seconds : float or None
        Per point (a wall-clock box; None: none).
    certify_work : float, None or "auto"
        Per point (work units; "auto": the default unless a time box is given).
    budget_mb : float, optional
        Memory budget per point.
    results : str, optional
        JSON-lines results file (default ``tnrnn-table.jsonl``).
    **sweep_kwargs
        Passed to [`tnrnn.sweep.run_sweep`][tnrnn.sweep.runner.run_sweep].

    Returns
    -------
    list of TableRecord
        Depth-major then T; a failed point has ``error`` set and ``lower`` None.

    Examples
    --------
    >>> import os, tempfile
    >>> recs = rank_table([1, 2], 2, 2, [2, 4], results=os.path.join(tempfile.mkdtemp(), "t.jsonl"),
    ...                   executor="serial", progress=False)
    >>> [(r.depth, r.time, r.lower) for r in recs]
    [(1, 2, 2), (1, 4, 2), (2, 2, 2), (2, 4, 4)]
    """
    from tnrnn.sweep import run_sweep

    points = table_points(depths, width, features, times, domain=domain, partition=partition, seeds=seeds,
                          certify_seconds=certify_seconds, budget_mb=budget_mb, certify_work=certify_work)
    sweep_kwargs.setdefault("desc", "rank table")
    records = run_sweep(TABLE_TASK, points, results or "tnrnn-table.jsonl", **sweep_kwargs)
    return [table_record(rec) for rec in records]


def table_record(sweep_record: dict) -> TableRecord:
    """The table record of one sweep record; an error point keeps its parameters and the error text.

    Examples
    --------
    >>> table_record({"status": "error", "params": {"depth": 2, "time": 4, "seeds": 2}, "error": "boom"}).error
    'boom'
    """
    if sweep_record.get("status") == "ok" and sweep_record.get("result"):
        rec = TableRecord.from_json(sweep_record["result"])
        rec.seconds = sweep_record.get("seconds")
        return rec
    params = dict(sweep_record.get("params") or {})
    return TableRecord(int(params.get("depth", 0)), int(params.get("width", 0)), int(params.get("features", 0)),
                       int(params.get("time", 0)), str(params.get("domain", "")), str(params.get("partition", "")),
                       error=str(sweep_record.get("error") or "failed"))
