"""Small deterministic task functions for exercising the sweep runner (tests, benchmarks, demos).

They depend on nothing else in the package, so the runner's tests do not depend on the maths modules.
"""

from __future__ import annotations

import os
import time


def square(x: int, fail: bool = False, sleep: float = 0.0, die: bool = False) -> dict:
    """Return ``{"x": x, "square": x * x}``, after sleeping ``sleep`` seconds.

    ``fail=True`` raises ``ValueError``; ``die=True`` ends the worker process abruptly with ``os._exit``
    (what an out-of-memory kill looks like to the runner). Never pass ``die=True`` to the ``"serial"``
    executor: it would end the calling process.

    Examples
    --------
    >>> square(3)
    {'x': 3, 'square': 9}
    """
    if sleep:
        time.sleep(float(sleep))
    if die:
        os._exit(3)
    if fail:
        raise ValueError(f"asked to fail at x={x}")
    return {"x": x, "square": x * x}


def busy(n: int, seed: int = 0) -> dict:
    """CPU-bound point: ``n`` steps of a 61-bit linear congruential generator in pure Python.

    Holds the GIL the whole time, so only process-level parallelism speeds a sweep of these up.

    Examples
    --------
    >>> busy(3, seed=1)["value"] == busy(3, seed=1)["value"]
    True
    """
    modulus = (1 << 61) - 1
    v = (seed * 2654435761 + 12345) % modulus
    for _ in range(int(n)):
        v = (v * 6364136223846793005 + 1442695040888963407) % modulus
    return {"n": int(n), "seed": int(seed), "value": v}
