"""Recurrent cells: one step against scalar formulas, stacks against step loops and the RAC recurrence,
parameter counts, budget sizing and bad input."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import TnrnnError
from tnrnn.memory.cells import (
    CELLS,
    GATES,
    apply_stack,
    cell_step,
    init_layer,
    init_stack,
    initial_carry,
    num_params,
    width_for_budget,
)

# ---------------------------------------------------------------------------------------------- helpers
# Plain-Python reference of the cell equations (Collins et al., ICLR 2017; scoRNN: Helfrich et al., ICML 2018),
# written with scalar loops over units and numpy's inverse, independent of the vectorised code in tnrnn.memory.


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def relu(v):
    return max(v, 0.0)


def pre(x, h, Wx, Wh, b, block, R):
    """Pre-activation of gate block `block` (columns block*R .. block*R+R-1)."""
    out = []
    for j in range(R):
        col = block * R + j
        v = b[col] if b is not None else 0.0
        v += sum(x[i] * Wx[i][col] for i in range(len(x)))
        if Wh is not None:
            v += sum(h[i] * Wh[i][col] for i in range(len(h)))
        out.append(v)
    return out


def scornn_reference_W(vec, R):
    """(I + A)^-1 (I - A) D by numpy's inverse, A filled entry by entry from the upper-triangle vector."""
    A = np.zeros((R, R))
    k = 0
    for i in range(R):
        for j in range(i + 1, R):
            A[i, j], A[j, i] = vec[k], -vec[k]
            k += 1
    D = np.diag([1.0] * (R // 2) + [-1.0] * (R - R // 2))  # the authors' sign order: first floor(R/2) are +1
    return (np.linalg.inv(np.eye(R) + A) @ (np.eye(R) - A) @ D).tolist()


def reference_step(cell, p, carry, x, s=math.tanh, fb=1.0):
    P = {k: np.asarray(v).tolist() for k, v in p.items()}
    R = len(P["b"]) if cell == "scornn" else len(P["h0"])
    if cell == "scornn":
        W = scornn_reference_W(np.asarray(p["A"]), R)
        z = [sum(x[i] * P["Wx"][i][j] for i in range(len(x))) + sum(carry[i] * W[i][j] for i in range(R))
             for j in range(R)]
        return [math.copysign(relu(abs(v) + P["b"][j]), v) if v else 0.0 for j, v in enumerate(z)], None
    if cell == "rac":
        a = pre(x, None, P["W_I"], None, None, 0, R)
        c = [sum(carry[i] * P["W_H"][i][j] for i in range(R)) for j in range(R)]
        return [a[j] * c[j] for j in range(R)], None
    if cell in ("rnn", "irnn"):
        return [s(v) for v in pre(x, carry, P["Wx"], P["Wh"], P["b"], 0, R)], None
    if cell == "ugrnn":
        c = [s(v) for v in pre(x, carry, P["Wx"], P["Wh"], P["b"], 0, R)]
        g = [sig(v + fb) for v in pre(x, carry, P["Wx"], P["Wh"], P["b"], 1, R)]
        return [g[j] * carry[j] + (1 - g[j]) * c[j] for j in range(R)], None
    if cell == "gru":
        r = [sig(v) for v in pre(x, carry, P["Wx"], P["Wh"], P["b"], 0, R)]
        u = [sig(v + fb) for v in pre(x, carry, P["Wx"], P["Wh"], P["b"], 1, R)]
        rh = [r[j] * carry[j] for j in range(R)]
        xc = pre(x, None, P["Wx"], None, P["b"], 2, R)
        c = [s(xc[j] + sum(rh[i] * P["Whc"][i][j] for i in range(R))) for j in range(R)]
        return [u[j] * carry[j] + (1 - u[j]) * c[j] for j in range(R)], None
    if cell == "lstm":
        h, cprev = carry
        i_ = [sig(v) for v in pre(x, h, P["Wx"], P["Wh"], P["b"], 0, R)]
        f = [sig(v + fb) for v in pre(x, h, P["Wx"], P["Wh"], P["b"], 1, R)]
        o = [sig(v) for v in pre(x, h, P["Wx"], P["Wh"], P["b"], 2, R)]
        g = [s(v) for v in pre(x, h, P["Wx"], P["Wh"], P["b"], 3, R)]
        c = [f[j] * cprev[j] + i_[j] * g[j] for j in range(R)]
        return [o[j] * math.tanh(c[j]) for j in range(R)], c
    if cell == "plusrnn":
        yin = [relu(v) for v in pre(x, carry, P["Wx"], P["Wh"], P["b"], 0, R)]
        hin = [math.tanh(v) for v in pre(x, carry, P["Wx"], P["Wh"], P["b"], 1, R)]
        gy = [sig(v + fb) for v in pre(x, carry, P["Wx"], P["Wh"], P["b"], 2, R)]
        gh = [sig(v + fb) for v in pre(x, carry, P["Wx"], P["Wh"], P["b"], 3, R)]
        y = [gy[j] * x[j] + (1 - gy[j]) * yin[j] for j in range(R)]
        h = [gh[j] * carry[j] + (1 - gh[j]) * hin[j] for j in range(R)]
        return h, y
    raise AssertionError(cell)


def small_layer(cell, n_in, R, seed):
    """Known small weights: the layer's shapes from init_layer, values from a seeded generator."""
    rng = np.random.default_rng(seed)
    shapes = {k: v.shape for k, v in init_layer(jax.random.PRNGKey(0), cell, n_in, R).items()}
    return {k: jnp.asarray(np.round(rng.uniform(-1, 1, shp), 2), jnp.float32) for k, shp in shapes.items()}


# ------------------------------------------------------------------------------------------ single steps


def test_rnn_step_literal_value():
    # h = tanh([1, 0] @ I + [0.5, -1] @ 0.5 I + [0.1, 0.2]) = tanh([1.35, -0.3])
    layer = {"Wx": jnp.eye(2), "Wh": 0.5 * jnp.eye(2), "b": jnp.array([0.1, 0.2]), "h0": jnp.zeros(2)}
    h, out = cell_step("rnn", layer, jnp.array([0.5, -1.0]), jnp.array([1.0, 0.0]))
    np.testing.assert_allclose(h, [math.tanh(1.35), math.tanh(-0.3)], rtol=1e-6)
    np.testing.assert_allclose(out, h)


def test_gru_step_literal_value():
    # All weights zero except Whc = I and the biases: r = sig(0) = 1/2, u = sig(0 + b_fg=1),
    # c = tanh(b_c + h/2), h' = u h + (1-u) c.
    R = 1
    layer = {"Wx": jnp.zeros((1, 3)), "Wh": jnp.zeros((1, 2)), "Whc": jnp.eye(1), "b": jnp.array([0.0, 0.0, 0.3]),
             "h0": jnp.zeros(R)}
    h, _ = cell_step("gru", layer, jnp.array([0.8]), jnp.array([5.0]))
    u = 1 / (1 + math.exp(-1.0))
    expect = u * 0.8 + (1 - u) * math.tanh(0.3 + 0.4)
    assert float(h[0]) == pytest.approx(expect, rel=1e-6)


def test_lstm_step_literal_value():
    # Zero weights and biases: i = o = 1/2, f = sig(b_fg = 1), g = tanh(0) = 0: c' = f c, h' = tanh(c')/2.
    layer = {"Wx": jnp.zeros((1, 4)), "Wh": jnp.zeros((1, 4)), "b": jnp.zeros(4), "h0": jnp.zeros(1),
             "c0": jnp.zeros(1)}
    (h, c), out = cell_step("lstm", layer, (jnp.array([0.3]), jnp.array([2.0])), jnp.array([1.0]))
    f = 1 / (1 + math.exp(-1.0))
    assert float(c[0]) == pytest.approx(2.0 * f, rel=1e-6)
    assert float(h[0]) == pytest.approx(0.5 * math.tanh(2.0 * f), rel=1e-6)
    assert float(out[0]) == float(h[0])


def test_rac_step_literal_value():
    # h = (x W_I) * (h_prev W_H), no normalisation: [1*2, 3*(-1)] * [1*1 + 1*0, 1*0.5 + 1*1]
    layer = {"W_I": jnp.array([[2.0, -1.0], [0.0, 0.0]]), "W_H": jnp.array([[1.0, 0.5], [0.0, 1.0]]),
             "h0": jnp.ones(2)}
    h, _ = cell_step("rac", layer, jnp.ones(2), jnp.array([1.0, 0.0]), normalize=False)
    np.testing.assert_allclose(h, [2.0 * 1.0, -1.0 * 1.5])
    hn, _ = cell_step("rac", layer, jnp.ones(2), jnp.array([1.0, 0.0]))
    rms = math.sqrt((4.0 + 2.25) / 2)
    np.testing.assert_allclose(hn, [2.0 / rms, -1.5 / rms], rtol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("nonlin", ["tanh", "relu"])
def test_step_matches_scalar_reference(cell, nonlin):
    R = 3
    n_in = R if cell == "plusrnn" else 2  # the +RNN layer mixes its input into its output
    layer = small_layer(cell, n_in, R, seed=2 * CELLS.index(cell) + (nonlin == "relu"))
    rng = np.random.default_rng(7)
    x = np.round(rng.uniform(-1, 1, n_in), 2).tolist()
    h = np.round(rng.uniform(-1, 1, R), 2).tolist()
    carry = (jnp.asarray(h), jnp.asarray(np.round(rng.uniform(-1, 1, R), 2))) if cell == "lstm" else jnp.asarray(h)
    s = math.tanh if nonlin == "tanh" and cell != "irnn" else relu
    ref_carry = (h, np.asarray(carry[1]).tolist()) if cell == "lstm" else h
    expect_h, extra = reference_step(cell, layer, ref_carry, x, s=s, fb=0.7)
    new, out = cell_step(cell, layer, carry, jnp.asarray(x), nonlinearity=nonlin, forget_bias=0.7, normalize=False)
    got_h = new[0] if cell == "lstm" else new
    np.testing.assert_allclose(np.asarray(got_h), expect_h, rtol=1e-5, atol=1e-6)
    if cell == "lstm":
        np.testing.assert_allclose(np.asarray(new[1]), extra, rtol=1e-5, atol=1e-6)
    if cell == "plusrnn":
        np.testing.assert_allclose(np.asarray(out), extra, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(np.asarray(out), np.asarray(got_h))


# ----------------------------------------------------------------------------------------------- stacks


@pytest.mark.parametrize("cell", CELLS)
def test_stack_equals_python_loop_of_steps(cell):
    depth, R, n_in, n_out, B, T = 2, 4, 3, 2, 3, 3
    params = init_stack(1, cell, n_in, R, depth, n_out)
    # perturb every leaf so zero biases / identity weights do not hide a wrong wiring
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(3), len(leaves))
    params = tree.unflatten([l + 0.1 * jax.random.normal(k, l.shape) for l, k in zip(leaves, keys)])
    xs = jax.random.normal(jax.random.PRNGKey(4), (B, T, n_in))
    logits = apply_stack(params, xs, cell=cell, forget_bias=0.5, key=jax.random.PRNGKey(9))
    inputs = xs @ params["P"] if cell == "plusrnn" else xs
    for l, layer in enumerate(params["layers"]):
        h = initial_carry(cell, layer, B, None if cell != "scornn" else jax.random.fold_in(jax.random.PRNGKey(9), l))
        h = h[0] if cell == "lstm" else h
        carry = (h, jnp.broadcast_to(layer["c0"], (B, R))) if cell == "lstm" else h
        outs = []
        for t in range(T):
            carry, out = cell_step(cell, layer, carry, inputs[:, t], forget_bias=0.5)
            outs.append(out)
        inputs = jnp.stack(outs, axis=1)
    expect = inputs @ params["readout"]["W"] + params["readout"].get("b", 0.0)
    np.testing.assert_allclose(np.asarray(logits), np.asarray(expect), rtol=2e-4, atol=2e-5)


def test_plain_rac_stack_equals_rac_recurrence():
    """The unnormalised RAC cell computes the RAC of docs/theory.md ('Recurrent Arithmetic Circuits'): cross-check against tnrnn.rac.recurrence.rac_forward."""
    from tnrnn.rac.recurrence import RACParams, rac_forward

    depth, R, M, K, T = 2, 3, 4, 2, 6
    p = init_stack(5, "rac", M, R, depth, K)
    ids = np.random.default_rng(0).integers(0, M, size=(4, T))
    xs = jax.nn.one_hot(ids, M)
    logits = apply_stack(p, xs, cell="rac", normalize=False)
    rp = RACParams(W_I=tuple(l["W_I"].T for l in p["layers"]), W_H=tuple(l["W_H"].T for l in p["layers"]),
                   W_O=p["readout"]["W"].T, h0=tuple(l["h0"] for l in p["layers"]))
    np.testing.assert_allclose(np.asarray(logits[:, -1]), np.asarray(rac_forward(rp, ids)), rtol=1e-4)


def test_normalised_rac_is_positive_rescaling_of_plain_rac():
    """Normalisation multiplies the logits by a positive per-sequence scalar, so the decisions agree."""
    p = init_stack(2, "rac", 3, 5, 3, 4)
    xs = jax.nn.one_hot(np.random.default_rng(1).integers(0, 3, size=(16, 6)), 3)
    plain = np.asarray(apply_stack(p, xs, cell="rac", normalize=False), np.float64)
    normed = np.asarray(apply_stack(p, xs, cell="rac"), np.float64)
    ratio = normed / plain
    assert (ratio > 0).all()
    np.testing.assert_allclose(ratio, ratio[..., :1] * np.ones_like(ratio), rtol=1e-3)
    assert (plain.argmax(-1) == normed.argmax(-1)).all()


def test_normalised_rac_stays_finite_on_long_sequences():
    p = init_stack(0, "rac", 2, 8, 2, 3)
    xs = jax.nn.one_hot(np.random.default_rng(2).integers(0, 2, size=(2, 500)), 2)
    assert np.isfinite(np.asarray(apply_stack(p, xs, cell="rac"))).all()


def test_irnn_initialised_as_identity_relu():
    p = init_stack(0, "irnn", 2, 4, 1, 1)
    np.testing.assert_array_equal(np.asarray(p["layers"][0]["Wh"]), np.eye(4))
    np.testing.assert_array_equal(np.asarray(p["layers"][0]["b"]), np.zeros(4))
    layer = small_layer("irnn", 2, 4, 0)
    h, _ = cell_step("irnn", layer, jnp.zeros(4), jnp.array([1.0, -1.0]), nonlinearity="tanh")
    assert (np.asarray(h) >= 0).all()  # ReLU whatever the requested nonlinearity


# ----------------------------------------------------------------------------------------- param counts


def test_param_counts_by_hand():
    # GRU, n_in=3, R=4, L=1, K=2: 3*(3*4 + 4*4 + 4) + h0 4 + readout 4*2 + 2
    assert num_params("gru", 3, 4, 1, 2) == 3 * (12 + 16 + 4) + 4 + 10
    # LSTM layer: 4*(n R + R^2 + R) + h0 + c0
    assert num_params("lstm", 3, 4, 2, 2) == (4 * (12 + 16 + 4) + 8) + (4 * (16 + 16 + 4) + 8) + 10
    # RAC: W_I, W_H, h0 per layer; readout without bias
    assert num_params("rac", 3, 4, 2, 2) == (12 + 16 + 4) + (16 + 16 + 4) + 8
    # +RNN: input projection n_in x R, then 4 blocks per layer
    assert num_params("plusrnn", 3, 4, 2, 2) == 12 + 2 * (4 * (16 + 16 + 4) + 4) + 10
    # scoRNN: Wx, the 6 free entries of a 4x4 skew-symmetric A, modReLU bias (no trained h0); readout with bias
    assert num_params("scornn", 3, 4, 1, 2) == 12 + 6 + 4 + 10


def test_scornn_recurrent_matrix_stays_orthogonal_under_training():
    from tnrnn.memory.fit import train_task
    from tnrnn.memory.orthogonal import cayley
    from tnrnn.memory.tasks import StartEndSimilarity
    from tnrnn.memory.train import TrainConfig

    cfg = TrainConfig(optimizer="rmsprop", learning_rate=3e-2, clip_norm=None, steps=8, eval_every=4,
                      batch_size=16, eval_batch_size=16, recurrent_learning_rate=3e-2)
    init = init_stack(0, "scornn", 3, 6, 1, 3)
    res = train_task(StartEndSimilarity(time=8, symbols=2, span=2), "scornn", 1, 6, cfg, progress=False)
    for before, after in zip(init["layers"], res.params["layers"]):
        assert float(jnp.abs(after["A"] - before["A"]).max()) > 1e-3  # A did move
        W = np.asarray(cayley(after["A"], 6), np.float64)
        np.testing.assert_allclose(W @ W.T, np.eye(6), atol=1e-5)
        np.testing.assert_allclose(np.abs(np.linalg.eigvals(W)), 1.0, atol=1e-5)


@settings(max_examples=15, deadline=None)
@given(cell=st.sampled_from(CELLS), n_in=st.integers(1, 5), width=st.integers(1, 6), depth=st.integers(1, 3),
       n_out=st.integers(1, 4))
def test_num_params_equals_leaf_count(cell, n_in, width, depth, n_out):
    if cell == "plusrnn" and depth == 1:
        depth = 2
    # eval_shape traces init_stack without computing it: the shapes are what is counted
    params = jax.eval_shape(lambda: init_stack(0, cell, n_in, width, depth, n_out))
    assert sum(x.size for x in jax.tree_util.tree_leaves(params)) == num_params(cell, n_in, width, depth, n_out)


@settings(max_examples=40, deadline=None)
@given(cell=st.sampled_from(CELLS), depth=st.integers(1, 4), budget=st.integers(50, 60000))
def test_width_for_budget_is_largest_fitting_width(cell, depth, budget):
    if cell == "plusrnn" and depth == 1:
        depth = 2
    try:
        w = width_for_budget(cell, 6, depth, 3, budget)
    except TnrnnError:
        assert num_params(cell, 6, 1, depth, 3) > budget
        return
    assert num_params(cell, 6, w, depth, 3) <= budget < num_params(cell, 6, w + 1, depth, 3)


def test_equal_budget_gives_narrower_deeper_stacks():
    widths = [width_for_budget("gru", 4, L, 3, 20000) for L in (1, 2, 3)]
    assert widths[0] > widths[1] > widths[2]


# ------------------------------------------------------------------------------------------- bad input


def test_budget_too_small_is_a_clear_error():
    with pytest.raises(TnrnnError, match="too small for any lstm"):
        width_for_budget("lstm", 4, 3, 3, 20)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cell": "transformer"}, "unknown cell"),
        ({"cell": "plusrnn", "depth": 1}, "depth >= 2"),
        ({"width": 0}, "width must be"),
        ({"nonlinearity": "sigmoid"}, "nonlinearity"),
    ],
)
def test_bad_stack_arguments(kwargs, message):
    args = {"cell": "gru", "n_in": 2, "width": 3, "depth": 1, "n_out": 2, **kwargs}
    with pytest.raises(TnrnnError, match=message):
        init_stack(0, args.pop("cell"), **args)


def test_bad_input_shape():
    p = init_stack(0, "rnn", 2, 3, 1, 1)
    with pytest.raises(TnrnnError, match="batch, time, n_in"):
        apply_stack(p, jnp.zeros((5, 2)), cell="rnn")


def test_gate_table_covers_cells():
    assert set(GATES) == set(CELLS)
