"""The ``tnrnn`` entry point: every failure a user can cause is one line on stderr and exit status 2."""

from __future__ import annotations

import pytest

import tnrnn.cli as cli
from tnrnn.base.errors import TnrnnError


def _command_raising(monkeypatch, exc: BaseException) -> None:
    """Make every parsed command raise ``exc`` (as a command's own work would)."""
    parser = cli.build_parser()
    real_parse = parser.parse_args

    def boom(args):
        raise exc

    def parse(argv):
        ns = real_parse(argv)
        ns.func = boom
        return ns

    monkeypatch.setattr(parser, "parse_args", parse)
    monkeypatch.setattr(cli, "build_parser", lambda *a: parser)


@pytest.mark.parametrize("exc", [TnrnnError("bad\nsize"), ValueError("bad value"), OSError("disk full"),
                                 OverflowError("int too large"), MemoryError()])
def test_errors_from_a_command_are_one_line_exit_2(monkeypatch, capsys, exc):
    _command_raising(monkeypatch, exc)
    assert cli.main(["build"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("tnrnn: error: ")


def test_interrupt_exits_130_and_says_results_were_kept(monkeypatch, capsys):
    _command_raising(monkeypatch, KeyboardInterrupt())
    assert cli.main(["build"]) == 130
    assert "finished results were kept" in capsys.readouterr().err


def test_usage_errors_and_unknown_commands(capsys):
    assert cli.main(["nope"]) == 2
    assert cli.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("tnrnn: error:") for line in err)


def test_budget_mb_is_the_one_budget_during_the_command_and_restored_after(monkeypatch):
    from tnrnn.base.budget import default_budget_bytes

    monkeypatch.delenv("TNRNN_MAX_BYTES", raising=False)
    parser = cli.build_parser("build")
    real_parse = parser.parse_args
    seen = []

    def parse(argv):
        ns = real_parse(argv)
        ns.func = lambda args: seen.append(default_budget_bytes())
        return ns

    monkeypatch.setattr(parser, "parse_args", parse)
    monkeypatch.setattr(cli, "build_parser", lambda *a: parser)
    assert cli.main(["build", "-L", "1", "-T", "2", "--budget-mb", "3"]) == 0
    assert seen == [3 * 2**20]
    assert "TNRNN_MAX_BYTES" not in __import__("os").environ


@pytest.mark.parametrize("command", [["build"], ["render"], ["capacity", "bits"], ["train"], ["memory-sweep"]])
def test_every_command_takes_budget_mb_and_shows_defaults(command, capsys):
    with pytest.raises(SystemExit):
        cli.main([*command, "--help"])
    text = capsys.readouterr().out
    assert "--budget-mb" in text and "--debug" in text
    assert "(default: None)" not in text  # defaults are shown only where they say something


def test_library_warnings_are_printed_as_one_tnrnn_line_by_the_cli(tmp_path, capsys):
    # a results file with a damaged line: the library logs a warning, the command line prints it on stderr
    path = tmp_path / "r.jsonl"
    assert cli.main(["table", "--depths", "1", "-R", "2", "-M", "2", "--times", "2", "--results", str(path),
                     "--no-progress"]) == 0
    path.write_text(path.read_text() + "{not json\n")
    capsys.readouterr()
    assert cli.main(["table", "--depths", "1", "-R", "2", "-M", "2", "--times", "2", "--results", str(path),
                     "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"tnrnn: warning: {path}:" in err and "not JSON" in err
