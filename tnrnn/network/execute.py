"""Jitted executors that follow a plan's path, fused in chunks, with rescaling and read-out inside the jit.

An executor is looked up by a plain tuple key ([`ExecKey`][tnrnn.network.execute.ExecKey]: the plan key, arithmetic, prime, output kind)
and takes ``(W_I, W_H, W_O, h0, feats)`` as device arrays; weights, inputs and the batch size are arguments, so
new weights reuse the compiled code and a new batch size only re-specialises it (jax retraces per input
shape), never re-searches the path.

Long paths are cut into chunks of at most ``CHUNK_STEPS`` pairwise contractions, each chunk one ``jax.jit``
function: XLA's compile time grows faster than linearly with the number of unrolled steps (fusing the 1,200
steps of L = 1, T = 400 at once costs several seconds), while a chunk boundary costs one dispatch. Float
intermediates are rescaled where their degree (weight and feature factors since their last rescale, known from
the path) would exceed ``MAX_LIVE_DEGREE``, per sequence when they carry the batch index, and their log scales
carried, so evaluation stays finite for long sequences; an evaluation that still left float32's range is redone
with every intermediate rescaled.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from tnrnn.base.errors import TnrnnError
from tnrnn.network.einsum import OperandRef
from tnrnn.network.plan import PlanKey, get_plan

#: Most pairwise contractions per jitted chunk. Measured on one CPU core: a 400-step chunk compiles in about a
#: second; fusing 1,200 steps at once took 7.5 s, while stepping one contraction per call cost 30-140x at run time.
CHUNK_STEPS = 400

#: A float intermediate is rescaled when its degree (weight and feature factors since the last rescale) exceeds
#: this: live values stay at degree <= 20 (ten steps of a one-layer chain, two weight factors a step, like the
#: recurrence's blocks) and no product exceeds 40. Rescaling every 8 contractions instead doubled the time of
#: L = 1, T = 64 at batch 1024; each rescale of a (1024, 32) state costs about 30 us on this CPU.
MAX_LIVE_DEGREE = 20

#: The fallback: every intermediate with a weight or feature factor in it is rescaled.
SAFE_DEGREE = 0

#: What an executor returns: "scaled" (mantissa, log scale per sequence), "raw" (the plain product) or
#: "exact" (mod p).
OUTPUTS = ("scaled", "raw", "exact")

# Python-side trace counter: incremented only while jax traces a chunk (tests use it to prove reuse).
_TRACES: Counter = Counter()


def trace_count() -> int:
    """How many times a contraction chunk has been traced by jax in this process (for tests)."""
    return sum(_TRACES.values())


class ExecKey(NamedTuple):
    """What an executor depends on besides the plan: arithmetic, the prime, the output kind, rescaling."""

    plan: PlanKey
    modp: bool
    p: int
    output: str
    rescale: bool = True


@dataclass(frozen=True)
class _Op:
    """One pairwise contraction of the schedule, with its static rescale decision."""

    positions: tuple
    eq: str
    batch_axis: int | None
    rescale: bool


def _leaf_degree(ref: OperandRef, ids: bool) -> int:
    """Magnitude factors in a leaf: 0 for copy tensors, all-ones vectors and one-hot inputs (symbol ids), else 1."""
    if ref.kind in ("delta", "ones") or (ref.kind == "x" and ids):
        return 0
    return 1


def _schedule(steps, refs: tuple, limit: int | None, ids: bool) -> list[_Op]:
    """Static rescale decisions: where a result's degree exceeds ``limit``, and at the last contraction.

    ``limit`` None never rescales (the plain product); ``ids`` says whether the inputs are one-hot.

    Examples
    --------
    >>> from tnrnn.network.paths import Step
    >>> chain = [Step(pos, "ab,b->a", ("a",), 2, None) for pos in [(0, 1), (0, 3), (0, 2), (0, 1)]]
    >>> refs = (OperandRef("W_H", 0, (2, 2)),) * 5  # degrees of the results: 2, 3, 4 (> 3: rescaled), 1 (last)
    >>> [op.rescale for op in _schedule(chain, refs, 3, False)]
    [False, False, True, True]
    """
    degrees = [_leaf_degree(r, ids) for r in refs]  # per live entry
    real = [st for st in steps if st.eq != "transpose"]
    last = real[-1] if real else None
    ops: list[_Op] = []
    for st in steps:
        if st.eq == "transpose":
            ops.append(_Op(st.positions, "transpose", None, False))
            continue
        degree = sum(degrees[i] for i in st.positions)
        now = limit is not None and (degree > limit or st is last)
        ops.append(_Op(st.positions, st.eq, st.batch_axis, now))
        degrees = [d for i, d in enumerate(degrees) if i not in st.positions] + [0 if now else degree]
    return ops


def _chunks(n: int) -> list[range]:
    """``n`` steps cut into equal chunks of at most CHUNK_STEPS."""
    count = max(1, math.ceil(n / CHUNK_STEPS))
    size = math.ceil(n / count) if n else 0
    return [range(i, min(i + size, n)) for i in range(0, n, size)] if n else [range(0)]


def _normalise(res, log, batch_axis):
    """Rescale ``res`` to max-abs 1 (per batch entry when it has the batch axis) and add the log to ``log``."""
    import jax.numpy as jnp

    if batch_axis is None:
        scale = jnp.max(jnp.abs(res))
        safe = jnp.where(scale > 0, scale, 1.0)
        return res / safe, log + jnp.log(safe)
    # The maximum over a 2-D (batch, rest) view: XLA's CPU reduction over several trailing axes of a 3-D array
    # was several times slower (it made rescaling cost as much as the contractions).
    moved = res if batch_axis == 0 else jnp.moveaxis(res, batch_axis, 0)
    flat = moved.reshape(moved.shape[0], -1)
    scale = jnp.max(jnp.abs(flat), axis=1)
    safe = jnp.where(scale > 0, scale, 1.0)
    out = (flat / safe[:, None]).reshape(moved.shape)
    return (out if batch_axis == 0 else jnp.moveaxis(out, 0, batch_axis)), log + jnp.log(safe)


class _Leaves:
    """The leaf arrays of a plan, made on first use inside a trace (unused ones cost nothing)."""

    def __init__(self, refs: tuple, weights: tuple, feats, dtype) -> None:
        self.refs, self.weights, self.feats, self.dtype = refs, weights, feats, dtype
        self._x: dict[int, object] = {}
        self._ids: dict[int, object] = {}

    def ids(self, i: int):
        """The symbol ids behind leaf ``i`` when it is a one-hot input, else None (one column per step, made once)."""
        ref: OperandRef = self.refs[i]
        if ref.kind != "x" or self.feats.ndim != 2:
            return None
        if ref.index not in self._ids:
            self._ids[ref.index] = self.feats[:, ref.index]
        return self._ids[ref.index]

    def get(self, i: int):
        import jax
        import jax.numpy as jnp

        ref: OperandRef = self.refs[i]
        W_I, W_H, W_O, h0 = self.weights
        if ref.kind == "x":
            t = ref.index
            if t not in self._x:
                f = self.feats
                # Symbol ids: one-hot rows made here, where XLA fuses them into the W_I contraction.
                self._x[t] = (jax.nn.one_hot(f[:, t], W_I[0].shape[1], dtype=self.dtype) if f.ndim == 2
                              else f[:, t, :])
            return self._x[t]
        table = {"W_I": lambda: W_I[ref.index], "W_H": lambda: W_H[ref.index], "W_O": lambda: W_O,
                 "h0": lambda: h0[ref.index], "ones": lambda: jnp.ones(ref.shape, self.dtype)}
        if ref.kind in table:
            return table[ref.kind]()
        if ref.kind == "delta":
            n, d = len(ref.shape), ref.shape[0]
            return jnp.zeros(ref.shape, self.dtype).at[(jnp.arange(d),) * n].set(1)
        raise TnrnnError(f"unknown operand kind {ref.kind!r}")  # pragma: no cover


def _gathered(op: _Op, live: list, leaves: _Leaves):
    """A contraction of a one-hot input with one other operand, as a gather; None when it is not one.

    ``einsum("bm,...m...->out", onehot(ids), A)`` selects ``A[..., ids[b], ...]``: reading rows costs ``B x |A|/M``
    where the product costs ``B x |A|``, and no one-hot array is made.
    """
    import jax.numpy as jnp

    if len(op.positions) != 2:
        return None
    specs, out = op.eq.split("->")
    terms = specs.split(",")
    for k, i in enumerate(op.positions):
        ids = leaves.ids(live[i]) if isinstance(live[i], int) else None
        if ids is None:
            continue
        b, m = terms[k][0], terms[k][1]  # an input operand is (batch, feature)
        other, j = terms[1 - k], op.positions[1 - k]
        if m in out or other.count(m) != 1 or other.count(b) > 1:
            return None
        arr = leaves.get(live[j]) if isinstance(live[j], int) else live[j]
        axis = other.index(m)
        if b in other:  # a batched operand: each sequence reads its own entry along m
            shape = [1] * arr.ndim
            shape[other.index(b)] = -1
            picked = jnp.take_along_axis(arr, ids.reshape(shape), axis=axis, mode="clip")
            picked, src = jnp.squeeze(picked, axis), other.replace(m, "")
        else:
            picked, src = jnp.take(arr, ids, axis=axis, mode="clip"), other.replace(m, b)
        return picked if src == out else jnp.einsum(f"{src}->{out}", picked)
    return None


def _reduced(res, logs, op: _Op, modp: bool, p: int):
    """A contraction's result reduced mod p, or rescaled (float) with its log scales carried."""
    import jax.numpy as jnp
    from jax import lax

    if modp:
        # lax.rem, not ``%``: operands are residues, so every result is >= 0 and rem is the residue. jnp's floor
        # mod reads its input several times, and XLA fusing a chain of those duplicated it exponentially.
        return lax.rem(res, jnp.asarray(p, res.dtype)), None
    carried = [lg for lg in logs if lg is not None]
    log = functools.reduce(lambda a, b: a + b, carried) if carried else None
    if op.rescale:
        res, log = _normalise(res, jnp.zeros((), res.dtype) if log is None else log, op.batch_axis)
    return res, log


