"""Tests of the sweep runner: resume, interruption, failing and dying points, executors agreeing."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import read_jsonl
from tnrnn.cli.sweep_args import add_sweep_args, sweep_kwargs
from tnrnn.sweep import DIED_ERROR, SweepExecutorError, point_key, read_results, run_sweep
from tnrnn.sweep.demo import busy, square
from tnrnn.sweep.store import SCHEMA_VERSION, seal

SQUARE = "tnrnn.sweep.demo:square"
REPO = Path(__file__).resolve().parents[2]
METADATA = ("seconds", "worker", "traceback", "digest")


def load_results(path):
    """Key -> usable record of a results file."""
    return read_results(path).records


def records_in(path):
    """The record lines of a results file (provenance lines left out)."""
    return [r for r in read_jsonl(path) if r.get("kind") != "provenance"]


def strip(records):
    """Records (a list, or a key -> record dict) without the metadata that differs between runs/executors."""
    if isinstance(records, dict):
        return {k: strip([r])[0] for k, r in sorted(records.items())}
    return [{k: v for k, v in r.items() if k not in METADATA} for r in records]


def expected_record(params):
    """What a record must say, computed by calling the demo task directly (independent of the runner)."""
    try:
        return "ok", square(**params), None
    except ValueError as exc:
        return "error", None, f"ValueError: {exc}"


# ---------------------------------------------------------------------------------------------- keys, loading


def test_point_key_is_canonical():
    assert point_key(SQUARE, {"x": 1, "sleep": 0.5}) == point_key(SQUARE, {"sleep": 0.5, "x": 1})
    assert point_key(SQUARE, {"x": [1, 2]}) == point_key(SQUARE, {"x": (1, 2)})
    assert point_key(SQUARE, {"x": 1}) != point_key(SQUARE, {"x": 2})
    assert point_key(SQUARE, {"x": 1}) != point_key("tnrnn.sweep.demo:busy", {"x": 1})
    assert point_key(SQUARE, {"x": 1}) != point_key(SQUARE, {"x": 1.0})


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=4),
                       st.one_of(st.integers(-5, 5), st.booleans(), st.text(max_size=3),
                                 st.lists(st.integers(0, 3), max_size=3)),
                       max_size=4),
       st.randoms(use_true_random=False))
def test_point_key_ignores_key_order_and_survives_json(params, rnd):
    items = list(params.items())
    rnd.shuffle(items)
    assert point_key(SQUARE, dict(items)) == point_key(SQUARE, params)
    assert point_key(SQUARE, json.loads(json.dumps(params))) == point_key(SQUARE, params)


@pytest.mark.parametrize(
    "params", [{"x": object()}, {"x": float("nan")}, {1: 2}, [("x", 1)], "x=1"],
    ids=["object", "nan", "int-key", "list", "str"],
)
def test_point_key_rejects_bad_params(params):
    with pytest.raises(TnrnnError):
        point_key(SQUARE, params)


def test_read_results_skips_torn_line_and_junk(tmp_path):
    path = tmp_path / "r.jsonl"
    k1 = point_key(SQUARE, {"x": 1}, SCHEMA_VERSION)
    good = seal({"key": k1, "schema": SCHEMA_VERSION, "task": SQUARE, "params": {"x": 1}, "status": "ok",
                 "result": {"square": 1}, "error": None, "seconds": 0.0})
    newer = seal(dict(good, result={"square": 11}))
    path.write_text(json.dumps(good) + "\n" + json.dumps([1, 2]) + "\n" + json.dumps(newer) + "\n"
                    + json.dumps({"key": "k2", "status": "ok"})[:-7])
    stored = read_results(path)
    assert list(stored.records) == [k1]
    assert stored.records[k1]["result"] == {"square": 11}  # the latest record for a key wins
    assert [n for n, _ in stored.problems] == [2]  # the junk line is reported; the torn last line is not
    assert load_results(tmp_path / "missing.jsonl") == {}


# ---------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"task": "tnrnn.sweep.demo.square"}, "package.module:function"),
        ({"task": "tnrnn.sweep.demo:"}, "package.module:function"),
        ({"task": square}, "package.module:function"),  # workers get task names, never closures
        ({"task": "tnrnn.no_such_module:f"}, "cannot import"),
        ({"task": "tnrnn.sweep.demo:no_such_function"}, "no function"),
        ({"points": [{"x": 1}, 3]}, "point 1 must be a dict"),
        ({"points": {"x": 1}}, "list of parameter dicts"),
        ({"points": [{"x": {1, 2}}]}, "JSON-serialisable"),
        ({"points": [{"x": float("inf")}]}, "finite"),
        ({"executor": "threads"}, "executor must be one of"),
        ({"workers": 0}, "workers must be"),
        ({"workers": 1.5}, "workers must be"),
        ({"scheduler": "not a url"}, "tcp://HOST:PORT"),
        ({"scheduler": "tcp://127.0.0.1:8786", "executor": "serial"}, "serial"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(tmp_path, kwargs, match):
    args = {"task": SQUARE, "points": [{"x": 1}], "results": tmp_path / "r.jsonl", "progress": False, **kwargs}
    with pytest.raises(TnrnnError, match=match):
        run_sweep(args.pop("task"), args.pop("points"), args.pop("results"), **args)
    assert not (tmp_path / "r.jsonl").exists()


def test_executor_errors_are_sweep_executor_errors(tmp_path):
    with pytest.raises(SweepExecutorError):
        run_sweep(SQUARE, [{"x": 1}], None, executor="nope", progress=False)


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SweepExecutorError, match="cannot reach the Dask scheduler"):
        run_sweep(SQUARE, [{"x": 1}], tmp_path / "r.jsonl", scheduler=f"tcp://127.0.0.1:{port}",
                  connect_timeout=1, progress=False)
    assert load_results(tmp_path / "r.jsonl") == {}


def test_results_file_in_use_is_refused(tmp_path):
    import fcntl

    path = tmp_path / "r.jsonl"
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(TnrnnError, match="another running process"):
            run_sweep(SQUARE, [{"x": 1}], path, executor="serial", progress=False)
    assert run_sweep(SQUARE, [{"x": 1}], path, executor="serial", progress=False)[0]["status"] == "ok"


def test_unusable_results_path_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    for bad, match in ((tmp_path, "not a regular file \\(a folder\\)"),
                       (tmp_path / "file" / "r.jsonl", "Not a directory")):
        with pytest.raises(TnrnnError, match=match):
            run_sweep(SQUARE, [{"x": 1}], bad, executor="serial", progress=False)


# ---------------------------------------------------------------------------------------------- behaviour


def test_interrupt_while_recording_a_finished_point_keeps_it():
    # Ctrl-C or SIGTERM can land between a finished future and its record; the point must not be dropped.
    from tnrnn.sweep.local import run_local as _run_local

    params = {"a": {"x": 1}, "b": {"x": 2, "sleep": 30}}
    recorded, calls = {}, []

    def record(key, outcome):
        calls.append(key)
        if len(calls) == 1:
            raise KeyboardInterrupt  # the signal arrives before this record is written
        recorded[key] = outcome

    with pytest.raises(KeyboardInterrupt):
        _run_local(SQUARE, ["a", "b"], params, record, workers=2)
    assert recorded["a"]["result"] == {"x": 1, "square": 1} and "b" not in recorded


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(-4, 4), st.booleans()), max_size=8))
def test_serial_records_match_direct_calls(pairs):
    points = [{"x": x, "fail": f} for x, f in pairs]
    records = run_sweep(SQUARE, points, None, executor="serial", progress=False)
    assert len(records) == len(points)
    for params, rec in zip(points, records):
        assert (rec["status"], rec["result"], rec["error"]) == expected_record(params)
        assert rec["params"] == params and rec["task"] == SQUARE
        assert rec["key"] == point_key(SQUARE, params)


def test_points_may_be_any_iterable_of_dicts():
    records = run_sweep(SQUARE, ({"x": x} for x in (2, 3)), None, executor="serial", progress=False)
    assert [r["result"]["square"] for r in records] == [4, 9]


def test_order_duplicates_and_resume(tmp_path):
    path = tmp_path / "r.jsonl"
    first = run_sweep(SQUARE, [{"x": 3}, {"x": 1}, {"x": 3}], path, executor="serial", progress=False)
    assert [r["result"]["square"] for r in first] == [9, 1, 9]
    assert len(records_in(path)) == 2  # the duplicate ran once

    points = [{"x": x} for x in range(5)]
    second = run_sweep(SQUARE, points, path, executor="local", workers=2, progress=False)
    assert [r["result"]["square"] for r in second] == [x * x for x in range(5)]
    assert len(records_in(path)) == 5  # x=1 and x=3 were skipped, not recomputed
    by_x = {r["params"]["x"]: r for r in second}
    assert by_x[1] == next(r for r in first if r["params"]["x"] == 1)  # same record, metadata included


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=10), st.data())
def test_resuming_from_any_subset_equals_one_whole_run(tmp_path_factory, xs, data):
    points = [{"x": x, "fail": x == 5} for x in xs]
    first = data.draw(st.lists(st.sampled_from(points), max_size=len(points)))
    path = tmp_path_factory.mktemp("resume") / "r.jsonl"
    run_sweep(SQUARE, first, path, executor="serial", progress=False)
    resumed = run_sweep(SQUARE, points, path, executor="serial", retry_errors=False, progress=False)
    whole = run_sweep(SQUARE, points, None, executor="serial", progress=False)
    assert strip(resumed) == strip(whole)
    assert len(records_in(path)) == len({json.dumps(p, sort_keys=True) for p in points})  # each point ran once


def test_progress_bar_reports_done_and_skipped(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    run_sweep(SQUARE, [{"x": 1}, {"x": 2}], path, executor="serial", progress=False)
    run_sweep(SQUARE, [{"x": x} for x in range(1, 5)], path, executor="serial", desc="squares")
    err = capsys.readouterr().err
    assert "squares" in err and "4/4" in err and "skipped=2" in err


def test_retry_errors_reruns_stored_errors_only_when_asked(tmp_path):
    path = tmp_path / "r.jsonl"
    stale = seal({"key": point_key(SQUARE, {"x": 6}), "schema": "2", "task": SQUARE, "params": {"x": 6},
                  "status": "error", "result": None, "error": "MemoryError: earlier attempt", "seconds": 1.0})
    path.write_text(json.dumps(stale) + "\n")
    kept = run_sweep(SQUARE, [{"x": 6}], path, executor="serial", retry_errors=False, progress=False)
    assert kept[0]["error"] == "MemoryError: earlier attempt"
    redone = run_sweep(SQUARE, [{"x": 6}], path, executor="serial", progress=False)
    assert redone[0]["status"] == "ok" and redone[0]["result"] == {"x": 6, "square": 36}
    assert load_results(path)[stale["key"]]["status"] == "ok"


def test_append_after_torn_line_keeps_new_records(tmp_path):
    path = tmp_path / "r.jsonl"
    run_sweep(SQUARE, [{"x": 1}], path, executor="serial", progress=False)
    with open(path, "a") as fh:
        fh.write('{"key": "torn", "status": "o')  # what a writer killed mid-line leaves
    run_sweep(SQUARE, [{"x": 1}, {"x": 2}], path, executor="serial", progress=False)
    assert {r["params"]["x"] for r in load_results(path).values()} == {1, 2}


def test_failing_point_is_recorded_and_the_rest_finish(tmp_path):
    points = [{"x": x, "fail": x == 2} for x in range(6)]
    records = run_sweep(SQUARE, points, tmp_path / "r.jsonl", workers=2, progress=False)
    for params, rec in zip(points, records):
        assert (rec["status"], rec["result"], rec["error"]) == expected_record(params)
    assert "asked to fail at x=2" in records[2]["traceback"]
    assert strip(load_results(tmp_path / "r.jsonl")) == strip({r["key"]: r for r in records})


def test_task_returning_a_non_dict_is_an_error_record():
    (rec,) = run_sweep("json:dumps", [{"obj": 1}], None, executor="serial", progress=False)
    assert rec["status"] == "error" and rec["error"].startswith("TypeError") and "expected a dict" in rec["error"]


def test_killed_worker_is_recorded_and_innocent_points_finish(tmp_path):
    # Several points are in flight when the worker dies; the runner must pin the death on the right one.
    points = [{"x": x, "sleep": 0.05} for x in range(5)] + [{"x": 99, "die": True, "sleep": 0.05}]
    points += [{"x": x, "sleep": 0.05} for x in range(5, 8)]
    points += [{"x": 97, "die": True}, {"x": 98, "die": True}, {"x": 8}]  # two deaths at once
    records = run_sweep(SQUARE, points, tmp_path / "r.jsonl", workers=2, progress=False)
    died = [r for r in records if r["status"] == "error"]
    assert [r["params"]["x"] for r in died] == [99, 97, 98]
    assert all(r["error"] == DIED_ERROR for r in died)
    assert all(r["result"] == {"x": r["params"]["x"], "square": r["params"]["x"] ** 2}
               for r in records if not r["params"].get("die"))
    assert len(records_in(tmp_path / "r.jsonl")) == len(points)


def test_workers_that_cannot_start_are_an_executor_error_not_point_errors(tmp_path):
    # A script read from stdin cannot be re-imported by spawned workers, so no worker ever starts; that must
    # not be recorded as every point killing its worker.
    script = textwrap.dedent(
        f"""
        import sys
        from tnrnn.base.errors import TnrnnError
        from tnrnn.sweep import run_sweep
        try:
            run_sweep("{SQUARE}", [{{"x": 1}}, {{"x": 2}}], {str(tmp_path / "r.jsonl")!r}, workers=2, progress=False)
        except TnrnnError as exc:
            print("ERROR", type(exc).__name__, exc)
            sys.exit(2)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-"], input=script.encode(), env=env, capture_output=True, timeout=60)
    assert proc.returncode == 2, proc.stderr.decode()[-2000:]
    assert "ERROR SweepExecutorError" in proc.stdout.decode() and "could not start" in proc.stdout.decode()
    assert records_in(tmp_path / "r.jsonl") == []


