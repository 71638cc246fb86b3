"""``tnrnn verify RESULTS``: check every record of a results file against its digest (and optionally recompute).

Examples::

    tnrnn verify tnrnn-table.jsonl
    tnrnn verify tnrnn-table.jsonl --recompute --json
"""

from __future__ import annotations

import argparse
from collections import Counter

from tnrnn.base.validate import printable
from tnrnn.cli.common import print_json

_BAD = ("tampered", "unsealed", "unreadable", "wrong", "unrecomputable")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``verify`` subcommand."""
    p = sub.add_parser(
        "verify",
        help="check a results file: each record ok, tampered, unsealed or unreadable",
        description="Check every record of a sweep results file against the digest the sweep stored with it: a "
        "record edited by hand or damaged on disk is reported (and a sweep rerun recomputes it instead of "
        "reusing it). With --recompute, small rank-table records are also recomputed through "
        "tnrnn.separation_rank and compared, and every other record says it was not recomputed. Each record "
        "is judged on its own; a line cut by an interrupted run that a rerun resumed is reported as torn, not as a "
        "fault. Exit status 0 when every record is ok, 1 otherwise, 2 for a file that cannot be read.",
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
        # Keys and details come from the file: escaped, so a crafted value cannot move the cursor or forge a line.
        where = printable(str(args.results))
        for v in verdicts:
            if v.status == "provenance":
                continue
            detail = f": {printable(v.detail)}" if v.detail else ""
            print(f"{where}:{v.line}  {printable(v.key or '-'):<20}  {v.status}{detail}")
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s != "provenance")
        print(f"{sum(n for s, n in counts.items() if s != 'provenance')} records: {summary or 'none'}")
        if args.recompute:
            not_recomputed = sum(1 for v in verdicts if "not recomputed" in v.detail)
            print(f"recomputed: {counts['recomputed'] + counts['wrong']}; not recomputed: {not_recomputed} "
                  "(see each line)")
    return 1 if bad else 0
