"""Resumable parameter sweeps on a local process pool or a Dask cluster.

A sweep is a task function named by a string (``"package.module:function"``) and a list of plain parameter
dicts. Each point runs as ``function(**params)`` in a worker and returns a JSON-serialisable dict. The parent
process is the only writer of the results file, and holds a lock on it while the sweep runs. Each finished
point is appended as one whole JSON line (one ``os.write``; :func:`tnrnn.base.io.read_jsonl` reads the file), so an
interrupted sweep (Ctrl-C, SIGTERM, a killed worker) keeps every point that finished, and rerunning the same
command skips them. Lines reach the disk (``fsync``) at least once a second and when the sweep ends, so even
a machine crash loses at most the last second.

A point that raises is recorded with its error and the sweep goes on. A point whose worker process dies is
recorded with :data:`DIED_ERROR`. Before blaming a point, the runner reruns it alone, so points that shared
the dead worker's pool (or Dask worker) still finish.

Record format (one JSON object per line)::

    {"key": str, "task": str, "params": dict, "status": "ok" | "error", "result": dict | None,
     "error": "ExcType: message" | None, "seconds": float, "worker": "host:pid", "traceback": str | None}

``seconds``, ``worker`` and ``traceback`` are metadata: a point's ``result`` depends only on its params,
whichever executor ran it.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "sweep.jsonl")
>>> recs = run_sweep("tnrnn.sweep_demo:square", [{"x": 2}, {"x": 3}], path, executor="serial", progress=False)
>>> [r["result"]["square"] for r in recs]
[4, 9]
>>> sorted(r["result"]["square"] for r in load_results(path).values())
[4, 9]
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import math
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from pathlib import Path
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import _default as _json_default
from tnrnn.base.io import read_jsonl

__all__ = ["run_sweep", "point_key", "load_results", "SweepExecutorError", "EXECUTORS", "DIED_ERROR"]

EXECUTORS = ("local", "dask", "serial")

_TASK_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
_TRACEBACK_LINES = 30


class SweepExecutorError(TnrnnError):
    """Bad executor, worker count or scheduler address, or a Dask scheduler that cannot be reached."""


# --------------------------------------------------------------------------------------------------------------
# keys and records


def _canonical_json(obj: Any, what: str) -> str:
    try:
        return json.dumps(
            obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
        )
    except (TypeError, ValueError) as exc:
        raise TnrnnError(f"{what} must be JSON-serialisable with finite numbers: {exc}") from None


def _check_task_form(task: Any) -> str:
    if not isinstance(task, str) or not _TASK_RE.match(task):
        raise TnrnnError(
            f"task must be a string 'package.module:function' (e.g. 'tnrnn.sweep_demo:square'), got {task!r}"
        )
    return task


def _check_params(params: Any, index: int | None = None) -> None:
    where = "params" if index is None else f"point {index}"
    if not isinstance(params, dict):
        raise TnrnnError(f"{where} must be a dict of keyword arguments, got {type(params).__name__}: {params!r}")
    bad = [k for k in params if not isinstance(k, str)]
    if bad:
        raise TnrnnError(f"{where} has non-string keys {bad!r}; points are passed as function(**params)")


def point_key(task: str, params: dict) -> str:
    """Canonical key of one sweep point: a hash of the sorted-key JSON of ``{"task", "params"}``.

    Equal parameter dicts give equal keys regardless of key order; ``1`` and ``1.0`` are different points.

    Parameters
    ----------
    task : str
        ``"package.module:function"``.
    params : dict
        JSON-serialisable keyword arguments (numpy scalars and arrays are converted).

    Returns
    -------
    str
        20 hexadecimal digits.

    Raises
    ------
    TnrnnError
        If ``task`` is not of the form ``"package.module:function"`` or ``params`` is not a JSON-serialisable
        dict with string keys and finite numbers.

    Examples
    --------
    >>> point_key("m:f", {"a": 1, "b": 2}) == point_key("m:f", {"b": 2, "a": 1})
    True
    >>> point_key("m:f", {"a": 1}) == point_key("m:g", {"a": 1})
    False
    """
    _check_task_form(task)
    _check_params(params)
    return _hash(_canonical_json({"task": task, "params": params}, "params"))


def _hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:20]


def load_results(results: str | os.PathLike) -> dict[str, dict]:
    """Read a sweep results file: point key -> latest record for that key.

    A torn last line (left by a process killed mid-write) and lines that are not sweep records are skipped;
    a missing file reads as empty.

    Examples
    --------
    >>> load_results("/nonexistent/sweep.jsonl")
    {}
    """
    latest: dict[str, dict] = {}
    for rec in read_jsonl(results):
        if isinstance(rec, dict) and isinstance(rec.get("key"), str) and rec.get("status") in ("ok", "error"):
            latest[rec["key"]] = rec
    return latest


# --------------------------------------------------------------------------------------------------------------
# the worker side: plain (task, params) in, plain dict out


@lru_cache(maxsize=64)
def _resolve(task: str) -> Callable[..., Any]:
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


def _run_point(task: str, params: dict) -> dict:
    """Worker entry point: run ``task(**params)`` and return the outcome part of a record (never raises on
    an ``Exception`` from the task; the error is returned instead).
    """
    t0 = time.perf_counter()
    try:
        result = _resolve(task)(**params)
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
        return {"status": "error", "result": None, "error": _error_text(exc), "traceback": "\n".join(tb),
                "seconds": time.perf_counter() - t0, "worker": _worker_id()}


def _error_text(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _ping() -> int:
    return os.getpid()


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group; only the parent should react (it stops the pool itself),
    # otherwise every worker would report a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# --------------------------------------------------------------------------------------------------------------
# the parent side


def _validate_task(task: Any) -> None:
    _check_task_form(task)
    module_name, func_name = task.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is a bad task for the user
        raise TnrnnError(f"task {task!r}: cannot import module {module_name!r} ({_error_text(exc)})") from None
    fn = getattr(module, func_name, None)
    if fn is None:
        raise TnrnnError(f"task {task!r}: module {module_name!r} has no function {func_name!r}")
    if not callable(fn):
        raise TnrnnError(f"task {task!r}: {func_name!r} is not callable")


def _validate_executor(executor: Any, workers: Any, scheduler: Any) -> tuple[str, int]:
    if executor not in EXECUTORS:
        raise SweepExecutorError(f"executor must be one of {', '.join(map(repr, EXECUTORS))}, got {executor!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SweepExecutorError(f"workers must be an integer >= 1, got {workers!r}")
    if scheduler is not None:
        if not isinstance(scheduler, str) or not re.match(r"^[a-z]+://\S+$|^[^\s:/]+:\d+$", scheduler):
            raise SweepExecutorError(
                f"scheduler must be a Dask scheduler address such as 'tcp://HOST:PORT', got {scheduler!r}"
            )
        if executor == "serial":
            raise SweepExecutorError("a scheduler address runs the sweep on Dask; it cannot be combined with "
                                     "executor='serial'")
        executor = "dask"
    return executor, workers


def _prepare_points(task: str, points: Any) -> tuple[list[str], dict[str, dict]]:
    if isinstance(points, (str, bytes, dict)) or not isinstance(points, Iterable):
        raise TnrnnError(f"points must be a list of parameter dicts, got {type(points).__name__}")
    keys: list[str] = []
    params_by_key: dict[str, dict] = {}
    for i, params in enumerate(points):
        _check_params(params, i)
        text = _canonical_json({"task": task, "params": params}, f"point {i} ({params!r})")
        key = _hash(text)
        keys.append(key)
        if key not in params_by_key:
            # Workers get the JSON-normalised params: exactly what a rerun reading the file would pass.
            params_by_key[key] = json.loads(text)["params"]
    return keys, params_by_key


class _ResultsAppender:
    """The single writer of a results file, holding an exclusive lock on it for the whole sweep.

    Each record is one ``os.write`` of a whole line on an ``O_APPEND`` descriptor: once the call returns, the
    line survives the process being killed (it is in the kernel), and a reader never sees half of it unless
    the machine itself fails mid-write. ``fsync`` (durability across an OS crash or power loss) is batched to
    at most one per ``sync_seconds``, plus one on close: one per record costs milliseconds on many disks,
    more than a cheap point takes to compute.
    """

    def __init__(self, path: Path, sync_seconds: float = 1.0) -> None:
        self.path = path
        self.sync_seconds = sync_seconds
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise TnrnnError(f"cannot open results file {str(path)!r}: {exc.strerror or exc}") from None
        try:
            self._lock()
            # A process killed mid-write (or a full disk) can leave a last line without its newline; appending
            # right after it would glue the next record onto the torn one and lose both.
            size = os.fstat(self.fd).st_size
            if size and os.lseek(self.fd, size - 1, os.SEEK_SET) >= 0 and os.read(self.fd, 1) != b"\n":
                self._write(b"\n")
        except BaseException:
            os.close(self.fd)
            raise
        self._last_sync = time.monotonic()

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, a single writer is the user's job
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise TnrnnError(
                f"results file {str(self.path)!r} is being written by another running sweep; wait for it to "
                "finish or choose another results file"
            ) from None

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:  # a regular file takes it in one call; the loop only matters on a full disk or NFS
            view = view[os.write(self.fd, view):]

    def append(self, record: dict) -> None:
        self._write((json.dumps(record, sort_keys=True, default=_json_default) + "\n").encode("utf-8"))
        if time.monotonic() - self._last_sync >= self.sync_seconds:
            os.fsync(self.fd)
            self._last_sync = time.monotonic()

    def close(self) -> None:
        if self.fd < 0:
            return
        try:
            os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = -1


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the sweep runs, SIGTERM behaves like Ctrl-C (finished points are kept, the pool is stopped)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"received signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def run_sweep(
    task: str,
    points: list[dict],
    results: str | os.PathLike | None,
    *,
    executor: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    retry_errors: bool = True,
    progress: bool = True,
    desc: str = "sweep",
    connect_timeout: float = 10.0,
) -> list[dict]:
    """Run ``task(**params)`` for every point, appending one record per finished point to ``results``.

    Points already finished in ``results`` (status ``"ok"``, or ``"error"`` when ``retry_errors`` is false)
    are skipped; duplicate points run once. A point that raises is recorded with its error and the sweep goes
    on; a point whose worker process dies (killed, out of memory, ``os._exit``) is recorded as an error too.
    Ctrl-C or SIGTERM stops the workers, keeps every record already written and re-raises
    ``KeyboardInterrupt``.

    Parameters
    ----------
    task : str
        ``"package.module:function"``, imported in each worker and called as ``function(**params)``; it must
        return a JSON-serialisable dict that depends only on ``params``.
    points : list of dict
        JSON-serialisable keyword-argument dicts (any iterable of them).
    results : str, path or None
        JSON-lines results file (created if missing). ``None`` keeps nothing on disk (no resume).
    executor : {"local", "dask", "serial"}
        ``"local"``: a process pool of ``workers`` processes. ``"dask"``: a Dask cluster, the one at
        ``scheduler`` or else a ``LocalCluster`` of ``workers`` single-threaded processes. ``"serial"``: in
        this process (debugging).
    workers : int
        Local pool size, or the size of the Dask ``LocalCluster`` started when no ``scheduler`` is given.
    scheduler : str, optional
        Address of a running Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``; implies ``executor="dask"``.
    retry_errors : bool
        Rerun points whose stored record is an error (default) instead of keeping the error.
    progress : bool
        Show a tqdm bar on stderr (done/total, skipped and error counts).
    desc : str
        Label of the progress bar.
    connect_timeout : float
        Seconds to wait for the Dask scheduler at ``scheduler``.

    Returns
    -------
    list of dict
        One record per point, in the order of ``points`` (see the module docstring for the fields).

    Raises
    ------
    TnrnnError
        Malformed ``task``, a task that cannot be imported, non-dict or non-JSON-serialisable points, or a
        results file held by another running sweep; raised before any point runs.
    SweepExecutorError
        Unknown executor, bad ``workers``/``scheduler``, Dask missing, or an unreachable scheduler.
    KeyboardInterrupt
        On Ctrl-C or SIGTERM, after the workers are stopped; finished records stay in ``results``.

    Examples
    --------
    >>> recs = run_sweep("tnrnn.sweep_demo:square", [{"x": 4}, {"x": 5, "fail": True}], None,
    ...                  executor="serial", progress=False)
    >>> [(r["status"], r["result"], r["error"]) for r in recs]
    [('ok', {'x': 4, 'square': 16}, None), ('error', None, 'ValueError: asked to fail at x=5')]
    """
    executor, workers = _validate_executor(executor, workers, scheduler)
    _check_task_form(task)
    keys, params_by_key = _prepare_points(task, points)
    _validate_task(task)
    if not isinstance(connect_timeout, (int, float)) or not math.isfinite(connect_timeout) or connect_timeout <= 0:
        raise SweepExecutorError(f"connect_timeout must be a positive number of seconds, got {connect_timeout!r}")
    path = Path(results) if results is not None else None

    writer = _ResultsAppender(path) if path is not None else None
    try:
        stored = load_results(path) if path is not None else {}
        final: dict[str, dict] = {}
        todo: list[str] = []
        for key in params_by_key:
            rec = stored.get(key)
            if rec is not None and (rec["status"] == "ok" or not retry_errors):
                final[key] = rec
            else:
                todo.append(key)

        from tqdm.auto import tqdm

        stack = contextlib.ExitStack()
        if executor == "dask" and todo:
            # Connect (or start the LocalCluster) before the bar: an unreachable scheduler fails cleanly here.
            client = stack.enter_context(_dask_client(workers, scheduler, float(connect_timeout)))
        bar = tqdm(total=len(params_by_key), initial=len(final), desc=desc, unit="pt", file=sys.stderr,
                   disable=not progress, dynamic_ncols=True)
        n_errors = 0

        def record(key: str, outcome: dict) -> None:
            nonlocal n_errors
            rec = {"key": key, "task": task, "params": params_by_key[key], **outcome}
            if writer is not None:
                writer.append(rec)
            final[key] = rec
            n_errors += rec["status"] == "error"
            bar.set_postfix(skipped=len(params_by_key) - len(todo), errors=n_errors, refresh=False)
            bar.update(1)

        bar.set_postfix(skipped=len(final), errors=0, refresh=False)
        try:
            with stack, _sigterm_as_interrupt():
                if todo:
                    if executor == "serial":
                        for key in todo:
                            record(key, _run_point(task, params_by_key[key]))
                    elif executor == "local":
                        _run_local(task, todo, params_by_key, record, workers)
                    else:
                        _run_dask(task, todo, params_by_key, record, client)
        finally:
            bar.close()
    finally:
        if writer is not None:
            writer.close()
    return [dict(final[key]) for key in keys]


# --------------------------------------------------------------------------------------------------------------
# executors: each runs the points in `todo` and calls record(key, outcome) in the parent as they finish


def _mp_context(task: str):
    import multiprocessing

    # Never fork a parent that may have started jax/XLA threads: forkserver (or spawn) gives clean workers.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Import the task's module once, in the fork server (which runs no computation, so forking it is safe),
    # rather than in every worker of every pool: jax-heavy modules take seconds to import. This only takes
    # effect when the server starts, i.e. with the first process pool of this Python process.
    ctx.set_forkserver_preload(["__main__", __name__, task.split(":")[0]])
    return ctx


def _infra_outcome(error: str, started: float, detail: str | None = None) -> dict:
    """Outcome of a point that produced no outcome of its own (its worker died, the cluster failed it)."""
    return {"status": "error", "result": None, "error": error, "traceback": detail,
            "seconds": time.perf_counter() - started, "worker": None}


# The same text whichever executor saw the death, so records stay identical across executors.
DIED_ERROR = ("WorkerDied: the worker process died while running this point (killed by a signal, out of memory, "
              "or exited)")


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, killing workers still busy with a point (shutdown alone would wait for them)."""
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


