"""Resumable parameter sweeps on a local process pool or a Dask cluster.

A sweep is a task function named by a string (``"package.module:function"``) and a list of plain parameter
dicts. Each point runs as ``function(**params)`` in a worker and returns a JSON-serialisable dict. The modules,
in the order of the flow:

- [`store`][tnrnn.sweep.store]: point keys (with the result schema version), sealed records, provenance lines,
  and reading a results file that survives any corrupt line;
- [`worker`][tnrnn.sweep.worker]: what runs in a worker (warm: the task is imported once per process);
- [`local`][tnrnn.sweep.local]: the warm local process pool; [`dask`][tnrnn.sweep.dask]: the Dask executor;
- [`runner`][tnrnn.sweep.runner]: [`run_sweep`][tnrnn.sweep.runner.run_sweep]; [`export`][tnrnn.sweep.export]: CSV and DataFrame views;
- [`verify`][tnrnn.sweep.verify]: the integrity report behind ``tnrnn verify``.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "sweep.jsonl")
>>> recs = run_sweep("tnrnn.sweep.demo:square", [{"x": 2}, {"x": 3}], path, executor="serial", progress=False)
>>> [r["result"]["square"] for r in recs]
[4, 9]
>>> sorted(r["result"]["square"] for r in read_results(path).records.values())
[4, 9]
"""

from tnrnn.sweep.export import load_results, write_results_csv
from tnrnn.sweep.local import SweepExecutorError
from tnrnn.sweep.runner import EXECUTORS, run_sweep
from tnrnn.sweep.store import SCHEMA_VERSION, point_key, read_results
from tnrnn.sweep.worker import DIED_ERROR

__all__ = ["run_sweep", "point_key", "read_results", "load_results", "write_results_csv", "SweepExecutorError",
           "EXECUTORS", "DIED_ERROR", "SCHEMA_VERSION"]
