"""Evaluating a RAC by contracting its tensor network: float, exact mod p, and the one-hot grid tensor.

The public functions validate once at the edge, look up the structure's plan ([`tnrnn.network.plan`][tnrnn.network.plan]; one
per structure for every batch size), check its cost at the actual batch size ([`tnrnn.network.report`][tnrnn.network.report]),
and call the jitted executor ([`tnrnn.network.execute`][tnrnn.network.execute]). Inputs that are already device arrays are not
copied to the host: their shape and dtype are checked from metadata and symbol ids are range-checked inside the
jit (an out-of-range id gives NaN). Float results are a [`ScaledOutput`][tnrnn.rac.params.ScaledOutput]
``(mantissa, log_scale)`` by default, like [`tnrnn.rac.recurrence.rac_forward`][tnrnn.rac.recurrence.rac_forward]; ``raw=True`` gives the plain
float32 product.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence

import jax
import numpy as np

from tnrnn.base.budget import default_budget_bytes
from tnrnn.base.errors import ResourceError, TnrnnError, format_count, human_bytes
from tnrnn.base.validate import check_positive_int
from tnrnn.network.build import RACNetwork
from tnrnn.network.execute import GENERATION, ExecKey, executor
from tnrnn.network.finders import DEFAULT_OPTIMIZERS
from tnrnn.network.plan import PlanKey, plan_key
from tnrnn.network.report import check_modp_steps, guard, plan_cost
from tnrnn.rac.partition import Partition, make_partition
from tnrnn.rac.recurrence import (
    _LAST_FLOAT,
    DEFAULT_PRIME,
    RACParams,
    ScaledOutput,
    check_inputs,
    check_prime,
    concrete,
    float_params,
    reduce_modp,
)
from tnrnn.rac.spec import RACSpec


def _resolve(spec_or_net, params, form: str):
    if isinstance(spec_or_net, RACNetwork):
        net = spec_or_net
        params = net.params if params is None else params
        if params is None:
            raise TnrnnError("the network was built without weights: pass params")
        return net.spec, params, net.form, net.T
    if isinstance(spec_or_net, RACSpec):
        if params is None:
            raise TnrnnError("params are required")
        return spec_or_net, params, form, None
    if isinstance(spec_or_net, RACParams) and params is None:
        return spec_or_net.spec, spec_or_net, form, None
    raise TnrnnError(f"expected a RACSpec or RACNetwork, got {type(spec_or_net).__name__}")


#: The last weights that passed ``_check_params`` with their spec (only immutable ones: see float_params).
_CHECKED: list = [None, None]
#: The last float call on immutable weights and device ids: its key, (float weights, executor, the executors'
#: generation: a cleared executor cache is noticed), and the objects whose ids the key holds (kept alive so no
#: other object can take those ids).
_LAST_CALL: list = [None, None, None]

def _shape(w) -> tuple:
    shape = getattr(w, "shape", None)  # np.shape costs ~1 us per array: arrays carry their shape
    return tuple(shape) if shape is not None else np.shape(w)


def _check_params(spec: RACSpec, params) -> None:
    """Shapes only (metadata): no weight is copied."""
    if not isinstance(params, RACParams):
        raise TnrnnError(f"params must be RACParams, got {type(params).__name__}")
    R, M = spec.R, spec.M
    try:
        shapes = [_shape(w) for w in params.W_I] + [_shape(w) for w in params.W_H]
        out_shape = _shape(params.W_O)
    except Exception as exc:
        raise TnrnnError(f"params are malformed: {exc}") from None
    want = [(R, M)] + [(R, R)] * (spec.L - 1) + [(R, R)] * spec.L
    if shapes == want and out_shape == (spec.K, R):
        ok_h0 = params.h0 is None or [_shape(h) for h in params.h0] == [(R,)] * spec.L
        if ok_h0:
            return
    try:
        got = params.spec  # a mismatch: name the structure the weights belong to
    except Exception as exc:
        raise TnrnnError(f"params are malformed: {exc}") from None
    if got != spec:
        raise TnrnnError(f"params are for {got}, not {spec}")
    raise TnrnnError(f"params have weight shapes {shapes}, expected {want} for {spec}")


def _device_inputs(spec: RACSpec, x, T: int | None):
    """Jax-array inputs checked from metadata only: ("ids" | "features", array)."""
    shape, code = tuple(x.shape), x.dtype.kind  # dtype kinds: issubdtype costs ~1 us on a ~100 us call
    if len(shape) == 2 and code in "iu":
        kind = "ids"
    elif len(shape) == 3 and shape[2] == spec.M and code in "fiub":
        kind = "features"
    else:
        return check_inputs(spec, np.asarray(x), T=T)  # a malformed array: the host check words the error
    if shape[0] < 1 or shape[1] < 1:
        raise TnrnnError(f"inputs need at least one sequence and one time step, got shape {shape}")
    if T is not None and shape[1] != T:
        raise TnrnnError(f"inputs have T = {shape[1]} steps, expected {T}")
    return kind, x


def _inputs(spec: RACSpec, x, T: int | None, form: str, *, modp: bool, p: int = 0):
    """Validated inputs: int32 symbol ids, int64 residues (mod p) or float features."""
    if x is None:
        raise TnrnnError("inputs x are required: symbol ids (B, T) or features (B, T, M)")
    on_device = isinstance(x, jax.Array) and not modp
    kind, arr = _device_inputs(spec, x, T) if on_device else check_inputs(spec, x, T=T)
    if kind == "features" and form == "grid" and spec.L > 1 and arr.shape[1] > 1:
        # A tie makes every copy of x_t read the same basis index, so a feature vector f enters linearly:
        # the grid network computes the multilinear extension of the one-hot table, not y, off one-hot inputs.
        raise TnrnnError(
            "the grid form ties the copies of each input to one leg, so it evaluates y only on one-hot inputs: "
            "pass symbol ids (B, T), or use form='continuous' for feature vectors"
        )
    if kind == "ids":
        if on_device:
            return arr if arr.dtype == np.int32 else arr.astype(np.int32)
        return np.asarray(arr, dtype=np.int32)
    return reduce_modp(arr, p, "mod-p feature inputs") if modp else arr


@functools.lru_cache(maxsize=1024)
def _plan_key(spec: RACSpec, T: int, form: str, has_h0: bool, mode: str, output_steps: tuple, optimizers: tuple,
              onehot: bool) -> PlanKey:
    """[`plan_key`][tnrnn.network.plan.plan_key], remembered: validating the optimisers' names costs tens of microseconds per call."""
    return plan_key(spec, T, form, has_h0, mode, output_steps, optimizers, onehot)


