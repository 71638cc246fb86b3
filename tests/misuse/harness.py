"""Run the ``tnrnn`` command line in a child process under resource limits, for the misuse corpus.

The limits are the bounds a misuse must stay within: address space (``RLIMIT_AS``: memory is refused, not
exhausted) and CPU seconds (``RLIMIT_CPU``: a refusal is quick, a runaway computation is killed by the kernel
and the test fails on its signal). The wall-clock timeout is only a guard against hangs (a process blocked
on a FIFO or a silent socket uses no CPU), never an assertion on speed.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MiB = 2**20
PRLIMIT = shutil.which("prlimit")
HANG_GUARD_SECONDS = 300  # generous: a loaded machine may run a jax start-up for minutes


@dataclass(frozen=True)
class Outcome:
    """Exit status and output of one command."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(argv: list[str], *, cwd: Path, env: dict | None = None, memory_mb: int = 1536,
            cpu_seconds: int = 30) -> Outcome:
    """``python -m tnrnn *argv`` with at most ``memory_mb`` of address space and ``cpu_seconds`` of CPU."""

    def limits() -> None:  # pragma: no cover - runs in the child, only where prlimit(1) is missing
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MiB, memory_mb * MiB))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))

    # prlimit(1) sets the limits without running Python code between fork and exec, which can deadlock in a
    # process that has started jax's threads; the preexec function is the fallback
    prefix = [PRLIMIT, f"--as={memory_mb * MiB}", f"--cpu={cpu_seconds}"] if PRLIMIT else []
    full_env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                    JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3", OPENBLAS_NUM_THREADS="1", **(env or {}))
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "tnrnn", *argv], cwd=cwd, env=full_env,
                              capture_output=True, text=True, errors="replace", timeout=HANG_GUARD_SECONDS,
                              preexec_fn=None if PRLIMIT else limits, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Outcome(-1, "", f"hang guard: no exit within {HANG_GUARD_SECONDS} s")
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def mark_zip_encrypted(data: bytes) -> bytes:
    """The zip archive ``data`` with every member marked encrypted (bit 0 of the general-purpose flags of each
    local header, offset 6, and central directory entry, offset 8), as a zip tool that encrypts would."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.find(signature)
        while at >= 0:
            out[at + offset] |= 0x1
            at = out.find(signature, at + 4)
    return bytes(out)
