"""``tnrnn demo``: what depth buys, in one command.

Certifies the Start-End separation rank of shallow and deep RACs side by side on one-hot inputs (by default
L = 1, 2, 3 at R = M = 3, T = 8: 3, 45 and 81), then builds the deepest network once, computes its exact
min-cut once and draws the network with that cut.
"""

from __future__ import annotations

import argparse

from tnrnn.base.budget import default_budget_bytes, default_budget_flops
from tnrnn.cli.common import int_list, positive_int, print_json

DEFAULT_DEPTHS = (1, 2, 3)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    p = sub.add_parser(
        "demo",
        help="what depth buys: shallow vs deep separation ranks side by side, and the deep network with its cut",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("--depths", type=int_list, default=",".join(map(str, DEFAULT_DEPTHS)), metavar="L1,L2,...",
                   help="depths compared; the deepest is drawn")
    p.add_argument("--width", "-R", type=positive_int, default=3, help="hidden width R")
    p.add_argument("--features", "-M", type=positive_int, default=3, help="input symbols M (one-hot)")
    p.add_argument("--time", "-T", type=positive_int, default=8, help="sequence length T (even: Start-End cut)")
    p.add_argument("--out", "-o", default="tnrnn-demo.png", metavar="FILE", help="figure of the deepest network, "
                   ".png or .svg")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.set_defaults(func=run)


def compare_depths(depths, width: int, features: int, T: int, *, deep_cut=None) -> list:
    """Start-End separation-rank reports of generic RACs of each depth on the one-hot domain.

    ``deep_cut``, the grid-form min-cut of the deepest network when the caller already computed it (to draw
    it), is used for that report instead of computing the min-cut a second time.

    Examples
    --------
    >>> [r.lower for r in compare_depths([1, 2], 2, 2, 4)]
    [2, 4]
    """
    from tnrnn import RACSpec, separation_rank

    deepest = max(depths)
    return [separation_rank(RACSpec(L, width, features), T, "start-end", "onehot",
                            mincut=deep_cut if L == deepest else None) for L in depths]


def _rank_text(report) -> str:
    return f"={report.lower}" if report.exact else f"{report.lower}..{report.upper}"


def _print_text(reports, net, cut, figure) -> None:
    spec = reports[-1].spec
    T = reports[-1].T
    print(f"What depth buys: Start-End separation rank of generic RACs, R = {spec.R}, M = {spec.M}, T = {T}, "
          "one-hot inputs ('=r' exact, 'lower..upper' otherwise)")
    print(f"  {'depth L':>7}  {'rank':>10}  {'certified lower':>15}  best upper bound")
    for r in reports:
        sources = ", ".join(r.upper_sources)
        print(f"  {r.spec.L:>7}  {_rank_text(r):>10}  {r.lower:>15}  {r.upper} ({sources})")
    lows = [r.lower for r in reports]
    print(f"  rank against depth: {' -> '.join(map(str, lows))}; a shallow RAC never exceeds R = {spec.R}, "
          f"no function of these inputs exceeds M^(T/2) = {spec.M ** (T // 2)}")
    st = net.stats()
    print(f"deep network (L = {spec.L}, grid form): {st['nodes']:,} nodes, {st['edges']:,} edges, input copies per "
          f"step {st['input_copies']}")
    print(f"  exact min-cut {cut.value}: {len(cut.edges)} edges cut ({cut.method}), drawn "
          f"{'node by node' if figure['view'] == 'full' else 'per link of the (time, layer) grid'}")
    print(f"figure written to {figure['path']}")


def run(args: argparse.Namespace) -> int:
    """Certify the ranks, build the deep network once, compute its min-cut once, draw it."""
    default_budget_bytes(), default_budget_flops()  # a mistyped TNRNN_MAX_* is named before any work
    import tnrnn
    from tnrnn.base.errors import TnrnnError
    from tnrnn.draw.compact import check_compact_size
    from tnrnn.draw.network import render_network
    from tnrnn.draw.style import check_output_path
    from tnrnn.rac.partition import make_partition

    out, _ = check_output_path(args.out)  # a bad figure path fails before any work
    depths = sorted(set(args.depths))
    if not depths or min(depths) < 1:
        raise TnrnnError(f"--depths must be positive integers, got {args.depths}")
    deep = tnrnn.RACSpec(depths[-1], args.width, args.features)
    check_compact_size(deep.L, args.time)  # the figure's limits, before anything proportional to T is built
    part = make_partition(args.time, "start-end")
    net = tnrnn.build_network(deep, args.time, form="grid")
    cut = tnrnn.network_mincut(net, part)
    # the deepest report takes the drawn cut: the deep network's min-cut is computed once
    reports = compare_depths(depths, args.width, args.features, args.time, deep_cut=cut)
    figure = render_network(net, cut, out, partition=part,
                            title=f"Deep RAC  L = {deep.L}, R = {deep.R}, M = {deep.M}, T = {args.time}, grid form "
                            "(one-hot inputs)")
    if args.json:
        print_json({"ranks": [r.to_json() for r in reports], "network": net.stats(),
                    "mincut": cut.to_json(), "figure": figure})
        return 0
    _print_text(reports, net, cut, figure)
    return 0
