"""Run every Python API misuse case in a forked child under resource limits; print one JSON line per case.

Run as ``python -m tests.misuse.api_runner`` (the test starts it once in a fresh, single-threaded interpreter,
so forking is safe). Each case's inputs are built in this process first (building 20,000 tensornetwork nodes is
the test's work, not tnrnn's); the child then calls tnrnn with at most :data:`CPU_SECONDS` of CPU
(``RLIMIT_CPU``: the kernel kills a child that computes longer) and :data:`MEMORY_MB` of address space above
what it inherited (``RLIMIT_AS``: a larger allocation fails). No wall clock is measured.
"""

from __future__ import annotations

import json
import os
import resource
import sys

CPU_SECONDS = 1
MEMORY_MB = 500


def _vm_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0  # pragma: no cover - not Linux


def run_limited(call) -> dict:
    """``call()`` in a forked child under the limits: what it raised (type, class chain, message) or how it died."""
    from tnrnn.base.errors import TnrnnError

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        outcome: dict
        try:
            limit = _vm_bytes() + MEMORY_MB * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
            try:
                call()
                outcome = {"raised": None}
            except BaseException as exc:  # noqa: BLE001 - recording what escaped is the point
                outcome = {"raised": type(exc).__name__, "tnrnn": isinstance(exc, TnrnnError),
                           "message": str(exc)[:2000]}
            os.write(write_end, json.dumps(outcome).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"raised": None, "signal": os.WTERMSIG(status)}
    data = b"".join(chunks)
    return json.loads(data) if data else {"raised": None, "signal": None}


def main() -> None:
    from tests.misuse.api_cases import CASES

    wanted = set(sys.argv[1:])
    for case_id, setup in CASES:
        if wanted and case_id not in wanted:
            continue
        try:
            call = setup()
        except Exception as exc:  # noqa: BLE001 - a case whose input cannot be built here (quimb missing)
            print(json.dumps({"id": case_id, "skip": f"{type(exc).__name__}: {exc}"}), flush=True)
            continue
        print(json.dumps({"id": case_id, **run_limited(call)}), flush=True)


if __name__ == "__main__":
    main()
