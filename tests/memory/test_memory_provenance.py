"""Memory training results say which machine computed them (float training differs across machines)."""

from __future__ import annotations

import json
import os
import platform

from tnrnn.cli import main


def test_train_json_records_the_machine(capsys):
    assert main(["train", "--cell", "gru", "--depth", "1", "--width", "3", "--task", "ses", "--symbols", "2",
                 "--span", "2", "--time", "4", "--steps", "2", "--eval-every", "1", "--json", "--no-progress"]) == 0
    machine = json.loads(capsys.readouterr().out)["machine"]
    assert machine["cpu_count"] == os.cpu_count() and machine["machine"] == platform.machine()
    assert {"cpu", "backend", "devices", "xla_flags", "jax", "jaxlib"} <= set(machine)
    import jax

    assert machine["backend"] == jax.default_backend() and machine["jax"] == jax.__version__
