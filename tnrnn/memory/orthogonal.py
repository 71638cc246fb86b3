"""The scaled-Cayley orthogonal RNN (scoRNN; Helfrich, Willmott, Ye, ICML 2018), the main cell of the
long-term memory experiments of Levine et al. (arXiv 1710.09431) and Ziv et al. (arXiv 2003.10163).

One layer: ``h = modrelu(x Wx + h_prev W, b)`` with the orthogonal recurrent matrix

    W = (I + A)^-1 (I - A) D,

``A`` skew-symmetric (the trained parameter, stored as its R(R-1)/2 upper-triangular entries, so the
parameter count is the number of free parameters), ``D`` a fixed diagonal of +-1 (not trained: the first
``R // 2`` entries are +1, the rest -1, as in the released code of Levine et al.), and
``modrelu(z, b) = sign(z) * relu(|z| + b)`` with a trained bias ``b``. ``W`` is orthogonal for every ``A``
(the Cayley transform of a skew-symmetric matrix is orthogonal, and so is its product with ``D``), so it
stays orthogonal along training up to floating-point error. Gradients flow to ``A`` through the transform by
automatic differentiation (the original paper derives the same gradient by hand).

Initialisation and training follow the released code of the long-term memory experiments (Levine et al.),
point by point:

1. ``A`` block-diagonal with 2x2 blocks ``[[0, s], [-s, 0]]``, ``s = sqrt((1 - cos t) / (1 + cos t))``,
   ``t`` uniform in ``[0, pi/2]``; it trains with its own RMSProp at learning rate 1e-4 (gradients clipped
   elementwise at 10, decayed by the plateau factor with the main rate: [`tnrnn.memory.optim.make_optimizer`][tnrnn.memory.optim.make_optimizer]
   routes every leaf named ``A`` there, `RECURRENT_LEARNING_RATE`, `RECURRENT_CLIP`);
2. input weights ``Wx`` uniform in ``[-0.01, 0.01]`` (`INPUT_INIT`);
3. no trained initial state: every sequence starts from a state drawn uniformly in
   ``[-sqrt(3/R), sqrt(3/R)]``, drawn anew for every batch ([`random_initial_state`][tnrnn.memory.orthogonal.random_initial_state]);
4. ``D`` with its first ``floor(R/2)`` entries +1 ([`fixed_diagonal`][tnrnn.memory.orthogonal.fixed_diagonal]);
5. the modReLU bias ``b`` starts at zero and is trained.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

Params = dict


def skew_size(width: int) -> int:
    """Number of free entries of a ``width x width`` skew-symmetric matrix.

    Examples
    --------
    >>> skew_size(4)
    6
    """
    return width * (width - 1) // 2


def skew_from_vector(vec: jax.Array, width: int) -> jax.Array:
    """The skew-symmetric matrix whose strict upper triangle (row-major) is ``vec``.

    Examples
    --------
    >>> skew_from_vector(jnp.array([1.0, 2.0, 3.0]), 3).tolist()
    [[0.0, 1.0, 2.0], [-1.0, 0.0, 3.0], [-2.0, -3.0, 0.0]]
    """
    rows, cols = jnp.triu_indices(width, k=1)
    upper = jnp.zeros((width, width), vec.dtype).at[rows, cols].set(vec)
    return upper - upper.T


#: Learning rate of the skew parameter ``A`` (its own RMSProp), and its elementwise gradient clip.
RECURRENT_LEARNING_RATE = 1e-4
RECURRENT_CLIP = 10.0

#: Input weights start uniform in [-INPUT_INIT, INPUT_INIT].
INPUT_INIT = 0.01


def fixed_diagonal(width: int) -> jax.Array:
    """The fixed +-1 diagonal D of the scaled Cayley transform: ``width // 2`` entries +1, then -1.

    Examples
    --------
    >>> fixed_diagonal(5).tolist()
    [1.0, 1.0, -1.0, -1.0, -1.0]
    """
    pos = width // 2
    return jnp.concatenate([jnp.ones((pos,), jnp.float32), -jnp.ones((width - pos,), jnp.float32)])


def random_initial_state(key, batch: int, width: int) -> jax.Array:
    """Initial states of a batch: uniform in ``[-sqrt(3/R), sqrt(3/R)]`` (unit variance per unit), one per
    sequence, not trained.

    Examples
    --------
    >>> h = random_initial_state(jax.random.PRNGKey(0), 1000, 4)
    >>> h.shape, bool(jnp.abs(h).max() <= math.sqrt(3 / 4)), round(float((h ** 2).sum(1).mean()), 1)
    ((1000, 4), True, 1.0)
    """
    bound = math.sqrt(3.0 / width)
    return jax.random.uniform(key, (batch, width), jnp.float32, -bound, bound)


def cayley(skew_vec: jax.Array, width: int) -> jax.Array:
    """The orthogonal recurrent matrix ``W = (I + A)^-1 (I - A) D`` of a scoRNN layer.

    ``I + A`` is always invertible (the eigenvalues of a real skew-symmetric ``A`` are imaginary).

    Examples
    --------
    >>> W = cayley(jnp.array([0.3, -1.2, 0.7]), 3)
    >>> bool(jnp.allclose(W @ W.T, jnp.eye(3), atol=1e-5))
    True
    """
    A = skew_from_vector(skew_vec, width)
    eye = jnp.eye(width, dtype=A.dtype)
    return jnp.linalg.solve(eye + A, eye - A) * fixed_diagonal(width)[None, :]


def modrelu(z: jax.Array, bias: jax.Array) -> jax.Array:
    """``sign(z) * relu(|z| + bias)`` (Arjovsky et al.), the scoRNN nonlinearity.

    Examples
    --------
    >>> modrelu(jnp.array([-2.0, 0.5, 3.0]), jnp.array([-1.0, -1.0, 0.5])).tolist()
    [-1.0, 0.0, 3.5]
    """
    return jnp.sign(z) * jax.nn.relu(jnp.abs(z) + bias)


def init_scornn_layer(key, n_in: int, width: int) -> Params:
    """Initial parameters of one scoRNN layer: ``Wx`` (n_in, R), ``A`` (R(R-1)/2,), ``b`` (R,) (no ``h0``:
    the initial state is random, [`random_initial_state`][tnrnn.memory.orthogonal.random_initial_state]).

    Examples
    --------
    >>> p = init_scornn_layer(jax.random.PRNGKey(0), 3, 4)
    >>> sorted((k, v.shape) for k, v in p.items())
    [('A', (6,)), ('Wx', (3, 4)), ('b', (4,))]
    >>> bool(jnp.abs(p["Wx"]).max() <= INPUT_INIT)
    True
    """
    k_x, k_t = jax.random.split(key)
    R = width
    theta = jax.random.uniform(k_t, (R // 2,), jnp.float32, 0.0, math.pi / 2)
    s = jnp.sqrt((1.0 - jnp.cos(theta)) / (1.0 + jnp.cos(theta)))
    A = jnp.zeros((R, R), jnp.float32)
    idx = 2 * jnp.arange(R // 2)
    A = A.at[idx, idx + 1].set(s)  # block-diagonal 2x2 rotations; the lower triangle is implied
    rows, cols = jnp.triu_indices(R, k=1)
    return {
        "Wx": jax.random.uniform(k_x, (n_in, R), jnp.float32, -INPUT_INIT, INPUT_INIT),
        "A": A[rows, cols],
        "b": jnp.zeros((R,), jnp.float32),
    }


def scornn_layer_num_params(n_in: int, width: int) -> int:
    """Trainable parameters of one scoRNN layer (the free entries of A, not R^2; no initial state).

    Examples
    --------
    >>> scornn_layer_num_params(3, 4)   # 3*4 + 6 + 4
    22
    """
    return n_in * width + skew_size(width) + width


def scornn_step(layer: Params, carry: jax.Array, xp: jax.Array, W: jax.Array) -> jax.Array:
    """One step given the input projection ``xp = x Wx`` and the layer's orthogonal ``W`` (from [`cayley`][tnrnn.memory.orthogonal.cayley]).

    Examples
    --------
    >>> p = init_scornn_layer(jax.random.PRNGKey(0), 2, 2)
    >>> scornn_step(p, jnp.zeros(2), jnp.array([1.0, -2.0]), jnp.eye(2)).tolist()
    [1.0, -2.0]
    """
    return modrelu(xp + carry @ W, layer["b"])
