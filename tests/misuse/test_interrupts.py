"""An interrupted or failing sweep says one line on stderr: no multiprocessing "leaked semaphore" warning after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD_SECONDS = 300  # a guard against a hung child only, never an assertion on speed
TABLE = ["table", "--depths", "1,2,3", "--times", "2:40:2", "-R", "3", "-M", "3", "--no-progress"]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                JAX_PLATFORMS="cpu", OPENBLAS_NUM_THREADS="1")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_table_prints_one_line(tmp_path, sig):
    results = tmp_path / "t.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "tnrnn", *TABLE, "--workers", "2", "--results", str(results)],
                            cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    # interrupt once the workers have finished a point (the pool is running): the state that used to leak
    while results.read_text().count("\n") < 3 if results.exists() else True:
        if proc.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=HANG_GUARD_SECONDS)
    assert proc.returncode == 130, err
    assert err.splitlines() == ["tnrnn: interrupted (finished results were kept)"], err


def test_a_file_size_limit_prints_one_line(tmp_path):
    pytest.importorskip("resource")
    import resource

    def limit() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))

    proc = subprocess.run([sys.executable, "-m", "tnrnn", *TABLE[:5], "--no-progress", "--workers", "2",
                           "--results", str(tmp_path / "t.jsonl")], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, preexec_fn=limit, timeout=HANG_GUARD_SECONDS)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "File too large" in proc.stderr
