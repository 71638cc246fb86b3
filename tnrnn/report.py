"""What the rank engine reports: [`RankReport`][tnrnn.report.RankReport] (one separation rank), [`TableRecord`][tnrnn.report.TableRecord] (one point of a rank
table) and the table's text and CSV forms.

Every exact count is serialised as ``ExactCount.to_json()``, ``{"value": "<decimal or b^e>", "log2": float}``: the
lower bound, the upper bounds and the theory values alike, in ``rank --json``, ``table --json`` and results files.

A report need not come from a RAC: for another tensor network leave ``spec``/``T`` as None and name the problem in
``label``; every other field keeps its meaning (the general-network bounds build reports this way).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import TnrnnError
from tnrnn.bounds.algebraic import BOUND_NAMES
from tnrnn.rac.partition import Partition
from tnrnn.rac.spec import RACSpec

__all__ = ["RankReport", "TableRecord", "count_json", "format_table", "table_csv", "theory_row"]


def count_json(x: ExactCount | int | None) -> dict | None:
    """The JSON of a count (``{"value", "log2"}``), or None for "not computed / does not apply".

    >>> count_json(12), count_json(None)
    ({'value': '12', 'log2': 3.584962500721156}, None)
    """
    if x is None:
        return None
    return (x if isinstance(x, ExactCount) else ExactCount(int(x))).to_json()


def _count_from(data: Any) -> ExactCount | None:
    """Inverse of [`count_json`][tnrnn.report.count_json]; also reads an int or the older ``"2^2 = 4"`` text."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        return ExactCount.from_json(data)
    if isinstance(data, int) and not isinstance(data, bool):
        return ExactCount(data)
    if isinstance(data, str):
        return ExactCount.from_text(data.split("=")[-1].strip())
    raise TnrnnError(f"expected an exact count, got {type(data).__name__}")


def theory_row(tv: Any, lower: int | None, upper: ExactCount | None) -> dict:
    """A theory value as a JSON-ready dict with ``contradicted`` (`TheoryValue.contradicted_by`).

    ``value`` is a count (``{"value", "log2"}``); ``value_log2`` repeats its log2 for plotting.
    """
    value = tv.value if isinstance(tv.value, ExactCount) else ExactCount(tv.value)
    return {"name": tv.name, "kind": tv.kind, "relation": tv.relation, "value": value.to_json(),
            "value_log2": value.log2, "applies": bool(tv.applies),
            "contradicted": tv.contradicted_by(lower, upper) is not None, "source": tv.source, "note": tv.note}


def _show(x: ExactCount | int) -> str:
    x = x if isinstance(x, ExactCount) else ExactCount(x)
    text = str(x)
    return text if x.log2 < 20 or text.startswith("~2^") else f"{text} (log2 {x.log2:.1f})"


