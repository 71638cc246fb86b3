"""Recurrent Arithmetic Circuits: parameters and the plain recurrence (docs/theory.md, "Recurrent Arithmetic
Circuits"; Levine, Sharir, Ziv, Shashua, arXiv 1710.09431).

Two arithmetics:

* **float** (jax): batched, jitted, ``lax.scan`` over time. Each step's state is rescaled to max-abs 1 and the
  log of the scale is carried, because a float32 RAC under- or overflows within tens of steps: its value is a
  polynomial of degree ``C(T+L-1, L)`` in the inputs (45,760 at L = 3, T = 64), so its magnitude varies by
  thousands of orders of magnitude between sequences and no initialisation keeps it O(1). The evaluation
  functions therefore return a [`ScaledOutput`][tnrnn.rac.params.ScaledOutput] ``(mantissa, log_scale)`` by default, finite and nonzero
  for any T; ``raw=True`` gives the plain float32 product ``mantissa * exp(log_scale)``.
* **exact mod p** (numpy int64): every product reduced mod p, every dot product checked to fit in int64.
  This path is deliberately independent of jax and of the tensor-network code, so it can cross-check both.

Weights, the prime and input checks live in [`tnrnn.rac.params`][tnrnn.rac.params] (no jax) and are re-exported here.

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
    if params is _LAST_FLOAT[0]:
        return _LAST_FLOAT[1]
    dtype = np.dtype(params.W_O.dtype) if hasattr(params.W_O, "dtype") else np.result_type(params.W_O)
    if dtype.kind != "f":
        dtype = np.dtype(np.float32)

    def cast(w):
        # Device arrays of the right dtype pass as they are: jnp.asarray costs ~50 us per array per call.
        return w if isinstance(w, jax.Array) and w.dtype == dtype else jnp.asarray(w, dtype)

    out = RACParams(tuple(map(cast, params.W_I)), tuple(map(cast, params.W_H)), cast(params.W_O),
                    None if params.h0 is None else tuple(map(cast, params.h0)))
    leaves = (*params.W_I, *params.W_H, params.W_O, *(params.h0 or ()))
    if all(isinstance(w, jax.Array) for w in leaves) and all(
            type(c) is tuple for c in (params.W_I, params.W_H, params.h0 or ())):
        # Only immutable weights (jax arrays in tuples) are remembered, by identity: the same object again is the
        # same weights, and a public call skips rebuilding them (a few microseconds of a ~100 us call).
        _LAST_FLOAT[:] = [params, out]
    return out


#: The last all-jax weights given to :func:`float_params` and their float form (a strong reference to one set).
_LAST_FLOAT: list = [None, None]


#: Most sequential steps evaluated without a scan: short sequences are unrolled into one straight-line program
#: (XLA fuses across steps and no loop bookkeeping runs); longer ones scan over blocks of steps.
UNROLL_T = 16

#: Highest polynomial degree a state may reach between two rescales. Inside a block of ``k`` steps that starts
#: from max-abs-1 states, layer ``l`` (1-based) has degree ``C(k+l-1, l)`` in the per-step factors, so with
#: O(1) weights its magnitude is at most ``g**10`` for a per-step growth ``g``: float32 (about 1e38) overflows
#: only for ``g`` above about 6,000. A block that still over- or underflows is detected and the whole batch is
#: redone with a rescale at every step (see :func:`_forward_scaled`).
MAX_BLOCK_DEGREE = 10


def rescale_period(depth: int) -> int:
    """Steps between rescales for an L-layer RAC: the longest block whose states stay within MAX_BLOCK_DEGREE.

    Examples
    --------
    >>> [rescale_period(L) for L in (1, 2, 3, 4, 10)]
    [10, 4, 3, 2, 1]
    """
    k = 1
    while math.comb(k + depth, depth) <= MAX_BLOCK_DEGREE:
        k += 1
    return k


def _device_inputs(M: int, x) -> str:
    """Which kind a jax-array input is, from its shape and dtype only (no host copy); raises on malformed ones."""
    shape, kind_code = x.shape, x.dtype.kind  # dtype kinds: cheaper than issubdtype on a ~100 us call
    if len(shape) == 2 and kind_code in "iu":
        kind = "ids"
    elif len(shape) == 3 and shape[2] == M and kind_code in "fiub":
        kind = "features"
    elif len(shape) == 2:
        raise TnrnnError(f"symbol ids of shape (B, T) must be integers, got dtype {x.dtype}")
    elif len(shape) == 3 and shape[2] == M:
        raise TnrnnError(f"feature inputs must be real numbers, got dtype {x.dtype}")
    else:
        raise TnrnnError(f"inputs must be symbol ids (B, T) or features (B, T, M={M}), got shape {tuple(shape)}")
    if shape[0] < 1 or shape[1] < 1:
        raise TnrnnError(f"inputs need at least one sequence and one time step, got shape {tuple(shape)}")
    return kind


def rac_forward(params: RACParams, x, *, raw: bool = False):
    """Evaluate ``y = W_O h[T, L]`` for a batch of sequences with the plain recurrence (float, jitted).

    Inputs that are already jax arrays stay on the device: their shape and dtype are checked from metadata, and
    symbol ids are range-checked inside the jit (a sequence with an id outside ``[0, M)`` gives NaN). Other
    inputs are checked on the host ([`check_inputs`][tnrnn.rac.params.check_inputs]) and a bad id raises.

    Parameters
    ----------
    params : RACParams
        Float weights ([`init_params`][tnrnn.rac.recurrence.init_params]); integer weights are evaluated in float32.
    x : array_like
        Symbol ids (B, T) or feature vectors (B, T, M).
    raw : bool, default False
        Return the plain float32 product ``y`` instead of its [`ScaledOutput`][tnrnn.rac.params.ScaledOutput]; ``y`` under- or overflows
        within tens of steps on deep RACs (mostly exact zeros at L = 2, T = 32).

    Returns
    -------
    ScaledOutput
        ``(mantissa (B, K), log_scale (B,))`` with ``y = mantissa * exp(log_scale)[:, None]``, finite for any T;
        or the (B, K) array ``y`` when ``raw``.

    Raises
    ------
    TnrnnError
        Malformed inputs (see [`check_inputs`][tnrnn.rac.params.check_inputs]).

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
    >>> bool(np.isnan(rac_forward(params, jax.numpy.array([[0, 2]])).log_scale[0]))  # on the device: NaN
    True
    """
    params = float_params(params)
    if isinstance(x, jax.Array):
        kind, xs = _device_inputs(params.W_I[0].shape[1], x), x
    else:
        kind, arr = check_inputs(params.spec, x)
        # Symbol ids select columns of W_I[0] inside the scan: no (B, T, M) one-hot array is ever built.
        xs = jnp.asarray(arr, jnp.int32) if kind == "ids" else jnp.asarray(arr, params.W_O.dtype)
    mant, log_scale = _forward_scaled(params, xs, kind == "ids")
    if raw:
        return mant * jnp.exp(log_scale)[:, None]
    return ScaledOutput(mant, log_scale)


def _normalise(h, log):
    """``h`` rescaled to max-abs 1 per sequence, the log of the scale added to ``log``."""
    scale = jnp.max(jnp.abs(h), axis=-1)
    safe = jnp.where(scale > 0, scale, 1.0)
    return h / safe[:, None], log + jnp.log(safe)


def _run(params: RACParams, xs, ids: bool, k: int):
    """The recurrence over time-major inputs ``xs`` (T, B) or (T, B, M), rescaling every ``k`` steps.

    Returns the top layer's state and log scale after the last step (rescaled there).
    """
    L = len(params.W_I)
    T, B = xs.shape[0], xs.shape[1]
    dtype = params.W_O.dtype
    W_I0T = params.W_I[0].T  # (M, R): rows gathered by symbol id

    def step(states, x_t, first: bool, rescale: bool):
        below, below_log, new = None, None, []
        for l in range(L):
            h, log = states[l]
            if l == 0:
                inp = jnp.take(W_I0T, x_t, axis=0, mode="clip") if ids else x_t.astype(dtype) @ W_I0T
            else:
                inp = below @ params.W_I[l].T
            # Convention W_H h[0] = 1: without explicit initial states the first recurrent factor is all ones.
            h = inp if first and params.h0 is None else inp * (h @ params.W_H[l].T)
            log = log if below_log is None else log + below_log
            if rescale:
                h, log = _normalise(h, log)
            new.append((h, log))
            below, below_log = h, log
        return tuple(new)

    zero = jnp.zeros((B,), dtype)
    if params.h0 is None:
        states = tuple((jnp.ones((B, params.W_H[l].shape[0]), dtype), zero) for l in range(L))
    else:
        states = tuple(_normalise(jnp.broadcast_to(h.astype(dtype), (B, h.shape[0])), zero) for h in params.h0)
    # Step 0 on its own (its recurrent factor may be the all-ones convention), then blocks of k steps.
    states = step(states, xs[0], True, True)
    rest = T - 1
    if T > UNROLL_T:
        blocks, rest = divmod(T - 1, k)

        def body(carry, x_block):
            for j in range(k):
                carry = step(carry, x_block[j], False, j == k - 1)
            return carry, None

        shaped = xs[1:1 + blocks * k].reshape((blocks, k) + xs.shape[1:])
        states, _ = jax.lax.scan(body, states, shaped)
    for j in range(T - rest, T):
        states = step(states, xs[j], False, (j - (T - rest)) % k == k - 1 or j == T - 1)
    return states[-1]


@functools.partial(jax.jit, static_argnums=2)
def _forward_scaled(params: RACParams, xs, ids: bool):
    """``(mantissa, log_scale)``: rescaled every [`rescale_period`][tnrnn.rac.recurrence.rescale_period] steps, every step where that failed."""
    L = len(params.W_I)
    xs = jnp.swapaxes(xs, 0, 1)  # time-major: step t reads one contiguous (B,) or (B, M) slice
    if ids:
        xs = xs.astype(jnp.int32)

    def finish(k):
        h, log = _run(params, xs, ids, k)
        y = h @ params.W_O.T
        return _normalise(y, log)

    k = rescale_period(L)
    mant, log = finish(k)
    if k > 1:
        # A block over- or underflowed (weights far from O(1)): a non-finite or all-zero output. Redo the batch
        # with a rescale at every step; only this branch runs, and only then.
        ok = jnp.all(jnp.isfinite(log)) & jnp.all(jnp.isfinite(mant)) & jnp.all(jnp.any(mant != 0, axis=-1))
        mant, log = jax.lax.cond(ok, lambda: (mant, log), lambda: finish(1))
    if ids:
        M = params.W_I[0].shape[1]
        bad = jnp.any((xs < 0) | (xs >= M), axis=0)  # ids that arrived as device arrays are checked here
        nan = jnp.asarray(jnp.nan, mant.dtype)
        mant, log = jnp.where(bad[:, None], nan, mant), jnp.where(bad, nan, log)
    return mant, log
