"""``tnrnn verify RESULTS``: check every record of a results file against its digest (and optionally recompute).

Examples::

    tnrnn verify tnrnn-table.jsonl
    tnrnn verify tnrnn-table.jsonl --recompute --json
"""

from __future__ import annotations

import argparse
from collections import Counter

from tnrnn.cli.common import print_json

_BAD = ("tampered", "unsealed", "unreadable", "wrong")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``verify`` subcommand."""
    p = sub.add_parser(
        "verify",
        help="check a results file: each record ok, tampered, unsealed or unreadable",
        description="Check every record of a sweep results file against the digest the sweep stored with it: a "
        "record edited by hand or damaged on disk is reported (and a sweep rerun recomputes it instead of "
        "reusing it). With --recompute, small rank-table records are also recomputed through "
        "tnrnn.separation_rank and compared. Exit status 0 when every record is ok, 1 otherwise.",
    )
    p.add_argument("results", metavar="RESULTS", help="JSON-lines results file of a sweep (table, memory-sweep, "
                   "capacity)")
    p.add_argument("--recompute", action="store_true",
                   help="also recompute rank-table records up to L=3, R=M=4, T=16 and compare their certified values")
    p.add_argument("--json", action="store_true", help="print one verdict per line as JSON")
    p.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    """``tnrnn verify``: print a verdict per record and a summary; exit 1 when any record is not ok."""
    from tnrnn.sweep.verify import verify_results

    verdicts = verify_results(args.results, recompute=args.recompute)
    counts = Counter(v.status for v in verdicts)
    bad = sum(counts[s] for s in _BAD)
    if args.json:
        print_json({"results": args.results, "counts": dict(counts), "verdicts": [v.to_json() for v in verdicts]})
    else:
        for v in verdicts:
            if v.status == "provenance":
                continue
            detail = f": {v.detail}" if v.detail else ""
            print(f"{args.results}:{v.line}  {v.key or '-':<20}  {v.status}{detail}")
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s != "provenance")
        print(f"{sum(n for s, n in counts.items() if s != 'provenance')} records: {summary or 'none'}")
    return 1 if bad else 0