def _split(form: str, feats) -> bool:
    """Whether to split the tied input legs: symbol ids on the grid form (elsewhere no leg is tied)."""
    return form == "grid" and feats.ndim == 2


def network_forward(
    spec_or_net,
    params: RACParams | None = None,
    x=None,
    *,
    form: str = "continuous",
    raw: bool = False,
    rescale: bool = True,
    budget_bytes: int | None = None,
    budget_flops: int | None = None,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
):
    """Evaluate ``y`` for a batch of sequences by contracting the RAC tensor network (float, jitted).

    Parameters
    ----------
    spec_or_net : RACSpec or RACNetwork
        The shape (the plan is made once per structure), or a network (its spec, T and form are used; its
        weights too when ``params`` is None).
    params : RACParams
        Float weights ([`tnrnn.rac.recurrence.init_params`][tnrnn.rac.recurrence.init_params]).
    x : array_like
        Symbol ids (B, T) or feature vectors (B, T, M); numpy or jax arrays (jax arrays stay on the device).
    form : {"continuous", "grid"}
        Network form. Both give ``y`` on symbol ids; feature vectors need the continuous form when L > 1.
    raw : bool, default False
        Return the plain float32 product ``y`` (under- or overflows for long sequences) instead of
        ``(mantissa, log_scale)``.
    rescale : bool, default True
        Rescale intermediates and carry log scales (turn off only to measure its cost).
    budget_bytes, budget_flops : int, optional
        Refuse (``ResourceError``) above these estimates; defaults from [`tnrnn.base.budget`][tnrnn.base.budget].
    optimizers : sequence of str
        Path finders to try (`tnrnn.network.paths.PATH_FINDERS`).

    Returns
    -------
    ScaledOutput or array
        ``(mantissa (B, K), log_scale (B,))`` as [`tnrnn.rac.recurrence.rac_forward`][tnrnn.rac.recurrence.rac_forward] returns it, or the
        (B, K) array ``y`` when ``raw``.

    Raises
    ------
    TnrnnError
        Malformed spec, params or inputs.
    ResourceError
        The contraction exceeds the memory or flop budget, or the network is too large to contract.

    Examples
    --------
    >>> import jax, numpy as np
    >>> from tnrnn.rac.recurrence import init_params, rac_forward
    >>> spec = RACSpec(depth=2, width=3, features=2)
    >>> params = init_params(spec, jax.random.PRNGKey(0))
    >>> x = np.array([[0, 1, 1, 0], [1, 1, 0, 0]])
    >>> mant, log = network_forward(spec, params, x, optimizers=("greedy", "tree"))
    >>> want = rac_forward(params, x)
    >>> bool(np.allclose(mant, want.mantissa, rtol=1e-4) and np.allclose(log, want.log_scale, rtol=1e-4))
    True
    """
    memo = None
    # Concrete device ids only: inside a user's jit (a tracer) every call goes the full way.
    if concrete(x) and x.dtype == np.int32:
        # Everything the checks and the cost guard depend on; the weights and a network by identity.
        memo = (spec_or_net if type(spec_or_net) is RACSpec else id(spec_or_net), id(params), x.shape, form, raw,
                rescale, budget_bytes, budget_flops, tuple(optimizers), os.environ.get("TNRNN_MAX_BYTES"),
                os.environ.get("TNRNN_MAX_FLOPS"))
        if memo == _LAST_CALL[0] and _LAST_CALL[1][2] == GENERATION[0]:
            fp, run, _ = _LAST_CALL[1]
            out = run(fp.W_I, fp.W_H, fp.W_O, fp.h0, x)
            return out if raw else ScaledOutput(*out)
    spec, params, form, T = _resolve(spec_or_net, params, form)
    if params is not _CHECKED[0] or spec != _CHECKED[1]:
        _check_params(spec, params)
    fp = float_params(params)
    if params is _LAST_FLOAT[0]:  # immutable weights (jax arrays in tuples): checked once while they stay the same
        _CHECKED[:] = [params, spec]
    feats = _inputs(spec, x, T, form, modp=False)
    B, T = int(feats.shape[0]), int(feats.shape[1])
    key = _plan_key(spec, T, form, params.h0 is not None, "forward", (), tuple(optimizers), _split(form, feats))
    guard(plan_cost(key, B, 4), f"evaluating {B} sequences through the L={spec.L}, T={T} {form} network",
          "evaluate with the recurrence tnrnn.rac.recurrence.rac_forward (memory O(batch x R))",
          budget_bytes, budget_flops, B)
    run = executor(ExecKey(key, False, 0, "raw" if raw else "scaled", bool(rescale)))
    if memo is not None and params is _LAST_FLOAT[0]:
        # Checked, planned and within budget: the same call on immutable weights and another batch of device
        # ids of the same shape needs none of it again. The objects are held, so their ids stay theirs.
        _LAST_CALL[:] = [memo, (fp, run, GENERATION[0]), (spec_or_net, params)]
    out = run(fp.W_I, fp.W_H, fp.W_O, fp.h0, feats)
    return out if raw else ScaledOutput(*out)


