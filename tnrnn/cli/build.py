"""``tnrnn build``: build a RAC tensor network and report its statistics and contraction cost."""

from __future__ import annotations

import argparse

from tnrnn.base.budget import default_budget_bytes, default_budget_flops
from tnrnn.cli.common import add_spec_args, positive_int, print_json, progress_lines, show_progress, spec_from_args


def register(subparsers) -> None:
    """Add the ``build`` subcommand."""
    p = subparsers.add_parser(
        "build",
        help="build a RAC tensor network: node/edge counts, input copies, contraction cost",
        description="Build the tensor network of a RAC and report node and edge counts, the input copies per step "
        "(n_j = C(T-j+L-1, L-1)) and the estimated cost of evaluating a batch through it.",
    )
    add_spec_args(p)
    p.add_argument("--form", choices=("continuous", "grid"), default="continuous",
                   help="one open leg per input copy (continuous, default) or per time step (grid)")
    p.add_argument("--batch", type=positive_int, default=1, help="batch size for the contraction estimate (default 1)")
    p.add_argument("--optimizers", default=None,
                   help="comma-separated path optimisers to try (default: greedy,random-greedy,cotengra,sequential,tree)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress lines on stderr (they are shown only on a terminal, for path searches of "
                        "large networks)")
    p.set_defaults(func=run)


def _optimizers(text: str | None):
    from tnrnn.network.finders import DEFAULT_OPTIMIZERS, check_optimizers

    if text is None:
        return DEFAULT_OPTIMIZERS
    return check_optimizers([s.strip() for s in text.split(",") if s.strip()], what="--optimizers")


def network_report(spec, T: int, *, form: str = "continuous", batch: int = 1, optimizers=None) -> dict:
    """Statistics of a RAC network and the estimated cost of contracting it (``tnrnn build``).

    A network too large to plan a contraction for still gets its statistics; ``contraction`` then holds
    ``flops: None`` and a ``note`` saying why.

    Parameters
    ----------
    spec : RACSpec
    T : int
    form : {"continuous", "grid"}
    batch : int
        Batch size of the contraction estimate.
    optimizers : sequence of str, optional
        Path optimisers to try.

    Returns
    -------
    dict
        [`RACNetwork.stats`][tnrnn.network.build.RACNetwork.stats] plus ``expected_input_copies`` and ``contraction``.

    Raises
    ------
    TnrnnError
        Bad sizes; ``ResourceError`` for a network too large to build.

    Examples
    --------
    >>> from tnrnn.rac.spec import RACSpec
    >>> report = network_report(RACSpec(2, 2, 2), 3, optimizers=("greedy",))
    >>> report["input_copies"], report["total_input_copies"], report["contraction"]["path_optimizer"].split("+")[0]
    ([3, 2, 1], 6, 'greedy')
    """
    from tnrnn.base.errors import ResourceError
    from tnrnn.network.build import build_network
    from tnrnn.network.finders import DEFAULT_OPTIMIZERS
    from tnrnn.network.report import estimate_cost

    report = build_network(spec, T, form=form).stats()
    report["expected_input_copies"] = spec.input_copies(T)
    try:
        cost = estimate_cost(spec, T, form=form, batch=batch, optimizers=optimizers or DEFAULT_OPTIMIZERS)
        cost["batch"] = batch
    except ResourceError as exc:
        # The network exists but is too large to plan a contraction for: report why instead of failing.
        cost = {"flops": None, "peak_bytes": None, "path_optimizer": None, "batch": batch, "note": str(exc)}
    report["contraction"] = cost
    return report


def build_report(args: argparse.Namespace) -> dict:
    """The data ``tnrnn build`` prints (also used by tests).

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> report = build_report(parser.parse_args(["build", "-L", "2", "-T", "3", "--optimizers", "greedy"]))
    >>> report["input_copies"], report["total_input_copies"], report["contraction"]["path_optimizer"].split("+")[0]
    ([3, 2, 1], 6, 'greedy')
    """
    return network_report(spec_from_args(args), args.time, form=args.form, batch=args.batch,
                          optimizers=_optimizers(args.optimizers))


#: Cost fields of ``build --json`` written as exact counts: they can exceed 2^53 (a 53-digit flop count of a
#: poor path candidate), where JSON readers that parse numbers as doubles (jq, JavaScript, pandas) round them.
_COUNT_FIELDS = ("flops", "peak_bytes", "largest_intermediate")


def json_counts(report: dict) -> dict:
    """``report`` with its contraction costs in the one count shape ``{"value": "<decimal>", "log2": float}``.

    Examples
    --------
    >>> out = json_counts({"contraction": {"flops": 2**60, "candidates": {"greedy": 8, "tree": None}}})
    >>> out["contraction"]["flops"]["value"], out["contraction"]["candidates"]
    ('1152921504606846976', {'greedy': {'value': '8', 'log2': 3.0}, 'tree': None})
    """
    from tnrnn.base.counts import ExactCount

    def count(x: int | None) -> dict | None:
        return None if x is None else ExactCount(int(x)).to_json()

    c = dict(report["contraction"])
    for k in _COUNT_FIELDS:
        if k in c:
            c[k] = count(c[k])
    if "candidates" in c:
        c["candidates"] = {k: count(v) for k, v in c["candidates"].items()}
    return {**report, "contraction": c}


def run(args: argparse.Namespace) -> int:
    """Print the network report as a table (or JSON)."""
    default_budget_bytes(), default_budget_flops()  # a mistyped TNRNN_MAX_* is named before any work
    with progress_lines(show_progress(not args.no_progress)):
        report = build_report(args)
    if args.json:
        print_json(json_counts(report))
        return 0
    from tnrnn.base.errors import format_count, human_bytes

    c = report["contraction"]
    copies = report["input_copies"]
    shown = ", ".join(map(str, copies)) if len(copies) <= 16 else ", ".join(map(str, copies[:8])) + ", ..., " + ", ".join(map(str, copies[-4:]))
    rows = [
        ("RAC", f"L={report['depth']}  R={report['width']}  M={report['features']}  K={report['outputs']}  T={report['time']}"),
        ("form", report["form"]),
        ("nodes", f"{report['nodes']:,}  ({', '.join(f'{k} {v:,}' for k, v in report['roles'].items())})"),
        ("edges", f"{report['edges']:,}  ({report['bonds']:,} bonds, {report['open_legs']:,} open legs)"),
        ("input copies", f"[{shown}]  (n_j = C(T-j+L-1, L-1))"),
        ("total input copies", f"{report['total_input_copies']:,}  (= C(T+L-1, L))"),
    ]
    if c.get("flops") is None:
        rows.append(("contraction", c.get("note", "not estimated")))
    else:
        rows += [
            (f"contraction (batch {c['batch']})", f"{format_count(c['flops'])} flops, peak {human_bytes(c['peak_bytes'])}"),
            ("path optimizer", f"{c['path_optimizer']}  (flops of each when planned: "
             + ", ".join(f"{k} {'abandoned' if v is None else format_count(v)}" for k, v in c["candidates"].items())
             + "".join(f"; {k} skipped: {why}" for k, why in c.get("skipped", {}).items()) + ")"),
        ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0
