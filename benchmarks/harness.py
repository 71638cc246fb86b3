"""The benchmark harness every group uses: variants interleaved in one process, per-round ratios with their spread.

One *comparison* times a few variants of the same work. Each round calls every variant once, in a seeded random
order drawn anew each round (so no variant always runs first, or always right after the same other one), with
the garbage collector paused inside a round. For each variant the table reports

* the median time and the minimum over rounds;
* the median of the **per-round ratios** ``time(variant, round r) / time(baseline, round r)`` with their
  inter-quartile range (a ratio within one round is taken under the same machine load, so it is far steadier than
  a ratio of two separately taken medians);
* the ratio of minima ``min(variant) / min(baseline)`` (the least disturbed estimate of each);
* the rounds run and the 1-minute load average before and after, so a loaded machine shows in the table.

A *sample* is the mean of ``n`` back-to-back calls, each waited for, with ``n`` chosen once per comparison so the
baseline's sample takes at least :data:`SAMPLE_S` (like ``timeit``'s autorange): a single call of tens of
microseconds is at the mercy of one scheduler tick, and the per-round ratios of single calls spread over a
factor of two; the same ``n`` for every variant keeps the ratios per call.

Every variant is called once before timing (compilation, caches). A variant that measures its own time (work in
a child process) returns a :class:`Timed`, whose seconds are used instead of the call's wall time. Rows carry a *role*: ``reference`` (the row
the others are divided by: a tuned hand-written implementation where one exists), ``public`` (the project's
public call, input checks included), ``core`` (the jitted function behind it, called directly), ``peer``
(another library, listed only when its output was checked valid) or ``variant``.
"""

from __future__ import annotations

import gc
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: Default and minimum number of interleaved rounds for a timed comparison.
ROUNDS = 51

#: Shortest baseline sample (seconds): faster calls are repeated back to back within one sample.
SAMPLE_S = 0.005


