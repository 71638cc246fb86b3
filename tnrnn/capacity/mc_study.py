"""The memory-capacity study as sweep points: exact and measured MC of frozen random networks against N.

[`mc_point`][tnrnn.capacity.mc_study.mc_point] takes one (N, matrix kind, seed) and returns, for the linear network, the noise-free MC from
the Lyapunov solve (``None`` with the reason when the state covariance is numerically singular, as it is
for Gaussian matrices beyond N of about 20), the MC with a little state noise, the measured MC of the linear
and the tanh network on held-out data, and the Fisher memory total of the unit-norm input vector (1 for a
normal matrix). [`summarize_mc`][tnrnn.capacity.mc_study.summarize_mc] groups the records for the figure and JSON.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int
from tnrnn.capacity.mc import (
    empirical_memory_function,
    fisher_memory_curve,
    linear_memory_function,
    random_network,
    state_covariance,
)
from tnrnn.capacity.presets import MC
from tnrnn.capacity.study import Option, Study

POINT_TASK = "tnrnn.capacity.mc_study:mc_point"


def default_delays(n: int, spectral_radius: float) -> int:
    """Delays to measure: past ``3 n`` and past where ``n rho^(2k)`` (the order of the memory left) is 0.01.

    Examples
    --------
    >>> default_delays(10, 0.9)
    53
    """
    import math

    tail = math.ceil(math.log(0.01 / n) / (2 * math.log(spectral_radius)))
    return int(max(3 * n, tail) + 20)


def mc_point(
    *,
    n: int,
    kind: str = "orthogonal",
    spectral_radius: float = 0.95,
    input_scale: float = 1.0,
    tanh_input_scale: float = 0.5,
    seed: int = 0,
    train_steps: int = 20000,
    test_steps: int = 20000,
    washout: int = 500,
    delays: int | None = None,
    ridge: float = 1e-8,
    noise_var: float = 1e-6,
) -> dict:
    """Memory capacity of one random network of ``n`` units, exact and measured.

    Parameters
    ----------
    n, kind, spectral_radius, seed
        The network ([`tnrnn.capacity.mc.random_network`][tnrnn.capacity.mc.random_network]).
    input_scale, tanh_input_scale
        Input-vector scale of the linear network (irrelevant to its r^2) and of the tanh network (how far
        into the nonlinearity it is driven).
    train_steps, test_steps, washout, ridge
        The measurement ([`tnrnn.capacity.mc.empirical_memory_function`][tnrnn.capacity.mc.empirical_memory_function]).
    delays : int, optional
        Delays measured; default [`default_delays`][tnrnn.capacity.mc_study.default_delays].
    noise_var : float
        State-noise variance of the ``analytic_noisy`` value (relative to unit input variance).

    Returns
    -------
    dict
        ``n, kind, analytic`` (noise-free Lyapunov MC or None), ``analytic_error`` (why None),
        ``covariance_condition``, ``analytic_noisy``, ``empirical_linear``, ``empirical_tanh``,
        ``fisher_total`` and the curves ``m_exact`` (Krylov), ``m_linear``, ``m_tanh``, ``fisher``
        (first ``delays`` values).

    Examples
    --------
    >>> r = mc_point(n=4, train_steps=3000, test_steps=3000, washout=100)
    >>> round(r["analytic"], 6), round(r["fisher_total"], 6), abs(r["empirical_linear"] - 4) < 0.3
    (4.0, 1.0, True)
    """
    W, v = random_network(n, kind=kind, spectral_radius=spectral_radius, input_scale=input_scale, seed=seed)
    K = default_delays(n, spectral_radius) if delays is None else int(delays)
    out: dict[str, Any] = {"n": int(n), "kind": kind, "spectral_radius": spectral_radius, "seed": int(seed),
                           "delays": K}
    C = state_covariance(W, v)
    out["covariance_condition"] = float(np.linalg.cond(C))
    try:
        out["analytic"], out["analytic_error"] = float(linear_memory_function(W, v).sum()), None
    except TnrnnError as exc:
        out["analytic"], out["analytic_error"] = None, str(exc)
    out["analytic_noisy"] = float(linear_memory_function(W, v, noise_var=noise_var).sum())
    try:
        m_exact = linear_memory_function(W, v, method="krylov")
    except TnrnnError:
        m_exact = None
    kw: dict[str, Any] = dict(delays=K, train_steps=train_steps, test_steps=test_steps, washout=washout, ridge=ridge, seed=seed)
    m_lin = empirical_memory_function(W, v, nonlinearity="linear", **kw)
    Wt, vt = random_network(n, kind=kind, spectral_radius=spectral_radius, input_scale=tanh_input_scale, seed=seed)
    m_tanh = empirical_memory_function(Wt, vt, nonlinearity="tanh", **kw)
    fisher = fisher_memory_curve(W, v / np.linalg.norm(v))
    out.update({
        "empirical_linear": float(m_lin.sum()), "empirical_tanh": float(m_tanh.sum()),
        "fisher_total": float(fisher.sum()),
        "m_exact": None if m_exact is None else m_exact[:K].tolist(), "m_linear": m_lin.tolist(),
        "m_tanh": m_tanh.tolist(), "fisher": fisher[:K].tolist(),
    })
    return out


def mc_points(sizes: Sequence[int], kinds: Sequence[str], seeds: Sequence[int] = (0,), **measure: Any) -> list[dict]:
    """The sweep grid for [`mc_point`][tnrnn.capacity.mc_study.mc_point].

    Examples
    --------
    >>> len(mc_points([5, 10], ["orthogonal", "gaussian"]))
    4
    """
    if not sizes or not kinds or not seeds:
        raise TnrnnError("the memory-capacity study needs at least one size, one kind and one seed")
    for k in kinds:
        if k not in ("orthogonal", "gaussian"):
            raise TnrnnError(f"kind must be orthogonal or gaussian, got {k!r}")
    for n in sizes:  # checked here, before the sweep: a misuse, not points that each fail
        check_positive_int("sizes", n)
    return [{"n": int(n), "kind": k, "seed": int(s), **measure} for k in kinds for n in sizes for s in seeds]


def summarize_mc(records: list[dict], training: dict) -> dict:
    """Rows per (kind, N, seed) without the curves, the curves of the largest N per kind, errors, budget."""
    ok = [r["result"] for r in records if r.get("status") == "ok" and r.get("result")]
    errors = [{"params": r["params"], "error": r.get("error")} for r in records if r.get("status") != "ok"]
    curves_keys = ("m_exact", "m_linear", "m_tanh", "fisher")
    rows = sorted(({k: v for k, v in r.items() if k not in curves_keys} for r in ok),
                  key=lambda r: (r["kind"], r["n"], r["seed"]))
    curves = {}
    for kind in dict.fromkeys(r["kind"] for r in ok):
        biggest = max((r for r in ok if r["kind"] == kind), key=lambda r: (r["n"], -r["seed"]))
        curves[kind] = {"n": biggest["n"], **{k: biggest[k] for k in curves_keys}}
    seconds = sum(float(r.get("seconds") or 0.0) for r in records)
    return {"study": "memory_capacity", "rows": rows, "curves": curves, "errors": errors,
            "training": {**training, "total_point_seconds": seconds}}


_GRID_KEYS = ("sizes", "kinds", "seeds")


class MCStudy(Study):
    """Jaeger's memory capacity of frozen random networks (``tnrnn capacity mc``)."""

    name = "mc"
    help = "Jaeger memory capacity of frozen random networks, Lyapunov vs measured"
    description = ("Memory capacity of linear and tanh networks against N: exact (discrete Lyapunov), measured "
                   "on held-out data, and the Fisher memory total.")
    point_task = POINT_TASK
    presets = MC
    options = (
        Option("--sizes", "sizes", "int_list", "units N, e.g. 5,10,20,50"),
        Option("--kinds", "kinds", "names", "orthogonal,gaussian"),
        Option("--seeds", "seeds", "seed_list", "seeds"),
        Option("--spectral-radius", "spectral_radius", "radius", "spectral radius in (0, 1)"),
        Option("--train-steps", "train_steps", "int", "steps the readouts are fitted on"),
        Option("--test-steps", "test_steps", "int", "held-out steps the r^2 is measured on"),
    )

    def points(self, config: dict, records: list[dict]) -> list[dict]:
        """See [`tnrnn.capacity.study.Study.points`][tnrnn.capacity.study.Study.points]."""
        measure = {k: v for k, v in config.items() if k not in _GRID_KEYS}
        return mc_points(config["sizes"], config["kinds"], config["seeds"], **measure)

    def summary(self, records: list[dict], config: dict) -> dict:
        """See [`tnrnn.capacity.study.Study.summary`][tnrnn.capacity.study.Study.summary]."""
        return summarize_mc(records, {**config, "tanh_input_scale": 0.5, "ridge": 1e-8})

    def table(self, summary: dict) -> list[dict]:
        """See [`tnrnn.capacity.study.Study.table`][tnrnn.capacity.study.Study.table]."""
        keys = ("kind", "n", "analytic", "analytic_noisy", "empirical_linear", "empirical_tanh", "fisher_total")
        return [{k: r[k] for k in keys} for r in summary["rows"]]

    def plot(self, summary: dict, path: str | os.PathLike) -> Path:
        """See [`tnrnn.capacity.study.Study.plot`][tnrnn.capacity.study.Study.plot]."""
        from tnrnn.capacity.plots import plot_mc

        return plot_mc(summary, path)
