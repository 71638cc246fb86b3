"""The exact RAC recurrence over GF(p) in numpy int64: no jax, so exact work (certificates, tables) starts fast.

Every product is reduced mod p; dot products accumulate at most [`tnrnn.rac.params.max_safe_terms`][tnrnn.rac.params.max_safe_terms] terms
before reducing, which [`tnrnn.rac.params.check_prime`][tnrnn.rac.params.check_prime] guarantees. This path shares no code with the
tensor-network contraction, so each cross-checks the other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.rac.params import (
    DEFAULT_PRIME,
    RACParams,
    check_inputs,
    check_prime,
    draw_params,
    init_params_modp,
    reduce_modp,
)
from tnrnn.rac.spec import RACSpec

__all__ = ["rac_scan_modp", "rac_readout_modp", "rac_forward_modp", "init_params_modp", "init_params_field"]


def init_params_field(spec: RACSpec, seed: int, p: int, *, init_state: bool = False) -> RACParams:
    """Weights uniform over GF(p) drawn from ``numpy.random.default_rng([seed, p])``: one independent draw per pair.

    The certified runs and the probabilistic statement use these ([`tnrnn.bounds.certify`][tnrnn.bounds.certify]). Seeding by the
    pair matters for the statement: weights drawn from the seed alone would be the same random numbers for every
    prime (only reduced differently), so runs at one seed and several primes would not be independent draws.
    Any prime below 2^62 is accepted (the evaluations choose exact arithmetic for it, [`tnrnn.bounds.gfp_wide`][tnrnn.bounds.gfp_wide]).

    Examples
    --------
    >>> a, b = init_params_field(RACSpec(1, 2, 2), 0, 1000000007), init_params_field(RACSpec(1, 2, 2), 0, 998244353)
    >>> bool((a.W_I[0] * 998244353 == b.W_I[0] * 1000000007).all())   # not the same draw rescaled
    False
    >>> int(init_params_field(RACSpec(1, 2, 2), 0, 4611686018427387847).W_O.max()) < 2**62
    True
    """
    from tnrnn.base.validate import check_positive_int
    from tnrnn.bounds.gfp_wide import check_field_prime

    rng = np.random.default_rng([check_positive_int("seed", seed, minimum=0), check_field_prime(p)])
    return draw_params(spec, rng, p, init_state=init_state)


def _matvec_modp(h: np.ndarray, W: np.ndarray, p: int) -> np.ndarray:
    """``(h @ W.T) mod p`` for reduced int64 operands (the dot product length was checked by check_prime)."""
    return (h @ W.T) % p


def rac_scan_modp(params: RACParams, x, p: int = DEFAULT_PRIME, *, state: Sequence[np.ndarray] | None = None):
    """Run the exact recurrence over GF(p) and return the final states ``h[T, l]`` of every layer.

    Parameters
    ----------
    params : RACParams
        Integer weights ([`init_params_modp`][tnrnn.rac.params.init_params_modp]); they are used through their residues mod p.
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
    >>> from tnrnn import RACSpec
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
    """``y = W_O h[T, L] mod p`` from the states returned by [`rac_scan_modp`][tnrnn.rac.modp.rac_scan_modp]; int64 array (B, K).

    Examples
    --------
    >>> from tnrnn import RACSpec
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
    >>> from tnrnn import RACSpec
    >>> q = init_params_modp(RACSpec(1, 2, 2), seed=0, p=101)
    >>> rac_forward_modp(q, [[0, 1, 1]], p=101).shape
    (1, 1)
    """
    return rac_readout_modp(params, rac_scan_modp(params, x, p), p)