@dataclass
class RankReport:
    """Everything known about one separation rank.

    Attributes
    ----------
    spec : RACSpec or None
        The RAC; None for another tensor network (then ``label`` names it).
    T : int or None
    partition : Partition or None
    domain : str
        ``"onehot"`` or ``"continuous"`` (for other networks: what the open legs range over).
    lower : int or None
        Certified lower bound (exact GF(p) rank, see ``certificate``); None when not computed (bounds only).
    upper : ExactCount
        Best upper bound: the minimum of ``bounds``.
    upper_source : str
    exact : bool
        ``lower == upper``.
    bounds : dict
        Bound name -> ExactCount, or None where a bound does not apply.
    theory : list of TheoryValue
    contradictions : list of str
    certificate : Certificate or None
    timings : dict
        Seconds per stage.
    upper_sources, bound_notes, notes
        Every bound attaining ``upper``; provenance of each bound; anything a reader should know.
    label : str
        What the problem is, in words (filled in from the spec when empty).
    """

    spec: RACSpec | None
    T: int | None
    partition: Partition | None
    domain: str
    lower: int | None
    upper: ExactCount
    upper_source: str
    exact: bool
    bounds: dict
    theory: list = field(default_factory=list)
    contradictions: list = field(default_factory=list)
    certificate: Any = None
    timings: dict = field(default_factory=dict)
    upper_sources: list = field(default_factory=list)
    bound_notes: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label and self.spec is not None:
            s = self.spec
            part = "" if self.partition is None else f", {self.partition.label()}"
            self.label = f"RAC (L={s.L}, R={s.R}, M={s.M}, K={s.K}), T={self.T}{part}"

    @property
    def statement(self) -> Any:
        """The probabilistic statement of the certificate (None when none applies or the rank is exact)."""
        return None if self.certificate is None or self.exact else self.certificate.statement

    def theory_rows(self) -> list[dict]:
        """The theory values as JSON-ready dicts with a ``contradicted`` flag."""
        return [theory_row(tv, self.lower, self.upper) for tv in self.theory]

    def to_json(self) -> dict:
        """JSON-ready dict; every count is ``{"value", "log2"}``."""
        st = self.statement
        return {
            "label": self.label,
            "spec": None if self.spec is None else self.spec.to_json(),
            "T": self.T,
            "partition": None if self.partition is None else self.partition.to_json(),
            "domain": self.domain,
            "lower": count_json(self.lower),
            "upper": count_json(self.upper),
            "upper_source": self.upper_source,
            "upper_sources": list(self.upper_sources),
            "exact": self.exact,
            "bounds": {k: count_json(v) for k, v in self.bounds.items()},
            "bound_notes": dict(self.bound_notes),
            "theory": self.theory_rows(),
            "contradictions": list(self.contradictions),
            "probabilistic": None if st is None else st.to_json(),
            "notes": list(self.notes),
            "certificate": None if self.certificate is None else self.certificate.to_json(),
            "timings": dict(self.timings),
        }

    def __str__(self) -> str:
        cert = self.certificate
        runs = 0 if cert is None else len(cert.runs)
        lower = "-" if self.lower is None else str(self.lower)
        rows: list[tuple[str, str, str]] = [
            ("lower (certified)", lower, "not computed (bounds only)" if cert is None
             else f"GF(p) rank, max over {runs} run(s)" if runs else "not computed (time budget)"),
            ("upper (best)", _show(self.upper), f"from {self.upper_source}"),
            ("exact", "yes" if self.exact else "no", "lower == upper" if self.exact else "gap remains"),
            ("bounds", "", ""),
        ]
        for name in [n for n in BOUND_NAMES if n in self.bounds] + [n for n in self.bounds if n not in BOUND_NAMES]:
            value, note = self.bounds.get(name), self.bound_notes.get(name, "")
            if value is None:
                note = f"does not apply ({note})" if note else "does not apply"
            rows.append((f"  {name}", "-" if value is None else _show(value), note[:87] + "..." if len(note) > 90 else note))
        if self.theory:
            rows.append(("theory", "", ""))
        for row in self.theory_rows():
            flag = "CONTRADICTED" if row["contradicted"] else ("applies" if row["applies"] else _not_applies(row["note"]))
            value = ExactCount.from_json(row["value"])
            rows.append((f"  {row['name']}", f"{row['relation']} {value}", f"{row['kind']}, {flag}"))
        w0, w1 = max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)
        lines = [f"Separation rank of a {self.label}, {self.domain} domain"]
        lines += [f"  {a:<{w0}}  {b:<{w1}}  {c}".rstrip() for a, b, c in rows]
        if self.contradictions:
            lines.append("  contradictions:")
            lines.extend(f"    - {c}" for c in self.contradictions)
        if self.statement is not None:
            lines.append(f"  {self.statement.text}")
        lines.extend(f"  note: {n}" for n in self.notes)
        if cert is not None:
            lines += _certificate_lines(cert)
        lines.append("  timings: " + ", ".join(f"{k} {v:.3f} s" for k, v in self.timings.items()))
        return "\n".join(lines)


def _not_applies(note: str) -> str:
    return "does not apply on the one-hot domain (exceeds the trivial bound)" if "one-hot domain" in note else "does not apply"


