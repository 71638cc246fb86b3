"""Vmapped training, and the bits / per-unit / trainability point functions and summaries."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.capacity.bits import bits_point, bits_points, fit_slope, summarize_bits
from tnrnn.capacity.info import stored_bits
from tnrnn.capacity.trainability import draw_hyperparameters, summarize_trainability, trainability_points
from tnrnn.capacity.units import linear_bound, units_point
from tnrnn.capacity.vtrain import train_members


def _quad_loss(p, d, hp, key):
    return jnp.mean((p["w"] - d) ** 2), {}


def _noisy_loss(p, d, hp, key):
    noise = 0.1 * jax.random.normal(key, d.shape)  # depends on the member's key
    return jnp.mean((p["w"] - d - noise) ** 2), {}


def test_vmapped_members_equal_separate_runs():
    data = jnp.array([[1.0, 2.0], [-1.0, 0.5], [3.0, 3.0]])
    hps = {"lr": [0.05, 0.01, 0.2], "clip": [10.0, 0.5, 1.0]}
    together = train_members({"w": jnp.zeros((3, 2))}, data, hps, _quad_loss, steps=40, chunk=15)
    for m in range(3):
        alone = train_members({"w": jnp.zeros((1, 2))}, data[m:m + 1], {k: v[m:m + 1] for k, v in hps.items()},
                              _quad_loss, steps=40, chunk=40)
        assert np.allclose(together["params"]["w"][m], alone["params"]["w"][0], atol=1e-5)
    # the smallest learning rate (and tightest clip) moved least towards its target
    moved = np.abs(np.asarray(together["params"]["w"])).sum(1) / np.abs(np.asarray(data)).sum(1)
    assert moved[1] < moved[0] and moved[1] < moved[2]
    # member 0 draws with fold_in(seed, 0) whether alone or not; the seed changes the draws
    a = train_members({"w": jnp.zeros((2, 2))}, data[:2], {k: v[:2] for k, v in hps.items()}, _noisy_loss,
                      steps=20, chunk=20, seed=4)
    b = train_members({"w": jnp.zeros((1, 2))}, data[:1], {k: v[:1] for k, v in hps.items()}, _noisy_loss,
                      steps=20, chunk=20, seed=4)
    c = train_members({"w": jnp.zeros((1, 2))}, data[:1], {k: v[:1] for k, v in hps.items()}, _noisy_loss,
                      steps=20, chunk=20, seed=5)
    assert np.allclose(a["params"]["w"][0], b["params"]["w"][0], atol=1e-6)
    assert not np.allclose(b["params"]["w"][0], c["params"]["w"][0], atol=1e-6)


def test_a_diverging_member_is_frozen_and_flagged_while_others_train():
    loss = lambda p, d, hp, key: (jnp.mean(jnp.log(p["w"])), {})  # noqa: E731  (NaN once w < 0)
    out = train_members({"w": jnp.ones((2, 1))}, None, {"lr": [0.5, 1e-3], "clip": [1.0, 1.0]}, loss,
                        steps=30, chunk=10)
    assert out["diverged"].tolist() == [True, False]
    assert np.isfinite(np.asarray(out["params"]["w"])).all() and float(out["params"]["w"][0, 0]) > 0
    assert float(out["params"]["w"][1, 0]) < 1.0


def test_train_members_bad_hyperparameters():
    with pytest.raises(TnrnnError, match="lr"):
        train_members({"w": jnp.zeros((1,))}, None, {"lr": [0.1]}, _quad_loss, steps=1)
    with pytest.raises(TnrnnError, match="positive"):
        train_members({"w": jnp.zeros((1,))}, None, {"lr": [-0.1], "clip": [1.0]}, _quad_loss, steps=1)


@pytest.mark.slow  # two trainings of 300 steps: about 15 s
def test_bits_point_memorises_a_small_set():
    r = bits_point(cell="rnn", budget=150, b_multiple=0.25, learning_rates=[2e-2, 1e-4], seeds=[0], n_in=8,
                   steps=300, batch_size=64, chunk=150)
    good, slow = r["runs"]
    assert good["accuracy"] > 0.9  # about 37 labels and 150 parameters: memorised
    assert good["bits"] == pytest.approx(stored_bits(r["b"], good["accuracy"]))
    assert slow["bits"] < good["bits"]  # a learning rate 200 times smaller stores less in the same steps
    assert r["num_params"] <= 150 and r["b"] == round(0.25 * r["num_params"])


def _rec(cell, budget, P, mult, runs):
    return {"status": "ok", "seconds": 1.0, "result": {"cell": cell, "depth": 1, "budget": budget, "width": 3,
                                                       "num_params": P, "b": int(mult * P), "b_multiple": mult,
                                                       "runs": runs}}


def _run(lr, seed, bits):
    return {"learning_rate": lr, "seed": seed, "bits": bits, "accuracy": 0.9, "diverged": False}


def test_summarize_bits_takes_the_max_of_seed_means():
    records = [
        _rec("rnn", 100, 100, 1.0, [_run(0.1, 0, 80), _run(0.1, 1, 60), _run(0.01, 0, 90), _run(0.01, 1, 10)]),
        _rec("rnn", 100, 100, 2.0, [_run(0.1, 0, 75), _run(0.1, 1, 75), _run(0.01, 0, 0), _run(0.01, 1, 0)]),
        _rec("rnn", 1000, 1000, 1.0, [_run(0.1, 0, 700), _run(0.1, 1, 700)]),
        {"status": "error", "params": {"cell": "gru"}, "error": "ValueError: boom", "seconds": 0.5},
    ]
    s = summarize_bits(records, {"steps": 5})
    small = next(x for x in s["sizes"] if x["num_params"] == 100)
    assert small["capacity_bits"] == 75.0 and small["best_b_multiple"] == 2.0  # mean 75 beats means 70 and 50
    assert small["max_single_run_bits"] == 90 and small["bits_per_param"] == 0.75
    assert s["slopes"]["rnn"] == pytest.approx(math.log(700 / 75) / math.log(10))
    assert len(s["errors"]) == 1 and s["training"]["total_point_seconds"] == 3.5


def test_fit_slope_and_points():
    assert fit_slope([10, 100], [5, 50]) == pytest.approx(1.0)
    assert fit_slope([10], [5]) is None
    assert [p["depth"] for p in bits_points(["gru", "+rnn"], [2000], [1])] == [1, 2]
    with pytest.raises(TnrnnError, match="too small"):
        bits_points(["lstm"], [20], [1])
    with pytest.raises(TnrnnError, match="unknown cell"):
        bits_points(["elman"], [1000], [1])


@pytest.mark.slow  # three trainings: about 30 s
def test_per_unit_error_falls_as_units_grow():
    errs = []
    for N in (1, 3, 6):
        r = units_point(cell="rnn", units=N, n_in=6, delay=2, learning_rates=[2e-2], steps=300, batch_size=64,
                        eval_batch_size=2048, chunk=150)
        errs.append(r["runs"][0]["normalized_error"])
        assert r["bound"] == pytest.approx(max(0.0, 1 - N / 6))
    assert errs[0] > errs[1] > errs[2]
    # and close to the one-number-per-unit line
    assert np.allclose(errs, linear_bound([1, 3, 6], 6), atol=0.12)


def test_hyperparameter_draws_are_deterministic_and_in_range():
    a, b = draw_hyperparameters(50, draw_seed=3), draw_hyperparameters(50, draw_seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["lr"], draw_hyperparameters(50, draw_seed=4)["lr"])
    assert (a["lr"] >= 1e-4).all() and (a["lr"] <= 1.0).all()
    assert (a["forget_bias"] >= -1).all() and (a["forget_bias"] <= 3).all()
    # log-uniform: about half the draws below the geometric middle of the range
    assert 0.3 < np.mean(a["lr"] < 1e-2) < 0.7
    with pytest.raises(TnrnnError):
        draw_hyperparameters(3, lr_range=(0.1, 0.01))


def test_trainability_summary_counts_failures():
    runs = [
        {"diverged": True, "failed": True, "final_loss": None, "initial_loss": 1.8, "final_accuracy": 0.1},
        {"diverged": False, "failed": True, "final_loss": 2.0, "initial_loss": 1.8, "final_accuracy": 0.2},
        {"diverged": False, "failed": False, "final_loss": 0.5, "initial_loss": 1.8, "final_accuracy": 0.9},
        {"diverged": False, "failed": False, "final_loss": 1.0, "initial_loss": 1.8, "final_accuracy": 0.7},
    ]
    rec = {"status": "ok", "seconds": 2.0, "result": {"cell": "gru", "depth": 2, "width": 4, "num_params": 99,
                                                       "task": {"max_count": 5}, "baseline_loss": 1.2,
                                                       "baseline_loss_expected": 1.25, "runs": runs}}
    summary = summarize_trainability([rec], {})
    row = summary["rows"][0]
    assert row["failed_fraction"] == 0.5 and row["diverged_fraction"] == 0.25
    assert row["above_initial_fraction"] == 0.25
    assert row["median_final_loss"] == 1.5 and row["best_final_loss"] == 0.5 and row["best_accuracy"] == 0.9
    # 1.0 is below the baseline 1.2 (it learned something), 2.0 is not: with the diverged draw, 2 of 4
    assert row["above_baseline_fraction"] == 0.25 and row["learned_nothing_fraction"] == 0.5
    assert row["chance_loss"] == pytest.approx(math.log(6)) and summary["baseline_loss"] == 1.25
    # a draw between its initial loss and the baseline learned too little to count: final 1.3 >= 1.2
    runs[3]["final_loss"] = 1.3
    assert summarize_trainability([rec], {})["rows"][0]["learned_nothing_fraction"] == 0.75


def test_trainability_points_skip_a_shallow_plusrnn():
    pts = trainability_points(["plusrnn", "rnn"], [1, 2], budget=3000)
    assert [(p["cell"], p["depth"]) for p in pts] == [("plusrnn", 2), ("rnn", 1), ("rnn", 2)]
    # depth 8 at the preset's budget still leaves every cell a few units per layer
    assert [p["depth"] for p in trainability_points(["rnn", "gru", "plusrnn"], [8], budget=2000)] == [8, 8, 8]


@pytest.mark.slow  # compiling eight stacked layers for two draws: about 15 s of CPU
def test_a_depth_8_point_runs_and_scores_the_no_learning_baseline():
    from tnrnn.capacity.tasks import ParenthesesCounting
    from tnrnn.capacity.trainability import trainability_point

    r = trainability_point(cell="gru", depth=8, budget=2000, draws=2, time=6, steps=4, batch_size=4,
                           eval_batch_size=64, chunk=4)
    task = ParenthesesCounting(time=6)
    assert r["depth"] == 8 and r["num_params"] <= 2000 and len(r["runs"]) == 2
    assert r["baseline_loss_expected"] == pytest.approx(task.no_learning_loss())
    assert abs(r["baseline_loss"] - r["baseline_loss_expected"]) < 0.15  # 64 held-out sequences
    for run in r["runs"]:
        assert run["learned_nothing"] == (run["diverged"] or not run["final_loss"] < r["baseline_loss"])
