"""The ``tnrnn`` command line.

Each subcommand lives in its own module of this package, which defines ``register(subparsers)``; this module
only assembles them and turns every user error into one readable line with exit status 2.

Conventions shared by every command: defaults are shown in ``--help``; ``--debug`` (before or after the command
name) shows the full traceback of an error instead of one line; ``tnrnn --version`` prints the versions of
tnrnn and of the libraries its numbers depend on. Only the module of the command being run is imported, so
commands that need no jax (``rank``, ``build``, ``table``, ...) start without importing it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from tnrnn.base.budget import default_budget_bytes, default_budget_flops
from tnrnn.base.errors import TnrnnError
from tnrnn.cli.common import positive_int, warnings_to_stderr

#: command name -> module that registers it (commands not listed here load every module).
_COMMAND_OWNER = {
    "demo": "demo", "build": "build", "rank": "rank", "table": "rank", "render": "render", "gallery": "render",
    "train": "memory", "memory-sweep": "memory", "capacity": "capacity", "probe": "probe", "verify": "verify",
    "memory-powered": "memory_studies",
}


#: command name -> one-line help, shown by ``tnrnn --help`` without importing the commands' modules (capacity's
#: would import jax: 3 s instead of a fraction of one). tests/cli/test_startup.py checks that each module
#: registers its command with this same text.
COMMAND_HELP = {
    "demo": "what depth buys: shallow vs deep separation ranks side by side, and the deep network with its cut",
    "build": "build a RAC tensor network: node/edge counts, input copies, contraction cost",
    "rank": "bounds, certified lower bound and theory for one separation rank",
    "table": "rank table across T and depth (resumable sweep)",
    "render": "draw a RAC as a tensor network with its partition and min-cut (.svg or .png)",
    "gallery": "regenerate the gallery of canonical figures (networks with min-cuts, rank curves)",
    "train": "train one recurrent network on a long-term memory task",
    "memory-sweep": "test accuracy against T for several cells and depths, over seeds",
    "capacity": "capacity and trainability studies: bits per parameter, per-unit memory, MC, depth",
    "probe": "Start-End singular values and effective rank of a trained network (float estimates)",
    "verify": "check a results file: each record ok, tampered, unsealed or unreadable",
    "memory-powered": "the powered depth study of Copying Memory (paired seeds, authors' scoRNN); --dry-run sizes it",
}


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows every default and keeps the descriptions' line breaks (examples stay readable)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, argparse.SUPPRESS):
            return text  # a help text that states its default itself, or nothing worth showing
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (the error, then the usage), exit 2, and whose help shows defaults."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        raise _UsageError(f"{self.prog}: error: {message} ({usage})")


class _UsageError(Exception):
    pass


def version_text() -> str:
    """The versions of tnrnn and of the libraries its results depend on, one line.

    Examples
    --------
    >>> version_text().startswith("tnrnn ")
    True
    """
    from importlib import metadata

    import tnrnn

    parts = [f"tnrnn {tnrnn.__version__}", f"python {sys.version.split()[0]}"]
    for dist in ("numpy", "jax", "python-flint", "tensornetwork", "networkx", "scipy"):
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist} (not installed)")
    return ", ".join(parts)


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the ``tnrnn`` argument parser.

    Parameters
    ----------
    command : str, optional
        When it names a known subcommand, only the module that defines it is imported and registered (fast
        start-up); otherwise every command is listed with its help (`COMMAND_HELP`) and none is imported.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> parser = build_parser("rank")
    >>> parser.parse_args(["rank", "-L", "2", "-T", "4"]).command
    'rank'
    """
    parser = _Parser(prog="tnrnn", description="Separation ranks and long-term memory of recurrent networks.")
    parser.add_argument("--version", action=_VersionAction, help="print the versions of tnrnn and its libraries")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    owner = _COMMAND_OWNER.get(command or "")
    if owner is None:
        # No known command (``tnrnn --help``, a typo): list the commands with their help, importing none of them.
        for name, text in COMMAND_HELP.items():
            sub.add_parser(name, help=text, add_help=False)
        return parser
    importlib.import_module(f"{__name__}.{owner}").register(sub)
    for action in sub.choices.values():
        _add_common_options(action)
    return parser


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--debug`` and ``--budget-mb`` on every subcommand (unless the command defines them itself)."""
    options = {s for a in parser._actions for s in a.option_strings}
    if "--debug" not in options:
        parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                            help="show the full traceback of an error")
    if "--budget-mb" not in options:
        parser.add_argument("--budget-mb", type=positive_int, default=None, metavar="MB",
                            help="memory budget in MiB for contractions, tables, certificates and training "
                                 "(default: $TNRNN_MAX_BYTES, else 4096)")
    for sub in parser._actions:  # nested subcommands (tnrnn capacity STUDY) get them too
        if isinstance(sub, argparse._SubParsersAction):
            for child in sub.choices.values():
                _add_common_options(child)


def _apply_budget(args: argparse.Namespace) -> None:
    """``--budget-mb`` is the one budget: code that reads ``$TNRNN_MAX_BYTES`` (workers included) honours it."""
    mb = getattr(args, "budget_mb", None)
    if mb is not None:
        os.environ["TNRNN_MAX_BYTES"] = f"{int(mb)}M"


def _command_of(argv: Sequence[str]) -> str | None:
    """The first argument that is not an option: the subcommand's name, if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tnrnn`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser(_command_of(argv))
    previous_budget = os.environ.get("TNRNN_MAX_BYTES")
    try:
        args = parser.parse_args(argv)
        _apply_budget(args)
        # A malformed $TNRNN_MAX_BYTES / $TNRNN_MAX_FLOPS is an error for every command, not only those that read it.
        default_budget_bytes(), default_budget_flops()
        with warnings_to_stderr():
            result = args.func(args)
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tnrnn: interrupted (finished results were kept)", file=sys.stderr)
        return 130
    except (TnrnnError, OSError, ValueError, OverflowError, MemoryError) as exc:
        if debug:
            raise
        print(f"tnrnn: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        if previous_budget is None:
            os.environ.pop("TNRNN_MAX_BYTES", None)
        else:
            os.environ["TNRNN_MAX_BYTES"] = previous_budget
    return int(result or 0)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        # The estimates refuse known large requests first; this is the last line of defence for the rest.
        return ("out of memory; use smaller sizes (or lower --budget-mb / $TNRNN_MAX_BYTES so the estimates "
                "refuse earlier)")
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
