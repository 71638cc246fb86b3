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
        ``logits``: one [`spectrum_report`][tnrnn.memory.probe.spectrum_report] per logit; ``max_numerical_rank`` per tolerance and
        ``max_effective_rank`` over logits; ``side``; for a RAC ``certified`` (the generic rank's certified
        lower bound, upper bound and whether they meet).

    Examples
    --------
    >>> from tnrnn.memory.cells import init_stack
    >>> r = probe(init_stack(0, "rac", 2, 3, 1, 2), "rac", 2, 6, certify=False)
    >>> r["max_numerical_rank"]["1e-03"] <= 3, r["side"]
    (True, 8)
    """
    mats = start_end_matrices(params, cell, symbols, time, n_in=n_in)
    reports = [spectrum_report(m, tolerances) for m in mats]
    result: dict[str, Any] = {
        "cell": cell, "symbols": symbols, "time": time, "side": mats.shape[1], "logits": reports,
        "max_numerical_rank": {k: max(r["numerical_rank"][k] for r in reports) for k in reports[0]["numerical_rank"]},
        "max_effective_rank": max(r["effective_rank"] for r in reports),
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
