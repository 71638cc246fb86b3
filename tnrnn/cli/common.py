"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

#: Most values a ``START:STOP:STEP`` argument may expand to.
MAX_RANGE = 10_000


def positive_int(text: str) -> int:
    """Argparse type: an integer >= 1.

    Examples
    --------
    >>> positive_int("8")
    8
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def finite_float(text: str) -> float:
    """Argparse type: a finite number.

    Examples
    --------
    >>> finite_float("-0.5")
    -0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """Argparse type: a finite number > 0.

    Examples
    --------
    >>> positive_float("3e-3")
    0.003
    """
    value = finite_float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def positive_float_list(text: str) -> list[float]:
    """Argparse type: comma-separated finite numbers > 0.

    Examples
    --------
    >>> positive_float_list("1e-3,3e-3")
    [0.001, 0.003]
    """
    values = [positive_float(x.strip()) for x in text.split(",") if x.strip()]
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def cell_list(text: str) -> list[str]:
    """Argparse type: comma-separated recurrent cell names (checked against `tnrnn.memory.cells.CELLS`).

    Examples
    --------
    >>> cell_list("gru, lstm")
    ['gru', 'lstm']
    """
    from tnrnn.base.errors import TnrnnError
    from tnrnn.memory.catalog import check_cell

    try:
        cells = [check_cell(c.strip()) for c in text.split(",") if c.strip()]
    except TnrnnError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not cells:
        raise argparse.ArgumentTypeError("expected at least one cell")
    return cells


def int_list(text: str) -> list[int]:
    """Argparse type: comma-separated integers.

    Examples
    --------
    >>> int_list("1,2,3")
    [1, 2, 3]
    """
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def seed_list(text: str) -> list[int]:
    """Argparse type: comma-separated seeds (integers >= 0). ``--seeds`` means this on every command.

    Examples
    --------
    >>> seed_list("0,1,2")
    [0, 1, 2]
    >>> seed_list("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: seeds must be integers >= 0, got '-1'
    """
    values = int_list(text)
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"seeds must be integers >= 0, got {text!r}")
    return values


def int_range(text: str) -> list[int]:
    """Argparse type: ``START:STOP[:STEP]`` (stop inclusive, at most `MAX_RANGE` values) or a list.

    Examples
    --------
    >>> int_range("2:8:2"), int_range("2,4,8")
    ([2, 4, 6, 8], [2, 4, 8])
    """
    if ":" not in text:
        return int_list(text)
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"expected START:STOP[:STEP], got {text!r}")
    try:
        start, stop = int(parts[0]), int(parts[1])
        step = int(parts[2]) if len(parts) == 3 else 1
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers in {text!r}") from None
    if step < 1:
        raise argparse.ArgumentTypeError(f"the step of {text!r} must be >= 1")
    if stop < start:
        raise argparse.ArgumentTypeError(f"empty range {text!r}")
    values = range(start, stop + 1, step)
    if len(values) > MAX_RANGE:
        # Each value is a sweep point; a typo such as 2:10000000000 must not build a list of 10**10 ints.
        raise argparse.ArgumentTypeError(f"{text!r} has {len(values):,} values; at most {MAX_RANGE:,} are allowed")
    return list(values)


def add_spec_args(parser: argparse.ArgumentParser, *, time: bool = True) -> None:
    """Add ``--depth --width --features --outputs [--time]`` to a subcommand."""
    parser.add_argument("--depth", "-L", type=positive_int, default=2, help="number of layers L (default 2)")
    parser.add_argument("--width", "-R", type=positive_int, default=2, help="hidden width R (default 2)")
    parser.add_argument("--features", "-M", type=positive_int, default=2, help="input features M (default 2)")
    parser.add_argument("--outputs", "-K", type=positive_int, default=1, help="outputs K (default 1)")
    if time:
        parser.add_argument("--time", "-T", type=positive_int, default=4, help="sequence length T (default 4)")


