"""The ``tnrnn`` command line.

Each subcommand lives in its own module of this package, which defines ``register(subparsers)``; this module
only assembles them and turns every user error into one readable line with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from tnrnn.base.errors import TnrnnError

# Subcommand modules, in the order they appear in ``tnrnn --help``.
_COMMAND_MODULES = ("demo", "build", "rank", "render", "memory", "capacity")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (no usage dump) and exit 2."""

    def error(self, message: str) -> NoReturn:  # type: ignore[name-defined]  # noqa: F821
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    """Return the ``tnrnn`` argument parser with every available subcommand registered."""
    parser = _Parser(prog="tnrnn", description="Separation ranks and long-term memory of recurrent networks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in _COMMAND_MODULES:
        modname = f"{__name__}.{name}"
        if importlib.util.find_spec(modname) is None:
            continue
        importlib.import_module(modname).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tnrnn`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        result = args.func(args)
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except TnrnnError as exc:
        print(f"tnrnn: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tnrnn: interrupted (finished results were kept)", file=sys.stderr)
        return 130
    except (OSError, ValueError, OverflowError) as exc:
        print(f"tnrnn: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        # The estimates refuse known large requests first; this is the last line of defence for the rest.
        print("tnrnn: error: out of memory; use smaller sizes (or lower $TNRNN_MAX_BYTES so the estimates refuse "
              "earlier)", file=sys.stderr)
        return 2
    return int(result or 0)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
