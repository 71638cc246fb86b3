"""The records of a certified lower bound: [`CertRun`][tnrnn.bounds.certificate.CertRun] (one seed and prime) and [`Certificate`][tnrnn.bounds.certificate.Certificate].

Both serialise to plain JSON and back, so a stored certificate can be re-checked: every run names its seed, prime
and matrix sizes, which is all [`tnrnn.bounds.certify.certify`][tnrnn.bounds.certify.certify] needs to reproduce it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tnrnn.base.errors import TnrnnError
from tnrnn.bounds.statement import GenericRankStatement

__all__ = ["CertRun", "Certificate", "CertificateError"]


class CertificateError(TnrnnError):
    """A certified value above a supplied upper bound: the upper bound is wrong, or there is a bug."""


@dataclass
class CertRun:
    """One certified run: a (seed, prime) pair and every matrix it tried.

    Attributes
    ----------
    seed, prime : int
        Weights are ``init_params_field(spec, seed, prime)`` (drawn from ``numpy.random.default_rng([seed,
        prime])``: every pair is an independent draw); sample points come from ``default_rng([seed, prime, stage])``.
    rank, rows, cols : int
        The best rank and the matrix that gave it.
    method : str
        ``"full one-hot table"``, ``"random one-hot sub-matrix"`` or ``"continuous sample matrix"``.
    seconds : float
    stages : list of [rows, cols, rank, seconds]
    stop : str
        Why growth stopped (``saturated``, ``met upper bound``, ``full table``, ``time budget``, ``memory budget``).
    """

    seed: int
    prime: int
    rank: int
    rows: int
    cols: int
    method: str
    seconds: float = 0.0
    stages: list = field(default_factory=list)
    stop: str = ""

    @property
    def saturated(self) -> bool:
        """The best matrix had rank below its size (sampling more would add nothing, generically)."""
        return self.rank < min(self.rows, self.cols)

    def to_json(self) -> dict:
        """JSON-ready dict (plain ints, floats and strings)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CertRun:
        """Inverse of [`to_json`][tnrnn.bounds.certificate.CertRun.to_json].

        >>> CertRun.from_json(CertRun(0, 7, 2, 3, 3, "x").to_json()).rank
        2
        """
        try:
            return cls(**{k: data[k] for k in ("seed", "prime", "rank", "rows", "cols", "method")},
                       seconds=float(data.get("seconds", 0.0)), stages=list(data.get("stages", [])),
                       stop=str(data.get("stop", "")))
        except (KeyError, TypeError) as err:
            raise TnrnnError(f"a certified run record needs seed, prime, rank, rows, cols, method: {err}") from None


@dataclass
class Certificate:
    """A certified lower bound on a separation rank and the runs that prove it.

    Attributes
    ----------
    rank : int
        The certified lower bound: the maximum rank over ``runs`` (0 when no run fitted the budget).
    runs : list of CertRun
    domain : str
    method : str
    output : int
    notes : list of str
        What was skipped and why.
    budget_seconds : float or None
        The time box it ran under (None: no box).
    next_size : dict or None
        ``{"rows", "cols", "work", "seconds"}``: the next matrix that could still raise the bound, its work units
        and estimated time (what budget would be needed for more); None when nothing bigger can help.
    statement : GenericRankStatement or None
        The probabilistic statement (filled in by the caller when a gap remains).
    budget_work : float or None
        The work budget it ran under (work units of the fixed cost model; None: no limit).
    """

    rank: int
    runs: list
    domain: str
    method: str
    output: int = 0
    notes: list = field(default_factory=list)
    budget_seconds: float | None = None
    next_size: dict | None = None
    statement: GenericRankStatement | None = None
    budget_work: float | None = None

    @property
    def seeds(self) -> list:
        """Seeds of the runs, in order."""
        return [r.seed for r in self.runs]

    @property
    def primes(self) -> list:
        """Primes of the runs, in order."""
        return [r.prime for r in self.runs]

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        return {"rank": self.rank, "runs": [r.to_json() for r in self.runs], "domain": self.domain,
                "method": self.method, "output": self.output, "notes": list(self.notes),
                "budget_seconds": self.budget_seconds, "budget_work": self.budget_work, "next_size": self.next_size,
                "statement": None if self.statement is None else self.statement.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> Certificate:
        """Inverse of [`to_json`][tnrnn.bounds.certificate.Certificate.to_json]."""
        st = data.get("statement")
        return cls(rank=int(data["rank"]), runs=[CertRun.from_json(r) for r in data.get("runs", [])],
                   domain=str(data["domain"]), method=str(data.get("method", "")), output=int(data.get("output", 0)),
                   notes=list(data.get("notes", [])), budget_seconds=data.get("budget_seconds"),
                   budget_work=data.get("budget_work"), next_size=data.get("next_size"), statement=None if st is None else GenericRankStatement.from_json(st))

    def __str__(self) -> str:
        lines = [f"certified rank >= {self.rank} ({self.domain}; {self.method})"]
        for r in self.runs:
            lines.append(f"  seed {r.seed:>3}  p {r.prime:>19}  rank {r.rank:>8}  from {r.rows} x {r.cols}"
                         f"  ({r.method}, {r.seconds:.2f} s; stopped: {r.stop})")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)
