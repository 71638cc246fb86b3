"""``tnrnn probe``: the Start-End rank a trained network uses on the one-hot domain (floating-point
estimates at a stated tolerance on equilibrated tables, float64 for a RAC; a RAC also gets its certified
generic rank). The network's test accuracy is printed beside the rank, with ``learned`` (accuracy at least
``--min-accuracy``): the rank of a network that did not learn the task says nothing about its memory.

Examples::

    tnrnn probe --cell gru --depth 2 --width 16 --symbols 4 --time 8 --json
    tnrnn probe --cell rac --depth 2 --width 4 --symbols 3 --time 6 --steps 0      # untrained weights
    tnrnn train --cell gru --depth 2 --width 16 --task ses --symbols 4 --span 4 --time 8 --checkpoint ck.npz
    tnrnn probe --cell gru --depth 2 --width 16 --symbols 4 --time 8 --checkpoint ck.npz
"""

from __future__ import annotations

import argparse

from tnrnn.cli.common import positive_int, print_json, show_progress


def register(subparsers) -> None:
    """Add the ``probe`` subcommand."""
    from tnrnn.memory.catalog import CELLS

    p = subparsers.add_parser(
        "probe", help="Start-End singular values and effective rank of a trained network (float estimates)",
        description="Train a network briefly on Start-End Similarity over the whole halves (or load a `tnrnn "
                    "train` checkpoint of the same shape), evaluate it on all M^T sequences, matricize each "
                    "last-step logit by Start | End and report its spectrum, numerical ranks and entropy "
                    "effective rank; for a RAC also the certified generic rank.")
    p.add_argument("--cell", required=True, choices=CELLS, help="recurrent cell")
    p.add_argument("--depth", "-L", type=positive_int, default=1, help="layers (default 1)")
    p.add_argument("--width", "-R", type=positive_int, default=8, help="hidden width (default 8)")
    p.add_argument("--symbols", "-M", type=positive_int, required=True, help="alphabet size M")
    p.add_argument("--time", "-T", type=positive_int, required=True, help="sequence length T (M^(T/2) <= 4096)")
    p.add_argument("--steps", type=int, default=200,
                   help="training steps on ses (span T/2, scaled protocol) before probing; 0 probes the initial "
                        "weights (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="probe the parameters of this `tnrnn train --checkpoint` file instead of training "
                        "(same cell, depth, width, --task ses --symbols M --span T/2 --time T, default protocol)")
    p.add_argument("--min-accuracy", type=float, default=0.9,
                   help="test accuracy at which the trained network counts as having learned the task; below "
                        "it the output says learned: false (default 0.9)")
    p.add_argument("--no-certify", action="store_true", help="RAC: skip the certified generic rank")
    p.add_argument("--spectrum", action="store_true", help="print every singular value (default: the first 20)")
    p.add_argument("--json", action="store_true", help="print JSON (the default output)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run_probe)


def _params(args: argparse.Namespace, task):
    from tnrnn.memory.cells import init_stack
    from tnrnn.memory.fit import train_task
    from tnrnn.memory.studies import point_setup
    from tnrnn.memory.train import load_checkpoint, make_optimizer

    point = {"cell": args.cell, "depth": args.depth, "width": args.width, "time": args.time, "task": "ses",
             "symbols": args.symbols, "span": args.time // 2, "seed": args.seed, "steps": max(args.steps, 1)}
    _, width, config = point_setup(point)
    if args.checkpoint is not None:
        like = init_stack(args.seed, args.cell, task.n_in, width, args.depth, task.n_out)
        (params, best), _, meta = load_checkpoint(args.checkpoint, (like, like), make_optimizer(config).init(like))
        return best if meta.get("config", {}).get("restore_best") else params, {"checkpoint": args.checkpoint}
    if args.steps <= 0:
        return init_stack(args.seed, args.cell, task.n_in, width, args.depth, task.n_out), {"steps": 0}
    res = train_task(task, args.cell, args.depth, width, config, init_seed=args.seed,
                     progress=show_progress(not args.no_progress))
    test = res.extra.get("test", {})
    return res.params, {"steps": res.steps_done, "test_accuracy": test.get("accuracy"),
                        "per_class": test.get("per_class")}


def _check_configuration(args: argparse.Namespace, meta: dict) -> None:
    """Refuse a checkpoint trained for another cell, nonlinearity or task than this probe evaluates.

    Parameter shapes do not tell these apart (a GRU trained at T = 8 has the shapes of one probed at T = 12).
    """
    from tnrnn.base.errors import TnrnnError
    from tnrnn.base.validate import printable

    model, task = meta.get("model"), meta.get("task")
    if not isinstance(model, dict) or not isinstance(task, dict):
        raise TnrnnError(f"checkpoint {printable(args.checkpoint)!r} records no model or task, so it cannot be checked "
                         "against this probe; probe a checkpoint written by `tnrnn train --checkpoint`")
    want = {"cell": args.cell, "nonlinearity": "tanh", "forget_bias": 1.0, "task": "ses", "symbols": args.symbols,
            "time": args.time, "span": args.time // 2}
    have = {"cell": model.get("cell"), "nonlinearity": model.get("nonlinearity"),
            "forget_bias": model.get("forget_bias"), "task": task.get("task"), "symbols": task.get("symbols"),
            "time": task.get("time"), "span": task.get("span")}
    diffs = [f"{k} {printable(repr(have[k]), 40)} -> {want[k]!r}" for k in want if have[k] != want[k]]
    if diffs:
        raise TnrnnError(f"checkpoint {printable(args.checkpoint)!r} was trained for another configuration "
                         f"({'; '.join(diffs)}); probe with the settings it was trained with")


def run_probe(args: argparse.Namespace) -> int:
    """Run ``tnrnn probe``."""
    from tnrnn.base.checkpoint import inspect_checkpoint
    from tnrnn.base.errors import TnrnnError

    if not 0.0 <= args.min_accuracy <= 1.0:
        raise TnrnnError(f"--min-accuracy must be in [0, 1], got {args.min_accuracy}")
    if args.checkpoint is not None:
        # a bad file, or one trained for another configuration, is refused before jax starts
        _check_configuration(args, inspect_checkpoint(args.checkpoint))
    from tnrnn.memory.probe import check_domain, probe
    from tnrnn.memory.tasks import make_task

    check_domain(args.symbols, args.time)  # before training anything
    if args.time < 4:
        raise TnrnnError("time must be at least 4 for the training task (two halves of two symbols)")
    task = make_task("ses", time=args.time, symbols=args.symbols, span=args.time // 2)
    params, training = _params(args, task)
    result = probe(params, args.cell, args.symbols, args.time, n_in=task.n_in, depth=args.depth,
                   width=args.width, certify=not args.no_certify)
    if not args.spectrum:
        for rep in result["logits"]:
            rep["singular_values"] = rep["singular_values"][:20]
    acc = training.get("test_accuracy")
    learned = None if acc is None else bool(acc >= args.min_accuracy)
    result.update({"depth": args.depth, "width": args.width, "training": training,
                   "logit_names": list(task.class_labels),
                   "summary": {"rank": result["max_rank"], "rank_rtol": result["rank_rtol"], "test_accuracy": acc,
                               "learned": learned, "min_accuracy": args.min_accuracy,
                               "certified_rac_rank": result.get("certified", {}).get("lower")}})
    if learned is False:
        result["summary"]["note"] = (f"test accuracy {acc:.3f} < {args.min_accuracy}: the network did not learn "
                                     "the task, so its rank says nothing about the memory the task needs")
    print_json(result)
    return 0
