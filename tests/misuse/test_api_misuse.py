"""Every Python API misuse of the corpus raises ``TnrnnError`` (or a subclass) with one line, within one second
of CPU and 500 MB of memory, enforced by resource limits in a child process (:mod:`tests.misuse.api_runner`);
complex weights given to ``separation_bounds`` give the rank over C."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.misuse.api_cases import CASES

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD_SECONDS = 600  # only a guard against a hung runner, never an assertion on speed


@pytest.fixture(scope="module")
def outcomes() -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "tests.misuse.api_runner"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=HANG_GUARD_SECONDS)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, proc.stderr[-2000:]
    return {d["id"]: d for d in lines}


@pytest.mark.parametrize("case_id", [case_id for case_id, _ in CASES])
def test_api_misuse_raises_tnrnn_error_quickly(outcomes, case_id):
    outcome = outcomes.get(case_id)
    assert outcome is not None, f"the runner stopped before {case_id}"
    if "skip" in outcome:
        pytest.skip(outcome["skip"])
    assert outcome.get("signal") is None, f"killed by signal {outcome['signal']} (CPU or memory limit)"
    assert outcome["raised"] is not None, "accepted: no error raised"
    assert outcome["tnrnn"], f"{outcome['raised']} is not a TnrnnError: {outcome['message']}"
    message = outcome["message"]
    assert message and "\n" not in message and "\r" not in message and "\x1b" not in message


def test_the_limits_catch_a_runaway_call():
    # The harness itself must be able to fail: a call that computes for long is killed by RLIMIT_CPU, one that
    # allocates a gigabyte fails under RLIMIT_AS.
    from tests.misuse.api_runner import run_limited

    def spin() -> None:
        while True:
            pass

    assert run_limited(spin).get("signal") is not None
    assert run_limited(lambda: np.ones(2**30, dtype=np.uint8))["raised"] == "MemoryError"


def test_complex_given_weights_give_the_rank_over_c():
    import tnrnn

    a = np.array([[1, 1j], [1, -1j]])              # rank 2 over C; its real part [[1, 0], [1, 0]] has rank 1
    b = np.array([[2, 1j], [0, 1]])
    m = np.einsum("ab,bc->ac", a, b)               # independent: numpy's product and rank
    report = tnrnn.separation_bounds(("ab,bc->ac", [a, b]), ["a"], weights="given")
    assert report.given_rank == np.linalg.matrix_rank(m) == 2
    assert np.linalg.matrix_rank(m.real) == 1      # what dropping the imaginary parts would have reported
    assert "over C" in report.given_rank_kind
    low = np.array([[1, 1j], [1j, -1]])           # rank 1 over C (second row = i * first)
    assert tnrnn.separation_bounds(("ab->ab", [low]), ["a"], weights="given").given_rank == 1


def test_the_tensor_limit_is_for_user_networks_not_tnrnns_own_rac_networks():
    import tnrnn
    from tnrnn.base.validate import MAX_TENSORS
    from tnrnn.network.build import build_network

    spec = tnrnn.RACSpec(3, 2, 2)
    net = build_network(spec, 34, form="grid")
    assert len(net.nodes) > MAX_TENSORS
    # the explicit max-flow on the whole network, cross-checked by the structured dynamic programme
    explicit = tnrnn.network_mincut(net, "start-end").value
    assert explicit == tnrnn.rac_mincut(spec, 34, "start-end", form="grid").value
