"""The flags every sweeping subcommand shares (``table``, ``memory-sweep``, ``capacity``).

Usage in a subcommand module::

    from tnrnn.cli.sweep_args import add_sweep_args, sweep_kwargs

    def register(subparsers):
        p = subparsers.add_parser("table", help="...")
        add_sweep_args(p, default_results="rank_table.jsonl")
        p.set_defaults(func=run)

    def run(args):
        records = run_sweep("tnrnn.rank:table_point", points, **sweep_kwargs(args), desc="rank table")
"""

from __future__ import annotations

import argparse
from typing import Any

from tnrnn.base.errors import TnrnnError
from tnrnn.base.io import output_file
from tnrnn.cli.common import positive_int, show_progress


def add_sweep_args(parser: argparse.ArgumentParser, *, default_results: str | None = None) -> None:
    """Add ``--workers N``, ``--scheduler URL``, ``--dask-local N``, ``--results PATH``, ``--no-progress``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    default_results : str, optional
        Results file used when ``--results`` is not given; ``None`` keeps results only in memory unless the
        user asks for a file.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_sweep_args(p, default_results="out.jsonl")
    >>> kw = sweep_kwargs(p.parse_args(["--dask-local", "2"]))   # progress: only when stderr is a terminal
    >>> sorted((k, v) for k, v in kw.items() if k != "progress")  # doctest: +NORMALIZE_WHITESPACE
    [('csv', None), ('executor', 'dask'), ('results', 'out.jsonl'), ('scheduler', None), ('security', None),
     ('workers', 2)]
    """
    group = parser.add_argument_group("sweep execution")
    group.add_argument("--workers", "-j", type=positive_int, default=None, metavar="N",
                       help="local worker processes (default 1)")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="URL",
                       help="run on the Dask cluster whose scheduler is at URL, e.g. tls://10.0.0.5:8786 with "
                            "--tls-ca-file/--tls-cert/--tls-key (or Dask's TLS configuration), or tcp://... on a "
                            "trusted network (its workers need tnrnn installed)")
    where.add_argument("--dask-local", type=positive_int, default=None, metavar="N",
                       help="start a local Dask cluster of N single-threaded worker processes and run on it "
                            "(loopback only, mutual TLS with temporary certificates)")
    group.add_argument("--tls-ca-file", default=None, metavar="PEM",
                       help="with a tls:// --scheduler: the CA certificate that signed the cluster's certificates")
    group.add_argument("--tls-cert", default=None, metavar="PEM",
                       help="with a tls:// --scheduler: this client's certificate (and key, unless --tls-key)")
    group.add_argument("--tls-key", default=None, metavar="PEM", help="with a tls:// --scheduler: the client's key")
    results_help = ("JSON-lines results file; each point is appended as it finishes, and a rerun skips finished "
                    "points and retries failed ones")
    if default_results is not None:
        results_help += f" (default {default_results})"
    group.add_argument("--results", default=default_results, metavar="PATH", help=results_help)
    group.add_argument("--csv", default=None, metavar="FILE.csv",
                       help="also write the sweep records as CSV (one flat row per point)")
    group.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def sweep_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for [`tnrnn.sweep.run_sweep`][tnrnn.sweep.runner.run_sweep] from arguments added by `add_sweep_args`.

    Returns a dict with ``results``, ``executor``, ``workers``, ``scheduler``, ``security`` (the TLS
    certificates of a ``tls://`` scheduler, checked here), ``progress`` and ``csv``; call
    ``run_sweep(task, points, **sweep_kwargs(args))``. The results and CSV paths are validated here (through
    [`tnrnn.base.io.output_file`][tnrnn.base.io.output_file]), before any work: an empty path, a folder, a FIFO or a device is refused.

    Raises
    ------
    TnrnnError
        If ``--workers`` is combined with ``--scheduler`` or ``--dask-local`` (the cluster sets the workers),
        TLS files are given without a ``tls://`` scheduler, or a results or CSV path is unusable.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_sweep_args(p)
    >>> kw = sweep_kwargs(p.parse_args(["--workers", "2", "--no-progress"]))
    >>> kw["executor"], kw["workers"], kw["progress"], kw["results"]
    ('local', 2, False, None)
    """
    workers = getattr(args, "workers", None)
    scheduler = getattr(args, "scheduler", None)
    dask_local = getattr(args, "dask_local", None)
    if workers is not None and (scheduler is not None or dask_local is not None):
        flag = "--scheduler" if scheduler is not None else "--dask-local N"
        raise TnrnnError(f"--workers applies to the local process pool; with {flag} the cluster sets the workers")
    if scheduler is not None and dask_local is not None:
        raise TnrnnError("use either --scheduler URL or --dask-local N, not both")
    tls_files = [getattr(args, name, None) for name in ("tls_ca_file", "tls_cert", "tls_key")]
    security = None
    if scheduler is not None:
        from tnrnn.sweep.dask import check_scheduler_address, tls_security

        if check_scheduler_address(scheduler).startswith("tls://"):
            security = tls_security(*tls_files)
    if any(f is not None for f in tls_files) and security is None:
        raise TnrnnError("--tls-ca-file, --tls-cert and --tls-key apply to a tls:// --scheduler only (--dask-local "
                         "makes its own certificates)")
    if scheduler is not None:
        executor, n = "dask", 1
    elif dask_local is not None:
        executor, n = "dask", dask_local
    else:
        executor, n = "local", workers or 1
    results = getattr(args, "results", None)
    csv = getattr(args, "csv", None)
    if results is not None:
        results = str(output_file(results, what="--results", default_name="results.jsonl"))
    if csv is not None:
        csv = str(output_file(csv, what="--csv", suffixes=(".csv",)))
    return {
        "results": results,
        "executor": executor,
        "workers": n,
        "scheduler": scheduler,
        "security": security,
        "progress": show_progress(not getattr(args, "no_progress", False)),
        "csv": csv,
    }
