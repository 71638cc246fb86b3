"""A powered depth study of long-term memory: paired seeds, the authors' scoRNN and plateau rule, success rates
with Wilson intervals and paired exact tests with Holm's correction (docs/pages/depth.md).

The design (what a per-point claim about depth needs):

* one task where the memory demand binds: Copying Memory with ``span`` symbols close to the width, so that a
  network must hold the whole span through the delay;
* at equal width (every depth at ``width``) and at equal parameters (every depth at the widest width within the
  parameter count of depth ``budget_depth`` at ``width``), so the two readings of "depth helps" are separated;
* at least 10 seeds per configuration, trained together ([`tnrnn.memory.vtrain_seeds.train_seeds`][tnrnn.memory.vtrain_seeds.train_seeds]); seed
  ``s`` sees the same sequences at every depth, so depths are compared seed by seed;
* outcome per seed: test accuracy on the recalled span; success means accuracy >= `SUCCESS`;
* per row: the success rate with its Wilson interval and the median accuracy with a bootstrap interval clipped
  to [0, 1]; per comparison (depth d against depth 1 in each setting and T): McNemar's exact test on success
  and the sign test on accuracy, Holm-adjusted over the whole family.

[`powered_points`][tnrnn.memory.powered.powered_points] builds the resumable sweep (one point per configuration and delay, its seeds inside),
[`powered_point`][tnrnn.memory.powered.powered_point] is the sweep's point function and [`summarize_powered`][tnrnn.memory.powered.summarize_powered] turns the records into the
rows and comparisons of ``diagrams/memory_powered.json``; [`plot_powered`][tnrnn.memory.powered.plot_powered] draws every seed as a point.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.memory.cells import check_cell, num_params, width_for_budget
from tnrnn.memory.tasks import CopyingMemory
from tnrnn.stats import bootstrap_interval, holm, mcnemar_exact, sign_test, success_summary

#: Test accuracy at which a seed counts as a success.
SUCCESS = 0.9

POINT_TASK = "tnrnn.memory.powered:powered_point"

#: Seeds trained together in one sweep point; more seeds are more points, so a study grows by blocks and a
#: finished block is never trained again.
SEED_BLOCK = 10

#: The study behind ``diagrams/memory_powered.*`` (sized for a 2-core CPU; docs/results.md states the cost).
DEFAULT_STUDY: dict[str, Any] = {
    "cell": "scornn", "symbols": 8, "span": 10, "delays": [10], "depths": [1, 2, 3], "width": 16,
    "budget_depth": 2, "seeds": list(range(20)),
    "protocol": {"steps": 10_000, "eval_every": 250, "patience": 11, "min_steps": 6_000, "val_size": 1000,
                 "test_size": 2000},
}

#: The authors' grid for a GPU (n = 32, m = 30 and 10, their widths, up to 50k steps): ``--grid authors``.
AUTHORS_STUDY: dict[str, Any] = {
    "cell": "scornn", "symbols": 32, "span": 30, "delays": [10, 30, 60], "depths": [1, 2, 3], "width": 64,
    "budget_depth": 2, "seeds": list(range(10)),
    "protocol": {"steps": 50_000, "eval_every": 1000, "patience": 11, "min_steps": 20_000, "val_size": 5000,
                 "test_size": 10_000},
}


def _task(symbols: int, span: int, delay: int) -> CopyingMemory:
    return CopyingMemory(symbols=symbols, span=span, delay=delay)


def powered_widths(cell: str, symbols: int, span: int, depths: Sequence[int], width: int,
                   budget_depth: int) -> dict[str, dict[int, int]]:
    """Width of every depth in the two settings: ``{"width": {d: width}, "params": {d: w_d}}``.

    At equal parameters, ``w_d`` is the widest width of depth ``d`` whose parameter count is at most that of
    depth ``budget_depth`` at ``width``.

    Examples
    --------
    >>> w = powered_widths("scornn", 8, 10, [1, 2, 3], 16, 2)
    >>> w["width"], w["params"][2]
    ({1: 16, 2: 16, 3: 16}, 16)
    >>> w["params"][1] > 16 > w["params"][3]
    True
    """
    task = _task(symbols, span, 1)
    budget = num_params(cell, task.n_in, width, budget_depth, task.n_out)
    return {"width": {d: width for d in depths},
            "params": {d: width_for_budget(cell, task.n_in, d, task.n_out, budget) for d in depths}}


def powered_points(
    *,
    cell: str = "scornn",
    symbols: int = 8,
    span: int = 10,
    delays: Sequence[int] = (10,),
    depths: Sequence[int] = (1, 2, 3),
    width: int = 16,
    budget_depth: int = 2,
    seeds: Sequence[int] = tuple(range(10)),
    protocol: dict | None = None,
) -> list[dict]:
    """The sweep points: one per distinct (depth, width, delay) and block of ``SEED_BLOCK`` seeds.

    A configuration that appears in both settings (depth ``budget_depth`` at ``width``) is trained once.

    Raises
    ------
    TnrnnError
        Bad sizes, fewer than 10 seeds, or depths without depth 1 (the reference of every comparison).

    Examples
    --------
    >>> pts = powered_points(delays=[10, 20], seeds=range(10))
    >>> len(pts), pts[0]["delay"], sorted({p["depth"] for p in pts})
    (10, 10, [1, 2, 3])
    >>> [p["seeds"][0] for p in powered_points(seeds=range(20))][:3]
    [0, 10, 0]
    """
    from tnrnn.memory.vtrain_seeds import SeedProtocol

    cell = check_cell(cell)
    seeds = sorted({check_positive_int("seed", s, minimum=0) for s in seeds})
    if len(seeds) < 10:
        raise TnrnnError(f"a powered study needs at least 10 seeds per configuration, got {len(seeds)}")
    depths = sorted({check_positive_int("depth", d) for d in depths})
    if len(depths) > 8 or depths[-1] > 16:
        raise TnrnnError(f"depths must be at most 16 (and at most 8 of them), got {depths}")
    if 1 not in depths:
        raise TnrnnError("depth 1 must be among the depths: every comparison is against it")
    proto = SeedProtocol(**(protocol or {})).to_json()
    widths = powered_widths(cell, symbols, span, depths, width, budget_depth)
    configs = sorted({(d, w) for setting in widths.values() for d, w in setting.items()})
    points = []
    for delay in delays:
        _task(symbols, span, check_positive_int("delay", delay))
        for d, w in configs:
            for start in range(0, len(seeds), SEED_BLOCK):
                points.append({"cell": cell, "symbols": symbols, "span": span, "delay": int(delay), "depth": d,
                               "width": w, "seeds": seeds[start:start + SEED_BLOCK], "protocol": proto})
    return points


def powered_point(*, cell: str, symbols: int, span: int, delay: int, depth: int, width: int, seeds: list[int],
                  protocol: dict) -> dict:
    """Train one configuration for every seed (the sweep's point function).

    Examples
    --------
    >>> r = powered_point(cell="scornn", symbols=3, span=2, delay=2, depth=1, width=4, seeds=[0, 1],
    ...                   protocol={"steps": 10, "eval_every": 5, "min_steps": 0, "val_size": 8, "test_size": 8})
    >>> r["time"], len(r["runs"]), r["num_params"]
    (6, 2, 45)
    """
    from tnrnn.base.machine import machine_provenance
    from tnrnn.memory.vtrain_seeds import SeedProtocol, still_improving, train_seeds

    task = _task(symbols, span, delay)
    out = train_seeds(task, cell, depth, width, seeds, SeedProtocol(**protocol))
    for run in out["runs"]:
        run["still_improving"] = still_improving(run["curve"])
    return {"cell": cell, "depth": depth, "width": width, "time": task.time, "delay": delay, "symbols": symbols,
            "span": span, "num_params": out["num_params"], "seconds": out["seconds"], "runs": out["runs"],
            "task": task.describe(), "machine": machine_provenance()}


def _row(cell: str, setting: str, rec: dict) -> dict:
    accs = [r["accuracy"] for r in rec["runs"]]
    succ = success_summary(accs, SUCCESS)
    med = bootstrap_interval(accs)
    return {"cell": cell, "setting": setting, "depth": rec["depth"], "width": rec["width"], "T": rec["time"],
            "delay": rec["delay"], "params": rec["num_params"], "seeds": [r["seed"] for r in rec["runs"]],
            "accuracies": accs, "success_rate": succ["rate"], "success_interval": succ["interval"],
            "successes": succ["successes"], "median_accuracy": med["value"], "median_interval": med["interval"],
            "still_improving": sum(bool(r.get("still_improving")) for r in rec["runs"]),
            "stopped_by_protocol": sum(bool(r["stopped"]) for r in rec["runs"]),
            "steps_median": sorted(r["steps"] for r in rec["runs"])[len(rec["runs"]) // 2]}


def summarize_powered(records: list[dict], *, width: int, budget_depth: int) -> dict:
    """Rows (one per setting, depth and T) and Holm-corrected paired comparisons (depth d vs depth 1).

    Parameters
    ----------
    records : list of dict
        Results of [`powered_point`][tnrnn.memory.powered.powered_point] (``"ok"`` records of the sweep, or the bare results).
    width, budget_depth : int
        The study's settings (to tell which configuration belongs to which setting).

    Returns
    -------
    dict
        ``rows``, ``comparisons`` (each with ``setting``, ``T``, ``depth``, ``versus``, the counts,
        ``p_value`` of McNemar's exact test on success, ``p_sign`` of the sign test on accuracy, and both
        Holm-adjusted over the family: ``p_holm``, ``p_sign_holm``), ``success_threshold``.

    Examples
    --------
    >>> recs = [{"cell": "scornn", "depth": d, "width": w, "time": 30, "delay": 10, "num_params": 100 * d,
    ...          "runs": [{"seed": s, "accuracy": a, "steps": 10, "stopped": True} for s, a in enumerate(acc)]}
    ...         for d, w, acc in [(1, 16, [0.5] * 10), (2, 16, [0.95] * 10)]]
    >>> out = summarize_powered(recs, width=16, budget_depth=2)
    >>> [(r["setting"], r["depth"], r["success_rate"]) for r in out["rows"]]
    [('width', 1, 0.0), ('width', 2, 1.0), ('params', 1, 0.0), ('params', 2, 1.0)]
    >>> c = out["comparisons"][0]; c["depth"], c["versus"], round(c["p_value"], 4)
    (2, 1, 0.002)
    """
    merged: dict[tuple, dict] = {}
    for r in (r.get("result", r) for r in records if r.get("status", "ok") == "ok"):
        key = (r["depth"], r["width"], r["time"])
        if key not in merged:
            merged[key] = {**r, "runs": []}
        seen = {run["seed"] for run in merged[key]["runs"]}
        merged[key]["runs"] += [run for run in r["runs"] if run["seed"] not in seen]
    results = list(merged.values())
    for r in results:
        r["runs"].sort(key=lambda run: run["seed"])
    if not results:
        raise TnrnnError("no finished configuration to summarise")
    by_time: dict[int, list[dict]] = {}
    for rec in results:
        by_time.setdefault(rec["time"], []).append(rec)
    rows, comps = [], []
    for T in sorted(by_time):
        recs = by_time[T]
        cell = recs[0]["cell"]
        budget = {r["depth"]: r for r in recs if r["depth"] == budget_depth and r["width"] == width}
        params_budget = budget[budget_depth]["num_params"] if budget else None
        settings = {"width": {r["depth"]: r for r in recs if r["width"] == width}}
        if params_budget is not None:
            best: dict[int, dict] = {}
            for r in recs:
                if r["num_params"] <= params_budget and (r["depth"] not in best
                                                         or r["width"] > best[r["depth"]]["width"]):
                    best[r["depth"]] = r
            settings["params"] = best
        for setting, by_depth in settings.items():
            for d in sorted(by_depth):
                rows.append(_row(cell, setting, by_depth[d]))
            if 1 not in by_depth:
                continue
            ref = {run["seed"]: run["accuracy"] for run in by_depth[1]["runs"]}
            for d in sorted(by_depth):
                if d == 1:
                    continue
                acc = {run["seed"]: run["accuracy"] for run in by_depth[d]["runs"]}
                paired = sorted(set(ref) & set(acc))
                a, b = [acc[s] for s in paired], [ref[s] for s in paired]
                mc = mcnemar_exact([x >= SUCCESS for x in a], [y >= SUCCESS for y in b])
                sg = sign_test(a, b)
                comps.append({"cell": cell, "setting": setting, "T": T, "depth": d, "versus": 1,
                              "pairs": len(paired), "deeper_only_success": mc["a_better"],
                              "shallow_only_success": mc["b_better"], "p_value": mc["p_value"],
                              "deeper_higher_accuracy": sg["a_better"], "shallow_higher_accuracy": sg["b_better"],
                              "p_sign": sg["p_value"]})
    family = [c["p_value"] for c in comps] + [c["p_sign"] for c in comps]
    adjusted = holm(family) if family else []
    for i, c in enumerate(comps):
        c["p_holm"], c["p_sign_holm"] = adjusted[i], adjusted[len(comps) + i]
    return {"rows": rows, "comparisons": comps, "success_threshold": SUCCESS,
            "correction": "Holm over every McNemar and sign-test p-value of the file"}


def plot_powered(summary: dict, path: str | os.PathLike) -> Path:
    """Every seed's test accuracy as a point, by depth, one panel per setting and T; the median with its
    bootstrap interval and the success rate with its Wilson interval printed above each depth.

    Examples
    --------
    >>> import tempfile, os
    >>> rows = [{"setting": "width", "T": 30, "depth": d, "width": 16, "params": 100 * d, "accuracies": [0.5, 0.9],
    ...          "median_accuracy": 0.7, "median_interval": [0.5, 0.9], "success_rate": 0.5,
    ...          "success_interval": [0.09, 0.91]} for d in (1, 2)]
    >>> out = plot_powered({"rows": rows, "comparisons": []}, os.path.join(tempfile.mkdtemp(), "p.png"))
    >>> out.exists()
    True
    """
    from tnrnn.draw.style import finish_figure, new_plot

    panels = sorted({(r["setting"], r["T"]) for r in summary["rows"]}, key=lambda k: (k[1], k[0] != "width"))
    fig, axes = new_plot(4.2 * len(panels), 4.6, ncols=len(panels), sharey=True)
    for ax, (setting, T) in zip(axes, panels):
        rows = sorted((r for r in summary["rows"] if r["setting"] == setting and r["T"] == T),
                      key=lambda r: r["depth"])
        for r in rows:
            accs = r["accuracies"]
            jitter = [(i - (len(accs) - 1) / 2) * 0.24 / max(1, len(accs)) for i in range(len(accs))]
            ax.scatter([r["depth"] + j for j in jitter], accs, s=16, alpha=0.7, color="tab:blue", zorder=3)
            if r["median_interval"]:
                lo, hi = r["median_interval"]
                ax.errorbar([r["depth"] + 0.25], [r["median_accuracy"]],
                            yerr=[[r["median_accuracy"] - lo], [hi - r["median_accuracy"]]], fmt="D",
                            color="black", capsize=3, zorder=4)
            if r["success_interval"]:
                lo, hi = r["success_interval"]
                ax.text(r["depth"], 1.03, f"{r['success_rate']:.2f}\n[{lo:.2f}, {hi:.2f}]", ha="center",
                        fontsize=7, va="bottom")
        ax.axhline(SUCCESS, color="grey", ls=":", lw=1)
        ax.set_xticks([r["depth"] for r in rows])
        ax.set_xticklabels([f"L={r['depth']}\nR={r['width']}\n{r['params']} p" for r in rows], fontsize=8)
        ax.set_ylim(-0.02, 1.2)
        ax.set_title(f"T = {T}, equal {'width' if setting == 'width' else 'parameters'}", fontsize=10)
    axes[0].set_ylabel("test accuracy, recalled span (a dot per seed)")
    return finish_figure(fig, path, title="Copying Memory, scoRNN: depth at equal width and at equal parameters",
                         footer=f"dots: seeds; diamond: median with bootstrap 95% interval; top: success rate "
                                f"(accuracy >= {SUCCESS}) with Wilson 95% interval; dotted: the success threshold")


def write_powered(records: list[dict], prefix: str | os.PathLike, *, width: int, budget_depth: int,
                  settings: dict | None = None, command: str | None = None) -> dict:
    """Summarise ``records`` and write ``PREFIX.json`` (rows, comparisons, settings) and ``PREFIX.png``.

    Returns the summary.
    """
    from tnrnn.base.io import write_json

    summary = summarize_powered(records, width=width, budget_depth=budget_depth)
    summary["settings"] = settings or {}
    summary["command"] = command
    stem = Path(prefix)
    write_json(stem.with_suffix(".json"), summary)
    plot_powered(summary, stem.with_suffix(".png"))
    return summary


def run_powered(study: dict, results: str | os.PathLike, prefix: str | os.PathLike, *, progress: bool = True,
                command: str | None = None) -> dict:
    """Run (or resume) a study of `DEFAULT_STUDY`'s form with the resumable sweep runner, in this
    process, and write its summary after every finished configuration.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> study = {**DEFAULT_STUDY, "symbols": 3, "span": 2, "delays": [2], "depths": [1, 2], "width": 4,
    ...          "seeds": list(range(10)),
    ...          "protocol": {"steps": 4, "eval_every": 2, "min_steps": 0, "val_size": 8, "test_size": 8}}
    >>> out = run_powered(study, os.path.join(d, "p.jsonl"), os.path.join(d, "p"), progress=False)
    >>> sorted({r["setting"] for r in out["rows"]}), len(out["rows"][0]["seeds"])
    (['params', 'width'], 10)
    """
    from tnrnn.sweep import run_sweep
    from tnrnn.sweep.store import read_results

    keys = ("cell", "symbols", "span", "delays", "depths", "width", "budget_depth", "seeds", "protocol")
    unknown = set(study) - set(keys)
    if unknown:
        raise TnrnnError(f"unknown study setting(s): {', '.join(sorted(unknown))}")
    pts = powered_points(**{k: study[k] for k in keys if k in study})
    summary: dict = {}
    for point in pts:
        run_sweep(POINT_TASK, [point], results, executor="serial", progress=progress,
                  desc=f"powered L={point['depth']} R={point['width']} B={point['delay']}")
        records = list(read_results(results).records.values())
        summary = write_powered(records, prefix, width=study["width"], budget_depth=study["budget_depth"],
                                settings=study, command=command)
    return summary


def main(argv: list[str] | None = None) -> int:
    """``python -m tnrnn.memory.powered [RESULTS PREFIX]``: run or resume `DEFAULT_STUDY`."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    results = args[0] if args else "diagrams/memory_powered.jsonl"
    prefix = args[1] if len(args) > 1 else "diagrams/memory_powered"
    run_powered(DEFAULT_STUDY, results, prefix, command="python -m tnrnn.memory.powered")
    return 0



def markdown_table(summary: dict) -> str:
    """The rows and comparisons of a summary as two Markdown tables (for the README and the docs).

    Examples
    --------
    >>> rows = [{"setting": "width", "T": 30, "depth": 1, "width": 16, "params": 432, "seeds": [0, 1],
    ...          "success_rate": 0.5, "success_interval": [0.09, 0.91], "median_accuracy": 0.9,
    ...          "median_interval": [0.8, 1.0], "still_improving": 1}]
    >>> print(markdown_table({"rows": rows, "comparisons": []}).splitlines()[2])
    | equal width | 30 | 1 | 16 | 432 | 2 | 0.50 [0.09, 0.91] | 0.900 [0.800, 1.000] | 1 |
    """
    def iv(v, lo_hi, fmt):
        return "n/a" if v is None else f"{v:{fmt}} [{lo_hi[0]:{fmt}}, {lo_hi[1]:{fmt}}]" if lo_hi else f"{v:{fmt}}"

    out = ["| setting | T | depth | width | params | seeds | success rate [Wilson 95%] | median accuracy "
           "[bootstrap 95%] | still improving at the cap |", "|---|---|---|---|---|---|---|---|---|"]
    for r in summary["rows"]:
        out.append(f"| equal {'width' if r['setting'] == 'width' else 'parameters'} | {r['T']} | {r['depth']} | "
                   f"{r['width']} | {r['params']} | {len(r['seeds'])} | "
                   f"{iv(r['success_rate'], r['success_interval'], '.2f')} | "
                   f"{iv(r['median_accuracy'], r['median_interval'], '.3f')} | {r['still_improving']} |")
    if summary["comparisons"]:
        out += ["", "| setting | T | depth vs 1 | pairs | only deeper succeeds | only depth 1 succeeds | McNemar p "
                "| Holm | deeper / shallower accuracy (sign test) | sign p | Holm |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        for c in summary["comparisons"]:
            out.append(f"| equal {'width' if c['setting'] == 'width' else 'parameters'} | {c['T']} | {c['depth']} | "
                       f"{c['pairs']} | {c['deeper_only_success']} | {c['shallow_only_success']} | "
                       f"{c['p_value']:.3g} | {c['p_holm']:.3g} | {c['deeper_higher_accuracy']} / "
                       f"{c['shallow_higher_accuracy']} | {c['p_sign']:.3g} | {c['p_sign_holm']:.3g} |")
    return "\n".join(out)


def facts(summary: dict) -> str:
    """The study's findings in words, computed from its summary (the gallery's caption; never hand-written).

    Examples
    --------
    >>> rows = [{"setting": "width", "T": 30, "depth": d, "width": 16, "params": 100 * d, "seeds": list(range(10)),
    ...          "successes": s, "success_rate": s / 10, "success_interval": [0.1, 0.9]} for d, s in ((1, 5), (2, 10))]
    >>> comps = [{"setting": "width", "T": 30, "depth": 2, "versus": 1, "p_value": 0.06, "p_holm": 0.06,
    ...           "p_sign": 0.02, "p_sign_holm": 0.04}]
    >>> facts({"rows": rows, "comparisons": comps}).split(". ")[0]
    'Success (accuracy >= 0.9) at equal width, T = 30: depth 1 5/10 [0.10, 0.90], depth 2 10/10 [0.10, 0.90]'
    """
    parts = []
    for setting, T in sorted({(r["setting"], r["T"]) for r in summary["rows"]}, key=lambda k: (k[1], k[0] != "width")):
        rows = sorted((r for r in summary["rows"] if (r["setting"], r["T"]) == (setting, T)), key=lambda r: r["depth"])
        label = "equal width" if setting == "width" else "equal parameters"
        parts.append(f"Success (accuracy >= {SUCCESS}) at {label}, T = {T}: " + ", ".join(
            f"depth {r['depth']} {r['successes']}/{len(r['seeds'])} [{r['success_interval'][0]:.2f}, "
            f"{r['success_interval'][1]:.2f}]" for r in rows))
    survive = [c for c in summary["comparisons"] if min(c["p_holm"], c["p_sign_holm"]) < 0.05]
    if survive:
        parts.append("Surviving Holm's correction (p < 0.05): " + "; ".join(
            f"depth {c['depth']} vs 1 at equal {'width' if c['setting'] == 'width' else 'parameters'}, T = {c['T']} "
            f"(McNemar p_Holm = {c['p_holm']:.2g}, sign test p_Holm = {c['p_sign_holm']:.2g})" for c in survive))
    else:
        parts.append("No depth comparison survives Holm's correction")
    rest = [c for c in summary["comparisons"] if c not in survive]
    if rest and survive:
        parts.append("Not surviving: " + "; ".join(
            f"depth {c['depth']} vs 1 at equal {'width' if c['setting'] == 'width' else 'parameters'}"
            f" (p_Holm = {min(c['p_holm'], c['p_sign_holm']):.2g})" for c in rest))
    return ". ".join(parts) + "."


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