def network_forward_modp(
    spec_or_net,
    params: RACParams | None = None,
    x=None,
    p: int | None = None,
    *,
    form: str = "continuous",
    budget_bytes: int | None = None,
    budget_flops: int | None = None,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
) -> np.ndarray:
    """Evaluate ``y`` exactly over GF(p) by contracting the RAC tensor network (int64, jitted).

    Every pairwise contraction is reduced mod p; each one's number of summed products is checked to fit int64
    first. The result equals [`tnrnn.rac.recurrence.rac_forward_modp`][tnrnn.rac.modp.rac_forward_modp] exactly.

    Parameters
    ----------
    spec_or_net : RACSpec or RACNetwork
    params : RACParams
        Integer weights ([`tnrnn.rac.recurrence.init_params_modp`][tnrnn.rac.params.init_params_modp]).
    x : array_like
        Symbol ids (B, T) or integer features (B, T, M).
    p : int
        The prime (default `tnrnn.rac.recurrence.DEFAULT_PRIME`).
    form, budget_bytes, budget_flops, optimizers
        As in [`network_forward`][tnrnn.network.evaluate.network_forward].

    Returns
    -------
    numpy int64 array (B, K) with entries in ``[0, p)``

    Raises
    ------
    TnrnnError
        Malformed inputs, float weights, a modulus that is not a prime or too large for int64.
    ResourceError
        Over budget.

    Examples
    --------
    >>> from tnrnn.rac.recurrence import init_params_modp, rac_forward_modp
    >>> spec = RACSpec(depth=2, width=2, features=3)
    >>> q = init_params_modp(spec, seed=0, p=101)
    >>> x = [[0, 2, 1], [1, 1, 2]]
    >>> bool((network_forward_modp(spec, q, x, p=101) == rac_forward_modp(q, x, p=101)).all())
    True
    """
    import jax.numpy as jnp

    spec, params, form, T = _resolve(spec_or_net, params, form)
    _check_params(spec, params)
    p = check_prime(DEFAULT_PRIME if p is None else p)
    feats = _inputs(spec, x, T, form, modp=True, p=p)
    B, T = int(feats.shape[0]), int(feats.shape[1])
    key = _plan_key(spec, T, form, params.h0 is not None, "forward", (), tuple(optimizers), _split(form, feats))
    cost = plan_cost(key, B, 8)
    guard(cost, f"evaluating {B} sequences mod p through the L={spec.L}, T={T} {form} network",
          "evaluate with the recurrence tnrnn.rac.recurrence.rac_forward_modp", budget_bytes, budget_flops, B)
    check_modp_steps(cost, p)
    return _run_modp(ExecKey(key, True, p, "exact"), params, feats, p, jax, jnp)