def spec_from_args(args: argparse.Namespace):
    """Build a [`tnrnn.RACSpec`][tnrnn.rac.spec.RACSpec] from parsed ``add_spec_args`` arguments.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_spec_args(parser)
    >>> spec_from_args(parser.parse_args(["-L", "3", "-R", "4"]))
    RACSpec(depth=3, width=4, features=2, outputs=1)
    """
    from tnrnn.rac.spec import RACSpec

    return RACSpec(depth=args.depth, width=args.width, features=args.features, outputs=args.outputs)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    from tnrnn.base.io import _default

    json.dump(data, sys.stdout, indent=2, default=_default)
    sys.stdout.write("\n")




def show_progress(requested: bool = True, stream: Any = None) -> bool:
    """Whether to draw progress: asked for, and the stream (default stderr) is a terminal.

    Progress bars and lines redraw with carriage returns; in a log file or a pipe they are noise, so they are
    shown on a terminal only.

    Examples
    --------
    >>> import io
    >>> show_progress(True, io.StringIO()), show_progress(False, io.StringIO())
    (False, False)
    """
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(requested and callable(isatty) and isatty())


class progress_lines:  # noqa: N801 - used as a context manager, like contextlib's lower-case helpers
    """Context manager: while it is active, tnrnn's progress lines (``logging`` INFO records of the ``tnrnn``
    loggers, e.g. a long path search) are printed to ``stream`` (default stderr) when ``enabled``.

    The library only logs; the command line decides whether a person is watching (`show_progress`).

    Examples
    --------
    >>> import io, logging
    >>> out = io.StringIO()
    >>> with progress_lines(True, out):
    ...     logging.getLogger("tnrnn.network.paths").info("searching a contraction path for %d operands", 1182)
    >>> out.getvalue()
    'tnrnn: searching a contraction path for 1182 operands\\n'
    """

    def __init__(self, enabled: bool, stream: Any = None) -> None:
        import logging

        self._logger = logging.getLogger("tnrnn")
        self._handler = logging.StreamHandler(sys.stderr if stream is None else stream) if enabled else None
        self._level = self._logger.level

    def __enter__(self) -> progress_lines:
        import logging

        if self._handler is not None:
            self._handler.setFormatter(logging.Formatter("tnrnn: %(message)s"))
            self._handler.setLevel(logging.INFO)
            self._handler.addFilter(lambda record: record.levelno < logging.WARNING)  # warnings: warnings_to_stderr
            self._logger.addHandler(self._handler)
            if self._logger.getEffectiveLevel() > logging.INFO:
                self._logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handler is not None:
            self._logger.removeHandler(self._handler)
            self._logger.setLevel(self._level)


class warnings_to_stderr:  # noqa: N801 - a context manager, like progress_lines
    """Context manager: tnrnn's warnings (``logging`` WARNING records of the ``tnrnn`` loggers) are printed to
    ``stream`` (default stderr) as ``tnrnn: warning: ...`` lines; `tnrnn.cli.main` runs every command in it.

    Examples
    --------
    >>> import io, logging
    >>> out = io.StringIO()
    >>> with warnings_to_stderr(out):
    ...     logging.getLogger("tnrnn.sweep.store").warning("r.jsonl:3: digest does not match; line ignored")
    >>> out.getvalue()
    'tnrnn: warning: r.jsonl:3: digest does not match; line ignored\\n'
    """

    def __init__(self, stream: Any = None) -> None:
        import logging

        self._logger = logging.getLogger("tnrnn")
        self._handler = logging.StreamHandler(sys.stderr if stream is None else stream)
        self._handler.setLevel(logging.WARNING)
        self._handler.setFormatter(logging.Formatter("tnrnn: %(levelname)s: %(message)s"))

    def __enter__(self) -> warnings_to_stderr:
        import logging

        logging.addLevelName(logging.WARNING, "warning")  # "tnrnn: warning: ...", as the other messages read
        self._logger.addHandler(self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self._handler)