def test_sigterm_handler_is_restored():
    before = signal.getsignal(signal.SIGTERM)
    run_sweep(SQUARE, [{"x": 1}], None, executor="serial", progress=False)
    assert signal.getsignal(signal.SIGTERM) is before


_KILLABLE = textwrap.dedent(
    """
    import sys
    from tnrnn.sweep import run_sweep
    points = [{"x": x, "sleep": 0.3} for x in range(12)]
    try:
        run_sweep("tnrnn.sweep.demo:square", points, sys.argv[1], workers=2, progress=False)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)
    """
)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return any(line.split()[:2] == ["State:", "Z"] for line in fh)  # a zombie has stopped running
    except FileNotFoundError:
        return True


def test_sigterm_then_rerun_equals_uninterrupted_run(tmp_path):
    path = tmp_path / "killed.jsonl"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, str(path)], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(records_in(path)) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the sweep wrote nothing"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 130, proc.stderr.read().decode()

    # The partial file is whole: every line a finished record, no point twice, some points missing.
    text = path.read_text()
    assert text.endswith("\n")
    partial = [r for r in map(json.loads, text.splitlines()) if r.get("kind") != "provenance"]
    assert 3 <= len(partial) < 12
    assert all(r["status"] == "ok" for r in partial)
    assert len({r["key"] for r in partial}) == len(partial)
    # Ctrl-C/SIGTERM stops the workers too, not only the parent.
    deadline = time.monotonic() + 30  # a hang guard for a loaded machine, not a timing assertion
    while not all(_gone(int(r["worker"].rsplit(":", 1)[1])) for r in partial):
        assert time.monotonic() < deadline, "worker processes outlived the interrupted sweep"
        time.sleep(0.1)

    points = [{"x": x, "sleep": 0.3} for x in range(12)]
    resumed = run_sweep(SQUARE, points, path, workers=2, progress=False)
    reference = run_sweep(SQUARE, points, tmp_path / "whole.jsonl", workers=2, progress=False)
    assert strip(resumed) == strip(reference)
    assert strip(load_results(path)) == strip(load_results(tmp_path / "whole.jsonl"))
    assert len(records_in(path)) == 12  # finished points were not run again
    assert {r["key"]: r for r in partial}.items() <= {r["key"]: r for r in resumed}.items()


