"""Sweep records as tables: one flat row per point, written as CSV (``--csv``) or loaded as a pandas DataFrame.

A row holds the point's ``key``, ``task``, ``status``, ``error`` and ``seconds``, then its params, then its
result (a result field of the same name as a param wins: results echo their params). An exact count
``{"value", "log2"}`` becomes two columns named as in ``tnrnn table --csv``: ``upper`` (the exact decimal text,
or ``b^e * ...`` when huge) and ``upper_log2``; other nested dicts are flattened with dots
(``certificate.primes``); lists are kept as JSON text. The CSV that [`write_results_csv`][tnrnn.sweep.export.write_results_csv] writes (``--csv``
of the sweep commands) and the DataFrame of [`load_results`][tnrnn.sweep.export.load_results] have the same columns.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import check_input_file, write_csv
from tnrnn.sweep.store import read_results

__all__ = ["flat_row", "write_results_csv", "load_results"]

_META = ("key", "task", "status", "error", "seconds")


def _is_count(value: Any) -> bool:
    """An exact count as every JSON of tnrnn writes it: ``{"value": "<decimal>", "log2": float | None}``."""
    return isinstance(value, dict) and set(value) == {"value", "log2"} and isinstance(value["value"], str)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if _is_count(value) and prefix:
        out[prefix] = value["value"]
        out[f"{prefix}_log2"] = value["log2"]
    elif isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list):
        out[prefix] = json.dumps(value, sort_keys=True)
    else:
        out[prefix] = value


def flat_row(record: dict) -> dict[str, Any]:
    """One flat row of a sweep record.

    Examples
    --------
    >>> flat_row({"key": "k", "task": "m:f", "status": "ok", "error": None, "seconds": 0.5,
    ...           "params": {"x": 2}, "result": {"x": 2, "upper": {"value": "4", "log2": 2.0}}})
    {'key': 'k', 'task': 'm:f', 'status': 'ok', 'error': None, 'seconds': 0.5, 'x': 2, 'upper': '4', 'upper_log2': 2.0}
    """
    row = {k: record.get(k) for k in _META}
    merged = {**(record.get("params") or {}), **(record.get("result") or {})}
    _flatten("", merged, row)
    return row


def write_results_csv(records: list[dict], path: str | os.PathLike) -> Path:
    """Write sweep records as CSV atomically (columns: the union of the rows' fields, in order of appearance).

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_results_csv([{"key": "k", "status": "ok", "params": {"x": 1}, "result": {"y": 2}}],
    ...                       os.path.join(tempfile.mkdtemp(), "r.csv"))
    >>> p.read_text().splitlines()
    ['key,task,status,error,seconds,x,y', 'k,,ok,,,1,2']
    """
    return write_csv(path, [flat_row(r) for r in records])


def load_results(path: str | os.PathLike) -> Any:
    """A results file as a pandas DataFrame, one row per point (the latest usable record of each).

    Records that fail their digest or have another shape are left out, with a warning on stderr naming the
    file and line.

    Parameters
    ----------
    path : str or path
        A JSON-lines results file written by [`tnrnn.sweep.run_sweep`][tnrnn.sweep.runner.run_sweep].

    Returns
    -------
    pandas.DataFrame
        Columns as described in [`tnrnn.sweep.export`][tnrnn.sweep.export].

    Raises
    ------
    TnrnnError
        pandas is not installed, the file is missing or not a regular file, or not a results file.

    Examples
    --------
    >>> import os, tempfile
    >>> from tnrnn.sweep import run_sweep
    >>> path = os.path.join(tempfile.mkdtemp(), "sweep.jsonl")
    >>> _ = run_sweep("tnrnn.sweep.demo:square", [{"x": 2}, {"x": 3}], path, executor="serial", progress=False)
    >>> load_results(path)[["x", "square"]].to_dict("list")
    {'x': [2, 3], 'square': [4, 9]}
    """
    try:
        import pandas as pd
    except ImportError:
        raise TnrnnError("load_results needs pandas; install it with: pip install pandas") from None
    check_input_file(path, "results file")
    stored = read_results(path)
    stored.warn("line left out")
    return pd.DataFrame([flat_row(r) for r in stored.records.values()])
