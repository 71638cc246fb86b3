"""The one memory and flops budget, honoured by every contraction, table, certificate and training run.

A budget comes from an explicit argument (``--budget-mb`` on the command line) or, when none is given, from
``$TNRNN_MAX_BYTES`` (e.g. ``8G``; default 4 GiB) and ``$TNRNN_MAX_FLOPS`` (e.g. ``1e12``; default 1e13).
A malformed environment value is an error that names the variable, never silently ignored.
"""

from __future__ import annotations

import math
import os

from tnrnn.base.errors import TnrnnError

DEFAULT_BUDGET_BYTES = 4 * 2**30
DEFAULT_BUDGET_FLOPS = 10**13

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
          "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}


def parse_bytes(text: str, name: str = "TNRNN_MAX_BYTES") -> int:
    """Parse a memory size such as ``4G``, ``512 MiB`` or ``2147483648`` into bytes.

    Parameters
    ----------
    text : str
        The size, a positive finite number with an optional binary unit (K, M, G, T, with or without ``iB``).
    name : str
        What the value is called in the error message.

    Returns
    -------
    int
        The size in bytes.

    Raises
    ------
    TnrnnError
        When ``text`` is not a positive finite size.

    Examples
    --------
    >>> parse_bytes("2G"), parse_bytes("512 MiB")
    (2147483648, 536870912)
    >>> parse_bytes("inf")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: TNRNN_MAX_BYTES must be a positive size such as 4G or 2147483648, got 'inf'
    """
    s = str(text).strip().upper().replace(" ", "")
    num = s.rstrip("KMGTIB")
    unit = s[len(num):]
    try:
        value = float(num)
    except ValueError:
        value = -1.0
    if unit not in _UNITS or not (value > 0 and math.isfinite(value)) or value * _UNITS[unit] < 1:
        raise TnrnnError(f"{name} must be a positive size such as 4G or 2147483648, got {text!r}")
    return int(value * _UNITS[unit])


def default_budget_bytes() -> int:
    """Memory budget: ``$TNRNN_MAX_BYTES`` (e.g. ``2G``) or 4 GiB.

    Examples
    --------
    >>> import os
    >>> default_budget_bytes() == (parse_bytes(os.environ["TNRNN_MAX_BYTES"]) if os.environ.get("TNRNN_MAX_BYTES")
    ...                            else DEFAULT_BUDGET_BYTES)
    True
    """
    env = os.environ.get("TNRNN_MAX_BYTES")
    return parse_bytes(env) if env else DEFAULT_BUDGET_BYTES


def default_budget_flops() -> int:
    """Flop budget: ``$TNRNN_MAX_FLOPS`` (e.g. ``1e12``) or 1e13.

    Examples
    --------
    >>> import os
    >>> default_budget_flops() > 0
    True
    """
    env = os.environ.get("TNRNN_MAX_FLOPS")
    if not env:
        return DEFAULT_BUDGET_FLOPS
    try:
        value = float(env)
    except ValueError:
        value = -1.0
    if not (value >= 1 and math.isfinite(value)):
        raise TnrnnError(f"TNRNN_MAX_FLOPS must be a positive finite number such as 1e12, got {env!r}")
    return int(value)


def budget_bytes(budget_mb: float | None = None) -> int:
    """The memory budget in bytes: ``budget_mb`` mebibytes when given, else [`default_budget_bytes`][tnrnn.base.budget.default_budget_bytes].

    Examples
    --------
    >>> budget_bytes(512)
    536870912
    """
    if budget_mb is None:
        return default_budget_bytes()
    if isinstance(budget_mb, bool) or not (float(budget_mb) > 0 and math.isfinite(float(budget_mb))):
        raise TnrnnError(f"the memory budget must be a positive number of MiB, got {budget_mb!r}")
    return max(1, int(float(budget_mb) * 2**20))
