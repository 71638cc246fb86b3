"""Validation shared by every layer, and of the public Python API: a value is checked once, at the edge, from its
metadata and before any work, and trusted after.

Each check either returns the value in a normal form or raises [`TnrnnError`][tnrnn.base.errors.TnrnnError] with one
line naming the argument; none does work proportional to more than its limit (an iterable is read at most one
item past its limit, a shape is checked before any array is made, an equation is measured before it is split).
The API's entry points ([`tnrnn.network.indexed.as_network`][tnrnn.network.indexed.as_network], [`tnrnn.separation_bounds`][tnrnn.bounds.general.separation_bounds], the interop
converters) call these, so a ``ValueError``, ``OverflowError``, ``RecursionError``, ``MemoryError`` or
``TypeError`` from deeper code never reaches a user for an input of the documented kinds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable
from fractions import Fraction
from typing import Any

import numpy as np

from tnrnn.base.errors import ResourceError, TnrnnError

__all__ = [
    "check_positive_int", "MAX_TENSORS", "MAX_DIM", "MAX_AXES", "MAX_EQUATION_CHARS", "check_dim", "check_shape", "check_array",
    "bounded_int_list", "check_tensor_count", "check_budget_mb", "check_selector", "shown", "printable",
]

#: Most tensors in a user's network (the min-cut graph, the contraction path and the certificate grow with it).
MAX_TENSORS = 10_000
#: Largest dimension of one index (an int32 index; a tensor that large is refused by the memory budget anyway).
MAX_DIM = 2**31 - 1
#: Most axes of one tensor (numpy's own limit is 64).
MAX_AXES = 64
#: Longest einsum equation read (10,000 operands of a few indices each fit easily).
MAX_EQUATION_CHARS = 1_000_000

# numpy dtype kinds that hold numbers: bool, signed and unsigned integers, floats, complex.
_NUMERIC_KINDS = "biufc"


def check_positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``, else raise a clear ``TnrnnError``.

    Booleans and integral floats (``2.0``) are refused: they are almost always a mistake in a size.

    Examples
    --------
    >>> check_positive_int("T", 4)
    4
    >>> check_positive_int("T", 0)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: T must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, (int,)) and not _is_integral(value):
        raise TnrnnError(f"{name} must be an integer >= {minimum}, got {value!r}")
    ivalue = int(value)  # type: ignore[arg-type,call-overload]
    if ivalue < minimum:
        raise TnrnnError(f"{name} must be an integer >= {minimum}, got {ivalue}")
    return ivalue


def _is_integral(value: object) -> bool:
    return isinstance(value, np.integer)


def shown(value: Any, limit: int = 60) -> str:
    """``ascii(value)`` cut to ``limit`` characters: safe to print (no control characters), and short.

    Examples
    --------
    >>> shown("a\\x1b[2Jb")
    "'a\\\\x1b[2Jb'"
    """
    try:
        text = ascii(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__: say what type it was
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable(text: str, limit: int = 500) -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\r``, ``\\n``...), cut to ``limit``: safe
    to print on a terminal whatever a file held; printable Unicode is kept as is.

    Examples
    --------
    >>> printable("ok\\r\\x1b[1Aforged")
    'ok\\\\r\\\\x1b[1Aforged'
    """
    out = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(text)[:limit])
    return out if len(str(text)) <= limit else out + "..."


