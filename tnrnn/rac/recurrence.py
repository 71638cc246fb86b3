"""Recurrent Arithmetic Circuits: parameters and the plain recurrence (docs/theory.md, "Recurrent Arithmetic
Circuits"; Levine, Sharir, Ziv, Shashua, arXiv 1710.09431).

Two arithmetics:

* **float** (jax): batched, jitted, ``lax.scan`` over blocks of steps. The weights are divided by powers of two
  that bound their norms ([`bounded_params`][tnrnn.rac.recurrence.bounded_params]), every block of
  [`rescale_period`][tnrnn.rac.recurrence.rescale_period] steps ends with each state rescaled to max-abs 1, and
  the logs of the scales and divisors are carried, because a float32 RAC under- or overflows within tens of
  steps: its value is a polynomial of degree ``C(T+L-1, L)`` in the inputs (45,760 at L = 3, T = 64), so its magnitude varies by
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
    if immutable(params):
        # Only immutable weights (jax arrays in tuples) are remembered, by identity: the same object again is the
        # same weights, and a public call skips rebuilding them (a few microseconds of a ~100 us call).
        _LAST_FLOAT[:] = [params, out]
    return out


def immutable(params: RACParams) -> bool:
    """Whether the weights are concrete jax arrays in tuples, so the same object always holds the same values
    (numpy arrays and lists can change in place; tracers exist only inside one trace).

    Examples
    --------
    >>> import jax
    >>> p = init_params(RACSpec(1, 2, 2), jax.random.PRNGKey(0))
    >>> immutable(p), immutable(p._replace(W_I=list(p.W_I)))
    (True, False)
    """
    leaves = (*params.W_I, *params.W_H, params.W_O, *(params.h0 or ()))
    return all(map(concrete, leaves)) and all(type(c) is tuple for c in (params.W_I, params.W_H, params.h0 or ()))


def concrete(x) -> bool:
    """Whether ``x`` is a jax array with values (not a tracer inside a jit, where nothing may be remembered).

    Examples
    --------
    >>> import jax
    >>> concrete(jax.numpy.zeros(2)), concrete([0.0, 0.0])
    (True, False)
    """
    return isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer)


def bounded_params(params: RACParams, ids: bool):
    """Float weights divided by powers of two at or above their infinity norms, and the logs of the divisors.

    What the jitted recurrence runs on: every factor of a step is then bounded by 1, so a state rescaled to
    max-abs 1 cannot overflow before the next rescale, whatever the weights' magnitude (``MAX_BLOCK_DEGREE``).
    Dividing by a power of two is exact. Remembered for the last immutable weights, like [`float_params`][tnrnn.rac.recurrence.float_params].

    Examples
    --------
    >>> import jax, numpy as np
    >>> p = float_params(init_params(RACSpec(1, 2, 2), jax.random.PRNGKey(0)))
    >>> big = p._replace(W_H=(p.W_H[0] * 2.0**40,))
    >>> q, logs = bounded_params(big, ids=True)
    >>> float(np.abs(q.W_H[0]).sum(axis=1).max()) <= 1.0, bool(logs[1] > 40 * np.log(2))
    (True, True)
    """
    if _LAST_BOUNDED[0] is params and _LAST_BOUNDED[1] == ids:
        return _LAST_BOUNDED[2]
    out = _bounded(params, ids)
    if immutable(params):
        _LAST_BOUNDED[:] = [params, ids, out]
    return out


#: The last all-jax weights given to ``float_params`` and their float form (a strong reference to one set).
_LAST_FLOAT: list = [None, None]
#: The last immutable float weights given to ``bounded_params``, the ids flag, and their bounded form.
_LAST_BOUNDED: list = [None, None, None]


#: Most sequential steps evaluated without a scan: short sequences are unrolled into one straight-line program
#: (XLA fuses across steps and no loop bookkeeping runs); longer ones scan over blocks of steps.
UNROLL_T = 16

#: Highest polynomial degree a state may reach between two rescales. Every weight matrix enters the jitted
#: recurrence divided by a power of two at least its infinity norm (and each feature vector by one at least its
#: max-abs; a symbol id's column by one at least the largest entry of ``W_I[0]``), so no factor can grow a state
#: with max-abs <= 1: between two rescales nothing can overflow, whatever the weights. What remains is
#: shrinkage: inside a block of ``k`` steps that starts from max-abs-1 states, layer ``l`` (1-based) has degree
#: ``C(k+l-1, l)`` in the per-step factors, so a state leaves float32's normal range (about 1e-38) only if those
#: factors average below about 1.6e-4 of their bound. That margin is measured, not proved: at degree 10 no
#: block underflowed on random ``N(0, 1/fan_in)`` weights at L = 1 to 5 and R up to 2,048 (the tests pin
#: L = 3, R = 1,024 and long sequences), while at degree 20 blocks underflowed at L = 3, R = 16 to 64.
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
    out = _forward_scaled(*bounded_params(params, kind == "ids"), xs, kind == "ids")
    return out.mantissa * jnp.exp(out.log_scale)[:, None] if raw else out


def _normalise(h, log, extra=None):
    """``h`` rescaled to max-abs 1 per sequence, the log of the scale (plus ``extra``) added to ``log``; NaN rows
    stay NaN. ``extra`` joins the scale's log before ``log``: the two nearly cancel, and their sum then costs one
    rounding at the size of ``log`` instead of two.
    """
    scale = jnp.max(jnp.abs(h), axis=-1)
    safe = jnp.where(scale == 0, 1.0, scale)
    step = jnp.log(safe) if extra is None else extra + jnp.log(safe)
    return h / safe[:, None], log + step


def _pow2_above(norm):
    """The smallest power of two at or above ``norm`` (1 for 0 or a non-finite norm): dividing by it is exact."""
    ok = (norm > 0) & jnp.isfinite(norm)
    return jnp.where(ok, jnp.exp2(jnp.ceil(jnp.log2(jnp.where(ok, norm, 1.0)))), 1.0)


def _inf_norm(w):
    """``max_i sum_j |w_ij|``: no vector of max-abs <= 1 is grown past this by ``w``."""
    return jnp.max(jnp.sum(jnp.abs(w), axis=1))


@functools.partial(jax.jit, static_argnums=1)
def _bounded(params: RACParams, ids: bool):
    """The weights divided by powers of two at or above their infinity norms, and the logs of the divisors.

    A symbol id selects one column of ``W_I[0]``, so that matrix's bound is its largest entry. With every
    factor bounded by 1, a state rescaled to max-abs 1 stays at or below 1 until the next rescale. The logs come
    as one vector ``(log_in[0..L), log_rec[0..L), log_out)``.
    """
    first = jnp.max(jnp.abs(params.W_I[0])) if ids else _inf_norm(params.W_I[0])
    c_in = [_pow2_above(first)] + [_pow2_above(_inf_norm(w)) for w in params.W_I[1:]]
    c_rec = [_pow2_above(_inf_norm(w)) for w in params.W_H]
    c_out = _pow2_above(_inf_norm(params.W_O))
    scaled = RACParams(tuple(w / c for w, c in zip(params.W_I, c_in)), tuple(w / c for w, c in zip(params.W_H, c_rec)),
                       params.W_O / c_out, params.h0)
    return scaled, jnp.log(jnp.stack([*c_in, *c_rec, c_out]))


def _run(params: RACParams, logs, xs, ids: bool, k: int):
    """The recurrence over time-major inputs with bounded weights (``_bounded``), rescaling every ``k`` steps.

    ``xs`` is symbol ids (T, B), or ``(features, log scales)`` of shapes (T, B, M) and (T, B) with every feature
    vector at max-abs <= 1. Returns the output's ``(mantissa, log scale)``.

    A layer's log lacks its divisors' logs; which ones, and how many times each, is known statically (a *lag*:
    integer exponents of the ``2L + 1`` divisors). Inside the scan they join the log at the rescale that ends each
    block, summed with the rescale's own log first (the two nearly cancel), so every log stays near the log of the
    true value: left to the end of a long sequence, the divisors' and the states' logs would be two large numbers
    of opposite sign, and float32 would lose about ten times the precision in their sum. In the unrolled steps
    (short sequences, and the tail after the last block) the lag is carried to the output instead and added once:
    there it stays small, and a scalar added in every rescale cost about 9% at L = 2, T = 12.
    """
    L = len(params.W_I)
    T, B = jax.tree_util.tree_leaves(xs)[-1].shape[:2]
    dtype = params.W_O.dtype
    W_I0T = params.W_I[0].T  # (M, R): rows gathered by symbol id
    unit = np.eye(2 * L + 1, dtype=np.int64)

    def value(lag):
        """The log a lag stands for (scalar ops, fused into the rescale that uses them)."""
        terms = [int(c) * logs[i] if c != 1 else logs[i] for i, c in enumerate(lag) if c]
        return functools.reduce(lambda u, v: u + v, terms) if terms else None

    def step(states, lags, x_t, first: bool, rescale: bool, apply: bool):
        below, below_log, below_lag, new, new_lags = None, None, None, [], []
        recurrent = not (first and params.h0 is None)
        for l in range(L):
            h, log = states[l]
            if l == 0 and ids:
                # An id outside [0, M) (negative ones became huge unsigned values) reads a row of NaN, which
                # reaches that sequence's output: device inputs are range-checked at no extra cost.
                inp = jnp.take(W_I0T, x_t, axis=0, mode="fill", fill_value=float("nan"))
            elif l == 0:
                inp = x_t[0] @ W_I0T
            else:
                inp = below @ params.W_I[l].T
            # Convention W_H h[0] = 1: without explicit initial states the first recurrent factor is all ones.
            h = inp * (h @ params.W_H[l].T) if recurrent else inp
            lag = unit[l] + (unit[L + l] + lags[l] if recurrent else 0) + (below_lag if l > 0 else 0)
            if l > 0 or not ids:
                log = log + (below_log if l > 0 else x_t[1])
            if rescale:
                h, log = _normalise(h, log, value(lag) if apply else None)
                lag = 0 * lag if apply else lag
            new.append((h, log))
            new_lags.append(lag)
            below, below_log, below_lag = h, log, lag
        return tuple(new), new_lags

    zero = jnp.zeros((B,), dtype)
    none = [np.zeros(2 * L + 1, np.int64)] * L
    if params.h0 is None:
        states = tuple((jnp.ones((B, params.W_H[l].shape[0]), dtype), zero) for l in range(L))
    else:
        states = tuple(_normalise(jnp.broadcast_to(h.astype(dtype), (B, h.shape[0])), zero) for h in params.h0)

    def at(block, j):
        """Step ``j`` of ``block``: its ids, or its (features, log scales)."""
        return jax.tree_util.tree_map(lambda a: a[j], block)

    # The first block, steps 0..k-1, starts from max-abs-1 states (the all-ones convention, or the rescaled h0)
    # like every other block, so it needs no rescale of its own at step 0. Beyond UNROLL_T the middle blocks are
    # scanned, each ending with every layer rescaled and its lag applied (so each starts with none); the head
    # block ends the same way, and the rest is unrolled.
    long = T > UNROLL_T
    head = k if long else T
    lags = none
    for j in range(head):
        states, lags = step(states, lags, at(xs, j), j == 0, j % k == k - 1 or j == T - 1, long and j == head - 1)
    if long:
        blocks = (T - k) // k

        def body(carry, x_block):
            waiting = none
            for j in range(k):
                carry, waiting = step(carry, waiting, at(x_block, j), False, j == k - 1, j == k - 1)
            return carry, None

        def shaped(a):
            return a[k:k + blocks * k].reshape((blocks, k) + a.shape[1:])

        if blocks:
            states, _ = jax.lax.scan(body, states, jax.tree_util.tree_map(shaped, xs))
        start = k + blocks * k
        for j in range(start, T):
            states, lags = step(states, lags, at(xs, j), False, (j - start) % k == k - 1 or j == T - 1, False)
    h, log = states[-1]
    return _normalise(h @ params.W_O.T, log, value(lags[-1] + unit[2 * L]))


@functools.partial(jax.jit, static_argnums=3)
def _forward_scaled(params: RACParams, logs, xs, ids: bool):
    """``(mantissa, log_scale)`` with a rescale every [`rescale_period`][tnrnn.rac.recurrence.rescale_period] steps.

    ``params, logs`` are bounded weights and their divisors' logs ([`bounded_params`][tnrnn.rac.recurrence.bounded_params]).
    """
    xs = jnp.swapaxes(xs, 0, 1)  # time-major: step t reads one contiguous (B,) or (B, M) slice
    if ids:
        xs = xs.astype(jnp.uint32)  # once for all steps: a negative id becomes one past any table's end
    else:
        # Each feature vector divided by a power of two at or above its max-abs (exact), its log carried: inputs
        # of any magnitude then keep every factor of the recurrence bounded by 1.
        xs = xs.astype(params.W_O.dtype)
        c = _pow2_above(jnp.max(jnp.abs(xs), axis=-1))
        xs = (xs / c[..., None], jnp.log(c))
    return ScaledOutput(*_run(params, logs, xs, ids, rescale_period(len(params.W_I))))
