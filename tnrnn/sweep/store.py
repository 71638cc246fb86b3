"""The results file of a sweep: point keys, sealed records, provenance, and reading that survives any line.

A results file is JSON lines. Each line is a *record* (one finished point) or a *provenance* line (who wrote
the records after it: tnrnn, Python, jax and numpy versions, command line, time). A line with a repeated JSON
key is refused (it would mean different things to different readers), and so is a record whose key is not the
one its task, params and schema give. Every record carries a ``digest``: the SHA-256 of its canonical JSON
(sorted keys, no spaces) without the digest, so a record edited by hand or damaged on disk (a certified ``lower`` changed to 999999, a flipped byte) is detected on load, flagged, and recomputed
instead of being reused. The digest is a checksum, not a signature: someone who rewrites the digest too can
forge a record; ``tnrnn verify --recompute`` recomputes certified values for that case.

Record format::

    {"key": str, "schema": str, "task": str, "params": dict, "status": "ok" | "error", "result": dict | None,
     "error": str | None, "seconds": float, "worker": str | None, "traceback": str | None, "digest": str}

The key hashes the task, its params and the result schema version (`SCHEMA_VERSION`, plus the task's
own ``result_schema`` attribute when it has one), so results of an older schema are recomputed, never reused.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import _default as _json_default
from tnrnn.base.io import scan_jsonl

log = logging.getLogger(__name__)

__all__ = ["SCHEMA_VERSION", "point_key", "seal", "record_problem", "torn_tail", "provenance", "read_results",
           "StoredResults", "check_task_form", "check_params", "canonical_json"]

# Bump when the meaning or shape of stored records changes: every stored point is then recomputed.
SCHEMA_VERSION = "2"

_TASK_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
_RECORD_FIELDS = {"key": str, "schema": str, "task": str, "params": dict, "status": str}
_MAX_WARNINGS = 5


def canonical_json(obj: Any, what: str) -> str:
    """Sorted-key compact JSON (numpy values converted); a [`TnrnnError`][tnrnn.base.errors.TnrnnError] naming ``what`` otherwise.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1, 2]}, "params")
    '{"a":[1,2],"b":1}'
    """
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                          default=_json_default)
    except (TypeError, ValueError) as exc:
        raise TnrnnError(f"{what} must be JSON-serialisable with finite numbers: {exc}") from None


def check_task_form(task: Any) -> str:
    """Check that ``task`` reads ``"package.module:function"``.

    Examples
    --------
    >>> check_task_form("tnrnn.sweep.demo:square")
    'tnrnn.sweep.demo:square'
    """
    if not isinstance(task, str) or not _TASK_RE.match(task):
        raise TnrnnError(
            f"task must be a string 'package.module:function' (e.g. 'tnrnn.sweep.demo:square'), got {task!r}"
        )
    return task


def check_params(params: Any, index: int | None = None) -> None:
    """Check that ``params`` is a dict with string keys (points are passed as ``function(**params)``).

    Examples
    --------
    >>> check_params({1: 2})
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: params has non-string keys [1]; points are passed as function(**params)
    """
    where = "params" if index is None else f"point {index}"
    if not isinstance(params, dict):
        raise TnrnnError(f"{where} must be a dict of keyword arguments, got {type(params).__name__}: {params!r}")
    bad = [k for k in params if not isinstance(k, str)]
    if bad:
        raise TnrnnError(f"{where} has non-string keys {bad!r}; points are passed as function(**params)")


def _hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:20]


def point_key(task: str, params: dict, schema: str | None = None) -> str:
    """Canonical key of one sweep point: a hash of ``{"task", "params", "schema"}`` as sorted-key JSON.

    Equal parameter dicts give equal keys regardless of key order; ``1`` and ``1.0`` are different points;
    another result schema gives another key (stale results are recomputed).

    Parameters
    ----------
    task : str
        ``"package.module:function"``.
    params : dict
        JSON-serialisable keyword arguments (numpy scalars and arrays are converted).
    schema : str, optional
        Result schema version; default `SCHEMA_VERSION`.

    Returns
    -------
    str
        20 hexadecimal digits.

    Raises
    ------
    TnrnnError
        If ``task`` is not of the form ``"package.module:function"`` or ``params`` is not a JSON-serialisable
        dict with string keys and finite numbers.

    Examples
    --------
    >>> point_key("m:f", {"a": 1, "b": 2}) == point_key("m:f", {"b": 2, "a": 1})
    True
    >>> point_key("m:f", {"a": 1}) == point_key("m:f", {"a": 1}, schema="0")
    False
    """
    check_task_form(task)
    check_params(params)
    return key_of_canonical(canonical_json({"task": task, "params": params}, "params"), schema)


def key_of_canonical(task_params_json: str, schema: str | None = None) -> str:
    """The key of a point given the canonical JSON of ``{"task", "params"}`` (see [`point_key`][tnrnn.sweep.store.point_key])."""
    return _hash(f'{{"schema":{json.dumps(schema or SCHEMA_VERSION)},"point":{task_params_json}}}')


def _digest(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(record: dict) -> dict:
    """Return ``record`` with its ``digest`` (SHA-256 of the rest, canonical JSON).

    Examples
    --------
    >>> rec = seal({"key": "k", "result": {"lower": 4}})
    >>> record_problem(rec, check_shape=False) is None
    True
    >>> record_problem(dict(rec, result={"lower": 999999}), check_shape=False)
    'digest does not match (record edited or corrupted)'
    """
    out = {k: v for k, v in record.items() if k != "digest"}
    # Digest what a reader will parse back, so float and tuple spellings cannot make a fresh record mismatch.
    out = json.loads(json.dumps(out, default=_json_default))
    out["digest"] = _digest(out)
    return out


def record_problem(rec: Any, *, check_shape: bool = True) -> str | None:
    """Why ``rec`` cannot be used as a stored sweep record, or ``None`` when it can.

    Examples
    --------
    >>> record_problem(42)
    'not a sweep record (int)'
    >>> rec = seal({"key": point_key("m:f", {"x": 1}), "schema": SCHEMA_VERSION, "task": "m:f", "params": {"x": 1},
    ...             "status": "ok", "result": {}})
    >>> record_problem(rec) is None, record_problem(seal(dict(rec, params={"x": 2})))
    (True, 'key does not match its task, params and schema (record moved or edited)')
    """
    if not isinstance(rec, dict):
        return f"not a sweep record ({type(rec).__name__})"
    if check_shape:
        for name, kind in _RECORD_FIELDS.items():
            if not isinstance(rec.get(name), kind):
                return f"not a sweep record of schema {SCHEMA_VERSION} (field {name!r} missing or not {kind.__name__})"
        if rec["status"] not in ("ok", "error"):
            return f"unknown status {rec['status']!r}"
        if rec["status"] == "ok" and not isinstance(rec.get("result"), dict):
            return "an 'ok' record without a result dict"
    if not isinstance(rec.get("digest"), str):
        return "no digest (written by an older tnrnn, or by hand)"
    try:
        if rec["digest"] != _digest(rec):
            return "digest does not match (record edited or corrupted)"
    except (TypeError, ValueError):
        return "digest does not match (record holds values JSON cannot write back)"
    if check_shape:
        # The key is derived from the task, the params and the schema: a genuine record moved under another
        # point's key (its digest recomputed) would otherwise stand for that point.
        try:
            want = key_of_canonical(canonical_json({"task": rec["task"], "params": rec["params"]}, "params"),
                                    rec["schema"])
        except TnrnnError:
            return "key cannot be derived from its params (not JSON with finite numbers)"
        if rec["key"] != want:
            return "key does not match its task, params and schema (record moved or edited)"
    return None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def provenance() -> dict:
    """The provenance line written before the records of each run (versions without importing jax).

    Examples
    --------
    >>> p = provenance()
    >>> p["kind"], p["schema"] == SCHEMA_VERSION, sorted(p["versions"])
    ('provenance', True, ['jax', 'numpy', 'python', 'tnrnn'])
    """
    from tnrnn import __version__

    return {
        "kind": "provenance",
        "schema": SCHEMA_VERSION,
        "versions": {"tnrnn": __version__, "python": platform.python_version(), "jax": _version("jax"),
                     "numpy": _version("numpy")},
        "argv": list(sys.argv),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "pid": os.getpid(),
    }


@dataclass
class StoredResults:
    """What a results file holds: usable records by key, provenance lines, and per-line problems."""

    path: Path
    records: dict[str, dict] = field(default_factory=dict)
    provenance: list[dict] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    lines: int = 0

    def warn(self, consequence: str = "line ignored (its point, if any, is recomputed)") -> None:
        """Log each problem (at most five, then a count) as a warning naming the file and line.

        Warnings go through ``logging`` (logger ``tnrnn.sweep.store``): on stderr by default and under the command
        line, and wherever an application that uses tnrnn sends its logs.
        """
        for number, problem in self.problems[:_MAX_WARNINGS]:
            log.warning("%s:%d: %s; %s", self.path, number, problem, consequence)
        if len(self.problems) > _MAX_WARNINGS:
            log.warning("%s: %d more unusable lines", self.path, len(self.problems) - _MAX_WARNINGS)


def read_results(path: str | os.PathLike, *, strict_kind: bool = True) -> StoredResults:
    """Read a results file: key -> latest usable record, with every unusable line reported (never raised).

    A torn last line (a writer killed mid-write) is not a problem. A missing file reads as empty.

    Parameters
    ----------
    path : str or path
    strict_kind : bool
        Refuse a non-empty file with no sweep record or provenance line at all (e.g. a file holding ``42``):
        it is not a results file, and appending to it would damage it.

    Raises
    ------
    TnrnnError
        ``path`` is not a regular file (folder, FIFO, device), or (``strict_kind``) not a results file.

    Examples
    --------
    >>> read_results("/nonexistent/sweep.jsonl").records
    {}
    """
    out = StoredResults(Path(path))
    recognised = False
    last_torn = None
    for line in scan_jsonl(path):
        out.lines = line.number
        last_torn = None
        if line.problem is not None:
            # A last line that does not parse is the normal trace of a killed writer: skipped silently.
            last_torn = (line.number, line.problem)
            out.problems.append(last_torn)
            continue
        value = line.value
        if isinstance(value, dict) and value.get("kind") == "provenance":
            out.provenance.append(value)
            recognised = True
            continue
        problem = record_problem(value)
        if isinstance(value, dict) and isinstance(value.get("key"), str):
            recognised = True
        if problem is None:
            out.records[value["key"]] = value
        else:
            out.problems.append((line.number, problem))
    if last_torn is not None and out.problems and out.problems[-1] == last_torn and torn_tail(out.path):
        out.problems.pop()
    if strict_kind and out.lines and not recognised:
        first = out.problems[0] if out.problems else (1, "no sweep record")
        raise TnrnnError(f"{str(out.path)!r} is not a tnrnn results file (line {first[0]}: {first[1]}); "
                         "choose another results path")
    return out


def torn_tail(path: str | os.PathLike) -> bool:
    """True when the file does not end with a newline (its last line was cut by a killed writer)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"
    except OSError:
        return False
