"""Commands refuse bad input before importing jax, and commands that never need jax do not import it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_PROBE = """
import json, sys
from tnrnn.cli import main
try:
    rc = main(sys.argv[1:])
except SystemExit as exc:
    rc = exc.code
print(json.dumps([rc, "jax" in sys.modules]))
"""


def _run(args: list[str]) -> tuple[int, bool, str]:
    out = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=False)
    rc, jax_loaded = json.loads(out.stdout.strip().splitlines()[-1])
    return rc, jax_loaded, out.stderr


@pytest.mark.parametrize("command", [["train", "--cell", "gru", "-T", "8", "--steps", "1"],
                                     ["probe", "--cell", "gru", "-M", "2", "-T", "4"]])
def test_a_bad_checkpoint_is_refused_before_jax_starts(tmp_path, command):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    rc, jax_loaded, err = _run([*command, "--checkpoint", str(bad)])
    assert rc == 2 and "cannot read checkpoint" in err and len(err.strip().splitlines()) == 1
    assert not jax_loaded


def test_rank_never_imports_jax():
    rc, jax_loaded, _ = _run(["rank", "-L", "1", "-T", "4", "--json", "--no-progress"])
    assert rc in (0, None) and not jax_loaded


def test_top_level_help_imports_no_command_module_and_lists_every_command():
    probe = ("import sys, contextlib, io\nfrom tnrnn.cli import main\nout = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n    try:\n        main(['--help'])\n"
             "    except SystemExit:\n        pass\n"
             "mods = sorted(m for m in sys.modules if m.startswith(('tnrnn.cli.', 'jax', 'matplotlib')))\n"
             "print(repr((out.getvalue(), mods)))\n")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    text, mods = eval(res.stdout.strip().splitlines()[-1])
    assert [m for m in mods if not m.startswith(("tnrnn.cli.common",))] == []  # no jax, no command module
    from tnrnn.cli import COMMAND_HELP

    for name in COMMAND_HELP:
        assert name in text


def test_the_help_table_matches_what_each_command_registers():
    import argparse

    from tnrnn.cli import _COMMAND_OWNER, COMMAND_HELP, build_parser

    for name, text in COMMAND_HELP.items():
        parser = build_parser(name)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        registered = {a.dest: a.help for a in sub._choices_actions}
        assert registered[name] == text, name
    assert set(COMMAND_HELP) == set(_COMMAND_OWNER)