def _run_ops(live: list, logs: list, ops: list[_Op], leaves: _Leaves, modp: bool, p: int) -> None:
    """Apply ``ops`` to the live list in place; entries that are ints are leaves not yet made."""
    import jax.numpy as jnp

    for op in ops:
        if op.eq == "transpose":
            live[-1] = jnp.transpose(live[-1], op.positions)
            continue
        res = _gathered(op, live, leaves)
        if res is None:
            args = tuple(leaves.get(live[i]) if isinstance(live[i], int) else live[i] for i in op.positions)
            res = jnp.einsum(op.eq, *args, optimize=False)
        res, log = _reduced(res, tuple(logs[i] for i in op.positions), op, modp, p)
        for i in sorted(op.positions, reverse=True):
            del live[i]
            del logs[i]
        live.append(res)
        logs.append(log)


def _finish(res, log, key: ExecKey, feats, M: int):
    """Read-out inside the jit: mod p as is; float as (mantissa, log per sequence) or the plain product."""
    import jax.numpy as jnp

    if key.modp:
        return res
    if key.output == "raw" or key.plan.mode == "tensor":
        out = res if log is None else res * jnp.exp(log if jnp.ndim(log) == 0 or res.ndim == 1 else
                                                     jnp.reshape(log, (-1,) + (1,) * (res.ndim - 1)))
    else:
        B = res.shape[0]
        log = jnp.zeros((B,), res.dtype) if log is None else jnp.broadcast_to(log, (B,))
        mant, log = _normalise(res, log, 0)
        out = (mant, log)
    if feats is not None and feats.ndim == 2:
        # Ids that arrived as device arrays are range-checked here, without a host round trip: bad ones give NaN.
        bad = jnp.any((feats < 0) | (feats >= M), axis=1)
        nan = jnp.asarray(jnp.nan, res.dtype)
        if isinstance(out, tuple):
            out = (jnp.where(bad[:, None], nan, out[0]), jnp.where(bad, nan, out[1]))
        elif key.plan.mode == "forward":
            out = jnp.where(bad[:, None], nan, out)
    return out


