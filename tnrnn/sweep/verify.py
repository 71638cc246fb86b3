"""Integrity report of a results file (``tnrnn verify``): each line ok, tampered, unsealed or unreadable.

The digest check (:func:`tnrnn.sweep.store.record_problem`) finds records edited by hand or damaged on disk.
A forger who also recomputes the digest is only caught by recomputation: with ``recompute=True`` every ok
record of the rank table (task :data:`RANK_TASK`) small enough is recomputed through
:func:`tnrnn.separation_rank` and its certified lower bound and exactness compared with the stored ones.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from tnrnn.base.io import check_input_file, scan_jsonl
from tnrnn.sweep.store import record_problem

__all__ = ["Verdict", "verify_results", "RANK_TASK", "RECOMPUTE_LIMITS"]

RANK_TASK = "tnrnn.rank:table_point"
# Largest points recomputed by default (each takes well under a second at these sizes).
RECOMPUTE_LIMITS = {"depth": 3, "width": 4, "features": 4, "time": 16}


@dataclass(frozen=True)
class Verdict:
    """One line of a results file: ``status`` is ``ok``, ``tampered``, ``unsealed``, ``unreadable``,
    ``provenance``, ``recomputed`` (ok and confirmed) or ``wrong`` (recomputed value differs).
    """

    line: int
    key: str | None
    status: str
    detail: str = ""

    def to_json(self) -> dict:
        """The verdict as a plain dict."""
        return asdict(self)


def _count_text(value: Any) -> str:
    """An exact count as its decimal text, whichever form holds it (int, ExactCount, or its JSON)."""
    if isinstance(value, dict) and "value" in value:
        return str(value["value"])
    if hasattr(value, "to_json"):
        return str(value.to_json()["value"])
    return str(value)


def _small(params: dict) -> bool:
    return all(isinstance(params.get(k), int) and params[k] <= v for k, v in RECOMPUTE_LIMITS.items())


def _recompute(rec: dict) -> Verdict | None:
    """Recompute a rank-table record's certified values; ``None`` when the record is not one or too large."""
    params = rec.get("params") or {}
    if rec.get("task") != RANK_TASK or rec.get("status") != "ok" or not _small(params):
        return None
    from tnrnn.rac.spec import RACSpec
    from tnrnn.rank import separation_rank

    spec = RACSpec(depth=params["depth"], width=params["width"], features=params["features"])
    rep = separation_rank(spec, params["time"], params.get("partition", "start-end"), params.get("domain", "onehot"),
                          seeds=params.get("seeds", 2), progress=False)
    stored = rec["result"]
    then, now = _count_text(stored.get("lower")), _count_text(rep.lower)
    if (then, stored.get("exact")) != (now, rep.exact):
        return Verdict(0, rec["key"], "wrong", f"stored lower={then} exact={stored.get('exact')!r}, "
                                               f"recomputed lower={now} exact={rep.exact}")
    return Verdict(0, rec["key"], "recomputed", f"lower={now} exact={rep.exact} confirmed")


def verify_results(path: str | os.PathLike, *, recompute: bool = False) -> list[Verdict]:
    """One verdict per non-blank line of a results file.

    Parameters
    ----------
    path : str or path
        A results file written by :func:`tnrnn.sweep.run_sweep`.
    recompute : bool
        Also recompute small rank-table records (see :data:`RECOMPUTE_LIMITS`).

    Returns
    -------
    list of Verdict

    Raises
    ------
    TnrnnError
        Missing file, or not a regular file.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from tnrnn.sweep import run_sweep
    >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> _ = run_sweep("tnrnn.sweep.demo:square", [{"x": 2}], path, executor="serial", progress=False)
    >>> [v.status for v in verify_results(path)]
    ['provenance', 'ok']
    >>> lines = open(path).read().splitlines()
    >>> rec = json.loads(lines[1]); rec["result"]["square"] = 5
    >>> _ = open(path, "w").write(lines[0] + "\\n" + json.dumps(rec) + "\\n")
    >>> [v.status for v in verify_results(path)]
    ['provenance', 'tampered']
    """
    check_input_file(path, "results file")
    verdicts = []
    for line in scan_jsonl(path):
        if line.problem is not None:
            verdicts.append(Verdict(line.number, None, "unreadable", line.problem))
            continue
        rec: Any = line.value
        if isinstance(rec, dict) and rec.get("kind") == "provenance":
            verdicts.append(Verdict(line.number, None, "provenance", f"written by tnrnn "
                                    f"{(rec.get('versions') or {}).get('tnrnn')} at {rec.get('time')}"))
            continue
        key = rec.get("key") if isinstance(rec, dict) and isinstance(rec.get("key"), str) else None
        problem = record_problem(rec)
        if problem is None:
            checked = _recompute(rec) if recompute else None
            verdicts.append(Verdict(line.number, key, checked.status, checked.detail) if checked
                            else Verdict(line.number, key, "ok"))
        elif problem.startswith("no digest"):
            verdicts.append(Verdict(line.number, key, "unsealed", problem))
        elif problem.startswith("digest"):
            verdicts.append(Verdict(line.number, key, "tampered", problem))
        else:
            verdicts.append(Verdict(line.number, key, "unreadable", problem))
    return verdicts
