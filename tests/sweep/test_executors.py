"""Executor safety: warm workers reused, worker caps, Dask timeouts, TLS refused, loopback-only clusters."""

from __future__ import annotations

import socket
import threading

import pytest

from tnrnn.sweep import SweepExecutorError, run_sweep
from tnrnn.sweep import local as local_module
from tnrnn.sweep.dask import check_scheduler_address, dask_client

SQUARE = "tnrnn.sweep.demo:square"


def test_local_workers_stay_warm_across_sweeps():
    first = run_sweep(SQUARE, [{"x": 1}], None, workers=1, progress=False)
    second = run_sweep(SQUARE, [{"x": 2}, {"x": 3}], None, workers=1, progress=False)
    workers = {r["worker"] for r in first + second}
    assert len(workers) == 1  # one process ran every point of both sweeps


def test_a_pool_is_replaced_after_a_worker_dies():
    before = run_sweep(SQUARE, [{"x": 1}], None, workers=1, progress=False)[0]["worker"]
    died, after = run_sweep(SQUARE, [{"x": 2, "die": True}, {"x": 3}], None, workers=1, progress=False)
    assert died["status"] == "error" and after["status"] == "ok" and after["worker"] != before


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_more_workers_than_cpus_is_refused(monkeypatch, executor):
    monkeypatch.setattr(local_module, "usable_cpus", lambda: 2)
    monkeypatch.setattr("tnrnn.sweep.dask.usable_cpus", lambda: 2)
    with pytest.raises(SweepExecutorError, match="3 local workers requested but this machine has 2 usable CPUs"):
        run_sweep(SQUARE, [{"x": 1}], None, executor=executor, workers=3, progress=False)


@pytest.mark.parametrize("address, match", [
    ("tls://10.0.0.5:8786", "tls:// schedulers are not supported"),
    ("ucx://10.0.0.5:8786", "tcp://HOST:PORT"),
    ("tcp://10.0.0.5:99999", "tcp://HOST:PORT"),
    ("tcp://10.0.0.5", "tcp://HOST:PORT"),
])
def test_scheduler_addresses_other_than_tcp_are_refused(address, match):
    with pytest.raises(SweepExecutorError, match=match):
        check_scheduler_address(address)


def test_a_listener_that_never_answers_fails_within_the_connect_timeout(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        held = []
        threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
        with pytest.raises(SweepExecutorError, match="no Dask handshake .* within 1 s"):
            run_sweep(SQUARE, [{"x": 1}], tmp_path / "r.jsonl", scheduler=f"tcp://127.0.0.1:{server.getsockname()[1]}",
                      connect_timeout=1, progress=False)
        for conn, _ in held:
            conn.close()


def test_a_cluster_without_workers_fails_clearly(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=None,
                                  host="127.0.0.1") as cl:
        with pytest.raises(SweepExecutorError, match="no worker for 2 s"):
            run_sweep(SQUARE, [{"x": 1}], tmp_path / "r.jsonl", scheduler=cl.scheduler_address,
                      no_worker_timeout=2, progress=False)


def test_local_cluster_listens_on_loopback_without_dashboard():
    pytest.importorskip("distributed")
    with dask_client(1, None, 10.0) as client:
        info = client.scheduler_info()
        addresses = [info["address"], *info["workers"]]
        assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
        http = client.cluster.scheduler.http_server  # started by distributed even without a dashboard
        assert {sock.getsockname()[0] for sock in http._sockets.values()} == {"127.0.0.1"}
