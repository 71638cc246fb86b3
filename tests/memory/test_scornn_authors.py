"""The scoRNN trains as in the authors' released code (Levine et al., long-term memory experiments): one test
per point where an earlier version differed."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from tnrnn.memory.cells import apply_stack, init_stack
from tnrnn.memory.optim import TrainConfig, make_optimizer, scale_learning_rate
from tnrnn.memory.orthogonal import fixed_diagonal


def _grads_like(params, value):
    return jax.tree_util.tree_map(lambda x: jnp.full_like(x, value), params)


def test_skew_parameter_has_its_own_rmsprop_at_1e4():
    """Point 1: A trains with RMSProp at 1e-4 while the rest trains with the main optimiser at 1e-3."""
    params = init_stack(0, "scornn", 3, 4, 1, 2)
    cfg = TrainConfig(optimizer="adam", learning_rate=1e-3, clip_norm=None)
    tx = make_optimizer(cfg)
    updates, _ = tx.update(_grads_like(params, 0.5), tx.init(params), params)
    # first RMSProp step: lr * g / sqrt(0.1 g^2 + eps) = 1e-4 * 0.5 / sqrt(0.025) ~ 3.16e-4
    a_step = np.abs(np.asarray(updates["layers"][0]["A"]))
    np.testing.assert_allclose(a_step, 1e-4 / math.sqrt(0.1), rtol=1e-3)
    # first Adam step of every other leaf: lr * sign(g) = 1e-3
    np.testing.assert_allclose(np.abs(np.asarray(updates["layers"][0]["Wx"])), 1e-3, rtol=1e-3)
    np.testing.assert_allclose(np.abs(np.asarray(updates["readout"]["W"])), 1e-3, rtol=1e-3)


def test_skew_gradient_clipped_elementwise_at_10_and_decayed_with_the_main_rate():
    """Point 1 (continued): |grad A| is clipped at 10 before RMSProp; the plateau factor scales A's step too."""
    params = init_stack(0, "scornn", 3, 4, 1, 2)
    cfg = TrainConfig(optimizer="rmsprop", learning_rate=1e-3, clip_norm=None)
    tx = make_optimizer(cfg)
    state = tx.init(params)
    grads = _grads_like(params, 1.0)
    grads["layers"][0]["A"] = grads["layers"][0]["A"].at[0].set(1e6)
    # clipping makes the huge entry's RMSProp state that of a gradient of 10 (the same first step as any g)
    (_, state_after) = tx.update(grads, state, params)
    nu = [leaf for leaf in jax.tree_util.tree_leaves(state_after) if getattr(leaf, "shape", None) == (6,)]
    assert any(np.isclose(float(n[0]), 0.1 * 100.0, rtol=1e-4) for n in nu)
    full, _ = tx.update(grads, state, params)
    decayed, _ = tx.update(grads, scale_learning_rate(state, 0.1), params)
    np.testing.assert_allclose(np.asarray(decayed["layers"][0]["A"]), 0.1 * np.asarray(full["layers"][0]["A"]),
                               rtol=1e-5)


def test_skew_optimiser_can_be_switched_off():
    params = init_stack(0, "scornn", 3, 4, 1, 2)
    tx = make_optimizer(TrainConfig(optimizer="adam", clip_norm=None, recurrent_learning_rate=None))
    updates, _ = tx.update(_grads_like(params, 0.5), tx.init(params), params)
    np.testing.assert_allclose(np.abs(np.asarray(updates["layers"][0]["A"])), 1e-3, rtol=1e-3)


def test_input_weights_start_uniform_in_a_hundredth():
    """Point 2: input weights U(-0.01, 0.01) (not Glorot)."""
    params = init_stack(3, "scornn", 20, 64, 2, 5)
    for layer in params["layers"]:
        wx = np.asarray(layer["Wx"])
        assert np.abs(wx).max() <= 0.01
        assert np.abs(wx).max() > 0.009  # spread over the whole interval
        assert abs(float(wx.std()) - 0.01 / math.sqrt(3)) < 1e-3


def test_initial_state_is_random_per_batch_and_not_trained():
    """Point 3: no h0 parameter; states drawn U(+-sqrt(3/R)) per sequence, anew for every batch key."""
    R = 16
    params = init_stack(0, "scornn", 3, R, 2, 2)
    assert all("h0" not in layer for layer in params["layers"])
    xs = jnp.zeros((256, 1, 3))
    _, h1 = apply_stack(params, xs, cell="scornn", return_hidden=True, key=jax.random.PRNGKey(1))
    _, h2 = apply_stack(params, xs, cell="scornn", return_hidden=True, key=jax.random.PRNGKey(2))
    _, h_eval = apply_stack(params, xs, cell="scornn", return_hidden=True)
    _, h_eval2 = apply_stack(params, xs, cell="scornn", return_hidden=True)
    assert not np.allclose(np.asarray(h1), np.asarray(h2))          # another batch, other states
    np.testing.assert_array_equal(np.asarray(h_eval), np.asarray(h_eval2))  # evaluation is deterministic
    # with zero input weights the first layer's state is modrelu(h0 W, b=0) = h0 W: norms follow h0's
    key = jax.random.fold_in(jax.random.PRNGKey(7), 0)
    h0 = np.asarray(jax.random.uniform(key, (4096, R), minval=-math.sqrt(3 / R), maxval=math.sqrt(3 / R)))
    assert abs(float((h0 ** 2).sum(axis=1).mean()) - 1.0) < 0.05  # unit expected squared norm


def test_sign_order_of_d_first_half_positive():
    """Point 4: D has its first floor(R/2) entries +1, the rest -1."""
    for R in (1, 2, 5, 8):
        d = np.asarray(fixed_diagonal(R))
        assert d[: R // 2].tolist() == [1.0] * (R // 2)
        assert d[R // 2:].tolist() == [-1.0] * (R - R // 2)


def test_modrelu_bias_is_trained():
    """Point 5: the modReLU bias starts at zero and receives gradient."""
    params = init_stack(0, "scornn", 3, 4, 1, 2)
    assert float(jnp.abs(params["layers"][0]["b"]).max()) == 0.0
    xs = jax.random.normal(jax.random.PRNGKey(0), (8, 5, 3))
    grads = jax.grad(lambda p: jnp.sum(apply_stack(p, xs, cell="scornn") ** 2))(params)
    assert float(jnp.abs(grads["layers"][0]["b"]).max()) > 0.0
    assert optax.tree.norm(grads["layers"][0]["A"]) > 0