def _certificate_lines(cert: Any) -> list[str]:
    lines = [f"  certificate: seeds {sorted(set(cert.seeds))}, primes {sorted(set(cert.primes))}; {cert.method}"]
    for r in cert.runs:
        lines.append(f"    seed {r.seed}, p {r.prime}: rank {r.rank} from a {r.rows} x {r.cols} {r.method} "
                     f"({r.seconds:.2f} s; stopped: {r.stop})")
    if cert.next_size:
        n = cert.next_size
        if n.get("seconds") is None:
            need = "beyond the memory budget"
        else:
            work = f"{n['work']:.3g} work units, " if n.get("work") is not None else ""
            need = f"{work}about {n['seconds']:.3g} s"
        lines.append(f"    more needs a {n['rows']} x {n['cols']} matrix ({need}; --certify-work, --certify-seconds, "
                     "--budget-mb)")
    lines.extend(f"    note: {n}" for n in cert.notes)
    return lines


# --------------------------------------------------------------------------------------------------------------
# Table records


@dataclass
class TableRecord:
    """One point of a rank table, as stored by the sweep runner and read by the figures.

    Nothing in it depends on the machine (timings live in the sweep record, ``seconds``), so a point gives the same
    record wherever it runs, except where the certification time budget stopped growth earlier.
    """

    depth: int
    width: int
    features: int
    time: int
    domain: str
    partition: str
    lower: int | None = None
    upper: ExactCount | None = None
    upper_source: str = ""
    exact: bool | None = None
    theory: list = field(default_factory=list)
    certificate: dict = field(default_factory=dict)
    probabilistic: dict | None = None
    seconds: float | None = None
    error: str | None = None

    @classmethod
    def from_report(cls, rep: RankReport, partition_name: str) -> TableRecord:
        """The table record of a report."""
        assert rep.spec is not None and rep.T is not None
        cert = rep.certificate
        summary = {} if cert is None else {
            "seeds": sorted(set(cert.seeds)), "primes": sorted(set(cert.primes)),
            "stop": [r.stop for r in cert.runs], "next_size": cert.next_size}
        st = rep.statement
        return cls(rep.spec.L, rep.spec.R, rep.spec.M, rep.T, rep.domain, partition_name, rep.lower, rep.upper,
                   rep.upper_source, rep.exact,
                   [{k: row[k] for k in ("name", "kind", "relation", "value", "value_log2", "applies", "contradicted")}
                    for row in rep.theory_rows()], summary, None if st is None else st.to_json())

    def to_json(self) -> dict:
        """JSON-ready dict; ``lower`` and ``upper`` are counts ``{"value", "log2"}``."""
        out = {"depth": self.depth, "width": self.width, "features": self.features, "time": self.time,
               "domain": self.domain, "partition": self.partition, "lower": count_json(self.lower),
               "upper": count_json(self.upper), "upper_source": self.upper_source, "exact": self.exact,
               "theory": list(self.theory), "certificate": dict(self.certificate), "probabilistic": self.probabilistic}
        if self.seconds is not None:
            out["seconds"] = self.seconds
        if self.error is not None:
            out["error"] = self.error
        return out

    @classmethod
    def from_json(cls, data: Mapping) -> TableRecord:
        """Inverse of [`to_json`][tnrnn.report.TableRecord.to_json]; a malformed record raises a ``TnrnnError`` naming what is missing.

        >>> rec = TableRecord(2, 2, 2, 4, "onehot", "start-end", 4, ExactCount(4), "mincut", True)
        >>> TableRecord.from_json(rec.to_json()) == rec
        True
        """
        if not isinstance(data, Mapping):
            raise TnrnnError(f"a table record must be a JSON object, got {type(data).__name__}")
        try:
            lower = _count_from(data.get("lower"))
            return cls(int(data["depth"]), int(data.get("width", 0)), int(data.get("features", 0)), int(data["time"]),
                       str(data.get("domain", "")), str(data.get("partition", "")),
                       None if lower is None else int(lower.exact()), _count_from(data.get("upper")),
                       str(data.get("upper_source", "")), data.get("exact"), list(data.get("theory") or []),
                       dict(data.get("certificate") or {}), data.get("probabilistic"), data.get("seconds"),
                       data.get("error"))
        except (KeyError, TypeError, ValueError) as err:
            raise TnrnnError(f"malformed table record ({type(err).__name__}: {err}); expected depth, time, lower, "
                             "upper, ...") from None


