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


def flax_gru_chunk(task, width: int, config, key):
    """flax's ``nn.RNN(nn.GRUCell)`` with a dense read-out, in tnrnn's own training chunk, for side-by-side rows.

    Returns ``(run_chunk, params, opt_state)`` ready to time, or ``None`` when flax (the ``bench`` extra) is absent.
    """
    try:
        import flax.linen as nn
    except ImportError:
        return None
    from tnrnn.memory.fit import sequence_loss
    from tnrnn.memory.train import make_optimizer, make_train_chunk

    class FlaxGRU(nn.Module):
        width: int
        n_out: int

        @nn.compact
        def __call__(self, x):
            return nn.Dense(self.n_out)(nn.RNN(nn.GRUCell(features=self.width))(x))

    model = FlaxGRU(width, task.n_out)
    params = model.init(key, task.sample(key, config.batch_size).inputs)

    def loss_fn(p, batch):
        return sequence_loss(model.apply(p, batch.inputs), batch.targets, batch.mask)

    return make_train_chunk(loss_fn, task.sample, config), params, make_optimizer(config).init(params)
