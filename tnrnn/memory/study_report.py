"""Summaries and figures of a memory sweep over seeds: per (cell, depth, T) the mean and median test accuracy
with a seeded percentile-bootstrap interval clipped to [0, 1], the fraction of seeds at or above `SOLVED`
with its Wilson interval, per-class accuracy, and the sweep's summary metric, the largest T at which the mean
test accuracy is at least `SOLVED` (Levine et al., arXiv 1710.09431, section 5, plot accuracy against T
the same way).

Every interval comes from [`tnrnn.stats`][tnrnn.stats], so none leaves [0, 1] (a Student-t interval of three seeds
does). With three seeds a bootstrap interval is coarse: it is read as the spread of the seeds, not as a test.

[`write_study`][tnrnn.memory.study_report.write_study] is what ``tnrnn memory-sweep`` runs at the end; it can be rerun on a finished or partial
results file with ``tnrnn.memory.study_report.main`` (``python -m tnrnn.memory.study_report RESULTS PREFIX``).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections import defaultdict

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import read_jsonl, write_json
from tnrnn.memory.cells import CELL_TABLE
from tnrnn.stats import bootstrap_interval, success_summary

#: Mean test accuracy at which a (cell, depth, T) point counts as solved.
SOLVED = 0.9

#: Confidence level of the intervals.
LEVEL = 0.95

#: How every accuracy interval of a memory study is computed (written into the summary beside the numbers).
INTERVAL = ("95% percentile bootstrap of the mean over seeds (4,000 resamples, seed 0) clipped to [0, 1]; "
            "median with the same bootstrap; success = fraction of seeds with accuracy >= 0.9, Wilson interval")


def accuracy_stats(values, level: float = LEVEL) -> dict:
    """Mean, median and their bootstrap intervals clipped to [0, 1], and the success rate (Wilson) of
    accuracies over seeds; None entries are dropped.

    Returns
    -------
    dict
        ``mean``, ``n``, ``ci_low`` and ``ci_high`` (the bootstrap interval of the mean; None for one value),
        ``median`` and ``median_interval``, ``success`` ([`tnrnn.stats.success_summary`][tnrnn.stats.success_summary] at
        `SOLVED`) and ``values`` (the accuracies, in the order given).

    Examples
    --------
    >>> r = accuracy_stats([0.5, 0.7, 0.96])
    >>> round(r["mean"], 3), r["n"], 0.0 <= r["ci_low"] <= r["mean"] <= r["ci_high"] <= 1.0
    (0.72, 3, True)
    >>> r["median"], r["success"]["successes"], [round(v, 3) for v in r["success"]["interval"]]
    (0.7, 1, [0.061, 0.792])
    """
    x = [float(v) for v in values if v is not None]
    if not x:
        return {"mean": None, "n": 0, "ci_low": None, "ci_high": None, "median": None, "median_interval": None,
                "success": success_summary([], SOLVED, level), "values": []}
    mean = bootstrap_interval(x, np.mean, level=level)
    median = bootstrap_interval(x, np.median, level=level)
    lo, hi = mean["interval"] if mean["interval"] is not None else (None, None)
    return {"mean": mean["value"], "n": len(x), "ci_low": lo, "ci_high": hi, "median": median["value"],
            "median_interval": median["interval"], "success": success_summary(x, SOLVED, level), "values": x}


def _group(points: list[dict]) -> dict:
    groups: dict = defaultdict(list)
    for p in points:
        groups[(p["cell"], p["depth"], p["time"])].append(p)
    return groups


def summarize(records: list[dict]) -> dict:
    """Group sweep records over seeds.

    Returns
    -------
    dict
        ``rows``: one per (cell, depth, T) with ``accuracy`` ([`accuracy_stats`][tnrnn.memory.study_report.accuracy_stats] over seeds, in the order
        of ``seeds``), ``per_class`` (the same per class), ``no_vs_half``, ``seeds``, ``widths``,
        ``num_params``, mean ``steps``;
        ``solved``: per (cell, depth) the largest T with mean accuracy >= `SOLVED` (None if none);
        ``errors``; ``task`` and ``training`` (of the first record); ``total_point_seconds``; ``runs`` (the
        finished runs counted); ``interval`` (how the intervals are computed).

    Examples
    --------
    >>> rec = lambda seed, acc: {"status": "ok", "seconds": 1.0, "params": {"steps": 5}, "result": {
    ...     "cell": "gru", "depth": 1, "time": 20, "seed": seed, "accuracy": acc, "width": 4, "num_params": 99,
    ...     "steps": 5, "per_class": {"0/2": acc}, "no_vs_half_accuracy": acc, "chance": 1 / 3, "task": {}}}
    >>> s = summarize([rec(0, 0.9), rec(1, 1.0)])
    >>> s["rows"][0]["accuracy"]["mean"], s["solved"], s["total_point_seconds"]
    (0.95, [{'cell': 'gru', 'depth': 1, 'largest_T': 20}], 2.0)
    """
    ok = [r["result"] for r in records if r.get("status") == "ok" and r.get("result")]
    errors = [{"params": r.get("params"), "error": r.get("error")} for r in records if r.get("status") == "error"]
    order = list(CELL_TABLE)
    rows = []
    for (cell, depth, T), pts in sorted(_group(ok).items(), key=lambda kv: (order.index(kv[0][0]), *kv[0][1:])):
        pts = sorted(pts, key=lambda p: p["seed"])
        classes = list(pts[0].get("per_class") or {})
        rows.append({
            "cell": cell, "depth": depth, "time": T, "seeds": [p["seed"] for p in pts],
            "widths": sorted({p["width"] for p in pts}), "num_params": max(p["num_params"] for p in pts),
            "accuracy": accuracy_stats([p["accuracy"] for p in pts]),
            "per_class": {c: accuracy_stats([p["per_class"].get(c) for p in pts]) for c in classes},
            "no_vs_half": accuracy_stats([p.get("no_vs_half_accuracy") for p in pts]),
            "steps": float(np.mean([p["steps"] for p in pts])), "chance": pts[0]["chance"],
        })
    solved = []
    for cell, depth in sorted({(r["cell"], r["depth"]) for r in rows}, key=lambda cd: (order.index(cd[0]), cd[1])):
        good = [r["time"] for r in rows if (r["cell"], r["depth"]) == (cell, depth)
                and r["accuracy"]["mean"] is not None and r["accuracy"]["mean"] >= SOLVED]
        solved.append({"cell": cell, "depth": depth, "largest_T": max(good) if good else None})
    first = records[0]["params"] if records and records[0].get("params") else {}
    return {"rows": rows, "solved": solved, "errors": errors, "task": ok[0]["task"] if ok else {},
            "training": {k: v for k, v in first.items() if k not in ("cell", "depth", "time", "seed")},
            "total_point_seconds": float(sum(float(r.get("seconds") or 0.0) for r in records)),
            "runs": len(ok), "interval": INTERVAL}


def table_lines(summary: dict) -> list[str]:
    """The summary as a plain-text table: one line per (cell, depth), at each T the mean accuracy [bootstrap
    interval] and the seeds at or above `SOLVED` (``k/n``).

    Examples
    --------
    >>> s = {"rows": [{"cell": "gru", "depth": 1, "time": 20, "num_params": 99, "widths": [4], "seeds": [0, 1],
    ...      "accuracy": accuracy_stats([0.9, 1.0])}], "solved": [{"cell": "gru", "depth": 1, "largest_T": 20}]}
    >>> print("\\n".join(table_lines(s)))
    cell    L  R   params  largest T (acc>=0.9)  T=20
    GRU     1  4   99      20                    0.950 [0.900, 1.000] 2/2>=0.9
    """
    times = sorted({r["time"] for r in summary["rows"]})
    head = f"{'cell':<7} {'L':<2} {'R':<3} {'params':<7} {'largest T (acc>=0.9)':<21} " + "  ".join(
        f"T={t}" for t in times)
    lines = [head]
    for s in summary["solved"]:
        rows = {r["time"]: r for r in summary["rows"] if (r["cell"], r["depth"]) == (s["cell"], s["depth"])}
        any_row = next(iter(rows.values()))
        cells = []
        for t in times:
            a = rows[t]["accuracy"] if t in rows else None
            if a is None or a["mean"] is None:
                cells.append("-")
            elif a["ci_low"] is None:
                cells.append(f"{a['mean']:.3f} n=1")
            else:
                cells.append(f"{a['mean']:.3f} [{a['ci_low']:.3f}, {a['ci_high']:.3f}] "
                             f"{a['success']['successes']}/{a['n']}>={SOLVED}")
        width = "/".join(str(w) for w in any_row["widths"])
        lines.append(f"{CELL_TABLE[s['cell']].label:<7} {s['depth']:<2} {width:<3} {any_row['num_params']:<7} "
                     f"{str(s['largest_T']):<21} " + "  ".join(cells))
    return lines


def write_study(records: list[dict], prefix: str | os.PathLike, *, command: str | None = None) -> dict:
    """Write ``PREFIX.json`` (summary, table and regeneration command), ``PREFIX.png`` (accuracy against T
    with bootstrap intervals and every seed as a point) and ``PREFIX_classes.png`` (per-class panel); return the summary with
    ``table`` and ``figures`` added.
    """
    from tnrnn.memory.study_plots import plot_accuracy, plot_classes

    summary = summarize(records)
    summary["table"] = table_lines(summary) if summary["rows"] else []
    summary["regenerate"] = {"sweep": command, "figures": f"python -m tnrnn.memory.study_report "
                                                          f"{prefix}.jsonl {prefix}"}
    summary["figures"] = []
    if summary["rows"]:
        summary["figures"] = [str(plot_accuracy(summary, f"{prefix}.png")),
                              str(plot_classes(summary, f"{prefix}_classes.png"))]
    write_json(f"{prefix}.json", summary)
    return summary


def _sweep_command(records: list[dict]) -> str | None:
    """The ``tnrnn memory-sweep`` command line of the last provenance record (the run that finished the
    sweep; a resumed sweep appends one per run), if any.
    """
    for r in reversed(records):
        argv = r.get("argv") if r.get("kind") == "provenance" else None
        if isinstance(argv, list) and len(argv) > 1 and all(isinstance(a, str) for a in argv):
            return "tnrnn " + shlex.join(argv[1:])
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m tnrnn.memory.study_report RESULTS.jsonl PREFIX``: summary and figures of a sweep file."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m tnrnn.memory.study_report RESULTS.jsonl PREFIX", file=sys.stderr)
        return 2
    everything = read_jsonl(argv[0])
    records = [r for r in everything if r.get("kind") != "provenance"]
    if not records:
        raise TnrnnError(f"no sweep records in {argv[0]}")
    summary = write_study(records, argv[1], command=_sweep_command(everything))
    print("\n".join(summary["table"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