def format_table(records: Iterable[TableRecord], *, domain: str, partition: str, width: int, features: int) -> str:
    """Depth rows by T columns; a cell is ``=r`` when exact, ``lower..upper`` otherwise.

    ``~`` marks a gap with a probabilistic statement; ``*`` a contradicted theory value.

    >>> recs = [TableRecord(2, 2, 2, 4, "onehot", "start-end", 4, ExactCount(4), "mincut", True),
    ...         TableRecord(2, 2, 2, 6, "onehot", "start-end", 7, ExactCount.power(2, 3), "mincut", False)]
    >>> print(format_table(recs, domain="onehot", partition="start-end", width=2, features=2))
    ... # doctest: +NORMALIZE_WHITESPACE
    Separation-rank table (onehot domain, start-end), R=2, M=2: '=r' exact, 'lower..upper' otherwise, '~' a probabilistic statement, '*' a theory value contradicted
    depth \\ T   4           6
            2  =4  7..2^3 = 8
    """
    records = list(records)
    depths = sorted({r.depth for r in records})
    times = sorted({r.time for r in records})
    cell: dict[tuple[int, int], str] = {}
    notes = []
    for r in records:
        key = (r.depth, r.time)
        if r.error is not None:
            cell[key] = "error"
            notes.append(f"L={r.depth} T={r.time}: {r.error}")
            continue
        low = "?" if r.lower is None else str(r.lower)
        cell[key] = f"={low}" if r.exact else f"{low}..{r.upper}"
        if not r.exact and r.probabilistic and r.probabilistic.get("epsilon", 1.0) < 1:
            cell[key] += "~"
            notes.append(f"L={r.depth} T={r.time}: {r.probabilistic.get('text', '')}")
        bad = [f"{t['name']} ({t['relation']} {_count_from(t['value'])})" for t in r.theory if t.get("contradicted")]
        if bad:
            cell[key] += "*"
            notes.append(f"L={r.depth} T={r.time}: contradicted: {', '.join(bad)}")
    head = ["depth \\ T"] + [str(t) for t in times]
    rows = [[str(d)] + [cell.get((d, t), "") for t in times] for d in depths]
    widths = [max(len(row[i]) for row in [head] + rows) for i in range(len(head))]
    lines = [f"Separation-rank table ({domain} domain, {partition}), R={width}, M={features}: '=r' exact, "
             "'lower..upper' otherwise, '~' a probabilistic statement, '*' a theory value contradicted",
             "  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    lines += [f"  {n}" for n in notes]
    return "\n".join(lines)


CSV_COLUMNS = ("depth", "width", "features", "time", "domain", "partition", "lower", "lower_log2", "upper",
               "upper_log2", "upper_source", "exact", "epsilon", "error")


def table_csv(records: Iterable[TableRecord]) -> str:
    """The table as CSV text, one row per point; counts as their exact text and log2.

    >>> print(table_csv([TableRecord(2, 2, 2, 4, "onehot", "start-end", 4, ExactCount(4), "mincut", True)]).strip())
    depth,width,features,time,domain,partition,lower,lower_log2,upper,upper_log2,upper_source,exact,epsilon,error
    2,2,2,4,onehot,start-end,4,2.0,4,2.0,mincut,True,,
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        up = None if r.upper is None else r.upper.to_json()
        writer.writerow([r.depth, r.width, r.features, r.time, r.domain, r.partition,
                         "" if r.lower is None else r.lower,
                         "" if not r.lower else math.log2(r.lower),
                         "" if up is None else up["value"], "" if up is None else up["log2"], r.upper_source,
                         "" if r.exact is None else r.exact,
                         "" if not r.probabilistic else r.probabilistic.get("epsilon"), r.error or ""])
    return buf.getvalue()
