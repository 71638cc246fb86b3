"""Separation ranks of RACs: every bound with its provenance, a certified lower bound, the theory beside them.

:func:`separation_rank` is the one entry point the CLI and the figures use. It computes

* upper bounds (SCIENCE.md section 4): the min-cut of the tensor network (structured fast path, the explicit
  network only where the fast path does not cover the form), the state (symmetric-power) bound, the per-site
  input bound and the trivial bound; the best upper bound is their minimum and ``upper_source`` names it;
* a certified lower bound (:func:`tnrnn.bounds.certify.certified_rank`: exact over GF(p), python-flint);
* the published values (shallow theorem, depth-2 theorem, depth-L conjecture), each flagged ``contradicted``
  when the certified computation rules it out.

The rank is about one output component; for ``K > 1`` outputs every value here bounds each component
separately (the output leg is never cut).

:func:`table_point` / :func:`rank_table` give the rank table across T and depth (the headline comparison of
Levine et al.), run by the project's resumable sweep runner.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.bounds.algebraic import BOUND_NAMES
from tnrnn.bounds.certify import DOMAINS, MAX_SEEDS, Certificate, as_int_list, certified_rank
from tnrnn.rac.partition import Partition, make_partition
from tnrnn.rac.recurrence import DEFAULT_PRIME
from tnrnn.rac.spec import RACSpec

__all__ = ["RankReport", "separation_rank", "table_point", "rank_table", "BOUND_NAMES", "TABLE_TASK"]

#: The sweep task behind ``tnrnn table``.
TABLE_TASK = "tnrnn.rank:table_point"


@dataclass
class RankReport:
    """Everything known about one separation rank.

    Attributes
    ----------
    spec : RACSpec
    T : int
    partition : Partition
    domain : str
        ``"onehot"`` or ``"continuous"``.
    lower : int
        Certified lower bound (exact GF(p) rank; see ``certificate``).
    upper : ExactCount
        Best upper bound: the minimum of ``bounds``.
    upper_source : str
        The bound that attained ``upper`` (first of ``BOUND_NAMES`` on ties; ``upper_sources`` lists all).
    exact : bool
        ``lower == upper``: the separation rank is known exactly.
    bounds : dict
        ``{"mincut", "state", "input", "trivial"}`` -> ExactCount, or None where a bound does not apply.
    theory : list of TheoryValue
        The published values (``tnrnn.bounds.theory``).
    contradictions : list of str
        In words, every theory value the computation rules out.
    certificate : Certificate
        Seeds, primes and matrices of the lower bound, enough to reproduce it.
    timings : dict
        Seconds per stage (``bounds`` (min-cut and algebraic), ``theory``, ``certify``, ``total``).
    upper_sources : list of str
        Every bound that attains ``upper``.
    bound_notes : dict
        Provenance of each bound in words (which network and solver gave the min-cut, ...).
    notes : list of str
        Anything a reader should know (a bound that could not be computed, ...).
    """

    spec: RACSpec
    T: int
    partition: Partition
    domain: str
    lower: int
    upper: ExactCount
    upper_source: str
    exact: bool
    bounds: dict
    theory: list
    contradictions: list
    certificate: Certificate
    timings: dict
    upper_sources: list = field(default_factory=list)
    bound_notes: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    # -- theory ------------------------------------------------------------------------------------------------
    def theory_rows(self) -> list[dict]:
        """The theory values as JSON-ready dicts with a ``contradicted`` flag (the rank-table format)."""
        return [_theory_row(tv, self.lower, self.upper) for tv in self.theory]

    # -- output ------------------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        """A compact JSON-ready dict; huge counts are ``{"value", "factors", "log2"}`` (ExactCount.to_json)."""
        return {
            "spec": self.spec.to_json(),
            "T": self.T,
            "partition": self.partition.to_json(),
            "domain": self.domain,
            "lower": self.lower,
            "upper": _count_json(self.upper),
            "upper_source": self.upper_source,
            "upper_sources": list(self.upper_sources),
            "exact": self.exact,
            "bounds": {k: _count_json(v) for k, v in self.bounds.items()},
            "bound_notes": dict(self.bound_notes),
            "theory": self.theory_rows(),
            "contradictions": list(self.contradictions),
            "notes": list(self.notes),
            "certificate": self.certificate.to_json(),
            "timings": dict(self.timings),
        }

    def __str__(self) -> str:
        s = self.spec
        head = (
            f"Separation rank of a RAC (L={s.L}, R={s.R}, M={s.M}, K={s.K}), T={self.T}, "
            f"{self.partition.label()}, {self.domain} domain"
        )
        rows: list[tuple[str, str, str]] = [
            ("lower (certified)", str(self.lower), f"GF(p) rank, max over {len(self.certificate.runs)} run(s)"),
            ("upper (best)", _show(self.upper), f"from {self.upper_source}"),
            ("exact", "yes" if self.exact else "no", "lower == upper" if self.exact else "gap remains"),
        ]
        bound_rows = []
        for name in BOUND_NAMES:
            value = self.bounds.get(name)
            note = self.bound_notes.get(name, "")
            if value is None:
                note = f"does not apply ({note})" if note else "does not apply"
            if len(note) > 90:
                note = note[:87] + "..."
            bound_rows.append((f"  {name}", "-" if value is None else _show(value), note))
        theory_rows = []
        for row, tv in zip(self.theory_rows(), self.theory):
            flag = "CONTRADICTED" if row["contradicted"] else ("applies" if row["applies"] else "does not apply")
            theory_rows.append((f"  {tv.name}", f"{row['relation']} {row['value']}", f"{row['kind']}, {flag}"))
        all_rows = rows + [("bounds", "", "")] + bound_rows + [("theory", "", "")] + theory_rows
        w0 = max(len(r[0]) for r in all_rows)
        w1 = max(len(r[1]) for r in all_rows)
        lines = [head]
        for a, b, c in all_rows:
            lines.append(f"  {a:<{w0}}  {b:<{w1}}  {c}".rstrip())
        if self.contradictions:
            lines.append("  contradictions:")
            lines.extend(f"    - {c}" for c in self.contradictions)
        lines.extend(f"  note: {n}" for n in self.notes)
        cert = self.certificate
        lines.append(f"  certificate: seeds {sorted(set(cert.seeds))}, primes {sorted(set(cert.primes))}; {cert.method}")
        for r in cert.runs:
            lines.append(
                f"    seed {r['seed']}, p {r['prime']}: rank {r['rank']} from a {r['rows']} x {r['cols']} "
                f"{r['method']} ({r['seconds']:.2f} s)"
            )
        lines.extend(f"    note: {n}" for n in cert.notes)
        lines.append("  timings: " + ", ".join(f"{k} {v:.3f} s" for k, v in self.timings.items()))
        return "\n".join(lines)


def _show(x: ExactCount | int) -> str:
    x = _as_count(x)
    text = str(x)
    # the approximate form "~2^<log2> [n digits]" already shows the log2
    return text if x.log2 < 20 or text.startswith("~2^") else f"{text} (log2 {x.log2:.1f})"


def _count_json(x: ExactCount | int | None) -> dict | None:
    if x is None:
        return None
    return _as_count(x).to_json()


def _as_count(x: ExactCount | int) -> ExactCount:
    return x if isinstance(x, ExactCount) else ExactCount(x)


def _theory_row(tv: Any, lower: int, upper: ExactCount) -> dict:
    """A theory value as a JSON-ready dict with ``contradicted`` (:meth:`TheoryValue.contradicted_by`)."""
    value = _as_count(tv.value)
    return {
        "name": tv.name,
        "kind": tv.kind,
        "relation": tv.relation,
        "value": str(value),
        "value_log2": value.log2,
        "applies": bool(tv.applies),
        "contradicted": tv.contradicted_by(lower, upper) is not None,
        "source": tv.source,
        "note": tv.note,
    }


# --------------------------------------------------------------------------------------------------------------
# The entry point


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise TnrnnError(f"seeds must be a count or a list of seeds, got {seeds!r}")
    if hasattr(seeds, "__index__"):
        n = check_positive_int("seeds", seeds)
        if n > MAX_SEEDS:
            raise TnrnnError(
                f"seeds = {n} would run {n} certified computations per prime (at most {MAX_SEEDS}); a few seeds "
                "suffice: the maximum over runs rarely grows after the first"
            )
        return list(range(n))
    return as_int_list("seeds", seeds)


def _prime_list(primes: int | Sequence[int] | None) -> list[int]:
    if primes is None:
        return [DEFAULT_PRIME]
    if hasattr(primes, "__index__") and not isinstance(primes, bool):
        return [int(primes)]
    return as_int_list("primes", primes)


def separation_rank(
    spec: RACSpec,
    T: int,
    partition: str | Iterable[int] | Partition = "start-end",
    domain: str = "onehot",
    *,
    seeds: int | Sequence[int] = 2,
    primes: int | Sequence[int] | None = None,
    budget_bytes: int | None = None,
    progress: bool = False,
    output: int = 0,
) -> RankReport:
    """Bounds, a certified lower bound and the theory for the separation rank of a generic RAC.

    Parameters
    ----------
    spec : RACSpec
        Depth L, width R, features M (and outputs K; the rank is about output component ``output``).
    T : int
        Sequence length.
    partition : str, iterable of int or Partition, default "start-end"
        ``"start-end"`` (T even), ``"odd-even"``, or side A as 1-based steps (``"1,3,5"`` or ``[1, 3, 5]``).
    domain : {"onehot", "continuous"}
        One-hot inputs over M symbols (the grid tensor), or arbitrary feature vectors.
    seeds : int or sequence of int, default 2
        A count (seeds 0..n-1) or explicit seeds for the GF(p) weights.
    primes : int or sequence of int, optional
        Primes for the certified runs (default ``DEFAULT_PRIME``).
    budget_bytes : int, optional
        Memory budget of the certified computation (``ResourceError`` beyond it, before any work).
    progress : bool, default False
        Progress bars on stderr.
    output : int, default 0
        Output component.

    Returns
    -------
    RankReport

    Raises
    ------
    TnrnnError
        Bad partition (odd T for start-end, ...), domain, seeds or primes; ``ResourceError`` when the certified
        computation would not fit in memory.

    Examples
    --------
    >>> from tnrnn import RACSpec
    >>> rep = separation_rank(RACSpec(depth=2, width=2, features=2), T=4)
    >>> rep.lower, str(rep.upper), rep.exact
    (4, '2^2 = 4', True)
    >>> sorted(rep.to_json()["bounds"])
    ['input', 'mincut', 'state', 'trivial']
    """
    from tnrnn.bounds.algebraic import best_bound, upper_bounds
    from tnrnn.bounds.theory import contradictions as theory_contradictions
    from tnrnn.bounds.theory import theory_values

    t_start = time.perf_counter()
    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    T = check_positive_int("T", T)
    if domain not in DOMAINS:
        raise TnrnnError(f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}")
    part = make_partition(T, partition)
    seed_list, prime_list = _seed_list(seeds), _prime_list(primes)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    bounds, bound_notes = upper_bounds(spec, T, part, domain)
    upper, sources = best_bound(bounds)
    sources = [name for name in BOUND_NAMES if name in sources]
    timings["bounds"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    theory = list(theory_values(spec, T, part, domain))
    timings["theory"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    cert = certified_rank(
        spec, T, part, domain, seeds=seed_list, primes=prime_list, upper=upper, budget_bytes=budget_bytes,
        progress=progress, output=output,
    )
    timings["certify"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start

    lower = cert.rank
    contradictions = theory_contradictions(theory, lower, upper)
    return RankReport(
        spec=spec, T=T, partition=part, domain=domain, lower=lower, upper=upper, upper_source=sources[0],
        exact=bool(upper == lower), bounds=bounds, theory=theory, contradictions=contradictions, certificate=cert,
        timings=timings, upper_sources=sources, bound_notes=bound_notes,
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
    seeds: int = 2,
) -> dict:
    """One point of the rank table, as the JSON dict the sweep runner stores and the figures read.

    Keys: ``depth, width, features, time, domain, partition, lower, upper`` (compact string), ``upper_log2,
    upper_source, exact, lower_log2, theory`` (list of ``{name, kind, relation, value, value_log2, applies,
    contradicted}``), ``certificate``. Nothing in it depends on the machine or the executor (timings live in
    the sweep record), so the same point gives the same record wherever it runs.

    Examples
    --------
    >>> rec = table_point(2, 2, 2, 4)
    >>> rec["lower"], rec["upper"], rec["exact"]
    (4, '2^2 = 4', True)
    """
    import math

    spec = RACSpec(depth=depth, width=width, features=features)
    rep = separation_rank(spec, time, partition, domain, seeds=seeds)
    return {
        "depth": spec.L,
        "width": spec.R,
        "features": spec.M,
        "time": rep.T,
        "domain": domain,
        "partition": rep.partition.name,
        "lower": rep.lower,
        "upper": str(rep.upper),
        "upper_log2": rep.upper.log2,
        "upper_source": rep.upper_source,
        "exact": rep.exact,
        "lower_log2": math.log2(rep.lower) if rep.lower > 0 else None,
        "theory": [
            {k: row[k] for k in ("name", "kind", "relation", "value", "value_log2", "applies", "contradicted")}
            for row in rep.theory_rows()
        ],
        "certificate": {"seeds": sorted(set(rep.certificate.seeds)), "primes": sorted(set(rep.certificate.primes))},
    }


def table_points(
    depths: Iterable[int],
    width: int,
    features: int,
    times: Iterable[int],
    *,
    domain: str = "onehot",
    partition: str = "start-end",
    seeds: int = 2,
) -> list[dict]:
    """The sweep points of a rank table (validated up front, so a bad grid fails before any work).

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
    RACSpec(depth=1, width=width, features=features)  # validates width and features
    for t in times:
        make_partition(t, partition)  # odd T for start-end fails here, before the sweep starts
    seeds = check_positive_int("seeds", seeds)
    _seed_list(seeds)  # the count limit, checked before the sweep starts
    return [
        {"depth": d, "width": width, "features": features, "time": t, "domain": domain, "partition": partition,
         "seeds": seeds}
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
    seeds: int = 2,
    results: str | None = None,
    **sweep_kwargs: Any,
) -> list[dict]:
    """The rank table across T and depth, computed by the resumable sweep runner.

    Finished points are appended to ``results`` (JSON lines) as they complete, so an interrupted table keeps
    them and a rerun only computes the missing ones.

    Parameters
    ----------
    depths, times : iterables of int
    width, features : int
    domain, partition : str
    seeds : int
        Seeds per point.
    results : str, optional
        JSON-lines results file (default ``tnrnn-table.jsonl`` in the current directory).
    **sweep_kwargs
        Passed to :func:`tnrnn.sweep.run_sweep` (``executor``, ``workers``, ``scheduler``, ``progress``, ...).

    Returns
    -------
    list of dict
        One table record (:func:`table_point`) per point, in the order depth-major then T; a point that
        failed has ``"error"`` and ``"lower": None``.

    Examples
    --------
    >>> import os, tempfile
    >>> recs = rank_table([1, 2], 2, 2, [2, 4], results=os.path.join(tempfile.mkdtemp(), "t.jsonl"),
    ...                   executor="serial", progress=False)
    >>> [(r["depth"], r["time"], r["lower"]) for r in recs]
    [(1, 2, 2), (1, 4, 2), (2, 2, 2), (2, 4, 4)]
    """
    from tnrnn.sweep import run_sweep

    points = table_points(depths, width, features, times, domain=domain, partition=partition, seeds=seeds)
    sweep_kwargs.setdefault("desc", "rank table")
    records = run_sweep(TABLE_TASK, points, results or "tnrnn-table.jsonl", **sweep_kwargs)
    return [table_record(rec) for rec in records]


def table_record(sweep_record: dict) -> dict:
    """The table record of one sweep record (an error point keeps its parameters and the error text); ``seconds``
    is the point's run time as the sweep measured it.

    Examples
    --------
    >>> table_record({"status": "error", "params": {"depth": 2, "time": 4, "seeds": 2}, "error": "boom"})
    {'depth': 2, 'time': 4, 'lower': None, 'upper': None, 'exact': None, 'error': 'boom'}
    """
    if sweep_record.get("status") == "ok" and sweep_record.get("result"):
        return {**sweep_record["result"], "seconds": sweep_record.get("seconds")}
    params = dict(sweep_record.get("params") or {})
    params.pop("seeds", None)
    return {**params, "lower": None, "upper": None, "exact": None, "error": sweep_record.get("error") or "failed"}