def _run_local(task: str, todo: list[str], params: dict[str, dict], record: Callable[[str, dict], None],
               workers: int) -> None:
    queue = deque(todo)
    # Points that were in flight when a worker died. Until they are resolved they run one at a time, so the
    # point that kills its worker is identified exactly and the innocent ones still finish.
    suspects: set[str] = set()
    ctx = _mp_context(task)
    started: dict[str, float] = {}
    order = {key: i for i, key in enumerate(todo)}
    while queue:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(queue)), mp_context=ctx, initializer=_worker_init)
        inflight: dict[Future, str] = {}
        try:
            # A pool whose workers cannot start at all would otherwise look like every point killing its
            # worker; check that one worker runs before blaming any point.
            try:
                pool.submit(_ping).result()
            except BrokenProcessPool:
                raise SweepExecutorError(
                    "the local worker processes could not start (see the messages above); run from a script "
                    "file guarded by `if __name__ == '__main__':`, or use executor='serial'"
                ) from None
            broken = False
            while (queue or inflight) and not broken:
                # At most one point per worker in flight, so a pool break implicates only running points.
                limit = 1 if suspects else workers
                while queue and len(inflight) < limit:
                    try:
                        fut = pool.submit(_run_point, task, params[queue[0]])
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
                    # Popped only once recorded: an interrupt in between leaves it to the handler below.
                    key = inflight[fut]
                    exc = fut.exception()
                    if exc is None:
                        suspects.discard(key)
                        record(key, fut.result())
                    elif isinstance(exc, BrokenProcessPool):
                        casualties.append(key)
                    else:  # _run_point catches Exception, so this is an infrastructure failure
                        suspects.discard(key)
                        record(key, _infra_outcome(_error_text(exc), started[key]))
                    del inflight[fut]
                if len(casualties) == 1:
                    suspects.discard(casualties[0])
                    record(casualties[0], _infra_outcome(DIED_ERROR, started[casualties[0]], "BrokenProcessPool"))
                elif casualties:
                    suspects.update(casualties)
                    queue.extendleft(sorted(casualties, key=order.__getitem__, reverse=True))
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
        else:
            if broken:
                # Not shutdown(wait=True): a worker spawned by a submit racing the break is missed by the
                # executor's own clean-up (CPython 3.11), which then waits for it forever.
                _stop_pool(pool)
            else:
                pool.shutdown(wait=True)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Start child processes with SIGINT ignored (they inherit it), so Ctrl-C reaches only the parent, which
    then shuts the cluster down itself instead of every worker printing a KeyboardInterrupt traceback.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _dask_client(workers: int, scheduler: str | None, connect_timeout: float) -> Iterator[Any]:
    """A Dask client: connected to ``scheduler``, or to a LocalCluster of ``workers`` processes it starts."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepExecutorError(
            "executor 'dask' needs dask.distributed; install it with: pip install 'dask[distributed]'"
        ) from None
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            import dask

            try:
                # No retry inside Dask: _run_dask reruns each point Dask gave up on by itself (one more worker
                # restart for a point that really kills its worker, instead of Dask's three). No statistical
                # profiler either: it samples every worker's stack every 10 ms for a dashboard we do not start.
                config = {"distributed.scheduler.allowed-failures": 0, "distributed.worker.profile.enabled": False}
                with _sigint_ignored(), dask.config.set(config):
                    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.ERROR)
            except (RuntimeError, OSError, TimeoutError) as exc:
                # Usually a worker process that cannot start, e.g. a script run from stdin or one without an
                # ``if __name__ == "__main__":`` guard (worker processes re-import the main module).
                raise SweepExecutorError(
                    f"could not start a local Dask cluster of {workers} worker(s) ({_error_text(exc)}); run "
                    "from a script file guarded by `if __name__ == '__main__':`, or use the local executor"
                ) from exc
            stack.enter_context(cluster)
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = Client(scheduler, timeout=connect_timeout)
            except (OSError, TimeoutError) as exc:
                raise SweepExecutorError(
                    f"cannot reach the Dask scheduler at {scheduler!r} within {connect_timeout:g} s "
                    f"({_error_text(exc)}); check the address, or use --dask-local N to start a local cluster"
                ) from None
            stack.enter_context(client)
        yield client


def _run_dask(task: str, todo: list[str], params: dict[str, dict], record: Callable[[str, dict], None],
              client: Any) -> None:
    from distributed import as_completed

    started = time.perf_counter()
    key_of: dict[str, str] = {}  # Dask key -> point key
    unrecorded: list[Any] = []  # futures whose point has no record yet

    def submit(keys: list[str]) -> list[Any]:
        futures = client.map(_run_point, [task] * len(keys), [params[k] for k in keys], pure=False,
                             key=[f"tnrnn-sweep-{k}-{os.urandom(4).hex()}" for k in keys])
        key_of.update((fut.key, k) for fut, k in zip(futures, keys))
        unrecorded.extend(futures)
        return futures

    def outcome_of(fut: Any) -> dict | None:
        """The point's outcome, or None when Dask gave up on it because workers died while it ran."""
        try:
            # result() rather than the status seen by as_completed: if the worker holding a finished result
            # dies before we fetch it, Dask recomputes the point and result() waits for that.
            return fut.result()
        except Exception as exc:  # noqa: BLE001 - _run_point returns task errors, so this is the cluster's
            if type(exc).__name__ == "KilledWorker":
                return None
            return _infra_outcome(_error_text(exc), started)

    def finish(fut: Any, outcome: dict) -> None:
        record(key_of[fut.key], outcome)
        # Forgotten only once recorded: an interrupt before this leaves it to the handler below.
        unrecorded.remove(fut)
        fut.release()

    try:
        # Submit everything at once: Dask balances the load itself.
        suspects = []
        for fut in as_completed(submit(todo)):
            outcome = outcome_of(fut)
            if outcome is None:
                suspects.append(fut)
            else:
                finish(fut, outcome)
        # KilledWorker also blames points that merely waited on a worker that another point killed; rerun each
        # suspect alone, so only a point that kills a worker by itself is recorded as such.
        for old in suspects:
            unrecorded.remove(old)
            (fut,) = submit([key_of[old.key]])
            old.release()
            outcome = outcome_of(fut)
            finish(fut, outcome if outcome is not None else _infra_outcome(DIED_ERROR, started, "KilledWorker"))
    except KeyboardInterrupt:
        for fut in list(unrecorded):
            if fut.status == "finished":
                with contextlib.suppress(Exception):
                    finish(fut, fut.result(timeout=1))
        with contextlib.suppress(Exception):
            client.cancel(unrecorded, force=True)
        raise
