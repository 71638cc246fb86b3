"""Certified lower bounds on separation ranks, within a work budget (docs/theory.md, 'Certified lower bound').

Why this is a certificate: a RAC is a polynomial in its weights and inputs, so with weights drawn uniformly from
GF(p) the mod-p evaluation ([`tnrnn.bounds.gfp`][tnrnn.bounds.gfp]) is exact, and for any matricization ``B`` of ``y`` (the
one-hot table, a sub-matrix of it, or a continuous-domain sample matrix ``[y(a_i, b_j)]``)
``rank_GF(p)(B) <= rank_Q(B) <= sep(y at those weights) <= generic sep``. The maximum over runs only tightens it.

How matrices grow ([`certify`][tnrnn.bounds.certify.certify]): each run starts small, and grows only while a bigger matrix can still raise the
bound: never past ``upper + margin`` (a matrix of N rows certifies at most N), never once the rank saturates
(``rank < N``: more samples of a generic polynomial add nothing), never past the memory budget, and never into a
matrix whose cost exceeds what is left of the budgets. Cost is a fixed model (pair evaluations x steps x layers x
(R^2 + R), elimination ~ N^3, per class of prime). The default budget is *work*: model units, so the matrices, and
hence the certified number, depend on the problem alone and are the same on any machine and under any load. A
wall-clock box (``seconds``) is an option; under it the model is calibrated on the stages already run. Once one
run meets the upper bound, or the probabilistic statement reaches `EPS_TARGET`, further seeds are skipped.
The certificate records every stage, why growth stopped, and the next size with the work it would need.

When a gap remains, [`generic_rank_statement`][tnrnn.bounds.statement.generic_rank_statement] gives a separate, probabilistic statement (Schwartz-Zippel),
never mixed with the certified value.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.bounds import gfp, gfp_kernel
from tnrnn.bounds.certificate import Certificate, CertificateError, CertRun
from tnrnn.bounds.statement import GenericRankStatement, generic_rank_statement
from tnrnn.rac.modp import init_params_field
from tnrnn.rac.partition import Partition
from tnrnn.rac.problem import DEFAULT_CERTIFY_SECONDS, MAX_SEEDS, RankProblem, int_list_of, make_problem
from tnrnn.rac.spec import RACSpec

__all__ = ["Certificate", "CertRun", "CertificateError", "certified_rank", "certify", "as_int_list",
           "GenericRankStatement", "MAX_SEEDS", "DEFAULT_CERTIFY_SECONDS", "with_statement"]

# Continuous samples start at this many points (fewer when the upper bound is smaller).
_START_SAMPLES = 64
# Upper bounds above this are "infinite" for sizing purposes.
_HUGE = 1 << 62
# The fixed cost model: seconds per unit on two quiet cores (measured with benchmarks/bench_certify.py). It is the
# work budget's unit of account (deterministic) and the time box's prior until a stage has been timed. Per class of
# prime: "float" runs the float64 kernel, "wide" the Montgomery kernel and 64-bit elimination.
_EVAL_PER_UNIT = {"float": 4e-10, "wide": 1.6e-9}  # per pair x step x layer x (R^2 + R)
_RANK_PER_UNIT = {"float": 1.2e-10, "wide": 2.2e-10}  # per rows x cols x min(rows, cols)
_CONVERT_PER_ENTRY = 2e-8  # reduction and one buffer copy into FLINT, per entry
_TIMED = 0.05  # a stage part shorter than this is dominated by overhead: keep the prior
_UNCALIBRATED_STEP = 4.0  # growth per dimension allowed before a time box's model has timed a stage
_SAFETY = 0.8  # share of the remaining time a new stage may be estimated to take
# Most work units a stage at a large prime runs on numpy's Python integers (about 4e-7 s each) without numba.
_NO_KERNEL_UNITS = 5e7
#: Epsilon below which a probabilistic statement needs no further run (one more seed at the same size could only
#: make it smaller, not raise the certified rank, generically).
EPS_TARGET = 1e-9


def as_int_list(name: str, values: Any) -> list:
    """Seeds or primes as a non-empty list (see [`tnrnn.rac.problem.int_list_of`][tnrnn.rac.problem.int_list_of]).

    >>> as_int_list("primes", 7)
    [7]
    """
    return int_list_of(name, values)


# --------------------------------------------------------------------------------------------------------------
# Cost model


class _Clock:
    """The two budgets of one certification: a work budget (fixed cost model, deterministic) and an optional time
    box (the same model calibrated on the stages already run, since the machine may be slower or shared).
    """

    def __init__(self, seconds: float | None, work: float | None) -> None:
        self.end = None if seconds is None else time.perf_counter() + seconds
        self.work_left = float("inf") if work is None else float(work)
        self.kind = "float"
        self.eval_c, self.rank_c = _EVAL_PER_UNIT["float"], _RANK_PER_UNIT["float"]
        # without a time box the model is never calibrated: the matrices follow from the problem alone
        self.calibrated = seconds is None

    def use_prime(self, spec: RACSpec, p: int) -> None:
        """Select the cost class of the runs at prime ``p`` (float64 kernel or Montgomery kernel).

        The class follows from the prime alone, never from what is installed: without numba the evaluation takes
        numpy's slower path, but the work budget allows the same matrices, so the certified number is the same.
        """
        kind = "float" if gfp_kernel.float_exact(p, spec.R) else "wide"
        if kind != self.kind:
            self.kind = kind
            self.eval_c, self.rank_c = _EVAL_PER_UNIT[kind], _RANK_PER_UNIT[kind]
            self.calibrated = self.end is None

    def left(self) -> float:
        # a safety margin: the model is calibrated on smaller matrices and the machine may be shared
        return float("inf") if self.end is None else _SAFETY * (self.end - time.perf_counter())

    def work(self, units: float, k1: int, k2: int) -> float:
        """Work units of a stage: the fixed model, whatever the machine."""
        return (_EVAL_PER_UNIT[self.kind] * units + _RANK_PER_UNIT[self.kind] * k1 * k2 * min(k1, k2)
                + _CONVERT_PER_ENTRY * k1 * k2)

    def estimate(self, units: float, k1: int, k2: int) -> float:
        """Seconds of a stage: the model calibrated on the stages run so far (under a time box)."""
        return self.eval_c * units + self.rank_c * k1 * k2 * min(k1, k2) + _CONVERT_PER_ENTRY * k1 * k2

    def limit(self, units: float, k1: int, k2: int) -> str:
        """The budget a stage would exceed ("work budget", "time budget"), or "" when it fits both."""
        if self.work(units, k1, k2) > self.work_left:
            return "work budget"
        if self.estimate(units, k1, k2) > self.left():
            return "time budget"
        return ""

    def spend(self, units: float, k1: int, k2: int) -> None:
        self.work_left -= self.work(units, k1, k2)

    def exhausted(self) -> bool:
        return self.work_left <= 0 or self.left() <= 0

    def learn(self, units: float, eval_s: float, k1: int, k2: int, rank_s: float) -> None:
        if self.end is None:
            return  # no time box: the fixed model decides
        if eval_s > _TIMED and units:
            self.eval_c = eval_s / units
            self.calibrated = True
        if rank_s > _TIMED:
            self.rank_c = max(0.0, rank_s - _CONVERT_PER_ENTRY * k1 * k2) / (k1 * k2 * min(k1, k2)) or self.rank_c


def _eval_units(spec: RACSpec, part: Partition, k1: int, k2: int, full_table: bool) -> float:
    """Work of evaluating a k1 x k2 matrix: pairs x steps after the first B step x L x (R^2 + R)."""
    per = spec.L * (spec.R * spec.R + spec.R)
    if full_table:
        return float(k1 * k2) * per * 1.5  # the trie continues every prefix once per step (geometric sum)
    steps = part.T - min(part.B) + 1
    return float(k1) * k2 * steps * per


# --------------------------------------------------------------------------------------------------------------
# The driver


def certified_rank(
    spec: RACSpec,
    T: int,
    partition: str | Iterable[int] | Partition = "start-end",
    domain: str = "onehot",
    *,
    seeds: int | Sequence[int] = (0, 1),
    primes: int | Sequence[int] | None = None,
    upper: Any = None,
    budget_bytes: int | None = None,
    seconds: float | None = DEFAULT_CERTIFY_SECONDS,
    progress: bool = False,
    output: int = 0,
    stop_at_upper: bool = True,
    work: float | None | str = "auto",
) -> Certificate:
    """A certified lower bound on the separation rank of a generic RAC (exact over GF(p), python-flint).

    Parameters
    ----------
    spec : RACSpec
    T : int
    partition : str, iterable of int or Partition, default "start-end"
    domain : {"onehot", "continuous"}
    seeds, primes : int or sequences of int
        One run per (prime, seed) as the budgets allow; the certified rank is the maximum. Default primes:
        ``DEFAULT_PRIME`` (one-hot), ``LARGE_PRIME`` (continuous; [`tnrnn.rac.problem.make_problem`][tnrnn.rac.problem.make_problem]).
    upper : int or ExactCount, optional
        A known upper bound. It caps the matrices (``upper + margin``) and ends the search once met. A certified
        rank above it raises [`CertificateError`][tnrnn.bounds.certificate.CertificateError] (it would mean a wrong bound or a bug).
    budget_bytes : int, optional
        Memory budget (default [`tnrnn.base.budget.budget_bytes`][tnrnn.base.budget.budget_bytes]).
    seconds : float or None, default None
        Wall-clock box; None for none.
    progress : bool, default False
    output : int, default 0
    stop_at_upper : bool, default True
        Skip the remaining runs once one run meets ``upper``.
    work : float, None or "auto", default "auto"
        Work budget in work units (deterministic); "auto": ``DEFAULT_CERTIFY_WORK`` without a time box, none with
        one; None: grow until saturated, met, the whole table, or the memory budget.

    Returns
    -------
    Certificate

    Raises
    ------
    TnrnnError
        Bad arguments. ``CertificateError`` for a certified value above ``upper``. ``ResourceError`` when not
        even the smallest matrix fits the memory budget.

    Examples
    --------
    >>> certified_rank(RACSpec(depth=2, width=2, features=2), 4).rank
    4
    >>> certified_rank(RACSpec(depth=2, width=2, features=2), 4, domain="continuous").rank
    6
    """
    problem = make_problem(spec, T, partition, domain, seeds=seeds, primes=primes, budget_bytes=budget_bytes,
                           certify_seconds=seconds, output=output, certify_work=work)
    return certify(problem, upper, progress=progress, stop_at_upper=stop_at_upper)


def certify(problem: RankProblem, upper: Any = None, *, progress: bool = False, stop_at_upper: bool = True) -> Certificate:
    """The certified lower bound of a validated problem, within ``problem.certify_seconds``.

    Parameters
    ----------
    problem : RankProblem
    upper : int or ExactCount, optional
        Best known upper bound (caps the matrices, ends the search when met, checked against the result).
    progress : bool, default False
    stop_at_upper : bool, default True

    Returns
    -------
    Certificate

    Raises
    ------
    CertificateError
        The certified rank exceeds ``upper``.
    ResourceError
        The smallest matrix does not fit the memory budget.

    Examples
    --------
    >>> cert = certify(make_problem(RACSpec(3, 2, 3), 6, certify_seconds=None))
    >>> cert.rank, cert.runs[0].stop
    (18, 'full table')
    """
    u = _as_small_int(upper)
    clock = _Clock(problem.certify_seconds, problem.certify_work)
    runs: list[CertRun] = []
    notes: list[str] = []
    next_size: dict | None = None
    combos = [(q, s) for q in problem.primes for s in problem.seeds]
    bar = gfp.progress_bar(progress, total=len(combos), desc=f"certified rank ({problem.domain})")
    try:
        for i, (q, s) in enumerate(combos):
            best = max((r.rank for r in runs), default=0)
            if runs and clock.exhausted():
                notes.append(f"{'work' if clock.work_left <= 0 else 'time'} budget used after {i} of {len(combos)} runs")
                break
            clock.use_prime(problem.spec, q)
            run, nxt = _run(problem, q, s, u, best, clock, progress)
            if run is None:
                if runs:
                    need = "more memory" if nxt["work"] is None else f"about {nxt['work']} work units"
                    notes.append(f"stopped after {i} of {len(combos)} runs: repeating the best size needs {need}")
                else:
                    next_size = nxt
                    notes.append("no matrix fitted the budget")
                break
            runs.append(run)
            if nxt is not None and (next_size is None or run.rank >= best):
                next_size = nxt
            bar.update(1)
            if i + 1 == len(combos):
                break
            if stop_at_upper and u is not None and run.rank >= u:
                notes.append(f"stopped after {i + 1} of {len(combos)} runs: the rank met the upper bound {u}")
                break
            if run.stop.startswith(("time budget", "memory budget", "work budget")):
                # the next run would start where this one stopped and hit the same limit
                notes.append(f"stopped after {i + 1} of {len(combos)} runs: {run.stop.split(' (')[0]} reached")
                break
            eps = _epsilon_so_far(problem, runs, u)
            if eps is not None and eps <= EPS_TARGET and {r.prime for r in runs} == set(problem.primes):
                # another seed at the same size cannot raise a generic rank; it would only shrink epsilon further
                # (every prime asked for has run once: distinct primes are the statement's guard)
                notes.append(f"stopped after {i + 1} of {len(combos)} runs: the probabilistic statement's epsilon "
                             f"{eps:.3g} is below {EPS_TARGET:g}")
                break
    finally:
        bar.close()
    rank = max((r.rank for r in runs), default=0)
    if u is not None and rank > u:
        raise CertificateError(
            f"certified rank {rank} exceeds the supplied upper bound {u} ({problem.label()}): one of them is wrong; "
            "this is a bug, please report it with this message"
        )
    if any(r.saturated for r in runs) or (u is not None and rank >= u):
        next_size = None  # nothing bigger can raise it
    return Certificate(rank=rank, runs=runs, domain=problem.domain, method=_METHODS[problem.domain],
                       output=problem.output, notes=notes, budget_seconds=problem.certify_seconds, next_size=next_size,
                       budget_work=problem.certify_work)


def _epsilon_so_far(problem: RankProblem, runs: list[CertRun], u: int | None) -> float | None:
    """Epsilon of the statement the runs so far support (None: none, or no gap to speak about)."""
    rank = max(r.rank for r in runs)
    if u is not None and rank >= u:
        return None
    probe = Certificate(rank=rank, runs=runs, domain=problem.domain, method="")
    st = generic_rank_statement(problem, probe)
    return None if st is None else st.epsilon


_METHODS = {
    "onehot": "one-hot table or random sub-matrices of it (upper + margin first), exact mod p, flint nmod_mat.rank",
    "continuous": "samples uniform over GF(p)^M, N x N matrices [y(a_i, b_j)] grown while they can raise the "
    "bound, exact mod p, flint nmod_mat.rank",
}


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
    """Extra one-hot rows/columns beyond a target rank (one-hot rows are a fixed set, not generic points)."""
    return max(8, u // 8)


def _margin_samples(u: int) -> int:
    """Extra continuous sample points beyond a target rank (generic points reach ``min(N, sep)``)."""
    return 8 + u // 100


def _caps(problem: RankProblem, u: int | None) -> tuple[int, int]:
    """Largest useful matrix: the whole table (one-hot; a random sub-matrix that misses the upper bound may still
    be completed by the table), ``upper + margin`` samples (continuous: generic samples reach ``min(N, sep)``).
    """
    if problem.domain == "onehot":
        return gfp.table_entries(problem.spec, problem.partition)
    cap = _HUGE if u is None else u + _margin_samples(u)
    return cap, cap


def _run(problem: RankProblem, p: int, seed: int, u: int | None, best: int, clock: _Clock, progress: bool):
    """One (prime, seed) run: grow while it can raise the bound. Returns (CertRun or None, next size or None)."""
    spec, part = problem.spec, problem.partition
    onehot = problem.domain == "onehot"
    cap1, cap2 = _caps(problem, u)
    n_rows, n_cols = gfp.table_entries(spec, part) if onehot else (_HUGE, _HUGE)
    k1, k2 = _first_size(problem, u, best, cap1, cap2)
    small = min(k1, 8), min(k2, 8)
    gfp.check_budget(small[0] * small[1], problem.budget_bytes, f"the smallest certified matrix ({small[0]} x "
                     f"{small[1]}) of {problem.label()}", "raise --budget-mb or use a smaller width",
                     gfp.work_bytes(spec, part.T, *small, features=not onehot))
    params = init_params_field(spec, seed, p)
    run: CertRun | None = None
    stage = 0
    t_run = time.perf_counter()
    while True:
        full = onehot and k1 == n_rows and k2 == n_cols
        units = _eval_units(spec, part, k1, k2, full)
        fits = gfp.fits(spec, part.T, k1, k2, problem.budget_bytes, features=not onehot)
        limit = clock.limit(units, k1, k2) if fits else "memory budget"
        if not limit and run is not None and _needs_kernel(spec, p, units):
            # numpy on Python integers would take hours here: stop, and say what would let it go on
            run.stop = (f"no compiled kernel for a prime this large (pip install 'tnrnn[fast]' for numba, or "
                        f"--primes 1048573; next: {k1} x {k2})")
            return _finish(run, t_run), _size(clock, units, k1, k2, fits)
        if limit and run is None and best:
            # a repeat run only helps at the size that reached the best rank so far; smaller cannot raise it
            return None, _size(clock, units, k1, k2, fits)
        if limit and run is None and max(k1, k2) > 8:
            k1, k2 = max(min(k1, 8), k1 // 4), max(min(k2, 8), k2 // 4)  # a smaller first matrix before giving up
            continue
        if limit and limit != "memory budget":
            if run is not None:
                run.stop = f"{limit} (next: {k1} x {k2}, about {clock.work(units, k1, k2):.3g} work units)"
            return _finish(run, t_run), _size(clock, units, k1, k2, fits)
        t0 = time.perf_counter()
        matrix = _matrix(problem, params, p, seed, stage, k1, k2, full, progress)
        t1 = time.perf_counter()
        r = gfp.rank_modp(matrix, p)
        t2 = time.perf_counter()
        clock.spend(units, k1, k2)
        clock.learn(units, t1 - t0, k1, k2, t2 - t1)
        if run is None or r > run.rank:
            method = "full one-hot table" if full else ("random one-hot sub-matrix" if onehot else "continuous sample matrix")
            stages = run.stages if run else []
            run = CertRun(seed, p, int(r), int(matrix.shape[0]), int(matrix.shape[1]), method, stages=stages)
        run.stages.append([int(matrix.shape[0]), int(matrix.shape[1]), int(r), round(t2 - t0, 4)])
        stop = _stop_reason(r, k1, k2, u, full, cap1, cap2, onehot)
        if stop:
            run.stop = stop
            return _finish(run, t_run), None
        nxt, why = _next_size(problem, clock, k1, k2, min(cap1, n_rows), min(cap2, n_cols), n_rows, n_cols)
        if why:
            run.stop = why
            return _finish(run, t_run), nxt
        k1, k2 = int(nxt["rows"]), int(nxt["cols"])
        stage += 1


def _needs_kernel(spec: RACSpec, p: int, units: float) -> bool:
    """A stage whose evaluation at prime ``p`` would fall to Python integers for long (numba missing)."""
    return not gfp_kernel.available() and not gfp.gfp_wide.int64_safe(p, spec.R) and units > _NO_KERNEL_UNITS


def _size(clock: _Clock, units: float, k1: int, k2: int, fits: bool) -> dict:
    """The matrix that did not fit, with its work units and estimated seconds (None when memory refused it)."""
    return {"rows": k1, "cols": k2, "work": round(clock.work(units, k1, k2), 3) if fits else None,
            "seconds": round(clock.estimate(units, k1, k2), 3) if fits else None}


def _finish(run: CertRun | None, t0: float) -> CertRun | None:
    if run is not None:
        run.seconds = round(time.perf_counter() - t0, 4)
    return run


def _first_size(problem: RankProblem, u: int | None, best: int, cap1: int, cap2: int) -> tuple[int, int]:
    """First matrix: small, or just above what an earlier run reached (no need to climb again)."""
    if problem.domain == "onehot":
        k = best + _margin(best) if best else (64 if u is None else u + _margin(u))
        return min(cap1, k), min(cap2, k)
    n = min(cap1, _START_SAMPLES)
    if best:
        n = min(cap1, max(n, best + _margin_samples(best)))
    return n, n


def _stop_reason(r: int, k1: int, k2: int, u: int | None, full: bool, cap1: int, cap2: int, onehot: bool) -> str:
    if u is not None and r >= u:
        return "met upper bound"
    if full:
        return "full table"
    if not onehot and r < min(k1, k2):
        return "saturated"
    if k1 >= cap1 and k2 >= cap2:
        return "largest useful matrix"
    return ""


#: Largest matrix side the size search considers (larger ones can never fit in memory).
_MAX_SIDE = 2**40


def _next_size(problem: RankProblem, clock: _Clock, k1: int, k2: int, cap1: int, cap2: int, n_rows: int,
               n_cols: int) -> tuple[dict[str, Any], str]:
    """The next matrix: the cap when it fits time and memory (elimination is cubic, so climbing in small steps costs
    more than one jump), else the largest that fits, at least 1.25x the current one; otherwise the reason to stop.
    """
    spec, part = problem.spec, problem.partition
    onehot = problem.domain == "onehot"
    # a table side can be M^(T/2), far beyond float range; no matrix side past 2^40 could ever fit in memory
    cap1, cap2 = min(cap1, _MAX_SIDE), min(cap2, _MAX_SIDE)

    def units(a: int, b: int) -> float:
        return _eval_units(spec, part, a, b, onehot and a == n_rows and b == n_cols)

    def need(a: int, b: int) -> dict:
        return {"work": round(clock.work(units(a, b), a, b), 3), "seconds": round(clock.estimate(units(a, b), a, b), 3)}

    def ok(a: int, b: int) -> bool:
        return gfp.fits(spec, part.T, a, b, problem.budget_bytes, features=not onehot) and not clock.limit(units(a, b), a, b)

    def at(scale: float) -> tuple[int, int]:
        return min(cap1, max(k1, int(k1 * scale))), min(cap2, max(k2, int(k2 * scale)))

    if ok(cap1, cap2) and (clock.calibrated or max(cap1 / k1, cap2 / k2) <= _UNCALIBRATED_STEP):
        return {"rows": cap1, "cols": cap2, **need(cap1, cap2)}, ""
    lo, hi = 1.0, max(cap1 / k1, cap2 / k2)
    if not clock.calibrated:
        hi = min(hi, _UNCALIBRATED_STEP)  # the cost model is a guess until a stage has been timed
    for _ in range(60):  # largest affordable scale, by bisection on a log scale
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if ok(*at(mid)) else (lo, mid)
    a, b = at(lo)
    if a >= 1.25 * k1 or b >= 1.25 * k2:
        return {"rows": a, "cols": b, **need(a, b)}, ""
    want = at(2.0)
    memory = not gfp.fits(spec, part.T, *want, problem.budget_bytes, features=not onehot)
    wanted = {"rows": want[0], "cols": want[1], **({"work": None, "seconds": None} if memory else need(*want))}
    if memory:
        return wanted, f"memory budget (next: {want[0]} x {want[1]})"
    limit = clock.limit(units(*want), *want) or "time budget"
    return wanted, f"{limit} (next: {want[0]} x {want[1]}, about {wanted['work']:.3g} work units)"


def _matrix(problem: RankProblem, params, p: int, seed: int, stage: int, k1: int, k2: int, full: bool, progress: bool):
    spec, part = problem.spec, problem.partition
    rng = np.random.default_rng([seed, p, stage])
    kw: dict[str, Any] = {"output": problem.output, "budget_bytes": problem.budget_bytes, "progress": progress}
    if problem.domain == "continuous":
        return gfp.sample_matrix_modp(spec, part.T, params, part, p, k1, rng, **kw)
    if full:
        return gfp.onehot_matrix_modp(spec, part.T, params, part, p, **kw)
    rows = gfp.sample_sequences(rng, spec.M, len(part.A), k1)
    cols = gfp.sample_sequences(rng, spec.M, len(part.B), k2)
    return gfp.onehot_matrix_modp(spec, part.T, params, part, p, rows=rows, cols=cols, **kw)


def with_statement(cert: Certificate, problem: RankProblem, upper: Any) -> Certificate:
    """Attach the probabilistic statement to ``cert`` when the certified rank is below ``upper``.

    Parameters
    ----------
    cert : Certificate
    problem : RankProblem
    upper : int or ExactCount or None

    Returns
    -------
    Certificate
        The same object, with ``statement`` set where it applies.
    """
    if cert.rank and (upper is None or upper > cert.rank):
        cert.statement = generic_rank_statement(problem, cert)
    return cert

