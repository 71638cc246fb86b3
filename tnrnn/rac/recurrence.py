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

Largest safe p: a dot product of n reduced terms is at most ``n (p-1)^2``, which must stay below ``2**63``, so
``p <= 1 + isqrt((2**63 - 1) // n)`` with n = max(R, M) the longest dot product (:func:`check_prime` enforces
it and names the bound): about 3.0e9 for n = 1, 9.6e7 for n = 1000. The default p = 1,048,573 (the largest prime
below 2**20) is safe up to n = 2**23, so any realistic width works without thinking about it.

Initial state: by default ``W_H[l] @ h[0, l] = 1`` (all ones), so the first step is ``h[1,l] = W_I[l] @ h[1,l-1]``;
pass ``init_state=True`` to draw explicit initial states ``h[0, l]`` instead.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.rac.spec import RACSpec

#: Largest prime below 2**20: products fit in 40 bits, so a dot product of up to 2**23 reduced terms fits int64.
DEFAULT_PRIME = 1_048_573

_INT64_MAX = 2**63 - 1


class RACParams(NamedTuple):
    """Weights of a RAC (a jax pytree). Index ``l`` runs over layers 0..L-1 (layer l+1 in docs/theory.md).

    Attributes
    ----------
    W_I : tuple of arrays
        ``W_I[0]`` is R x M, ``W_I[l > 0]`` is R x R.
    W_H : tuple of arrays
        R x R per layer.
    W_O : array
        K x R.
    h0 : tuple of arrays or None
        Explicit initial states ``h[0, l]`` (length R each); ``None`` means the convention ``W_H h[0] = 1``.
    """

    W_I: tuple
    W_H: tuple
    W_O: object
    h0: tuple | None = None

    @property
    def spec(self) -> RACSpec:
        """The :class:`RACSpec` these weights belong to."""
        R, M = np.shape(self.W_I[0])
        return RACSpec(depth=len(self.W_I), width=R, features=M, outputs=np.shape(self.W_O)[0])


class ScaledOutput(NamedTuple):
    """RAC outputs as ``y = mantissa * exp(log_scale)[:, None]``: finite and nonzero where float32 ``y`` is not.

    Unpacks as ``mantissa, log_scale = ...``. ``mantissa`` is (B, K) with max-abs 1 per sequence (0 only when
    every output of the sequence is exactly 0), ``log_scale`` is (B,). ``np.asarray(out)`` is the plain product
    :meth:`value`.

    Examples
    --------
    >>> import numpy as np
    >>> out = ScaledOutput(np.array([[1.0, -0.5]]), np.array([-200.0]))
    >>> out.sign().tolist(), np.round(out.log_abs(), 3).tolist()
    ([[1.0, -1.0]], [[-200.0, -200.693]])
    >>> out.value().tolist()     # the float32-range product underflows (float64 here: 1.38e-87)
    [[1.3838965267367376e-87, -6.919482633683688e-88]]
    """

    mantissa: object
    log_scale: object

    def value(self):
        """The plain product ``mantissa * exp(log_scale)`` (under- or overflows for long sequences)."""
        xp = np if isinstance(self.log_scale, np.ndarray) else jnp
        return self.mantissa * xp.exp(self.log_scale)[:, None]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value(), dtype=dtype)

    def log_abs(self):
        """``log |y|`` per output (``-inf`` where y = 0)."""
        with np.errstate(divide="ignore"):
            return np.log(np.abs(np.asarray(self.mantissa))) + np.asarray(self.log_scale)[:, None]

    def sign(self):
        """The sign of every output (-1, 0 or 1)."""
        return np.sign(np.asarray(self.mantissa))


def max_safe_terms(p: int) -> int:
    """How many reduced products ``a*b`` (``0 <= a, b < p``) can be summed in int64 without overflow.

    The mod-p code reduces after every product but lets a dot product accumulate before reducing; a sum of
    ``n`` terms each at most ``(p-1)**2`` fits int64 while ``n * (p-1)**2 <= 2**63 - 1``.

    Examples
    --------
    >>> max_safe_terms(DEFAULT_PRIME) >= 2**23
    True
    """
    return _INT64_MAX // max((p - 1) ** 2, 1)


