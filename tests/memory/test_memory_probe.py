"""The Start-End probe: matricization layout, shallow RAC rank at most R, a generic random deep RAC reaching
the certified rank, the rank of known low-rank tables exact (against exact rational ranks), the float64 RAC
against the jax cell, the spectrum statistics, the domain check before any work, the CLI."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import ortho_group

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.cli import main
from tnrnn.memory.cells import apply_stack, init_stack
from tnrnn.memory.probe import (
    RAC_RTOL,
    check_domain,
    equilibrate,
    probe,
    rac_start_end_float64,
    spectrum_report,
    start_end_matrices,
    table_rank,
)


def random_rac(depth, width, M, seed, noise=1.0):
    """A plain RAC with the theory's all-ones convention (h0 W_H = 1): orthogonal W_H, W_I = 1 + noise."""
    rng = np.random.default_rng(seed)
    layers = []
    n = M
    for layer in range(depth):
        W_H = ortho_group.rvs(width, random_state=seed + layer) if width > 1 else np.ones((1, 1))
        layers.append({"W_I": jnp.asarray(1.0 + noise * rng.normal(size=(n, width)), jnp.float32),
                       "W_H": jnp.asarray(W_H, jnp.float32),
                       "h0": jnp.asarray(np.linalg.solve(W_H.T, np.ones(width)), jnp.float32)})
        n = width
    return {"layers": layers, "readout": {"W": jnp.asarray(rng.normal(size=(width, 1)), jnp.float32)}}


