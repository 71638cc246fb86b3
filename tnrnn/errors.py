"""Exceptions raised by tnrnn.

Every error a user can provoke with bad input is a ``TnrnnError`` (a ``ValueError``), so library callers can
catch ``ValueError`` and the CLI can turn any of them into one readable line.
"""

from __future__ import annotations


class TnrnnError(ValueError):
    """Invalid input or a request the toolkit refuses (base class of every tnrnn error)."""


class ResourceError(TnrnnError):
    """A request whose estimated cost (memory or flops) exceeds the configured budget.

    The message states the estimate and what to use instead; nothing was computed.
    """


def human_bytes(n: float) -> str:
    """Format a byte count for error messages, e.g. ``human_bytes(3 * 2**30) == '3.0 GiB'``."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    x = float(n)
    for unit in units:
        if abs(x) < 1024 or unit == units[-1]:
            return f"{x:.1f} {unit}" if unit != "B" else f"{int(x)} B"
        x /= 1024
    return f"{x:.1f} EiB"  # pragma: no cover
