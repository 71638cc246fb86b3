"""Partitions of the time steps 1..T into two sides (A, B) for separation ranks (docs/theory.md, 'Separation rank').

A partition holds its two sides as tuples, so its size is checked (`MAX_STEPS`) before they are built.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import NamedTuple

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.base.validate import check_positive_int

NAMED = ("start-end", "odd-even")
#: The most time steps a partition is built for (two tuples of T ints); every computation on a partition is at
#: least linear in T, and the structured min-cut already stops at a million (time, layer) cells.
MAX_STEPS = 1_000_000


class Partition(NamedTuple):
    """Two disjoint, non-empty sets of 1-based time steps that together cover 1..T.

    Attributes
    ----------
    A, B : tuple of int
        Sorted 1-based steps of each side (A is the "start" side for Start-End).
    T : int
    name : str
        ``"start-end"``, ``"odd-even"`` or ``"custom"``.
    """

    A: tuple
    B: tuple
    T: int
    name: str

    def side(self, t: int) -> str:
        """``"A"`` or ``"B"``: the side holding step ``t`` (1-based).

        Binary search in the sorted ``A``: callers ask for every step, and a tuple scan would make that O(T^2).

        Examples
        --------
        >>> part = make_partition(6, "odd-even")
        >>> [part.side(t) for t in range(1, 7)]
        ['A', 'B', 'A', 'B', 'A', 'B']
        """
        i = bisect.bisect_left(self.A, t)
        return "A" if i < len(self.A) and self.A[i] == t else "B"

    def label(self) -> str:
        """Short human-readable description, e.g. ``start-end (A = 1..4 | B = 5..8)``."""
        return f"{self.name} (A = {_steps(self.A)} | B = {_steps(self.B)})"

    def to_json(self) -> dict:
        """``{"name", "T", "A", "B"}``; named partitions give their sides as ranges (``"1..512"``), custom ones as
        lists of 1-based steps.

        >>> make_partition(8).to_json()
        {'name': 'start-end', 'T': 8, 'A': '1..4', 'B': '5..8'}
        """
        if self.name == "custom":
            return {"name": self.name, "T": self.T, "A": list(self.A), "B": list(self.B)}
        return {"name": self.name, "T": self.T, "A": _steps(self.A), "B": _steps(self.B)}


def _steps(steps: tuple) -> str:
    if steps and list(steps) == list(range(steps[0], steps[-1] + 1)) and len(steps) > 2:
        return f"{steps[0]}..{steps[-1]}"
    return ",".join(map(str, steps))


def make_partition(T: int, partition: str | Iterable[int] | Partition = "start-end") -> Partition:
    """Validate and build a partition of the steps 1..T.

    Parameters
    ----------
    T : int
        Number of time steps.
    partition : str, iterable of int, or Partition
        ``"start-end"`` (T must be even: A = 1..T/2), ``"odd-even"`` (A = odd steps), a string of
        comma-separated 1-based steps such as ``"1,3,5"``, or an iterable of 1-based steps forming side A
        (B is the rest).

    Raises
    ------
    TnrnnError
        Odd T for start-end, T < 2, steps outside 1..T, repeated steps, an empty side.

    Examples
    --------
    >>> make_partition(4).A, make_partition(4).B
    ((1, 2), (3, 4))
    >>> make_partition(5, "odd-even").A
    (1, 3, 5)
    >>> make_partition(4, "1,4").B
    (2, 3)
    """
    T = check_positive_int("T", T)
    if T < 2:
        raise TnrnnError(f"a partition needs at least 2 time steps, got T = {T}")
    check_steps(T)
    if isinstance(partition, Partition):
        if partition.T != T:
            raise TnrnnError(f"the partition is for T = {partition.T}, not T = {T}")
        return make_partition(T, partition.A) if partition.name == "custom" else make_partition(T, partition.name)
    if isinstance(partition, str):
        key = partition.strip().lower().replace("_", "-")
        if key in ("start-end", "se"):
            if T % 2:
                raise TnrnnError(f"the start-end partition needs an even T, got T = {T}")
            half = T // 2
            return Partition(tuple(range(1, half + 1)), tuple(range(half + 1, T + 1)), T, "start-end")
        if key in ("odd-even", "interleaved"):
            return Partition(tuple(range(1, T + 1, 2)), tuple(range(2, T + 1, 2)), T, "odd-even")
        try:
            steps = [int(s) for s in key.split(",") if s.strip()]
        except ValueError:
            raise TnrnnError(
                f"partition must be one of {', '.join(NAMED)} or comma-separated 1-based steps, got {partition!r}"
            ) from None
        return _custom(T, steps)
    try:
        steps = list(partition)
    except TypeError:
        raise TnrnnError(f"partition must be a name or an iterable of steps, got {type(partition).__name__}") from None
    return _custom(T, steps)


def check_steps(T: int) -> int:
    """Refuse, before anything proportional to T is allocated, a sequence longer than `MAX_STEPS`.

    Examples
    --------
    >>> check_steps(8)
    8
    >>> check_steps(10**8)
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.ResourceError: T = 100000000 time steps is beyond the 1000000 this toolkit handles (every bound and certificate is at least linear in T); use a smaller T
    """
    if T > MAX_STEPS:
        raise ResourceError(
            f"T = {T} time steps is beyond the {MAX_STEPS} this toolkit handles (every bound and certificate is at "
            "least linear in T); use a smaller T"
        )
    return T


def _custom(T: int, steps: list) -> Partition:
    clean = []
    for s in steps:
        if isinstance(s, bool) or not hasattr(s, "__index__"):
            raise TnrnnError(f"partition steps must be integers, got {s!r}")
        clean.append(int(s))
    if len(set(clean)) != len(clean):
        raise TnrnnError(f"partition steps must not repeat: {sorted(clean)}")
    outside = [s for s in clean if not 1 <= s <= T]
    if outside:
        raise TnrnnError(f"partition steps must lie in 1..{T} (1-based), got {outside}")
    A = tuple(sorted(clean))
    in_a = set(A)
    B = tuple(t for t in range(1, T + 1) if t not in in_a)
    if not A or not B:
        raise TnrnnError(f"both sides of a partition must be non-empty (A = {list(A)}, T = {T})")
    return Partition(A, B, T, "custom")
