"""``tnrnn rank`` (one separation rank: bounds, certified lower bound, theory) and ``tnrnn table`` (the rank
table across T and depth, a resumable sweep).

Examples::

    tnrnn rank --depth 2 --width 4 --features 4 --time 12
    tnrnn rank -L 3 -R 3 -M 3 -T 8 --domain continuous --json            # same answer on any machine
    tnrnn rank -L 4 -R 2 -M 2 -T 8 --domain continuous --certify-seconds 60   # a wall-clock box instead
    tnrnn rank -L 4 -R 2 -M 2 -T 1024 --domain continuous --certify-seconds 0   # upper bounds only
    tnrnn rank -L 2 -T 6 --partition 1,3,5 --seeds 0,1,2 --primes 1048573,1000003
    tnrnn table --depths 1,2,3 --width 2 --features 2 --times 2:12:2 --plot ranks.png --csv ranks.csv
"""

from __future__ import annotations

import argparse
import sys

from tnrnn.cli.common import (
    add_spec_args,
    int_list,
    int_range,
    positive_int,
    print_json,
    seed_list,
    show_progress,
    spec_from_args,
)
from tnrnn.cli.convac import RANK_RUNNERS, add_model_arg
from tnrnn.cli.sweep_args import add_sweep_args, sweep_kwargs
from tnrnn.rac.problem import DEFAULT_CERTIFY_WORK

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
    add_model_arg(p)
    p.add_argument("--primes", type=int_list, default=None, metavar="P1,P2",
                   help="primes for the certified runs (default 1048573 on the one-hot domain, the largest prime "
                   "below 2^62 on the continuous domain)")
    _add_budget(p)
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
    _add_budget(t)
    t.add_argument("--json", action="store_true", help="print the table records as JSON")
    t.add_argument("--plot", default=None, metavar="FILE", help="also draw rank versus T per depth to FILE")
    add_sweep_args(t, default_results=DEFAULT_TABLE_RESULTS)
    t.set_defaults(func=run_table)


def _add_budget(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget-mb", type=positive_int, default=None, metavar="MB",
                   help="memory budget of each certified computation in MiB (default $TNRNN_MAX_BYTES or 4096)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _add_rank_options(p: argparse.ArgumentParser, *, custom: bool = True) -> None:
    choices = "start-end, odd-even" + (" or 1-based steps of side A such as 1,3,5" if custom else "")
    p.add_argument("--partition", default="start-end", help=f"{choices} (default start-end)")
    p.add_argument("--domain", choices=("onehot", "continuous"), default="onehot",
                   help="one-hot inputs over M symbols, or arbitrary feature vectors (default onehot)")
    p.add_argument("--seeds", type=seed_list, default=[0, 1], metavar="S1,S2",
                   help="seeds of the random weights, each tried with every prime")
    p.add_argument("--certify-work", type=_seconds, default=None, metavar="W",
                   help="work budget of the certified lower bound, per point, in work units (seconds of a fixed cost "
                   "model: the same matrices, hence the same certified number, on any machine; default "
                   f"{DEFAULT_CERTIFY_WORK:g}, or none when --certify-seconds is given; 0 = upper bounds only)")
    p.add_argument("--certify-seconds", type=_seconds, default=None, metavar="S",
                   help="optional wall-clock box for the certified lower bound, per point (the answer then depends on "
                   "the machine's speed and load; 0 = upper bounds only)")


def work_arg(args: argparse.Namespace) -> float | None | str:
    """``--certify-work`` as given, or "auto" (the default work budget unless a time box was given)."""
    return "auto" if args.certify_work is None else args.certify_work


def run_rank(args: argparse.Namespace) -> int:
    """``tnrnn rank``: print one [`RankReport`][tnrnn.report.RankReport] as a table or JSON."""
    if args.model in RANK_RUNNERS:  # another model family than RACs (tnrnn.cli.convac)
        return RANK_RUNNERS[args.model](args)
    from tnrnn.rank import separation_rank

    spec = spec_from_args(args)
    report = separation_rank(
        spec, args.time, args.partition, args.domain, seeds=args.seeds, primes=args.primes, budget_mb=args.budget_mb,
        certify_seconds=args.certify_seconds, progress=show_progress(not args.no_progress), output=args.output,
        certify_work=work_arg(args),
    )
    if args.json:
        print_json(report.to_json())
    else:
        print(report)
    return 0


def run_table(args: argparse.Namespace) -> int:
    """``tnrnn table``: run (or resume) the rank-table sweep and print it; exit 1 when a point failed."""
    from tnrnn.base.io import _atomic_write_text
    from tnrnn.rank import rank_table, table_points
    from tnrnn.report import format_table, table_csv

    options = {"domain": args.domain, "partition": args.partition, "seeds": args.seeds,
               "certify_seconds": args.certify_seconds, "budget_mb": args.budget_mb, "certify_work": work_arg(args)}
    # Validate every point as a whole problem (sizes, partition, budget) before anything runs.
    table_points(args.depths, args.width, args.features, args.times, **options)
    if args.plot:
        from tnrnn.draw.style import check_output_path

        # A bad figure path must fail now, not after the whole sweep has run.
        check_output_path(args.plot)
    kwargs = sweep_kwargs(args)
    kwargs.setdefault("results", DEFAULT_TABLE_RESULTS)
    csv_path = kwargs.pop("csv", None)  # the table's own CSV (counts as exact text and log2), not the raw sweep's
    records = rank_table(args.depths, args.width, args.features, args.times, **options, **kwargs)
    if csv_path:
        _atomic_write_text(csv_path, table_csv(records))
    ok = [r.to_json() for r in records if r.error is None and r.lower is not None]
    if args.plot:
        from tnrnn.draw.curves import plot_rank_curves

        plot_rank_curves(ok, args.plot)
    if args.json:
        print_json({"results": kwargs.get("results"), "plot": args.plot, "csv": csv_path,
                    "records": [r.to_json() for r in records]})
    else:
        print(format_table(records, domain=args.domain, partition=args.partition, width=args.width,
                           features=args.features))
        for what, path in (("results", kwargs.get("results")), ("csv", csv_path), ("figure", args.plot)):
            if path:
                print(f"{what}: {path}")
    failed = [r for r in records if r.error is not None]
    if failed:
        print(f"tnrnn: {len(failed)} of {len(records)} points failed (listed above)", file=sys.stderr)
        return 1
    return 0
