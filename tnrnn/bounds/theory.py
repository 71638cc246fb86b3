"""Published values for the separation rank of RACs (docs/theory.md, 'Results of the literature'), labelled
theorem or conjecture.

All three come from Levine, Sharir, Ziv and Shashua, "On the long-term memory of deep recurrent networks"
(arXiv 1710.09431; its ICLR 2018 workshop version is Levine, Sharir and Shashua, "Benefits of depth for long-term
memory of recurrent networks"), and concern the Start-End partition and almost all weights:

* shallow (Theorem 1, part 1): ``sep = min(R, M^(T/2))`` for L = 1;
* depth 2 (Theorem 1, part 2): ``sep >= ((min(M, R), T/2))`` for L = 2 (valid, not tight);
* depth L (conjecture): ``sep >= ((min(M, R), C(T/2 + L - 2, L - 1)))`` for L >= 3 (at L = 2 it is the theorem).
  It concerns the continuous domain. On the one-hot domain its value can exceed the trivial bound ``M^(T/2)``
  (L = 3, M = R = 3, T = 4: it says 10, the one-hot table has rank 9); there it does not apply, and
  [`theory_values`][tnrnn.bounds.theory.theory_values] marks it so ("does not apply on the one-hot domain (exceeds the trivial bound)") rather
  than calling it refuted. [`contradictions`][tnrnn.bounds.theory.contradictions] flags every applicable value a certified bound rules out.

The min-cut bound ([`tnrnn.bounds.mincut`][tnrnn.bounds.mincut]) is a different paper: Levine, Yakira, Cohen and Shashua, "Deep
learning and quantum entanglement" (ICLR 2018); see `MINCUT_SOURCE`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tnrnn.base.counts import ExactCount
from tnrnn.bounds.algebraic import _check, multiset_count, trivial_bound
from tnrnn.rac.partition import Partition
from tnrnn.rac.spec import RACSpec

SOURCE = (
    "Levine, Sharir, Ziv, Shashua: On the long-term memory of deep recurrent networks (arXiv 1710.09431); "
    "workshop version Levine, Sharir, Shashua: Benefits of depth for long-term memory of recurrent networks "
    "(ICLR 2018 workshop)"
)
#: Where the min-cut upper bound comes from (reported beside the bounds, not the theory values).
MINCUT_SOURCE = "Levine, Yakira, Cohen, Shashua: Deep learning and quantum entanglement (ICLR 2018)"
#: How a lower-bound statement whose value exceeds the one-hot trivial bound is labelled.
ONEHOT_NOT_APPLICABLE = "does not apply on the one-hot domain (exceeds the trivial bound)"


@dataclass(frozen=True)
class TheoryValue:
    """One published statement about the separation rank, evaluated for a configuration.

    Attributes
    ----------
    name : str
        ``"shallow"``, ``"depth-2"`` or ``"depth-L"``.
    kind : str
        ``"theorem"`` or ``"conjecture"``.
    relation : str
        ``"="`` (the generic separation rank equals ``value``) or ``">="`` (it is at least ``value``).
    value : ExactCount
    applies : bool
        Whether the statement's hypotheses (depth, Start-End partition, and on the one-hot domain a value within the
        trivial bound) hold for this configuration; the value is
        still computed (with ``T // 2``) when they do not.
    source : str
    note : str
    """

    name: str
    kind: str
    relation: str
    value: ExactCount
    applies: bool
    source: str
    note: str

    def contradicted_by(self, lower: ExactCount | int | None = None, upper: ExactCount | int | None = None) -> str | None:
        """Why a certified lower bound or a valid upper bound refutes this statement, or None.

        ``">="`` is refuted by an upper bound below the value; ``"="`` also by a lower bound above it. Statements
        that do not apply are never contradicted.

        Examples
        --------
        >>> v = theory_values(RACSpec(3, 3, 3), 4, "start-end", "continuous")[-1]
        >>> v.contradicted_by(lower=9, upper=9)
        'depth-L conjecture says sep >= 10, but the upper bound is 9'
        >>> theory_values(RACSpec(3, 3, 3), 4, "start-end", "onehot")[-1].contradicted_by(lower=9, upper=9) is None
        True
        """
        if not self.applies:
            return None
        if upper is not None and ExactCount(upper) < self.value:
            return f"{self.name} {self.kind} says sep {self.relation} {self.value}, but the upper bound is {ExactCount(upper)}"
        if self.relation == "=" and lower is not None and ExactCount(lower) > self.value:
            return f"{self.name} {self.kind} says sep = {self.value}, but the certified lower bound is {ExactCount(lower)}"
        return None

    def to_json(self) -> dict:
        """JSON-ready dict; ``value`` is a count ``{"value", "log2"}`` like every count tnrnn writes.

        >>> theory_values(RACSpec(2, 3, 3), 8)[1].to_json()["value"]
        {'value': '15', 'log2': 3.9068905956085187}
        """
        return {
            "name": self.name,
            "kind": self.kind,
            "relation": self.relation,
            "value": self.value.to_json(),
            "value_log2": self.value.log2,
            "applies": self.applies,
            "source": self.source,
            "note": self.note,
        }


def theory_values(
    spec: RACSpec, T: int, partition: Partition | str = "start-end", domain: str = "onehot"
) -> list[TheoryValue]:
    """The three published statements evaluated for ``spec``, T, the partition and the domain.

    Every statement is listed (so tables have the same columns for every depth); ``applies`` says whether its
    hypotheses hold: the right depth and the Start-End partition. On the one-hot domain a lower-bound statement
    whose value exceeds the trivial bound ``M^min(|A|,|B|)`` is refuted outright, and its note says so.

    Examples
    --------
    >>> [(v.name, v.kind, v.relation, str(v.value), v.applies) for v in theory_values(RACSpec(2, 3, 3), 8)]
    [('shallow', 'theorem', '=', '3', False), ('depth-2', 'theorem', '>=', '15', True), ('depth-L', 'conjecture', '>=', '15', False)]
    """
    part = _check(spec, T, partition, domain)
    L, R, M = spec.L, spec.R, spec.M
    half = T // 2
    # a custom side A of 1..T/2 (or T/2+1..T) is the Start-End partition too
    start_end = T % 2 == 0 and tuple(range(1, half + 1)) in (part.A, part.B)
    q = min(M, R)
    where = "" if start_end else " (stated for the Start-End partition only)"
    trivial = trivial_bound(spec, T, part, domain)

    def exceeds(value: ExactCount) -> bool:
        return trivial is not None and value > trivial

    def refuted_note(value: ExactCount) -> str:
        if exceeds(value):
            return (
                f"; {ONEHOT_NOT_APPLICABLE}: the value exceeds M^min(|A|,|B|) = {trivial}, and the statement concerns "
                "the continuous domain"
            )
        return ""

    shallow = ExactCount(min(R, M**half)) if half * math.log2(M) < 64 else ExactCount(R)
    depth2 = multiset_count(q, half)
    depthL = multiset_count(q, math.comb(half + L - 2, L - 1)) if L >= 2 else multiset_count(q, half)
    return [
        TheoryValue(
            "shallow",
            "theorem",
            "=",
            shallow,
            L == 1 and start_end,
            f"{SOURCE}, Theorem 1 part 1",
            "sep_(S,E) = min(R, M^(T/2)) for L = 1 and almost all weights" + where,
        ),
        TheoryValue(
            "depth-2",
            "theorem",
            ">=",
            depth2,
            L == 2 and start_end and not exceeds(depth2),
            f"{SOURCE}, Theorem 1 part 2",
            "sep_(S,E) >= ((min(M,R), T/2)) for L = 2 and almost all weights; valid, not tight" + where + refuted_note(depth2),
        ),
        TheoryValue(
            "depth-L",
            "conjecture",
            ">=",
            depthL,
            L >= 3 and start_end and not exceeds(depthL),
            f"{SOURCE}, conjecture",
            "sep_(S,E) >= ((min(M,R), C(T/2+L-2, L-1))) for depth L >= 3 (at L = 2 it is the depth-2 theorem)"
            + where
            + refuted_note(depthL),
        ),
    ]


def contradictions(values: list[TheoryValue], lower: ExactCount | int | None, upper: ExactCount | int | None) -> list[str]:
    """Messages for every applicable statement that the certified ``lower`` or the valid ``upper`` bound refutes.

    Examples
    --------
    >>> contradictions(theory_values(RACSpec(3, 3, 3), 4, "start-end", "continuous"), 9, 9)
    ['depth-L conjecture says sep >= 10, but the upper bound is 9']
    """
    out = []
    for v in values:
        msg = v.contradicted_by(lower, upper)
        if msg:
            out.append(msg)
    return out
