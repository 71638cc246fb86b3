"""Vmapped member training against the package's single-model optimiser (tnrnn.memory.train)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.capacity.vtrain import train_members
from tnrnn.memory.train import TrainConfig, make_optimizer


def _loss(p, d, hp, key):
    return jnp.sum((p["w"] - d) ** 2) * 3.0, {}


@pytest.mark.parametrize("optimizer, schedule", [("adam", "cosine"), ("rmsprop", "exponential")])
def test_each_member_follows_make_optimizer_at_its_own_rate_and_clip(optimizer, schedule):
    data = jnp.array([[1.0, -2.0, 0.5], [4.0, 4.0, -4.0]])
    lrs, clips, steps = [0.05, 0.2], [0.5, 100.0], 30
    out = train_members({"w": jnp.zeros((2, 3))}, data, {"lr": lrs, "clip": clips}, _loss, steps=steps, chunk=7,
                        optimizer=optimizer, schedule=schedule, final_lr_fraction=0.2)
    for m in range(2):
        alone = _single(data[m], TrainConfig(optimizer=optimizer, learning_rate=lrs[m], clip_norm=clips[m],
                                             schedule=schedule, steps=steps, final_lr_fraction=0.2))
        assert np.allclose(out["params"]["w"][m], alone, rtol=1e-5, atol=1e-6)
    # member 0's clip changed its path: without it the single-model run ends elsewhere
    free = _single(data[0], TrainConfig(optimizer=optimizer, learning_rate=lrs[0], clip_norm=None,
                                        schedule=schedule, steps=steps, final_lr_fraction=0.2))
    assert not np.allclose(out["params"]["w"][0], free, rtol=1e-3, atol=1e-4)


def _single(target, config: TrainConfig) -> np.ndarray:
    """The same loss trained alone with the package's one optimiser construction, step by step."""
    tx = make_optimizer(config)

    def step(carry, _):
        p, state = carry
        grads = jax.grad(lambda q: _loss(q, target, None, None)[0])(p)
        updates, state = tx.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), None

    p = {"w": jnp.zeros(3)}
    (p, _), _ = jax.lax.scan(step, (p, tx.init(p)), None, length=config.steps)
    return np.asarray(p["w"])


def test_hyperparameters_are_checked():
    with pytest.raises(TnrnnError, match="one value per member"):
        train_members({"w": jnp.zeros((2, 1))}, None, {"lr": [0.1, 0.2], "clip": [1.0]}, _loss, steps=1)
    with pytest.raises(TnrnnError, match="finite"):
        train_members({"w": jnp.zeros((1, 1))}, None, {"lr": [float("nan")], "clip": [1.0]}, _loss, steps=1)
    with pytest.raises(TnrnnError, match="optimizer"):
        train_members({"w": jnp.zeros((1, 1))}, None, {"lr": [0.1], "clip": [1.0]}, _loss, steps=1,
                      optimizer="sgd")
