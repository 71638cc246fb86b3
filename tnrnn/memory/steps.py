"""One time step of each recurrent cell, as a registry ``STEPS[cell](layer, carry, xp, x, ctx)``.

``xp`` is the layer's input projection (computed for all steps at once by [`tnrnn.memory.cells.apply_stack`][tnrnn.memory.cells.apply_stack]),
``x`` the layer's raw input (the +RNN mixes it into its output), ``ctx`` a [`StepContext`][tnrnn.memory.steps.StepContext]. The equations
and parameter layouts are documented in [`tnrnn.memory.cells`][tnrnn.memory.cells].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from tnrnn.memory import orthogonal

_RAC_EPS = 1e-6

Params = dict[str, Any]


class StepContext(NamedTuple):
    """What a step needs besides the layer, the carry and the input: the candidate nonlinearity, the keep-gate
    bias, the RAC normalisation switch and the layer's recurrent matrix when it is derived (scoRNN's W).
    """

    s: Callable
    forget_bias: float
    normalize: bool
    W: Any = None


def _step_rac(layer, carry, xp, x, ctx):
    h = xp * (carry @ layer["W_H"])
    if ctx.normalize:
        h = h * jax.lax.rsqrt(jnp.mean(h * h, axis=-1, keepdims=True) + _RAC_EPS)
    return h, h


def _step_rnn(layer, carry, xp, x, ctx):
    h = ctx.s(xp + carry @ layer["Wh"])
    return h, h


def _step_ugrnn(layer, carry, xp, x, ctx):
    R = carry.shape[-1]
    pre = xp + carry @ layer["Wh"]
    g = jax.nn.sigmoid(pre[..., R:] + ctx.forget_bias)
    h = g * carry + (1.0 - g) * ctx.s(pre[..., :R])
    return h, h


def _step_gru(layer, carry, xp, x, ctx):
    R = carry.shape[-1]
    gates = xp[..., : 2 * R] + carry @ layer["Wh"]
    r = jax.nn.sigmoid(gates[..., :R])
    u = jax.nn.sigmoid(gates[..., R:] + ctx.forget_bias)
    c = ctx.s(xp[..., 2 * R :] + (r * carry) @ layer["Whc"])
    h = u * carry + (1.0 - u) * c
    return h, h


def _step_lstm(layer, carry, xp, x, ctx):
    h_prev, c_prev = carry
    R = h_prev.shape[-1]
    pre = xp + h_prev @ layer["Wh"]
    i = jax.nn.sigmoid(pre[..., :R])
    f = jax.nn.sigmoid(pre[..., R : 2 * R] + ctx.forget_bias)
    o = jax.nn.sigmoid(pre[..., 2 * R : 3 * R])
    c = f * c_prev + i * ctx.s(pre[..., 3 * R :])
    h = o * jnp.tanh(c)
    return (h, c), h


def _step_plusrnn(layer, carry, xp, x, ctx):
    R = carry.shape[-1]
    pre = xp + carry @ layer["Wh"]
    y_in = jax.nn.relu(pre[..., :R])
    h_in = jnp.tanh(pre[..., R : 2 * R])
    g_y = jax.nn.sigmoid(pre[..., 2 * R : 3 * R] + ctx.forget_bias)
    g_h = jax.nn.sigmoid(pre[..., 3 * R :] + ctx.forget_bias)
    y = g_y * x + (1.0 - g_y) * y_in
    h = g_h * carry + (1.0 - g_h) * h_in
    return h, y


def _step_scornn(layer, carry, xp, x, ctx):
    h = orthogonal.scornn_step(layer, carry, xp, ctx.W)
    return h, h


#: One step of each cell: ``(layer, carry, xp, x, ctx) -> (new carry, output passed up)``.
STEPS: dict[str, Callable] = {
    "rac": _step_rac, "rnn": _step_rnn, "irnn": _step_rnn, "ugrnn": _step_ugrnn, "gru": _step_gru,
    "lstm": _step_lstm, "plusrnn": _step_plusrnn, "scornn": _step_scornn,
}


def step_context(cell: str, layer: Params, s: Callable, forget_bias: float, normalize: bool) -> StepContext:
    """The [`StepContext`][tnrnn.memory.steps.StepContext] of one layer (scoRNN: with its orthogonal W).

    Examples
    --------
    >>> ctx = step_context("rnn", {"h0": jnp.zeros(2)}, jnp.tanh, 1.0, True)
    >>> ctx.W is None, ctx.forget_bias
    (True, 1.0)
    """
    # scoRNN's orthogonal W is computed once per layer and sequence batch, not at every step.
    W = orthogonal.cayley(layer["A"], layer["b"].shape[-1]) if cell == "scornn" else None
    return StepContext(s, forget_bias, normalize, W)
