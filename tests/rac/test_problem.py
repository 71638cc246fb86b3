"""The validated problem object (tnrnn/rac/problem.py) and the partition size check."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.rac.partition import MAX_STEPS, make_partition
from tnrnn.rac.problem import MAX_CELLS, make_problem
from tnrnn.rac.spec import RACSpec


def test_problem_is_frozen_and_complete():
    pr = make_problem(RACSpec(2, 2, 2), 6, "odd-even", "continuous", seeds=3, primes=[1000003], budget_mb=64,
                      certify_seconds=2)
    assert pr.partition.A == (1, 3, 5) and pr.seeds == (0, 1, 2) and pr.primes == (1000003,)
    assert pr.budget_bytes == 64 * 2**20 and pr.certify_seconds == 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        pr.T = 8  # type: ignore[misc]
    assert pr.to_json()["partition"]["name"] == "odd-even"


def test_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TNRNN_MAX_BYTES", "3M")
    assert make_problem(RACSpec(1, 2, 2), 4).budget_bytes == 3 * 2**20
    monkeypatch.setenv("TNRNN_MAX_BYTES", "inf")
    with pytest.raises(TnrnnError, match="TNRNN_MAX_BYTES"):
        make_problem(RACSpec(1, 2, 2), 4)


@pytest.mark.parametrize("kwargs,needle", [
    ({"T": 10**8}, "time steps"),
    ({"T": MAX_CELLS // 2 + 2}, "cells"),
    ({"domain": "reals"}, "domain"),
    ({"certify_seconds": -1}, "certify_seconds"),
    ({"certify_seconds": float("nan")}, "certify_seconds"),
    ({"output": 1}, "output"),
    ({"seeds": 0}, "seeds"),
    ({"primes": [100]}, "prime"),
    ({"budget_mb": 1, "budget_bytes": 5}, "once"),
])
def test_bad_problems_refused(kwargs, needle):
    args = {"spec": RACSpec(2, 2, 2), "T": 4}
    args.update(kwargs)
    with pytest.raises(TnrnnError, match=needle):
        make_problem(**args)


def test_partition_refuses_before_building_tuples():
    with pytest.raises(ResourceError, match="time steps"):
        make_partition(MAX_STEPS + 2)
    assert len(make_partition(MAX_STEPS).A) == MAX_STEPS // 2


def test_cli_refuses_a_huge_T_under_a_1_gb_address_limit():
    # issue: partitions used to be built as T-long tuples before any check (8 GB at T = 10^8)
    cmd = [sys.executable, "-m", "tnrnn", "rank", "-L", "4", "-R", "8", "-M", "8", "-T", "100000000"]
    try:
        proc = subprocess.run(["prlimit", "--as=1000000000", *cmd], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "time steps" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