def load_average() -> float:
    """The 1-minute load average (NaN where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - not on Linux
        return float("nan")


@dataclass(frozen=True)
class Timed:
    """What a variant returns when it measures its own time (e.g. one call inside a child process)."""

    seconds: float
    value: object = None


def _block(result: object) -> object:
    """Wait for jax results (dispatch is asynchronous); other results are returned as they are."""
    jax = sys.modules.get("jax")
    return jax.block_until_ready(result) if jax is not None else result


@dataclass
class Comparison:
    """Timings of interleaved variants, per round, and how to turn them into table rows."""

    group: str
    case: str
    baseline: str
    samples: dict[str, list[float]]
    load: tuple[float, float]
    roles: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    flops: dict[str, float] = field(default_factory=dict)
    capped: str = ""
    per: float = 1.0
    calls: int = 1

    def stats(self, name: str) -> dict:
        """Median, minimum, per-round ratio quartiles and ratio of minima of one variant against the baseline."""
        t = np.asarray(self.samples[name])
        b = np.asarray(self.samples[self.baseline])
        ratios = t / b
        q1, med, q3 = np.percentile(ratios, [25, 50, 75])
        return {"seconds": float(np.median(t)) / self.per, "min_seconds": float(t.min()) / self.per, "ratio": float(med),
                "ratio_q1": float(q1), "ratio_q3": float(q3), "ratio_of_minima": float(t.min() / b.min()),
                "rounds": int(len(t))}

    def pair_row(self, name: str, over: str, label: str, note: str = "") -> dict:
        """A row of the per-round ratio ``name / over`` of two variants (e.g. a public call over its jitted core)."""
        ratios = np.asarray(self.samples[name]) / np.asarray(self.samples[over])
        q1, med, q3 = np.percentile(ratios, [25, 50, 75])
        return {"group": self.group, "case": self.case, "variant": label, "role": "overhead", "baseline": over,
                "load": list(self.load), "seconds": float("nan"), "min_seconds": float("nan"), "ratio": float(med),
                "ratio_q1": float(q1), "ratio_q3": float(q3), "flops": None, "rounds": len(ratios),
                "ratio_of_minima": float(min(self.samples[name]) / min(self.samples[over])), "note": note}

    def rows(self) -> list[dict]:
        """One table row per variant (see :func:`benchmarks.run.to_markdown`)."""
        out = []
        for name in self.samples:
            row = {"group": self.group, "case": self.case, "variant": name, "role": self.roles.get(name, "variant"),
                   "baseline": self.baseline, "load": list(self.load), "flops": self.flops.get(name),
                   **self.stats(name)}
            notes = [self.notes.get(name, "")]
            if name in self.flops and self.flops[name] > 0:
                rate = self.flops[name] / (row["min_seconds"] * self.per)
                notes.append(f"{self.flops[name]:.3g} flops, {rate / 1e9:.1f} GFLOP/s at the minimum")
            if self.capped:
                notes.append(self.capped)
            if self.calls > 1:
                notes.append(f"{self.calls} calls per sample")
            row["note"] = "; ".join(n for n in notes if n)
            out.append(row)
        return out


def compare(group: str, case: str, variants: dict[str, Callable[[], object]], *, baseline: str | None = None,
            rounds: int = ROUNDS, roles: dict[str, str] | None = None, notes: dict[str, str] | None = None,
            flops: dict[str, float] | None = None, budget_s: float | None = None, warmup: int = 1,
            per: float = 1.0, sample_s: float = SAMPLE_S) -> Comparison:
    """Time ``variants`` interleaved for ``rounds`` rounds (after ``warmup`` calls each); see the module docstring.

    ``baseline`` (default: the first variant) is what ratios divide by. ``budget_s`` caps one-shot work that is
    too slow for ``rounds`` rounds: no round starts after ``budget_s`` seconds (at least 3 run) and the rows
    say so. Reported seconds are per call divided by ``per`` (e.g. the training steps in one call); ratios do not depend on it.
    Each sample repeats every variant's call ``n`` times, ``n`` set so the baseline's sample takes ``sample_s``
    (1 for self-timed variants and under ``budget_s``).

    Examples
    --------
    >>> c = compare("demo", "sleeps", {"short": lambda: time.sleep(0), "long": lambda: time.sleep(0.002)}, rounds=5,
    ...             sample_s=0)
    >>> [r["rounds"] for r in c.rows()], c.rows()[1]["ratio"] > 1
    ([5, 5], True)
    """
    baseline = baseline or next(iter(variants))
    names = list(variants)
    self_timed = False
    for name in names:
        for _ in range(warmup):
            self_timed |= isinstance(_block(variants[name]()), Timed)
    calls = 1
    if not self_timed and budget_s is None:
        once = math.inf
        for _ in range(3):  # the least disturbed of three calls
            t0 = time.perf_counter()
            _block(variants[baseline]())
            once = min(once, time.perf_counter() - t0)
        calls = max(1, min(1000, math.ceil(sample_s / max(once, 1e-7))))
    load0 = load_average()
    samples: dict[str, list[float]] = {n: [] for n in names}
    started, capped = time.perf_counter(), ""
    order = np.random.default_rng(0)
    for r in range(rounds):
        if budget_s is not None and r >= 3 and time.perf_counter() - started > budget_s:
            capped = f"{r} rounds (one-shot work: a {budget_s:g} s budget)"
            break
        gc.collect()
        gc.disable()
        try:
            # A fresh seeded order each round: with a rotated order each variant would always follow the same
            # one, and a call right after the same compiled function (a public call's core after the public
            # call) finds caches warm that others find cold (it made public calls look 2x their cores).
            for name in order.permutation(names):
                fn = variants[name]
                t0 = time.perf_counter()
                for _ in range(calls):
                    result = _block(fn())
                took = (time.perf_counter() - t0) / calls
                samples[name].append(result.seconds if isinstance(result, Timed) else took)
        finally:
            gc.enable()
    return Comparison(group, case, baseline, samples, (load0, load_average()), dict(roles or {}),
                      dict(notes or {}), dict(flops or {}), capped, per, calls)


def info_row(group: str, case: str, variant: str, ratio: float, baseline: str, note: str) -> dict:
    """An untimed row (a flop count or size ratio) in the same table."""
    return {"group": group, "case": case, "variant": variant, "role": "count", "baseline": baseline,
            "seconds": float("nan"), "min_seconds": float("nan"), "ratio": ratio, "ratio_q1": ratio,
            "ratio_q3": ratio, "ratio_of_minima": float("nan"), "rounds": 0, "load": [math.nan, math.nan],
            "note": note}


def overlapping(a: dict, b: dict) -> bool:
    """Whether two rows' per-round ratio IQRs overlap (used to check that two runs agree)."""
    return a["ratio_q1"] <= b["ratio_q3"] and b["ratio_q1"] <= a["ratio_q3"]
