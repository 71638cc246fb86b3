"""``tnrnn train`` and ``tnrnn memory-sweep``: empirical long-term memory of recurrent cells.

Examples::

    tnrnn train --cell gru --depth 2 --width 64 --task ses --time 40 --steps 1000 --out gru.json
    tnrnn memory-sweep --cells rac,gru,lstm --depths 1,2,3 --budget 20000 --task ses --times 20:100:20 \\
        --out diagrams/memory_sweep_ses
    tnrnn memory-sweep --quick
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tnrnn.cli.common import cell_list, finite_float, int_list, int_range, positive_float, positive_int, print_json
from tnrnn.cli.sweep_args import add_sweep_args, sweep_kwargs


def _add_task_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("task")
    g.add_argument("--task", choices=("ses", "copy"), default="ses",
                   help="ses: Start-End Similarity; copy: Copying Memory (default ses)")
    g.add_argument("--alphabet", type=positive_int, default=None,
                   help="alphabet size n (default 4 for ses, 32 for copy)")
    g.add_argument("--compare", type=positive_int, default=None,
                   help="ses: compared positions m (default T/2, the whole halves)")
    g.add_argument("--symbols", type=positive_int, default=None, help="copy: symbols to recall m (default 30)")


def _add_training_args(p: argparse.ArgumentParser, *, defaults: bool) -> None:
    # defaults=False leaves them None so a preset can fill them in.
    d = (lambda v: v) if defaults else (lambda v: None)
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=positive_int, default=d(1000), help="optimiser steps")
    g.add_argument("--batch-size", type=positive_int, default=d(64), help="training batch size")
    g.add_argument("--lr", type=positive_float, default=d(3e-3), help="peak learning rate")
    g.add_argument("--optimizer", choices=("adam", "rmsprop"), default="adam")
    g.add_argument("--schedule", choices=("constant", "cosine", "warmup_cosine", "exponential"), default="cosine")
    g.add_argument("--clip", type=positive_float, default=1.0, help="gradient clipping global norm (default 1)")
    g.add_argument("--eval-every", type=positive_int, default=d(100), help="steps per jitted chunk / evaluation")
    g.add_argument("--eval-batch-size", type=positive_int, default=d(1024), help="held-out sequences")
    g.add_argument("--nonlinearity", choices=("tanh", "relu"), default="tanh")
    g.add_argument("--forget-bias", type=finite_float, default=1.0, help="constant added to keep gates (default 1)")
    g.add_argument("--seed", type=int, default=0)


def register(subparsers) -> None:
    """Add the ``train`` and ``memory-sweep`` subcommands."""
    from tnrnn.memory.cells import CELLS

    p = subparsers.add_parser("train", help="train one recurrent network on a long-term memory task",
                              description="Train a stack of recurrent cells on a memory task; JSON metrics.")
    p.add_argument("--cell", required=True, choices=CELLS + ("+rnn",), help="recurrent cell")
    p.add_argument("--depth", "-L", type=positive_int, default=1, help="layers (default 1)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--width", "-R", type=positive_int, default=None, help="hidden width (default 64)")
    size.add_argument("--budget", type=positive_int, default=None,
                      help="parameter budget: use the largest width that fits")
    p.add_argument("--time", "-T", type=positive_int, required=True,
                   help="sequence length T (copy: T = 2*symbols + delay)")
    _add_task_args(p)
    _add_training_args(p, defaults=True)
    p.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="checkpoint file (.npz): resumed if it exists, rewritten after every chunk")
    p.add_argument("--out", default=None, metavar="PATH", help="write the metrics (history included) as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run_train)

    s = subparsers.add_parser(
        "memory-sweep", help="accuracy against T for several cells and depths at equal parameter budget",
        description="Train every (cell, depth, T) at the width that fits the budget; write JSON and a figure.")
    s.add_argument("--cells", type=cell_list, default=None, help="comma-separated cells (default rac,gru,lstm)")
    s.add_argument("--depths", type=int_list, default=None, help="comma-separated depths (default 1,2,3)")
    s.add_argument("--times", type=int_range, default=None, help="sequence lengths, START:STOP:STEP or a list "
                   "(default 20:100:20)")
    s.add_argument("--budget", type=positive_int, default=None, help="parameter budget (default 20000)")
    preset = s.add_mutually_exclusive_group()
    preset.add_argument("--quick", dest="preset", action="store_const", const="quick",
                        help="smoke preset: 150 steps per point; default grid rac,gru x 1,2 x T=10,20,30 at "
                             "5000 parameters (about a minute)")
    preset.add_argument("--full", dest="preset", action="store_const", const="full",
                        help="full preset (default): 1500 steps of batch 64 per point; the default 45-point grid "
                             "took 38 minutes on a shared 2-core CPU")
    s.set_defaults(preset="full")
    _add_task_args(s)
    _add_training_args(s, defaults=False)
    s.add_argument("--out", default=None, metavar="PREFIX",
                   help="writes PREFIX.json (summary), PREFIX.png (figure) and, unless --results is given, "
                        "PREFIX.jsonl (resumable sweep records); default memory_sweep_<task>")
    add_sweep_args(s)
    s.set_defaults(func=run_sweep_cmd)


def _config_from_args(args):
    from tnrnn.memory.train import TrainConfig

    return TrainConfig(optimizer=args.optimizer, learning_rate=args.lr, clip_norm=args.clip, schedule=args.schedule,
                       steps=args.steps, batch_size=args.batch_size, eval_every=args.eval_every,
                       eval_batch_size=args.eval_batch_size, seed=args.seed)


def run_train(args: argparse.Namespace) -> int:
    from tnrnn.base.io import write_json
    from tnrnn.draw.style import check_writable_file
    from tnrnn.memory.cells import check_cell, width_for_budget
    from tnrnn.memory.tasks import make_task
    from tnrnn.memory.train import train_task

    # Output files are checked before training, which can take hours.
    for path in (args.out, args.checkpoint):
        if path is not None:
            check_writable_file(path)
    cell = check_cell(args.cell)
    task = make_task(args.task, time=args.time, alphabet=args.alphabet, compare=args.compare, symbols=args.symbols)
    config = _config_from_args(args)
    if args.budget is not None:
        width = width_for_budget(cell, task.n_in, args.depth, task.n_out, args.budget)
    else:
        width = args.width or 64
    result = train_task(task, cell, args.depth, width, config, nonlinearity=args.nonlinearity,
                        forget_bias=args.forget_bias, checkpoint=args.checkpoint, progress=not args.no_progress)
    metrics = result.to_json()
    if args.out:
        write_json(args.out, metrics)
    summary = {k: v for k, v in metrics.items() if k != "history"}
    summary.pop("config", None)
    if args.out:
        summary["metrics_file"] = str(args.out)
    print_json(summary)
    return 0


def run_sweep_cmd(args: argparse.Namespace) -> int:
    from tnrnn.base.io import write_json
    from tnrnn.draw.style import check_writable_file
    from tnrnn.memory.studies import DEFAULT_GRID, memory_sweep, memory_sweep_points, plot_memory_sweep, summarize

    grid = DEFAULT_GRID[args.preset]
    overrides = {
        "steps": args.steps, "batch_size": args.batch_size, "learning_rate": args.lr,
        "eval_every": args.eval_every, "eval_batch_size": args.eval_batch_size, "alphabet": args.alphabet,
        "compare": args.compare, "symbols": args.symbols, "seed": args.seed or None,
        "optimizer": args.optimizer, "schedule": args.schedule, "clip_norm": args.clip,
        "nonlinearity": args.nonlinearity, "forget_bias": args.forget_bias,
    }
    points = memory_sweep_points(args.cells or grid["cells"], args.depths or grid["depths"],
                                 args.times or grid["times"], budget=args.budget or grid["budget"], task=args.task,
                                 preset=args.preset, **overrides)
    prefix = Path(args.out or f"memory_sweep_{args.task}")
    kwargs = sweep_kwargs(args)
    if kwargs["results"] is None:
        kwargs["results"] = str(f"{prefix}.jsonl")
    for path in (f"{prefix}.json", f"{prefix}.png", kwargs["results"]):  # before the sweep, which can take hours
        check_writable_file(path)
    records = memory_sweep(points, **kwargs)
    summary = summarize(records)
    summary["preset"] = args.preset
    write_json(f"{prefix}.json", summary)
    figure = plot_memory_sweep(summary, f"{prefix}.png") if summary["points"] else None
    table = [{k: p[k] for k in ("cell", "depth", "time", "width", "num_params", "accuracy")} for p in summary["points"]]
    print_json({"points": table, "errors": summary["errors"], "json": str(f"{prefix}.json"),
                "figure": str(figure) if figure else None, "results": kwargs["results"]})
    if summary["errors"]:
        print(f"tnrnn: {len(summary['errors'])} point(s) failed; see {prefix}.json", file=sys.stderr)
        return 1
    return 0
