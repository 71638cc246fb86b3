"""Timing helpers for the benchmark runner: every group measures its variants side by side in one run."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], *, repeat: int = 5, number: int = 1, warmup: int = 1) -> float:
    """Best wall time in seconds of ``number`` calls of ``fn`` over ``repeat`` rounds, after ``warmup`` calls.

    ``fn`` should block until its result is ready (call ``.block_until_ready()`` on jax outputs).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def median_time(fn: Callable[[], object], *, repeat: int = 3) -> float:
    """Median wall time of ``repeat`` single calls, no warm-up (for one-shot work such as a whole command)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rows_with_ratios(group: str, case: str, timings: dict[str, float], baseline: str, note: str = "") -> list[dict]:
    """Rows for the table: one per variant, with ``ratio = time(variant) / time(baseline)``."""
    base = timings[baseline]
    return [
        {
            "group": group,
            "case": case,
            "variant": name,
            "seconds": seconds,
            "ratio": seconds / base if base > 0 else float("nan"),
            "baseline": baseline,
            "note": note,
        }
        for name, seconds in timings.items()
    ]
