"""Every code block of the documentation and the README is exercised, so none can drift from the code.

* ``python`` blocks run (in a temporary folder), except the tutorial scripts that the pages include with
  ``--8<--`` (tests/docs/test_tutorials.py runs those as scripts and checks what they print);
* every ``tnrnn`` command line in ``bash`` and ``console`` blocks is parsed by the real argument parser: its
  command and options exist and its values have the right form (running them all would take hours of training);
* ``json`` blocks parse, and each exact count in them reads back through ``ExactCount.from_json``.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tnrnn.cli import _UsageError, build_parser

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs" / "pages").rglob("*.md")) + [ROOT / "README.md"]


def _blocks(kind: str) -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        for code in re.findall(rf"^```{kind}\n(.*?)^```", page.read_text(), flags=re.S | re.M):
            out.append((str(page.relative_to(ROOT)), code))
    return out


def _commands() -> list[tuple[str, list[str]]]:
    found = []
    for page, code in _blocks("bash") + _blocks("console"):
        for line in code.splitlines():
            line = line.split("  #")[0].strip().removeprefix("$ ")
            for part in line.split("&&"):
                words = shlex.split(part.strip())
                words = [w for w in words if "=" not in w or w.startswith("-")]  # environment assignments
                if words and Path(words[0]).name == "tnrnn":
                    found.append((page, words[1:]))
    return found


PYTHON = [(p, c) for p, c in _blocks("python") if "--8<--" not in c and p != "README.md"]  # README: test_readme


@pytest.mark.parametrize("page, code", PYTHON, ids=[p for p, _ in PYTHON])
def test_python_blocks_run(page, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, page, "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize("page, argv", _commands(), ids=[" ".join(a)[:60] for _, a in _commands()])
def test_command_lines_parse(page, argv):
    parser = build_parser(next((a for a in argv if not a.startswith("-")), None))
    try:
        parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version
        assert exc.code == 0, (page, argv)
    except _UsageError as exc:
        raise AssertionError(f"{page}: tnrnn {' '.join(argv)}: {exc}") from None


def test_the_scan_finds_the_documented_commands_and_a_bad_one_fails():
    commands = [" ".join(a) for _, a in _commands()]
    assert any(c.startswith("demo") for c in commands) and any(c.startswith("rank") for c in commands)
    with pytest.raises(_UsageError):
        build_parser("rank").parse_args(["rank", "-L", "2", "--no-such-option"])


@pytest.mark.parametrize("page, code", _blocks("json"), ids=[p for p, _ in _blocks("json")])
def test_json_blocks_parse_and_hold_exact_counts(page, code):
    from tnrnn.base.counts import ExactCount

    for line in code.strip().splitlines():
        data = json.loads(line)
        if set(data) == {"value", "log2"}:
            count = ExactCount.from_json(data)
            assert abs(count.log2 - data["log2"]) < 1e-9 * max(1.0, data["log2"])