def test_dask_local_cluster_equals_local_pool(tmp_path):
    pytest.importorskip("distributed")
    # A failing point, a point that kills its worker, and a duplicate, besides ordinary points.
    points = [{"x": x, "fail": x == 3} for x in range(8)] + [{"x": 2}, {"x": 9, "die": True}]
    local = run_sweep(SQUARE, points, tmp_path / "local.jsonl", workers=2, progress=False)
    dask = run_sweep(SQUARE, points, tmp_path / "dask.jsonl", executor="dask", workers=2, progress=False)
    assert strip(dask) == strip(local)
    assert strip(load_results(tmp_path / "dask.jsonl")) == strip(load_results(tmp_path / "local.jsonl"))
    assert dask[3]["error"] == "ValueError: asked to fail at x=3"
    assert dask[-1]["error"] == DIED_ERROR and dask[-1]["traceback"] == "KilledWorker"
    assert [r["status"] for r in dask].count("ok") == 8


def test_existing_dask_scheduler_by_address(tmp_path):
    distributed = pytest.importorskip("distributed")
    points = [{"x": x, "fail": x == 1} for x in range(5)]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        remote = run_sweep(SQUARE, points, tmp_path / "r.jsonl", scheduler=cl.scheduler_address, progress=False)
        with distributed.Client(cl) as client:
            assert len(client.nthreads()) == 2  # the sweep closed its client, not the user's cluster
    assert strip(remote) == strip(run_sweep(SQUARE, points, None, executor="serial", progress=False))


