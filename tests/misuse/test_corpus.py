"""The misuse corpus: each case is a command a user can get wrong, and must end in exit status 2 with exactly
one line on stderr, no traceback, within the memory and CPU limits of :mod:`tests.misuse.harness`.

All cases run at once (in parallel child processes, on first use) so the corpus stays fast; each case is then
its own test. Cases in areas still being fixed by their owners are marked ``xfail(strict=False)``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tests.misuse.harness import Outcome, mark_zip_encrypted, run_cli

TABLE = ["table", "--depths", "1", "--times", "2", "--no-progress"]
TRAIN = ["train", "--cell", "gru", "--time", "8", "--span", "2", "--symbols", "4", "--steps", "2", "--width", "4",
         "--no-progress"]
JAX_MB = 6144  # jax reserves address space generously at import


@dataclass(frozen=True)
class Case:
    """``argv`` may hold ``{name}`` placeholders for the files :func:`_inputs` prepares."""

    id: str
    argv: list[str]
    env: dict = field(default_factory=dict)
    memory_mb: int = 1536
    match: str = ""  # a fragment the error line must contain
    xfail: str | None = None  # owner area, when the case is known to fail there


CASES = [
    # environment variables, on every kind of command
    Case("env-bytes-garbage-rank", ["rank", "-L", "1", "-T", "4", "--no-progress"], {"TNRNN_MAX_BYTES": "lots"},
         match="TNRNN_MAX_BYTES"),
    Case("env-bytes-inf-build", ["build", "-L", "1", "-T", "4"], {"TNRNN_MAX_BYTES": "inf"}, match="TNRNN_MAX_BYTES"),
    Case("env-flops-garbage-table", [*TABLE, "--results", "{tmp}/t.jsonl"], {"TNRNN_MAX_FLOPS": "fast"},
         match="TNRNN_MAX_FLOPS"),
    Case("env-bytes-negative-render", ["render", "-L", "1", "-T", "4", "--out", "{tmp}/n.svg"],
         {"TNRNN_MAX_BYTES": "-5"}, match="TNRNN_MAX_BYTES"),
    Case("env-bytes-garbage-verify", ["verify", "{results}"], {"TNRNN_MAX_BYTES": "nan"}, match="TNRNN_MAX_BYTES"),
    # output paths
    Case("results-empty", [*TABLE, "--results", ""], match="--results path is empty"),
    Case("results-dev-null", [*TABLE, "--results", "/dev/null"], match="character device"),
    Case("results-fifo", [*TABLE, "--results", "{fifo}"], match="FIFO"),
    Case("results-under-a-file", [*TABLE, "--results", "{results42}/sub.jsonl"], match="Not a directory"),
    Case("csv-wrong-suffix", [*TABLE, "--results", "{tmp}/c.jsonl", "--csv", "{tmp}/t.txt"], match=".csv"),
    Case("csv-dev-null", [*TABLE, "--results", "{tmp}/d.jsonl", "--csv", "/dev/null"], match="character device"),
    Case("gallery-empty", ["gallery", "", "--no-curves"], match="empty"),
    Case("memory-sweep-out-empty", ["memory-sweep", "--out", "", "--cells", "gru", "--depths", "1", "--times", "24",
                                    "--seeds", "0", "--no-progress"],
         memory_mb=JAX_MB, match="empty"),
    Case("render-out-empty", ["render", "-L", "1", "-T", "4", "--out", ""], match="output path"),
    # results files
    Case("results-holding-42", [*TABLE, "--results", "{results42}"], match="not a tnrnn results file"),
    Case("results-invalid-utf8", [*TABLE, "--results", "{results_utf8}"], match="not a tnrnn results file"),
    Case("capacity-results-42", ["capacity", "mc", "--quick", "--out", "{tmp}/cap", "--results", "{results42}",
                                 "--no-progress"], memory_mb=JAX_MB, match="not a tnrnn results file"),
    Case("verify-missing", ["verify", "{tmp}/missing.jsonl"], match="No such file"),
    Case("verify-fifo", ["verify", "{fifo}"], match="FIFO"),
    Case("verify-dev-null", ["verify", "/dev/null"], match="character device"),
    # checkpoints (validated before any model is built or data read)
    Case("checkpoint-empty", [*TRAIN, "--checkpoint", "{ck_empty}"], memory_mb=JAX_MB, match="empty"),
    # (every other checkpoint fault is covered without the jax start-up cost in tests/base/test_checkpoint.py)
    Case("checkpoint-bomb", [*TRAIN, "--checkpoint", "{ck_bomb}"], {"TNRNN_MAX_BYTES": "256M"}, memory_mb=JAX_MB,
         match="nothing was decompressed"),
    # Dask options
    Case("scheduler-tls", [*TABLE, "--results", "{tmp}/s.jsonl", "--scheduler", "tls://127.0.0.1:8786"],
         match="needs a CA file and a client certificate"),
    Case("scheduler-garbage", [*TABLE, "--results", "{tmp}/s.jsonl", "--scheduler", "not an address"],
         match="tcp://HOST:PORT"),
    Case("scheduler-refused", [*TABLE, "--results", "{tmp}/s.jsonl", "--scheduler", "tcp://127.0.0.1:{closed_port}"],
         match="cannot reach"),
    Case("dask-local-1000", [*TABLE, "--results", "{tmp}/s.jsonl", "--dask-local", "1000"], match="usable CPUs"),
    Case("workers-1000", [*TABLE, "--results", "{tmp}/s.jsonl", "--workers", "1000"], match="usable CPUs"),
    # sizes (refused up front, before any allocation proportional to T, R or M)
    Case("rank-huge-T", ["rank", "-L", "4", "-R", "8", "-M", "8", "-T", "100000000", "--no-progress"],
         memory_mb=1024),
    Case("render-huge-T", ["render", "-L", "2", "-T", "100000000", "--out", "{tmp}/big.svg"], memory_mb=1024),
    Case("table-huge-T", ["table", "--depths", "2", "--times", "100000000", "--results", "{tmp}/h.jsonl",
                          "--no-progress"], memory_mb=1024),
    # the corpus of the newer surfaces: schedulers that misbehave, sizes of every study, files of every kind
    Case("scheduler-one-byte-then-silence", [*TABLE, "--results", "{tmp}/s1.jsonl", "--scheduler",
                                             "tcp://127.0.0.1:{one_byte_port}"], match="no Dask handshake"),
    Case("scheduler-sends-garbage", [*TABLE, "--results", "{tmp}/s2.jsonl", "--scheduler",
                                     "tcp://127.0.0.1:{garbage_port}"], match="is not a Dask scheduler"),
    Case("tls-files-without-tls", [*TABLE, "--results", "{tmp}/s3.jsonl", "--dask-local", "1", "--tls-ca-file",
                                   "{tmp}/ca.pem"], match="tls:// --scheduler only"),
    Case("capacity-budget-2^63", ["capacity", "bits", "--quick", "--out-dir", "{tmp}/cap1", "--budgets",
                                  str(2**63), "--no-progress"], memory_mb=JAX_MB, match="2147483647"),
    Case("capacity-units-10^100", ["capacity", "units", "--quick", "--out-dir", "{tmp}/cap2", "--units",
                                   str(10**100), "--no-progress"], memory_mb=JAX_MB, match="2147483647"),
    Case("capacity-sizes-0", ["capacity", "mc", "--quick", "--out-dir", "{tmp}/cap3", "--sizes", "0",
                              "--no-progress"], memory_mb=JAX_MB),
    Case("train-depth-10^100", [*TRAIN, "--depth", str(10**100)], memory_mb=JAX_MB, match="needs about"),
    Case("memory-sweep-depths-10^100", ["memory-sweep", "--out", "{tmp}/ms", "--cells", "gru", "--times", "24",
                                        "--seeds", "0", "--width", "4", "--no-progress", "--depths", str(10**100)],
         memory_mb=JAX_MB, match="needs about"),
    Case("verify-sparse-1.5GB", ["verify", "{results_sparse}"], match="more than"),
    Case("checkpoint-complex", [*TRAIN, "--checkpoint", "{ck_complex}"], memory_mb=JAX_MB,
         match="bool, integer or float arrays only"),
    Case("checkpoint-encrypted", [*TRAIN, "--checkpoint", "{ck_encrypted}"], memory_mb=JAX_MB,
         match="encrypted zip archive"),
    Case("probe-other-configuration", ["probe", "--cell", "gru", "--depth", "1", "--width", "4", "--symbols", "4",
                                       "--time", "12", "--checkpoint", "{ck_gru_T8}"], memory_mb=JAX_MB,
         match="another configuration"),
]


def _npz(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _meta(**meta) -> np.ndarray:
    return np.frombuffer(json.dumps({"format": "tnrnn-train-checkpoint/1", **meta}).encode(), dtype=np.uint8)


def _bomb(path: Path) -> None:
    """A small zip whose one array declares (and deflates to) 1 GiB of zeros."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**27,)})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.npy", _npz_member(_meta(step=1)))
        with zf.open("p0.npy", "w", force_zip64=True) as fh:
            fh.write(header.getvalue())
            chunk = bytes(2**22)
            for _ in range(256):
                fh.write(chunk)