_EXECUTORS: dict[ExecKey, Callable] = {}
#: How many times the executors were cleared: a caller that remembers an executor checks it is still current.
GENERATION = [0]


def executor(key: ExecKey) -> Callable:
    """The compiled function ``(W_I, W_H, W_O, h0, feats) -> output`` for ``key`` (made once per key).

    ``feats`` is symbol ids (B, T), features (B, T, M) or None (tensor mode). The output is
    ``(mantissa, log_scale)`` for ``"scaled"``, the plain product for ``"raw"`` and tensor mode, the reduced int64
    array mod p. Nothing is checked here: callers validate once at the edge.
    """
    fn = _EXECUTORS.get(key)
    if fn is None:
        fn = _EXECUTORS[key] = _make_executor(key)
    return fn


def _ok(out):
    """Whether a scaled output is usable: finite, and no sequence's outputs all exactly 0 (an underflow)."""
    import jax.numpy as jnp

    mant, log = out
    return jnp.all(jnp.isfinite(log)) & jnp.all(jnp.isfinite(mant)) & jnp.all(jnp.any(mant != 0, axis=-1))


def _make_executor(key: ExecKey) -> Callable:
    import jax

    plan = get_plan(key.plan)
    refs = plan.es.operands
    steps = plan.report.steps
    ranges = _chunks(len(steps))
    M = key.plan.M
    rescaled = key.rescale and not key.modp
    # Fallback: a scaled float evaluation that over- or underflowed is redone with every intermediate rescaled.
    fallback = rescaled and key.output == "scaled" and key.plan.mode == "forward"
    schedules = {(ids, limit): _schedule(steps, refs, limit if rescaled else None, ids)
                 for ids in (False, True) for limit in (MAX_LIVE_DEGREE, SAFE_DEGREE)}

    def make_chunk(index: int, r: range, start_live: list, final: bool, limit: int, check: bool):
        def chunk(W_I, W_H, W_O, h0, feats, inter, inter_logs):
            _TRACES[key, index, limit] += 1  # a Python side effect: runs only while jax traces
            leaves = _Leaves(refs, (W_I, W_H, W_O, h0), feats, W_O.dtype)
            chunk_ops = schedules[feats is not None and feats.ndim == 2, limit][r.start:r.stop]
            it, lt = iter(inter), iter(inter_logs)
            live = [tok if isinstance(tok, int) else next(it) for tok in start_live]
            logs = [None if isinstance(tok, int) else next(lt) for tok in start_live]
            _run_ops(live, logs, chunk_ops, leaves, key.modp, key.p)
            if final:
                out = _finish(live[0], logs[0], key, feats, M)
                return (out, _ok(out)) if check else out
            keep = [i for i, v in enumerate(live) if not isinstance(v, int)]
            return tuple(live[i] for i in keep), tuple(logs[i] for i in keep)

        return jax.jit(chunk)

    # Static pass: which live entries are leaves (their operand index) at each chunk boundary.
    tokens: list = list(range(len(refs)))
    boundaries = []
    for r in ranges:
        boundaries.append(list(tokens))
        for st in steps[r.start:r.stop]:
            if st.eq == "transpose":
                continue
            tokens = [t for i, t in enumerate(tokens) if i not in st.positions] + [None]

    def build(limit: int, check: bool) -> list:
        return [make_chunk(k, r, boundaries[k], k == len(ranges) - 1, limit, check) for k, r in enumerate(ranges)]

    chunks = build(MAX_LIVE_DEGREE, fallback)
    safe: list = []

    def go(fns, W_I, W_H, W_O, h0, feats):
        inter: tuple = ()
        logs: tuple = ()
        for fn in fns[:-1]:
            inter, logs = fn(W_I, W_H, W_O, h0, feats, inter, logs)
        return fns[-1](W_I, W_H, W_O, h0, feats, inter, logs)

    def run(W_I, W_H, W_O, h0, feats):
        out = go(chunks, W_I, W_H, W_O, h0, feats)
        if not fallback:
            return out
        out, ok = out
        # The check is computed inside the jit; reading it waits for the result (a lax.cond inside the jit cost
        # more: ~100 us at L = 3, T = 8, batch 256). Weights far from O(1): redo with every intermediate rescaled.
        if not bool(ok):
            if not safe:
                safe.extend(build(SAFE_DEGREE, False))
            out = go(safe, W_I, W_H, W_O, h0, feats)
        return out

    return run


def clear_executors() -> None:
    """Forget compiled executors."""
    _EXECUTORS.clear()
    GENERATION[0] += 1
