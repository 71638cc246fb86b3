"""Exceptions raised by tnrnn.

Every error a user can provoke with bad input is a ``TnrnnError`` (a ``ValueError``), so library callers can
catch ``ValueError`` and the CLI can turn any of them into one readable line.
"""

from __future__ import annotations

import math


class TnrnnError(ValueError):
    """Invalid input or a request the toolkit refuses (base class of every tnrnn error)."""


class ResourceError(TnrnnError):
    """A request whose estimated cost (memory or flops) exceeds the configured budget.

    The message states the estimate and what to use instead; nothing was computed.
    """


def human_bytes(n: float) -> str:
    """Format a byte count for error messages; any size, however large, gives a short string.

    Examples
    --------
    >>> human_bytes(3 * 2**30), human_bytes(512), human_bytes(2**83)
    ('3.0 GiB', '512 B', '8.39e+06 EiB')
    >>> human_bytes(2**2000)   # an explicit table of 2^2000 bytes: beyond float range, shown as a power of 2
    '~2^1940 EiB'
    """
    if isinstance(n, int) and n.bit_length() > 1000:
        return f"~2^{n.bit_length() - 61} EiB"
    x = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(x) < 1024:
            return f"{x:.1f} {unit}" if unit != "B" else f"{int(x)} B"
        x /= 1024
    return f"{x:.1f} EiB" if abs(x) < 1e6 else f"{x:.3g} EiB"


def format_count(n: int) -> str:
    """A possibly astronomically large count in three significant digits.

    Examples
    --------
    >>> format_count(123456), format_count(10**400 * 3)
    ('1.23e+05', '~10^400')
    """
    n = int(n)
    if abs(n) < 10**300:
        return f"{n:.3g}"
    # math.log10 takes ints of any size; str(n) would hit Python's 4300-digit conversion limit.
    return f"~10^{int(math.log10(abs(n)))}"
