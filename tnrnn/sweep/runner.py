"""``run_sweep``: validate everything, skip what the results file already holds, run the rest, append as it ends.

The parent process is the only writer of the results file and holds a lock on it while the sweep runs. Each
finished point is appended as one whole sealed JSON line, so an interrupted sweep (Ctrl-C, SIGTERM, a killed
worker or parent) keeps every point that finished, and rerunning the same command skips them. Lines reach
the disk at least once a second and when the sweep ends.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import JsonlAppender, check_output_target, output_file
from tnrnn.sweep import store
from tnrnn.sweep.dask import check_local_workers, check_scheduler_address, dask_client, run_dask
from tnrnn.sweep.export import write_results_csv
from tnrnn.sweep.local import SweepExecutorError, run_local
from tnrnn.sweep.store import (
    canonical_json,
    check_params,
    check_task_form,
    key_of_canonical,
    provenance,
    read_results,
    seal,
)
from tnrnn.sweep.worker import error_text, run_point

__all__ = ["run_sweep", "EXECUTORS"]

EXECUTORS = ("local", "dask", "serial")


def _validate_task(task: Any) -> str:
    """Import the task once here, so a bad task fails before anything runs; return its result schema."""
    check_task_form(task)
    module_name, func_name = task.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is a bad task for the user
        raise TnrnnError(f"task {task!r}: cannot import module {module_name!r} ({error_text(exc)})") from None
    fn = getattr(module, func_name, None)
    if fn is None:
        raise TnrnnError(f"task {task!r}: module {module_name!r} has no function {func_name!r}")
    if not callable(fn):
        raise TnrnnError(f"task {task!r}: {func_name!r} is not callable")
    # A task may declare its own result version: bumping it recomputes that task's stored points only.
    own = getattr(fn, "result_schema", None)
    return store.SCHEMA_VERSION if own is None else f"{store.SCHEMA_VERSION}.{own}"


def _validate_executor(executor: Any, workers: Any, scheduler: Any) -> tuple[str, int]:
    if executor not in EXECUTORS:
        raise SweepExecutorError(f"executor must be one of {', '.join(map(repr, EXECUTORS))}, got {executor!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SweepExecutorError(f"workers must be an integer >= 1, got {workers!r}")
    if scheduler is not None:
        check_scheduler_address(scheduler)
        if executor == "serial":
            raise SweepExecutorError("a scheduler address runs the sweep on Dask; it cannot be combined with "
                                     "executor='serial'")
        executor = "dask"
    elif executor != "serial":
        check_local_workers(workers)
    return executor, workers


def _prepare_points(task: str, points: Any, schema: str) -> tuple[list[str], dict[str, dict]]:
    if isinstance(points, (str, bytes, dict)) or not isinstance(points, Iterable):
        raise TnrnnError(f"points must be a list of parameter dicts, got {type(points).__name__}")
    keys: list[str] = []
    params_by_key: dict[str, dict] = {}
    for i, params in enumerate(points):
        check_params(params, i)
        text = canonical_json({"task": task, "params": params}, f"point {i} ({params!r})")
        key = key_of_canonical(text, schema)
        keys.append(key)
        if key not in params_by_key:
            # Workers get the JSON-normalised params: exactly what a rerun reading the file would pass.
            params_by_key[key] = json.loads(text)["params"]
    return keys, params_by_key


def _check_timeout(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise SweepExecutorError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


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


class _Recorder:
    """Turns outcomes into sealed records: appended to the file (after one provenance line) and kept."""

    def __init__(self, task: str, schema: str, params: dict[str, dict], writer: JsonlAppender | None,
                 bar: Any, final: dict[str, dict]) -> None:
        self.task, self.schema, self.params, self.writer, self.bar, self.final = task, schema, params, writer, bar, final
        self.errors = 0
        self.skipped = len(final)
        self.wrote_provenance = False
        bar.set_postfix(skipped=self.skipped, errors=0, refresh=False)

    def __call__(self, key: str, outcome: dict) -> None:
        rec = seal({"key": key, "schema": self.schema, "task": self.task, "params": self.params[key], **outcome})
        if self.writer is not None:
            if not self.wrote_provenance:
                self.writer.append(provenance())
                self.wrote_provenance = True
            self.writer.append(rec)
        self.final[key] = rec
        self.errors += rec["status"] == "error"
        self.bar.set_postfix(skipped=self.skipped, errors=self.errors, refresh=False)
        self.bar.update(1)


def run_sweep(
    task: str,
    points: list[dict],
    results: str | os.PathLike | None,
    *,
    executor: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    security: Any = None,
    retry_errors: bool = True,
    progress: bool = True,
    desc: str = "sweep",
    connect_timeout: float = 10.0,
    no_worker_timeout: float = 60.0,
    csv: str | os.PathLike | None = None,
) -> list[dict]:
    """Run ``task(**params)`` for every point, appending one sealed record per finished point to ``results``.

    Points already finished in ``results`` (status ``"ok"``, or ``"error"`` when ``retry_errors`` is false)
    are skipped; duplicate points run once. A stored record that fails its digest, has another shape or an
    older schema is reported on stderr (file and line) and its point recomputed. A point that raises is
    recorded with its error and the sweep goes on; a point whose worker process dies (killed, out of memory,
    ``os._exit``) is recorded as an error too. Ctrl-C or SIGTERM stops the workers, keeps every record
    already written and re-raises ``KeyboardInterrupt``.

    Parameters
    ----------
    task : str
        ``"package.module:function"``, imported in each worker and called as ``function(**params)``; it must
        return a JSON-serialisable dict that depends only on ``params``. A ``result_schema`` attribute on the
        function is part of every key (bump it when the result's meaning changes).
    points : list of dict
        JSON-serialisable keyword-argument dicts (any iterable of them).
    results : str, path or None
        JSON-lines results file (created if missing). ``None`` keeps nothing on disk (no resume).
    executor : {"local", "dask", "serial"}
        ``"local"``: a warm process pool of ``workers`` processes. ``"dask"``: a Dask cluster, the one at
        ``scheduler`` or else a loopback ``LocalCluster`` of ``workers`` processes. ``"serial"``: in this
        process (debugging).
    workers : int
        Local pool or local cluster size, at most the number of usable CPUs.
    scheduler : str, optional
        ``"tls://HOST:PORT"`` or ``"tcp://HOST:PORT"`` of a running Dask scheduler; implies
        ``executor="dask"``. See the security note in [`tnrnn.sweep.dask`][tnrnn.sweep.dask].
    security : distributed.Security, optional
        Certificates for a ``tls://`` scheduler (see [`tnrnn.sweep.dask.tls_security`][tnrnn.sweep.dask.tls_security]); default: Dask's
        TLS configuration. A local Dask cluster always makes its own.
    retry_errors : bool
        Rerun points whose stored record is an error (default) instead of keeping the error.
    progress : bool
        Show a tqdm bar on stderr.
    desc : str
        Label of the progress bar.
    connect_timeout : float
        Seconds to wait for the Dask scheduler (connection and handshake).
    no_worker_timeout : float
        Seconds a Dask sweep waits with no worker connected before it fails.
    csv : str or path, optional
        Also write the records (flattened, one row per point) as CSV there.

    Returns
    -------
    list of dict
        One record per point, in the order of ``points`` (see [`tnrnn.sweep.store`][tnrnn.sweep.store] for the fields).

    Raises
    ------
    TnrnnError
        Malformed ``task``, a task that cannot be imported, bad points, a results path that is not a
        regular file (or not a results file), or one held by another running sweep; before any point runs.
    SweepExecutorError
        Unknown executor, bad ``workers``/``scheduler``, Dask missing, an unreachable scheduler, or no Dask
        worker for ``no_worker_timeout`` seconds.
    KeyboardInterrupt
        On Ctrl-C or SIGTERM, after the workers are stopped; finished records stay in ``results``.

    Examples
    --------
    >>> recs = run_sweep("tnrnn.sweep.demo:square", [{"x": 4}, {"x": 5, "fail": True}], None,
    ...                  executor="serial", progress=False)
    >>> [(r["status"], r["result"], r["error"]) for r in recs]
    [('ok', {'x': 4, 'square': 16}, None), ('error', None, 'ValueError: asked to fail at x=5')]
    """
    executor, workers = _validate_executor(executor, workers, scheduler)
    check_task_form(task)
    connect_timeout = _check_timeout("connect_timeout", connect_timeout)
    no_worker_timeout = _check_timeout("no_worker_timeout", no_worker_timeout)
    schema = _validate_task(task)
    keys, params_by_key = _prepare_points(task, points, schema)
    csv_path = output_file(csv, what="--csv", suffixes=(".csv",)) if csv is not None else None
    if results is not None:
        check_output_target(results, "results file")
        read_results(results)  # refuse a file that is not a results file before locking (and creating) it

    writer = JsonlAppender(results) if results is not None else None
    try:
        stored = read_results(results) if results is not None else None
        if stored is not None:
            stored.warn()
        final: dict[str, dict] = {}
        todo = [key for key in params_by_key if not _reusable(stored, key, retry_errors, final)]
        _execute(task, todo, params_by_key, schema, writer, final, executor=executor, workers=workers,
                 scheduler=scheduler, security=security, connect_timeout=connect_timeout,
                 no_worker_timeout=no_worker_timeout,
                 progress=progress, desc=desc, total=len(params_by_key))
    finally:
        if writer is not None:
            writer.close()
    records = [dict(final[key]) for key in keys]
    if csv_path is not None:
        write_results_csv(records, csv_path)
    return records


def _reusable(stored: Any, key: str, retry_errors: bool, final: dict[str, dict]) -> bool:
    rec = stored.records.get(key) if stored is not None else None
    if rec is not None and (rec["status"] == "ok" or not retry_errors):
        final[key] = rec
        return True
    return False


def _execute(task: str, todo: list[str], params: dict[str, dict], schema: str, writer: JsonlAppender | None,
             final: dict[str, dict], *, executor: str, workers: int, scheduler: str | None, security: Any,
             connect_timeout: float,
             no_worker_timeout: float, progress: bool, desc: str, total: int) -> None:
    from tqdm.auto import tqdm

    stack = contextlib.ExitStack()
    client = None
    if executor == "dask" and todo:
        # Connect (or start the LocalCluster) before the bar: an unreachable scheduler fails cleanly here.
        client = stack.enter_context(dask_client(workers, scheduler, connect_timeout, security))
    bar = tqdm(total=total, initial=total - len(todo), desc=desc, unit="pt", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    record = _Recorder(task, schema, params, writer, bar, final)
    try:
        with stack, _sigterm_as_interrupt():
            if not todo:
                return
            if executor == "serial":
                for key in todo:
                    record(key, run_point(task, params[key]))
            elif executor == "local":
                run_local(task, todo, params, record, workers)
            else:
                run_dask(task, todo, params, record, client, no_worker_timeout)
    finally:
        bar.close()