def test_matrix_layout_matches_direct_evaluation():
    p = init_stack(3, "gru", 3, 4, 2, 2)
    mats = start_end_matrices(p, "gru", 3, 4)
    start, end = [2, 0], [1, 2]  # base-3 indices 6 and 5
    xs = jax.nn.one_hot(jnp.array([start + end]), 3)
    direct = np.asarray(apply_stack(p, xs, cell="gru"))[0, -1]
    np.testing.assert_allclose(mats[:, 6, 5], direct, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("width, M, T", [(2, 3, 6), (3, 4, 6), (1, 2, 8)])
def test_shallow_rac_probed_rank_is_at_most_its_width(width, M, T):
    rep = probe(random_rac(1, width, M, seed=width), "rac", M, T, certify=False)
    assert rep["max_numerical_rank"]["1e-05"] <= width
    # and, for random weights, exactly the width when M^(T/2) allows it (the generic rank min(R, M^(T/2)))
    assert rep["max_numerical_rank"]["1e-03"] == min(width, M ** (T // 2))


def test_deep_rac_uses_more_than_its_width_and_stays_within_the_certified_rank():
    # L=2, M=R=2, T=6: certified generic one-hot Start-End rank 8 (docs/theory.md anchor table), an upper
    # bound for every weight setting. float32 resolves only part of the spectrum (it spans orders of magnitude),
    # so the probe is an estimate: it must exceed the shallow bound R = 2 and never pass 8.
    rep = probe(random_rac(2, 2, 2, seed=1), "rac", 2, 6, depth=2, width=2)
    assert rep["certified"]["lower"] == 8 and rep["certified"]["exact"]
    ranks = rep["max_numerical_rank"]
    assert 2 < ranks["1e-05"] <= 8 and ranks["1e-02"] <= ranks["1e-03"] <= ranks["1e-05"]
    # float64 tables, equilibrated: the generic random RAC reaches its certified rank exactly
    assert rep["max_rank"] == 8 and rep["rank_rtol"] == RAC_RTOL
    assert rep["kind"] == "floating-point estimate" and rep["certified"]["kind"] == "certified"


def test_spectrum_statistics_by_hand():
    r = spectrum_report(np.diag([3.0, 1.0, 0.0]))
    assert r["singular_values"] == [3.0, 1.0, 0.0]
    p = np.array([0.75, 0.25])
    assert r["effective_rank"] == pytest.approx(float(np.exp(-(p * np.log(p)).sum())))
    assert r["numerical_rank"] == {"1e-02": 2, "1e-03": 2, "1e-05": 2}
    assert spectrum_report(np.zeros((2, 2)))["numerical_rank"]["1e-02"] == 0


def test_domain_checked_before_any_work():
    assert check_domain(2, 24) == 4096
    with pytest.raises(ResourceError, match="4\\^7 > 4096"):
        check_domain(4, 14)
    with pytest.raises(TnrnnError, match="even"):
        check_domain(2, 5)


def test_probe_cli_json(capsys):
    argv = ["probe", "--cell", "rac", "--depth", "1", "--width", "3", "--symbols", "2", "--time", "6", "--steps",
            "0", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["side"] == 8 and len(out["logits"]) == 3
    assert out["certified"]["lower"] == 3 and out["max_numerical_rank"]["1e-05"] <= 3
    assert main(["probe", "--cell", "gru", "--symbols", "4", "--time", "14"]) == 2
    assert "4096" in capsys.readouterr().err


def _exact_rank(a: np.ndarray) -> int:
    flint = pytest.importorskip("flint")
    return int(flint.fmpq_mat(a.shape[0], a.shape[1], [int(v) for v in a.ravel()]).rank())


@pytest.mark.parametrize("r, seed", [(1, 0), (3, 1), (7, 2), (12, 3)])
def test_table_rank_of_a_known_low_rank_table_is_exact(r, seed):
    rng = np.random.default_rng(seed)
    U, V = rng.integers(-9, 10, size=(40, r)), rng.integers(-9, 10, size=(r, 30))
    a = U @ V  # integer table; its rank over Q computed exactly by FLINT
    assert table_rank(a.astype(float))["rank"] == _exact_rank(a)
    # the same table with rows and columns spanning 24 orders of magnitude, as a deep RAC's outputs do: read
    # raw, the small rows vanish under the relative tolerance; equilibrated, the rank is exact again
    scaled = (10.0 ** rng.uniform(-12, 12, size=(40, 1))) * a * (10.0 ** rng.uniform(-3, 3, size=(1, 30)))
    assert table_rank(equilibrate(scaled))["rank"] == _exact_rank(a)


def test_table_rank_refuses_bad_input():
    with pytest.raises(TnrnnError, match="2-d"):
        table_rank(np.ones(3))
    with pytest.raises(TnrnnError, match="finite"):
        table_rank(np.array([[1.0, np.inf]]))
    with pytest.raises(TnrnnError, match="rtol"):
        table_rank(np.eye(2), rtol=0.0)


def test_equilibration_keeps_the_entries_up_to_powers_of_two():
    a = np.random.default_rng(4).normal(size=(6, 5)) * 10.0 ** np.arange(6)[:, None]
    b = equilibrate(a)
    ratio = b / a
    rows, cols = ratio[:, :1], ratio[:1, :] / ratio[0, 0]
    np.testing.assert_array_equal(ratio, rows * cols)  # D1 A D2 exactly
    assert np.all(np.log2(np.abs(ratio)) == np.round(np.log2(np.abs(ratio))))


def test_float64_rac_tables_match_the_jax_cell():
    p = init_stack(2, "rac", 3, 3, 2, 2)
    ours = rac_start_end_float64(p, 3, 4)
    xs = jax.nn.one_hot(jnp.array([[2, 0, 1, 2], [0, 0, 0, 0]]), 3)
    direct = np.asarray(apply_stack(p, xs, cell="rac", normalize=False))[:, -1]
    np.testing.assert_allclose(ours[:, 2 * 3 + 0, 1 * 3 + 2], direct[0], rtol=1e-4)
    np.testing.assert_allclose(ours[:, 0, 0], direct[1], rtol=1e-4)


def test_scornn_table_is_a_function_of_the_sequence():
    p = init_stack(5, "scornn", 3, 4, 2, 3)
    a, b = start_end_matrices(p, "scornn", 2, 4, n_in=3), start_end_matrices(p, "scornn", 2, 4, n_in=3)
    np.testing.assert_array_equal(a, b)
    # every sequence starts from the same state: its logits equal a batch of that one sequence
    xs = jax.nn.one_hot(jnp.array([[1, 0, 1, 1]]), 3)
    from tnrnn.memory.probe import _fixed_initial_state
    direct = np.asarray(apply_stack(_fixed_initial_state(p), xs, cell="scornn"))[0, -1]
    np.testing.assert_allclose(a[:, 2, 3], direct, rtol=1e-5, atol=1e-6)


def test_probe_cli_prints_accuracy_beside_the_rank_and_refuses_other_checkpoints(tmp_path, capsys):
    base = ["probe", "--cell", "gru", "--depth", "1", "--width", "4", "--symbols", "2", "--time", "4"]
    assert main([*base, "--steps", "3", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["rank"] <= 4 and summary["certified_rac_rank"] is None  # the RAC rank is not a GRU's
    assert summary["learned"] == (summary["test_accuracy"] >= 0.9)
    if not summary["learned"]:
        assert "did not learn" in summary["note"]
    assert main([*base, "--min-accuracy", "1.5"]) == 2
    assert "--min-accuracy" in capsys.readouterr().err
    ck = tmp_path / "ck.npz"
    assert main(["train", "--cell", "gru", "--depth", "1", "--width", "4", "--task", "ses", "--symbols", "2",
                 "--span", "2", "--time", "4", "--steps", "2", "--checkpoint", str(ck), "--no-progress"]) == 0
    capsys.readouterr()
    assert main([*base, "--checkpoint", str(ck)]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["learned"] is None  # a checkpoint's accuracy is not measured here
    wider = [*base[:6], "5", *base[7:]]
    assert main([*wider, "--checkpoint", str(ck)]) == 2
    err = capsys.readouterr().err.strip()
    assert err and len(err.splitlines()) == 1
