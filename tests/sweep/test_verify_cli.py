"""``tnrnn verify``: exit 0 when every record is ok, 1 with the tampered line named otherwise."""

from __future__ import annotations

import json

from tnrnn.cli import main
from tnrnn.sweep import run_sweep


def test_verify_reports_each_record_and_fails_on_tampering(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    run_sweep("tnrnn.sweep.demo:square", [{"x": x} for x in (1, 2)], path, executor="serial", progress=False)
    assert main(["verify", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 records: 2 ok"

    lines = path.read_text().splitlines()
    rec = json.loads(lines[2])
    rec["result"]["square"] = 999999
    lines[2] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    assert main(["verify", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"provenance": 1, "ok": 1, "tampered": 1}
    assert [v["line"] for v in report["verdicts"] if v["status"] == "tampered"] == [3]
