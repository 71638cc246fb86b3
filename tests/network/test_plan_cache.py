"""The on-disk plan cache is not trusted: a planted worse plan is discarded and searched again, a forged or
oversized file is not read, nothing from the file reaches the terminal raw, files are private to their owner."""

from __future__ import annotations

import json
import stat

import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.network import plan as plan_module
from tnrnn.network.paths import pairwise, simulate_path
from tnrnn.network.plan import (
    PLAN_BATCH,
    _digest,
    cache_dir,
    check_path_shape,
    clear_plans,
    get_plan,
    plan_key,
    search_count,
)
from tnrnn.rac.spec import RACSpec

KEY = plan_key(RACSpec(2, 2, 3), 4, "grid", False, optimizers=("greedy", "random-greedy"))


def _worst_path(es):
    """A valid path that picks, at each step, the pair of live operands whose product is largest (outer products
    first): the kind of plan a hostile cache file would hold."""
    sizes = es.sized(PLAN_BATCH)
    live = [tuple(ix) for ix in es.inputs]
    count = {}
    for ix in live + [tuple(es.output)]:
        for s in set(ix):
            count[s] = count.get(s, 0) + 1
    route = []
    while len(live) > 1:
        def size(i, j):
            n = 1
            for s in set(live[i]) | set(live[j]):
                n *= sizes[s]
            return n
        i, j = max(((i, j) for i in range(len(live)) for j in range(i + 1, len(live))), key=lambda p: size(*p))
        merged = set(live[i]) | set(live[j])
        for s in set(live[i]):
            count[s] -= 1
        for s in set(live[j]):
            count[s] -= 1
        out = tuple(s for s in merged if count[s] > 0)
        for s in out:
            count[s] += 1
        route.append((i, j))
        del live[j], live[i]
        live.append(out)
    return route


def _plant(path_file, **fields):
    data = json.loads(path_file.read_text())
    data.update(fields)
    data["digest"] = _digest(data)  # a forger recomputes the digest: the cost check must still catch the plan
    path_file.write_text(json.dumps(data))


@pytest.fixture
def cached(monkeypatch, tmp_path):
    monkeypatch.setenv("TNRNN_CACHE_DIR", str(tmp_path))
    clear_plans()
    right = get_plan(KEY)
    (path_file,) = cache_dir().glob("*.json")
    clear_plans()
    yield right, path_file
    clear_plans()


def test_cache_files_are_private_and_a_clean_entry_is_reused(cached):
    right, path_file = cached
    assert stat.S_IMODE(path_file.stat().st_mode) == 0o600
    before = search_count()
    assert get_plan(KEY).report.path == right.report.path and search_count() == before


def test_a_planted_worse_plan_is_discarded_and_the_right_one_used(cached):
    right, path_file = cached
    worst = _worst_path(right.es)
    walked = simulate_path(right.es, pairwise(worst, len(right.es.inputs)), batch=PLAN_BATCH)
    assert walked[1] > 2 * right.report.flops  # the planted plan really is worse (independent cost walk)
    _plant(path_file, path=[list(s) for s in worst], flops=1, peak_bytes=1)  # and lies about its cost
    before = search_count()
    used = get_plan(KEY)
    assert search_count() == before + 1  # discarded and searched again
    assert used.report.path == right.report.path and used.report.flops == right.report.flops
    assert json.loads(path_file.read_text())["path"] == [list(s) for s in right.report.path]  # overwritten


@pytest.mark.parametrize("fields", [
    {"path": [[0, 0]]},                        # repeats an operand
    {"path": [[0, 10**6]]},                    # an operand that does not exist
    {"path": [[0, 1]]},                        # leaves more than one tensor
    {"path_optimizer": "evil"},                # not a finder
    {"key": "0" * 32},                         # an entry of another structure
])
def test_a_forged_entry_is_searched_again(cached, fields):
    right, path_file = cached
    _plant(path_file, **fields)
    before = search_count()
    assert get_plan(KEY).report.path == right.report.path and search_count() == before + 1


def test_an_entry_with_a_stale_digest_is_searched_again(cached):
    right, path_file = cached
    data = json.loads(path_file.read_text())
    data["candidates"]["greedy"] = 1  # edited without recomputing the digest
    path_file.write_text(json.dumps(data))
    before = search_count()
    get_plan(KEY)
    assert search_count() == before + 1


def test_control_characters_in_a_cache_file_print_nothing_raw(cached, capsys):
    right, path_file = cached
    evil = "\x1b[2J\x1b]0;owned\x07\r\nok"
    _plant(path_file, candidates={"greedy": None, evil: 5}, skipped={"tree": evil})
    report = get_plan(KEY).report
    shown = json.dumps(report.to_json(), ensure_ascii=False) + str(report.skipped) + str(report.candidates)
    assert "\x1b" not in shown and "\r" not in shown and "\x07" not in shown
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err


def test_a_huge_sparse_cache_file_is_not_read(cached, monkeypatch):
    right, path_file = cached
    with open(path_file, "r+b") as fh:
        fh.truncate(3 * 2**30)  # 3 GiB of holes after the JSON: no disk used
    reads = []
    real = plan_module.read_bytes_bounded

    def spy(path, max_bytes, what="file"):
        reads.append(max_bytes)
        return real(path, max_bytes, what)

    monkeypatch.setattr(plan_module, "read_bytes_bounded", spy)
    before = search_count()
    assert get_plan(KEY).report.path == right.report.path and search_count() == before + 1
    assert reads == [plan_module.MAX_PLAN_FILE_BYTES] and path_file.stat().st_size < 2**20  # refused, rewritten


def test_check_path_shape_refuses_non_paths():
    for bad in ("x", [[True, 1]], [[]], [["0", 1]], [[0, 1]] * 5):
        with pytest.raises(TnrnnError):
            check_path_shape(bad, 3)
