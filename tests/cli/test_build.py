"""``tnrnn build``: JSON content, table output, and one-line errors with exit status 2."""

from __future__ import annotations

import argparse
import json
import math

import pytest

from tnrnn.cli import main
from tnrnn.cli.common import MAX_RANGE, int_range


def run_json(capsys, *args):
    assert main(["build", *args, "--json", "--optimizers", "greedy,sequential"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)


def count(c):
    """An exact count of the JSON (``{"value": "<decimal>", "log2": float}``) as an int, checking its shape."""
    if c is None:
        return None
    assert set(c) == {"value", "log2"} and isinstance(c["value"], str), c
    value = int(c["value"])
    assert value == 0 or abs(c["log2"] - math.log2(value)) < 1e-9
    return value


@pytest.mark.parametrize("L, T, form", [(1, 5, "continuous"), (2, 6, "continuous"), (3, 4, "grid"), (2, 3, "grid")])
def test_json_holds_counts_and_contraction(capsys, L, T, form):
    data = run_json(capsys, "--depth", str(L), "--width", "3", "--features", "2", "--time", str(T), "--form", form,
                    "--batch", "8")
    n = [math.comb(T - j + L - 1, L - 1) for j in range(1, T + 1)]
    assert data["input_copies"] == n
    assert data["total_input_copies"] == math.comb(T + L - 1, L)
    assert (data["depth"], data["width"], data["features"], data["time"], data["form"]) == (L, 3, 2, T, form)
    instances = sum(math.comb(T - t + L - l, L - l) for t in range(1, T + 1) for l in range(1, L + 1))
    ties = sum(1 for c in n if c > 1) if form == "grid" else 0
    assert data["nodes"] == 3 * instances + 1 + ties  # copy, W_I, W_H-or-init per instance; W_O; ties
    # Every edge is a bond or an open leg.
    assert data["edges"] == data["bonds"] + data["open_legs"]
    assert data["open_legs"] == (sum(n) if form == "continuous" else T) + 1
    c = data["contraction"]
    assert c["batch"] == 8
    assert count(c["flops"]) > 0 and count(c["peak_bytes"]) > 0 and count(c["largest_intermediate"]) > 0
    # the CLI's default finders, the best one's path possibly refined by subtree reconfiguration
    assert c["path_optimizer"].removesuffix("+reconf") in ("greedy", "sequential")
    # the chosen finder is the cheapest one tried (candidates are compared at the planning batch size)
    tried = {k: count(v) for k, v in c["candidates"].items()}
    assert tried[c["path_optimizer"]] == min(v for v in tried.values() if v is not None)


def test_contraction_cost_grows_with_the_batch(capsys):
    small = run_json(capsys, "-L", "1", "-R", "4", "-M", "3", "-T", "6", "--batch", "1")["contraction"]
    big = run_json(capsys, "-L", "1", "-R", "4", "-M", "3", "-T", "6", "--batch", "100")["contraction"]
    assert count(big["flops"]) > 50 * count(small["flops"])
    assert count(big["peak_bytes"]) > count(small["peak_bytes"])


def test_table_output(capsys):
    assert main(["build", "-L", "2", "-R", "2", "-M", "2", "-T", "4", "--optimizers", "greedy"]) == 0
    out = capsys.readouterr().out
    assert "input copies" in out and "[4, 3, 2, 1]" in out
    assert "total input copies" in out and "10" in out
    assert "path optimizer" in out and "greedy" in out


def test_too_large_to_plan_is_reported_not_failed(capsys):
    data = run_json(capsys, "-L", "3", "-R", "2", "-M", "2", "-T", "40")
    assert data["contraction"]["flops"] is None and "recurrence" in data["contraction"]["note"]
    assert data["total_input_copies"] == math.comb(42, 3)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--width", "0"], "--width"),
        (["--time", "-2"], "--time"),
        (["--depth", "two"], "--depth"),
        (["--form", "tree"], "--form"),
        (["--batch", "0"], "--batch"),
        (["--optimizers", "magic"], "--optimizers must be among"),
        (["--depth", "4", "--time", "400"], "nodes"),
        (["--depth", "1000000", "--time", "1000000"], "~10^602057 nodes"),
        (["--depth", "1", "--time", "1000000000"], "3,000,000,001 nodes"),
        (["--width", "1000000000000"], "more than an array can index"),
        (["--time", "1e3"], "--time"),
    ],
)
def test_misuse_exits_2_with_one_line(capsys, args, match):
    assert main(["build", *args]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == ""
    assert len(err.splitlines()) == 1 and match in err
    assert "Traceback" not in err


def test_huge_width_is_estimated_without_allocating_weights(capsys):
    # R = 10**5: the structure-only network used dense zero weights (a 75 GiB MemoryError traceback).
    c = run_json(capsys, "--width", "100000", "--time", "3")["contraction"]
    assert count(c["peak_bytes"]) > 10 * 2**30


@pytest.mark.parametrize("text, match", [("1:10000000000", "at most"), ("2:8:0", "step"), ("8:2", "empty range"),
                                         ("a:3", "integers")])
def test_int_range_refuses_bad_and_oversized_ranges(text, match):
    with pytest.raises(argparse.ArgumentTypeError, match=match):
        int_range(text)
    assert int_range(f"1:{MAX_RANGE}") == list(range(1, MAX_RANGE + 1))
    assert int_range("2:8:3") == [2, 5, 8] and int_range("4,2") == [4, 2]


def test_a_53_digit_candidate_is_an_exact_count_not_a_double(capsys):
    # The time-ordered sweep of a deep network costs about 1e52 flops: a raw JSON integer that readers parsing
    # numbers as doubles would round; the count's decimal text keeps every digit.
    data = json.loads(main(["build", "-L", "3", "-R", "4", "-M", "4", "-T", "8", "--json", "--optimizers",
                            "sequential,greedy"]) == 0 and capsys.readouterr().out)
    seq = count(data["contraction"]["candidates"]["sequential"])
    assert seq > 2**53 and str(seq) == data["contraction"]["candidates"]["sequential"]["value"]
    assert count(data["contraction"]["flops"]) <= count(data["contraction"]["candidates"]["greedy"])