def test_busy_demo_task_is_deterministic_and_json():
    assert busy(1000, seed=3) == busy(1000, seed=3)
    assert busy(1000, seed=3)["value"] != busy(1000, seed=4)["value"]
    assert json.loads(json.dumps(busy(10))) == busy(10)


# ---------------------------------------------------------------------------------------------- CLI flags


def _parse(argv, **kw):
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_sweep_args(parser, **kw)
    return sweep_kwargs(parser.parse_args(argv))


def test_sweep_flags_map_to_run_sweep_kwargs():
    from tnrnn.cli.common import show_progress

    # progress bars are drawn only when stderr is a terminal (never into logs)
    assert _parse([]) == {"results": None, "executor": "local", "workers": 1, "scheduler": None, "security": None,
                          "progress": show_progress(True), "csv": None}
    assert _parse(["--workers", "2", "--results", "r.jsonl", "--no-progress"], default_results="d.jsonl") == {
        "results": "r.jsonl", "executor": "local", "workers": 2, "scheduler": None, "security": None,
        "progress": False, "csv": None}
    assert _parse([], default_results="d.jsonl")["results"] == "d.jsonl"
    assert _parse(["--dask-local", "2"])[("executor")] == "dask"
    kw = _parse(["--scheduler", "tcp://10.0.0.5:8786"])
    assert (kw["executor"], kw["scheduler"]) == ("dask", "tcp://10.0.0.5:8786")
    with pytest.raises(TnrnnError, match="apply to a tls:// --scheduler only"):
        _parse(["--dask-local", "1", "--tls-ca-file", "ca.pem"])


@pytest.mark.parametrize("argv", [["--workers", "2", "--dask-local", "2"], ["--workers", "2", "--scheduler", "tcp://h:1"]])
def test_conflicting_sweep_flags_are_refused(argv):
    with pytest.raises(TnrnnError, match="--workers"):
        _parse(argv)


def test_scheduler_and_dask_local_are_exclusive():
    with pytest.raises((argparse.ArgumentError, SystemExit)):
        _parse(["--scheduler", "tcp://h:1", "--dask-local", "2"])


def test_sweep_flags_reject_bad_counts():
    with pytest.raises((argparse.ArgumentError, SystemExit)):
        _parse(["--workers", "0"])
