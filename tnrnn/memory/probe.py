"""The Start-End rank a trained network actually uses: evaluate it on every sequence of the one-hot domain
(M symbols, T steps), matricize each output logit by Start | End (rows: the first T/2 symbols, columns: the
last T/2) and report the singular values, the numerical rank at stated tolerances and the entropy-based
effective rank (Roy and Vetterli, 2007). These are **floating-point estimates**, never certified values; for
a RAC the certified generic rank of [`tnrnn.separation_rank`][tnrnn.rank.separation_rank] is reported beside them (docs/theory.md,
'Separation rank'; Levine et al., arXiv 1710.09431, who suggest extending the analysis to other cells).

Symbol ``k`` of the domain is input unit ``k`` of the network (a network trained on ``ses`` has one more
input, the blank, which the probe never feeds). The RAC is probed without its per-step normalisation (the
plain multilinear recurrence, whose decisions are the same; see [`tnrnn.memory.cells`][tnrnn.memory.cells]), so its logits are
the circuit's outputs; a shallow RAC's probed rank is then at most its width R.

How the tables are made meaningful:

* A plain deep RAC's outputs span many orders of magnitude (a product of T*L factors), so a float32 table
  and a rank relative to its largest singular value read such tables as rank 1: an artefact. The RAC is
  therefore evaluated in float64 by [`rac_start_end_float64`][tnrnn.memory.probe.rac_start_end_float64]
  (numpy, the plain recurrence; checked against the jax cell in the tests).
* Every table is equilibrated before its spectrum is taken ([`equilibrate`][tnrnn.memory.probe.equilibrate]): each
  row (a Start half) and each column (an End half) is scaled by a power of two towards unit largest entry.
  ``D1 A D2`` with invertible diagonals has the rank of ``A``, and power-of-two scaling is exact in binary
  floating point, so this removes the dynamic range without changing any entry's information.
* The headline rank is [`table_rank`][tnrnn.memory.probe.table_rank] at a stated relative tolerance:
  ``RAC_RTOL`` for the float64 RAC tables, ``FLOAT32_RTOL`` for the other cells (float32 tables).
* The scoRNN draws a random initial state per sequence in training; the probe gives every sequence the same
  one (drawn once from ``EVAL_STATE_KEY``), so the table is a function of the sequence alone.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.validate import check_positive_int

#: Largest side M^(T/2) of the Start-End matrix the probe builds (the network runs on its square).
MAX_SIDE = 4096

#: Relative tolerances of the numerical ranks: singular values above ``tol * sigma_max`` are counted.
TOLERANCES = (1e-2, 1e-3, 1e-5)

#: Sequences evaluated per jitted call.
CHUNK = 1 << 14

#: Relative tolerance of the headline rank of a float64 RAC table (after equilibration): well above the
#: float64 rounding of a product of a few dozen factors (about 1e-14), far below any singular value that
#: matters.
RAC_RTOL = 1e-8

#: Relative tolerance of the headline rank of a float32 table (GRU, scoRNN, ...): above float32 rounding
#: accumulated over the recurrence (about 1e-6).
FLOAT32_RTOL = 1e-3


def table_rank(matrix, *, rtol: float = RAC_RTOL) -> dict:
    """Numerical rank of a table: float64 SVD, singular values above ``rtol * sigma_max`` counted.

    Parameters
    ----------
    matrix : array_like, 2-d, finite
    rtol : float
        Relative tolerance, in (0, 1).

    Returns
    -------
    dict
        ``rank``, ``rtol``, ``singular_values`` (descending, float), ``kind`` ("floating-point estimate":
        exact when the gap in the spectrum at ``rtol`` is wider than the rounding of the entries).

    Raises
    ------
    TnrnnError
        For a matrix that is not 2-d, is empty or holds non-finite entries, or an ``rtol`` outside (0, 1).

    Examples
    --------
    >>> r = table_rank(np.outer([1.0, 2.0, 3.0], [1.0, 1e-9]) + np.diag([0.0, 1.0, 0.0])[:, :2], rtol=1e-8)
    >>> r["rank"], r["rtol"], len(r["singular_values"])
    (2, 1e-08, 2)
    """
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.size == 0:
        raise TnrnnError(f"table_rank needs a non-empty 2-d matrix, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise TnrnnError("table_rank needs finite entries (an overflowed table has no rank to read)")
    if not 0.0 < float(rtol) < 1.0:
        raise TnrnnError(f"rtol must be in (0, 1), got {rtol}")
    s = np.linalg.svd(a, compute_uv=False)
    top = float(s[0])
    rank = int((s > float(rtol) * top).sum()) if top > 0 else 0
    return {"rank": rank, "rtol": float(rtol), "singular_values": [float(v) for v in s],
            "kind": "floating-point estimate"}


def equilibrate(matrix, sweeps: int = 4) -> np.ndarray:
    """Scale rows and columns by powers of two so that each has its largest magnitude in [1, 2) or so: the rank
    is unchanged (``D1 A D2``, invertible diagonals; exact in binary floating point), the dynamic range is gone.

    Zero rows and columns stay zero. ``sweeps`` alternations of row then column scaling.

    Examples
    --------
    >>> a = np.outer([1e-12, 1.0, 1e9], [3.0, 1e6])
    >>> b = equilibrate(a)
    >>> float(np.abs(b).max()) < 4, float(np.abs(b).min()) > 0.1, int(np.linalg.matrix_rank(b))
    (True, True, 1)
    """
    a = np.array(matrix, dtype=np.float64)
    for _ in range(int(sweeps)):
        for axis in (1, 0):
            top = np.abs(a).max(axis=axis, keepdims=True)
            exp = np.where(top > 0, np.floor(np.log2(np.where(top > 0, top, 1.0))), 0.0)
            a = np.ldexp(a, -exp.astype(np.int64))
    return a


def check_domain(symbols: int, time: int) -> int:
    """Validate the domain before anything is allocated; return the side ``M^(T/2)`` of the matrix.

    Raises
    ------
    TnrnnError
        For an odd T or non-positive sizes; ``ResourceError`` when ``M^(T/2) > MAX_SIDE``.

    Examples
    --------
    >>> check_domain(4, 8)
    256
    """
    M = check_positive_int("symbols", symbols, minimum=2)
    T = check_positive_int("time", time, minimum=2)
    if T % 2:
        raise TnrnnError(f"time must be even (Start | End halves), got {T}")
    if (T // 2) * math.log2(M) > math.log2(MAX_SIDE):
        raise ResourceError(f"the Start-End matrix of M = {M} symbols and T = {T} has side M^(T/2) = "
                            f"{M}^{T // 2} > {MAX_SIDE} (the network would run on its square); use fewer symbols "
                            "or a shorter T")
    return M ** (T // 2)


def spectrum_report(matrix: np.ndarray, tolerances=TOLERANCES) -> dict:
    """Singular values (float64 SVD), numerical ranks at relative ``tolerances`` and the entropy effective
    rank ``exp(-sum p_i log p_i)``, ``p_i = sigma_i / sum sigma``; all labelled as floating-point estimates.
    (The probe passes equilibrated tables; this function takes the matrix as given.)

    Examples
    --------
    >>> r = spectrum_report(np.outer([1.0, 2.0], [3.0, 4.0]) + np.diag([0.0, 1e-3]))
    >>> r["numerical_rank"], round(r["effective_rank"], 3), r["kind"]
    ({'1e-02': 1, '1e-03': 1, '1e-05': 2}, 1.0, 'floating-point estimate')
    """
    s = np.linalg.svd(np.asarray(matrix, dtype=np.float64), compute_uv=False)
    top = float(s[0]) if s.size else 0.0
    ranks = {f"{tol:.0e}": int((s > tol * top).sum()) if top > 0 else 0 for tol in tolerances}
    if top > 0:
        p = s / s.sum()
        p = p[p > 0]
        eff = float(math.exp(-(p * np.log(p)).sum()))
    else:
        eff = 0.0
    return {"kind": "floating-point estimate", "singular_values": [float(v) for v in s],
            "numerical_rank": ranks, "effective_rank": eff}


def start_end_matrices(params: Any, cell: str, symbols: int, time: int, *, n_in: int | None = None) -> np.ndarray:
    """The last-step logits of the network on every sequence, as matrices ``(n_out, M^(T/2), M^(T/2))``:
    entry ``[k, s, e]`` is logit k of the sequence whose Start half has base-M index s and End half e.

    Examples
    --------
    >>> from tnrnn.memory.cells import init_stack
    >>> p = init_stack(0, "rac", 2, 3, 1, 2)
    >>> start_end_matrices(p, "rac", 2, 4).shape
    (2, 4, 4)
    """
    import jax
    import jax.numpy as jnp

    from tnrnn.memory.cells import apply_stack

    side = check_domain(symbols, time)
    M, T = symbols, time
    width_in = n_in if n_in is not None else M
    if width_in < M:
        raise TnrnnError(f"the network reads {width_in} inputs, fewer than the M = {M} symbols probed")
    if cell == "rac":
        return rac_start_end_float64(params, M, T, n_in=width_in)
    if cell == "scornn":
        params = _fixed_initial_state(params)
    forward = jax.jit(lambda p, xs: apply_stack(p, xs, cell=cell, normalize=False)[:, -1, :])
    n = side * side
    digits = M ** np.arange(T - 1, -1, -1)  # sequence index -> symbols, most significant first
    out = []
    for start in range(0, n, CHUNK):
        idx = np.arange(start, min(start + CHUNK, n))
        ids = (idx[:, None] // digits[None, :]) % M
        out.append(np.asarray(forward(params, jax.nn.one_hot(jnp.asarray(ids), width_in, dtype=jnp.float32))))
    logits = np.concatenate(out, axis=0)  # (n, n_out), row index = s * side + e
    return logits.T.reshape(-1, side, side)


def _fixed_initial_state(params: Any) -> Any:
    """A scoRNN stack whose layers all start from one state (drawn once from ``EVAL_STATE_KEY``) instead of a
    random state per sequence, so that the probed table is a function of the sequence alone.
    """
    import jax

    from tnrnn.memory.cells import EVAL_STATE_KEY, initial_carry

    layers = []
    for index, layer in enumerate(params["layers"]):
        h0 = initial_carry("scornn", layer, 1, jax.random.fold_in(jax.random.PRNGKey(EVAL_STATE_KEY), index))[0]
        layers.append({**layer, "h0": h0})  # a layer with h0 broadcasts it (cells.initial_carry)
    return {**params, "layers": layers}


def rac_start_end_float64(params: Any, symbols: int, time: int, *, n_in: int | None = None) -> np.ndarray:
    """The plain RAC's last-step logits on every sequence in float64, as ``(n_out, M^(T/2), M^(T/2))``.

    The recurrence of [`tnrnn.memory.cells`][tnrnn.memory.cells] with ``normalize=False``: per layer
    ``h_t = (x_t W_I) * (h_{t-1} W_H)`` from the layer's ``h0``, the layer's states the next layer's inputs,
    logits ``h_T W`` (plus ``b`` if the readout has one). float64 keeps the relative precision of a product of
    T*L factors whose size spans many orders of magnitude.

    Examples
    --------
    >>> from tnrnn.memory.cells import init_stack
    >>> rac_start_end_float64(init_stack(0, "rac", 2, 3, 2, 2), 2, 4).shape
    (2, 4, 4)
    """
    side = check_domain(symbols, time)
    M, T = symbols, time
    width_in = n_in if n_in is not None else M
    layers = [{k: np.asarray(v, dtype=np.float64) for k, v in layer.items()} for layer in params["layers"]]
    W = np.asarray(params["readout"]["W"], dtype=np.float64)
    b = np.asarray(params["readout"]["b"], dtype=np.float64) if "b" in params["readout"] else 0.0
    n = side * side
    digits = M ** np.arange(T - 1, -1, -1)
    out = []
    for start in range(0, n, CHUNK):
        idx = np.arange(start, min(start + CHUNK, n))
        ids = (idx[:, None] // digits[None, :]) % M  # (chunk, T)
        seq = [np.eye(width_in)[ids[:, t]] for t in range(T)]
        for layer in layers:
            h = np.broadcast_to(layer["h0"], (len(idx), layer["h0"].shape[-1]))
            states = []
            for x in seq:
                h = (x @ layer["W_I"]) * (h @ layer["W_H"])
                states.append(h)
            seq = states
        out.append(seq[-1] @ W + b)
    logits = np.concatenate(out, axis=0)
    return logits.T.reshape(-1, side, side)


def probe(params: Any, cell: str, symbols: int, time: int, *, n_in: int | None = None,
          depth: int | None = None, width: int | None = None, certify: bool = True,
          tolerances=TOLERANCES) -> dict:
    """Start-End spectrum of each last-step logit of a network; for a RAC also the certified generic rank.

    Parameters
    ----------
    params : pytree
        Parameters of a stack of [`tnrnn.memory.cells`][tnrnn.memory.cells].
    cell : str
    symbols, time : int
        The one-hot domain: M symbols, T steps (``M^(T/2) <= MAX_SIDE``).
    n_in : int, optional
        Inputs the network reads (default M).
    depth, width : int, optional
        Needed for the RAC's certified rank (read from ``params`` when omitted).
    certify : bool
        Compute the RAC's certified generic rank (exact arithmetic, may take seconds).
    tolerances : sequence of float

    Returns
    -------
    dict
        ``logits``: one [`spectrum_report`][tnrnn.memory.probe.spectrum_report] per logit of the equilibrated
        table, with its ``rank`` at ``rank_rtol``; ``max_numerical_rank`` per tolerance, ``max_rank`` (at
        ``rank_rtol``: ``RAC_RTOL`` for a RAC's float64 tables, ``FLOAT32_RTOL`` otherwise) and
        ``max_effective_rank`` over logits; ``side``; ``table`` (how the tables were computed); for a RAC
        ``certified`` (the generic rank's certified lower bound, upper bound and whether they meet).

    Examples
    --------
    >>> from tnrnn.memory.cells import init_stack
    >>> r = probe(init_stack(0, "rac", 2, 3, 1, 2), "rac", 2, 6, certify=False)
    >>> r["max_numerical_rank"]["1e-03"] <= 3, r["side"]
    (True, 8)
    """
    mats = [equilibrate(m) for m in start_end_matrices(params, cell, symbols, time, n_in=n_in)]
    rtol = RAC_RTOL if cell == "rac" else FLOAT32_RTOL
    reports = [{**spectrum_report(m, tolerances), "rank": table_rank(m, rtol=rtol)["rank"]} for m in mats]
    result: dict[str, Any] = {
        "cell": cell, "symbols": symbols, "time": time, "side": mats[0].shape[0], "logits": reports,
        "max_numerical_rank": {k: max(r["numerical_rank"][k] for r in reports) for k in reports[0]["numerical_rank"]},
        "max_rank": max(r["rank"] for r in reports), "rank_rtol": rtol,
        "max_effective_rank": max(r["effective_rank"] for r in reports),
        "table": ("float64 plain recurrence" if cell == "rac" else "float32 jax forward")
                 + "; rows and columns equilibrated by powers of two (rank-preserving)"
                 + ("; one fixed initial state for every sequence" if cell == "scornn" else ""),
        "kind": "floating-point estimate",
    }
    if cell == "rac" and certify:
        result["certified"] = certified_rac_rank(depth or len(params["layers"]),
                                                 width or int(params["layers"][0]["W_H"].shape[0]), symbols, time)
    return result


def certified_rac_rank(depth: int, width: int, symbols: int, time: int) -> dict:
    """The certified generic Start-End rank of a RAC (exact arithmetic; [`tnrnn.separation_rank`][tnrnn.rank.separation_rank]).

    It is the rank of almost every weight setting with the theory's conventions (all-ones initial state),
    and an upper bound for every setting; a trained network's probed rank is compared with it.

    Examples
    --------
    >>> certified_rac_rank(1, 3, 3, 4)["lower"]
    3
    """
    from tnrnn.rac.spec import RACSpec
    from tnrnn.rank import separation_rank

    rep = separation_rank(RACSpec(depth=depth, width=width, features=symbols), time)
    return {"lower": rep.lower, "upper": str(rep.upper), "exact": bool(rep.exact), "kind": "certified"}
