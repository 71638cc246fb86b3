"""Algebraic upper bounds on the separation rank (docs/theory.md, 'Upper bounds'): state, per-site input, trivial.

All three hold for every weight value, so they bound the generic separation rank from above, and all are exact
counts ([`ExactCount`][tnrnn.base.counts.ExactCount]) built from factorised binomials, never expanded. Together with the
min-cut ([`tnrnn.bounds.mincut`][tnrnn.bounds.mincut]) they make [`upper_bounds`][tnrnn.bounds.algebraic.upper_bounds]; the best upper bound is their minimum
([`best_bound`][tnrnn.bounds.algebraic.best_bound] says which bound attains it).

Domains: ``"onehot"`` (inputs are M symbols; the function is the grid tensor) and ``"continuous"`` (arbitrary
feature vectors). A bound for the continuous domain is also one for the one-hot domain (a restriction of the
function), never the other way round.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tnrnn.base.counts import ExactCount, prod_counts
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.bounds.closed_form import closed_form_mincut
from tnrnn.rac.partition import Partition, make_partition
from tnrnn.rac.problem import DOMAINS
from tnrnn.rac.spec import RACSpec

# DOMAINS lives with the problem object (one definition); re-exported here for the bound functions.
BOUND_NAMES = ("mincut", "state", "input", "trivial")

# Binomials with more factors than this are expanded with math.comb instead of factorised term by term.
_MAX_FACTOR_TERMS = 10_000
# Terms at or above this are never factorised (factoring large integers can take arbitrarily long): such binomials
# are expanded with math.comb, and ExactCount keeps the big value as an opaque base.
_FACTOR_LIMIT = 2**64
# Binomials of more bits than this (1 MB) are refused rather than expanded.
_MAX_BINOMIAL_BITS = 2**23


def _check(spec: RACSpec, T: int, partition, domain: str | None = None) -> Partition:
    if not isinstance(spec, RACSpec):
        raise TnrnnError(f"spec must be a RACSpec, got {type(spec).__name__}")
    T = check_positive_int("T", T)
    if domain is not None and domain not in DOMAINS:
        raise TnrnnError(f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}")
    return make_partition(T, partition)


def multiset_count(n: int, k: int) -> ExactCount:
    """``((n, k)) = C(n + k - 1, k)``, the number of size-k multisets of n items, as a factorised count.

    Computed as ``prod_{i=1..m} (N - m + i) / m!`` with ``N = n + k - 1`` and ``m = min(n - 1, k)``, each term
    factorised exactly, so huge k (degrees like ``C(T/2 + L - 1, L - 1)``) cost only m factorisations. Terms of
    2^64 or more are not factorised (that can take arbitrarily long): the binomial is then expanded exactly.

    Raises
    ------
    ResourceError
        The binomial has more than 2^23 bits and cannot be factorised term by term.

    Examples
    --------
    >>> multiset_count(3, 2).exact(), multiset_count(2, 10**9).exact(), multiset_count(1, 5).exact()
    (6, 1000000001, 1)
    """
    n = check_positive_int("n", n)
    k = check_positive_int("k", k, minimum=0)
    N = n + k - 1
    m = min(n - 1, k)
    if m == 0:
        return ExactCount(1)
    if m > _MAX_FACTOR_TERMS or m * math.log10(N) <= 60 or N >= _FACTOR_LIMIT:
        # (N/m)^m <= C(N, m) <= (e N/m)^m: refuse only when even the lower end is too big
        bits = m * max(N.bit_length() - m.bit_length() - 1, 0)
        if bits > _MAX_BINOMIAL_BITS:
            raise ResourceError(
                f"(({n}, {k})) = C({N}, {m}) has about 2^{max(bits, 1).bit_length() - 1} bits, too many to expand "
                f"(limit 2^{_MAX_BINOMIAL_BITS.bit_length() - 1} bits); use a smaller width, depth or T"
            )
        if N < _FACTOR_LIMIT:  # flint's binomial is fast where math.comb is quadratic in m
            import flint

            return ExactCount(int(flint.fmpz.bin_uiui(N, m)))
        return ExactCount(math.comb(N, m))  # few digits (shown as a decimal), or terms too big to factorise
    factors: dict[int, int] = {}
    import flint

    for i in range(1, m + 1):
        for p, e in flint.fmpz(N - m + i).factor():
            factors[int(p)] = factors.get(int(p), 0) + int(e)
    for p, e in flint.fmpz(math.factorial(m)).factor():
        factors[int(p)] -= int(e)
    return ExactCount.product({p: e for p, e in factors.items() if e})


def _prefix_length(partition: Partition) -> int | None:
    """K when one side is the prefix 1..k (the other the suffix), else None."""
    for side in (partition.A, partition.B):
        if side == tuple(range(1, len(side) + 1)):
            return len(side)
    return None


def state_degrees(spec: RACSpec, T: int, k: int) -> list[int]:
    """Degrees ``d_l = C(T - k - 1 + L - l, L - l)`` of y in the states ``h[k, l]`` handed from steps 1..k to the rest.

    For the Start-End cut (k = T/2) this is ``d_l = C(T/2 - 1 + L - l, L - l)``; ``d_L = 1``.

    Examples
    --------
    >>> state_degrees(RACSpec(3, 2, 2), 8, 4)
    [10, 4, 1]
    """
    L = spec.L
    return [math.comb(T - k - 1 + L - l, L - l) for l in range(1, L + 1)]


def state_bound(spec: RACSpec, T: int, partition: Partition | str = "start-end") -> ExactCount | None:
    """State (symmetric-power) bound ``prod_l ((R, d_l))`` for a cut between a prefix and a suffix of the steps.

    y is a polynomial in the states ``h[k, l]`` that steps 1..k hand to the rest, homogeneous of degree ``d_l``
    ([`state_degrees`][tnrnn.bounds.algebraic.state_degrees]) in ``h[k, l] in R^R``, so the separation rank is at most the dimension of the space of
    such polynomials. Valid for every weight value and both domains. L = 1 gives R.

    Returns
    -------
    ExactCount or None
        None when neither side is a prefix ``1..k`` of the steps (odd-even, most custom partitions): then the
        states at one time do not separate the two sides, and the bound does not apply.

    Examples
    --------
    >>> str(state_bound(RACSpec(2, 2, 2), 8))   # R * ((R, T/2)) = 2 * 5
    '10'
    >>> state_bound(RACSpec(2, 2, 2), 8, "odd-even") is None
    True
    """
    partition = _check(spec, T, partition)
    k = _prefix_length(partition)
    if k is None:
        return None
    return prod_counts(multiset_count(spec.R, d) for d in state_degrees(spec, T, k))


def input_bound(spec: RACSpec, T: int, partition: Partition | str = "start-end", domain: str = "onehot") -> ExactCount | None:
    """Per-site input bound: the smaller over the two sides of ``prod_j min(Z_j, ((q, n_j)))``.

    ``x_j`` enters only through ``W_I[1] f(x_j)`` (rank at most ``q = min(M, R)``) with degree
    ``n_j = C(T - j + L - 1, L - 1)``, so the functions of one side span at most ``prod_j ((q, n_j))`` dimensions,
    and on the one-hot domain at most ``Z_j = M`` per step (M symbols). Valid for every weight value.

    Returns
    -------
    ExactCount or None
        Always a count for RACs (None is reserved for "unbounded" and never returned here).

    Examples
    --------
    >>> str(input_bound(RACSpec(1, 3, 2), 6, "odd-even", "onehot"))   # min(M, R)^3
    '2^3 = 8'
    >>> input_bound(RACSpec(2, 2, 2), 4, "start-end", "continuous").exact()   # min(((2,4)) ((2,3)), ((2,2)) ((2,1)))
    6
    """
    partition = _check(spec, T, partition, domain)
    q = min(spec.M, spec.R)
    n = spec.input_copies(T)
    sides = []
    for steps in (partition.A, partition.B):
        degrees: dict[int, int] = {}  # degree n_j -> how many steps of this side have it (L = 1: all degree 1)
        for j in steps:
            degrees[n[j - 1]] = degrees.get(n[j - 1], 0) + 1
        capped = 0
        factors = []
        for degree, count in degrees.items():
            if domain == "onehot" and _multiset_at_least(q, degree, spec.M):
                capped += count
            else:
                factors.append(multiset_count(q, degree) ** count)
        sides.append(prod_counts(factors + [ExactCount.power(spec.M, capped)]))
    return min(sides)


def _multiset_at_least(n: int, k: int, bound: int) -> bool:
    """``((n, k)) >= bound`` without forming a huge binomial."""
    if n == 1:
        return bound <= 1
    if k >= bound:  # ((n, k)) >= k + 1 for n >= 2
        return True
    return math.comb(n + k - 1, k) >= bound


def trivial_bound(spec: RACSpec, T: int, partition: Partition | str = "start-end", domain: str = "onehot") -> ExactCount | None:
    """Trivial bound: ``M^min(|A|, |B|)`` on the one-hot domain (the matricisation's smaller side); None on the
    continuous domain, where a deep RAC's separation rank can exceed every power of M of that size.

    Examples
    --------
    >>> str(trivial_bound(RACSpec(2, 2, 3), 6, "1,2", "onehot"))
    '3^2 = 9'
    >>> trivial_bound(RACSpec(2, 2, 3), 6, "start-end", "continuous") is None
    True
    """
    partition = _check(spec, T, partition, domain)
    if domain == "continuous":
        return None
    return ExactCount.power(spec.M, min(len(partition.A), len(partition.B)))


def upper_bounds(
    spec: RACSpec,
    T: int,
    partition: Partition | str = "start-end",
    domain: str = "onehot",
    *,
    mincut: bool = True,
    cut: Any = None,
) -> tuple[dict[str, ExactCount | None], dict[str, str]]:
    """Every upper bound by name (``"mincut"``, ``"state"``, ``"input"``, ``"trivial"``), and a note per bound.

    The min-cut uses the network of the domain: the grid form (ties) on the one-hot domain, the continuous form
    otherwise, both through the structured solver ([`tnrnn.bounds.mincut.rac_mincut`][tnrnn.bounds.mincut.rac_mincut]). If the grid-form
    solver gives up (a ``ResourceError``), the continuous-form min-cut is used instead: it bounds the one-hot
    function too (a restriction of the continuous one), and the note says so. ``None`` means "does not apply".
    A min-cut the caller already has for this network (``cut``, a [`CutResult`][tnrnn.bounds.mincut.CutResult] of the
    domain's form: grid on the one-hot domain, continuous otherwise) is used instead of computing it again.

    Examples
    --------
    >>> bounds, notes = upper_bounds(RACSpec(2, 2, 2), 8, "start-end", "onehot")
    >>> {k: str(v) for k, v in bounds.items()}
    {'mincut': '2^4 = 16', 'state': '10', 'input': '2^4 = 16', 'trivial': '2^4 = 16'}
    """
    from tnrnn.bounds.mincut import rac_mincut

    partition = _check(spec, T, partition, domain)
    bounds: dict[str, ExactCount | None] = {}
    notes: dict[str, str] = {}
    closed = closed_form_mincut(spec, partition) if mincut and domain == "continuous" and cut is None else None
    if cut is not None:
        form = "grid" if domain == "onehot" else "continuous"
        if getattr(cut, "form", None) != form:
            raise TnrnnError(f"the given min-cut is of the {getattr(cut, 'form', None)} form; the {domain} domain "
                             f"needs the {form}-form network's")
        bounds["mincut"] = cut.value
        notes["mincut"] = f"{form}-form network, {cut.method} (computed by the caller): {cut.certificate}"
    elif closed is not None:
        bounds["mincut"] = closed
        notes["mincut"] = (
            "continuous-form network, closed form R^S(T/2, L) with S = sum_j C(T/2 + L - 2j, L - j) (Start-End, "
            "M >= R; docs/theory.md, 'Closed form')"
        )
    elif mincut:
        form = "grid" if domain == "onehot" else "continuous"
        try:
            cut = rac_mincut(spec, T, partition, form=form)
            notes["mincut"] = f"{form}-form network, {cut.method}: {cut.certificate}"
        except ResourceError as err:
            cut = rac_mincut(spec, T, partition, form="continuous")
            notes["mincut"] = f"continuous-form network (valid on the one-hot domain too; grid form refused: {err})"
        bounds["mincut"] = cut.value
    else:
        bounds["mincut"] = None
        notes["mincut"] = "not computed"
    bounds["state"] = state_bound(spec, T, partition)
    notes["state"] = (
        "prefix/suffix cut: prod_l ((R, d_l))" if bounds["state"] is not None else "applies only to prefix/suffix cuts"
    )
    bounds["input"] = input_bound(spec, T, partition, domain)
    notes["input"] = f"per-site input bound, q = min(M, R) = {min(spec.M, spec.R)}"
    bounds["trivial"] = trivial_bound(spec, T, partition, domain)
    notes["trivial"] = "M^min(|A|,|B|)" if domain == "onehot" else "none on the continuous domain"
    return bounds, notes


def best_bound(bounds: Mapping[str, ExactCount | int | None]) -> tuple[ExactCount, list[str]]:
    """The smallest bound and the names of every bound attaining it (``None`` entries skipped).

    Raises
    ------
    TnrnnError
        No bound applies.

    Examples
    --------
    >>> best_bound({"mincut": ExactCount.power(2, 4), "state": 10, "input": 16, "trivial": None})
    (ExactCount(10), ['state'])
    """
    present = {k: ExactCount(v) for k, v in bounds.items() if v is not None}
    if not present:
        raise TnrnnError("no upper bound applies")
    best = min(present.values())
    return best, [k for k, v in present.items() if v == best]
