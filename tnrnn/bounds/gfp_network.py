"""Exact contraction of any tensor network over GF(p) (or over the integers), and its matricisation.

The certified lower bound of docs/theory.md ('Certified lower bound') for any network: give every weight tensor
values drawn uniformly from GF(p) (one draw per group of identical tensors; copy tensors stay copy tensors and
fixed tensors keep their values), contract the network exactly, matricise it by the bipartition of its open legs
and take the rank over GF(p) with python-flint. ``rank over GF(p) <= rank over Q <= generic rank``.

Contraction follows an opt_einsum path, one pairwise step at a time: both operands are laid out as
``(batch, kept, summed)`` blocks and multiplied with ``numpy.matmul`` in int64, in chunks of the summed axis short
enough that a chunk's sum of products stays below 2^63, with a reduction mod p after every chunk. With ``p=None``
the same steps run on python integers (object arrays): the exact rank of integer data.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import opt_einsum as oe

from tnrnn.base.errors import ResourceError, TnrnnError, human_bytes
from tnrnn.network.indexed import IndexedNetwork

_INT64_MAX = 2**63 - 1


def _delta(d: int, k: int, dtype: Any) -> np.ndarray:
    out = np.zeros((d,) * k, dtype=dtype)
    out[(np.arange(d),) * k] = 1
    return out


def _as_exact(name: str, data: Any) -> np.ndarray:
    """Values as an object array of python ints or Fractions; refuses inexact (non-integral float) data."""
    arr = np.asarray(data)
    if arr.dtype == object:
        flat = [x if isinstance(x, (int, Fraction)) else _as_exact(name, np.asarray(x)).item() for x in arr.ravel()]
        return np.array(flat, dtype=object).reshape(arr.shape)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        return np.array([int(x) for x in arr.ravel()], dtype=object).reshape(arr.shape)
    if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return np.array([int(x) for x in arr.ravel()], dtype=object).reshape(arr.shape)
    raise TnrnnError(f"tensor {name!r} holds non-integer values: exact arithmetic needs integer or Fraction data")


def _mod_p(arr: np.ndarray, p: int) -> np.ndarray:
    """Exact integers or Fractions reduced into [0, p) as int64."""
    flat = []
    for x in arr.ravel():
        x = Fraction(x)
        if x.denominator % p == 0:
            raise TnrnnError(f"a fixed value has a denominator divisible by the prime {p}: use another prime")
        flat.append(x.numerator % p * pow(x.denominator, -1, p) % p)
    return np.array(flat, dtype=np.int64).reshape(arr.shape)


def random_tensors(net: IndexedNetwork, p: int, seed: int) -> list:
    """Per tensor: uniform values in [0, p) (int64), one draw per ``group``; fixed tensors reduced mod p;
    None for copy tensors. Reproducible from ``numpy.random.default_rng([seed, p])`` drawn in tensor order.

    Examples
    --------
    >>> from tnrnn.network.indexed import from_einsum
    >>> net = from_einsum("ab,bc->ac", [(2, 3), (3, 2)])
    >>> [a.shape for a in random_tensors(net, 101, 0)]
    [(2, 3), (3, 2)]
    """
    rng = np.random.default_rng([int(seed), int(p)])
    drawn: dict = {}
    out: list = []
    for i, t in enumerate(net.tensors):
        if t.copy:
            out.append(None)
        elif t.fixed:
            if t.data is None:
                raise TnrnnError(f"fixed tensor {t.name!r} holds no values")
            out.append(_mod_p(_as_exact(t.name, t.data), p))
        else:
            shape = net.shape(i)
            key = ("group", t.group) if t.group is not None else ("tensor", i)
            if key not in drawn:
                drawn[key] = rng.integers(0, p, size=shape, dtype=np.int64)
            elif drawn[key].shape != shape:
                raise TnrnnError(f"tensor {t.name!r} is in group {t.group!r} but its shape {shape} differs from "
                                 f"the group's {drawn[key].shape}")
            out.append(drawn[key])
    return out


def given_tensors(net: IndexedNetwork, exact: bool) -> list:
    """Per tensor: its own values (exact object arrays when ``exact``, float64 or complex128 otherwise); None for
    copies.

    Exact rational data is scaled per tensor to integers (a nonzero factor per tensor changes no rank).
    """
    out: list = []
    for t in net.tensors:
        if t.copy:
            out.append(None)
            continue
        if t.data is None:
            raise TnrnnError(f"tensor {t.name!r} holds no values: weights='given' needs numeric tensors")
        if not exact:  # complex values stay complex (rank over C), real ones become float64
            out.append(np.asarray(t.data, dtype=complex if np.iscomplexobj(t.data) else float))
            continue
        arr = _as_exact(t.name, t.data)
        den = math.lcm(*[Fraction(x).denominator for x in arr.ravel()]) if arr.size else 1
        out.append(np.array([int(Fraction(x) * den) for x in arr.ravel()], dtype=object).reshape(arr.shape))
    return out


def is_exact_data(net: IndexedNetwork) -> bool:
    """Whether every non-copy tensor holds integer or rational values (so the rank at them can be exact)."""
    for t in net.tensors:
        if t.copy:
            continue
        try:
            _as_exact(t.name, t.data)
        except TnrnnError:
            return False
    return True


class Plan:
    """The einsum of a network with its open legs split into rows and columns, and an opt_einsum path.

    ``free`` open legs (on neither side) are fixed at index 0 (a unit-vector operand): the rank is about that
    component, as the RAC path is about one output component. ``sketched`` open legs of either side are
    contracted with vectors given to [`matrix`][tnrnn.bounds.gfp_network.Plan.matrix] (random ones make a sketch ``S M T`` of the matricisation,
    whose rank is at most the matricisation's).
    """

    def __init__(self, net: IndexedNetwork, rows: Sequence[str], cols: Sequence[str], optimize: str = "auto",
                 sketched: Sequence[str] = ()) -> None:
        positions, inputs, output = net.einsum_form()
        relabel = dict(zip(net.open, output))
        self.net = net
        self.rows = [relabel[ix] for ix in rows]
        self.cols = [relabel[ix] for ix in cols]
        kept = set(self.rows) | set(self.cols)
        self.sketched = [relabel[ix] for ix in sketched]
        self.free = [ix for ix in output if ix not in kept and ix not in set(self.sketched)]
        self.positions = positions
        self.inputs = [tuple(ix) for ix in inputs] + [(ix,) for ix in self.free + self.sketched]
        self.output = tuple(self.rows) + tuple(self.cols)
        self.sizes = {relabel.get(ix, ix): d for ix, d in net.sizes.items()}
        for pos, ixs in zip(positions, inputs):
            for ix, orig in zip(ixs, net.tensors[pos].inds):
                self.sizes[ix] = net.sizes[orig]
        sym: dict = {}
        for ixs in self.inputs:
            for ix in ixs:
                sym.setdefault(ix, oe.get_symbol(len(sym)))
        eq = ",".join("".join(sym[ix] for ix in ixs) for ixs in self.inputs) + "->" + "".join(sym[ix] for ix in self.output)
        shapes = [tuple(self.sizes[ix] for ix in ixs) for ixs in self.inputs]
        self.eq = eq
        self.n_rows = math.prod(self.sizes[ix] for ix in self.rows)
        self.n_cols = math.prod(self.sizes[ix] for ix in self.cols)
        if len(self.inputs) == 1:
            self.path: list = [(0,)]
            self.largest = max(self.n_rows * self.n_cols, math.prod(shapes[0]))
            self.flops = math.prod(shapes[0])
        else:
            # The path from opt_einsum's finder; its cost walked here with a running count of the operands that
            # carry each index (opt_einsum.contract_path rebuilds the union of all remaining indices at every
            # step: O(n^2) on a chain of n tensors, 10 s at n = 10,000).
            find = oe.paths.get_path_fn(optimize)
            sizes = {sym[ix]: self.sizes[ix] for ix in sym}
            terms = [frozenset(sym[ix] for ix in ixs) for ixs in self.inputs]
            out = frozenset(sym[ix] for ix in self.output)
            self.path = [tuple(step) for step in find(terms, out, sizes)]
            self.largest, self.flops = _walk_cost(terms, out, sizes, self.path)

    def entries(self) -> int:
        """Largest number of entries held at once: the matrix or the largest intermediate tensor."""
        return max(self.n_rows * self.n_cols, self.largest)

    def check(self, budget_bytes: int, bytes_per_entry: int, what: str, remains: str) -> None:
        """Refuse, before any allocation, a contraction whose largest tensor exceeds the budget."""
        need = self.entries() * bytes_per_entry * 3  # operands, result and the matmul's temporary
        if need > budget_bytes:
            raise ResourceError(
                f"{what} needs a {self.n_rows:,} x {self.n_cols:,} matrix (largest intermediate "
                f"{self.largest:,} entries), about {human_bytes(need)}, over the budget of {human_bytes(budget_bytes)}; "
                f"{remains}"
            )

    def operands(self, values: list, dtype: Any, vectors: dict | None = None) -> list:
        """The einsum operands from per-tensor values (copy tensors kept dense where the einsum keeps them)."""
        ops = []
        for pos in self.positions:
            v = values[pos]
            t = self.net.tensors[pos]
            ops.append(_delta(self.net.sizes[t.inds[0]], len(t.inds), dtype) if v is None else v)
        for ix in self.free:
            e0 = np.zeros(self.sizes[ix], dtype=dtype)
            e0[0] = 1
            ops.append(e0)
        ops.extend(np.asarray((vectors or {})[ix], dtype=dtype) for ix in self.sketched)
        return ops

    def matrix(self, values: list, p: int | None, vectors: dict | None = None, dtype: Any = object) -> np.ndarray:
        """The contracted network as a (rows x cols) matrix: mod p (int64); for ``p=None`` exact (python ints,
        the default ``dtype=object``) or in floating point (``dtype=float`` or ``complex``); ``vectors`` (open
        index -> vector) for the sketched legs.
        """
        if p is not None:
            dtype = np.int64
        ops = [(np.asarray(a, dtype=dtype) % p if p is not None else np.asarray(a, dtype=dtype), ixs)
               for a, ixs in zip(self.operands(values, dtype, vectors), self.inputs)]
        # How many live operands carry each index, kept up to date step by step: rebuilding the set of live
        # indices at every step made a chain of n tensors cost O(n^2).
        carried = Counter(ix for _, ixs in ops for ix in set(ixs))
        output = set(self.output)
        for step in self.path:
            picked = [ops[k] for k in step]
            for k in sorted(step, reverse=True):
                ops.pop(k)
            for _, ixs in picked:
                carried.subtract(set(ixs))
            rest = {ix for _, ixs in picked for ix in ixs if carried[ix] > 0 or ix in output}
            if len(picked) == 1:
                ops.append(_reduce(picked[0][0], picked[0][1], rest, p))
            else:
                ops.append(_pairwise(picked[0], picked[1], rest, p))
            carried.update(set(ops[-1][1]))
        arr, ixs = ops[0]
        arr, ixs = _reduce(arr, ixs, set(self.output), p)
        arr = np.transpose(arr, [ixs.index(ix) for ix in self.output])
        return arr.reshape(self.n_rows, self.n_cols)


def _walk_cost(terms: list, output: frozenset, sizes: dict, path: list) -> tuple[int, int]:
    """Largest intermediate (entries) and multiply-adds of a linear contraction path, in time linear in its steps
    times the indices per step.
    """
    live = list(terms)
    carried = Counter(ix for t in live for ix in t)
    largest = flops = 0
    for step in path:
        picked = [live[k] for k in step]
        for k in sorted(step, reverse=True):
            live.pop(k)
        involved: set = set().union(*picked)
        for t in picked:
            carried.subtract(t)
        kept = frozenset(ix for ix in involved if carried[ix] > 0 or ix in output)
        carried.update(kept)
        live.append(kept)
        largest = max(largest, math.prod(sizes[ix] for ix in kept))
        flops += math.prod(sizes[ix] for ix in involved)
    return largest, flops


def _reduce(arr: np.ndarray, ixs: tuple, keep: set, p: int | None) -> tuple:
    """Sum out the indices not in ``keep`` and take diagonals of repeated ones (``numpy.einsum``, one operand)."""
    out = tuple(dict.fromkeys(ix for ix in ixs if ix in keep))
    if out == ixs:
        return arr, ixs
    sym = {ix: oe.get_symbol(k) for k, ix in enumerate(dict.fromkeys(ixs))}
    eq = "".join(sym[ix] for ix in ixs) + "->" + "".join(sym[ix] for ix in out)
    res = np.einsum(eq, arr)  # sums of at most prod(dims) values below p: no int64 overflow at sane sizes
    return (res % p if p is not None else res), out


def _pairwise(a: tuple, b: tuple, keep: set, p: int | None) -> tuple:
    """Contract two operands exactly: batch indices (in both, kept), summed (in both, not kept), the rest kept."""
    (x, ix), (y, iy) = a, b
    x, ix = _reduce(x, ix, keep | set(iy), p)
    y, iy = _reduce(y, iy, keep | set(ix), p)
    batch = [i for i in ix if i in iy and i in keep]
    summed = [i for i in ix if i in iy and i not in keep]
    left = [i for i in ix if i not in iy]
    right = [i for i in iy if i not in ix]
    size = dict(zip(ix, x.shape)) | dict(zip(iy, y.shape))
    nb, nl, nr, ns = (math.prod(size[i] for i in g) for g in (batch, left, right, summed))
    x3 = np.transpose(x, [ix.index(i) for i in batch + left + summed]).reshape(nb, nl, ns)
    y3 = np.transpose(y, [iy.index(i) for i in batch + summed + right]).reshape(nb, ns, nr)
    if p is None:
        res = np.matmul(x3, y3) if ns else np.zeros((nb, nl, nr), dtype=np.result_type(x3, y3))
    else:
        chunk = max(1, _INT64_MAX // max(1, (p - 1) ** 2))  # terms per partial sum that cannot overflow int64
        res = np.zeros((nb, nl, nr), dtype=np.int64)
        for s0 in range(0, ns, chunk):
            res = (res + np.matmul(x3[:, :, s0:s0 + chunk], y3[:, s0:s0 + chunk, :]) % p) % p
    out = tuple(batch + left + right)
    return res.reshape([size[i] for i in out]), out


def rank_mod_p(matrix: np.ndarray, p: int) -> int:
    """Exact rank over GF(p) of an integer matrix with flint's ``nmod_mat``.

    Examples
    --------
    >>> rank_mod_p(np.array([[1, 2], [3, 4]]), 2)
    1
    """
    import flint

    m, n = matrix.shape
    if m == 0 or n == 0:
        return 0
    return int(flint.nmod_mat(m, n, (np.asarray(matrix, dtype=np.int64) % p).ravel().tolist(), int(p)).rank())


def rank_over_q(matrix: np.ndarray) -> int:
    """Exact rank of an integer matrix (python ints) with flint's ``fmpz_mat``.

    Examples
    --------
    >>> rank_over_q(np.array([[2, 4], [1, 2]], dtype=object))
    1
    """
    import flint

    m, n = matrix.shape
    if m == 0 or n == 0:
        return 0
    return int(flint.fmpz_mat(m, n, [int(v) for v in matrix.ravel()]).rank())
