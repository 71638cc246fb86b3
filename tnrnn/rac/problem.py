"""``RankProblem``: one separation-rank question, validated once at the edge and trusted below.

A problem is the RAC's shape, the sequence length, the partition, the domain and the resources the answer may use
(memory budget, certification time, seeds and primes). [`make_problem`][tnrnn.rac.problem.make_problem] checks every size before anything
proportional to T is built (the partition's tuples come last), so ``T = 10^8`` is refused in microseconds; the
functions that take a problem ([`tnrnn.rank.solve`][tnrnn.rank.solve], [`tnrnn.bounds.certify.certify`][tnrnn.bounds.certify.certify]) do not check again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tnrnn.base.budget import budget_bytes as resolve_budget
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.rac.params import DEFAULT_PRIME, check_prime
from tnrnn.rac.partition import Partition, check_steps, make_partition
from tnrnn.rac.spec import RACSpec

DOMAINS = ("onehot", "continuous")
#: Default wall-clock box of the certified lower bound: none, the work budget decides (same answer on any machine).
DEFAULT_CERTIFY_SECONDS: float | None = None
#: Default work budget of the certified lower bound, in work units: seconds of the fixed cost model in
#: ``tnrnn.bounds.certify`` (about seconds on two quiet cores of a 2024 x86 machine). Deterministic: the
#: matrices it allows depend on the problem only, never on load.
DEFAULT_CERTIFY_WORK = 30.0
#: Default prime of continuous-domain runs: the largest prime below 2^62, so that one run's probabilistic statement
#: is strong (epsilon = (r + 1) D / p, ``tnrnn.bounds.statement``).
LARGE_PRIME = 4_611_686_018_427_387_847
#: Most seeds (and most primes) one problem takes: every (prime, seed) pair may be a full run.
MAX_SEEDS = 1000
#: The most (time, layer) cells a problem may have: the structured min-cut and the certificate walk this grid.
MAX_CELLS = 1_000_000


@dataclass(frozen=True)
class RankProblem:
    """A validated separation-rank problem (build it with [`make_problem`][tnrnn.rac.problem.make_problem]).

    Attributes
    ----------
    spec : RACSpec
    T : int
    partition : Partition
    domain : str
        ``"onehot"`` or ``"continuous"``.
    budget_bytes : int
        Memory budget of every computation on this problem ([`tnrnn.base.budget`][tnrnn.base.budget]).
    certify_seconds : float or None
        Wall-clock box of the certified lower bound; 0 means upper bounds only, None no time limit.
    certify_work : float or None
        Work budget of the certified lower bound (work units of the fixed cost model, deterministic); 0 means
        upper bounds only, None no work limit.
    seeds, primes : tuple of int
        One certified run per (prime, seed), as the time budget allows.
    output : int
        The output component the rank is about.
    """

    spec: RACSpec
    T: int
    partition: Partition
    domain: str
    budget_bytes: int
    certify_seconds: float | None
    seeds: tuple[int, ...]
    primes: tuple[int, ...]
    output: int = 0
    certify_work: float | None = None

    def label(self) -> str:
        """One line naming the problem, e.g. ``L=2 R=2 M=2 T=4, start-end (A = 1,2 | B = 3,4), onehot``."""
        s = self.spec
        return f"L={s.L} R={s.R} M={s.M} T={self.T}, {self.partition.label()}, {self.domain}"

    def to_json(self) -> dict:
        """JSON-ready dict of everything that determines the answer."""
        return {"spec": self.spec.to_json(), "T": self.T, "partition": self.partition.to_json(), "domain": self.domain,
                "budget_bytes": self.budget_bytes, "certify_seconds": self.certify_seconds,
                "seeds": list(self.seeds), "primes": list(self.primes), "output": self.output,
                "certify_work": self.certify_work}

    @property
    def bounds_only(self) -> bool:
        """No certified lower bound is asked for (a zero time or work budget)."""
        return self.certify_seconds == 0 or self.certify_work == 0


def make_problem(
    spec: RACSpec,
    T: int,
    partition: str | Iterable[int] | Partition = "start-end",
    domain: str = "onehot",
    *,
    seeds: int | Sequence[int] = 2,
    primes: int | Sequence[int] | None = None,
    budget_bytes: int | None = None,
    budget_mb: float | None = None,
    certify_seconds: float | None = DEFAULT_CERTIFY_SECONDS,
    output: int = 0,
    certify_work: float | None | str = "auto",
) -> RankProblem:
    """Validate a separation-rank question once; sizes first, then the partition.

    Parameters
    ----------
    spec : RACSpec
    T : int
        Sequence length, at most `MAX_STEPS` and ``T * L <= MAX_CELLS``.
    partition : str, iterable of int or Partition, default "start-end"
    domain : {"onehot", "continuous"}
    seeds : int or sequence of int, default 2
        A count (seeds 0..n-1) or explicit seeds.
    primes : int or sequence of int, optional
        Primes of the certified runs. Default: ``DEFAULT_PRIME`` (2^20) on the one-hot domain, `LARGE_PRIME`
        (2^62) on the continuous domain, whose evaluations handle any prime below 2^62.
    budget_bytes, budget_mb : optional
        Memory budget in bytes or MiB (default ``$TNRNN_MAX_BYTES`` or 4 GiB).
    certify_seconds : float or None, default None
        Wall-clock box for the certified lower bound; 0 for upper bounds only; None for no box.
    output : int, default 0
    certify_work : float, None or "auto", default "auto"
        Work budget (work units, deterministic); 0 for upper bounds only; None for no limit. ``"auto"``:
        `DEFAULT_CERTIFY_WORK` when no time box is given, none when one is (the box alone decides).

    Returns
    -------
    RankProblem

    Raises
    ------
    TnrnnError
        Any invalid value. ``ResourceError`` for sizes beyond the limits, before anything proportional to T exists.

    Examples
    --------
    >>> make_problem(RACSpec(2, 2, 2), 4).label()
    'L=2 R=2 M=2 T=4, start-end (A = 1,2 | B = 3,4), onehot'
    >>> make_problem(RACSpec(4, 8, 8), 10**8)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.ResourceError: T = 100000000 time steps is beyond the 1000000 this toolkit handles (every bound and certificate is at least linear in T); use a smaller T
    """
    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    T = check_steps(check_positive_int("T", T))
    if T * spec.L > MAX_CELLS:
        raise ResourceError(
            f"L={spec.L}, T={T} is a grid of {T * spec.L:,} (time, layer) cells (limit {MAX_CELLS:,}); use a smaller T "
            "or depth"
        )
    if domain not in DOMAINS:
        raise TnrnnError(f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}")
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)) or not 0 <= int(output) < spec.K:
        raise TnrnnError(f"output must be an integer in [0, {spec.K}), got {output!r}")
    seed_list = seed_list_of(seeds)
    prime_list = _primes(spec, domain, primes)
    if budget_bytes is not None and budget_mb is not None:
        raise TnrnnError("give the memory budget once: budget_bytes or budget_mb")
    budget = check_positive_int("budget_bytes", budget_bytes) if budget_bytes is not None else resolve_budget(budget_mb)
    seconds = _check_seconds(certify_seconds)
    if isinstance(certify_work, str) and certify_work == "auto":
        work = DEFAULT_CERTIFY_WORK if seconds is None else None
    else:
        work = _check_seconds(certify_work, "certify_work")
    part = make_partition(T, partition)
    return RankProblem(spec, T, part, domain, budget, seconds, tuple(seed_list), tuple(prime_list), int(output),
                       work)


def _primes(spec: RACSpec, domain: str, primes: Any) -> list[int]:
    """The run primes: any prime below 2^62 on the continuous domain (its evaluation picks exact arithmetic for the
    prime), primes whose dot products fit int64 on the one-hot domain (its table paths are int64).
    """
    if domain == "continuous":
        from tnrnn.bounds.gfp_wide import check_field_prime

        return [check_field_prime(q) for q in int_list_of("primes", LARGE_PRIME if primes is None else primes)]
    return [check_prime(q, terms=max(spec.R, spec.M)) for q in int_list_of("primes", DEFAULT_PRIME if primes is None else primes)]


def _check_seconds(value: Any, name: str = "certify_seconds") -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or not (seconds >= 0 and math.isfinite(seconds)):
        raise TnrnnError(f"{name} must be a finite number >= 0 (0 = bounds only), got {value!r}")
    return seconds


def int_list_of(name: str, values: Any) -> list[int]:
    """Seeds or primes as a non-empty list of ints: an integer becomes ``[n]``; at most `MAX_SEEDS` values.

    Examples
    --------
    >>> int_list_of("primes", 7), int_list_of("seeds", (0, 1))
    ([7], [0, 1])
    """
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        return [int(values)]
    if isinstance(values, (str, bytes)):
        raise TnrnnError(f"{name} must be an integer or a sequence of integers, got {values!r}")
    try:
        out = list(values)
    except TypeError:
        raise TnrnnError(f"{name} must be an integer or a sequence of integers, got {values!r}") from None
    if not out:
        raise TnrnnError(f"{name} must not be empty")
    if len(out) > MAX_SEEDS:
        raise TnrnnError(f"{name}: {len(out)} values would make as many certified runs (at most {MAX_SEEDS})")
    return [check_positive_int(name, v, minimum=0) for v in out]


def seed_list_of(seeds: Any) -> list[int]:
    """Seeds from a count (``n`` -> ``0..n-1``) or an explicit list.

    Examples
    --------
    >>> seed_list_of(3), seed_list_of([5, 7])
    ([0, 1, 2], [5, 7])
    """
    if isinstance(seeds, bool):
        raise TnrnnError(f"seeds must be a count or a list of seeds, got {seeds!r}")
    if hasattr(seeds, "__index__"):
        n = check_positive_int("seeds", seeds)
        if n > MAX_SEEDS:
            raise TnrnnError(
                f"seeds = {n} would run {n} certified computations per prime (at most {MAX_SEEDS}); a few seeds "
                "suffice: the maximum over runs rarely grows after the first"
            )
        return list(range(n))
    return int_list_of("seeds", seeds)
