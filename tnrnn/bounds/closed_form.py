"""The closed form of the Start-End min-cut of a RAC's continuous-form network (docs/theory.md, 'Closed form').

Theorem. For the Start-End partition of T = 2k steps and M >= R, the minimum cut of the duplicated
(continuous-form) network of a depth-L RAC is ``R^S(k, L)`` with

    S(k, L) = sum_{j=1..min(k, L)} C(k + L - 2j, L - j)        (symmetric in k and L),

the number of copies of the "diagonal" states ``h[k + j, j]`` in the network.

Proof sketch. The network is a tree whose nodes are copies of the states ``h[t, l]``; a copy of ``h[t, l]`` has an
input child (a copy of ``h[t, l-1]``, or the open leg of ``x_t`` when l = 1) and a hidden child (a copy of
``h[t-1, l]``). There are ``C(k + L - 2j, L - j)`` copies of ``h[k + j, j]`` (monotone lattice paths up to the root
``h[2k, L]``). *At most*: put ``h[t, l]`` on side B when ``t - k >= l`` and on side A otherwise. Every input leg lies
on its step's side, and a bond crosses only at a diagonal copy (``t - k = l``): its hidden bond when its consumer
is on side B, else its input bond (the copy joins side A). One R bond per diagonal copy: ``R^S``. *At least*: each
diagonal copy starts two paths inside its own subtree, one down its input chain ``h[k+j, j-1], ..., x_{k+j}`` to a
B leg and one down its hidden chain at layer j to time 1 and then its input chain to ``x_1``, an A leg. Paths of
different diagonal copies use disjoint edges (a path only visits descendants of its own copy that have no other
diagonal copy between them and it), so there are S edge-disjoint A-B paths; every edge on them has dimension R or
M >= R, and by max-flow/min-cut no cut costs less than ``R^S``. With M < R cutting input legs can be cheaper and the
structured DP ([`tnrnn.bounds.mincut.rac_mincut`][tnrnn.bounds.mincut.rac_mincut]) is used instead.

Hence the saving below the ``W_H`` cut ``R^C(k + L - 1, L - 1)`` comes from cutting each diagonal copy once, not
from input legs (the value is unchanged at M = 2^40).
"""

from __future__ import annotations

import math

from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import ResourceError
from tnrnn.rac.partition import Partition
from tnrnn.rac.spec import RACSpec

# Exponents of more bits than this would put log2 of the bound beyond float range (as the structured DP refuses).
_MAX_EXPONENT_BITS = 900


def diagonal_count(k: int, L: int) -> int:
    """``S(k, L) = sum_{j=1..min(k, L)} C(k + L - 2j, L - j)``: copies of the diagonal states ``h[k + j, j]``.

    Parameters
    ----------
    k : int
        Steps on each side of the Start-End cut (T / 2), at least 1.
    L : int
        Depth, at least 1.

    Returns
    -------
    int
        The exponent of R in the Start-End min-cut of the continuous-form network when M >= R.

    Examples
    --------
    >>> diagonal_count(4, 1), diagonal_count(4, 2), diagonal_count(512, 4)
    (1, 5, 22632191)
    >>> diagonal_count(3, 5) == diagonal_count(5, 3)
    True
    """
    return sum(math.comb(k + L - 2 * j, L - j) for j in range(1, min(k, L) + 1))


def is_start_end(partition: Partition) -> bool:
    """Whether one side of ``partition`` is exactly the first half ``1..T/2`` of an even T.

    Examples
    --------
    >>> from tnrnn.rac.partition import make_partition
    >>> is_start_end(make_partition(6)), is_start_end(make_partition(6, "4,5,6")), is_start_end(make_partition(6, "odd-even"))
    (True, True, False)
    """
    T = partition.T
    if T % 2:
        return False
    half = T // 2
    return any(len(side) == half and side[0] == 1 and side[-1] == half for side in (partition.A, partition.B))


def closed_form_mincut(spec: RACSpec, partition: Partition) -> ExactCount | None:
    """``R^S(T/2, L)``, the continuous-form Start-End min-cut, or None where the theorem does not apply.

    Parameters
    ----------
    spec : RACSpec
    partition : Partition
        Validated partition; the closed form needs the Start-End one.

    Returns
    -------
    ExactCount or None
        None unless the partition is Start-End and ``M >= R`` (the structured DP covers the rest).

    Raises
    ------
    ResourceError
        The exponent S has more than 900 bits (log2 of the bound beyond floating-point range).

    Examples
    --------
    >>> from tnrnn.rac.partition import make_partition
    >>> str(closed_form_mincut(RACSpec(4, 2, 2), make_partition(1024)))
    '2^22632191'
    >>> closed_form_mincut(RACSpec(2, 3, 2), make_partition(8)) is None   # M < R
    True
    """
    if spec.M < spec.R or not is_start_end(partition):
        return None
    S = diagonal_count(partition.T // 2, spec.L)
    if S.bit_length() > _MAX_EXPONENT_BITS:
        raise ResourceError(
            f"the Start-End min-cut of L={spec.L}, T={partition.T} is R^S with S of {S.bit_length()} bits: beyond the "
            "floating-point range of log2 used to compare and print bounds; use a smaller T or depth"
        )
    return ExactCount.power(spec.R, S)
