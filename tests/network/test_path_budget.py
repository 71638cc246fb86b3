"""Path searches have a budget set by the structure, and a finder that cannot run is a clear error."""

from __future__ import annotations

import importlib.util
import logging

import cotengra
import numpy as np
import pytest

import tnrnn.network.paths as paths
import tnrnn.network.plan as plan
from tnrnn.base.errors import TnrnnError
from tnrnn.cli import main
from tnrnn.network import finders
from tnrnn.network.build import build_network
from tnrnn.network.einsum import network_to_einsum
from tnrnn.rac.spec import RACSpec


def _es(L, R, M, T, form="continuous"):
    return network_to_einsum(build_network(RACSpec(L, R, M), T, form=form))


@pytest.fixture
def no_cotengra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name.split(".")[0] == "cotengra" else real(name, *a, **k))


def test_a_missing_finder_is_one_tnrnn_error_before_any_work(no_cotengra, monkeypatch):
    monkeypatch.setattr(plan, "find_path", lambda *a, **k: pytest.fail("searched"))
    with pytest.raises(TnrnnError, match="cotengra is not installed"):
        finders.check_optimizers(("cotengra",))
    import tnrnn

    spec = tnrnn.RACSpec(1, 2, 2)
    params = tnrnn.init_params(spec, __import__("jax").random.PRNGKey(0))
    with pytest.raises(TnrnnError, match="none of the path optimizers .* can run here"):
        tnrnn.network_forward(spec, params, np.zeros((1, 3), dtype=int), optimizers=("cotengra",))
    # a selection with a runnable finder is accepted; cotengra is then reported as skipped
    assert finders.check_optimizers(("cotengra", "greedy")) == ("cotengra", "greedy")


def test_a_missing_finder_on_the_command_line_exits_2_with_one_line(no_cotengra, capsys):
    assert main(["build", "-L", "1", "-T", "3", "--optimizers", "cotengra"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cotengra is not installed" in err and "Traceback" not in err


def test_the_hyper_optimiser_is_not_run_above_its_operand_limit(monkeypatch):
    es = _es(2, 2, 2, 8)  # more operands than HYPER_MAX_OPERANDS
    assert len(es.inputs) > finders.HYPER_MAX_OPERANDS
    monkeypatch.setattr(paths, "_cotengra", lambda *a, **k: pytest.fail("hyper-optimiser run on a large network"))
    rep = paths.find_path(es, batch=8)
    assert "cotengra" in rep.skipped and "operands" in rep.skipped["cotengra"]
    # never costlier than greedy, which is among the default finders
    assert rep.flops <= rep.candidates["greedy"]


def test_the_hyper_optimiser_runs_on_small_networks_and_alone_with_fewer_trials(monkeypatch):
    calls = []
    real = paths._cotengra
    monkeypatch.setattr(paths, "_cotengra", lambda es, sizes, seed, trials: calls.append(trials) or real(
        es, sizes, seed, 1))
    small = _es(1, 2, 2, 3)
    assert len(small.inputs) <= finders.HYPER_MAX_OPERANDS
    assert "cotengra" in paths.find_path(small, batch=4).candidates
    big = _es(2, 2, 2, 8)
    paths.find_path(big, batch=4, optimizers=("cotengra",), refine=False)
    assert calls == [finders.SEARCH_TRIALS, finders.hyper_trials(len(big.inputs), alone=True)]
    assert 1 <= calls[1] < finders.SEARCH_TRIALS


def test_trials_shrink_with_the_structure_only():
    n = [finders.hyper_trials(k, alone=True) for k in (10, 64, 65, 200, 1000, 100_000)]
    assert n[:2] == [finders.SEARCH_TRIALS] * 2 and n == sorted(n, reverse=True) and n[-1] == 1
    assert finders.hyper_trials(65) == 0


def test_cotengra_searches_make_no_process_pool(monkeypatch):
    # cotengra's parallel="auto" would fork a pool from this jax-threaded process; the options passed keep every
    # sub-search serial (grid and continuous forms exercise the partitioners).
    monkeypatch.setattr(cotengra.parallel, "get_pool", lambda *a, **k: pytest.fail("cotengra made a pool"))
    for form in ("continuous", "grid"):
        es = paths.integer_labels(_es(2, 3, 3, 4, form))
        path = finders._cotengra(es, es.sized(16), 0)
        finders.reconfigure(es, es.sized(16), paths.pairwise(path, len(es.inputs)))


def test_long_searches_log_a_line_at_start_and_end(monkeypatch, caplog):
    monkeypatch.setattr(paths, "PROGRESS_OPERANDS", 10)
    with caplog.at_level(logging.INFO, logger="tnrnn"):
        paths.find_path(_es(1, 2, 2, 4), batch=4, optimizers=("greedy",))
    lines = [r.getMessage() for r in caplog.records if r.name == "tnrnn.network.paths"]
    assert len(lines) == 2 and "searching a contraction path" in lines[0] and "found by greedy" in lines[1]
    caplog.clear()
    monkeypatch.setattr(paths, "PROGRESS_OPERANDS", 10_000)
    with caplog.at_level(logging.INFO, logger="tnrnn"):
        paths.find_path(_es(1, 2, 2, 4), batch=4, optimizers=("greedy",))
    assert not [r for r in caplog.records if r.name == "tnrnn.network.paths"]


def test_build_shows_progress_on_a_terminal_only(monkeypatch, capsys):
    import tnrnn.cli.build as build_cli

    monkeypatch.setattr(paths, "PROGRESS_OPERANDS", 1)
    monkeypatch.setattr("tnrnn.network.plan._PLANS", {})
    monkeypatch.setattr(build_cli, "show_progress", lambda requested: requested)  # as if stderr were a terminal
    assert main(["build", "-L", "1", "-T", "5", "--optimizers", "greedy", "--json"]) == 0
    assert "tnrnn: searching a contraction path" in capsys.readouterr().err
    monkeypatch.setattr("tnrnn.network.plan._PLANS", {})
    monkeypatch.setenv("TNRNN_CACHE_DIR", str(__import__("tempfile").mkdtemp()))
    assert main(["build", "-L", "1", "-T", "5", "--optimizers", "greedy", "--json", "--no-progress"]) == 0
    assert "searching" not in capsys.readouterr().err
