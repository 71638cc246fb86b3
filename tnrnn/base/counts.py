"""Exact non-negative integers that may be astronomically large (docs/theory.md, "Upper bounds").

Separation-rank upper bounds grow like ``R^C(T/2+L-1, L-1)``: the Start-End min-cut of L = 4, T = 1024 has about
seven million decimal digits. [`ExactCount`][tnrnn.base.counts.ExactCount] keeps such a number as a product of powers ``{base: exponent}``
without expanding it, multiplies and compares exactly, and prints and serialises compactly (``2^23068672``,
``log2``) instead of as millions of digits.

Why comparisons are exact: two counts are compared by ``log2`` first, with a margin far above float rounding;
only when that margin cannot decide, the quotient ``a / b`` is rewritten over a *pairwise coprime* set of bases
(gcd refinement, no factoring needed). Pairwise coprime integers above 1 are multiplicatively independent, so
the quotient is 1 exactly when every exponent vanishes; otherwise the sign of ``sum e_i log b_i`` is nonzero and
certified with ball arithmetic (python-flint ``arb``) at increasing precision, or by expanding when the numbers
are small.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from functools import total_ordering

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.factored import (
    FACTOR_LIMIT,
    canonical_factors,
    log2_of,
    refine_coprime,
    sign_of_coprime_log,
)

#: ``exact()`` refuses to expand numbers with more decimal digits than this.
MAX_EXACT_DIGITS = 1_000_000
#: ``to_json()`` writes the decimal value only up to this many digits (``None`` above).
JSON_MAX_DIGITS = 1000
#: ``str()`` appends ``= value`` only up to this many digits.
STR_MAX_DIGITS = 60
#: ``str()`` shows factors only up to this many characters.
STR_MAX_FACTORS = 60

_LOG2_10 = math.log2(10)


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TnrnnError(f"{name} must be an integer >= {minimum}, got {value!r}")
    ivalue = int(value)  # type: ignore[arg-type]
    if ivalue < minimum:
        raise TnrnnError(f"{name} must be an integer >= {minimum}, got {ivalue}")
    return ivalue


@total_ordering
class ExactCount:
    """An exact non-negative integer kept as a product of powers, never expanded unless asked.

    Build it from an ``int`` (``ExactCount(31104)``), from one power ([`power`][tnrnn.base.counts.ExactCount.power]) or from a product of powers
    ([`product`][tnrnn.base.counts.ExactCount.product]). Counts multiply with each other and with ints, compare exactly with each other and with
    ints (total order), and print compactly.

    Attributes
    ----------
    log2 : float
        ``log2`` of the value (``-inf`` for zero); exact to float precision.
    factors : dict of int to int
        The value as ``{base: exponent}`` over pairwise coprime bases (primes, except for bases above 2^64 given
        explicitly); ``{}`` for 1.

    Examples
    --------
    >>> big = ExactCount.power(2, 23068672)
    >>> str(big), round(big.log2)
    ('2^23068672', 23068672)
    >>> str(ExactCount.product({3: 5, 2: 7}))
    '3^5 * 2^7 = 31104'
    >>> ExactCount.power(4, 3) == 64, ExactCount.power(3, 100) < ExactCount.power(2, 159)
    (True, True)
    >>> min_count(ExactCount.power(2, 10), 1000, None)
    ExactCount(1000)
    """

    __slots__ = ("_factors", "_shown", "_zero", "_log2", "_value")
    _factors: dict[int, int]
    _shown: dict[int, int] | None
    _zero: bool
    _log2: float
    _value: int | None

    def __init__(self, value: int | ExactCount = 1) -> None:
        if isinstance(value, ExactCount):
            self._factors, self._shown, self._zero = value._factors, value._shown, value._zero
            self._log2, self._value = value._log2, value._value
            return
        n = _check_int("value", value, 0)
        self._zero = n == 0
        self._shown = None  # shown as a decimal number
        self._value = n
        if self._zero:
            self._factors = {}
            self._log2 = -math.inf
        else:
            self._factors = canonical_factors({n: 1})
            self._log2 = math.log2(n)

    # -- construction -----------------------------------------------------------------------------------------
    @classmethod
    def power(cls, base: int, exponent: int) -> ExactCount:
        """``base ** exponent`` without expanding it (base >= 1, exponent >= 0).

        Examples
        --------
        >>> ExactCount.power(3, 4).exact()
        81
        """
        base = _check_int("base", base, 1)
        exponent = _check_int("exponent", exponent, 0)
        return cls.product({base: exponent})

    @classmethod
    def product(cls, factors: Mapping[int, int] | Iterable[tuple[int, int]]) -> ExactCount:
        """``prod base ** exponent`` over ``{base: exponent}`` (or ``(base, exponent)`` pairs), kept unexpanded.

        Examples
        --------
        >>> ExactCount.product({2: 3, 6: 1}).exact()
        48
        """
        items = factors.items() if isinstance(factors, Mapping) else factors
        shown: dict[int, int] = {}
        for base, exp in items:
            base = _check_int("base", base, 0)
            exp = _check_int("exponent", exp, 0)
            if base == 0 and exp > 0:
                return cls(0)
            if base > 1 and exp > 0:
                shown[base] = shown.get(base, 0) + exp
        return cls._make(canonical_factors(shown), shown)

    @classmethod
    def _make(cls, factors: dict[int, int], shown: dict[int, int] | None, value: int | None = None) -> ExactCount:
        obj = cls.__new__(cls)
        obj._zero = False
        obj._factors = factors
        obj._shown = shown
        obj._log2 = log2_of(factors)
        obj._value = value
        return obj

    @classmethod
    def from_json(cls, data: Mapping) -> ExactCount:
        """Inverse of [`to_json`][tnrnn.base.counts.ExactCount.to_json] (reads ``value``; the older ``factors`` key is still accepted).

        Examples
        --------
        >>> x = ExactCount.power(6, 1000)
        >>> ExactCount.from_json(x.to_json()) == x
        True
        """
        if not isinstance(data, Mapping):
            raise TnrnnError(f"expected a JSON object for an ExactCount, got {type(data).__name__}")
        if isinstance(data.get("factors"), Mapping):
            return cls.product({int(b): int(e) for b, e in data["factors"].items()})
        if data.get("value") is not None:
            return cls.from_text(str(data["value"]))
        raise TnrnnError("an ExactCount JSON object needs 'value'")

    # -- properties -------------------------------------------------------------------------------------------
    @property
    def log2(self) -> float:
        """``log2`` of the value (``-inf`` for 0)."""
        return self._log2

    @property
    def factors(self) -> dict[int, int]:
        """``{base: exponent}`` over pairwise coprime bases (a copy)."""
        return dict(self._factors)

    @property
    def digits(self) -> int:
        """Number of decimal digits, from ``log2`` (exact except within float rounding of a power of ten).

        >>> ExactCount(999).digits, ExactCount.power(10, 100).digits
        (3, 101)
        """
        if self._zero:
            return 1
        if self._value is not None:
            return len(str(self._value)) if self._log2 < 10_000 else int(self._log2 / _LOG2_10) + 1
        return int(math.floor(self._log2 / _LOG2_10 + 1e-12)) + 1

    def is_zero(self) -> bool:
        """Whether the value is 0.

        >>> ExactCount(0).is_zero(), ExactCount.product({0: 0}).is_zero()
        (True, False)
        """
        return self._zero

    def exact(self) -> int:
        """The value as a Python ``int``.

        Raises
        ------
        ResourceError
            The value has more than ``MAX_EXACT_DIGITS`` decimal digits.

        Examples
        --------
        >>> ExactCount.product({2: 3, 5: 2}).exact()
        200
        """
        if self._value is not None:
            return self._value
        if self._log2 / _LOG2_10 > MAX_EXACT_DIGITS:
            raise ResourceError(
                f"refusing to expand {self} (about {self._log2 / _LOG2_10:.3g} decimal digits, limit "
                f"{MAX_EXACT_DIGITS:,}); use .log2, .factors or compare ExactCount values directly"
            )
        value = 1
        for b, e in self._factors.items():
            value *= b**e
        self._value = value
        return value

    def __int__(self) -> int:
        return self.exact()

    def __index__(self) -> int:
        return self.exact()

    def __bool__(self) -> bool:
        return not self._zero

    # -- arithmetic -------------------------------------------------------------------------------------------
    def __mul__(self, other: ExactCount | int) -> ExactCount:
        other = _coerce(other)
        if other is NotImplemented:
            return NotImplemented
        if self._zero or other._zero:
            return ExactCount(0)
        merged = dict(self._factors)
        for b, e in other._factors.items():
            merged[b] = merged.get(b, 0) + e
        if any(b >= FACTOR_LIMIT for b in merged):
            merged = refine_coprime(merged)
        shown = None  # int-built times int-built stays int-like (shown as a decimal)
        if self._shown is not None or other._shown is not None:
            shown = dict(_shown_or_value(self))
            for b, e in _shown_or_value(other).items():
                shown[b] = shown.get(b, 0) + e
        value = None  # kept only while cheap: exact() recomputes it from the factors otherwise
        if self._value is not None and other._value is not None and self._log2 + other._log2 < 20_000:
            value = self._value * other._value
        return ExactCount._make(dict(sorted(merged.items())), shown, value)

    __rmul__ = __mul__

    def __pow__(self, exponent: int) -> ExactCount:
        exponent = _check_int("exponent", exponent, 0)
        if self._zero:
            return ExactCount(0 if exponent else 1)
        shown = {b: e * exponent for b, e in _shown_or_value(self).items() if e * exponent}
        return ExactCount._make({b: e * exponent for b, e in self._factors.items() if exponent}, shown)

    # -- comparison -------------------------------------------------------------------------------------------
    def _cmp(self, other: ExactCount) -> int:
        if self._zero or other._zero:
            return (not self._zero) - (not other._zero)
        la, lb = self._log2, other._log2
        # fsum of e*log2(b): relative error of a few ulps per term; this margin is many orders above it.
        margin = 1e-9 * (1.0 + max(abs(la), abs(lb)))
        if la - lb > margin:
            return 1
        if lb - la > margin:
            return -1
        if self._value is not None and other._value is not None:
            return (self._value > other._value) - (self._value < other._value)
        quotient = dict(self._factors)
        for b, e in other._factors.items():
            quotient[b] = quotient.get(b, 0) - e
        quotient = refine_coprime(quotient)
        if not quotient:
            return 0
        return sign_of_coprime_log(quotient)

    def _cmp_any(self, other: object) -> int | None:
        """``_cmp`` against an ExactCount or any int (negative ints are below every count); None otherwise."""
        if _is_negative_int(other):
            return 1
        o = _coerce(other)
        return None if o is NotImplemented else self._cmp(o)

    def __eq__(self, other: object) -> bool:
        c = self._cmp_any(other)
        return NotImplemented if c is None else c == 0

    def __lt__(self, other: object) -> bool:
        c = self._cmp_any(other)
        return NotImplemented if c is None else c < 0

    def __hash__(self) -> int:
        # Equal to hash(int(self)) for every value, without expanding it: CPython hashes a non-negative int as its
        # residue modulo sys.hash_info.modulus (a prime), and the residue of a product of powers is computed
        # factor by factor. (Hashing the factors instead broke x == y => hash(x) == hash(y) for huge values equal
        # to an int, or written over different coprime bases.)
        if self._zero:
            return 0
        if self._value is not None:
            return hash(self._value)
        modulus = sys.hash_info.modulus
        h = 1
        for b, e in self._factors.items():
            h = h * pow(b, e, modulus) % modulus
        return h

    # -- display ----------------------------------------------------------------------------------------------
    def factor_string(self) -> str:
        """The value as ``b^e * ...`` (the bases it was built from), or its decimal form if built from an int.

        >>> ExactCount.product({6: 2, 2: 1}).factor_string(), ExactCount(72).factor_string()
        ('6^2 * 2', '72')
        """
        if self._zero:
            return "0"
        shown = self._shown
        if shown is None:
            if self._log2 / _LOG2_10 <= STR_MAX_DIGITS:
                return str(self.exact())
            shown = self._factors
        if not shown:
            return "1"
        if any(b.bit_length() > 4 * STR_MAX_FACTORS for b in shown):
            return self._approx()  # a base too long to show
        return " * ".join(str(b) if e == 1 else f"{b}^{e}" for b, e in shown.items())

    def __str__(self) -> str:
        """Compact text: the decimal value when short (with its factors when they are short too), the factors when
        the value is long, and ``~2^<log2> [<n> digits]`` when even the factors are long (exact in ``to_json``).
        """
        if self._zero:
            return "0"
        text = self.factor_string()
        if self._log2 / _LOG2_10 < STR_MAX_DIGITS:
            value = str(self.exact())
            if self._shown is None or text == value or len(text) > STR_MAX_FACTORS:
                return value
            return f"{text} = {value}"
        if len(text) <= STR_MAX_FACTORS:
            return text
        return self._approx()

    def _approx(self) -> str:
        """``~2^<log2> [<n> digits]``; the digit count itself in short scientific form when it is huge."""
        digits = self.digits
        shown = str(digits) if digits < 10**15 else f"~{float(digits):.4g}"
        return f"~2^{self._log2:.10g} [{shown} digits]"

    def __repr__(self) -> str:
        if self._zero or (self._shown is None and self._log2 / _LOG2_10 <= STR_MAX_DIGITS):
            return f"ExactCount({self.exact() if not self._zero else 0})"
        return f"ExactCount.product({dict(self._shown or self._factors)})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def to_json(self) -> dict:
        """``{"value": str, "log2": float}``: the one JSON shape of every exact count tnrnn writes.

        ``value`` is the decimal number up to ``JSON_MAX_DIGITS`` digits, otherwise the exact product of powers
        ``"b^e * b^e ..."`` over pairwise coprime bases (a base longer than ``JSON_MAX_DIGITS`` digits is written
        in hexadecimal, ``0x...``, which avoids quadratic decimal conversion). ``log2`` is ``None`` for zero (JSON
        has no infinity). [`from_json`][tnrnn.base.counts.ExactCount.from_json] reads it back exactly.

        >>> ExactCount.power(6, 2).to_json()
        {'value': '36', 'log2': 5.169925001442312}
        >>> ExactCount.power(2, 23068672).to_json()
        {'value': '2^23068672', 'log2': 23068672.0}
        """
        if self._zero:
            return {"value": "0", "log2": None}
        if self._log2 / _LOG2_10 <= JSON_MAX_DIGITS:
            return {"value": str(self.exact()), "log2": self._log2}
        return {"value": _power_string(self._factors), "log2": self._log2}

    @classmethod
    def from_text(cls, text: str) -> ExactCount:
        """Parse a decimal integer or a product of powers ``"b^e * b^e"`` (bases decimal or ``0x`` hexadecimal).

        >>> ExactCount.from_text("2^10 * 3") == 3072, ExactCount.from_text("0x10^2") == 256
        (True, True)
        """
        if not isinstance(text, str) or not text.strip():
            raise TnrnnError(f"an exact count must be a decimal integer or 'b^e * ...', got {text!r}")
        factors: dict[int, int] = {}
        try:
            for term in text.split("*"):
                base, _, exp = term.strip().partition("^")
                b = int(base, 16) if base.lower().startswith("0x") else int(base)
                e = int(exp) if exp else 1
                if b < 0 or e < 0:
                    raise ValueError
                factors[b] = factors.get(b, 0) + e
        except ValueError:
            raise TnrnnError(f"an exact count must be a decimal integer or 'b^e * ...', got {text[:80]!r}") from None
        if len(factors) == 1 and next(iter(factors.values())) == 1:
            return cls(next(iter(factors)))
        return cls.product(factors)


def _power_string(factors: Mapping[int, int]) -> str:
    """``"b^e * ..."`` exactly; bases longer than ``JSON_MAX_DIGITS`` decimal digits in hexadecimal."""
    parts = []
    for b, e in factors.items():
        base = str(b) if b.bit_length() <= JSON_MAX_DIGITS * _LOG2_10 else hex(b)
        parts.append(base if e == 1 else f"{base}^{e}")
    return " * ".join(parts)


def _shown_or_value(x: ExactCount) -> dict[int, int]:
    if x._shown is not None:
        return x._shown
    if x._value is not None and x._log2 / _LOG2_10 <= STR_MAX_DIGITS:
        return {x._value: 1} if x._value > 1 else {}
    return dict(x._factors)


def _is_negative_int(x: object) -> bool:
    return not isinstance(x, (bool, ExactCount)) and hasattr(x, "__index__") and int(x) < 0  # type: ignore[call-overload]


def _coerce(x: object) -> ExactCount:
    if isinstance(x, ExactCount):
        return x
    if isinstance(x, bool) or not hasattr(x, "__index__"):
        return NotImplemented  # type: ignore[return-value]
    if int(x) < 0:  # type: ignore[call-overload]
        raise TnrnnError(f"an ExactCount is non-negative; cannot combine it with {x}")
    return ExactCount(int(x))  # type: ignore[call-overload]


def prod_counts(xs: Iterable[ExactCount | int]) -> ExactCount:
    """The product of many counts (ints accepted), merged at once: one coprime refinement instead of one per factor.

    Examples
    --------
    >>> str(prod_counts([ExactCount.power(2, 10), 3, ExactCount.power(2, 5)]))
    '2^15 * 3 = 98304'
    >>> prod_counts([]) == 1
    True
    """
    merged: dict[int, int] = {}
    shown: dict[int, int] | None = None
    counts = []
    for x in xs:
        c = _coerce(x)
        if c is NotImplemented:
            raise TnrnnError(f"prod_counts takes ExactCount or int values, got {type(x).__name__}")
        if c._zero:
            return ExactCount(0)
        counts.append(c)
    if any(c._shown is not None for c in counts):
        shown = {}
    for c in counts:
        for b, e in c._factors.items():
            merged[b] = merged.get(b, 0) + e
        if shown is not None:
            for b, e in _shown_or_value(c).items():
                shown[b] = shown.get(b, 0) + e
    if any(b >= FACTOR_LIMIT for b in merged):
        merged = refine_coprime(merged)
    return ExactCount._make(dict(sorted(merged.items())), shown)


def min_count(*xs: ExactCount | int | None) -> ExactCount:
    """The smallest of the given counts (ints accepted, ``None`` = unbounded and skipped).

    Raises
    ------
    TnrnnError
        Every argument is ``None`` (no bound at all).

    Examples
    --------
    >>> str(min_count(ExactCount.power(2, 100), None, 7))
    '7'
    """
    best: ExactCount | None = None
    for x in xs:
        if x is None:
            continue
        c = _coerce(x)
        if c is NotImplemented:
            raise TnrnnError(f"min_count takes ExactCount, int or None, got {type(x).__name__}")
        if best is None or c < best:
            best = c
    if best is None:
        raise TnrnnError("min_count needs at least one finite count (all were None)")
    return best
