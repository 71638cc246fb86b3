"""The jax-free half of a RAC: its weights, inputs and modulus (no jax import, so structure-only tools stay light).

* [`RACParams`][tnrnn.rac.params.RACParams] (the weights, a pytree) and [`ScaledOutput`][tnrnn.rac.params.ScaledOutput] (``(mantissa, log_scale)`` float results);
* the prime: `DEFAULT_PRIME`, [`check_prime`][tnrnn.rac.params.check_prime], [`max_safe_terms`][tnrnn.rac.params.max_safe_terms], [`reduce_modp`][tnrnn.rac.params.reduce_modp];
* [`init_params_modp`][tnrnn.rac.params.init_params_modp] (uniform weights over GF(p)) and [`check_inputs`][tnrnn.rac.params.check_inputs] (symbol ids or feature vectors).

Largest safe p: a dot product of n reduced terms is at most ``n (p-1)^2``, which must stay below ``2**63``, so
``p <= 1 + isqrt((2**63 - 1) // n)`` with n = max(R, M) the longest dot product ([`check_prime`][tnrnn.rac.params.check_prime] enforces
it and names the bound): about 3.0e9 for n = 1, 9.6e7 for n = 1000. The default p = 1,048,573 (the largest prime
below 2**20) is safe up to n = 2**23, so any realistic width works without thinking about it.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

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
    W_O: Any
    h0: tuple | None = None

    @property
    def spec(self) -> RACSpec:
        """The [`RACSpec`][tnrnn.rac.spec.RACSpec] these weights belong to."""
        R, M = np.shape(self.W_I[0])
        return RACSpec(depth=len(self.W_I), width=R, features=M, outputs=np.shape(self.W_O)[0])


class ScaledOutput(NamedTuple):
    """RAC outputs as ``y = mantissa * exp(log_scale)[:, None]``: finite and nonzero where float32 ``y`` is not.

    Unpacks as ``mantissa, log_scale = ...``. ``mantissa`` is (B, K) with max-abs 1 per sequence (0 only when
    every output of the sequence is exactly 0), ``log_scale`` is (B,). ``np.asarray(out)`` is the plain product
    [`value`][tnrnn.rac.params.ScaledOutput.value].

    Examples
    --------
    >>> import numpy as np
    >>> out = ScaledOutput(np.array([[1.0, -0.5]]), np.array([-200.0]))
    >>> out.sign().tolist(), np.round(out.log_abs(), 3).tolist()
    ([[1.0, -1.0]], [[-200.0, -200.693]])
    >>> out.value().tolist()     # the float32-range product underflows (float64 here: 1.38e-87)
    [[1.3838965267367376e-87, -6.919482633683688e-88]]
    """

    mantissa: Any
    log_scale: Any

    def value(self):
        """The plain product ``mantissa * exp(log_scale)`` (under- or overflows for long sequences)."""
        if isinstance(self.log_scale, np.ndarray):
            return self.mantissa * np.exp(self.log_scale)[:, None]
        import jax.numpy as jnp  # a jax result: stay on the device

        return self.mantissa * jnp.exp(self.log_scale)[:, None]

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
    return draw_params(spec, np.random.default_rng(check_positive_int("seed", seed, minimum=0)), p,
                       init_state=init_state)


def draw_params(spec: RACSpec, rng: np.random.Generator, p: int, *, init_state: bool = False) -> RACParams:
    """Weights drawn uniformly from ``{0, ..., p-1}`` (int64) by ``rng``: the one drawing behind every
    seeding scheme of the GF(p) weights (the caller checks the prime and seeds the generator).

    Examples
    --------
    >>> q = draw_params(RACSpec(2, 3, 4), np.random.default_rng(0), 101)
    >>> [w.shape for w in q.W_I], q.W_O.shape, q.h0
    ([(3, 4), (3, 3)], (1, 3), None)
    """
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


