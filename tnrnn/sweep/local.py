"""The local executor: a process pool whose workers stay warm across points and across sweeps.

One pool (per start method and size) is kept for the life of the calling process, so a second sweep in the
same process (the capacity studies run several) reuses workers whose imports and compiled code are loaded.
A worker that dies breaks the pool; the pool is then replaced and the points that were running are rerun
one at a time, so only a point that kills its worker by itself is recorded as such.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.sweep.worker import DIED_ERROR, error_text, infra_outcome, ping, run_point, worker_init

__all__ = ["run_local", "shutdown_pool", "SweepExecutorError", "usable_cpus"]

Record = Callable[[str, dict], None]


class SweepExecutorError(TnrnnError):
    """Bad executor, worker count or scheduler address, or a cluster that cannot be reached or has no worker."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the system has one).

    Examples
    --------
    >>> usable_cpus() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_POOL: dict[str, Any] = {"key": None, "pool": None}


def _mp_context(task: str) -> Any:
    # Never fork a parent that may have started jax/XLA threads: forkserver (or spawn) gives clean workers.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Import the task's module once, in the fork server (which runs no computation, so forking it is safe),
    # rather than in every worker: jax-heavy modules take seconds to import. This only takes effect when the
    # server starts, i.e. with the first process pool of this Python process.
    ctx.set_forkserver_preload(["__main__", "tnrnn.sweep.worker", task.split(":")[0]])
    return ctx


def _warm_pool(task: str, workers: int) -> ProcessPoolExecutor:
    """The kept pool of ``workers`` processes, started (and checked to run at all) when there is none."""
    ctx = _mp_context(task)
    key = f"{ctx.get_start_method()}:{workers}"
    if _POOL["key"] == key and _POOL["pool"] is not None:
        return _POOL["pool"]
    shutdown_pool()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=worker_init,
                               initargs=(os.getpid(),))
    try:
        # A pool whose workers cannot start at all would otherwise look like every point killing its worker.
        pool.submit(ping).result()
    except BrokenProcessPool:
        _stop_pool(pool)
        raise SweepExecutorError(
            "the local worker processes could not start (see the messages above); run from a script file "
            "guarded by `if __name__ == '__main__':`, or use executor='serial'"
        ) from None
    _POOL.update(key=key, pool=pool)
    return pool


def shutdown_pool() -> None:
    """Stop the kept worker pool, if any (also run at interpreter exit)."""
    pool, _POOL["pool"], _POOL["key"] = _POOL["pool"], None, None
    if pool is not None:
        _stop_pool(pool)


atexit.register(shutdown_pool)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, killing workers still busy with a point (shutdown alone would wait for them)."""
    if _POOL["pool"] is pool:
        _POOL.update(key=None, pool=None)
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.join(timeout=2)


def run_local(task: str, todo: list[str], params: dict[str, dict], record: Record, workers: int) -> None:
    """Run the points ``todo`` on the warm pool, calling ``record(key, outcome)`` in this process as each ends."""
    queue = deque(todo)
    # Points that were in flight when a worker died. Until they are resolved they run one at a time, so the
    # point that kills its worker is identified exactly and the innocent ones still finish.
    suspects: set[str] = set()
    started: dict[str, float] = {}
    order = {key: i for i, key in enumerate(todo)}
    while queue:
        pool = _warm_pool(task, workers)
        inflight: dict[Future, str] = {}
        try:
            broken = _drain(pool, task, queue, params, record, workers, inflight, suspects, started, order)
        except KeyboardInterrupt:
            # Keep points that finished while we were being interrupted, then stop the workers.
            for fut, key in list(inflight.items()):
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    record(key, fut.result())
            _stop_pool(pool)
            raise
        except BaseException:
            _stop_pool(pool)
            raise
        if broken:
            # Not shutdown(wait=True): a worker spawned by a submit racing the break is missed by the
            # executor's own clean-up (CPython 3.11), which then waits for it forever.
            _stop_pool(pool)


def _drain(pool: ProcessPoolExecutor, task: str, queue: deque, params: dict[str, dict], record: Record,
           workers: int, inflight: dict[Future, str], suspects: set[str], started: dict[str, float],
           order: dict[str, int]) -> bool:
    """Submit and collect points until the queue is empty (False) or a worker died (True)."""
    while queue or inflight:
        broken = False
        # At most one point per worker in flight, so a pool break implicates only running points.
        limit = 1 if suspects else workers
        while queue and len(inflight) < limit:
            try:
                fut = pool.submit(run_point, task, params[queue[0]])
            except BrokenProcessPool:  # a worker died since the last wait
                broken = True
                break
            key = queue.popleft()
            inflight[fut] = key
            started[key] = time.perf_counter()
        if not broken:
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
        if broken:
            wait(inflight)  # the executor fails every in-flight future at once; collect them all
            done = set(inflight)
        casualties = []
        for fut in done:
            # Popped only once recorded: an interrupt in between leaves it to the caller's handler.
            key = inflight[fut]
            exc = fut.exception()
            if exc is None:
                suspects.discard(key)
                record(key, fut.result())
            elif isinstance(exc, BrokenProcessPool):
                casualties.append(key)
            else:  # run_point catches Exception, so this is an infrastructure failure
                suspects.discard(key)
                record(key, infra_outcome(error_text(exc), started[key]))
            del inflight[fut]
        if len(casualties) == 1:
            suspects.discard(casualties[0])
            record(casualties[0], infra_outcome(DIED_ERROR, started[casualties[0]], "BrokenProcessPool"))
        elif casualties:
            suspects.update(casualties)
            queue.extendleft(sorted(casualties, key=order.__getitem__, reverse=True))
        if broken:
            return True
    return False
