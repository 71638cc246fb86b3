"""Recurrent Arithmetic Circuits: parameters and the plain recurrence (docs/theory.md, "Recurrent Arithmetic
Circuits"; Levine, Sharir, Ziv, Shashua, arXiv 1710.09431).

Two arithmetics:

* **float** (jax): batched, jitted, ``lax.scan`` over time. Each step's state is rescaled to max-abs 1 and the
  log of the scale is carried, because a float32 RAC under- or overflows within tens of steps: its value is a
  polynomial of degree ``C(T+L-1, L)`` in the inputs (45,760 at L = 3, T = 64), so its magnitude varies by
  thousands of orders of magnitude between sequences and no initialisation keeps it O(1). The evaluation
  functions therefore return a :class:`ScaledOutput` ``(mantissa, log_scale)`` by default, finite and nonzero
  for any T; ``raw=True`` gives the plain float32 product ``mantissa * exp(log_scale)``.
* **exact mod p** (numpy int64): every product reduced mod p, every dot product checked to fit in int64.
  This path is deliberately independent of jax and of the tensor-network code, so it can cross-check both.

Weights, the prime and input checks live in :mod:`tnrnn.rac.params` (no jax) and are re-exported here.

Initial state: by default ``W_H[l] @ h[0, l] = 1`` (all ones), so the first step is ``h[1,l] = W_I[l] @ h[1,l-1]``;
pass ``init_state=True`` to draw explicit initial states ``h[0, l]`` instead.
"""


from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.rac.modp import rac_forward_modp, rac_readout_modp, rac_scan_modp
from tnrnn.rac.params import (
    DEFAULT_PRIME,
    RACParams,
    ScaledOutput,
    check_inputs,
    check_prime,
    init_params_modp,
    max_safe_terms,
    reduce_modp,
)
from tnrnn.rac.spec import RACSpec

__all__ = [
    "DEFAULT_PRIME", "RACParams", "ScaledOutput", "check_inputs", "check_prime", "float_params", "init_params",
    "init_params_modp", "max_safe_terms", "rac_forward", "rac_forward_modp", "rac_readout_modp", "rac_scan_modp",
    "reduce_modp",
]


def init_params(spec: RACSpec, key, *, init_state: bool = False, dtype=None) -> RACParams:
    """Random float weights from a jax PRNG key (entries ``N(0, 1/fan_in)``).

    Parameters
    ----------
    spec : RACSpec
    key : jax.Array
        A ``jax.random.key`` / ``PRNGKey``.
    init_state : bool, default False
        Draw explicit initial states ``h[0, l] ~ N(0, 1)`` instead of the all-ones convention.
    dtype : optional
        Float dtype (default float32).

    Examples
    --------
    >>> import jax
    >>> p = init_params(RACSpec(2, 3, 4), jax.random.PRNGKey(0))
    >>> [w.shape for w in p.W_I], p.W_O.shape
    ([(3, 4), (3, 3)], (1, 3))
    """
    if not hasattr(key, "dtype"):
        raise TnrnnError(f"key must be a jax PRNG key such as jax.random.PRNGKey(0), got {type(key).__name__}")
    dtype = dtype or jnp.float32
    R, M, L, K = spec.R, spec.M, spec.L, spec.K
    keys = jax.random.split(key, 3 * L + 1)
    W_I = tuple(
        jax.random.normal(keys[l], (R, M if l == 0 else R), dtype) / math.sqrt(M if l == 0 else R) for l in range(L)
    )
    W_H = tuple(jax.random.normal(keys[L + l], (R, R), dtype) / math.sqrt(R) for l in range(L))
    W_O = jax.random.normal(keys[3 * L], (K, R), dtype) / math.sqrt(R)
    h0 = tuple(jax.random.normal(keys[2 * L + l], (R,), dtype) for l in range(L)) if init_state else None
    return RACParams(W_I, W_H, W_O, h0)


# --------------------------------------------------------------------------------------------------------------
# Float recurrence (jax)


def float_params(params: RACParams) -> RACParams:
    """The weights as jax arrays of one float dtype: that of ``W_O`` if it is a float, else float32.

    Examples
    --------
    >>> q = init_params_modp(RACSpec(1, 2, 2), seed=0, p=101)
    >>> float_params(q).W_O.dtype
    dtype('float32')
    """
    dtype = np.dtype(params.W_O.dtype) if hasattr(params.W_O, "dtype") else np.result_type(params.W_O)
    if not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float32)

    def cast(w):
        # Device arrays of the right dtype pass as they are: jnp.asarray costs ~50 us per array per call.
        return w if isinstance(w, jax.Array) and w.dtype == dtype else jnp.asarray(w, dtype)

    return RACParams(tuple(map(cast, params.W_I)), tuple(map(cast, params.W_H)), cast(params.W_O),
                     None if params.h0 is None else tuple(map(cast, params.h0)))


