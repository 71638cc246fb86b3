"""The authors' protocol: plateau counting in evaluation checks, learning-rate decay inside the optimiser
state, early stop at the second plateau, best-validation parameters, resumable plateau state."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.memory.protocol import Plateau, protocol_settings
from tnrnn.memory.train import (
    TrainConfig,
    learning_rate_factor,
    make_optimizer,
    scale_learning_rate,
    train,
)


def test_plateau_counts_checks_decays_then_stops():
    p = Plateau(patience=3, max_plateaus=2)
    losses = [1.0, 0.9, 0.9, 0.95, 0.9,   # three checks without improvement: first plateau
              0.5, 0.5, 0.5, 0.5]         # improvement resets the count; three more: second plateau
    actions = [p.update(v, i) for i, v in enumerate(losses)]
    assert actions == ["improved", "improved", "wait", "wait", "decay", "improved", "wait", "wait", "stop"]
    assert (p.best, p.best_step, p.plateaus) == (0.5, 5, 2)


def test_plateau_ignores_tiny_improvements_and_nan():
    p = Plateau(patience=2)
    assert p.update(1.0, 0) == "improved"
    assert p.update(1.0 - 1e-6, 1) == "wait"  # below the minimum improvement
    assert p.update(float("nan"), 2) == "decay"
    assert Plateau.from_json(p.to_json()) == p


def test_learning_rate_factor_lives_in_the_optimiser_state():
    tx = make_optimizer(TrainConfig(optimizer="rmsprop", clip_norm=None, learning_rate=0.5))
    state = tx.init({"w": jnp.zeros(2)})
    grads = {"w": jnp.ones(2)}
    full, _ = tx.update(grads, state)
    small, _ = tx.update(grads, scale_learning_rate(state, 0.1))
    np.testing.assert_allclose(np.asarray(small["w"]), 0.1 * np.asarray(full["w"]), rtol=1e-6)
    assert learning_rate_factor(scale_learning_rate(scale_learning_rate(state, 0.1), 0.1)) == pytest.approx(0.01)


def test_optimizer_is_vmappable_per_member_factor():
    # capacity trains many members under vmap with one optax transformation: each keeps its own factor
    tx = make_optimizer(TrainConfig(optimizer="adam", learning_rate=0.1))
    params = {"w": jnp.zeros((3, 2))}
    states = jax.vmap(tx.init)(params)
    states = scale_learning_rate(states, jnp.array([1.0, 0.1, 0.0]))
    updates, _ = jax.vmap(tx.update)({"w": jnp.ones((3, 2))}, states, params)
    u = np.asarray(updates["w"])
    np.testing.assert_allclose(u[1], 0.1 * u[0], rtol=1e-6)
    assert (u[2] == 0).all() and (u[0] != 0).all()


def _toy():
    # Training pushes w up forever; the held-out loss (w - 1)^2 improves until w passes 1, then worsens.
    loss = lambda p, b: (-p["w"] + 0.0 * jnp.sum(b), {})  # noqa: E731
    held_out = lambda p, b: {"loss": (p["w"] - 1.0) ** 2}  # noqa: E731
    sample = lambda key, n: jnp.zeros((n,))  # noqa: E731
    return loss, held_out, sample


def test_protocol_decays_stops_and_returns_best_parameters():
    loss, held_out, sample = _toy()
    cfg = TrainConfig(optimizer="rmsprop", learning_rate=0.05, clip_norm=None, steps=2000, eval_every=5,
                      batch_size=2, plateau_patience=2, plateau_factor=0.1, max_plateaus=2, restore_best=True)
    res = train({"w": jnp.zeros(())}, loss, sample, cfg, eval_fn=held_out, eval_batch=jnp.zeros(2), progress=False)
    actions = [h["plateau"] for h in res.history]
    assert res.stopped_early and res.plateaus == 2 and res.steps_done < 2000
    assert actions.count("decay") == 1 and actions[-1] == "stop"
    decay_at = actions.index("decay")
    # the chunk after the first plateau runs at a tenth of the rate (an entry records the rate it ran at)
    assert res.history[decay_at + 1]["lr"] == pytest.approx(0.1 * res.history[decay_at]["lr"])
    assert actions[decay_at - 1] == "wait"
    # the returned parameters are those of the best held-out loss, and so is the reported metric
    best = min(h["eval_loss"] for h in res.history)
    assert res.final["loss"] == pytest.approx(best)
    assert float((res.params["w"] - 1.0) ** 2) == pytest.approx(best, abs=1e-7)
    assert res.history[[h["step"] for h in res.history].index(res.best_step)]["eval_loss"] == pytest.approx(best)


def test_without_restore_best_the_last_parameters_are_returned():
    loss, held_out, sample = _toy()
    cfg = TrainConfig(optimizer="rmsprop", learning_rate=0.05, clip_norm=None, steps=200, eval_every=5,
                      batch_size=2, plateau_patience=2)
    res = train({"w": jnp.zeros(())}, loss, sample, cfg, eval_fn=held_out, eval_batch=jnp.zeros(2), progress=False)
    assert res.final["loss"] == pytest.approx(res.history[-1]["eval_loss"])
    assert res.final["loss"] > min(h["eval_loss"] for h in res.history)


def test_protocol_resume_is_exact(tmp_path):
    loss, held_out, sample = _toy()
    cfg = TrainConfig(optimizer="rmsprop", learning_rate=0.05, clip_norm=None, steps=300, eval_every=5,
                      batch_size=2, plateau_patience=2, restore_best=True)
    kw = dict(eval_fn=held_out, eval_batch=jnp.zeros(2), progress=False)
    full = train({"w": jnp.zeros(())}, loss, sample, cfg, **kw)
    ck = tmp_path / "ck.npz"
    train({"w": jnp.zeros(())}, loss, sample, cfg, checkpoint=ck, until=full.best_step + 5, **kw)
    resumed = train({"w": jnp.zeros(())}, loss, sample, cfg, checkpoint=ck, **kw)
    assert (resumed.steps_done, resumed.best_step, resumed.plateaus) == (full.steps_done, full.best_step,
                                                                        full.plateaus)
    assert float(resumed.params["w"]) == pytest.approx(float(full.params["w"]), rel=1e-6)


def test_authors_preset_and_bad_settings():
    s = protocol_settings("authors")
    assert (s["optimizer"], s["learning_rate"], s["batch_size"], s["steps"]) == ("rmsprop", 1e-3, 128, 50_000)
    assert (s["eval_every"], s["plateau_patience"], s["max_plateaus"]) == (1000, 10, 2)
    assert (s["eval_batch_size"], s["test_batch_size"], s["restore_best"]) == (5000, 10_000, True)
    TrainConfig.from_dict(s)  # a valid configuration
    with pytest.raises(TnrnnError, match="unknown protocol"):
        protocol_settings("fast")
    with pytest.raises(TnrnnError, match="plateau_factor"):
        TrainConfig(plateau_factor=0.0)
    with pytest.raises(TnrnnError, match="plateau_patience"):
        TrainConfig(plateau_patience=0)
    assert math.isinf(Plateau(1).best)
