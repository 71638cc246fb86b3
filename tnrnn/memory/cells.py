"""Recurrent cells for the empirical memory studies, stackable to depth L (docs/theory.md, 'Recurrent
Arithmetic Circuits'; the gated cells as in Collins, Sohl-Dickstein, Sussillo, ICLR 2017).

Cells (one metadata table, `CELL_TABLE`): ``rac`` (Recurrent Arithmetic Circuit), ``rnn``, ``irnn``,
``ugrnn``, ``gru``, ``lstm``, ``plusrnn`` (the intersection RNN, depth >= 2 only) and ``scornn`` (the
scaled-Cayley orthogonal RNN of [`tnrnn.memory.orthogonal`][tnrnn.memory.orthogonal]). Every stack is a plain pytree of jax arrays::

    {"layers": [layer_0, ..., layer_{L-1}], "readout": {"W": (width, n_out), "b": (n_out,)}}

Conventions (row vectors, ``x @ W``): input weights ``Wx`` are (n_in_l, G*width), recurrent weights ``Wh``
(width, G*width), biases ``b`` (G*width,), with the G gate blocks concatenated in the order given per cell
below. Every layer has a learned initial state ``h0`` (LSTM also ``c0``), except the scoRNN's, whose
initial state is random, drawn for every batch from the key given to [`apply_stack`][tnrnn.memory.cells.apply_stack]. Layer 1 reads the inputs, layer
l > 1 reads the output of layer l-1, and the readout is applied at every time step to the top layer.

* ``rnn``: ``h = s(x Wx + h Wh + b)``.
* ``irnn``: the same recurrence with ``s = relu``, ``Wh`` initialised to the identity and ``b`` to zero
  (Le et al.); ``Wh`` stays trainable, so it has the RNN's parameter count.
* ``ugrnn``: blocks ``[c, g]``; ``c = s(.)``, ``g = sigma(. + b_fg)``, ``h = g*h_prev + (1-g)*c``.
* ``gru``: ``Wx``/``b`` blocks ``[r, u, c]``, ``Wh`` blocks ``[r, u]`` plus ``Whc`` for the candidate;
  ``c = s(x Wx_c + (r*h_prev) Whc + b_c)``, ``u`` gets ``b_fg``, ``h = u*h_prev + (1-u)*c``.
* ``lstm``: blocks ``[i, f, o, g]``; ``c = sigma(f + b_fg)*c_prev + sigma(i)*s(g)``, ``h = sigma(o)*tanh(c)``.
* ``plusrnn``: blocks ``[y_in, h_in, g_y, g_h]``; ``y_in = relu(.)``, ``h_in = tanh(.)``, both gates get
  ``b_fg``; up ``y = g_y*x + (1-g_y)*y_in``, state ``h = g_h*h_prev + (1-g_h)*h_in``. Because ``y`` mixes in
  ``x`` itself, layer 1 first maps the inputs to the width with a learned matrix ``P`` (n_in, width).
* ``scornn``: ``h = modrelu(x Wx + h_prev W, b)``, ``W = (I + A)^-1 (I - A) D`` orthogonal (parameters ``Wx``,
  the skew entries ``A``, the modReLU bias ``b``; trained and initialised as in the authors' released code, see
  [`tnrnn.memory.orthogonal`][tnrnn.memory.orthogonal]).
* ``rac``: ``h = (x W_I) * (h_prev W_H)`` (multiplicative integration, no bias, no nonlinearity), with the
  readout having no bias either.

RAC normalisation (what keeps it trainable): a float RAC's state is a product of T*L factors and under- or
overflows within tens of steps, and its gradients with it. With ``normalize=True`` (the default) every new
state is divided by its root-mean-square, ``h <- h / sqrt(mean(h**2) + eps)``. The RAC is homogeneous of
degree 1 in each of ``x W_I`` and ``h_prev``, so each division multiplies every later state, and the
logits, by a positive per-sequence scalar: the normalised RAC has **the same decision function** (argmax of
the logits) as the plain RAC with the same weights; only the loss sees the rescaling. ``normalize=False``
gives the plain recurrence of docs/theory.md (used in tests to cross-check against [`tnrnn.rac_forward`][tnrnn.rac.recurrence.rac_forward]).
RAC weights start near the identity (``W_H = I + noise``; ``W_I`` of layer 1 has columns near all-ones,
``W_I`` of upper layers is ``I + noise``), so at initialisation the state is carried almost unchanged and
each layer passes its input up, and ``h0`` starts at the solution of ``h0 W_H = 1`` (the all-ones
convention of docs/theory.md). The RAC is sensitive to the learning rate: on Start-End Similarity at T = 40,
Adam at 1e-3 trains it where 3e-3 and 1e-2 leave it at chance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.memory import orthogonal
from tnrnn.memory.catalog import CELL_TABLE, CELLS, GATES, CellInfo, check_cell  # noqa: F401  (API)
from tnrnn.memory.steps import STEPS, step_context

NONLINEARITIES: tuple[str, ...] = ("tanh", "relu")

Params = dict[str, Any]




def _check_stack(cell: str, n_in: int, width: int, depth: int, n_out: int) -> str:
    cell = check_cell(cell)
    check_positive_int("n_in", n_in)
    check_positive_int("width", width)
    check_positive_int("depth", depth)
    check_positive_int("n_out", n_out)
    need = CELL_TABLE[cell].min_depth
    if depth < need:
        raise TnrnnError(f"the {CELL_TABLE[cell].label} ({cell}) is defined for depth >= {need} "
                         "(its up-path needs a layer below)")
    return cell


def _nonlinearity(cell: str, nonlinearity: str) -> Callable:
    if nonlinearity not in NONLINEARITIES:
        raise TnrnnError(f"nonlinearity must be one of {', '.join(NONLINEARITIES)}, got {nonlinearity!r}")
    if cell == "irnn":
        return jax.nn.relu
    return jnp.tanh if nonlinearity == "tanh" else jax.nn.relu


# ----------------------------------------------------------------------------------------------- counting


def layer_num_params(cell: str, n_in: int, width: int) -> int:
    """Trainable parameters of one layer reading ``n_in`` inputs (its initial state included).

    Examples
    --------
    >>> layer_num_params("gru", 3, 4)   # 3*(3*4 + 4*4 + 4) + 4
    100
    """
    cell = check_cell(cell)
    R, G = width, GATES[cell]
    if cell == "rac":
        return n_in * R + R * R + R
    if cell == "scornn":
        return orthogonal.scornn_layer_num_params(n_in, R)
    per_layer = G * (n_in * R + R * R + R) + R
    if cell == "lstm":
        per_layer += R  # c0
    return per_layer


def num_params(cell: str, n_in: int, width: int, depth: int, n_out: int) -> int:
    """Number of trainable parameters of a stack: equals the total size of [`init_stack`][tnrnn.memory.cells.init_stack]'s leaves.

    Examples
    --------
    >>> num_params("lstm", n_in=4, width=8, depth=2, n_out=3)
    1019
    """
    cell = _check_stack(cell, n_in, width, depth, n_out)
    total = 0
    n = n_in
    if cell == "plusrnn":
        total += n_in * width  # input projection P
        n = width
    # closed form, not a loop over layers: a depth of 10**100 must be sized (and refused) at once
    total += layer_num_params(cell, n, width) + (depth - 1) * layer_num_params(cell, width, width)
    total += width * n_out + (n_out if CELL_TABLE[cell].readout_bias else 0)
    return total


def width_for_budget(cell: str, n_in: int, depth: int, n_out: int, budget: int) -> int:
    """Largest width whose [`num_params`][tnrnn.memory.cells.num_params] is at most ``budget``.

    Raises
    ------
    TnrnnError
        If even width 1 does not fit.

    Examples
    --------
    >>> w = width_for_budget("gru", n_in=8, depth=2, n_out=3, budget=20000)
    >>> num_params("gru", 8, w, 2, 3) <= 20000 < num_params("gru", 8, w + 1, 2, 3)
    True
    """
    cell = _check_stack(cell, n_in, 1, depth, n_out)
    budget = check_positive_int("budget", budget)
    smallest = num_params(cell, n_in, 1, depth, n_out)
    if smallest > budget:
        raise TnrnnError(
            f"a parameter budget of {budget} is too small for any {cell} of depth {depth} "
            f"(width 1 already needs {smallest} parameters)"
        )
    lo, hi = 1, 2
    while num_params(cell, n_in, hi, depth, n_out) <= budget:  # num_params grows strictly with width
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if num_params(cell, n_in, mid, depth, n_out) <= budget:
            lo = mid
        else:
            hi = mid
    return lo


# -------------------------------------------------------------------------------------------------- init


def _dense(key, n_in: int, n_out: int, scale: float = 1.0) -> jax.Array:
    return scale * jax.random.normal(key, (n_in, n_out), jnp.float32) / math.sqrt(n_in)


def _orthogonal(key, n: int, blocks: int) -> jax.Array:
    init = jax.nn.initializers.orthogonal()
    return jnp.concatenate([init(k, (n, n), jnp.float32) for k in jax.random.split(key, blocks)], axis=1)


def init_layer(key, cell: str, n_in: int, width: int, *, forget_bias: float = 1.0, upper: bool = False) -> Params:
    """Initial weights of one layer (see the module docstring for the layout).

    ``upper`` marks a layer that reads the layer below (not the one-hot inputs); only the RAC uses it.

    Examples
    --------
    >>> p = init_layer(jax.random.PRNGKey(0), "gru", 3, 4)
    >>> sorted((k, v.shape) for k, v in p.items())
    [('Wh', (4, 8)), ('Whc', (4, 4)), ('Wx', (3, 12)), ('b', (12,)), ('h0', (4,))]
    """
    cell = check_cell(cell)
    R, G = width, GATES[cell]
    k1, k2, k3 = jax.random.split(key, 3)
    if cell == "scornn":
        return orthogonal.init_scornn_layer(key, n_in, R)
    if cell == "rac":
        W_H = jnp.eye(R, dtype=jnp.float32) + 0.1 * jax.random.normal(k2, (R, R), jnp.float32) / math.sqrt(R)
        if upper:
            # Reading a state: near the identity, so x W_I ~ x. Near all-ones here would send sum(x) to every
            # unit and collapse the upper layers to one direction.
            W_I = jnp.eye(R, dtype=jnp.float32) + 0.5 * jax.random.normal(k1, (n_in, R), jnp.float32) / math.sqrt(R)
        else:
            # Reading one-hot inputs: each column near all-ones, so one step rescales the state mildly.
            W_I = 1.0 + 0.5 * jax.random.normal(k1, (n_in, R), jnp.float32)
        # h0 W_H = 1: the first step starts from the all-ones convention of docs/theory.md.
        h0 = jnp.linalg.solve(W_H.T, jnp.ones((R,), jnp.float32))
        return {"W_I": W_I, "W_H": W_H, "h0": h0}
    p: Params = {"Wx": _dense(k1, n_in, G * R), "b": jnp.zeros((G * R,), jnp.float32), "h0": jnp.zeros((R,), jnp.float32)}
    if cell == "irnn":
        p["Wh"] = jnp.eye(R, dtype=jnp.float32)
    elif cell == "gru":
        p["Wh"] = _orthogonal(k2, R, 2)
        p["Whc"] = _orthogonal(k3, R, 1)
    else:
        p["Wh"] = _orthogonal(k2, R, G)
    if cell == "lstm":
        p["c0"] = jnp.zeros((R,), jnp.float32)
    return p


def init_stack(
    key,
    cell: str,
    n_in: int,
    width: int,
    depth: int,
    n_out: int,
    *,
    nonlinearity: str = "tanh",
    forget_bias: float = 1.0,
) -> Params:
    """Initial parameters of a depth-``depth`` stack of ``cell`` layers with a linear readout.

    Parameters
    ----------
    key : jax PRNG key or int
        Randomness (an int is used as a seed).
    cell : str
        One of `CELLS`.
    n_in, width, depth, n_out : int
        Input dimension, hidden width of every layer, number of layers, output dimension.
    nonlinearity, forget_bias
        Accepted for symmetry with [`apply_stack`][tnrnn.memory.cells.apply_stack] (they do not change the initial weights; the forget
        bias is a constant added inside the gates, not a parameter).

    Returns
    -------
    dict
        ``{"layers": [...], "readout": {"W", "b"}}`` (plus ``"P"`` for ``plusrnn``); the RAC readout has no
        ``"b"``. Its total size is [`num_params`][tnrnn.memory.cells.num_params].

    Examples
    --------
    >>> p = init_stack(0, "lstm", n_in=4, width=8, depth=2, n_out=3)
    >>> sum(x.size for x in jax.tree_util.tree_leaves(p)) == num_params("lstm", 4, 8, 2, 3)
    True
    """
    cell = _check_stack(cell, n_in, width, depth, n_out)
    _nonlinearity(cell, nonlinearity)
    if isinstance(key, (int, np.integer)):
        key = jax.random.PRNGKey(int(key))
    keys = jax.random.split(key, depth + 2)
    params: Params = {}
    n = n_in
    if cell == "plusrnn":
        params["P"] = _dense(keys[-1], n_in, width)
        n = width
    layers = []
    for l in range(depth):
        layers.append(init_layer(keys[l], cell, n, width, forget_bias=forget_bias, upper=l > 0))
        n = width
    params["layers"] = layers
    readout = {"W": _dense(keys[depth], width, n_out)}
    if CELL_TABLE[cell].readout_bias:
        readout["b"] = jnp.zeros((n_out,), jnp.float32)
    params["readout"] = readout
    return params


# ------------------------------------------------------------------------------------------------- steps


#: Key of the scoRNN's random initial states when ``apply_stack`` is given none (evaluation is then
#: deterministic: the same sequences always start from the same states).
EVAL_STATE_KEY = 0x5EED


def layer_width(layer: Params) -> int:
    """Width of one layer from its parameters.

    Examples
    --------
    >>> layer_width(init_stack(0, "scornn", n_in=3, width=4, depth=1, n_out=2)["layers"][0])
    4
    """
    return int(layer["b"].shape[-1]) if "A" in layer else int(layer["h0"].shape[-1])


def initial_carry(cell: str, layer: Params, batch: int, key=None):
    """The initial state of one layer for ``batch`` rows (``(h, c)`` for the LSTM): the learned ``h0``
    broadcast, or for the scoRNN a random state per row drawn from ``key``
    ([`tnrnn.memory.orthogonal.random_initial_state`][tnrnn.memory.orthogonal.random_initial_state]; `EVAL_STATE_KEY` when ``key`` is None).

    Examples
    --------
    >>> p = init_stack(0, "lstm", n_in=3, width=4, depth=1, n_out=2)
    >>> [a.shape for a in initial_carry("lstm", p["layers"][0], 5)]
    [(5, 4), (5, 4)]
    >>> q = init_stack(0, "scornn", n_in=3, width=4, depth=1, n_out=2)["layers"][0]
    >>> a, b = initial_carry("scornn", q, 2, jax.random.PRNGKey(1)), initial_carry("scornn", q, 2, jax.random.PRNGKey(2))
    >>> a.shape, bool((a != b).all())
    ((2, 4), True)
    """
    if "h0" not in layer:
        key = jax.random.PRNGKey(EVAL_STATE_KEY) if key is None else key
        return orthogonal.random_initial_state(key, batch, layer_width(layer))
    h = jnp.broadcast_to(layer["h0"], (batch,) + layer["h0"].shape)
    if check_cell(cell) == "lstm":
        return (h, jnp.broadcast_to(layer["c0"], h.shape))
    return h


#: Cells whose input projection is computed inside the scan, one step at a time, rather than for all steps
#: before it. For the GRU (three gate blocks) the precomputed (T, B, 3R) projection and its gradient made a
#: training step 1.3-1.6x flax's GRUCell at width 128, T = 100, batch 64; inside the step it is about 0.9x.
_PROJECT_IN_STEP = frozenset({"gru"})


def _input_projection(cell: str, layer: Params, x):
    if cell == "rac":
        return x @ layer["W_I"]
    if cell == "scornn":
        return x @ layer["Wx"]
    return x @ layer["Wx"] + layer["b"]


def cell_step(
    cell: str,
    layer: Params,
    carry,
    x,
    *,
    nonlinearity: str = "tanh",
    forget_bias: float = 1.0,
    normalize: bool = True,
):
    """One time step of one layer: ``(carry, x) -> (new_carry, output_up)``.

    ``carry`` is the state ``h`` (``(h, c)`` for the LSTM); ``output_up`` is what the next layer reads
    (``h``, or ``y`` for the +RNN). Works on a single vector or a batch (leading axes).

    Examples
    --------
    >>> layer = {"Wx": jnp.eye(2), "Wh": jnp.zeros((2, 2)), "b": jnp.zeros(2), "h0": jnp.zeros(2)}
    >>> h, out = cell_step("rnn", layer, jnp.zeros(2), jnp.array([0.0, 1.0]))
    >>> [round(float(v), 4) for v in h]
    [0.0, 0.7616]
    """
    cell = check_cell(cell)
    s = _nonlinearity(cell, nonlinearity)
    x = jnp.asarray(x, jnp.float32)
    ctx = step_context(cell, layer, s, forget_bias, normalize)
    return STEPS[cell](layer, carry, _input_projection(cell, layer, x), x, ctx)


def apply_stack(
    params: Params,
    xs,
    *,
    cell: str,
    nonlinearity: str = "tanh",
    forget_bias: float = 1.0,
    normalize: bool = True,
    return_hidden: bool = False,
    key=None,
):
    """Run the stack over a batch of sequences and read out at every step.

    Parameters
    ----------
    params : dict
        From [`init_stack`][tnrnn.memory.cells.init_stack] (or trained).
    xs : array (B, T, n_in)
        Input sequences (one-hot rows for discrete tasks).
    cell : str
        The cell the parameters belong to.
    nonlinearity : {"tanh", "relu"}
        Candidate nonlinearity ``s`` (ignored by ``irnn``, always ReLU, ``rac`` and ``plusrnn``).
    forget_bias : float
        Constant ``b_fg`` added to the keep gates (UGRNN g, GRU u, LSTM f, +RNN g_y and g_h).
    normalize : bool
        RAC only: rescale each state to unit RMS (see the module docstring).
    return_hidden : bool
        Also return the top layer's outputs (B, T, width).
    key : jax PRNG key, optional
        Draws the scoRNN's random initial states (layer ``l`` uses ``fold_in(key, l)``); the training loop
        passes each batch's key, so they are drawn anew for every batch. Other cells ignore it.

    Returns
    -------
    logits : array (B, T, n_out)
        (and the hidden outputs if ``return_hidden``). Layers run one after another, each a ``lax.scan``
        over time; the input projection of a layer is one matrix product for all steps, except for the GRU,
        which projects each step's input inside the scan (faster to train, see ``_PROJECT_IN_STEP``).

    Examples
    --------
    >>> p = init_stack(0, "gru", n_in=3, width=5, depth=2, n_out=2)
    >>> apply_stack(p, jnp.zeros((4, 7, 3)), cell="gru").shape
    (4, 7, 2)
    """
    cell = check_cell(cell)
    s = _nonlinearity(cell, nonlinearity)
    xs = jnp.asarray(xs, jnp.float32)
    if xs.ndim != 3:
        raise TnrnnError(f"xs must have shape (batch, time, n_in), got {xs.shape}")
    if cell == "plusrnn":
        xs = xs @ params["P"]
    seq = jnp.swapaxes(xs, 0, 1)  # time-major for lax.scan
    B = seq.shape[1]
    for index, layer in enumerate(params["layers"]):
        ctx = step_context(cell, layer, s, forget_bias, normalize)
        layer_key = None if key is None else jax.random.fold_in(key, index)
        carry0 = initial_carry(cell, layer, B, layer_key)
        if cell in _PROJECT_IN_STEP:
            def step_in(carry, x, layer=layer, ctx=ctx):
                return STEPS[cell](layer, carry, _input_projection(cell, layer, x), x, ctx)

            _, seq = jax.lax.scan(step_in, carry0, seq)
            continue
        xps = _input_projection(cell, layer, seq)

        def step(carry, inp, layer=layer, ctx=ctx):
            xp, x = inp
            return STEPS[cell](layer, carry, xp, x, ctx)

        _, seq = jax.lax.scan(step, carry0, (xps, seq))
    hidden = jnp.swapaxes(seq, 0, 1)
    logits = hidden @ params["readout"]["W"]
    if "b" in params["readout"]:
        logits = logits + params["readout"]["b"]
    return (logits, hidden) if return_hidden else logits
