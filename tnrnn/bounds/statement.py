"""The probabilistic statement beside a certified lower bound, and exactly what it is conditioned on.

Certified values never depend on luck; this statement does, and is labelled so everywhere (docs/theory.md,
'When a gap remains'). Argument (Schwartz-Zippel): let ``r`` be the certified rank and suppose the generic rank
exceeds it. Treat the weights (and, on the continuous domain, the sample points) as indeterminates. Then the leading
``(r + 1) x (r + 1)`` minor of a run's matrix (at least ``r + 1`` rows and columns; sample points are exchangeable, so
the leading minor is as good as any) is a nonzero polynomial of total degree at most ``(r + 1) D``, where ``D`` is
the total degree of one entry ``y`` ([`total_degree`][tnrnn.bounds.statement.total_degree]). Drawn uniformly from GF(p), it vanishes with probability
at most ``(r + 1) D / p``.

What epsilon is: a bound on the probability, *under the hypothesis that the generic rank exceeds r*, that every
counted run would still have found rank <= r. It is a p-value-style bound conditioned on that hypothesis, not the
probability that r is wrong (that would need a prior over ranks).

What is independent: weights come from ``default_rng([seed, prime])`` and sample points from
``default_rng([seed, prime, stage])`` ([`tnrnn.rac.modp.init_params_field`][tnrnn.rac.modp.init_params_field]), so every (seed, prime) run is
its own draw. Epsilon still multiplies one factor per *seed*, the smallest among that seed's runs (the largest
prime): runs of one seed at other primes are kept as the guard below, not counted again. Dropping factors (each at
most 1) only loosens the bound, so the product stays valid: ``eps = prod_seeds min_runs min(1, (r + 1) D / p)``.

Caveat, stated with the value: "nonzero" is over GF(p). The minor is a polynomial with integer coefficients that is
nonzero over Q; it could vanish identically mod p only if p divides all its coefficients. Runs at two or more
distinct primes guard against that (a prime dividing every coefficient would have to do so at each of them); with
one prime the statement says that this assumption is not checked. One-hot sub-matrices (rows chosen among a fixed
finite set) give no statement; the full one-hot table does (weights are the only indeterminates).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from tnrnn.rac.spec import RACSpec


@dataclass(frozen=True)
class GenericRankStatement:
    """A probabilistic (not certified) statement that the certified lower bound is the generic separation rank.

    Attributes
    ----------
    rank : int
        The certified lower bound the statement is about.
    epsilon : float
        If the generic rank were larger, the probability that every counted run would still have stopped at
        ``rank`` is at most this (one factor per independent seed; see the module docstring).
    degree : int
        Total degree ``D`` of one matrix entry in its indeterminates.
    primes : list of int
        Primes of the runs that count (matrices of at least ``rank + 1`` rows and columns).
    text : str
        The statement in words, labelled probabilistic.
    """

    rank: int
    epsilon: float
    degree: int
    primes: list
    text: str

    def to_json(self) -> dict:
        """JSON-ready dict; ``kind`` is always ``"probabilistic"``."""
        return {"kind": "probabilistic", **asdict(self)}

    @classmethod
    def from_json(cls, data: dict) -> GenericRankStatement:
        """Inverse of [`to_json`][tnrnn.bounds.statement.GenericRankStatement.to_json]."""
        return cls(int(data["rank"]), float(data["epsilon"]), int(data["degree"]), list(data["primes"]), str(data["text"]))


def total_degree(spec: RACSpec, T: int, domain: str) -> int:
    """Total degree of ``y`` in the weights, plus the input features on the continuous domain.

    ``deg h[t, 0] = 1`` (features; 0 for fixed one-hot inputs), ``deg h[t, l] = deg h[t, l-1] + 1 +
    (deg h[t-1, l] + 1 if t > 1)`` (one ``W_I`` and one ``W_H`` factor; ``W_H h[0] = 1``), ``deg y = deg h[T, L] + 1``.

    Examples
    --------
    >>> total_degree(RACSpec(1, 2, 2), 3, "continuous")   # W_O (W_I x3)(W_H x2) (x1 x2 x3)
    9
    >>> total_degree(RACSpec(1, 2, 2), 3, "onehot")
    6
    """
    base = 1 if domain == "continuous" else 0
    prev = [0] * (spec.L + 1)
    for t in range(1, T + 1):
        cur = [base]
        for l in range(1, spec.L + 1):
            cur.append(cur[l - 1] + 1 + (prev[l] + 1 if t > 1 else 0))
        prev = cur
    return prev[spec.L] + 1


def generic_rank_statement(problem: Any, cert: Any) -> GenericRankStatement | None:
    """The statement for a certificate, or None when no run can support one.

    Parameters
    ----------
    problem : RankProblem
    cert : Certificate

    Returns
    -------
    GenericRankStatement or None
        None when no run has a matrix of at least ``rank + 1`` rows and columns (on the one-hot domain: a full
        table), or the certified rank is 0. ``primes`` lists the primes of the runs that count; ``seeds`` (in the
        text) the independent draws the product runs over.

    Examples
    --------
    >>> from tnrnn.bounds.certify import certified_rank
    >>> from tnrnn.rac.problem import make_problem
    >>> from tnrnn.rac.spec import RACSpec
    >>> spec = RACSpec(3, 2, 2)
    >>> cert = certified_rank(spec, 8, domain="continuous", seeds=(0, 1), primes=(1000000007, 998244353), upper=110)
    >>> st = generic_rank_statement(make_problem(spec, 8, domain="continuous", seeds=2,
    ...                                          primes=(1000000007, 998244353)), cert)
    >>> st.rank, "2 independent seeds" in st.text
    (106, True)
    """
    r = cert.rank
    if r <= 0:
        return None
    D = total_degree(problem.spec, problem.T, problem.domain)
    per_seed: dict[int, float] = {}
    primes: list[int] = []
    for run in cert.runs:
        biggest = max((min(s[0], s[1]) for s in run.stages), default=0)
        if biggest <= r:
            continue
        if problem.domain == "onehot" and run.method != "full one-hot table":
            continue
        factor = min(1.0, (r + 1) * D / run.prime)
        per_seed[run.seed] = min(per_seed.get(run.seed, 1.0), factor)
        primes.append(run.prime)
    if not per_seed:
        return None
    eps = math.prod(per_seed.values())
    distinct = sorted(set(primes))
    if eps >= 1:
        return GenericRankStatement(
            r, 1.0, D, primes,
            f"no probabilistic statement: with primes {distinct} the Schwartz-Zippel bound (r+1) x {D} / p "
            "is not below 1; rerun with larger primes (--primes; the continuous domain's default is near 2^62)")
    n = len(per_seed)
    guard = ("checked at the distinct primes above" if len(distinct) > 1
             else "not checked: one prime (add another with --primes to check it)")
    text = (
        f"probabilistic, not certified: if the generic separation rank exceeded {r}, runs like these would all have "
        f"stopped at or below {r} with probability at most {eps:.3g} (Schwartz-Zippel on an (r+1)-minor of total "
        f"degree <= (r+1) x {D}; over {n} independent seed{'s' if n > 1 else ''}, one factor each, primes {distinct}; "
        f"a bound conditioned on that hypothesis, not the probability that {r} is wrong; it assumes the minor is "
        f"nonzero mod each prime, {guard})"
    )
    return GenericRankStatement(r, eps, D, primes, text)
