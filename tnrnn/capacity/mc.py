"""Jaeger's memory capacity of frozen random networks, exact (Lyapunov) and measured; the Fisher memory curve.

A network driven by a scalar i.i.d. input ``u(t)`` of unit variance, ``x(t) = f(W x(t-1) + v u(t))``, with a
linear readout per delay ``k`` trained to output ``u(t-k)``. Its memory function is
``m(k) = r^2(u(t-k), readout_k(x(t)))`` and its memory capacity ``MC = sum_k m(k)`` (Jaeger 2001). Delays
start at ``k = 0`` (the state at time t already holds ``u(t)``), which is the convention under which the
linear sum is exactly N.

For a linear network (``f`` = identity) with state noise of variance ``noise_var`` per unit and step, the
stationary state covariance solves the discrete Lyapunov equation ``C = W C W^T + v v^T + noise_var I``
(scipy), and the best linear readout of ``u(t-k)`` has ``r^2 = (W^k v)^T C^-1 (W^k v)``. Without noise the
sum over all k is ``tr(C^-1 sum_k W^k v v^T W^kT) = tr(C^-1 C) = N`` whenever ``(W, v)`` is controllable:
[`linear_memory_function`][tnrnn.capacity.mc.linear_memory_function] computes the terms and its tail bound.

The Fisher memory curve (Ganguli, Huh and Sompolinsky, PNAS 2008) measures how much Fisher information the
state holds about a past input pulse against the network's own noise:
``J(k) = (W^k v)^T C_n^-1 (W^k v)`` with ``C_n = noise_var sum_k W^k W^kT``. For a normal ``W``
(``W W^T = W^T W``) the total is ``sum_k J(k) = |v|^2 / noise_var``: 1 for a unit input vector and unit
noise, whatever the spectrum; only non-normal networks (e.g. a delay line) can exceed it.
"""

from __future__ import annotations

import math

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int

NETWORK_KINDS = ("gaussian", "orthogonal")
NONLINEARITIES = ("linear", "tanh")


