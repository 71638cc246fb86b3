"""``--help`` shows the defaults a command actually uses."""

from __future__ import annotations

import re

import pytest

from tnrnn.cli import build_parser
from tnrnn.cli.memory import SWEEP_DEFAULTS, TRAIN_TASK_DEFAULTS


def _help(command: str) -> str:
    parser = build_parser(command)
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return " ".join(sub.choices[command].format_help().split())


def test_memory_sweep_help_shows_the_grid_it_runs():
    from tnrnn.memory.studies import DEFAULT_GRID

    assert SWEEP_DEFAULTS == DEFAULT_GRID  # the help's copy of the grid (kept free of jax) is the grid
    text = _help("memory-sweep")
    assert re.search(r"alphabet size n \(default 8\)", text) and "(default 10)" in text
    assert "(default gru,scornn,rac)" in text and "(default 20,40,60,80)" in text and "(default 2000)" in text
    assert "default 32" not in text and "default 30)" not in text


def test_train_help_shows_the_task_defaults():
    from tnrnn.memory.tasks import StartEndSimilarity

    task = StartEndSimilarity(time=80)
    assert (task.symbols, task.span) == (TRAIN_TASK_DEFAULTS["symbols"], TRAIN_TASK_DEFAULTS["span"])
    text = _help("train")
    assert "alphabet size n (default 32)" in text and "(default 30)" in text


@pytest.mark.parametrize("command", ["build", "rank", "memory-sweep", "train"])
def test_every_option_with_a_default_says_it(command):
    # argparse's defaults formatter adds "(default: X)" unless the help text states its default itself
    text = _help(command)
    assert "(default: None)" not in text


def test_progress_bars_only_on_a_terminal(monkeypatch):
    import io

    from tnrnn.cli.sweep_args import sweep_kwargs

    class Tty(io.StringIO):
        def isatty(self):
            return True

    args = build_parser("table").parse_args(["table", "--depths", "1", "--times", "2"])
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a log file or a pipe: no carriage-return bars
    assert sweep_kwargs(args)["progress"] is False
    monkeypatch.setattr("sys.stderr", Tty())
    assert sweep_kwargs(args)["progress"] is True
    args = build_parser("table").parse_args(["table", "--depths", "1", "--times", "2", "--no-progress"])
    assert sweep_kwargs(args)["progress"] is False
