"""Validation helpers shared by every layer: a value is checked once, at the edge, and trusted after."""

from __future__ import annotations

import numpy as np

from tnrnn.base.errors import TnrnnError


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
