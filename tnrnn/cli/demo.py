"""``tnrnn demo``: the main job on built-in defaults.

Builds a depth-2 RAC as a tensor network, prints its statistics, computes its Start-End separation-rank
bounds (min-cut, algebraic, certified lower bound) and renders the network with its min-cut.
"""

from __future__ import annotations

import argparse

from tnrnn.cli.common import add_spec_args, print_json, spec_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="build a deep RAC network, bound its separation rank, render the figure (built-in defaults)",
        description=__doc__.splitlines()[0],
    )
    add_spec_args(p)
    p.set_defaults(depth=2, width=2, features=2, time=6)
    p.add_argument("--partition", default="start-end", help="start-end, odd-even or 1-based steps such as 1,3,5")
    p.add_argument("--out", default="tnrnn-demo.png", help="figure path, .png or .svg (default tnrnn-demo.png)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tnrnn.base.errors import format_count, human_bytes
    from tnrnn.cli.build import network_report
    from tnrnn.draw.network import render_network
    from tnrnn.draw.style import check_output_path
    from tnrnn.rank import separation_rank

    spec = spec_from_args(args)
    # A bad figure path must fail before the (longer) rank computation, not after it.
    out, _ = check_output_path(args.out)
    stats = network_report(spec, args.time, form="grid")
    cost = stats["contraction"]
    report = separation_rank(spec, args.time, partition=args.partition, domain="onehot")
    figure = render_network(spec, args.time, partition=args.partition, form="grid", out=out)
    if args.json:
        print_json({"network": stats, "contraction": cost, "rank": report.to_json(), "figure": figure})
        return 0
    print(f"RAC L={spec.L} R={spec.R} M={spec.M} K={spec.K}, T={args.time} (grid form)")
    print(
        f"  network: {stats['nodes']} nodes, {stats['edges']} edges, input copies per step "
        f"{stats['input_copies']} (total {stats['total_input_copies']})"
    )
    if cost["flops"] is None:
        print(f"  contraction: {cost['note']}")
    else:
        print(f"  contraction: {format_count(cost['flops'])} flops, peak {human_bytes(cost['peak_bytes'])} "
              f"({cost['path_optimizer']})")
    print()
    print(report)
    print()
    print(f"figure written to {out}")
    return 0
