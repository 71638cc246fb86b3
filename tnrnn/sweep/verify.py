"""Integrity report of a results file (``tnrnn verify``): each line ok, tampered, unsealed or unreadable.

The digest and key checks ([`tnrnn.sweep.store.record_problem`][tnrnn.sweep.store.record_problem]) find records edited by hand, damaged on
disk, or moved under another point's key. A forger who also recomputes the digest is only caught by
recomputation: with ``recompute=True`` every ok record of the rank table (task `RANK_TASK`) small enough
is recomputed through [`tnrnn.separation_rank`][tnrnn.rank.separation_rank] and its certified lower bound and exactness compared with
the stored ones; every other record says that it was not recomputed, and why.

Each line is judged on its own: a record that cannot be recomputed (parameters no genuine rank-table point
has) is reported as such and the others are still judged. A line cut by an interrupted writer is ``torn``, not
a fault, when nothing follows it or the next line is the provenance line of the run that resumed the file.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import check_input_file, scan_jsonl
from tnrnn.sweep.store import record_problem, torn_tail
from tnrnn.sweep.worker import error_text

__all__ = ["Verdict", "verify_results", "RANK_TASK", "RECOMPUTE_LIMITS"]

RANK_TASK = "tnrnn.rank:table_point"
# Largest points recomputed by default (each takes well under a second at these sizes); seeds: most runs.
RECOMPUTE_LIMITS = {"depth": 3, "width": 4, "features": 4, "time": 16, "seeds": 8}


@dataclass(frozen=True)
class Verdict:
    """One line of a results file: ``status`` is ``ok`` (sealed; ``detail`` says when ``recompute`` was asked and
    the record was not recomputed), ``tampered`` (digest or key wrong), ``unsealed``, ``unreadable``, ``torn``
    (cut by an interrupted writer, superseded by a resume), ``provenance``, ``recomputed`` (ok and confirmed),
    ``wrong`` (recomputed value differs) or ``unrecomputable`` (sealed, but its parameters cannot be recomputed).
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


def _seed_count(seeds: Any) -> int | None:
    if type(seeds) is int:
        return seeds
    if isinstance(seeds, list) and all(type(x) is int for x in seeds):
        return len(seeds)
    return None


def _not_small(params: dict) -> tuple[str, str] | None:
    """``(status, reason)`` when a rank-table point is not recomputed: ``"ok"`` beyond the recompute limits,
    ``"unrecomputable"`` for parameters no genuine point has; None when it may be recomputed.
    """
    for name in ("depth", "width", "features", "time"):
        value = params.get(name)
        if type(value) is not int:  # bool is not a size
            return "unrecomputable", f"{name} is not an integer"
    seeds = _seed_count(params.get("seeds", 2))
    if seeds is None:
        return "unrecomputable", "seeds is not a count or a list of integers"
    for name, value in (*((n, params[n]) for n in ("depth", "width", "features", "time")), ("seeds", seeds)):
        if value > RECOMPUTE_LIMITS[name]:
            return "ok", f"{name}={value} is beyond the recompute limit {RECOMPUTE_LIMITS[name]}"
    return None


def _recompute(rec: dict) -> Verdict:
    """Recompute a rank-table record's certified values, or say why it is not recomputed."""
    params = rec.get("params") or {}
    if rec.get("task") != RANK_TASK:
        return Verdict(0, rec["key"], "ok", f"digest ok; not recomputed (task {rec.get('task')} has no recomputation)")
    if rec.get("status") != "ok":
        return Verdict(0, rec["key"], "ok", "digest ok; not recomputed (an error record)")
    skipped = _not_small(params)
    if skipped is not None:
        return Verdict(0, rec["key"], skipped[0], f"digest ok; not recomputed ({skipped[1]})")
    from tnrnn.rac.spec import RACSpec
    from tnrnn.rank import separation_rank

    try:
        spec = RACSpec(depth=params["depth"], width=params["width"], features=params["features"])
        rep = separation_rank(spec, params["time"], params.get("partition", "start-end"),
                              params.get("domain", "onehot"), seeds=params.get("seeds", 2), progress=False)
    except (TnrnnError, TypeError, ValueError, ArithmeticError) as exc:
        # No genuine rank-table point has such parameters: say so, and judge the other records.
        return Verdict(0, rec["key"], "unrecomputable", f"its parameters cannot be recomputed ({error_text(exc)})")
    stored = rec["result"]
    then, now = _count_text(stored.get("lower")), _count_text(rep.lower)
    if (then, stored.get("exact")) != (now, rep.exact):
        return Verdict(0, rec["key"], "wrong", f"stored lower={then} exact={stored.get('exact')!r}, "
                                               f"recomputed lower={now} exact={rep.exact}")
    return Verdict(0, rec["key"], "recomputed", f"lower={now} exact={rep.exact} confirmed")


def _judge(value: Any, number: int, recompute: bool) -> Verdict:
    """The verdict of one parsed line."""
    if isinstance(value, dict) and value.get("kind") == "provenance":
        versions: dict = value["versions"] if isinstance(value.get("versions"), dict) else {}
        return Verdict(number, None, "provenance", f"written by tnrnn {versions.get('tnrnn')} at {value.get('time')}")
    key = value.get("key") if isinstance(value, dict) and isinstance(value.get("key"), str) else None
    problem = record_problem(value)
    if problem is None:
        if not recompute:
            return Verdict(number, key, "ok")
        checked = _recompute(value)
        return Verdict(number, key, checked.status, checked.detail)
    if problem.startswith("no digest"):
        return Verdict(number, key, "unsealed", problem)
    if problem.startswith(("digest", "key")):
        return Verdict(number, key, "tampered", problem)
    return Verdict(number, key, "unreadable", problem)


def verify_results(path: str | os.PathLike, *, recompute: bool = False) -> list[Verdict]:
    """One verdict per non-blank line of a results file.

    Parameters
    ----------
    path : str or path
        A results file written by [`tnrnn.sweep.run_sweep`][tnrnn.sweep.runner.run_sweep].
    recompute : bool
        Also recompute small rank-table records (see `RECOMPUTE_LIMITS`).

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
    verdicts: list[Verdict] = []
    lines = list(scan_jsonl(path))
    for k, line in enumerate(lines):
        if line.problem is not None:
            following = lines[k + 1] if k + 1 < len(lines) else None
            resumed = (following is not None and isinstance(following.value, dict)
                       and following.value.get("kind") == "provenance")
            if following is None and torn_tail(path):
                verdicts.append(Verdict(line.number, None, "torn", f"cut by an interrupted writer ({line.problem}); "
                                        "a rerun recomputes its point"))
            elif resumed and following is not None and line.problem.startswith("not JSON"):
                verdicts.append(Verdict(line.number, None, "torn", f"cut by an interrupted writer ({line.problem}); "
                                        f"superseded by the run that resumed at line {following.number}"))
            else:
                verdicts.append(Verdict(line.number, None, "unreadable", line.problem))
            continue
        try:
            verdicts.append(_judge(line.value, line.number, recompute))
        except Exception as exc:  # noqa: BLE001 - one record never hides the verdicts of the others
            verdicts.append(Verdict(line.number, None, "unreadable", f"cannot be judged ({error_text(exc)})"))
    return verdicts
