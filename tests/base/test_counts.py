"""ExactCount: exact arithmetic and ordering of huge counts, checked against plain Python ints."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.counts import ExactCount, min_count, prod_counts
from tnrnn.base.errors import ResourceError, TnrnnError

small_factors = st.dictionaries(st.integers(1, 40), st.integers(0, 12), max_size=4)


def _value(f: dict) -> int:
    v = 1
    for b, e in f.items():
        v *= b**e
    return v


@settings(max_examples=60, deadline=None)
@given(small_factors, small_factors)
def test_order_and_product_match_python_ints(fa, fb):
    a, b = ExactCount.product(fa), ExactCount.product(fb)
    va, vb = _value(fa), _value(fb)
    assert a.exact() == va and b.exact() == vb
    assert (a == b) == (va == vb)
    assert (a < b) == (va < vb)
    assert (a <= vb) == (va <= vb)
    assert (a * b).exact() == va * vb
    assert (a * vb).exact() == va * vb
    assert math.isclose(a.log2, math.log2(va), abs_tol=1e-9)
    if va == vb:
        assert hash(a) == hash(b) == hash(va)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.integers(2, 30), st.integers(1, 10**6), st.integers(0, 3))
def test_huge_equal_or_adjacent_powers_are_decided_exactly(b1, b2, k, extra):
    # b1^(k*log_b1 L) vs b2^...: build equal values through different bases, then perturb by one factor.
    g = math.lcm(b1, b2)
    a = ExactCount.power(g, k) * ExactCount.power(b1, extra)
    c = ExactCount.power(b1, k) * ExactCount.power(g // b1, k) * ExactCount.power(b1, extra)
    assert a == c
    assert not (a < c) and not (a > c)
    assert a < c * 2 and a * 2 > c
    if extra:
        assert a > ExactCount.power(b1, k) * ExactCount.power(g // b1, k) * ExactCount.power(b1, extra - 1)


def test_huge_near_tie_beyond_float_resolution():
    # 2^N * 3 vs 2^(N+1) * ... : log2 differ by log2(3/2); and a genuine near tie: 2^a * 3^b vs 2^c * 3^d where
    # the logs agree to ~1e-12 relative (continued-fraction convergent 3^665 ~ 2^1054) scaled up huge.
    n = 10**6
    x = ExactCount.product({3: 665 * n})
    y = ExactCount.product({2: 1054 * n})
    # log2(3^665) - 1054 = 0.00011... * n; true order from exact integers at n = 1:
    assert (3**665 > 2**1054) == (x > y)
    # equal huge values built through different bases compare equal without expansion
    assert ExactCount.power(6, 10**7) == ExactCount.product({2: 10**7, 3: 10**7})
    # opaque bases above 2^64 (no factoring): equality found by gcd refinement
    q = 2**127 - 1
    assert ExactCount.power(q * q, 10**6) == ExactCount.power(q, 2 * 10**6)
    assert ExactCount.power(q * q, 10**6) < ExactCount.power(q, 2 * 10**6) * ExactCount.power(q + 2, 1)


def test_compact_display_and_json():
    big = ExactCount.power(2, 23068672)
    assert str(big) == "2^23068672"
    js = big.to_json()
    assert js == {"value": "2^23068672", "log2": 23068672.0}
    json.dumps(js)
    assert ExactCount.from_json(js) == big
    assert str(ExactCount(1024)) == "1024"
    assert str(ExactCount.product({3: 5, 2: 7})) == "3^5 * 2^7 = 31104"
    assert ExactCount.product({3: 5, 2: 7}).to_json()["value"] == "31104"
    assert str(ExactCount(0)) == "0" and str(ExactCount.power(7, 0)) == "1"
    assert len(str(ExactCount.power(3, 10**6) * 5)) < 40
    # long factor lists and long int-built values stay short on screen, exact in JSON
    many = ExactCount(1)
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97):
        many = many * ExactCount.power(p, 1000 + p)
    assert len(str(many)) < 50 and str(many).startswith("~2^")
    assert ExactCount.from_json(many.to_json()) == many
    assert str(ExactCount(10**100)).startswith("~2^332.19") and str(ExactCount(10**59)) == "1" + "0" * 59
    assert str(ExactCount(6) * ExactCount(7)) == "42"
    # the older {"factors": ...} shape is still read
    assert ExactCount.from_json({"value": None, "factors": {"2": 5}, "log2": 5.0}) == 32


def test_json_shape_is_value_and_log2_everywhere():
    huge_base = ExactCount(3**5000 + 2) * ExactCount.power(2, 10**4)  # a base too long for decimal
    for x in (ExactCount(0), ExactCount(7), ExactCount.power(10, 999), ExactCount.power(10, 1001), huge_base):
        js = x.to_json()
        assert set(js) == {"value", "log2"} and isinstance(js["value"], str)
        assert ExactCount.from_json(json.loads(json.dumps(js))) == x
    assert "0x" in huge_base.to_json()["value"]
    with pytest.raises(TnrnnError, match="decimal integer"):
        ExactCount.from_json({"value": "2^x"})


@given(st.lists(st.tuples(st.fractions(min_value=-5, max_value=5, max_denominator=4), st.integers(1, 40)), max_size=4))
def test_sign_of_log_sum_matches_floats_and_exact_products(terms):
    from tnrnn.base.factored import sign_of_log_sum

    sign = sign_of_log_sum(terms)
    # exact reference: scale to integer exponents and compare products of integers
    from math import lcm

    scale = lcm(*(x.denominator for x, _ in terms)) if terms else 1
    num = den = 1
    for x, b in terms:
        e = int(x * scale)
        num, den = (num * b**e, den) if e > 0 else (num, den * b ** (-e))
    assert sign == (num > den) - (num < den)


def test_exact_refuses_millions_of_digits():
    with pytest.raises(ResourceError, match="digits"):
        ExactCount.power(2, 23068672).exact()


def test_min_count_and_errors():
    assert min_count(ExactCount.power(2, 10), 1000, None) == 1000
    assert isinstance(min_count(5), ExactCount)
    with pytest.raises(TnrnnError):
        min_count(None, None)
    with pytest.raises(TnrnnError):
        ExactCount(-3)
    with pytest.raises(TnrnnError):
        ExactCount.power(2, -1)
    with pytest.raises(TnrnnError):
        min_count("12")
    assert ExactCount(0) < 1 and ExactCount(3) > -5 and ExactCount(0) * ExactCount.power(2, 99) == 0


def test_hash_agrees_with_equality_for_huge_values():
    big = ExactCount.power(2, 5000)
    assert big == 2**5000 and hash(big) == hash(2**5000)  # used to hash the factors above 2^4096
    assert len({big, 2**5000, ExactCount.product({4: 2500})}) == 1
    p = (1 << 65) + 1  # an opaque base (above 2^64): the same value over different coprime bases
    a, b = ExactCount.product({p * (p + 2): 80}), ExactCount.product({p: 80, p + 2: 80})
    assert a == b and hash(a) == hash(b)
    assert hash(ExactCount(12)) == hash(12) and hash(ExactCount(0)) == hash(0)


@settings(max_examples=40, deadline=None)
@given(st.lists(small_factors, max_size=5))
def test_prod_counts_matches_repeated_products(factor_list):
    counts = [ExactCount.product(f) for f in factor_list]
    expected = math.prod(_value(f) for f in factor_list)
    got = prod_counts(counts)
    assert got == expected and got.exact() == expected
    one_by_one = ExactCount(1)
    for c in counts:
        one_by_one = one_by_one * c
    assert str(got) == str(one_by_one)


def test_huge_digit_counts_and_log2_overflow():
    text = str(ExactCount.power(2, 10**115))
    assert text.startswith("~2^") and "e+114 digits" in text and len(text) < 60  # no 115-digit digit count
    with pytest.raises(ResourceError, match="log2"):
        ExactCount.power(3, 10**400)  # used to raise a bare OverflowError
