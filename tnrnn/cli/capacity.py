"""``tnrnn capacity STUDY``: capacity and trainability studies (Collins, Sohl-Dickstein, Sussillo, ICLR 2017).

The subcommands come from `tnrnn.capacity.registry.STUDIES`: each study brings its presets, flags,
points, summary, table and figure. Every study runs its points through the resumable sweep runner
([`tnrnn.capacity.study.run_study`][tnrnn.capacity.study.run_study]; a rerun skips finished points), then writes
``DIR/capacity_<study>.json`` (summary with the training budget) and ``DIR/capacity_<study>.png`` (figure,
budget in its footer), and prints the table with the budget. Presets other than ``quick`` and ``full`` add
their name to the files (``capacity_bits_long.*``), so a long run never overwrites the full one.

Examples::

    tnrnn capacity bits --quick --out results/
    tnrnn capacity bits --long --out diagrams/
    tnrnn capacity mc --sizes 5,10,20 --kinds orthogonal
    tnrnn capacity trainability --cells rnn,gru --depths 1,2,8 --draws 50 --workers 2
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tnrnn.base.io import output_dir, read_json, write_json
from tnrnn.capacity.registry import STUDIES
from tnrnn.capacity.study import Study, run_study, stored_records
from tnrnn.cli.common import cell_list, finite_float, int_list, positive_float_list, positive_int, print_json, seed_list
from tnrnn.cli.sweep_args import add_sweep_args, sweep_kwargs
from tnrnn.sweep import read_results


def _radius(text: str) -> float:
    value = finite_float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"the spectral radius must lie in (0, 1), got {text!r}")
    return value


def _names(text: str) -> list[str]:
    values = [k.strip() for k in text.split(",") if k.strip()]
    if not values:
        raise argparse.ArgumentTypeError("expected at least one name")
    return values


#: Largest integer a capacity option takes (sizes, steps, budgets, seeds): larger ones (2^63, 10^100) are a
#: misuse refused while parsing (exit 2), not points that fail one by one after the sweep has started.
MAX_OPTION_INT = 2**31 - 1


def _capped(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_capped(text: str) -> Any:
        value = parse(text)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, int) and not 0 <= v <= MAX_OPTION_INT:
                raise argparse.ArgumentTypeError(f"expected integers from 0 to {MAX_OPTION_INT}, got {v}")
        return value
    return parse_capped


#: Parser of each option kind of ``tnrnn.capacity.study.OPTION_KINDS``.
OPTION_TYPES: dict[str, Callable[[str], Any]] = {
    "cells": cell_list, "int_list": _capped(int_list), "float_list": positive_float_list,
    "seed_list": _capped(seed_list), "int": _capped(positive_int), "radius": _radius, "names": _names,
}


def _add_study(sub, study: Study) -> None:
    p = sub.add_parser(study.name, help=study.help, description=study.description)
    for opt in study.options:
        p.add_argument(opt.flag, dest=f"opt_{opt.key}", type=OPTION_TYPES[opt.kind], default=None,
                       metavar=opt.key.upper(), help=opt.help)
    preset = p.add_mutually_exclusive_group()
    for name in study.presets:
        preset.add_argument(f"--{name}", dest="preset", action="store_const", const=name,
                            help=f"the {name} preset (default full; budgets in tnrnn/capacity/presets.py)")
    p.set_defaults(preset="full", study=study.name, func=run_capacity)
    p.add_argument("--no-run", action="store_true",
                   help="run nothing: summarise and draw what the results file already holds (a study stopped "
                        "part-way; unfinished searches say so in their stop reason)")
    p.add_argument("--out-dir", "--out", dest="out_dir", default=".", metavar="DIR",
                   help=f"folder for capacity_{study.name}[_PRESET].json, .png and (unless --results) .jsonl "
                        "(--out is an older name of this option)")
    add_sweep_args(p)


def register(subparsers) -> None:
    """Add ``tnrnn capacity`` with one subcommand per registered study."""
    cap = subparsers.add_parser(
        "capacity", help="capacity and trainability studies: bits per parameter, per-unit memory, MC, depth",
        description="Capacity and trainability of recurrent cells (Collins, Sohl-Dickstein, Sussillo 2017).")
    sub = cap.add_subparsers(dest="study", metavar="STUDY", parser_class=type(cap))
    sub.required = True
    for study in STUDIES.values():
        _add_study(sub, study)


def stem(study: str, preset: str) -> str:
    """File stem of a study's outputs: ``capacity_<study>``, plus ``_<preset>`` beyond quick and full.

    Examples
    --------
    >>> stem("bits", "full"), stem("bits", "long")
    ('capacity_bits', 'capacity_bits_long')
    """
    return f"capacity_{study}" + ("" if preset in ("quick", "full") else f"_{preset}")


def _finished_keys(results: str | None) -> set:
    if results is None or not Path(results).exists():
        return set()
    return {key for key, r in read_results(results).records.items() if r.get("status") == "ok"}


def _previous_wall(path: Path, *, default: float | None) -> float | None:
    try:
        tr = read_json(path).get("training", {})
    except (OSError, ValueError, AttributeError):
        return default
    value = tr.get("wall_seconds", tr.get("wall_seconds_this_run"))
    return float(value) if isinstance(value, (int, float)) else default


def run_capacity(args: argparse.Namespace) -> int:
    """Run one study (see the module docstring); exit status 1 when some point failed."""
    t0 = time.perf_counter()
    study = STUDIES[args.study]
    overrides = {k[len("opt_"):]: v for k, v in vars(args).items() if k.startswith("opt_")}
    config = study.config(args.preset, overrides)
    study.points(config, [])  # validates the grid before anything runs or is written
    out = output_dir(args.out_dir, what="--out-dir")
    name = stem(study.name, args.preset)
    kwargs = sweep_kwargs(args)
    if kwargs["results"] is None:
        kwargs["results"] = str(out / f"{name}.jsonl")
    done_before = _finished_keys(kwargs["results"])
    if args.no_run:
        records = stored_records(study, config, kwargs["results"])
    else:
        records = run_study(study, config, **kwargs)
    summary = study.summary(records, {"preset": args.preset, **config})
    wall: float | None = round(time.perf_counter() - t0, 1)
    if args.no_run:
        wall = None  # the records may come from several runs: their point times are in the summary
    elif all(r["key"] in done_before for r in records if r.get("status") == "ok"):
        # nothing was trained (a rerun that only rebuilds the JSON and figure): keep the wall time of the run
        # that did the work, if the previous summary recorded one (else none: point times are in the records)
        wall = _previous_wall(out / f"{name}.json", default=None)
    summary["training"]["wall_seconds"] = wall
    summary["preset"] = args.preset
    write_json(out / f"{name}.json", summary)
    figure = study.plot(summary, out / f"{name}.png") if study.has_data(summary) else None
    report = {"study": study.name, "training": summary["training"], "table": study.table(summary)}
    if "slopes" in summary:
        report["slopes"] = summary["slopes"]
    report.update({"errors": summary["errors"], "json": str(out / f"{name}.json"),
                   "figure": str(figure) if figure else None, "results": kwargs["results"]})
    print_json(report)
    if summary["errors"]:
        print(f"tnrnn: {len(summary['errors'])} point(s) failed; see {out / f'{name}.json'}", file=sys.stderr)
        return 1
    return 0
