"""A tuned hand-written jax RAC recurrence (the benchmarks' reference row) and a float64 numpy check of it.

Written apart from :mod:`tnrnn.rac.recurrence` so the project's recurrence is measured against an independent
implementation of the same maths: time-major symbol ids, a gather of ``W_I[0]`` columns per step, every layer
rescaled to max-abs 1 once per block of ``k`` steps (k = 8 at depth 1, 4 deeper), the block body unrolled, short
sequences unrolled whole. It has no input checks and no fallback for weights far from O(1): it is checked
against :func:`float64_log_reference` before it is timed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def _norm(h, lg):
    s = jnp.max(jnp.abs(h), axis=-1)
    s = jnp.where(s > 0, s, 1.0)
    return h / s[:, None], lg + jnp.log(s)


@jax.jit
def tuned_forward(W_I, W_H, W_O, x):
    """``(mantissa, log_scale)`` of a RAC without initial states on symbol ids ``x`` (B, T)."""
    L = len(W_I)
    B, T = x.shape
    k = 8 if L == 1 else 4
    WIT = W_I[0].T
    xt = x.T

    def step(c, ids, rescale):
        new, below, blg = [], jnp.take(WIT, ids, axis=0), None
        for l in range(L):
            h, lg = c[l]
            hn = (below if l == 0 else below @ W_I[l].T) * (h @ W_H[l].T)
            lgn = lg if blg is None else lg + blg
            if rescale:
                hn, lgn = _norm(hn, lgn)
            new.append((hn, lgn))
            below, blg = hn, lgn
        return tuple(new)

    c, below, blg = [], jnp.take(WIT, xt[0], axis=0), jnp.zeros((B,), W_O.dtype)
    for l in range(L):  # step 0: the recurrent factor is all ones
        h, blg = _norm(below if l == 0 else below @ W_I[l].T, blg)
        c.append((h, blg))
        below = h
    c = tuple(c)
    blocks, rem = divmod(T - 1, k) if T > 16 else (0, T - 1)
    if blocks:
        def body(c, ib):
            for j in range(k):
                c = step(c, ib[j], j == k - 1)
            return c, None

        c, _ = jax.lax.scan(body, c, xt[1:1 + blocks * k].reshape(blocks, k, B))
    for j in range(rem):
        c = step(c, xt[1 + blocks * k + j], j % k == k - 1 or j == rem - 1)
    h, lg = c[-1]
    return _norm(h @ W_O.T, lg)


def float64_log_reference(W_I, W_H, W_O, x) -> tuple[np.ndarray, np.ndarray]:
    """``(sign of y, log|y|)`` in float64 numpy with a rescale at every step (no initial states)."""
    W_I = [np.asarray(w, np.float64) for w in W_I]
    W_H = [np.asarray(w, np.float64) for w in W_H]
    x = np.asarray(x)
    B = x.shape[0]
    hs = [None] * len(W_I)
    logs = [np.zeros(B) for _ in W_I]
    for t in range(x.shape[1]):
        below, blg = W_I[0].T[x[:, t]], np.zeros(B)
        for l in range(len(W_I)):
            h = below if l == 0 else below @ W_I[l].T
            h = h if t == 0 else h * (hs[l] @ W_H[l].T)
            s = np.abs(h).max(axis=1)
            hs[l], logs[l] = h / s[:, None], logs[l] + blg + np.log(s)
            below, blg = hs[l], logs[l]
    y = hs[-1] @ np.asarray(W_O, np.float64).T
    return np.sign(y), np.log(np.abs(y)) + logs[-1][:, None]


def agrees(out, ref, *, tol: float = 1e-4) -> bool:
    """Whether a scaled float32 output matches the float64 reference: 99% of signs, and log|y| to ``tol``
    relative (median; float32 log scales summed over hundreds of steps carry a relative error of about 1e-6).

    Not every sign: an output that nearly cancels (``|y|`` far below the terms summed into it) may round either
    way in float32.
    """
    mant, log = (np.asarray(a, np.float64) for a in out)
    sign, logabs = ref
    n = sign.shape[0]
    with np.errstate(divide="ignore"):
        got = np.log(np.abs(mant[:n])) + log[:n, None]
    rel = np.abs(got - logabs) / np.maximum(1.0, np.abs(logabs))
    return bool(np.mean(np.sign(mant[:n]) == sign) >= 0.99 and np.median(rel) < tol)
