"""Integers as products of powers ``{base: exponent}``: canonical form, coprime refinement, exact log signs.

The arithmetic under [`tnrnn.base.counts.ExactCount`][tnrnn.base.counts.ExactCount] and the min-cut's cost comparisons. Bases below
`FACTOR_LIMIT` are split into primes (python-flint factors them instantly); larger ones stay opaque and are
only ever made pairwise coprime by gcd refinement, which is exact without factoring. Pairwise coprime integers
above 1 are multiplicatively independent, so ``sum e_i log b_i`` over them is zero exactly when every exponent is,
and otherwise its sign is certified with ball arithmetic (python-flint ``arb``) at increasing precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction

from tnrnn.base.errors import ResourceError

# Bases below this are split into primes (python-flint factors them instantly); larger ones stay opaque and are
# only ever made pairwise coprime by gcd refinement, which is exact without factoring.
FACTOR_LIMIT = 2**64


def factor_base(b: int) -> dict[int, int]:
    """Prime factorisation of a base below ``FACTOR_LIMIT``; larger bases are returned as is (opaque).

    Examples
    --------
    >>> factor_base(360), factor_base(2**64 + 1)
    ({2: 3, 3: 2, 5: 1}, {18446744073709551617: 1})
    """
    if b < FACTOR_LIMIT:
        import flint

        return {int(p): int(e) for p, e in flint.fmpz(b).factor()}
    return {b: 1}


def refine_coprime(factors: Mapping[int, int]) -> dict[int, int]:
    """Rewrite ``prod b^e`` (signed exponents allowed) over pairwise coprime bases; zero exponents dropped.

    ``a^x * b^y = g^(x+y) * (a/g)^x * (b/g)^y`` with ``g = gcd(a, b)``; each step lowers the sum of the bases'
    logs, so the loop ends.

    Examples
    --------
    >>> refine_coprime({6: 1, 4: -1})
    {2: -1, 3: 1}
    """
    items = {b: e for b, e in factors.items() if e != 0 and b != 1}
    changed = True
    while changed:
        changed = False
        bases = sorted(items)
        for i, a in enumerate(bases):
            for b in bases[i + 1 :]:
                g = math.gcd(a, b)
                if g == 1:
                    continue
                x, y = items.pop(a), items.pop(b)
                for base, exp in ((g, x + y), (a // g, x), (b // g, y)):
                    if base != 1 and exp != 0:
                        items[base] = items.get(base, 0) + exp
                        if items[base] == 0:
                            del items[base]
                changed = True
                break
            if changed:
                break
    return items


def canonical_factors(factors: Mapping[int, int]) -> dict[int, int]:
    """The canonical form of ``prod b^e``: prime bases below `FACTOR_LIMIT`, coprime opaque ones above, sorted.

    Examples
    --------
    >>> canonical_factors({12: 2, 3: -1, 1: 5})
    {2: 4, 3: 1}
    """
    out: dict[int, int] = {}
    for b, e in factors.items():
        if e == 0 or b == 1:
            continue
        for p, k in factor_base(b).items():
            out[p] = out.get(p, 0) + k * e
    if any(b >= FACTOR_LIMIT for b in out):
        out = refine_coprime(out)
    return dict(sorted(out.items()))


def log2_of(factors: Mapping[int, int]) -> float:
    """``log2`` of ``prod b^e`` as a float (``ResourceError`` beyond floating-point range).

    Examples
    --------
    >>> log2_of({2: 10, 4: 3})
    16.0
    """
    try:
        return math.fsum(e * math.log2(b) for b, e in factors.items())
    except OverflowError:
        raise ResourceError(
            "a count with more than 2^1024 bits: its log2 is beyond floating-point range, so it can be neither "
            "compared nor shown compactly; use smaller sizes"
        ) from None


def sign_of_log_sum(terms: Iterable[tuple[int | Fraction, int]]) -> int:
    """Exact sign of ``sum x * log(b)`` over ``(x, b)`` pairs: rational ``x``, integer bases ``b >= 1``.

    The one log-sign helper of tnrnn (counts compare with it; the min-cut compares cut costs with it). Denominators
    are cleared, the bases rewritten over pairwise coprime ones (gcd refinement), and the sign of what remains is
    decided exactly: it is zero only when every exponent vanishes.

    Examples
    --------
    >>> sign_of_log_sum([(3, 2), (-2, 3)]), sign_of_log_sum([(2, 2), (-1, 4)]), sign_of_log_sum([(Fraction(1, 2), 9), (-1, 3)])
    (-1, 0, 0)
    """
    pairs = [(Fraction(x), int(b)) for x, b in terms if x != 0 and int(b) > 1]
    if not pairs:
        return 0
    scale = math.lcm(*(x.denominator for x, _ in pairs))
    quotient: dict[int, int] = {}
    for x, b in pairs:
        quotient[b] = quotient.get(b, 0) + int(x * scale)
    quotient = refine_coprime(quotient)
    return sign_of_coprime_log(quotient) if quotient else 0


def sign_of_coprime_log(quotient: Mapping[int, int]) -> int:
    """Sign of ``sum e * log(b)`` over pairwise coprime bases with some nonzero exponent: never zero."""
    bits = sum(abs(e) * b.bit_length() for b, e in quotient.items())
    if bits <= 200_000:
        num = den = 1
        for b, e in quotient.items():
            if e > 0:
                num *= b**e
            else:
                den *= b ** (-e)
        return (num > den) - (num < den)
    import flint

    prec = 128
    old = flint.ctx.prec
    try:
        while True:
            flint.ctx.prec = prec
            total = flint.arb(0)
            for b, e in quotient.items():
                total += flint.arb(e) * flint.arb(b).log()
            if total > 0:
                return 1
            if total < 0:
                return -1
            prec *= 2  # the value is nonzero (coprime bases), so enough precision separates it from 0
    finally:
        flint.ctx.prec = old
