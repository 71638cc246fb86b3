"""The statistics every study shares: intervals that stay inside the range of what they estimate, paired exact
tests and a multiple-comparison correction.

* [`wilson_interval`][tnrnn.stats.wilson_interval]: a success rate ``k / n`` with its Wilson score interval (always inside [0, 1],
  sensible at ``k = 0`` and ``k = n``, where a normal interval collapses to a point).
* [`bootstrap_interval`][tnrnn.stats.bootstrap_interval]: a statistic (the median by default) of values with a percentile bootstrap
  interval, clipped to a stated range (accuracies: [0, 1]). The resampling is seeded, so a summary is
  reproducible.
* [`sign_test`][tnrnn.stats.sign_test]: the exact two-sided sign test of paired values (ties dropped), which is McNemar's exact
  test when the values are 0/1 outcomes ([`mcnemar_exact`][tnrnn.stats.mcnemar_exact]).
* [`holm`][tnrnn.stats.holm]: Holm's step-down adjustment of a family of p-values (controls the family-wise error rate
  without assuming independence).

Nothing here knows about networks; the memory and rank-dial studies and their figures call these functions,
so every table states the same kind of interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats as _st

from tnrnn.base.errors import TnrnnError

#: Confidence level of every interval the studies report.
LEVEL = 0.95


def _level(level: float) -> float:
    if not 0.0 < float(level) < 1.0:
        raise TnrnnError(f"level must be in (0, 1), got {level}")
    return float(level)


def wilson_interval(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; inside [0, 1] by construction.

    Parameters
    ----------
    successes, trials : int
        ``0 <= successes <= trials``, ``trials >= 1``.
    level : float
        Confidence level.

    Returns
    -------
    (low, high) : tuple of float

    Raises
    ------
    TnrnnError
        Counts out of range.

    Examples
    --------
    >>> [round(v, 3) for v in wilson_interval(10, 10)]
    [0.722, 1.0]
    >>> [round(v, 3) for v in wilson_interval(3, 10)]
    [0.108, 0.603]
    """
    k, n = int(successes), int(trials)
    if n < 1 or not 0 <= k <= n:
        raise TnrnnError(f"need 0 <= successes <= trials and trials >= 1, got {k} of {n}")
    ci = _st.binomtest(k, n).proportion_ci(confidence_level=_level(level), method="wilson")
    return max(0.0, float(ci.low)), min(1.0, float(ci.high))


def success_summary(values: Sequence[float], threshold: float, level: float = LEVEL, *,
                    below: bool = False) -> dict:
    """Fraction of ``values`` at or above ``threshold`` (at or below with ``below``) with its Wilson interval.

    Examples
    --------
    >>> s = success_summary([0.95, 0.5, 0.92, 0.99], 0.9)
    >>> s["successes"], s["n"], s["rate"], [round(v, 3) for v in s["interval"]]
    (3, 4, 0.75, [0.301, 0.954])
    """
    x = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not x:
        return {"successes": 0, "n": 0, "rate": None, "interval": None}
    k = sum((v <= threshold) if below else (v >= threshold) for v in x)
    return {"successes": int(k), "n": len(x), "rate": k / len(x), "interval": list(wilson_interval(k, len(x), level))}


def bootstrap_interval(
    values: Sequence[float],
    statistic: Callable[[np.ndarray], float] = np.median,
    *,
    level: float = LEVEL,
    bounds: tuple[float, float] | None = (0.0, 1.0),
    resamples: int = 4000,
    seed: int = 0,
) -> dict:
    """A statistic of ``values`` with a seeded percentile-bootstrap interval, clipped to ``bounds``.

    Parameters
    ----------
    values : sequence of float
        None and non-finite entries are dropped.
    statistic : callable
        Of a 1-d array (default the median).
    level : float
    bounds : (low, high) or None
        The range of the quantity (accuracies: [0, 1]); the interval never leaves it. None: no clipping.
    resamples : int
    seed : int
        Seeds the resampling (the same values give the same interval).

    Returns
    -------
    dict
        ``value``, ``interval`` ([low, high]; None for fewer than two values), ``n``.

    Examples
    --------
    >>> r = bootstrap_interval([0.9, 0.95, 1.0, 1.0, 0.97])
    >>> r["value"], r["n"], 0.0 <= r["interval"][0] <= r["value"] <= r["interval"][1] <= 1.0
    (0.97, 5, True)
    """
    x = np.asarray([float(v) for v in values if v is not None and math.isfinite(float(v))], dtype=float)
    if x.size == 0:
        return {"value": None, "interval": None, "n": 0}
    value = float(statistic(x))
    if x.size < 2:
        return {"value": value, "interval": None, "n": 1}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(int(resamples), x.size))
    boots = np.apply_along_axis(statistic, 1, x[idx])
    alpha = (1.0 - _level(level)) / 2
    lo, hi = (float(v) for v in np.quantile(boots, [alpha, 1.0 - alpha]))
    if bounds is not None:
        lo, hi = max(bounds[0], lo), min(bounds[1], hi)
    return {"value": value, "interval": [lo, hi], "n": int(x.size)}


def sign_test(a: Sequence[float], b: Sequence[float]) -> dict:
    """Exact two-sided sign test of paired values ``a[i]`` against ``b[i]`` (ties dropped).

    Returns
    -------
    dict
        ``n`` pairs, ``a_better`` and ``b_better`` counts, ``ties``, ``p_value`` (1.0 when every pair ties).

    Raises
    ------
    TnrnnError
        Sequences of different lengths.

    Examples
    --------
    >>> r = sign_test([1, 1, 1, 1, 1, 1, 1, 0, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    >>> r["a_better"], r["b_better"], r["ties"], round(r["p_value"], 4)
    (8, 0, 2, 0.0078)
    """
    if len(a) != len(b):
        raise TnrnnError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    pairs = [(float(x), float(y)) for x, y in zip(a, b) if x is not None and y is not None]
    up = sum(x > y for x, y in pairs)
    down = sum(x < y for x, y in pairs)
    p = 1.0 if up + down == 0 else float(_st.binomtest(up, up + down, 0.5).pvalue)
    return {"n": len(pairs), "a_better": int(up), "b_better": int(down), "ties": len(pairs) - up - down,
            "p_value": p}


def mcnemar_exact(a: Sequence[bool], b: Sequence[bool]) -> dict:
    """McNemar's exact test of paired binary outcomes (the sign test on the discordant pairs).

    Examples
    --------
    >>> r = mcnemar_exact([True] * 9 + [False], [False] * 8 + [True, True])
    >>> r["a_better"], r["b_better"], round(r["p_value"], 4)
    (8, 1, 0.0391)
    """
    return sign_test([int(bool(x)) for x in a], [int(bool(y)) for y in b])


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given.

    Examples
    --------
    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03, 0.5])]
    [0.04, 0.09, 0.09, 0.5]
    """
    p = [float(v) for v in p_values]
    if any(not 0.0 <= v <= 1.0 for v in p):
        raise TnrnnError(f"p-values must lie in [0, 1], got {p}")
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted
