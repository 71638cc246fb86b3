"""``tnrnn rank`` (one separation rank: bounds, certified lower bound, theory) and ``tnrnn table`` (the rank
table across T and depth, a resumable sweep).

Examples::

    tnrnn rank --depth 2 --width 4 --features 4 --time 12
    tnrnn rank -L 3 -R 3 -M 3 -T 8 --domain continuous --json
    tnrnn rank -L 2 -T 6 --partition 1,3,5 --seeds 3 --primes 1048573,1000003
    tnrnn table --depths 1,2,3 --width 2 --features 2 --times 2:12:2 --plot ranks.png
"""

from __future__ import annotations

import argparse
import sys

from tnrnn.cli.common import add_spec_args, int_list, int_range, positive_int, print_json, spec_from_args
from tnrnn.cli.sweep_args import add_sweep_args, sweep_kwargs

DEFAULT_TABLE_RESULTS = "tnrnn-table.jsonl"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``rank`` and ``table`` subcommands."""
    p = sub.add_parser(
        "rank",
        help="bounds, certified lower bound and theory for one separation rank",
        description="Separation rank of a generic RAC: every upper bound (min-cut, state, input, trivial), a "
        "certified lower bound (exact over GF(p)), and the published theorem/conjecture values.",
    )
    add_spec_args(p)
    _add_rank_options(p)
    p.add_argument("--primes", type=int_list, default=None, metavar="P1,P2",
                   help="primes for the certified runs (default 1048573)")
    p.add_argument("--budget-mb", type=positive_int, default=None, metavar="MB",
                   help="memory budget of the certified computation (default 2048)")
    p.add_argument("--output", type=int, default=0, metavar="k",
                   help="output component the rank is about, 0..K-1 (default 0; with K > 1 each component is "
                   "a separate function and every bound applies to each)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run_rank)

    t = sub.add_parser(
        "table",
        help="rank table across T and depth (resumable sweep)",
        description="The separation-rank table across sequence length and depth: certified lower bound, best "
        "upper bound and theory per point. Finished points are kept in the results file; rerunning the same "
        "command computes only the missing ones.",
    )
    t.add_argument("--depths", type=int_list, default=[1, 2, 3], metavar="L1,L2",
                   help="depths (default 1,2,3)")
    t.add_argument("--width", "-R", type=positive_int, default=2, help="hidden width R (default 2)")
    t.add_argument("--features", "-M", type=positive_int, default=2, help="input features M (default 2)")
    t.add_argument("--times", type=int_range, default=list(range(2, 11, 2)), metavar="START:STOP:STEP",
                   help="sequence lengths, e.g. 2:16:2 (stop inclusive) or 2,4,8 (default 2:10:2)")
    _add_rank_options(t, custom=False)
    t.add_argument("--json", action="store_true", help="print the table records as JSON")
    t.add_argument("--plot", default=None, metavar="FILE", help="also draw rank versus T per depth to FILE")
    add_sweep_args(t, default_results=DEFAULT_TABLE_RESULTS)
    t.set_defaults(func=run_table)


def _add_rank_options(p: argparse.ArgumentParser, *, custom: bool = True) -> None:
    choices = "start-end, odd-even" + (" or 1-based steps of side A such as 1,3,5" if custom else "")
    p.add_argument("--partition", default="start-end", help=f"{choices} (default start-end)")
    p.add_argument("--domain", choices=("onehot", "continuous"), default="onehot",
                   help="one-hot inputs over M symbols, or arbitrary feature vectors (default onehot)")
    p.add_argument("--seeds", type=positive_int, default=2, metavar="N", help="seeds per prime (default 2)")


def run_rank(args: argparse.Namespace) -> int:
    """``tnrnn rank``: print one :class:`~tnrnn.rank.RankReport` as a table or JSON."""
    from tnrnn.rank import separation_rank

    spec = spec_from_args(args)
    report = separation_rank(
        spec, args.time, args.partition, args.domain, seeds=args.seeds, primes=args.primes,
        budget_bytes=None if args.budget_mb is None else args.budget_mb * 2**20,
        progress=not args.no_progress, output=args.output,
    )
    if args.json:
        print_json(report.to_json())
    else:
        print(report)
    return 0


def run_table(args: argparse.Namespace) -> int:
    """``tnrnn table``: run (or resume) the rank-table sweep and print it; exit 1 when a point failed."""
    from tnrnn.rank import rank_table, table_points

    # Validate the whole grid (odd T for start-end, bad partition) before anything runs.
    table_points(args.depths, args.width, args.features, args.times, domain=args.domain,
                 partition=args.partition, seeds=args.seeds)
    if args.plot:
        from tnrnn.draw.style import check_output_path

        # A bad figure path must fail now, not after the whole sweep has run.
        check_output_path(args.plot)
    kwargs = sweep_kwargs(args)
    kwargs.setdefault("results", DEFAULT_TABLE_RESULTS)
    records = rank_table(args.depths, args.width, args.features, args.times, domain=args.domain,
                         partition=args.partition, seeds=args.seeds, **kwargs)
    ok = [r for r in records if r.get("lower") is not None]
    if args.plot:
        from tnrnn.draw.curves import plot_rank_curves

        plot_rank_curves(ok, args.plot)
    if args.json:
        print_json({"results": kwargs.get("results"), "plot": args.plot, "records": records})
    else:
        print(format_table(records, args))
        if kwargs.get("results"):
            print(f"results: {kwargs['results']}")
        if args.plot:
            print(f"figure written to {args.plot}")
    failed = [r for r in records if r.get("lower") is None]
    if failed:
        print(f"tnrnn: {len(failed)} of {len(records)} points failed (listed above)", file=sys.stderr)
        return 1
    return 0


def format_table(records: list[dict], args: argparse.Namespace) -> str:
    """Depth rows by T columns; a cell is ``=r`` when exact, ``lower..upper`` otherwise.

    >>> import argparse
    >>> recs = [{"depth": 2, "time": 4, "lower": 4, "upper": "4", "exact": True},
    ...         {"depth": 2, "time": 6, "lower": 7, "upper": "2^3 = 8", "exact": False}]
    >>> print(format_table(recs, argparse.Namespace(domain="onehot", partition="start-end", width=2, features=2)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Separation-rank table (onehot domain, start-end), R=2, M=2: '=r' exact, 'lower..upper' otherwise, '*' a theory value contradicted
    depth \\ T   4           6
            2  =4  7..2^3 = 8
    """
    depths = sorted({r["depth"] for r in records})
    times = sorted({r["time"] for r in records})
    cell = {}
    notes = []
    for r in records:
        key = (r["depth"], r["time"])
        if r.get("lower") is None:
            cell[key] = "error"
            notes.append(f"L={r['depth']} T={r['time']}: {r.get('error')}")
            continue
        cell[key] = f"={r['lower']}" if r["exact"] else f"{r['lower']}..{r['upper']}"
        bad = [f"{t['name']} ({t['relation']} {t['value']})" for t in r.get("theory", []) if t.get("contradicted")]
        if bad:
            cell[key] += "*"
            notes.append(f"L={r['depth']} T={r['time']}: contradicted: {', '.join(bad)}")
    head = ["depth \\ T"] + [str(t) for t in times]
    rows = [[str(d)] + [cell.get((d, t), "") for t in times] for d in depths]
    widths = [max(len(row[i]) for row in [head] + rows) for i in range(len(head))]
    lines = [
        f"Separation-rank table ({args.domain} domain, {args.partition}), R={args.width}, M={args.features}: "
        "'=r' exact, 'lower..upper' otherwise, '*' a theory value contradicted",
        "  ".join(h.rjust(w) for h, w in zip(head, widths)),
    ]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    lines += [f"  {n}" for n in notes]
    return "\n".join(lines)
