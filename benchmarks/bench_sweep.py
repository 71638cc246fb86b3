"""Sweep runner: the rank-table sweep on 1 and 2 workers, local process pool and Dask LocalCluster.

Times are whole ``run_sweep`` calls into a fresh results file, each in a fresh Python process (pool or cluster
start-up and the workers' imports included: what one ``tnrnn table`` command waits for). The task is ``tnrnn.rank:table_point`` once the rank engine provides it, otherwise
CPU-bound ``tnrnn.sweep.demo:busy`` points of similar size. Every variant must return the same results (checked
here; the metadata fields ``seconds``/``worker``/``traceback`` excepted).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import rows_with_ratios

from tnrnn.sweep import point_key, read_results, run_sweep

ROOT = Path(__file__).resolve().parents[1]
GROUP = "sweep"
BASELINE = "local x1"
RANK_TASK = "tnrnn.rank:table_point"


def _rank_grid(quick: bool) -> list[dict]:
    # A rank table over depth x T at R = M = 3. In the full grid the two T = 14 points (about 3 s each) dominate
    # the ~9 s of work, so two workers can at best halve it.
    depths, times = ((2, 3), (8, 10)) if quick else ((2, 3, 4), (8, 10, 12, 14))
    return [{"depth": d, "width": 3, "features": 3, "time": t} for d in depths for t in times]


def _rank_task_usable() -> bool:
    """True when ``tnrnn.rank:table_point`` exists and its cheapest grid point runs without error."""
    try:
        module = importlib.import_module("tnrnn.rank")
    except Exception:  # noqa: BLE001 - a rank module still being written is "not usable", not a crash
        return False
    if not callable(getattr(module, "table_point", None)):
        return False
    (probe,) = run_sweep(RANK_TASK, _rank_grid(True)[:1], None, executor="serial", progress=False)
    return probe["status"] == "ok"


def _points(quick: bool) -> tuple[str, list[dict], str]:
    if _rank_task_usable():
        points = _rank_grid(quick)
        return RANK_TASK, points, f"rank table_point, {len(points)} points"
    n = 400_000 if quick else 4_000_000
    count = 4 if quick else 8
    points = [{"n": n, "seed": s} for s in range(count)]
    # Stand-in until the rank engine works: the same shape of work (independent CPU-bound points).
    return "tnrnn.sweep.demo:busy", points, f"demo busy, {count} x {n:,} steps (table_point not usable yet)"


_RUNNER = """
import json, sys, time
from tnrnn.sweep import point_key, read_results, run_sweep
if __name__ == "__main__":
    task, points, results, kwargs = json.loads(sys.argv[1])
    t0 = time.perf_counter()
    run_sweep(task, points, results, progress=False, **kwargs)
    print(json.dumps(time.perf_counter() - t0))
"""


def _timed(task: str, points: list[dict], **kwargs) -> tuple[float, list[dict]]:
    """Seconds of one ``run_sweep`` call in a fresh Python process (as one CLI command would run it: no pool,
    fork server or import left warm by an earlier variant), and its records."""
    with tempfile.TemporaryDirectory() as tmp:
        results = str(Path(tmp) / "results.jsonl")
        script = Path(tmp) / "run_sweep_once.py"  # a file, not -c: worker processes re-import the main module
        script.write_text(_RUNNER)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        out = subprocess.run([sys.executable, str(script), json.dumps([task, points, results, kwargs])],
                             capture_output=True, text=True, env=env, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"sweep variant {kwargs} failed: {out.stderr[-2000:]}")
        seconds = json.loads(out.stdout.strip().splitlines()[-1])
        stored = read_results(results).records
        return seconds, [stored[point_key(task, p)] for p in points]


def _strip(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("seconds", "worker", "traceback")} for r in records]


def rows(quick: bool) -> list[dict]:
    task, points, case = _points(quick)
    variants = {
        "local x1": {"executor": "local", "workers": 1},
        "local x2": {"executor": "local", "workers": 2},
    }
    try:
        import distributed  # noqa: F401

        variants["dask x1"] = {"executor": "dask", "workers": 1}
        variants["dask x2"] = {"executor": "dask", "workers": 2}
    except ImportError:
        pass
    repeat = 1 if quick else 2
    timings: dict[str, float] = {}
    reference = None
    for name, kwargs in variants.items():
        best = float("inf")
        for _ in range(repeat):
            seconds, records = _timed(task, points, **kwargs)
            best = min(best, seconds)
            if reference is None:
                reference = _strip(records)
            elif _strip(records) != reference:
                raise AssertionError(f"sweep variant {name!r} returned different results")
        timings[name] = best
    errors = sum(r["status"] == "error" for r in reference or [])
    if errors:
        raise AssertionError(f"{errors} of {len(reference)} sweep points failed; timings would be meaningless")
    out = rows_with_ratios(GROUP, case, timings, BASELINE)
    for row in out:
        name = row["variant"]
        row["note"] = f"speed-up {timings[BASELINE] / timings[name]:.2f}x vs {BASELINE}"
        if name == "dask x2" and "dask x1" in timings:
            row["note"] += f", {timings['dask x1'] / timings[name]:.2f}x vs dask x1"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out[0]["note"] += (f"; fresh process per run, wall time incl. pool/cluster start and worker imports, best of {repeat}; results identical across "
                       f"variants ({len(reference or [])} points, none failed); {os.cpu_count()} CPUs, "
                       f"load average {load:.1f} at the end")
    return out