def _npz_member(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _encrypted(path: Path) -> None:
    """A checkpoint whose zip members are marked encrypted (bit 0 of the general-purpose flags)."""
    path.write_bytes(mark_zip_encrypted(_npz({"meta": _meta(step=1), "p0": np.ones(3)})))


def _listener(reply: bytes) -> int:
    """A loopback port whose listener sends ``reply`` to each connection and then keeps it open, silent."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def serve() -> None:
        while True:
            conn, _ = server.accept()
            conn.sendall(reply)
            held.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


def _inputs(tmp: Path) -> dict[str, str]:
    """The files and ports the cases refer to."""
    import struct

    with open(tmp / "sparse.jsonl", "wb") as fh:
        fh.truncate(3 * 2**29)  # 1.5 GiB of holes: no disk used; must be refused from its size
    (tmp / "ck_complex.npz").write_bytes(_npz({"meta": _meta(step=1), "p0": np.ones(3, dtype=np.complex64)}))
    _encrypted(tmp / "ck_encrypted.npz")
    (tmp / "ck_gru_T8.npz").write_bytes(_npz({"meta": _meta(step=1, model={"cell": "gru", "nonlinearity": "tanh",
                                                                           "forget_bias": 1.0},
                                                            task={"task": "ses", "symbols": 4, "span": 4, "time": 8}),
                                              "p0": np.ones(3)}))
    extra = {"results_sparse": str(tmp / "sparse.jsonl"), "ck_complex": str(tmp / "ck_complex.npz"),
             "ck_encrypted": str(tmp / "ck_encrypted.npz"), "ck_gru_T8": str(tmp / "ck_gru_T8.npz"),
             "one_byte_port": str(_listener(b"\x01")), "garbage_port": str(_listener(struct.pack("<Q", 2**62)))}
    return {**_inputs_before(tmp), **extra}


def _inputs_before(tmp: Path) -> dict[str, str]:
    """The files and ports the first cases refer to."""
    (tmp / "results42.jsonl").write_text("42\n")
    (tmp / "results_utf8.jsonl").write_bytes(b"\xff\xfe\n")
    os.mkfifo(tmp / "fifo")
    (tmp / "ck_empty.npz").write_bytes(b"")
    (tmp / "ck_negative.npz").write_bytes(_npz({"meta": _meta(step=-500), "p0": np.ones(3)}))
    _bomb(tmp / "ck_bomb.npz")
    results = tmp / "ok.jsonl"
    results.write_text("")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return {"tmp": str(tmp), "fifo": str(tmp / "fifo"), "results42": str(tmp / "results42.jsonl"),
            "results_utf8": str(tmp / "results_utf8.jsonl"), "ck_empty": str(tmp / "ck_empty.npz"),
            "ck_negative": str(tmp / "ck_negative.npz"), "ck_bomb": str(tmp / "ck_bomb.npz"),
            "results": str(results), "closed_port": str(port)}


_LOCK = threading.Lock()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, request) -> dict[str, Outcome]:
    """The outcome of every selected case, run in parallel child processes (each in its own folder)."""
    selected = {item.callspec.params["case"].id for item in request.session.items
                if getattr(item, "callspec", None) is not None and "case" in item.callspec.params}
    tmp = tmp_path_factory.mktemp("misuse")
    names = _inputs(tmp)

    def one(case: Case) -> Outcome:
        cwd = tmp / f"cwd-{case.id}"
        cwd.mkdir()
        argv = [a.format(**names) for a in case.argv]
        return run_cli(argv, cwd=cwd, env=case.env, memory_mb=case.memory_mb)

    with ThreadPoolExecutor(max_workers=4) as pool:
        cases = [c for c in CASES if c.id in selected]
        return dict(zip((c.id for c in cases), pool.map(one, cases)))


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=False, reason=c.xfail)] if c.xfail else [])
             for c in CASES])
def test_misuse_is_one_line_exit_2(case: Case, outcomes: dict[str, Outcome]):
    out = outcomes[case.id]
    lines = out.stderr.strip().splitlines()
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert len(lines) == 1, out.stderr[-2000:]
    assert lines[0].startswith("tnrnn"), lines[0]
    assert case.match in lines[0], lines[0]


def test_results_folder_means_a_file_inside_it(tmp_path):
    """Not a misuse: ``--results adir/`` for an existing folder writes ``adir/results.jsonl``."""
    folder = tmp_path / "adir"
    folder.mkdir()
    out = run_cli([*TABLE, "--results", f"{folder}/"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (folder / "results.jsonl").is_file() and not (tmp_path / "adir.json").exists()
