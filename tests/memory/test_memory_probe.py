"""The Start-End probe: matricization layout, shallow RAC rank at most R, a generic random deep RAC reaching
the certified rank, the spectrum statistics, the domain check before any work, the CLI."""

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
from tnrnn.memory.probe import check_domain, probe, spectrum_report, start_end_matrices


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