def _run_modp(key: ExecKey, params: RACParams, feats, p: int, jax, jnp) -> np.ndarray:
    red = lambda ws: tuple(reduce_modp(w, p, "mod-p weights") for w in ws)  # noqa: E731
    W_I, W_H, W_O = red(params.W_I), red(params.W_H), reduce_modp(params.W_O, p, "mod-p weights")
    h0 = None if params.h0 is None else red(params.h0)
    with jax.enable_x64(True):
        args = jax.tree_util.tree_map(jnp.asarray, (W_I, W_H, W_O, h0, feats))
        return np.asarray(executor(key)(*args), dtype=np.int64)


def _check_table_size(M: int, K: int, T: int, itemsize: int, budget_bytes: int | None) -> None:
    """Refuse a table too big for the budget, before building or searching anything."""
    out_bytes = M**T * K * itemsize
    budget = default_budget_bytes() if budget_bytes is None else int(budget_bytes)
    if out_bytes > budget:
        raise ResourceError(
            f"the grid tensor of T={T} over M={M} symbols has {format_count(M**T * K)} entries "
            f"({human_bytes(out_bytes)}, budget {human_bytes(budget)}); use sample matrices of the continuous domain "
            "or a smaller T, or raise budget_bytes (env TNRNN_MAX_BYTES)"
        )


def grid_tensor_matrix(
    spec: RACSpec,
    T: int,
    params: RACParams,
    partition: str | Iterable[int] | Partition = "start-end",
    *,
    p: int | None = None,
    budget_bytes: int | None = None,
    budget_flops: int | None = None,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
):
    """Materialise the matricization ``[A]_(A,B)`` of the one-hot grid tensor by contracting the grid network.

    ``A[d_1..d_T] = y(e_d1, ..., e_dT)`` (docs/theory.md, "Separation rank"). Rows run over the side-A steps in
    increasing order, row-major over their symbols (the first A step varies slowest); columns likewise over side B.

    Parameters
    ----------
    spec : RACSpec
    T : int
    params : RACParams
        Float weights, or integer weights when ``p`` is given.
    partition : str, iterable of int, or Partition
        As in [`tnrnn.rac.partition.make_partition`][tnrnn.rac.partition.make_partition].
    p : int, optional
        Compute exactly over GF(p) (int64 entries in ``[0, p)``) instead of in float.
    budget_bytes, budget_flops, optimizers
        As in [`network_forward`][tnrnn.network.evaluate.network_forward].

    Returns
    -------
    array
        ``(M^|A|, M^|B|)`` for K = 1, else ``(K, M^|A|, M^|B|)``; numpy int64 for ``p``, else a float jax array
        (an estimate: never certify a rank with it).

    Raises
    ------
    TnrnnError
        Bad T, partition, prime or params.
    ResourceError
        The table or its contraction exceeds the budget (the table size is checked before anything is built).

    Examples
    --------
    >>> from tnrnn.rac.recurrence import init_params_modp
    >>> spec = RACSpec(depth=1, width=2, features=2)
    >>> A = grid_tensor_matrix(spec, 4, init_params_modp(spec, seed=3, p=101), "start-end", p=101)
    >>> A.shape
    (4, 4)
    """
    import jax.numpy as jnp

    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    T = check_positive_int("T", T)
    _check_params(spec, params)
    part = make_partition(T, partition)
    p = None if p is None else check_prime(p)
    M, K = spec.M, spec.K
    _check_table_size(M, K, T, 4 if p is None else 8, budget_bytes)
    key = plan_key(spec, T, "grid", params.h0 is not None, "tensor", tuple(part.A) + tuple(part.B), optimizers)
    cost = plan_cost(key, 1, 4 if p is None else 8)
    guard(cost, f"materialising the L={spec.L}, T={T} grid tensor" + (" mod p" if p else ""),
          "use a smaller T or sample matrices", budget_bytes, budget_flops)
    if p is None:
        fp = float_params(params)
        res = executor(ExecKey(key, False, 0, "raw"))(fp.W_I, fp.W_H, fp.W_O, fp.h0, None)
    else:
        check_modp_steps(cost, p)
        res = _run_modp(ExecKey(key, True, p, "exact"), params, None, p, jax, jnp)
    rows, cols = M ** len(part.A), M ** len(part.B)  # res has axes (steps in A then B order..., K)
    return res.reshape(rows * cols, K).T.reshape(K, rows, cols) if K > 1 else res.reshape(rows, cols)


def clear_cache() -> None:
    """Forget plans held in memory, their per-batch costs and compiled executors (the disk cache stays)."""
    from tnrnn.network.execute import clear_executors
    from tnrnn.network.plan import clear_plans

    clear_plans()
    plan_cost.cache_clear()
    clear_executors()
