"""``tnrnn train`` and ``tnrnn memory-sweep``: empirical long-term memory of recurrent cells.

Examples::

    tnrnn train --task ses --symbols 32 --span 30 --time 80 --cell gru --depth 2 --steps 50 --json
    tnrnn train --task copying --symbols 32 --span 30 --time 80 --cell scornn --protocol authors
    tnrnn memory-sweep --cells gru,scornn,rac --depths 1,2,3 --budget 2000 --times 20,40,60,80 --seeds 0,1,2 \\
        --symbols 8 --span 10 --results diagrams/memory_ses.jsonl --out diagrams/memory_ses
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tnrnn.cli.common import (
    cell_list,
    finite_float,
    int_list,
    int_range,
    positive_float,
    positive_int,
    print_json,
    show_progress,
)
from tnrnn.cli.sweep_args import add_sweep_args, sweep_kwargs
from tnrnn.memory.protocol import PROTOCOLS

#: What ``tnrnn memory-sweep`` runs when an option is not given: the values of
#: ``tnrnn.memory.studies.DEFAULT_GRID``, repeated here so that ``--help`` shows them without importing jax
#: (tests/cli/test_help_defaults.py checks the two agree).
SWEEP_DEFAULTS: dict[str, Any] = {"cells": ["gru", "scornn", "rac"], "depths": [1, 2, 3], "times": [20, 40, 60, 80],
                                   "budget": 2000, "seeds": [0, 1, 2], "symbols": 8, "span": 10}

#: The task's own defaults, which ``tnrnn train`` uses (``tnrnn.memory.tasks``).
TRAIN_TASK_DEFAULTS = {"symbols": 32, "span": 30}


def _add_task_args(p: argparse.ArgumentParser, defaults: dict) -> None:
    from tnrnn.memory.catalog import TASK_ALIASES, TASK_NAMES

    g = p.add_argument_group("task")
    g.add_argument("--task", choices=(*TASK_NAMES, *TASK_ALIASES), default="ses",
                   help="ses: Start-End Similarity as the authors define it (default); copying: Copying Memory; "
                        "ses-halves: the older whole-halves variant")
    g.add_argument("--symbols", type=positive_int, default=None,
                   help=f"alphabet size n (default {defaults['symbols']})")
    g.add_argument("--span", type=positive_int, default=None,
                   help=f"m: compared span (ses) or recalled symbols (copying); at most T/2 for ses "
                        f"(default {defaults['span']})")


def _listed(values: list) -> str:
    return ",".join(map(str, values))


def _add_training_args(p: argparse.ArgumentParser) -> None:
    # Every default is None: the protocol preset fills in what is not given.
    g = p.add_argument_group("training (defaults: the --protocol preset)")
    g.add_argument("--protocol", choices=tuple(PROTOCOLS), default="scaled",
                   help="training preset: 'authors' (RMSProp 1e-3, batch 128, up to 50k steps, plateau decay, "
                        "early stop at the 2nd plateau, validation 5000, test 10000) or 'scaled' (default: the "
                        "same with 3000 steps, checks every 100, patience 4, validation 1000, test 2000)")
    g.add_argument("--steps", type=positive_int, default=None, help="maximum optimiser steps")
    g.add_argument("--batch-size", type=positive_int, default=None, help="training batch size")
    g.add_argument("--lr", type=positive_float, default=None, help="learning rate")
    g.add_argument("--optimizer", choices=("adam", "rmsprop"), default=None)
    g.add_argument("--schedule", choices=("constant", "cosine", "warmup_cosine", "exponential"), default=None)
    g.add_argument("--clip", type=positive_float, default=None, help="gradient clipping global norm (default none)")
    g.add_argument("--eval-every", type=positive_int, default=None, help="steps between validation checks")
    g.add_argument("--patience", type=positive_int, default=None, help="checks without improvement = plateau")
    g.add_argument("--eval-batch-size", type=positive_int, default=None, help="fixed validation set size")
    g.add_argument("--test-batch-size", type=positive_int, default=None, help="fixed test set size")
    g.add_argument("--nonlinearity", choices=("tanh", "relu"), default="tanh")
    g.add_argument("--forget-bias", type=finite_float, default=1.0, help="constant added to keep gates (default 1)")


def _training_overrides(args: argparse.Namespace) -> dict:
    return {"steps": args.steps, "batch_size": args.batch_size, "learning_rate": args.lr,
            "optimizer": args.optimizer, "schedule": args.schedule, "clip_norm": args.clip,
            "eval_every": args.eval_every, "plateau_patience": args.patience,
            "eval_batch_size": args.eval_batch_size, "test_batch_size": args.test_batch_size}


def register(subparsers) -> None:
    """Add the ``train`` and ``memory-sweep`` subcommands."""
    from tnrnn.memory.catalog import CELLS

    p = subparsers.add_parser("train", help="train one recurrent network on a long-term memory task",
                              description="Train a stack of recurrent cells on a memory task; JSON metrics with "
                                          "the test set's per-class accuracy.")
    p.add_argument("--cell", required=True, choices=CELLS + ("+rnn",), help="recurrent cell")
    p.add_argument("--depth", "-L", type=positive_int, default=1, help="layers (default 1)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--width", "-R", type=positive_int, default=None, help="hidden width (default 64)")
    size.add_argument("--budget", type=positive_int, default=None,
                      help="parameter budget: use the largest width that fits")
    p.add_argument("--time", "-T", type=positive_int, required=True,
                   help="sequence length T (copying: T = 2*span + delay)")
    p.add_argument("--seed", type=int, default=0)
    _add_task_args(p, TRAIN_TASK_DEFAULTS)
    _add_training_args(p)
    p.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="checkpoint file (.npz): resumed if it exists, rewritten after every chunk")
    p.add_argument("-o", "--out", default=None, metavar="FILE.json",
                   help="write the metrics (history included) as JSON")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (the default output)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run_train)

    s = subparsers.add_parser(
        "memory-sweep", help="test accuracy against T for several cells and depths, over seeds",
        description="Train every (cell, depth, T, seed) at equal parameters (--budget) or equal width (--width); "
                    "write the sweep records, a summary with confidence intervals and figures.")
    d = SWEEP_DEFAULTS
    s.add_argument("--cells", type=cell_list, default=None,
                   help=f"comma-separated cells (default {_listed(d['cells'])})")
    s.add_argument("--depths", type=int_list, default=None,
                   help=f"comma-separated depths (default {_listed(d['depths'])})")
    s.add_argument("--times", type=int_range, default=None,
                   help=f"sequence lengths, START:STOP:STEP or a list (default {_listed(d['times'])})")
    s.add_argument("--seeds", type=int_list, default=None,
                   help=f"comma-separated seeds (default {_listed(d['seeds'])})")
    size = s.add_mutually_exclusive_group()
    size.add_argument("--budget", type=positive_int, default=None, help=f"parameter budget (default {d['budget']})")
    size.add_argument("--width", type=positive_int, default=None, help="equal width instead of equal budget")
    _add_task_args(s, SWEEP_DEFAULTS)
    _add_training_args(s)
    s.add_argument("-o", "--out", default=None, metavar="FILE.json",
                   help="the summary JSON (default memory_<task>.json); the figures (.png, _classes.png) and, "
                        "unless --results is given, the resumable records (.jsonl) go beside it with the same "
                        "stem (a path without .json is taken as that stem)")
    add_sweep_args(s)
    s.set_defaults(func=run_sweep_cmd)


def run_train(args: argparse.Namespace) -> int:
    """Run ``tnrnn train``."""
    import os

    from tnrnn.base.checkpoint import inspect_checkpoint
    from tnrnn.base.io import output_file, write_json

    # Output files, and a checkpoint to resume, are checked before jax starts and training, which can take hours.
    for path in (args.out, args.checkpoint):
        if path is not None:
            output_file(path)
    if args.checkpoint is not None and os.path.lexists(args.checkpoint):
        inspect_checkpoint(args.checkpoint)
    from tnrnn.memory.fit import train_task
    from tnrnn.memory.studies import point_setup

    size = {"budget": args.budget} if args.budget is not None else {"width": args.width or 64}
    point = {"cell": args.cell, "depth": args.depth, "time": args.time, "task": args.task, "symbols": args.symbols,
             "span": args.span, "protocol": args.protocol, "seed": args.seed, **size,
             **{k: v for k, v in _training_overrides(args).items() if v is not None}}
    task, width, config = point_setup(point)
    result = train_task(task, args.cell, args.depth, width, config, nonlinearity=args.nonlinearity,
                        forget_bias=args.forget_bias, checkpoint=args.checkpoint,
                        progress=show_progress(not args.no_progress))
    metrics = result.to_json()
    if args.out:
        write_json(args.out, metrics)
    summary = {k: v for k, v in metrics.items() if k not in ("history", "config")}
    summary["training"] = config.to_json()
    if args.out:
        summary["metrics_file"] = str(args.out)
    print_json(summary)
    return 0


def run_sweep_cmd(args: argparse.Namespace) -> int:
    """Run ``tnrnn memory-sweep``."""
    from tnrnn.base.errors import TnrnnError
    from tnrnn.base.io import output_file
    from tnrnn.memory.studies import DEFAULT_GRID, memory_sweep, memory_sweep_points

    if args.out is not None and not args.out.strip():
        raise TnrnnError("the --out path is empty; give a file such as diagrams/memory_ses.json")
    g = DEFAULT_GRID
    size = ({"width": args.width} if args.width is not None
            else {"budget": args.budget or g["budget"]})
    points = memory_sweep_points(
        args.cells or g["cells"], args.depths or g["depths"], args.times or g["times"],
        seeds=args.seeds if args.seeds is not None else g["seeds"], **size, task=args.task,
        symbols=args.symbols or g["symbols"], span=args.span or g["span"], protocol=args.protocol,
        nonlinearity=None if args.nonlinearity == "tanh" else args.nonlinearity,
        forget_bias=None if args.forget_bias == 1.0 else args.forget_bias, **_training_overrides(args))
    out = args.out or f"memory_{args.task}"
    prefix = Path(out[: -len(".json")] if out.endswith(".json") else out)
    kwargs = sweep_kwargs(args)
    if kwargs["results"] is None:
        kwargs["results"] = str(f"{prefix}.jsonl")
    for path in (f"{prefix}.json", f"{prefix}.png", kwargs["results"]):  # before the sweep, which can take hours
        output_file(path)
    records = memory_sweep(points, **kwargs)
    # Imported after the sweep: a long sweep picks up the current report code.
    from tnrnn.memory.study_report import write_study

    summary = write_study(records, prefix, command=" ".join(["tnrnn", *sys.argv[1:]]) if sys.argv else None)
    print_json({"table": summary["table"], "errors": summary["errors"], "json": f"{prefix}.json",
                "figures": summary["figures"], "results": kwargs["results"]})
    if summary["errors"]:
        print(f"tnrnn: {len(summary['errors'])} point(s) failed; see {prefix}.json", file=sys.stderr)
        return 1
    return 0
