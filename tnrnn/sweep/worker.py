"""The worker side of a sweep: plain ``(task, params)`` in, the outcome part of a record out.

Workers stay warm: the task function is resolved once per process ([`resolve`][tnrnn.sweep.worker.resolve] is cached), so imports and
whatever the task caches (jitted functions, compiled plans) are reused by every later point on that worker.
Workers also die with the sweep that started them ([`worker_init`][tnrnn.sweep.worker.worker_init]): a parent-death signal plus a
watchdog thread on the parent's pid, so a ``kill -9`` of the parent leaves no worker computing for nobody.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import select
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from tnrnn.base.io import _default as _json_default

__all__ = ["run_point", "resolve", "worker_init", "ping", "error_text", "infra_outcome", "DIED_ERROR"]

_TRACEBACK_LINES = 30
_PR_SET_PDEATHSIG = 1

# The same text whichever executor saw the death, so records stay identical across executors.
DIED_ERROR = ("WorkerDied: the worker process died while running this point (killed by a signal, out of memory, "
              "or exited)")


@lru_cache(maxsize=64)
def resolve(task: str) -> Callable[..., Any]:
    """Import ``"package.module:function"`` once per process and return the function.

    Examples
    --------
    >>> resolve("tnrnn.sweep.demo:square")(2)
    {'x': 2, 'square': 4}
    """
    module_name, func_name = task.split(":")
    module = importlib.import_module(module_name)
    try:
        fn = getattr(module, func_name)
    except AttributeError:
        raise AttributeError(f"module {module_name!r} has no attribute {func_name!r}") from None
    if not callable(fn):
        raise TypeError(f"{task!r} is not callable")
    return fn


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def error_text(exc: BaseException) -> str:
    """``"ExcType: message"`` on one line.

    Examples
    --------
    >>> error_text(ValueError("bad\\n  value"))
    'ValueError: bad value'
    """
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def run_point(task: str, params: dict) -> dict:
    """Run ``task(**params)`` and return the outcome part of a record; an ``Exception`` is returned, not raised.

    Examples
    --------
    >>> out = run_point("tnrnn.sweep.demo:square", {"x": 3})
    >>> out["status"], out["result"]
    ('ok', {'x': 3, 'square': 9})
    >>> run_point("tnrnn.sweep.demo:square", {"x": 3, "fail": True})["error"]
    'ValueError: asked to fail at x=3'
    """
    t0 = time.perf_counter()
    try:
        result = resolve(task)(**params)
        if not isinstance(result, dict):
            raise TypeError(f"task {task!r} returned {type(result).__name__}, expected a dict")
        try:
            # Round-trip through JSON here so every executor hands back the same plain data as a rerun that
            # reads the file (tuples become lists, numpy scalars become Python numbers).
            result = json.loads(json.dumps(result, default=_json_default))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"task {task!r} returned a dict that is not JSON-serialisable: {exc}") from None
        return {"status": "ok", "result": result, "error": None, "traceback": None,
                "seconds": time.perf_counter() - t0, "worker": _worker_id()}
    except Exception as exc:  # noqa: BLE001 - a failing point is data, not a crash of the sweep
        tb = traceback.format_exc().splitlines()[-_TRACEBACK_LINES:]
        return {"status": "error", "result": None, "error": error_text(exc), "traceback": "\n".join(tb),
                "seconds": time.perf_counter() - t0, "worker": _worker_id()}


def infra_outcome(error: str, started: float, detail: str | None = None) -> dict:
    """Outcome of a point that produced no outcome of its own (its worker died, the cluster failed it)."""
    return {"status": "error", "result": None, "error": error, "traceback": detail,
            "seconds": time.perf_counter() - started, "worker": None}


def ping() -> int:
    """A no-op task: the worker's pid (checks that a worker runs at all)."""
    return os.getpid()


def _set_parent_death_signal() -> None:
    # Linux only: the kernel sends SIGKILL to this process when the thread that forked it exits. In a
    # forkserver worker that is the (single-threaded) fork server, which itself exits with the sweep parent.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _wait_for_exit(pid: int) -> None:
    """Block until process ``pid`` ends (a pidfd where available, else polling)."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = -1
    if fd >= 0:
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            poller.poll()
            return
        finally:
            os.close(fd)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        time.sleep(0.5)


def _watchdog(parent: int) -> None:
    _wait_for_exit(parent)
    os._exit(70)  # no clean-up: the parent that would read our results is gone


def worker_init(parent_pid: int | None = None) -> None:
    """Initializer of every local pool worker: ignore SIGINT, and die with ``parent_pid``.

    Ctrl-C reaches the whole process group; only the parent should react (it stops the pool itself),
    otherwise every worker would print a KeyboardInterrupt traceback. The watchdog thread covers what the
    parent-death signal cannot (a fork server that outlives the parent, or a non-Linux system).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_parent_death_signal()
    # tqdm's default lock includes a multiprocessing RLock, a named semaphore registered with the resource
    # tracker (a forkserver worker's default context is forkserver). A worker stopped by an interrupt never
    # unregisters it, and the tracker then prints a "leaked semaphore" warning after tnrnn's one-line message.
    # Bars in a worker are never shown concurrently with another process's: a thread lock is enough.
    with contextlib.suppress(ImportError):
        from tqdm import tqdm

        tqdm.set_lock(threading.RLock())
    if parent_pid is not None:
        threading.Thread(target=_watchdog, args=(parent_pid,), name="tnrnn-parent-watchdog", daemon=True).start()
