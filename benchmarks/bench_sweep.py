"""Sweep runner: 1 vs 2 workers on CPU-bound points of about a second, cold and warm, local pool and Dask.

Points are ``tnrnn.sweep.demo:busy`` (pure Python, holds the GIL: only process parallelism helps), sized so one
point takes about a second on this machine (calibrated at the start of the run). Variants:

- ``local x1`` / ``local x2``: one ``run_sweep`` call in a fresh Python process (pool start-up and worker
  imports included: what one ``tnrnn table`` command waits for);
- ``local x2 warm``: the second of two sweeps in one process, on the kept pool (workers already started and
  imported: what the capacity studies and library users get from the second sweep on);
- ``dask x1`` / ``dask x2`` (when distributed is installed, full run only): a fresh local cluster each.

All variants run in interleaved rounds (:mod:`harness`), cut to a time budget (the table states how many).

Every variant must return the same results (checked here; metadata fields excepted). The speed-ups are
ratios measured side by side in one run; on a shared machine they depend on its load, reported in the notes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import Timed, compare

from tnrnn.sweep import point_key, read_results
from tnrnn.sweep.demo import busy

ROOT = Path(__file__).resolve().parents[1]
GROUP = "sweep"
BASELINE = "local x1"
TASK = "tnrnn.sweep.demo:busy"
METADATA = ("seconds", "worker", "traceback", "digest")

_RUNNER = """
import json, sys, time
from tnrnn.sweep import run_sweep
if __name__ == "__main__":
    task, points, results, kwargs, warm = json.loads(sys.argv[1])
    if warm:  # a first sweep on other points starts the kept pool and its workers' imports
        run_sweep(task, points[:2], None, progress=False, **kwargs)  # results=None: nothing is reused
    t0 = time.perf_counter()
    run_sweep(task, points, results, progress=False, **kwargs)
    print(json.dumps(time.perf_counter() - t0))
"""


def _steps_per_cpu_second() -> float:
    # CPU time, not wall time: on a shared machine the wall time of the calibration depends on the load.
    n = 200_000
    t0 = time.process_time()
    busy(n)
    return n / (time.process_time() - t0)


def _timed(points: list[dict], warm: bool = False, task: str = TASK, **kwargs) -> tuple[float, list[dict]]:
    """Seconds of one ``run_sweep`` call in a fresh Python process, and its records."""
    with tempfile.TemporaryDirectory() as tmp:
        results = str(Path(tmp) / "results.jsonl")
        script = Path(tmp) / "run_sweep_once.py"  # a file, not -c: worker processes re-import the main module
        script.write_text(_RUNNER)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        out = subprocess.run([sys.executable, str(script), json.dumps([task, points, results, kwargs, warm])],
                             capture_output=True, text=True, env=env, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"sweep variant {kwargs} failed: {out.stderr[-2000:]}")
        seconds = json.loads(out.stdout.strip().splitlines()[-1])
        stored = read_results(results).records
        return seconds, [stored[point_key(task, p)] for p in points]


def _strip(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in METADATA} for r in records]


def rows(quick: bool, rounds: int) -> list[dict]:
    n = max(10_000, int(_steps_per_cpu_second() * (0.25 if quick else 1.0)))
    count = 4 if quick else 8
    points = [{"n": n, "seed": s} for s in range(count)]
    case = f"{count} busy points of ~{0.25 if quick else 1.0:g} CPU-s ({n:,} steps)"
    configs: dict[str, tuple[dict, bool]] = {
        "local x1": ({"executor": "local", "workers": 1}, False),
        "local x2": ({"executor": "local", "workers": 2}, False),
        "local x2 warm": ({"executor": "local", "workers": 2}, True),
    }
    if not quick:
        try:
            import distributed  # noqa: F401

            configs["dask x1"] = ({"executor": "dask", "workers": 1}, False)
            configs["dask x2"] = ({"executor": "dask", "workers": 2}, False)
        except ImportError:
            pass
    reference: list = []

    def variant(name: str, kwargs: dict, warm: bool):
        def call() -> Timed:
            seconds, records = _timed(points, warm=warm, **kwargs)
            if not reference:
                reference.append(_strip(records))
            elif _strip(records) != reference[0]:
                raise AssertionError(f"sweep variant {name!r} returned different results")
            return Timed(seconds)
        return call

    # Seconds-long runs in fresh processes: interleaved rounds cut to a time budget (the table says how many).
    variants = {name: variant(name, kw, warm) for name, (kw, warm) in configs.items()}
    out = compare(GROUP, case, variants, rounds=rounds, budget_s=120 if quick else 300, warmup=0).rows()
    if any(r["status"] != "ok" for r in reference[0]):
        raise AssertionError("sweep points failed; timings would be meaningless")
    base = out[0]["seconds"]
    for row in out:
        row["note"] = f"speed-up {base / row['seconds']:.2f}x vs {BASELINE}; " + row["note"]
    out += _sleep_rows(count, 0.25 if quick else 1.0, rounds)
    out[0]["note"] += ("; fresh process per run; results identical across variants (a shared machine: ratios "
                       "below 2x measure the contention as much as the runner)")
    return out


def _sleep_rows(count: int, seconds: float, rounds: int) -> list[dict]:
    """The runner's own parallelism, apart from CPU contention: points that sleep (use no CPU) on 1 and 2 workers."""
    task = "tnrnn.sweep.demo:square"
    points = [{"x": i, "sleep": seconds} for i in range(count)]
    variants = {name: (lambda w=workers: Timed(_timed(points, task=task, executor="local", workers=w)[0]))
                for name, workers in (("local x1", 1), ("local x2", 2))}
    out = compare(GROUP, f"{count} points sleeping {seconds:g} s (no CPU: the runner's overhead only)", variants,
                  rounds=rounds, budget_s=60, warmup=0).rows()
    for row in out:
        row["note"] = f"speed-up {out[0]['seconds'] / row['seconds']:.2f}x vs local x1; " + row["note"]
    return out
