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
