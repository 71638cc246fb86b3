"""Certified lower bounds on separation ranks: exact evaluation over GF(p), rank with python-flint.

Why this is a certificate (SCIENCE.md section 4): a RAC is a polynomial in its weights and inputs, so with
weights drawn uniformly from GF(p) the mod-p evaluation is exact, and for any matricization ``B`` of ``y``
(the one-hot table ``[A]_(A,B)``, a sub-matrix of it, or a continuous-domain sample matrix
``[y(a_i, b_j)]``) ``rank_GF(p)(B) <= rank_Q(B) <= sep(y at those weights) <= generic sep``. Taking the
maximum over several seeds and primes only tightens the bound. No floating point is used anywhere on this
path: states are int64 reduced after every product (:mod:`tnrnn.rac.recurrence`), ranks come from
``flint.nmod_mat.rank``.

Keeping big cases fast: any sub-matrix of the matricization has rank at most the true rank, so it is still a
certified lower bound. When a best upper bound ``u`` is known, the one-hot path first evaluates only a random
``(u + margin) x (u + margin)`` sub-matrix (rows = random prefixes of side A, columns = random assignments of
side B); if it reaches ``u`` the rank is known exactly, otherwise the full table is used. The continuous path
grows the number of sample points ``N`` (doubling, capped at ``u + margin``) until the rank stops rising
(``rank < N``) or meets ``u``.

The output leg: the separation rank is about one output component (``output``, default 0); for ``K > 1``
each component is a separate function and this bounds the chosen one.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tnrnn.base.errors import ResourceError, TnrnnError, human_bytes
from tnrnn.base.validate import check_positive_int
from tnrnn.bounds.algebraic import DOMAINS
from tnrnn.rac.partition import Partition, make_partition
from tnrnn.rac.recurrence import (
    DEFAULT_PRIME,
    RACParams,
    check_prime,
    init_params_modp,
    rac_readout_modp,
    rac_scan_modp,
)
from tnrnn.rac.spec import RACSpec

__all__ = [
    "Certificate",
    "certified_rank",
    "onehot_matrix_modp",
    "sample_matrix_modp",
    "rank_modp",
    "DEFAULT_BUDGET_BYTES",
    "DOMAINS",
]

#: Default memory budget for one certified computation (matrix + its flint copy + evaluation scratch).
DEFAULT_BUDGET_BYTES = 2 * 2**30

# A matrix entry costs its int64 (8 B), a Python int while it is handed to flint (~36 B) and its nmod slot
# (8 B); rounded up.
_BYTES_PER_ENTRY = 64
# Pair/suffix evaluations are done in chunks of at most this many sequences, and at most _CHUNK_VALUES state
# entries per (chunk, R) array, which keeps the int64 scratch of the recurrence (a few such arrays per layer) small
# for wide networks too.
_CHUNK_SEQUENCES = 1 << 17
_CHUNK_VALUES = 1 << 23
# Continuous samples start at this many points when the upper bound does not make a smaller start sensible.
_START_SAMPLES = 64
#: Most seeds (and most primes) one certified computation takes: every (prime, seed) pair is a full run.
MAX_SEEDS = 1000
# Upper bounds above this are "infinite" for sizing purposes (the matrices would not fit anyway).
_HUGE = 1 << 62


@dataclass
class Certificate:
    """A certified lower bound on a separation rank and the runs that prove it.

    Attributes
    ----------
    rank : int
        The certified lower bound: the maximum rank over ``runs``.
    runs : list of dict
        One entry per (seed, prime): ``{"seed", "prime", "rank", "rows", "cols", "method", "seconds"}``
        (``rows`` x ``cols`` is the matrix that gave ``rank``) plus ``"stages"``, every matrix tried in that
        run as ``[rows, cols, rank]``. Anyone can reproduce a run from its seed, prime and method: weights
        are ``init_params_modp(spec, seed, prime)`` and sample points come from
        ``numpy.random.default_rng([seed, prime, stage])``.
    domain : str
        ``"onehot"`` or ``"continuous"``.
    method : str
        How the matrices were built and ranked.
    output : int
        The output component the rank is about.
    notes : list of str
        Anything a reader should know (e.g. runs skipped because the upper bound was already met).
    """

    rank: int
    runs: list
    domain: str
    method: str
    output: int = 0
    notes: list = field(default_factory=list)

    @property
    def seeds(self) -> list:
        """Seeds of the runs, in order."""
        return [r["seed"] for r in self.runs]

    @property
    def primes(self) -> list:
        """Primes of the runs, in order."""
        return [r["prime"] for r in self.runs]

    def to_json(self) -> dict:
        """A JSON-ready dict (plain ints, strings and lists)."""
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"certified rank >= {self.rank} ({self.domain}; {self.method})"]
        for r in self.runs:
            lines.append(
                f"  seed {r['seed']:>3}  p {r['prime']:>10}  rank {r['rank']:>8}  from {r['rows']} x {r['cols']}"
                f"  ({r['method']}, {r['seconds']:.2f} s)"
            )
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# Exact rank


def rank_modp(matrix: np.ndarray, p: int) -> int:
    """Rank over GF(p) of an integer matrix, with python-flint (exact; never a float rank).

    Parameters
    ----------
    matrix : (m, n) integer array
        Entries are reduced mod ``p`` first.
    p : int
        A prime below 2**63.

    Examples
    --------
    >>> rank_modp(np.array([[1, 2], [2, 4]]), 101)
    1
    >>> rank_modp(np.array([[1, 2], [3, 4]]), 2)
    1
    """
    import flint

    arr = np.asarray(matrix)
    if arr.ndim != 2:
        raise TnrnnError(f"rank_modp needs a 2-d matrix, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TnrnnError(f"rank_modp needs an integer matrix (exact arithmetic), got dtype {arr.dtype}")
    m, n = arr.shape
    if m == 0 or n == 0:
        return 0
    flat = (arr.astype(np.int64, copy=False) % p).ravel().tolist()
    return int(flint.nmod_mat(m, n, flat, int(p)).rank())


# --------------------------------------------------------------------------------------------------------------
# Exact evaluation of tables and sample matrices


def _check_params(spec: RACSpec, params: RACParams) -> None:
    got = params.spec
    if (got.L, got.R, got.M) != (spec.L, spec.R, spec.M):
        raise TnrnnError(f"params are for {got}, not {spec}")


def _check_output(spec: RACSpec, output: int) -> int:
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)) or not 0 <= int(output) < spec.K:
        raise TnrnnError(f"output must be an integer in [0, {spec.K}), got {output!r}")
    return int(output)


def _all_sequences(M: int, length: int) -> np.ndarray:
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

    Exact mod p like :func:`tnrnn.rac.recurrence.rac_scan_modp`, but the recurrent factor ``W_H h`` is computed once per
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
    bar = _bar(progress, total=n_rows, desc="one-hot table rows")
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
) -> np.ndarray:
    """``y`` for every (row, column) pair: side A steps from ``row_inputs``, side B steps from ``col_inputs``.

    ``row_inputs`` is ``(k1, |A|)`` symbol ids or ``(k1, |A|, M)`` features (same for columns with |B|).
    Exact mod p, int64, reduced after every product and every dot product (as :func:`tnrnn.rac.recurrence.rac_scan_modp`).

    Work is shared by broadcasting instead of materialising every pair's sequence: the leading steps that all
    lie on side A run once per row (:func:`rac_scan_modp`); afterwards states have shape (rows, cols, R), but a
    quantity that depends on one side only stays (rows, 1, R) or (1, cols, R): the input projection
    ``W_I[1] f(x_t)`` is computed once per row or column, and the first continued step's recurrent factor once
    per row. This is several times faster than running the recurrence on the flattened pairs (bench_rank).
    """
    T = part.T
    A = [t - 1 for t in part.A]
    B = [t - 1 for t in part.B]
    t0 = min(B)  # steps 0..t0-1 are all on side A and are A[:t0]
    k1, k2 = len(row_inputs), len(col_inputs)
    L, R = params.spec.L, params.spec.R
    W_I = [np.asarray(w, dtype=np.int64) % p for w in params.W_I]
    W_H = [np.asarray(w, dtype=np.int64) % p for w in params.W_H]
    w_out = np.asarray(params.W_O, dtype=np.int64)[output] % p

    def project(inputs: np.ndarray) -> np.ndarray:
        # W_I[1] f(x) for a batch of one step's inputs: a column of W_I[1] for a one-hot symbol.
        if inputs.ndim == 1:
            return W_I[0].T[inputs]
        return (inputs @ W_I[0].T) % p

    pos_a = {t: i for i, t in enumerate(A)}
    pos_b = {t: i for i, t in enumerate(B)}
    proj = {
        t: project(row_inputs[:, pos_a[t]])[:, None, :] if t in pos_a else project(col_inputs[:, pos_b[t]])[None]
        for t in range(t0, T)
    }
    if t0 > 0:
        pre = rac_scan_modp(params, row_inputs[:, :t0], p)
        rec0 = [((s @ W_H[l].T) % p)[:, None, :] for l, s in enumerate(pre)]
    elif params.h0 is None:
        rec0 = [np.ones((k1, 1, R), dtype=np.int64) for _ in range(L)]  # convention W_H h[0] = 1
    else:
        rec0 = [np.broadcast_to((np.asarray(h, np.int64) % p @ W_H[l].T) % p, (k1, 1, R)) for l, h in enumerate(params.h0)]
    out = np.empty((k1, k2), dtype=np.int64)
    block = max(1, _chunk_sequences(R) // max(k2, 1))
    bar = _bar(progress and k1 > block, total=k1, desc="pair evaluation rows")
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
                    a = below if l == 0 else (below @ W_I[l].T) % p
                    below = (a * rec[l]) % p
                    hs.append(below)
                if t < T - 1:
                    rec = [(h @ W_H[l].T) % p for l, h in enumerate(hs)]
            y = (hs[-1] @ w_out) % p
            out[i0:i1] = np.broadcast_to(y, (i1 - i0, k2))
            bar.update(i1 - i0)
    finally:
        bar.close()
    return out


def _chunk_sequences(R: int) -> int:
    """Sequences (or pairs) evaluated at once: ``_CHUNK_SEQUENCES``, fewer for wide networks."""
    return max(1, min(_CHUNK_SEQUENCES, _CHUNK_VALUES // R))


def _table_entries(spec: RACSpec, part: Partition) -> tuple[int, int]:
    return spec.M ** len(part.A), spec.M ** len(part.B)


def _size(n: int, M: int, length: int) -> str:
    """A matrix dimension for messages: the number, or ``M^length`` when it is all ``M^length`` sequences and long.

    >>> _size(64, 2, 6), _size(2**100, 2, 100), _size(300, 2, 100)
    ('64', '2^100', '300')
    """
    return f"{M}^{length}" if n.bit_length() > 32 and n == M**length else str(n)


def _work_bytes(spec: RACSpec, T: int, rows: int, cols: int, features: bool = False) -> int:
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


def _fits(spec: RACSpec, T: int, rows: int, cols: int, budget_bytes: int, features: bool = False) -> bool:
    """Whether a rows x cols matrix and its evaluation fit the budget (what :func:`_check_budget` checks)."""
    return rows * cols * _BYTES_PER_ENTRY + _work_bytes(spec, T, rows, cols, features) <= budget_bytes


def _check_budget(entries: int, budget_bytes: int, what: str, suggestion: str, extra_bytes: int = 0) -> None:
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
        Integer weights in ``[0, p)`` (:func:`tnrnn.init_params_modp`).
    partition : str, iterable of int or Partition, default "start-end"
    p : int, default DEFAULT_PRIME
    rows, cols : (k, |A|) / (k, |B|) int arrays, optional
        Symbol sequences selecting a sub-matrix (rows in the given order). Default: all of them.
    output : int, default 0
        Output component.
    budget_bytes : int, optional
        Memory budget (default :data:`DEFAULT_BUDGET_BYTES`); a bigger table raises ``ResourceError`` before
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
    output = _check_output(spec, output)
    p = check_prime(p, terms=max(spec.R, spec.M))
    budget = DEFAULT_BUDGET_BYTES if budget_bytes is None else int(budget_bytes)
    n_rows, n_cols = _table_entries(spec, part)
    row_in = _check_selection("rows", rows, spec.M, len(part.A))
    col_in = _check_selection("cols", cols, spec.M, len(part.B))
    if row_in is None and col_in is None:
        contiguous_start = part.A == tuple(range(1, len(part.A) + 1))
        grid = n_rows * n_cols
        _check_budget(
            grid,
            budget,
            f"the full one-hot table ({spec.M}^{T} = {_size(grid, spec.M, T)} entries)",
            "use a smaller T, fewer features, or a sub-matrix (rows=..., cols=...)",
            _work_bytes(spec, T, n_rows, n_cols),
        )
        if contiguous_start:
            return _grid_table(params, T, len(part.A), p, output, progress=progress)
        split = T // 2
        full = _grid_table(params, T, split, p, output, progress=progress)
        # The full grid tensor, axes = steps 1..T; bring side A's axes first, then side B's.
        axes = [t - 1 for t in part.A] + [t - 1 for t in part.B]
        return np.ascontiguousarray(full.reshape((spec.M,) * T).transpose(axes)).reshape(n_rows, n_cols)
    if row_in is None:
        _check_budget(n_rows * len(col_in), budget, f"{_size(n_rows, spec.M, len(part.A))} x {len(col_in)} one-hot sub-matrix", "select rows",
                      _work_bytes(spec, T, n_rows, len(col_in)))
        row_in = _all_sequences(spec.M, len(part.A))
    if col_in is None:
        _check_budget(len(row_in) * n_cols, budget, f"{len(row_in)} x {_size(n_cols, spec.M, len(part.B))} one-hot sub-matrix", "select cols",
                      _work_bytes(spec, T, len(row_in), n_cols))
        col_in = _all_sequences(spec.M, len(part.B))
    _check_budget(len(row_in) * len(col_in), budget, f"a {len(row_in)} x {len(col_in)} one-hot sub-matrix",
                  "select fewer rows/cols", _work_bytes(spec, T, len(row_in), len(col_in)))
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
    output = _check_output(spec, output)
    p = check_prime(p, terms=max(spec.R, spec.M))
    n = check_positive_int("n", n)
    budget = DEFAULT_BUDGET_BYTES if budget_bytes is None else int(budget_bytes)
    _check_budget(n * n, budget, f"a {n} x {n} sample matrix", "use fewer sample points",
                  _work_bytes(spec, T, n, n, features=True))
    a = rng.integers(0, p, (n, len(part.A), spec.M), dtype=np.int64)
    b = rng.integers(0, p, (n, len(part.B), spec.M), dtype=np.int64)
    return _pair_values(params, part, p, a, b, output, progress=progress)


# --------------------------------------------------------------------------------------------------------------
# The certified rank


def _as_small_int(upper: Any) -> int | None:
    """An upper bound as a Python int, or None when absent or too large to size a matrix with."""
    if upper is None:
        return None
    if isinstance(upper, (int, np.integer)) and not isinstance(upper, bool):
        value = int(upper)
    else:
        log2 = getattr(upper, "log2", None)
        if log2 is None:
            raise TnrnnError(f"upper must be an int or an ExactCount, got {type(upper).__name__}")
        if float(log2) > 62:
            return None
        value = int(upper.exact())
    if value < 1:
        raise TnrnnError(f"an upper bound on a separation rank is at least 1, got {value}")
    return value if value < _HUGE else None


def _margin(u: int) -> int:
    """Extra one-hot rows/columns beyond a target rank, so that random rows/columns very likely span.

    One-hot rows are not generic points (they are a fixed finite set), so the margin is generous.
    """
    return max(8, u // 8)


def _margin_samples(u: int) -> int:
    """Extra continuous sample points beyond a target rank: generic points over GF(p) reach
    ``min(N, sep)`` except with probability about ``sep / p``, so a few spare points suffice.
    """
    return 8 + u // 100


def _sample_sequences(rng: np.random.Generator, M: int, length: int, k: int) -> np.ndarray:
    """``k`` distinct random symbol sequences of ``length`` (k <= M^length), sorted lexicographically."""
    total = M**length
    if k >= total:
        return _all_sequences(M, length)
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


def _bar(enabled: bool, *, total: int | None, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, file=None)


def certified_rank(
    spec: RACSpec,
    T: int,
    partition: str | Iterable[int] | Partition = "start-end",
    domain: str = "onehot",
    *,
    seeds: Sequence[int] = (0, 1),
    primes: Sequence[int] = (DEFAULT_PRIME,),
    upper: Any = None,
    budget_bytes: int | None = None,
    progress: bool = False,
    output: int = 0,
    stop_at_upper: bool = True,
) -> Certificate:
    """A certified lower bound on the separation rank of a generic RAC (exact over GF(p), python-flint).

    Parameters
    ----------
    spec : RACSpec
    T : int
        Sequence length.
    partition : str, iterable of int or Partition, default "start-end"
        ``"start-end"``, ``"odd-even"`` or side A as 1-based steps.
    domain : {"onehot", "continuous"}
        ``"onehot"``: rank of the one-hot table ``[A]_(A,B)`` (or of a random sub-matrix, when an upper bound
        below the table size is given). ``"continuous"``: rank of ``N x N`` sample matrices, ``N`` grown until
        the rank stops rising or meets ``upper``.
    seeds, primes : sequences of int
        One run per (prime, seed); the certified rank is the maximum.
    upper : int or ExactCount, optional
        The best known upper bound. It sizes the matrices (``upper + margin``) and ends the search early once
        a run meets it (``stop_at_upper``); it never changes what is certified.
    budget_bytes : int, optional
        Memory budget (default :data:`DEFAULT_BUDGET_BYTES`). If the first matrix a run needs is larger, a
        ``ResourceError`` is raised before any work.
    progress : bool, default False
        tqdm progress bars on stderr.
    output : int, default 0
        Output component (separation rank is about one output).
    stop_at_upper : bool, default True
        Skip the remaining runs once one run meets ``upper`` (nothing can be gained).

    Returns
    -------
    Certificate

    Raises
    ------
    TnrnnError
        Bad domain, partition, seeds or primes. ``ResourceError`` for matrices beyond the budget.

    Examples
    --------
    >>> from tnrnn import RACSpec
    >>> certified_rank(RACSpec(depth=2, width=2, features=2), 4).rank
    4
    >>> certified_rank(RACSpec(depth=2, width=2, features=2), 4, domain="continuous").rank
    6
    """
    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    part = make_partition(T, partition)
    if domain not in DOMAINS:
        raise TnrnnError(f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}")
    output = _check_output(spec, output)
    seeds = [check_positive_int("seed", s, minimum=0) for s in as_int_list("seeds", seeds)]
    primes = [check_prime(q, terms=max(spec.R, spec.M)) for q in as_int_list("primes", primes)]
    budget = DEFAULT_BUDGET_BYTES if budget_bytes is None else check_positive_int("budget_bytes", budget_bytes)
    u = _as_small_int(upper)
    plan = _plan(spec, part, domain, u, budget)

    runs: list[dict] = []
    notes: list[str] = []
    combos = [(q, s) for q in primes for s in seeds]
    bar = _bar(progress, total=len(combos), desc=f"certified rank ({domain})")
    try:
        for i, (q, s) in enumerate(combos):
            t0 = time.perf_counter()
            if domain == "onehot":
                run = _run_onehot(spec, part, q, s, u, plan, budget, output, progress)
            else:
                best = max((r["rank"] for r in runs), default=0)
                run = _run_continuous(spec, part, q, s, u, plan, budget, output, progress, best)
            run["seconds"] = time.perf_counter() - t0
            runs.append(run)
            bar.update(1)
            bar.set_postfix(rank=max(r["rank"] for r in runs))
            if stop_at_upper and u is not None and run["rank"] >= u and i + 1 < len(combos):
                notes.append(
                    f"stopped after {i + 1} of {len(combos)} runs: the rank met the upper bound {u}"
                )
                break
    finally:
        bar.close()
    rank = max(r["rank"] for r in runs)
    if u is not None and rank > u:  # pragma: no cover - would mean a wrong upper bound or a bug here
        notes.append(f"certified rank {rank} exceeds the given upper bound {u}: the upper bound is wrong")
    for r in runs:
        if r.get("limited"):
            notes.append(f"seed {r['seed']}, p {r['prime']}: {r['limited']}")
    method = (
        "one-hot table (prefix trie + per-pair exact recurrence mod p; random sub-matrix of size upper+margin "
        "first when smaller), flint nmod_mat.rank"
        if domain == "onehot"
        else "continuous samples uniform over GF(p)^M, N x N matrix [y(a_i, b_j)] with N grown until the rank "
        "stops rising or meets the upper bound, flint nmod_mat.rank"
    )
    return Certificate(rank=rank, runs=runs, domain=domain, method=method, output=output, notes=notes)


def as_int_list(name: str, values: Any) -> list:
    """Seeds or primes as a non-empty list: an integer becomes ``[n]``; at most :data:`MAX_SEEDS` values.

    Examples
    --------
    >>> as_int_list("primes", 7), as_int_list("seeds", (0, 1))
    ([7], [0, 1])
    """
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        return [int(values)]
    try:
        out = list(values)
    except TypeError:
        raise TnrnnError(f"{name} must be an integer or a sequence of integers, got {values!r}") from None
    if not out:
        raise TnrnnError(f"{name} must not be empty")
    if len(out) > MAX_SEEDS:
        raise TnrnnError(f"{name}: {len(out)} values would make as many certified runs (at most {MAX_SEEDS})")
    return out


def _plan(spec: RACSpec, part: Partition, domain: str, u: int | None, budget: int) -> dict:
    """Decide the first matrix size and refuse (before any work) when it does not fit the budget."""
    if domain == "onehot":
        n_rows, n_cols = _table_entries(spec, part)
        target = None if u is None else u + _margin(u)
        k1 = n_rows if target is None else min(n_rows, target)
        k2 = n_cols if target is None else min(n_cols, target)
        full = k1 == n_rows and k2 == n_cols
        entries = n_rows * n_cols if full and part.A != tuple(range(1, len(part.A) + 1)) else k1 * k2
        _check_budget(
            entries,
            budget,
            f"the certified one-hot rank ({'full table' if full else 'sub-matrix'} {_size(k1, spec.M, len(part.A))} x {_size(k2, spec.M, len(part.B))}"
            f"{'' if u is None else f', upper bound {u}'})",
            "use a smaller T or width, or the upper bounds alone (tnrnn.bounds.algebraic.upper_bounds)",
            _work_bytes(spec, part.T, k1, k2),
        )
        return {"k1": k1, "k2": k2, "full_table": full, "n_rows": n_rows, "n_cols": n_cols}
    n0 = _START_SAMPLES if u is None else min(_START_SAMPLES, u + _margin_samples(u))
    _check_budget(n0 * n0, budget, f"a {n0} x {n0} continuous sample matrix",
                  "use a smaller T or width, or raise budget_bytes", _work_bytes(spec, part.T, n0, n0, features=True))
    return {"n0": n0}


def _rng(seed: int, p: int, stage: int) -> np.random.Generator:
    return np.random.default_rng([seed, p, stage])


def _run_onehot(spec, part, p, seed, u, plan, budget, output, progress) -> dict:
    params = init_params_modp(spec, seed, p)
    stages: list[list[int]] = []
    k1, k2 = plan["k1"], plan["k2"]
    if plan["full_table"]:
        table = onehot_matrix_modp(spec, part.T, params, part, p, output=output, budget_bytes=budget, progress=progress)
        r = rank_modp(table, p)
        stages.append([k1, k2, r])
        return _run_record(seed, p, r, k1, k2, "full one-hot table", stages)
    best = (0, k1, k2, "")
    stage = 0
    limited = ""
    while True:
        rng = _rng(seed, p, stage)
        full = k1 == plan["n_rows"] and k2 == plan["n_cols"]
        if full:  # grown to the whole table: the trie builds it faster than pair by pair
            sub = onehot_matrix_modp(spec, part.T, params, part, p, output=output, budget_bytes=budget,
                                     progress=progress)
        else:
            rows = _sample_sequences(rng, spec.M, len(part.A), k1)
            cols = _sample_sequences(rng, spec.M, len(part.B), k2)
            sub = onehot_matrix_modp(spec, part.T, params, part, p, rows=rows, cols=cols, output=output,
                                     budget_bytes=budget, progress=progress)
        r = rank_modp(sub, p)
        stages.append([sub.shape[0], sub.shape[1], r])
        if r > best[0]:
            best = (r, sub.shape[0], sub.shape[1], "full one-hot table" if full else "random one-hot sub-matrix")
        if (u is not None and r >= u) or full:
            break
        # Not yet at the upper bound: a bigger random sub-matrix (the full table at last) may reach higher.
        k1, k2 = min(plan["n_rows"], 4 * k1), min(plan["n_cols"], 4 * k2)
        if not _fits(spec, part.T, k1, k2, budget):
            limited = f"matrix growth stopped at {stages[-1][0]} x {stages[-1][1]} by the memory budget"
            break
        stage += 1
    rec = _run_record(seed, p, best[0], best[1], best[2], best[3], stages)
    if limited:
        rec["limited"] = limited
    return rec


def _run_continuous(spec, part, p, seed, u, plan, budget, output, progress, best_so_far=0) -> dict:
    params = init_params_modp(spec, seed, p)
    stages: list[list[int]] = []
    cap = None if u is None else u + _margin_samples(u)
    n = plan["n0"]
    if best_so_far:
        # An earlier run already showed the rank reaches best_so_far: start just above it, no doubling from 64.
        n = max(n, best_so_far + _margin_samples(best_so_far))
        n = n if cap is None else min(n, cap)
        if not _fits(spec, part.T, n, n, budget, features=True):
            n = plan["n0"]
    limited = ""
    stage = 0
    best = (0, n)
    while True:
        S = sample_matrix_modp(spec, part.T, params, part, p, n, _rng(seed, p, stage), output=output,
                               budget_bytes=budget, progress=progress)
        r = rank_modp(S, p)
        stages.append([n, n, r])
        if r > best[0]:
            best = (r, n)
        if r < n or (u is not None and r >= u):
            break
        nxt = 2 * n if cap is None else min(2 * n, cap)
        if nxt <= n:
            break
        if not _fits(spec, part.T, nxt, nxt, budget, features=True):
            limited = f"sample growth stopped at N = {n} by the memory budget (rank still rising)"
            break
        n = nxt
        stage += 1
    rec = _run_record(seed, p, best[0], best[1], best[1], "continuous sample matrix", stages)
    if limited:
        rec["limited"] = limited
    return rec


def _run_record(seed: int, p: int, rank: int, rows: int, cols: int, method: str, stages: list) -> dict:
    return {"seed": seed, "prime": p, "rank": int(rank), "rows": int(rows), "cols": int(cols), "method": method,
            "seconds": 0.0, "stages": stages}
