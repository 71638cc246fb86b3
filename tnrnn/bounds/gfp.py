"""Exact evaluation of RACs over GF(p): one-hot tables, sample matrices and their rank (python-flint).

Everything here is exact: weights are integers in ``[0, p)``, states are int64 reduced after every product and every
dot product ([`tnrnn.rac.recurrence`][tnrnn.rac.recurrence]), and ranks come from ``flint.nmod_mat.rank``. No floating point is used on
this path. [`tnrnn.bounds.certify`][tnrnn.bounds.certify] turns these matrices into certified lower bounds (docs/theory.md,
'Certified lower bound').

Sizes are checked before anything is allocated, against the one memory budget of [`tnrnn.base.budget`][tnrnn.base.budget].
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tnrnn.base.budget import budget_bytes as resolve_budget
from tnrnn.base.errors import ResourceError, TnrnnError, human_bytes
from tnrnn.base.validate import check_positive_int
from tnrnn.bounds import gfp_kernel, gfp_wide
from tnrnn.bounds.exact_rank import rank_modp, to_nmod_mat
from tnrnn.rac.modp import rac_readout_modp, rac_scan_modp
from tnrnn.rac.params import DEFAULT_PRIME, RACParams, check_prime
from tnrnn.rac.partition import Partition, make_partition
from tnrnn.rac.spec import RACSpec

__all__ = ["rank_modp", "to_nmod_mat", "onehot_matrix_modp", "sample_matrix_modp", "DEFAULT_PRIME"]

# A matrix entry costs its int64 (8 B), a Python int while it is handed to flint (~36 B) and its nmod slot
# (8 B); rounded up.
_BYTES_PER_ENTRY = 64
# Pair/suffix evaluations are done in chunks of at most this many sequences, and at most _CHUNK_VALUES state
# entries per (chunk, R) array, which keeps the int64 scratch of the recurrence (a few such arrays per layer) small
# for wide networks too.
_CHUNK_SEQUENCES = 1 << 17
_CHUNK_VALUES = 1 << 23
# The compiled pair kernel is the default up to this width.
_KERNEL_MAX_R = 16
# ... and for evaluations of at least this much work (about 2.5 s of numpy, what loading numba costs).
_KERNEL_MIN_UNITS = 2e8
# For primes beyond int64 products numpy runs on Python integers (about 4e-7 s per unit): the kernel pays for
# loading numba (~2 s) from this much work on.
_KERNEL_MIN_UNITS_WIDE = 5e6
# Sequence counts above this are "infinite" for sampling (drawn by rejection instead of by index).
_HUGE = 1 << 62




# --------------------------------------------------------------------------------------------------------------
# Exact evaluation of tables and sample matrices


def _check_params(spec: RACSpec, params: RACParams) -> None:
    got = params.spec
    if (got.L, got.R, got.M) != (spec.L, spec.R, spec.M):
        raise TnrnnError(f"params are for {got}, not {spec}")


def check_output(spec: RACSpec, output: int) -> int:
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)) or not 0 <= int(output) < spec.K:
        raise TnrnnError(f"output must be an integer in [0, {spec.K}), got {output!r}")
    return int(output)


def all_sequences(M: int, length: int) -> np.ndarray:
    """Every sequence of ``length`` symbols in ``[0, M)``, lexicographic (first step most significant)."""
    if length == 0:
        return np.zeros((1, 0), dtype=np.int64)
    return np.array(list(itertools.product(range(M), repeat=length)), dtype=np.int64).reshape(-1, length)


def _prefix_states(params: RACParams, length: int, p: int) -> tuple:
    """States ``h[length, l]`` after every prefix of ``length`` symbols, lexicographic order, by a trie.

    Level k is computed from level k-1 (each state continued by one step with each of the M symbols), so the
    total work is about ``M^length * (1 + 1/M + ...)`` single steps instead of ``length * M^length``.
    """
    M = params.spec.M
    states = rac_scan_modp(params, np.arange(M, dtype=np.int64)[:, None], p)
    for _ in range(length - 1):
        states = _extend_all(params, states, p)
    return states


def _extend_all(params: RACParams, states: Sequence[np.ndarray], p: int) -> tuple:
    """Continue every state by one step with each symbol; child index = parent * M + symbol.

    Exact mod p like [`tnrnn.rac.recurrence.rac_scan_modp`][tnrnn.rac.modp.rac_scan_modp], but the recurrent factor ``W_H h`` is computed once per
    parent and broadcast over its M children instead of once per child.
    """
    M, L, R = params.spec.M, params.spec.L, params.spec.R
    n = len(states[0])
    below = (np.asarray(params.W_I[0], dtype=np.int64) % p).T[None, :, :]  # (1, M, R): W_I[1] e_x for every x
    children = []
    for l in range(L):
        W_H = np.asarray(params.W_H[l], dtype=np.int64) % p
        rec = ((np.asarray(states[l], dtype=np.int64) @ W_H.T) % p)[:, None, :]  # (n, 1, R)
        if l > 0:
            below = (below @ (np.asarray(params.W_I[l], dtype=np.int64) % p).T) % p
        below = (below * rec) % p  # (n, M, R)
        children.append(below.reshape(n * M, R))
    return tuple(children)


def _grid_table(params: RACParams, T: int, split: int, p: int, output: int, *, progress: bool = False) -> np.ndarray:
    """The full one-hot table as a ``(M^split, M^(T-split))`` matrix: rows = first ``split`` steps.

    Rows come from a prefix trie; each block of row states is then continued through all suffixes by a
    second trie (batch = rows x suffixes), so the total work is about ``M^T`` single steps.
    """
    M = params.spec.M
    rest = T - split
    n_rows, n_cols = M**split, M**rest
    table = np.empty((n_rows, n_cols), dtype=np.int64)
    rows = _prefix_states(params, split, p)
    block = max(1, _chunk_sequences(params.spec.R) // n_cols)
    bar = progress_bar(progress, total=n_rows, desc="one-hot table rows")
    try:
        for i0 in range(0, n_rows, block):
            i1 = min(n_rows, i0 + block)
            states = tuple(s[i0:i1] for s in rows)
            for _ in range(rest):
                states = _extend_all(params, states, p)
            table[i0:i1] = rac_readout_modp(params, states, p)[:, output].reshape(i1 - i0, n_cols)
            bar.update(i1 - i0)
    finally:
        bar.close()
    return table


def _pair_values(
    params: RACParams,
    part: Partition,
    p: int,
    row_inputs: np.ndarray,
    col_inputs: np.ndarray,
    output: int,
    *,
    progress: bool = False,
    kernel: bool | None = None,
) -> np.ndarray:
    """``y`` for every (row, column) pair: side A steps from ``row_inputs``, side B steps from ``col_inputs``.

    ``row_inputs`` is ``(k1, |A|)`` symbol ids or ``(k1, |A|, M)`` features (same for columns with |B|).
    Exact mod p, reduced after every product and every dot product (as [`tnrnn.rac.modp.rac_scan_modp`][tnrnn.rac.modp.rac_scan_modp]): int64
    residues where dot products fit, Python integers for larger primes ([`tnrnn.bounds.gfp_wide`][tnrnn.bounds.gfp_wide]; the
    compiled kernels take over the per-pair work for any prime below 2^62).

    Work is shared by broadcasting instead of materialising every pair's sequence: the leading steps that all
    lie on side A run once per row; afterwards states have shape (rows, cols, R), but a
    quantity that depends on one side only stays (rows, 1, R) or (1, cols, R): the input projection
    ``W_I[1] f(x_t)`` is computed once per row or column, and the first continued step's recurrent factor once
    per row. This is several times faster than running the recurrence on the flattened pairs (bench_rank).
    """
    T = part.T
    A = [t - 1 for t in part.A]
    B = [t - 1 for t in part.B]
    t0 = min(B)  # steps 0..t0-1 are all on side A and are A[:t0]
    k1, k2 = len(row_inputs), len(col_inputs)
    L, R, M = params.spec.L, params.spec.R, params.spec.M
    # int64 residues where dot products fit, Python integers for large primes (gfp_wide)
    terms = max(R, M)
    W_I = [gfp_wide.as_field(w, p, terms) for w in params.W_I]
    W_H = [gfp_wide.as_field(w, p, terms) for w in params.W_H]
    w_out = gfp_wide.as_field(np.asarray(params.W_O)[output], p, terms)

    def project(inputs: np.ndarray) -> np.ndarray:
        # W_I[1] f(x) for a batch of one step's inputs: a column of W_I[1] for a one-hot symbol.
        if inputs.ndim == 1:
            return W_I[0].T[inputs]
        return gfp_wide.matvec(gfp_wide.as_field(inputs, p, terms), W_I[0], p)

    pos_a = {t: i for i, t in enumerate(A)}
    pos_b = {t: i for i, t in enumerate(B)}
    proj = {
        t: project(row_inputs[:, pos_a[t]])[:, None, :] if t in pos_a else project(col_inputs[:, pos_b[t]])[None]
        for t in range(t0, T)
    }
    if params.h0 is None:
        rec = [np.ones((k1, R), dtype=W_H[0].dtype) for _ in range(L)]  # convention W_H h[0] = 1
    else:
        rec = [np.repeat(gfp_wide.matvec(gfp_wide.as_field(np.asarray(h)[None], p, terms), W_H[l], p), k1, axis=0)
               for l, h in enumerate(params.h0)]
    for t in range(t0):  # the shared prefix: once per row
        below = project(row_inputs[:, pos_a[t]])
        for l in range(L):
            below = gfp_wide.hadamard(below if l == 0 else gfp_wide.matvec(below, W_I[l], p), rec[l], p)
            rec[l] = gfp_wide.matvec(below, W_H[l], p)
    rec0 = [r[:, None, :] for r in rec]
    if _use_kernel(kernel, R, float(k1) * k2 * (T - t0) * L * (R * R + R), p):
        steps = list(range(t0, T))
        side = np.array([0 if t in pos_a else 1 for t in steps], dtype=np.int64)
        a_steps = [t for t in steps if t in pos_a]
        b_steps = [t for t in steps if t not in pos_a]
        index = np.array([a_steps.index(t) if t in pos_a else b_steps.index(t) for t in steps], dtype=np.int64)
        i64 = gfp_wide.to_int64
        proj_a = np.stack([i64(proj[t][:, 0]) for t in a_steps], axis=1) if a_steps else np.zeros((k1, 1, R), np.int64)
        proj_b = np.stack([i64(proj[t][0]) for t in b_steps], axis=1)
        rec_rows = np.stack([i64(r[:, 0]) for r in rec0], axis=1)
        return gfp_kernel.pair_values(rec_rows, proj_a, proj_b, side, index, [i64(w) for w in W_I[1:]],
                                      [i64(w) for w in W_H], i64(w_out), p)
    out = np.empty((k1, k2), dtype=np.int64)
    block = max(1, _chunk_sequences(R) // max(k2, 1))
    bar = progress_bar(progress and k1 > block, total=k1, desc="pair evaluation rows")
    try:
        for i0 in range(0, k1, block):
            i1 = min(k1, i0 + block)
            rec = [r[i0:i1] for r in rec0]
            hs: list[np.ndarray] = []
            for t in range(t0, T):
                x = proj[t][i0:i1] if t in pos_a else proj[t]
                hs = []
                below = x
                for l in range(L):
                    a = below if l == 0 else gfp_wide.matvec(below, W_I[l], p)
                    below = gfp_wide.hadamard(a, rec[l], p)
                    hs.append(below)
                if t < T - 1:
                    rec = [gfp_wide.matvec(h, W_H[l], p) for l, h in enumerate(hs)]
            y = (hs[-1] @ w_out) % p
            out[i0:i1] = gfp_wide.to_int64(np.broadcast_to(y, (i1 - i0, k2)))
            bar.update(i1 - i0)
    finally:
        bar.close()
    return out


def _use_kernel(kernel: bool | None, R: int, units: float, p: int = DEFAULT_PRIME) -> bool:
    """The compiled kernel ([`tnrnn.bounds.gfp_kernel`][tnrnn.bounds.gfp_kernel]) when asked, or by default when numba is installed and
    either the prime is too large for int64 products (numpy falls back to Python integers, about 30x slower) and
    the work is more than a few million units, or R is small (for wide networks numpy's matrix products amortise their overhead) and the numpy evaluation would
    take long enough (``units`` of work, about 1.2e-8 s each) to pay for loading numba and its cached kernel (~2 s;
    the very first compilation, once per installation, takes longer).
    """
    if kernel is None:
        if not gfp_kernel.available():
            return False
        if not gfp_wide.int64_safe(p, R):
            return units >= _KERNEL_MIN_UNITS_WIDE
        return R <= _KERNEL_MAX_R and units >= _KERNEL_MIN_UNITS
    return kernel


def _chunk_sequences(R: int) -> int:
    """Sequences (or pairs) evaluated at once: ``_CHUNK_SEQUENCES``, fewer for wide networks."""
    return max(1, min(_CHUNK_SEQUENCES, _CHUNK_VALUES // R))


def table_entries(spec: RACSpec, part: Partition) -> tuple[int, int]:
    return spec.M ** len(part.A), spec.M ** len(part.B)


def size_text(n: int, M: int, length: int) -> str:
    """A matrix dimension for messages: the number, or ``M^length`` when it is all ``M^length`` sequences and long.

    >>> size_text(64, 2, 6), size_text(2**100, 2, 100), size_text(300, 2, 100)
    ('64', '2^100', '300')
    """
    return f"{M}^{length}" if n.bit_length() > 32 and n == M**length else str(n)


def work_bytes(spec: RACSpec, T: int, rows: int, cols: int, features: bool = False) -> int:
    """Memory of a certified evaluation besides the matrix itself.

    The GF(p) weights with their reduced copies (3 x 8 B per weight; for wide networks they dominate), the int64
    states of one chunk of pairs (2L + 3 arrays of (chunk, R)), the row states (L arrays of (rows, R)) and the
    per-step input projections (and, for continuous samples, the feature vectors) of every row and column.
    """
    L, R, M = spec.L, spec.R, spec.M
    weights = 3 * 8 * spec.num_params()
    chunk = 8 * (2 * L + 3) * R * min(rows * cols, _chunk_sequences(R))
    states = 8 * L * R * rows
    inputs = 8 * T * (rows + cols) * (R + (M if features else 0))
    return weights + chunk + states + inputs


def fits(spec: RACSpec, T: int, rows: int, cols: int, budget_bytes: int, features: bool = False) -> bool:
    """Whether a rows x cols matrix and its evaluation fit the budget (what `_check_budget` checks)."""
    return rows * cols * _BYTES_PER_ENTRY + work_bytes(spec, T, rows, cols, features) <= budget_bytes


def check_budget(entries: int, budget_bytes: int, what: str, suggestion: str, extra_bytes: int = 0) -> None:
    """Refuse (before any work) a matrix of ``entries`` entries, plus ``extra_bytes`` of evaluation memory."""
    need = entries * _BYTES_PER_ENTRY + extra_bytes
    if need > budget_bytes:
        raise ResourceError(
            f"{what} needs about {human_bytes(need)} (budget {human_bytes(budget_bytes)}); {suggestion}"
        )


def onehot_matrix_modp(
    spec: RACSpec,
    T: int,
    params: RACParams,
    partition: str | Iterable[int] | Partition = "start-end",
    p: int = DEFAULT_PRIME,
    *,
    rows: np.ndarray | None = None,
    cols: np.ndarray | None = None,
    output: int = 0,
    budget_bytes: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """The one-hot matricization ``[A]_(A,B)`` of a RAC, exact over GF(p) (or a sub-matrix of it).

    Row ``i`` is the assignment of symbols to the steps of side A (in increasing step order, first step most
    significant) whose base-M digits are ``i``; columns likewise for side B. So for Start-End the row index is
    the prefix ``x_1..x_{T/2}`` read as a base-M number.

    Parameters
    ----------
    spec : RACSpec
    T : int
    params : RACParams
        Integer weights in ``[0, p)`` ([`tnrnn.init_params_modp`][tnrnn.rac.params.init_params_modp]).
    partition : str, iterable of int or Partition, default "start-end"
    p : int, default DEFAULT_PRIME
    rows, cols : (k, |A|) / (k, |B|) int arrays, optional
        Symbol sequences selecting a sub-matrix (rows in the given order). Default: all of them.
    output : int, default 0
        Output component.
    budget_bytes : int, optional
        Memory budget (default: [`tnrnn.base.budget.budget_bytes`][tnrnn.base.budget.budget_bytes]); a bigger table raises ``ResourceError`` before
        any work.
    progress : bool, default False
        tqdm progress bar on stderr.

    Returns
    -------
    (M^|A|, M^|B|) int64 array with entries in ``[0, p)`` (or (len(rows), len(cols))).

    Examples
    --------
    >>> from tnrnn import RACSpec, init_params_modp
    >>> spec = RACSpec(depth=1, width=2, features=2)
    >>> table = onehot_matrix_modp(spec, 4, init_params_modp(spec, seed=0), "start-end")
    >>> table.shape, rank_modp(table, DEFAULT_PRIME)
    ((4, 4), 2)
    """
    part = make_partition(T, partition)
    _check_params(spec, params)
    output = check_output(spec, output)
    p = check_prime(p, terms=max(spec.R, spec.M))
    budget = resolve_budget() if budget_bytes is None else int(budget_bytes)
    n_rows, n_cols = table_entries(spec, part)
    row_in = _check_selection("rows", rows, spec.M, len(part.A))
    col_in = _check_selection("cols", cols, spec.M, len(part.B))
    if row_in is None and col_in is None:
        contiguous_start = part.A == tuple(range(1, len(part.A) + 1))
        grid = n_rows * n_cols
        check_budget(
            grid,
            budget,
            f"the full one-hot table ({spec.M}^{T} = {size_text(grid, spec.M, T)} entries)",
            "use a smaller T, fewer features, or a sub-matrix (rows=..., cols=...)",
            work_bytes(spec, T, n_rows, n_cols),
        )
        if contiguous_start:
            return _grid_table(params, T, len(part.A), p, output, progress=progress)
        split = T // 2
        full = _grid_table(params, T, split, p, output, progress=progress)
        # The full grid tensor, axes = steps 1..T; bring side A's axes first, then side B's.
        axes = [t - 1 for t in part.A] + [t - 1 for t in part.B]
        return np.ascontiguousarray(full.reshape((spec.M,) * T).transpose(axes)).reshape(n_rows, n_cols)
    if row_in is None:
        assert col_in is not None  # both None returned above
        check_budget(n_rows * len(col_in), budget, f"{size_text(n_rows, spec.M, len(part.A))} x {len(col_in)} one-hot sub-matrix", "select rows",
                      work_bytes(spec, T, n_rows, len(col_in)))
        row_in = all_sequences(spec.M, len(part.A))
    if col_in is None:
        check_budget(len(row_in) * n_cols, budget, f"{len(row_in)} x {size_text(n_cols, spec.M, len(part.B))} one-hot sub-matrix", "select cols",
                      work_bytes(spec, T, len(row_in), n_cols))
        col_in = all_sequences(spec.M, len(part.B))
    check_budget(len(row_in) * len(col_in), budget, f"a {len(row_in)} x {len(col_in)} one-hot sub-matrix",
                  "select fewer rows/cols", work_bytes(spec, T, len(row_in), len(col_in)))
    return _pair_values(params, part, p, row_in, col_in, output, progress=progress)


def _check_selection(name: str, sel: Any, M: int, length: int) -> np.ndarray | None:
    if sel is None:
        return None
    arr = np.asarray(sel)
    if arr.ndim != 2 or arr.shape[1] != length or not np.issubdtype(arr.dtype, np.integer):
        raise TnrnnError(f"{name} must be an integer array of shape (k, {length}), got {arr.shape} {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= M):
        raise TnrnnError(f"{name} holds symbols outside [0, {M})")
    if len(arr) == 0:
        raise TnrnnError(f"{name} must select at least one sequence")
    return arr.astype(np.int64)


def sample_matrix_modp(
    spec: RACSpec,
    T: int,
    params: RACParams,
    partition: str | Iterable[int] | Partition,
    p: int,
    n: int,
    rng: np.random.Generator,
    *,
    output: int = 0,
    budget_bytes: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """An ``n x n`` continuous-domain sample matrix ``[y(a_i, b_j)] mod p``.

    ``a_i`` are feature vectors for the steps of side A, ``b_j`` for side B, all uniform over ``GF(p)^M``
    (drawn from ``rng``: first all ``a``, then all ``b``). Its GF(p) rank is a certified lower bound on the
    continuous-domain separation rank.

    Examples
    --------
    >>> from tnrnn import RACSpec, init_params_modp
    >>> spec = RACSpec(depth=2, width=2, features=2)
    >>> S = sample_matrix_modp(spec, 4, init_params_modp(spec, 0), "start-end", DEFAULT_PRIME, 8,
    ...                        np.random.default_rng(0))
    >>> rank_modp(S, DEFAULT_PRIME)
    6
    """
    part = make_partition(T, partition)
    _check_params(spec, params)
    output = check_output(spec, output)
    p = gfp_wide.check_field_prime(p)  # any prime below 2^62: the evaluation picks exact arithmetic for it
    n = check_positive_int("n", n)
    budget = resolve_budget() if budget_bytes is None else int(budget_bytes)
    check_budget(n * n, budget, f"a {n} x {n} sample matrix", "use fewer sample points",
                  work_bytes(spec, T, n, n, features=True))
    a = rng.integers(0, p, (n, len(part.A), spec.M), dtype=np.int64)
    b = rng.integers(0, p, (n, len(part.B), spec.M), dtype=np.int64)
    return _pair_values(params, part, p, a, b, output, progress=progress)



def sample_sequences(rng: np.random.Generator, M: int, length: int, k: int) -> np.ndarray:
    """``k`` distinct random symbol sequences of ``length`` (k <= M^length), sorted lexicographically."""
    total = M**length
    if k >= total:
        return all_sequences(M, length)
    if total < _HUGE:
        idx = np.sort(rng.choice(total, size=k, replace=False))
        digits = np.empty((k, length), dtype=np.int64)
        for j in range(length - 1, -1, -1):
            digits[:, j] = idx % M
            idx = idx // M
        return digits
    seen: set = set()
    while len(seen) < k:
        for row in rng.integers(0, M, (k, length)).tolist():
            seen.add(tuple(row))
            if len(seen) == k:
                break
    return np.array(sorted(seen), dtype=np.int64)


def progress_bar(enabled: bool, *, total: int | None, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, file=None)