def rac_forward(params: RACParams, x, *, raw: bool = False):
    """Evaluate ``y = W_O h[T, L]`` for a batch of sequences with the plain recurrence (float, jitted).

    Parameters
    ----------
    params : RACParams
        Float weights (:func:`init_params`); integer weights are evaluated in float32.
    x : array_like
        Symbol ids (B, T) or feature vectors (B, T, M).
    raw : bool, default False
        Return the plain float32 product ``y`` instead of its :class:`ScaledOutput`; ``y`` under- or overflows
        within tens of steps on deep RACs (mostly exact zeros at L = 2, T = 32).

    Returns
    -------
    ScaledOutput
        ``(mantissa (B, K), log_scale (B,))`` with ``y = mantissa * exp(log_scale)[:, None]``, finite for any T;
        or the (B, K) array ``y`` when ``raw``.

    Raises
    ------
    TnrnnError
        Malformed inputs (see :func:`check_inputs`).

    Examples
    --------
    >>> import jax, numpy as np
    >>> spec = RACSpec(depth=2, width=3, features=2)
    >>> params = init_params(spec, jax.random.PRNGKey(0))
    >>> mantissa, log_scale = rac_forward(params, np.array([[0, 1, 1, 0]]))
    >>> mantissa.shape, log_scale.shape
    ((1, 1), (1,))
    >>> y = rac_forward(params, np.array([[0, 1, 1, 0]]), raw=True)
    >>> bool(np.allclose(y, mantissa * np.exp(log_scale)[:, None]))
    True
    """
    params = float_params(params)
    kind, arr = check_inputs(params.spec, x)
    # Symbol ids select columns of W_I[0] inside the scan: no (B, T, M) one-hot array is ever built.
    xs = jnp.asarray(arr, jnp.int32) if kind == "ids" else jnp.asarray(arr, params.W_O.dtype)
    mant, log_scale = _forward_scaled(params, xs, kind == "ids")
    if raw:
        return mant * jnp.exp(log_scale)[:, None]
    return ScaledOutput(mant, log_scale)


@functools.partial(jax.jit, static_argnums=2)
def _forward_scaled(params: RACParams, xs, ids: bool):

    L = len(params.W_I)
    B = xs.shape[0]
    R = params.W_H[0].shape[0]
    dtype = params.W_O.dtype

    def normalise(h, log):
        scale = jnp.max(jnp.abs(h), axis=-1)
        safe = jnp.where(scale > 0, scale, 1.0)
        return h / safe[:, None], log + jnp.log(safe)

    if params.h0 is None:
        hs0 = tuple(jnp.ones((B, R), dtype) for _ in range(L))
        logs0 = tuple(jnp.zeros((B,), dtype) for _ in range(L))
    else:
        pairs = [normalise(jnp.broadcast_to(h, (B, R)).astype(dtype), jnp.zeros((B,), dtype)) for h in params.h0]
        hs0, logs0 = tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)

    def step(carry, x_t):
        hs, logs, first = carry
        below, below_log = None, jnp.zeros((B,), dtype)
        new_hs, new_logs = [], []
        for l in range(L):
            if l > 0:
                inp = below @ params.W_I[l].T
            else:
                inp = params.W_I[0].T[x_t] if ids else x_t @ params.W_I[0].T
            recurrent = hs[l] @ params.W_H[l].T
            if params.h0 is None:
                # Convention W_H h[0] = 1: the first step has an all-ones recurrent factor.
                recurrent = jnp.where(first, jnp.ones_like(recurrent), recurrent)
            h, log = normalise(inp * recurrent, below_log + logs[l])
            new_hs.append(h)
            new_logs.append(log)
            below, below_log = h, log
        return (tuple(new_hs), tuple(new_logs), jnp.zeros((), bool)), None

    (hs, logs, _), _ = jax.lax.scan(step, (hs0, logs0, jnp.ones((), bool)), jnp.swapaxes(xs, 0, 1))
    y = hs[-1] @ params.W_O.T
    scale = jnp.max(jnp.abs(y), axis=-1)
    safe = jnp.where(scale > 0, scale, 1.0)
    return y / safe[:, None], logs[-1] + jnp.log(safe)