def random_network(n: int, *, kind: str = "gaussian", spectral_radius: float = 0.9, input_scale: float = 1.0,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random recurrent matrix rescaled to a spectral radius, and an input vector.

    Parameters
    ----------
    n : int
        Units N.
    kind : {"gaussian", "orthogonal"}
        i.i.d. Gaussian entries, or a Haar-random orthogonal matrix (normal, all eigenvalues on one circle).
    spectral_radius : float
        Largest eigenvalue modulus after rescaling, in (0, 1) (the linear network is then stable).
    input_scale : float
        ``v`` has i.i.d. normal entries of standard deviation ``input_scale / sqrt(N)``.
    seed : int

    Returns
    -------
    W : (N, N) array, v : (N,) array

    Examples
    --------
    >>> W, v = random_network(6, kind="orthogonal", spectral_radius=0.8, seed=1)
    >>> round(float(max(abs(np.linalg.eigvals(W)))), 6), v.shape
    (0.8, (6,))
    """
    n = check_positive_int("n", n)
    if kind not in NETWORK_KINDS:
        raise TnrnnError(f"kind must be one of {', '.join(NETWORK_KINDS)}, got {kind!r}")
    if not (0 < spectral_radius < 1):
        raise TnrnnError(f"spectral_radius must lie in (0, 1) for a stable network, got {spectral_radius}")
    if not (input_scale > 0 and math.isfinite(input_scale)):
        raise TnrnnError(f"input_scale must be a positive number, got {input_scale}")
    rng = np.random.default_rng(check_positive_int("seed", seed, minimum=0))
    A = rng.standard_normal((n, n))
    if kind == "orthogonal":
        q, r = np.linalg.qr(A)
        A = q * np.sign(np.diag(r))  # Haar measure
    W = A * (spectral_radius / max(abs(np.linalg.eigvals(A))))
    v = rng.standard_normal(n) * input_scale / math.sqrt(n)
    return W, v


def _check_wv(W, v) -> tuple[np.ndarray, np.ndarray]:
    W = np.asarray(W, np.float64)
    v = np.asarray(v, np.float64).reshape(-1)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] != v.shape[0]:
        raise TnrnnError(f"W must be square (N, N) and v of length N, got {W.shape} and {v.shape}")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(v))):
        raise TnrnnError("W and v must be finite")
    rho = max(abs(np.linalg.eigvals(W))) if W.size else 0.0
    if rho >= 1:
        raise TnrnnError(f"the spectral radius of W must be below 1 (stationary states), got {rho:.4g}")
    return W, v


def _default_delays(W: np.ndarray, tol: float = 1e-14) -> int:
    # enough delays that the dropped tail, of order rho^(2K), is below tol
    rho = max(abs(np.linalg.eigvals(W)))
    if rho < 1e-12:
        return W.shape[0] + 1
    return int(min(100000, max(W.shape[0] + 1, math.ceil(math.log(tol) / (2 * math.log(rho))) + W.shape[0])))


def _quadratic_terms(W: np.ndarray, v: np.ndarray, C: np.ndarray, delays: int) -> np.ndarray:
    """``(W^k v)^T C^-1 (W^k v)`` for k < delays, through one symmetric eigendecomposition of C."""
    C = 0.5 * (C + C.T)
    lam, Q = np.linalg.eigh(C)
    if lam[0] <= 0:
        raise TnrnnError(
            "the state covariance is singular: (W, v) is not controllable (some state direction never receives "
            "input); add noise (noise_var > 0) or use another v"
        )
    P = Q / np.sqrt(lam)  # C^-1 = P P^T
    out = np.empty(delays)
    z = v.copy()
    for k in range(delays):
        y = z @ P
        out[k] = y @ y
        z = W @ z
    return out


def state_covariance(W, v, noise_var: float = 0.0) -> np.ndarray:
    """Stationary covariance ``C = W C W^T + v v^T + noise_var I`` of the linear network (unit input variance).

    Examples
    --------
    >>> C = state_covariance(np.array([[0.5]]), np.array([1.0]))
    >>> round(float(C[0, 0]), 6)  # 1 / (1 - 0.25)
    1.333333
    """
    from scipy.linalg import solve_discrete_lyapunov

    W, v = _check_wv(W, v)
    if not (noise_var >= 0 and math.isfinite(noise_var)):
        raise TnrnnError(f"noise_var must be >= 0, got {noise_var}")
    Q = np.outer(v, v) + noise_var * np.eye(W.shape[0])
    return solve_discrete_lyapunov(W, Q)


def linear_memory_function(W, v, *, noise_var: float = 0.0, delays: int | None = None,
                           method: str = "lyapunov") -> np.ndarray:
    """Exact memory function ``m(k)``, ``k = 0 .. delays-1``, of the linear network ``x(t) = W x(t-1) + v u(t)``.

    Parameters
    ----------
    W : (N, N) array, spectral radius < 1
    v : (N,) array
    noise_var : float
        Variance of independent state noise per unit and step (0: noise-free, where the sum is N).
    delays : int, optional
        Number of delays; default: enough that the dropped tail is below 1e-14 (about ``log(1e-14) / (2 log
        rho) + N``).
    method : {"lyapunov", "krylov"}
        ``"lyapunov"``: ``C`` from ``scipy.linalg.solve_discrete_lyapunov``, then one eigendecomposition; its
        sum is an independent check of the theory, but ``C`` of a Gaussian ``W`` is so ill-conditioned
        (condition number growing exponentially with N) that it fails beyond N of about 20 in float64.
        ``"krylov"`` (noise-free only): ``m(k)`` are the leverage scores of the Krylov matrix
        ``[v, W v, ..., W^(K-1) v]^T`` from a thin QR factorisation, which needs only the square root of
        that condition number; over the K delays they sum to N by construction (the Gramian is truncated at
        K), so it shows where the memory sits, not whether the sum is right.

    Returns
    -------
    numpy.ndarray
        ``m(k)`` in ``[0, 1]``.

    Examples
    --------
    >>> W, v = random_network(8, kind="orthogonal", spectral_radius=0.9, seed=0)
    >>> round(float(linear_memory_function(W, v).sum()), 6)
    8.0
    """
    W, v = _check_wv(W, v)
    K = _default_delays(W) if delays is None else check_positive_int("delays", delays)
    if method == "krylov":
        if noise_var != 0:
            raise TnrnnError("method='krylov' is noise-free only; use method='lyapunov' with noise_var > 0")
        return _krylov_leverage(W, v, K)
    if method != "lyapunov":
        raise TnrnnError(f"method must be 'lyapunov' or 'krylov', got {method!r}")
    return _quadratic_terms(W, v, state_covariance(W, v, noise_var), K)


def _krylov_leverage(W: np.ndarray, v: np.ndarray, K: int) -> np.ndarray:
    rows = np.empty((K, W.shape[0]))
    z = v.copy()
    for k in range(K):
        rows[k] = z
        z = W @ z
    q, r = np.linalg.qr(rows)  # rows = q r, so m(k) = |q[k]|^2 is the leverage of row k
    if K < W.shape[0] or np.min(abs(np.diag(r))) == 0:
        raise TnrnnError("the Krylov matrix is rank-deficient: (W, v) is not controllable within the delays")
    return (q**2).sum(axis=1)


def linear_memory_capacity(W, v, *, noise_var: float = 0.0, delays: int | None = None) -> float:
    """``sum_k m(k)`` of [`linear_memory_function`][tnrnn.capacity.mc.linear_memory_function] (equals N without noise, up to the tail).

    Examples
    --------
    >>> W, v = random_network(5, kind="gaussian", spectral_radius=0.7, seed=2)
    >>> round(linear_memory_capacity(W, v), 6)
    5.0
    """
    return float(linear_memory_function(W, v, noise_var=noise_var, delays=delays).sum())


def fisher_memory_curve(W, v, *, noise_var: float = 1.0, delays: int | None = None) -> np.ndarray:
    """Fisher memory curve ``J(k) = (W^k v)^T C_n^-1 (W^k v)``, ``C_n = noise_var sum_k W^k W^kT``.

    The total ``sum_k J(k)`` is ``|v|^2 / noise_var`` for a normal ``W`` (Ganguli et al. 2008).

    Examples
    --------
    >>> W, v = random_network(6, kind="orthogonal", spectral_radius=0.9, seed=0)
    >>> round(float(fisher_memory_curve(W, v / np.linalg.norm(v)).sum()), 6)
    1.0
    """
    from scipy.linalg import solve_discrete_lyapunov

    W, v = _check_wv(W, v)
    if not (noise_var > 0 and math.isfinite(noise_var)):
        raise TnrnnError(f"noise_var must be > 0 for the Fisher memory curve, got {noise_var}")
    K = _default_delays(W) if delays is None else check_positive_int("delays", delays)
    Cn = noise_var * solve_discrete_lyapunov(W, np.eye(W.shape[0]))
    return _quadratic_terms(W, v, Cn, K)


def simulate(W, v, inputs, *, nonlinearity: str = "linear", noise_var: float = 0.0, seed: int = 0) -> np.ndarray:
    """States ``x(t) = f(W x(t-1) + v u(t) + noise)`` from ``x(-1) = 0``; returns (T, N).

    Examples
    --------
    >>> simulate(np.array([[0.5]]), np.array([1.0]), np.array([1.0, 0.0, 0.0]))[:, 0].tolist()
    [1.0, 0.5, 0.25]
    """
    W, v = np.asarray(W, np.float64), np.asarray(v, np.float64)
    if nonlinearity not in NONLINEARITIES:
        raise TnrnnError(f"nonlinearity must be one of {', '.join(NONLINEARITIES)}, got {nonlinearity!r}")
    u = np.asarray(inputs, np.float64).reshape(-1)
    drive = np.outer(u, v)
    if noise_var > 0:
        drive += math.sqrt(noise_var) * np.random.default_rng(seed).standard_normal(drive.shape)
    X = np.empty_like(drive)
    x = np.zeros(W.shape[0])
    Wt = W.T
    f = np.tanh if nonlinearity == "tanh" else None
    for t in range(u.shape[0]):
        x = x @ Wt + drive[t]
        if f is not None:
            x = f(x)
        X[t] = x
    return X


def empirical_memory_function(W, v, *, nonlinearity: str = "linear", delays: int = 100, train_steps: int = 20000,
                              test_steps: int = 20000, washout: int = 500, ridge: float = 1e-8,
                              noise_var: float = 0.0, seed: int = 0) -> np.ndarray:
    """Measured memory function: ridge readouts per delay fitted on one run, ``r^2`` on held-out steps.

    The input is i.i.d. standard normal. The readouts (one per delay, with intercept) are fitted on
    ``train_steps`` steps after a ``washout``; ``r^2`` is the squared correlation between each readout and
    its target on the next ``test_steps`` steps of the same run (held out: not used for fitting). The ridge
    penalty is ``ridge`` times the mean state variance, so it is scale-free.

    Returns
    -------
    numpy.ndarray
        ``m(k)`` for ``k = 0 .. delays-1``.

    Examples
    --------
    >>> W, v = random_network(4, kind="orthogonal", spectral_radius=0.5, seed=0)
    >>> m = empirical_memory_function(W, v, delays=12, train_steps=4000, test_steps=4000)
    >>> bool(abs(m.sum() - 4) < 0.2)
    True
    """
    W, v = _check_wv(W, v)
    K = check_positive_int("delays", delays)
    n_tr = check_positive_int("train_steps", train_steps)
    n_te = check_positive_int("test_steps", test_steps)
    washout = check_positive_int("washout", washout, minimum=0)
    if not (ridge >= 0 and math.isfinite(ridge)):
        raise TnrnnError(f"ridge must be >= 0, got {ridge}")
    rng = np.random.default_rng(check_positive_int("seed", seed, minimum=0))
    T = washout + K + n_tr + n_te
    u = rng.standard_normal(T)
    X = simulate(W, v, u, nonlinearity=nonlinearity, noise_var=noise_var, seed=seed + 1)
    start = washout + K  # every delay has its target inside the run
    idx_tr = np.arange(start, start + n_tr)
    idx_te = np.arange(start + n_tr, T)
    # targets u(t - k) for k = 0 .. K-1, as columns
    U_tr = np.stack([u[idx_tr - k] for k in range(K)], axis=1)
    U_te = np.stack([u[idx_te - k] for k in range(K)], axis=1)
    X_tr, X_te = X[idx_tr], X[idx_te]
    mx, mu = X_tr.mean(0), U_tr.mean(0)
    Xc = X_tr - mx
    G = Xc.T @ Xc
    lam = ridge * np.trace(G) / G.shape[0]
    B = np.linalg.solve(G + lam * np.eye(G.shape[0]), Xc.T @ (U_tr - mu))
    pred = (X_te - mx) @ B + mu
    pc = pred - pred.mean(0)
    tc = U_te - U_te.mean(0)
    denom = np.sqrt((pc**2).sum(0) * (tc**2).sum(0))
    r = np.where(denom > 0, (pc * tc).sum(0) / np.where(denom > 0, denom, 1.0), 0.0)
    return r**2