def check_dim(value: Any, what: str = "dimension") -> int:
    """A dimension as an int in ``1 .. MAX_DIM``; bools, floats, strings and out-of-range values are refused.

    Examples
    --------
    >>> check_dim(np.int64(3))
    3
    >>> check_dim(True)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: dimension must be an integer from 1 to 2147483647, got True
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_DIM:
        raise TnrnnError(f"{what} must be an integer from 1 to {MAX_DIM}, got {shown(value)}")
    return int(value)


def check_shape(shape: Any, what: str = "shape") -> tuple[int, ...]:
    """A shape as a tuple of checked dimensions ([`check_dim`][tnrnn.base.validate.check_dim]), at most `MAX_AXES` of them.

    Examples
    --------
    >>> check_shape([2, 3])
    (2, 3)
    >>> check_shape((2, -1), "operand 0")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: operand 0: dimension 1 must be an integer from 1 to 2147483647, got -1
    """
    if not isinstance(shape, (tuple, list)):
        raise TnrnnError(f"{what} must be a tuple of dimensions, got {type(shape).__name__}")
    if len(shape) > MAX_AXES:
        raise TnrnnError(f"{what} has {len(shape)} axes (at most {MAX_AXES})")
    return tuple(check_dim(d, f"{what}: dimension {k}") for k, d in enumerate(shape))


def check_array(data: Any, what: str = "array", *, max_bytes: int | None = None) -> np.ndarray:
    """A numeric, finite array (bool, integer, float or complex; or an object array of ints and Fractions).

    String, bytes, datetime and structured arrays are refused from the dtype, other object arrays from their
    elements; the size from the shape
    (before any copy) when ``max_bytes`` is given; NaN and infinities from the values.

    Examples
    --------
    >>> check_array([[1, 2], [3, 4]]).dtype.kind
    'i'
    >>> check_array(np.array([1.0, np.nan]), "tensor 'A'")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: tensor 'A' holds NaN or infinite values
    """
    if isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError, RecursionError, OverflowError) as exc:
            raise TnrnnError(f"{what} is not an array of numbers ({' '.join(str(exc).split())[:80]})") from None
        except MemoryError:
            raise ResourceError(f"{what} is too large to read as an array") from None
    if arr.dtype.kind == "O":
        # exact data: Python ints (any size) and Fractions; anything else in an object array is refused
        if not all(isinstance(x, (int, np.integer, Fraction)) and not isinstance(x, bool) for x in arr.flat):
            raise TnrnnError(f"{what} is an object array: it may hold only Python ints and Fractions (exact data)")
    elif arr.dtype.kind not in _NUMERIC_KINDS or arr.dtype.fields is not None:
        raise TnrnnError(f"{what} must hold numbers (bool, integer, float or complex), not dtype {arr.dtype}")
    if max_bytes is not None and arr.nbytes > max_bytes:
        raise ResourceError(f"{what} holds {arr.nbytes:,} bytes, over the budget of {max_bytes:,}")
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        raise TnrnnError(f"{what} holds NaN or infinite values")
    return arr


def bounded_int_list(name: str, values: Any, limit: int, *, minimum: int = 0, maximum: int = 2**63 - 1) -> list[int]:
    """An int or an iterable of ints as a non-empty list of at most ``limit`` values in ``minimum .. maximum``.

    The iterable is read lazily and at most ``limit + 1`` items are taken: an endless generator or a list of
    millions is refused without being consumed or copied.

    Examples
    --------
    >>> bounded_int_list("seeds", range(3), 10)
    [0, 1, 2]
    >>> import itertools
    >>> bounded_int_list("seeds", itertools.count(), 10)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: seeds: more than 10 values (at most 10)
    """
    if isinstance(values, (int, np.integer)) and not isinstance(values, (bool, np.bool_)):
        values = [values]
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise TnrnnError(f"{name} must be an integer or an iterable of integers, got {type(values).__name__}")
    try:
        head = list(itertools.islice(iter(values), limit + 1))
    except TypeError:
        raise TnrnnError(f"{name} must be an integer or an iterable of integers") from None
    if not head:
        raise TnrnnError(f"{name} must not be empty")
    if len(head) > limit:
        raise TnrnnError(f"{name}: more than {limit} values (at most {limit})")
    out = []
    for v in head:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not minimum <= v <= maximum:
            raise TnrnnError(f"{name} must be integers from {minimum} to {maximum}, got {shown(v)}")
        out.append(int(v))
    return out


def check_tensor_count(n: int, what: str = "the network", *, limit: int | None = None) -> int:
    """Refuse more than ``limit`` (default `MAX_TENSORS`) tensors, from a length, before any tensor is read.

    Examples
    --------
    >>> check_tensor_count(100_000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.ResourceError: the network has 100,000 tensors; at most 10,000 are supported...
    """
    limit = MAX_TENSORS if limit is None else limit
    if n > limit:
        more = f"more than {limit:,}" if n == limit + 1 else f"{n:,}"  # a list read one past the limit
        raise ResourceError(f"{what} has {more} tensors; at most {limit:,} are supported (the min-cut graph, "
                            "the contraction path and the certificate grow with the count)")
    return n


def check_budget_mb(value: Any) -> float | None:
    """A memory budget in MB: None (the default budget) or a finite positive number; ``"4G"`` is refused.

    Examples
    --------
    >>> check_budget_mb(512)
    512.0
    >>> check_budget_mb("4G")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: budget_mb must be a number of megabytes such as 4096, got '4G'
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TnrnnError(f"budget_mb must be a number of megabytes such as 4096, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        number = math.inf
    if not math.isfinite(number) or number <= 0:
        raise TnrnnError(f"budget_mb must be a finite number of megabytes above 0, got {shown(value)}")
    return number


def check_selector(value: Any, what: str) -> Any:
    """A selector (an index name, tag, tensor name, edge or node object) must be hashable.

    Examples
    --------
    >>> check_selector(["a"], "left")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: left: ['a'] is not a leg, tensor name, tag or node (a list inside the list?)
    """
    if not isinstance(value, Hashable):
        raise TnrnnError(f"{what}: {shown(value)} is not a leg, tensor name, tag or node (a list inside the list?)")
    try:
        hash(value)
    except TypeError:
        raise TnrnnError(f"{what}: {shown(value)} is not hashable") from None
    return value
