"""``tnrnn memory-powered``: the powered depth study of Copying Memory (paired seeds trained together, the
authors' scoRNN and plateau rule; [`tnrnn.memory.powered`][tnrnn.memory.powered]) on the CPU grid or the
authors' grid, with ``--dry-run`` to size a run before starting it.

Examples::

    tnrnn memory-powered --grid authors --dry-run                 # runs, steps and a measured time estimate
    tnrnn memory-powered --grid default --results p.jsonl --out p  # run (or resume) the CPU study
    tnrnn memory-powered --grid authors --delays 10 --seeds 0,1,2,3,4,5,6,7,8,9 --results a.jsonl --out a
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from typing import Any

from tnrnn.cli.common import int_list, positive_int, print_json, seed_list, show_progress

#: Optimiser steps timed by ``--dry-run`` on the largest configuration (after one call that compiles).
TIMED_STEPS = 20

HELP = "the powered depth study of Copying Memory (paired seeds, authors' scoRNN); --dry-run sizes it"


def register(subparsers) -> None:
    """Add the ``memory-powered`` subcommand."""
    p = subparsers.add_parser(
        "memory-powered", help=HELP,
        description="Train every configuration of the powered depth study (depths at equal width and at equal "
                    "parameters, Copying Memory, at least 10 paired seeds per configuration trained together) "
                    "with the resumable sweep runner, and write the summary (success rates with Wilson "
                    "intervals, median accuracies with bootstrap intervals, McNemar and sign tests with Holm) "
                    "after every configuration. --dry-run prints the size of the run and a time estimate from "
                    f"{TIMED_STEPS} timed steps of its largest configuration, and trains nothing else.")
    p.add_argument("--grid", choices=("default", "authors"), default="default",
                   help="default: the CPU study of diagrams/memory_powered.json (8 symbols, span 10); authors: "
                        "n = 32 symbols, m = 30, width 64, up to 50k steps (for a GPU)")
    p.add_argument("--delays", type=int_list, default=None, help="comma-separated delays (default: the grid's)")
    p.add_argument("--depths", type=int_list, default=None,
                   help="comma-separated depths, 1 among them (default: the grid's)")
    p.add_argument("--width", type=positive_int, default=None,
                   help="width of the equal-width setting (default: the grid's)")
    p.add_argument("--seeds", type=seed_list, default=None,
                   help="comma-separated seeds, at least 10 (default: the grid's, 0..9)")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="most optimiser steps per seed (default: the grid's; the minimum before an early stop "
                        "is lowered to it if larger)")
    p.add_argument("--results", default=None, metavar="PATH",
                   help="resumable results file (default memory_powered_GRID.jsonl in the current folder)")
    p.add_argument("--out", default=None, metavar="PREFIX",
                   help="summary prefix: PREFIX.json and PREFIX.png (default memory_powered_GRID)")
    p.add_argument("--dry-run", action="store_true",
                   help=f"print configurations, runs, steps and an estimated time ({TIMED_STEPS} timed steps of "
                        "the largest configuration), train nothing else")
    p.add_argument("--json", action="store_true", help="--dry-run: print JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run_memory_powered)


def study_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The study dict of ``--grid`` with the command line's overrides (checked by building its points).

    Examples
    --------
    >>> ns = argparse.Namespace(grid="authors", delays=[10], depths=None, width=None, seeds=None, steps=500)
    >>> s = study_from_args(ns)
    >>> s["symbols"], s["delays"], s["protocol"]["steps"], s["protocol"]["min_steps"]
    (32, [10], 500, 500)
    """
    from tnrnn.memory.powered import AUTHORS_STUDY, DEFAULT_STUDY, powered_points

    base = AUTHORS_STUDY if args.grid == "authors" else DEFAULT_STUDY
    study = {**base, "protocol": dict(base["protocol"])}
    for key in ("delays", "depths", "width", "seeds"):
        value = getattr(args, key)
        if value is not None:
            study[key] = value
    if args.steps is not None:
        study["protocol"]["steps"] = args.steps
        study["protocol"]["min_steps"] = min(study["protocol"].get("min_steps", 0), args.steps)
    powered_points(**{k: study[k] for k in ("cell", "symbols", "span", "delays", "depths", "width",
                                            "budget_depth", "seeds", "protocol")})  # refuses bad settings
    return study


