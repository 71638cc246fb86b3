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


# ------------------------------------------------------------------ each record judged on its own (issue corpus)

RANK = "tnrnn.rank:table_point"


def _reseal(rec: dict, **changes) -> dict:
    """A forger's record: changed, with its key re-derived from the new params and its digest recomputed."""
    from tnrnn.sweep.store import canonical_json, key_of_canonical, seal

    rec = dict(rec, **changes)
    rec["key"] = key_of_canonical(canonical_json({"task": rec["task"], "params": rec["params"]}, "params"),
                                  rec["schema"])
    return seal(rec)


def test_verify_recompute_flags_moved_and_duplicate_key_records_and_judges_every_other(tmp_path, capsys):
    from tnrnn.sweep.store import seal

    path = tmp_path / "t.jsonl"
    points = [{"depth": d, "width": 2, "features": 2, "time": t} for d in (1, 2) for t in (2, 4)]
    run_sweep(RANK, points, path, executor="serial", progress=False)
    lines = path.read_text().splitlines()
    recs = [json.loads(line) for line in lines[1:]]
    # 1. a genuine record moved under another point's key, its digest recomputed
    moved = seal(dict(recs[3], key=recs[0]["key"]))
    # 2. a record with a repeated JSON key: the same text means "lower 1" to some readers and "lower 999" to others
    dup = json.dumps(recs[1])[:-1] + ', "status": "ok", "status": "error"}'
    # 3-5. crafted records no genuine point has, each consistently keyed and sealed
    odd_t = _reseal(recs[2], params=dict(recs[2]["params"], time=3))
    many_seeds = _reseal(recs[2], params=dict(recs[2]["params"], seeds=200_000))
    bool_depth = _reseal(recs[2], params=dict(recs[2]["params"], depth=True))
    crafted = [json.dumps(moved), dup, json.dumps(odd_t), json.dumps(many_seeds), json.dumps(bool_depth)]
    path.write_text("\n".join(lines + crafted) + "\n")

    assert main(["verify", str(path), "--recompute", "--json"]) == 1
    verdicts = {v["line"]: v for v in json.loads(capsys.readouterr().out)["verdicts"]}
    n = len(lines)
    assert [verdicts[k]["status"] for k in range(2, n + 1)] == ["recomputed"] * 4  # every genuine record judged
    assert verdicts[n + 1]["status"] == "tampered" and "key does not match" in verdicts[n + 1]["detail"]
    assert verdicts[n + 2]["status"] == "unreadable" and "duplicate key" in verdicts[n + 2]["detail"]
    assert verdicts[n + 3]["status"] == "unrecomputable"
    assert verdicts[n + 4]["status"] == "ok" and "not recomputed" in verdicts[n + 4]["detail"]
    assert verdicts[n + 5]["status"] == "unrecomputable" and "depth is not an integer" in verdicts[n + 5]["detail"]


def test_verify_escapes_what_the_file_holds(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    run_sweep("tnrnn.sweep.demo:square", [{"x": 1}], path, executor="serial", progress=False)
    lines = path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["key"] = "x\x1b[2K\r" + rec["key"] + "  ok\nforged"
    path.write_text("\n".join([*lines, json.dumps(rec)]) + "\n")
    assert main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out
    assert len(out.splitlines()) == 3 and "\\x1b[2K\\r" in out  # two records and the summary, nothing forged


def test_a_torn_line_superseded_by_a_resume_is_not_a_fault(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    run_sweep("tnrnn.sweep.demo:square", [{"x": 1}], path, executor="serial", progress=False)
    with open(path, "a") as fh:
        fh.write('{"digest": "0123", "error": null, "key": "ab')  # what a kill mid-write leaves
    assert main(["verify", str(path)]) == 0  # interrupted, not yet resumed
    assert "torn" in capsys.readouterr().out
    run_sweep("tnrnn.sweep.demo:square", [{"x": 1}, {"x": 2}], path, executor="serial", progress=False)
    assert main(["verify", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"provenance": 2, "ok": 2, "torn": 1}
    with open(path, "a") as fh:  # the same cut line in the middle of a file, with no resume after it: a fault
        fh.write('{"digest": "0123", "error": null, "key": "ab\n' + path.read_text().splitlines()[1] + "\n")
    assert main(["verify", str(path)]) == 1
