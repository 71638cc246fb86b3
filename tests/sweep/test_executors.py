"""Executor safety: warm workers reused, worker caps, Dask timeouts, TLS, loopback-only authenticated clusters."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading

import pytest

from tnrnn.sweep import SweepExecutorError, run_sweep
from tnrnn.sweep import local as local_module
from tnrnn.sweep.dask import check_scheduler_address, dask_client, tls_security

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
    ("ucx://10.0.0.5:8786", "tcp://HOST:PORT"),
    ("tcp://10.0.0.5:99999", "tcp://HOST:PORT"),
    ("tcp://10.0.0.5", "tcp://HOST:PORT"),
])
def test_scheduler_addresses_other_than_tcp_or_tls_are_refused(address, match):
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


def test_a_listener_that_sends_one_byte_then_nothing_fails_within_the_connect_timeout(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        held = []

        def serve():
            conn, _ = server.accept()
            conn.sendall(b"\x01")
            held.append(conn)

        threading.Thread(target=serve, daemon=True).start()
        with pytest.raises(SweepExecutorError, match="no Dask handshake .* within 1 s"):
            run_sweep(SQUARE, [{"x": 1}], tmp_path / "r.jsonl", scheduler=f"tcp://127.0.0.1:{server.getsockname()[1]}",
                      connect_timeout=1, progress=False)
        for conn in held:
            conn.close()


def test_a_listener_that_sends_garbage_is_not_taken_for_a_scheduler(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)

        def serve():
            conn, _ = server.accept()
            conn.sendall(struct.pack("<Q", 2**62) + b"garbage")  # would make distributed allocate 4 EiB
            conn.close()

        threading.Thread(target=serve, daemon=True).start()
        with pytest.raises(SweepExecutorError, match="is not a Dask scheduler"):
            run_sweep(SQUARE, [{"x": 1}], tmp_path / "r.jsonl", scheduler=f"tcp://127.0.0.1:{server.getsockname()[1]}",
                      connect_timeout=5, progress=False)


def test_a_tls_scheduler_without_certificates_is_refused(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.delenv("DASK_DISTRIBUTED__COMM__TLS__CA_FILE", raising=False)
    with pytest.raises(SweepExecutorError, match="needs a CA file and a client certificate"):
        run_sweep(SQUARE, [{"x": 1}], tmp_path / "r.jsonl", scheduler="tls://127.0.0.1:9", progress=False)
    with pytest.raises(SweepExecutorError, match="--tls-ca-file .* is not a readable file"):
        tls_security(str(tmp_path / "missing.pem"), str(tmp_path / "missing.pem"))


def test_a_tls_scheduler_runs_the_sweep_with_the_users_certificates(tmp_path):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("cryptography")
    cluster_security = distributed.Security.temporary()
    files = {}
    for name, pem in (("ca", cluster_security.tls_ca_file), ("cert", cluster_security.tls_client_cert),
                      ("key", cluster_security.tls_client_key)):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_text(pem)
    with distributed.LocalCluster(n_workers=1, processes=False, protocol="tls://", security=cluster_security,
                                  dashboard_address=None, host="127.0.0.1") as cl:
        assert cl.scheduler_address.startswith("tls://127.0.0.1:")
        user = tls_security(str(files["ca"]), str(files["cert"]), str(files["key"]))
        (rec,) = run_sweep(SQUARE, [{"x": 7}], tmp_path / "r.jsonl", scheduler=cl.scheduler_address, security=user,
                           progress=False)
        assert rec["status"] == "ok" and rec["result"]["square"] == 49
        stranger = distributed.Security.temporary()  # valid TLS, but certificates of another authority
        with pytest.raises(SweepExecutorError, match="TLS handshake .* failed"):
            run_sweep(SQUARE, [{"x": 8}], tmp_path / "r2.jsonl", scheduler=cl.scheduler_address, security=stranger,
                      connect_timeout=5, progress=False)


# A separate process that tries to run code on the cluster at argv[1]: with no certificates over tls:// and over
# plain tcp://, and with TLS certificates of its own. It prints RAN if any attempt ran its function.
_INTRUDER = """
import sys
from distributed import Client, Security
address = sys.argv[1]
attempts = [(address, None), (address.replace("tls://", "tcp://"), None), (address, Security.temporary())]
for target, security in attempts:
    try:
        with Client(target, timeout=3, security=security) as client:
            if client.submit(lambda: "RAN", pure=False).result(timeout=3) == "RAN":
                print("RAN", target, security is not None)
    except Exception as exc:
        print("refused", type(exc).__name__)
"""


def test_a_second_local_process_cannot_run_code_on_a_dask_local_cluster():
    pytest.importorskip("distributed")
    pytest.importorskip("cryptography")
    with dask_client(1, None, 10.0) as client:
        address = client.scheduler_info()["address"]
        assert client.submit(lambda: "ours", pure=False).result(timeout=60) == "ours"  # the owner can
        intruder = subprocess.run([sys.executable, "-c", _INTRUDER, address], capture_output=True, text=True,
                                  timeout=120)
    lines = intruder.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith("refused") for line in lines), intruder.stdout + intruder.stderr


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
        assert all(a.startswith("tls://127.0.0.1:") for a in addresses), addresses
        http = client.cluster.scheduler.http_server  # started by distributed even without a dashboard
        assert {sock.getsockname()[0] for sock in http._sockets.values()} == {"127.0.0.1"}