def check_prime(p: int, *, terms: int = 1) -> int:
    """Validate a modulus: a prime whose dot products of ``terms`` products fit int64.

    Examples
    --------
    >>> check_prime(101, terms=1000)
    101
    >>> check_prime(2_147_483_647, terms=3)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: p = 2147483647 is too large for exact int64 dot products of 3 terms; use a prime below 1753413056 (the default 1048573 is safe for up to 8388672 terms)
    """
    import flint

    p = check_positive_int("p", p, minimum=2)
    if not flint.fmpz(p).is_prime():
        raise TnrnnError(f"p must be a prime, got {p}")
    if terms > max_safe_terms(p):
        limit = math.isqrt(_INT64_MAX // max(terms, 1))
        raise TnrnnError(
            f"p = {p} is too large for exact int64 dot products of {terms} terms; use a prime below {limit}"
            f" (the default {DEFAULT_PRIME} is safe for up to {max_safe_terms(DEFAULT_PRIME)} terms)"
        )
    return p


def reduce_modp(a, p: int, what: str = "values") -> np.ndarray:
    """Integer (or bool) array ``a`` as int64 residues in ``[0, p)``.

    Non-integer dtypes are refused rather than cast: a float would be truncated, silently breaking exactness.
    The residue is taken before the cast, so uint64 entries above 2**63 reduce correctly.

    Examples
    --------
    >>> reduce_modp([-1, 7, 2**40], 5).tolist()
    [4, 2, 1]
    >>> reduce_modp([0.5], 5)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: values must be integers for exact arithmetic mod p, got dtype float64
    """
    arr = np.asarray(a)
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise TnrnnError(f"{what} must be integers for exact arithmetic mod p, got dtype {arr.dtype}")
    return (arr % p).astype(np.int64)


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
    import jax.numpy as jnp

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


def init_params_modp(spec: RACSpec, seed: int, p: int = DEFAULT_PRIME, *, init_state: bool = False) -> RACParams:
    """Random weights over GF(p): int64 entries uniform in ``[0, p)`` from an integer seed.

    Uniform over the whole field, never small integers: small weights are not generic and give ranks far
    below the generic value (docs/theory.md, "Bounds").

    Examples
    --------
    >>> q = init_params_modp(RACSpec(1, 2, 2), seed=0, p=101)
    >>> int(q.W_I[0].max()) < 101, q.W_I[0].dtype
    (True, dtype('int64'))
    """
    check_prime(p, terms=max(spec.R, spec.M))
    rng = np.random.default_rng(check_positive_int("seed", seed, minimum=0))
    R, M, L, K = spec.R, spec.M, spec.L, spec.K
    W_I = tuple(rng.integers(0, p, (R, M if l == 0 else R), dtype=np.int64) for l in range(L))
    W_H = tuple(rng.integers(0, p, (R, R), dtype=np.int64) for _ in range(L))
    W_O = rng.integers(0, p, (K, R), dtype=np.int64)
    h0 = tuple(rng.integers(0, p, (R,), dtype=np.int64) for _ in range(L)) if init_state else None
    return RACParams(W_I, W_H, W_O, h0)


# --------------------------------------------------------------------------------------------------------------
# Input validation


def check_inputs(spec: RACSpec, x, *, T: int | None = None) -> tuple[str, np.ndarray]:
    """Validate a batch of inputs and say which kind it is.

    Parameters
    ----------
    x : array_like
        Either symbol ids, integer shape (B, T) with values in ``[0, M)`` (one-hot features), or feature
        vectors, shape (B, T, M).
    T : int, optional
        Required sequence length.

    Returns
    -------
    kind, array : ("ids", int64 array) or ("features", array)

    Examples
    --------
    >>> check_inputs(RACSpec(1, 2, 3), [[0, 2, 1]])[0]
    'ids'
    >>> check_inputs(RACSpec(1, 2, 3), [[0, 3]])
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: symbol id 3 is out of range for M = 3 features (ids must be in [0, 3))
    """
    try:
        arr = np.asarray(x) if not hasattr(x, "shape") else x
    except ValueError:  # ragged nested lists
        raise TnrnnError("inputs must be a rectangular array: symbol ids (B, T) or features (B, T, M)") from None
    shape = tuple(arr.shape)
    if len(shape) == 2:
        if not np.issubdtype(np.dtype(arr.dtype), np.integer):
            raise TnrnnError(f"symbol ids of shape (B, T) must be integers, got dtype {arr.dtype}")
        ids = np.asarray(arr, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= spec.M):
            bad = int(ids.max()) if ids.max() >= spec.M else int(ids.min())
            raise TnrnnError(f"symbol id {bad} is out of range for M = {spec.M} features (ids must be in [0, {spec.M}))")
        kind, out = "ids", ids
    elif len(shape) == 3:
        if shape[2] != spec.M:
            raise TnrnnError(f"feature inputs must have shape (B, T, M={spec.M}), got {shape}")
        dt = np.dtype(arr.dtype)
        if not (np.issubdtype(dt, np.integer) or np.issubdtype(dt, np.floating) or dt == np.bool_):
            raise TnrnnError(f"feature inputs must be real numbers, got dtype {dt}")
        kind, out = "features", arr
    else:
        raise TnrnnError(f"inputs must be symbol ids (B, T) or features (B, T, M={spec.M}), got shape {shape}")
    if shape[0] < 1 or shape[1] < 1:
        raise TnrnnError(f"inputs need at least one sequence and one time step, got shape {shape}")
    if T is not None and shape[1] != T:
        raise TnrnnError(f"inputs have T = {shape[1]} steps, expected {T}")
    return kind, out


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
    import jax.numpy as jnp

    dtype = jnp.result_type(params.W_O)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.float32
    cast = lambda ws: tuple(jnp.asarray(w, dtype) for w in ws)  # noqa: E731
    return RACParams(cast(params.W_I), cast(params.W_H), jnp.asarray(params.W_O, dtype),
                     None if params.h0 is None else cast(params.h0))


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
    import jax.numpy as jnp

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


# --------------------------------------------------------------------------------------------------------------
# Exact recurrence mod p (numpy int64)


def _matvec_modp(h: np.ndarray, W: np.ndarray, p: int) -> np.ndarray:
    """``(h @ W.T) mod p`` for reduced int64 operands (the dot product length was checked by check_prime)."""
    return (h @ W.T) % p


def rac_scan_modp(params: RACParams, x, p: int = DEFAULT_PRIME, *, state: Sequence[np.ndarray] | None = None):
    """Run the exact recurrence over GF(p) and return the final states ``h[T, l]`` of every layer.

    Parameters
    ----------
    params : RACParams
        Integer weights (:func:`init_params_modp`); they are used through their residues mod p.
    x : array_like
        Symbol ids (B, T) or integer features (B, T, M).
    p : int
        The prime modulus.
    state : sequence of (B, R) integer arrays, optional
        States ``h[t0, l]`` to continue from (as returned by an earlier call); default: the initial state.
        Continuing lets callers share the work of common prefixes.

    Returns
    -------
    tuple of L int64 arrays of shape (B, R)

    Raises
    ------
    TnrnnError
        Bad inputs, a modulus that is not a prime or too large for exact int64 dot products, or float weights,
        features or states (they would be truncated).

    Examples
    --------
    >>> q = init_params_modp(RACSpec(2, 2, 2), seed=1, p=101)
    >>> full = rac_forward_modp(q, [[0, 1, 1, 0]], p=101)
    >>> half = rac_scan_modp(q, [[0, 1]], p=101)
    >>> bool((rac_readout_modp(q, rac_scan_modp(q, [[1, 0]], p=101, state=half), p=101) == full).all())
    True
    """
    spec = params.spec
    check_prime(p, terms=max(spec.R, spec.M))
    kind, arr = check_inputs(spec, x)
    B, T = arr.shape[:2]
    L, R = spec.L, spec.R
    W_I = [reduce_modp(w, p, "mod-p weights") for w in params.W_I]
    W_H = [reduce_modp(w, p, "mod-p weights") for w in params.W_H]
    if kind == "features":
        feats = reduce_modp(arr, p, "mod-p feature inputs")
    if state is None:
        if params.h0 is None:
            recurrent = [np.ones((B, R), dtype=np.int64) for _ in range(L)]
        else:
            recurrent = [np.broadcast_to(_matvec_modp(reduce_modp(h, p, "mod-p initial states"), W_H[l], p), (B, R))
                         for l, h in enumerate(params.h0)]
    else:
        if len(state) != L or any(np.shape(s) != (B, R) for s in state):
            raise TnrnnError(f"state must be {L} arrays of shape (B={B}, R={R})")
        recurrent = [_matvec_modp(reduce_modp(s, p, "mod-p states"), W_H[l], p) for l, s in enumerate(state)]
    hs: list[np.ndarray] = []
    for t in range(T):
        # One-hot input: W_I[0] @ e_x is column x of W_I[0], exact without a product.
        below_in = W_I[0].T[arr[:, t]] if kind == "ids" else _matvec_modp(feats[:, t], W_I[0], p)
        hs = []
        for l in range(L):
            a = below_in if l == 0 else _matvec_modp(hs[l - 1], W_I[l], p)
            hs.append((a * recurrent[l]) % p)
        recurrent = [_matvec_modp(h, W_H[l], p) for l, h in enumerate(hs)]
    return tuple(hs)


def rac_readout_modp(params: RACParams, state: Sequence[np.ndarray], p: int = DEFAULT_PRIME) -> np.ndarray:
    """``y = W_O h[T, L] mod p`` from the states returned by :func:`rac_scan_modp`; int64 array (B, K).

    Examples
    --------
    >>> q = init_params_modp(RACSpec(1, 2, 2), seed=0, p=101)
    >>> bool((rac_readout_modp(q, rac_scan_modp(q, [[1, 0]], p=101), p=101) == rac_forward_modp(q, [[1, 0]], p=101)).all())
    True
    """
    check_prime(p, terms=np.shape(params.W_O)[-1])
    h = reduce_modp(state[-1], p, "mod-p states")
    return _matvec_modp(h, reduce_modp(params.W_O, p, "mod-p weights"), p)


def rac_forward_modp(params: RACParams, x, p: int = DEFAULT_PRIME) -> np.ndarray:
    """Evaluate the RAC exactly over GF(p) for a batch of sequences; int64 array (B, K) with entries in [0, p).

    Examples
    --------
    >>> q = init_params_modp(RACSpec(1, 2, 2), seed=0, p=101)
    >>> rac_forward_modp(q, [[0, 1, 1]], p=101).shape
    (1, 1)
    """
    return rac_readout_modp(params, rac_scan_modp(params, x, p), p)
