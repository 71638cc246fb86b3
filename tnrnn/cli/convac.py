"""``tnrnn rank --model convac`` and ``tnrnn render --model convac``: the RAC options read for a ConvAC.

``--depth 1`` is the shallow (CP) ConvAC and ``--depth 2`` the deep one (hierarchical Tucker, pooling windows of
size 2, so log2(N) levels: its depth follows from N; other depths are refused); ``--time`` is the number of inputs N (a power of 2 when deep), ``--features`` the
representation channels M and ``--width`` the hidden width r of every level. ``--partition start-end`` is the
left-right partition (contiguous halves), ``odd-even`` the interleaved one, or 1-based positions of side A.
``--certify-seconds`` and ``--certify-work`` cap the certificate's matrix as for RACs, ``--budget-mb`` its memory.

Examples::

    tnrnn rank --model convac -L 2 -T 8 -M 3 -R 2 --partition odd-even
    tnrnn render --model convac -L 2 -T 8 -M 3 -R 2 --partition odd-even --out convac.png
"""

from __future__ import annotations

import argparse

MODELS = ("rac", "convac")


def add_model_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--model {rac,convac}``."""
    parser.add_argument("--model", choices=MODELS, default="rac",
                        help="rac, or a convolutional arithmetic circuit (-L 1 shallow, 2+ deep; -T inputs N, "
                        "-M channels, -R width; start-end = left-right halves) (default rac)")


def _network(args: argparse.Namespace):
    from tnrnn.base.errors import TnrnnError
    from tnrnn.models.convac import build_convac

    if args.depth not in (1, 2):
        # the deep ConvAC's depth is log2(N) pooling levels, fixed by -T; a different -L would be silently ignored
        raise TnrnnError(f"-L {args.depth} has no meaning for a ConvAC: use -L 1 (shallow, CP) or -L 2 (deep: "
                         f"log2(N) pooling levels of size 2, so its depth follows from -T)")
    kind = "shallow" if args.depth == 1 else "deep"
    return build_convac(kind, args.time, args.features, args.width)


def run_rank(args: argparse.Namespace) -> int:
    """Print the bounds and certified rank of a ConvAC (table or JSON)."""
    from tnrnn.cli.common import print_json
    from tnrnn.cli.rank import work_arg
    from tnrnn.models.convac import convac_bounds
    from tnrnn.rac.params import DEFAULT_PRIME

    report = convac_bounds(_network(args), args.partition, seeds=args.seeds, primes=args.primes or [DEFAULT_PRIME],
                           budget_mb=args.budget_mb, certify_seconds=args.certify_seconds,
                           certify_work=work_arg(args))
    if args.json:
        print_json({"label": report.label, **report.to_json()})
    else:
        print(report)
    return 0


def run_render(args: argparse.Namespace) -> int:
    """Draw a ConvAC with its partition and exact min-cut, and say what was drawn."""
    from tnrnn.bounds.cut_explicit import explicit_mincut
    from tnrnn.cli.common import print_json
    from tnrnn.draw.generic import draw
    from tnrnn.draw.style import check_output_path, save_figure
    from tnrnn.models.convac import convac_partition

    check_output_path(args.out)  # a bad path fails before any work
    net = _network(args)
    left = cut = None
    if args.partition.strip().lower() != "none":
        side_a = set(convac_partition(net.N, args.partition))
        left = [e for i, e in enumerate(net.input_edges, start=1) if f"x{i}" in side_a]
        cut = explicit_mincut(net, sorted(side_a))
    title = args.title or f"{net.kind} ConvAC, N = {net.N}, M = {net.M}, r = {args.width}"
    path = save_figure(draw(net, left=left, cut=cut, title=title), args.out)
    info = {"path": str(path), "nodes": len(net.nodes), "mincut": None if cut is None else str(cut.value),
            "cut_edges": None if cut is None else len(cut.edges)}
    if args.json:
        print_json(info)
        return 0
    print(f"drew a {net.kind} ConvAC (N={net.N}, M={net.M}, r={args.width}, {len(net.nodes)} tensors)")
    if cut is not None:
        print(f"  min-cut: {cut.value}")
    print(f"figure written to {path}")
    return 0


#: Handlers of the model families other than RACs, by ``--model`` name, one signature: ``(args) -> exit code``.
RANK_RUNNERS = {"convac": run_rank}
RENDER_RUNNERS = {"convac": run_render}