def plan(study: dict[str, Any], *, timed_steps: int = TIMED_STEPS, measure: bool = True) -> dict[str, Any]:
    """Size a study: configurations, runs, optimiser steps, and (``measure``) an estimated time from
    ``timed_steps`` timed steps of its largest configuration (T times parameters; all its seeds together, one
    untimed call first compiles the program).

    The estimate assumes every seed trains for the full ``steps`` (an upper estimate: the plateau rule stops
    seeds earlier) at the largest configuration's speed, plus no compile time.

    Examples
    --------
    >>> from tnrnn.memory.powered import DEFAULT_STUDY
    >>> study = {**DEFAULT_STUDY, "symbols": 3, "span": 2, "delays": [2], "width": 4,
    ...          "protocol": {"steps": 100, "eval_every": 50, "min_steps": 0, "val_size": 8, "test_size": 8}}
    >>> p = plan({**study, "seeds": list(range(20))}, measure=False)
    >>> p["configurations"], p["blocks"], p["runs"], p["optimiser_steps"], p["largest"]["depth"]
    (5, 10, 100, 10000, 3)
    """
    from tnrnn.memory.cells import num_params
    from tnrnn.memory.powered import powered_points
    from tnrnn.memory.tasks import CopyingMemory
    from tnrnn.memory.vtrain_seeds import SeedProtocol, estimate_seconds, train_seeds

    points = powered_points(**{k: study[k] for k in ("cell", "symbols", "span", "delays", "depths", "width",
                                                     "budget_depth", "seeds", "protocol")})
    protocol = SeedProtocol(**points[0]["protocol"])

    def size(pt: dict) -> tuple[int, int]:
        task = CopyingMemory(symbols=pt["symbols"], span=pt["span"], delay=pt["delay"])
        return task.time, num_params(pt["cell"], task.n_in, pt["width"], pt["depth"], task.n_out)

    largest = max(points, key=lambda pt: (size(pt)[0] * size(pt)[1], pt["depth"]))
    task = CopyingMemory(symbols=largest["symbols"], span=largest["span"], delay=largest["delay"])
    runs = sum(len(pt["seeds"]) for pt in points)
    configurations = {(pt["depth"], pt["width"], pt["delay"]) for pt in points}
    out: dict[str, Any] = {
        "configurations": len(configurations), "runs": runs,
        "seeds_per_configuration": runs // len(configurations),
        # the sweep trains a configuration's seeds in blocks (vmapped together), one block after another
        "blocks": len(points), "seeds_per_block": max(len(pt["seeds"]) for pt in points),
        "steps_per_run": protocol.steps, "optimiser_steps": runs * protocol.steps,
        "largest": {"depth": largest["depth"], "width": largest["width"], "T": task.time,
                    "params": size(largest)[1], "seeds": len(largest["seeds"])},
        "timed_steps": None, "seconds_per_step": None, "estimated_seconds": None,
    }
    if not measure:
        return out
    timing = SeedProtocol(**{**protocol.to_json(), "steps": timed_steps, "eval_every": timed_steps,
                             "min_steps": 0, "val_size": 16, "test_size": 16})
    train_seeds(task, largest["cell"], largest["depth"], largest["width"], largest["seeds"], timing)  # compiles
    t0 = time.perf_counter()
    train_seeds(task, largest["cell"], largest["depth"], largest["width"], largest["seeds"], timing)
    step_seconds = (time.perf_counter() - t0) / timed_steps
    return {**out, "timed_steps": timed_steps, "seconds_per_step": step_seconds,
            "estimated_seconds": estimate_seconds(step_seconds, len(points), protocol),
            "estimate": "upper: every block of seeds runs every step at the largest configuration's measured "
                        "speed (the seeds of a block train together); compile time not included"}


def _human(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def run_memory_powered(args: argparse.Namespace) -> int:
    """Run ``tnrnn memory-powered``."""
    from tnrnn.base.machine import machine_provenance

    study = study_from_args(args)
    if args.dry_run:
        p = plan(study)
        p["machine"] = machine_provenance()
        if args.json:
            print_json(p)
            return 0
        lg = p["largest"]
        print(f"grid {args.grid}: {p['configurations']} configurations x {p['seeds_per_configuration']} seeds = "
              f"{p['runs']} runs ({p['blocks']} blocks of up to {p['seeds_per_block']} seeds trained together), "
              f"at most {p['steps_per_run']:,} steps each = {p['optimiser_steps']:,} optimiser "
              f"steps\nlargest configuration: L={lg['depth']} R={lg['width']} T={lg['T']} ({lg['params']:,} "
              f"parameters, {lg['seeds']} seeds together): {p['seconds_per_step'] * 1000:.1f} ms per step "
              f"({p['timed_steps']} timed steps)\nestimated time: at most {_human(p['estimated_seconds'])} on "
              f"this machine ({', '.join(p['machine']['devices'])}; {p['machine']['cpu']})")
        return 0
    from tnrnn.memory.powered import run_powered

    results = args.results or f"memory_powered_{args.grid}.jsonl"
    out = args.out or f"memory_powered_{args.grid}"
    summary = run_powered(study, results, out, progress=show_progress(not args.no_progress),
                          command="tnrnn " + shlex.join(["memory-powered", *sys.argv[2:]]))
    for c in summary.get("comparisons", []):
        print(f"{c['setting']:<6} T={c['T']:<4} L={c['depth']} vs 1: p={c['p_value']:.3g} (Holm {c['p_holm']:.3g})")
    print(f"wrote {out}.json and {out}.png ({len(summary.get('rows', []))} rows)")
    return 0
