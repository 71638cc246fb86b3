"""No orphans: after SIGKILL of a sweep's parent, none of its processes (workers, fork server) keeps running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_PARENT = textwrap.dedent(
    """
    import sys
    from tnrnn.sweep import run_sweep
    if __name__ == "__main__":
        points = [{"x": x, "sleep": 120} for x in range(4)]
        run_sweep("tnrnn.sweep.demo:square", points, sys.argv[1], executor=sys.argv[2], workers=2, progress=False)
    """
)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":  # a zombie has stopped running
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    running = {p for kids in _children().values() for p in kids}
    return pids & running


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("executor, least", [("local", 3), ("dask", 3)])
def test_sigkill_of_the_parent_leaves_no_process(tmp_path, executor, least):
    if executor == "dask":
        pytest.importorskip("distributed")
    script = tmp_path / "parent.py"  # a file: workers re-import the main module
    script.write_text(_PARENT)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "r.jsonl"), executor], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90  # a hang guard, not a timing assertion
        family: set[int] = set()
        while len(family) < least:  # fork server or nanny processes, and two workers, all started
            assert proc.poll() is None, "the sweep parent ended early"
            assert time.monotonic() < deadline, "the sweep's workers never started"
            time.sleep(0.2)
            family = _descendants(proc.pid)
        time.sleep(1.0)
        family |= _descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        while _alive(family):
            assert time.monotonic() < deadline, f"processes outlived the killed parent: {sorted(_alive(family))}"
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _alive(_descendants(proc.pid)):
            os.kill(pid, signal.SIGKILL)
