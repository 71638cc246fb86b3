"""``tnrnn capacity bits|units|mc|trainability``: capacity and trainability studies (SCIENCE.md section 7).

Every study runs its grid through :func:`tnrnn.sweep.run_sweep` (resumable JSON-lines results; a rerun skips
finished points), then writes ``DIR/capacity_<study>.json`` (summary with the training budget) and
``DIR/capacity_<study>.png`` (figure, budget in its footer), and prints the table with the budget.

Examples::

    tnrnn capacity bits --quick --out results/
    tnrnn capacity units --full --out diagrams/
    tnrnn capacity mc --sizes 5,10,20 --kinds orthogonal
    tnrnn capacity trainability --cells rnn,gru --depths 1,2,4 --draws 8 --workers 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tnrnn.cli.common import cell_list, finite_float, int_list, positive_float_list, positive_int, print_json
from tnrnn.cli.sweep_args import add_sweep_args, sweep_kwargs


def _seed_list(text: str) -> list[int]:
    values = int_list(text)
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"seeds must be >= 0, got {text!r}")
    return values


def _radius(text: str) -> float:
    value = finite_float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"the spectral radius must lie in (0, 1), got {text!r}")
    return value


def _common(p: argparse.ArgumentParser, study: str) -> None:
    preset = p.add_mutually_exclusive_group()
    preset.add_argument("--quick", dest="preset", action="store_const", const="quick",
                        help="smoke preset (about a minute)")
    preset.add_argument("--full", dest="preset", action="store_const", const="full",
                        help="full preset (default; the budgets and measured run times are in "
                             "tnrnn/capacity/presets.py)")
    p.set_defaults(preset="full", study=study, func=run_capacity)
    p.add_argument("--out", default=".", metavar="DIR",
                   help=f"folder for capacity_{study}.json, .png and (unless --results) .jsonl (default .)")
    add_sweep_args(p)


def register(subparsers) -> None:
    """Add ``tnrnn capacity`` with its four studies."""
    cap = subparsers.add_parser(
        "capacity", help="capacity and trainability studies: bits per parameter, per-unit memory, MC, depth",
        description="Capacity and trainability of recurrent cells (Collins, Sohl-Dickstein, Sussillo 2017).")
    sub = cap.add_subparsers(dest="study", metavar="STUDY", parser_class=type(cap))
    sub.required = True

    b = sub.add_parser("bits", help="bits per parameter on the memorisation task",
                       description="Memorise b random binary labels; stored bits I = b(1 - H2(p)); capacity = "
                                   "max over b and the learning rates; bits/parameter and the log-log slope.")
    b.add_argument("--cells", type=cell_list, default=None, help="comma-separated cells (+RNN runs at depth 2)")
    b.add_argument("--budgets", type=int_list, default=None, help="parameter budgets, e.g. 300,1000,2000")
    b.add_argument("--b-multiples", type=positive_float_list, default=None, help="samples per parameter searched")
    b.add_argument("--lrs", type=positive_float_list, default=None, help="learning-rate grid (trained together)")
    b.add_argument("--seeds", type=_seed_list, default=None, help="seeds (data set and initialisation)")
    b.add_argument("--steps", type=positive_int, default=None)
    b.add_argument("--batch-size", type=positive_int, default=None)
    b.add_argument("--n-in", type=positive_int, default=None, help="input dimension")
    _common(b, "bits")

    u = sub.add_parser("units", help="per-unit memory: single-shot recall error against units",
                       description="Recall one random n_in-vector after a delay; normalised error against N, "
                                   "beside max(0, 1 - N/n_in).")
    u.add_argument("--cells", type=cell_list, default=None)
    u.add_argument("--units", type=int_list, default=None, help="hidden units N, e.g. 2,4,8,16")
    u.add_argument("--n-in", type=positive_int, default=None)
    u.add_argument("--delay", type=positive_int, default=None)
    u.add_argument("--lrs", type=positive_float_list, default=None)
    u.add_argument("--seeds", type=_seed_list, default=None)
    u.add_argument("--steps", type=positive_int, default=None)
    _common(u, "units")

    m = sub.add_parser("mc", help="Jaeger memory capacity of frozen random networks, Lyapunov vs measured",
                       description="Memory capacity of linear and tanh networks against N: exact (discrete "
                                   "Lyapunov), measured on held-out data, and the Fisher memory total.")
    m.add_argument("--sizes", type=int_list, default=None, help="units N, e.g. 5,10,20,50")
    m.add_argument("--kinds", default=None, help="orthogonal,gaussian")
    m.add_argument("--seeds", type=_seed_list, default=None)
    m.add_argument("--spectral-radius", type=_radius, default=None)
    m.add_argument("--train-steps", type=positive_int, default=None)
    m.add_argument("--test-steps", type=positive_int, default=None)
    _common(m, "mc")

    t = sub.add_parser("trainability", help="random hyperparameter draws per cell and depth (parentheses)",
                       description="Train random hyperparameter draws per (cell, depth) on parentheses counting; "
                                   "fraction failed, median and best final loss.")
    t.add_argument("--cells", type=cell_list, default=None)
    t.add_argument("--depths", type=int_list, default=None, help="e.g. 1,2,4")
    t.add_argument("--draws", type=positive_int, default=None, help="random draws per (cell, depth)")
    t.add_argument("--steps", type=positive_int, default=None)
    t.add_argument("--budget", type=positive_int, default=None, help="parameter budget")
    t.add_argument("--time", type=positive_int, default=None, help="sequence length")
    _common(t, "trainability")


def _override(training: dict, args: argparse.Namespace, mapping: dict[str, str]) -> dict:
    for flag, key in mapping.items():
        value = getattr(args, flag, None)
        if value is not None:
            training[key] = value
    return training


def _points(args: argparse.Namespace):
    from tnrnn.base.errors import TnrnnError
    from tnrnn.capacity import bits, mc_study, trainability, units
    from tnrnn.capacity.presets import preset

    cfg = preset(args.study, args.preset)
    tr = cfg["training"]
    if args.study == "bits":
        _override(tr, args, {"lrs": "learning_rates", "seeds": "seeds", "steps": "steps",
                             "batch_size": "batch_size", "n_in": "n_in"})
        cells, budgets, mults = args.cells or cfg["cells"], args.budgets or cfg["budgets"], \
            args.b_multiples or cfg["b_multiples"]
        pts = bits.bits_points(cells, budgets, mults, **tr)
        training = {**tr, "budgets": budgets, "b_multiples": mults, "optimizer": "adam (cosine to 0.1 lr)",
                    "clip_norm": 10.0}
        return bits.POINT_TASK, pts, training
    if args.study == "units":
        _override(tr, args, {"n_in": "n_in", "delay": "delay", "lrs": "learning_rates", "seeds": "seeds",
                             "steps": "steps"})
        pts = units.units_points(args.cells or cfg["cells"], args.units or cfg["units"], **tr)
        return units.POINT_TASK, pts, {**tr, "optimizer": "adam (cosine to 0.1 lr)", "clip_norm": 10.0}
    if args.study == "mc":
        _override(tr, args, {"spectral_radius": "spectral_radius", "train_steps": "train_steps",
                             "test_steps": "test_steps"})
        kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] if args.kinds else cfg["kinds"]
        seeds = args.seeds or cfg["seeds"]
        pts = mc_study.mc_points(args.sizes or cfg["sizes"], kinds, seeds, **tr)
        return mc_study.POINT_TASK, pts, {**tr, "seeds": seeds, "tanh_input_scale": 0.5, "ridge": 1e-8}
    if args.study == "trainability":
        _override(tr, args, {"draws": "draws", "steps": "steps", "budget": "budget", "time": "time"})
        depths = args.depths or cfg["depths"]
        pts = trainability.trainability_points(args.cells or cfg["cells"], depths, **tr)
        if not pts:
            raise TnrnnError("no (cell, depth) to run: the +RNN needs depth >= 2")
        return trainability.POINT_TASK, pts, {**tr, "depths": depths}
    raise TnrnnError(f"unknown study {args.study!r}")  # pragma: no cover (argparse checks the choices)


def _summarize(study: str, records: list[dict], training: dict) -> dict:
    from tnrnn.capacity import bits, mc_study, trainability, units

    fn = {"bits": bits.summarize_bits, "units": units.summarize_units, "mc": mc_study.summarize_mc,
          "trainability": trainability.summarize_trainability}[study]
    return fn(records, training)


def _table(study: str, summary: dict) -> list[dict]:
    if study == "bits":
        return [{k: s[k] for k in ("cell", "depth", "num_params", "capacity_bits", "bits_per_param",
                                   "best_b_multiple", "best_learning_rate")} for s in summary["sizes"]]
    if study == "units":
        return [{"cell": c, "units": r["units"], "normalized_error": r["normalized_error"], "bound": r["bound"]}
                for c, rows in summary["curves"].items() for r in rows]
    if study == "mc":
        return [{k: r[k] for k in ("kind", "n", "analytic", "analytic_noisy", "empirical_linear", "empirical_tanh",
                                   "fisher_total")} for r in summary["rows"]]
    return [{k: r[k] for k in ("cell", "depth", "num_params", "failed_fraction", "diverged_fraction",
                               "median_final_loss", "best_final_loss")} for r in summary["rows"]]


def _finished_keys(results: str | None) -> set:
    from tnrnn.base.io import read_jsonl

    if results is None or not Path(results).exists():
        return set()
    return {r.get("key") for r in read_jsonl(results) if r.get("status") == "ok"}


def _previous_wall(path: Path, *, default: float) -> float:
    from tnrnn.base.io import read_json

    try:
        tr = read_json(path).get("training", {})
    except (OSError, ValueError, AttributeError):
        return default
    value = tr.get("wall_seconds", tr.get("wall_seconds_this_run"))
    return float(value) if isinstance(value, (int, float)) else default


def run_capacity(args: argparse.Namespace) -> int:
    from tnrnn.base.io import write_json
    from tnrnn.capacity import plots
    from tnrnn.sweep import run_sweep

    t0 = time.perf_counter()
    task, points, training = _points(args)
    out = Path(args.out)
    stem = f"capacity_{args.study}"
    kwargs = sweep_kwargs(args)
    if kwargs["results"] is None:
        kwargs["results"] = str(out / f"{stem}.jsonl")
    done_before = _finished_keys(kwargs["results"])
    records = run_sweep(task, points, desc=f"capacity {args.study}", **kwargs)
    summary = _summarize(args.study, records, {"preset": args.preset, **training})
    wall = round(time.perf_counter() - t0, 1)
    if all(r["key"] in done_before for r in records if r.get("status") == "ok"):
        # nothing was trained (a rerun that only rebuilds the JSON and figure): keep the wall time of the run
        # that did the work, if the previous summary recorded one
        wall = _previous_wall(out / f"{stem}.json", default=wall)
    summary["training"]["wall_seconds"] = wall
    summary["preset"] = args.preset
    write_json(out / f"{stem}.json", summary)
    plot = {"bits": plots.plot_bits, "units": plots.plot_units, "mc": plots.plot_mc,
            "trainability": plots.plot_trainability}[args.study]
    has_data = bool(summary.get("sizes") or summary.get("curves") or summary.get("rows"))
    figure = plot(summary, out / f"{stem}.png") if has_data else None
    report = {"study": args.study, "training": summary["training"], "table": _table(args.study, summary)}
    if args.study == "bits":
        report["slopes"] = summary["slopes"]
    report.update({"errors": summary["errors"], "json": str(out / f"{stem}.json"),
                   "figure": str(figure) if figure else None, "results": kwargs["results"]})
    print_json(report)
    if summary["errors"]:
        print(f"tnrnn: {len(summary['errors'])} point(s) failed; see {out / f'{stem}.json'}", file=sys.stderr)
        return 1
    return 0
