"""Memory capacity: the Lyapunov sum is N without noise, measurement agrees, Fisher total is 1 for normal W."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import TnrnnError
from tnrnn.capacity.mc import (
    empirical_memory_function,
    fisher_memory_curve,
    linear_memory_capacity,
    linear_memory_function,
    random_network,
    simulate,
    state_covariance,
)

sizes = st.integers(min_value=2, max_value=8)
radii = st.floats(min_value=0.3, max_value=0.9)
seeds = st.integers(min_value=0, max_value=10**6)


@settings(max_examples=40, deadline=None)
@given(sizes, radii, seeds, st.sampled_from(["orthogonal", "gaussian"]))
def test_noise_free_memory_capacity_is_N(n, rho, seed, kind):
    W, v = random_network(n, kind=kind, spectral_radius=rho, seed=seed)
    # a nearly uncontrollable draw makes C numerically singular; the statement is about well-posed ones
    assume(np.linalg.cond(state_covariance(W, v)) < 1e8)
    assert linear_memory_capacity(W, v) == pytest.approx(n, abs=1e-6)


def test_lyapunov_covariance_solves_its_equation():
    W, v = random_network(6, kind="gaussian", spectral_radius=0.8, seed=3)
    C = state_covariance(W, v, noise_var=0.1)
    assert np.allclose(W @ C @ W.T + np.outer(v, v) + 0.1 * np.eye(6), C, atol=1e-12)


def test_noise_lowers_capacity_and_each_term_is_an_r2():
    W, v = random_network(6, kind="orthogonal", spectral_radius=0.9, seed=0)
    m = linear_memory_function(W, v, noise_var=0.05)
    assert ((m >= 0) & (m <= 1 + 1e-12)).all()
    assert m.sum() < 6 - 0.1


def test_krylov_and_lyapunov_memory_functions_agree():
    W, v = random_network(5, kind="gaussian", spectral_radius=0.7, seed=1)
    a = linear_memory_function(W, v, delays=150)
    b = linear_memory_function(W, v, delays=150, method="krylov")
    assert np.allclose(a, b, atol=1e-8)


def test_empirical_capacity_matches_the_analytic_value_on_long_held_out_data():
    W, v = random_network(6, kind="orthogonal", spectral_radius=0.8, seed=2)
    exact = linear_memory_function(W, v, delays=60)
    measured = empirical_memory_function(W, v, delays=60, train_steps=20000, test_steps=20000, washout=200)
    assert measured.sum() == pytest.approx(exact.sum(), abs=0.25)
    assert np.abs(measured - exact).max() < 0.05


def test_tanh_network_remembers_less_than_N():
    W, v = random_network(8, kind="orthogonal", spectral_radius=0.95, input_scale=2.0, seed=0)
    m = empirical_memory_function(W, v, nonlinearity="tanh", delays=80, train_steps=8000, test_steps=8000)
    assert 1.0 < m.sum() < 8 - 0.5


@settings(max_examples=30, deadline=None)
@given(sizes, radii, seeds, st.sampled_from(["orthogonal", "symmetric"]))
def test_fisher_total_is_one_for_a_normal_matrix(n, rho, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "orthogonal":
        W, _ = random_network(n, kind="orthogonal", spectral_radius=rho, seed=seed)
    else:
        A = rng.standard_normal((n, n))
        S = A + A.T
        W = S * (rho / max(abs(np.linalg.eigvalsh(S))))
    assert np.allclose(W @ W.T, W.T @ W, atol=1e-12)  # normal
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    assert fisher_memory_curve(W, v).sum() == pytest.approx(1.0, abs=1e-6)
    assert fisher_memory_curve(W, v, noise_var=0.25).sum() == pytest.approx(4.0, abs=1e-5)


def test_a_non_normal_delay_line_beats_the_normal_bound():
    n = 6
    W = 0.99 * np.eye(n, k=-1)  # feed-forward chain: unit i passes its value to unit i+1
    v = np.eye(n)[0]
    assert fisher_memory_curve(W, v).sum() > 1.5


def test_simulate_linear_is_a_convolution():
    W = np.array([[0.5, 0.0], [0.2, 0.3]])
    v = np.array([1.0, -1.0])
    u = np.random.default_rng(0).standard_normal(30)
    X = simulate(W, v, u)
    t = 29
    direct = sum(np.linalg.matrix_power(W, k) @ v * u[t - k] for k in range(t + 1))
    assert np.allclose(X[t], direct)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: random_network(4, spectral_radius=1.2), "spectral_radius"),
        (lambda: random_network(4, kind="sparse"), "kind"),
        (lambda: linear_memory_capacity(np.eye(3) * 1.01, np.ones(3)), "spectral radius"),
        (lambda: linear_memory_capacity(np.eye(3) * 0.5, np.ones(2)), "square"),
        (lambda: linear_memory_capacity(np.eye(3) * 0.5, np.zeros(3)), "singular"),
        (lambda: linear_memory_function(np.eye(2) * 0.5, np.ones(2), method="krylov", noise_var=0.1), "noise-free"),
        (lambda: fisher_memory_curve(np.eye(2) * 0.5, np.ones(2), noise_var=0.0), "noise_var"),
        (lambda: empirical_memory_function(np.eye(2) * 0.5, np.ones(2), nonlinearity="relu", delays=2,
                                           train_steps=10, test_steps=10), "nonlinearity"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(TnrnnError, match=message):
        call()
