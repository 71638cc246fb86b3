"""Figures of the capacity studies; every figure carries its training budget in a footer.

Each ``plot_*`` takes the summary dict of its study (``summarize_*``) and writes a PNG (or SVG) through
:func:`tnrnn.draw.style.save_figure` (atomic, deterministic bytes).
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.draw.style import RC, save_figure

CELL_COLORS = {"rnn": "#1f77b4", "irnn": "#17becf", "ugrnn": "#2ca02c", "gru": "#d62728", "lstm": "#9467bd",
               "plusrnn": "#ff7f0e", "rac": "#7f7f7f"}
CELL_LABELS = {"rnn": "RNN", "irnn": "IRNN", "ugrnn": "UGRNN", "gru": "GRU", "lstm": "LSTM", "plusrnn": "+RNN",
               "rac": "RAC"}


def _label(cell: str) -> str:
    return CELL_LABELS.get(cell, cell)


def _figure(width: float, height: float, ncols: int):
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, height))
        axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def budget_text(training: dict, keys: tuple[str, ...] | None = None) -> str:
    """One line describing a training budget, e.g. ``"steps 2500, batch_size 256, ..., wall 12.3 min"``.

    Examples
    --------
    >>> budget_text({"steps": 10, "learning_rates": [0.01], "total_point_seconds": 90})
    'steps 10, learning_rates [0.01]; point run time 1.5 min'
    """
    items = [(k, v) for k, v in training.items()
             if k not in ("total_point_seconds", "chunk", "preset", "wall_seconds", "wall_seconds_this_run")
             and (keys is None or k in keys)]
    text = ", ".join(f"{k} {_fmt(v)}" for k, v in items)
    if "total_point_seconds" in training:
        text += f"; point run time {training['total_point_seconds'] / 60:.1f} min"
    wall = training.get("wall_seconds", training.get("wall_seconds_this_run"))
    if isinstance(wall, (int, float)):
        text += f", wall time {wall / 60:.1f} min"
    return text


def _finish(fig, title: str, footer: str, path, *, width_chars: int) -> Path:
    fig.suptitle(title, fontsize=11)
    lines = textwrap.wrap(footer, width=width_chars)
    fig.text(0.5, 0.01, "\n".join(lines), ha="center", va="bottom", fontsize=7.5, color="0.25")
    fig.tight_layout(rect=(0, 0.02 + 0.028 * len(lines), 1, 0.95))
    return save_figure(fig, path, dpi=130)


def plot_bits(summary: dict, path: str | os.PathLike) -> Path:
    """Capacity against parameter count (log-log, fitted slope per cell) and bits per parameter per size."""
    sizes = summary.get("sizes") or []
    if not sizes:
        raise TnrnnError("no finished bits-per-parameter points to plot")
    fig, (ax1, ax2) = _figure(11.0, 4.9, 2)
    cells = list(dict.fromkeys(s["cell"] for s in sizes))
    for cell in cells:
        rows = sorted((s for s in sizes if s["cell"] == cell), key=lambda s: s["num_params"])
        P = np.array([s["num_params"] for s in rows], float)
        C = np.array([max(s["capacity_bits"], 1e-3) for s in rows], float)
        slope = summary.get("slopes", {}).get(cell)
        color = CELL_COLORS.get(cell, "k")
        depth = rows[0]["depth"]
        lab = _label(cell) + (f" (L={depth})" if depth != 1 else "")
        lab += f", slope {slope:.2f}" if slope is not None else ""
        ax1.loglog(P, C, "o", color=color, ms=5, label=lab)
        if slope is not None and len(P) >= 2:
            a, b = np.polyfit(np.log(P), np.log(C), 1)
            xs = np.geomspace(P.min(), P.max(), 20)
            ax1.loglog(xs, np.exp(b) * xs**a, "-", color=color, lw=1.2, alpha=0.8)
        ax2.semilogx(P, [s["bits_per_param"] for s in rows], "o-", color=color, ms=5, lw=1.5, label=_label(cell))
    ax1.set_xlabel("trainable parameters")
    ax1.set_ylabel("capacity (bits, max over b and lr of the seed mean)")
    ax1.grid(alpha=0.3, which="both")
    ax1.legend(fontsize=7.5, loc="upper left")
    ax2.set_xlabel("trainable parameters")
    ax2.set_ylabel("bits per parameter")
    ax2.axhspan(2.0, 3.5, color="0.85", alpha=0.6, lw=0)
    ax2.text(ax2.get_xlim()[0], 3.5, " paper: 2 to 3.5 with a few thousand CPU-seconds", fontsize=7.5,
             color="0.35", va="top")
    ax2.axhline(5.0, color="0.5", ls=":", lw=1)
    ax2.text(ax2.get_xlim()[0], 5.0, " paper: about 5 (huge tuning)", fontsize=7.5, color="0.35", va="bottom")
    top = max(5.6, max(s["bits_per_param"] for s in sizes) * 1.15)
    ax2.set_ylim(0, top)
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=7.5, ncol=3, loc="upper right")
    tr = summary.get("training", {})
    footer = ("Memorisation of b random binary labels (input at step 1, label read at step 5); capacity = max over "
              "b in b_multiples x parameters and the learning rates of the seed-mean I = b(1 - H2(p)). Budget per "
              "setting: " + budget_text(tr))
    return _finish(fig, "Bits per parameter (Collins et al. 2017 task, small budget)", footer, path, width_chars=190)


def plot_units(summary: dict, path: str | os.PathLike) -> Path:
    """Normalised single-shot recall error against units, per cell, beside ``max(0, 1 - N/n_in)``."""
    curves = summary.get("curves") or {}
    if not curves:
        raise TnrnnError("no finished per-unit points to plot")
    fig, (ax,) = _figure(7.2, 5.0, 1)
    n_in = summary.get("training", {}).get("n_in")
    allN = sorted({r["units"] for rows in curves.values() for r in rows})
    for i, (cell, rows) in enumerate(curves.items()):
        N = [r["units"] for r in rows]
        # a small horizontal offset per cell keeps overlapping curves distinguishable
        off = 1 + 0.025 * (i - (len(curves) - 1) / 2)
        ax.plot(np.array(N) * off, [r["normalized_error"] for r in rows], "o-", color=CELL_COLORS.get(cell, "k"),
                lw=1.4, ms=4.5, label=_label(cell), alpha=0.9)
    if n_in:
        xs = np.linspace(min(allN), max(allN), 200)
        ax.plot(xs, np.maximum(0, 1 - xs / n_in), "k--", lw=1.2, label=f"max(0, 1 - N/{n_in})")
    ax.set_xlabel("hidden units N")
    ax.set_ylabel("normalised error  MSE / Var(target)")
    ax.set_xticks(allN)
    ax.set_ylim(-0.03, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    tr = summary.get("training", {})
    footer = ("Single-shot recall: one N(0, I) vector of dimension n_in at step 1, read back after `delay` more "
              "steps; best learning rate per point, mean over seeds. Budget: " + budget_text(tr))
    return _finish(fig, "Per-unit memory: about one real number per unit", footer, path, width_chars=120)


def plot_mc(summary: dict, path: str | os.PathLike) -> Path:
    """Memory capacity against N (exact and measured), memory functions, and Fisher memory curves."""
    rows = summary.get("rows") or []
    if not rows:
        raise TnrnnError("no finished memory-capacity points to plot")
    fig, (ax1, ax2, ax3) = _figure(13.5, 4.6, 3)
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    marker = {"orthogonal": "o", "gaussian": "s"}
    Ns = sorted({r["n"] for r in rows})
    ax1.plot(Ns, Ns, "k-", lw=1, label="N (noise-free theory)")
    for kind in kinds:
        rs = [r for r in rows if r["kind"] == kind]
        mk = marker.get(kind, "o")
        an = [(r["n"], r["analytic"]) for r in rs if r["analytic"] is not None]
        if an:
            ax1.plot(*zip(*an), mk, mfc="none", mec="k", ms=9, label=f"{kind}: Lyapunov, no noise")
        ax1.plot([r["n"] for r in rs], [r["analytic_noisy"] for r in rs], mk + ":", color="0.5", ms=4,
                 label=f"{kind}: Lyapunov, noise 1e-6")
        ax1.plot([r["n"] for r in rs], [r["empirical_linear"] for r in rs], mk + "-", color="#1f77b4", ms=4,
                 label=f"{kind}: measured, linear")
        ax1.plot([r["n"] for r in rs], [r["empirical_tanh"] for r in rs], mk + "-", color="#d62728", ms=4,
                 label=f"{kind}: measured, tanh")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("units N")
    ax1.set_ylabel("memory capacity  sum_k r^2")
    ax1.grid(alpha=0.3, which="both")
    ax1.legend(fontsize=6.5, loc="upper left")
    curves = summary.get("curves", {})
    for kind, c in curves.items():
        ls = "-" if kind == "orthogonal" else "--"
        k = np.arange(len(c["m_linear"]))
        if c.get("m_exact"):
            cond = next((r["covariance_condition"] for r in rows if r["kind"] == kind and r["n"] == c["n"]), None)
            extra = f" (cond C {cond:.0e})" if cond else ""
            if cond and cond > 1e12:
                # float64 keeps about 16 digits: with C this ill-conditioned the "exact" curve is rounding.
                extra += ", unreliable"
            ax2.plot(k, c["m_exact"], ls, color="k", lw=1.2, label=f"{kind[:5]}. exact{extra}")
        ax2.plot(k, c["m_linear"], ls, color="#1f77b4", lw=1, label=f"{kind[:5]}. linear")
        ax2.plot(k, c["m_tanh"], ls, color="#d62728", lw=1, label=f"{kind[:5]}. tanh")
        J = np.asarray(c["fisher"], float)
        J = np.where(J > 1e-12, J, np.nan)  # below that it is rounding noise: leave a gap, not a floor
        ax3.semilogy(np.arange(len(J)), J, ls, lw=1.3,
                     label=f"{kind} N={c['n']} (J_tot {_fisher_total(summary, kind):.3f})")
    ax2.set_xlabel("delay k")
    ax2.set_ylabel("memory function m(k) = r^2")
    ax2.set_ylim(-0.03, 1.05)
    ax2.grid(alpha=0.3)
    # the right half is empty past the memory span; keep the legend there, below the m = 1 plateau
    n_big = max((c["n"] for c in curves.values()), default=0)
    ax2.legend(fontsize=6.5, loc="upper right", bbox_to_anchor=(1.0, 0.75), title=f"N = {n_big}",
               title_fontsize=7)
    ax3.set_xlabel("delay k")
    ax3.set_ylabel("Fisher memory J(k)")
    ax3.grid(alpha=0.3, which="both")
    ax3.legend(fontsize=7, loc="upper right",
               title="normal W: J_tot = 1", title_fontsize=7)
    tr = summary.get("training", {})
    footer = ("Frozen random networks x(t) = f(W x(t-1) + v u(t)), u i.i.d. N(0,1); ridge readout per delay k >= 0 "
              "fitted on train_steps, r^2 on the next test_steps (held out); tanh inputs scaled by 0.5. Budget: "
              + budget_text(tr))
    return _finish(fig, "Jaeger memory capacity: Lyapunov theory vs held-out measurement; Fisher memory",
                   footer, path, width_chars=220)


def _fisher_total(summary: dict, kind: str) -> float:
    rows = [r for r in summary["rows"] if r["kind"] == kind]
    return max(rows, key=lambda r: r["n"])["fisher_total"] if rows else math.nan


def plot_trainability(summary: dict, path: str | os.PathLike) -> Path:
    """Failed fraction and final losses (median and best) per cell and depth."""
    rows = summary.get("rows") or []
    if not rows:
        raise TnrnnError("no finished trainability points to plot")
    fig, (ax1, ax2) = _figure(12.0, 4.8, 2)
    cells = list(dict.fromkeys(r["cell"] for r in rows))
    depths = sorted({r["depth"] for r in rows})
    w = 0.8 / len(depths)
    shades = [0.35 + 0.65 * i / max(len(depths) - 1, 1) for i in range(len(depths))]
    import matplotlib.colors as mcolors

    for j, d in enumerate(depths):
        for i, cell in enumerate(cells):
            r = next((r for r in rows if r["cell"] == cell and r["depth"] == d), None)
            if r is None:
                continue
            base = np.array(mcolors.to_rgb(CELL_COLORS.get(cell, "k")))
            color = tuple(base * shades[j] + (1 - shades[j]))  # lighter = shallower
            x = i + (j - (len(depths) - 1) / 2) * w
            ax1.bar(x, r["diverged_fraction"], w * 0.9, color=color, edgecolor="k", lw=0.5, hatch="//")
            ax1.bar(x, r["above_initial_fraction"], w * 0.9, bottom=r["diverged_fraction"], color=color,
                    edgecolor="k", lw=0.5)
            n_failed = round(r["failed_fraction"] * r["draws"])
            ax1.text(x, r["failed_fraction"] + 0.01, f"L{d}\n{n_failed}/{r['draws']}", ha="center", va="bottom",
                     fontsize=6)
            med = r["median_final_loss"]
            ax2.bar(x, med if math.isfinite(med) else 0, w * 0.9, color=color, edgecolor="k", lw=0.5)
            if not math.isfinite(med):
                ax2.text(x, 0.02, "inf", ha="center", fontsize=6.5, rotation=90)
            ax2.plot([x], [r["best_final_loss"]], "v", color="k", ms=4)
    for ax in (ax1, ax2):
        ax.set_xticks(range(len(cells)))
        ax.set_xticklabels([_label(c) for c in cells])
        ax.grid(alpha=0.3, axis="y")
    ax1.set_ylabel("fraction of draws that failed")
    ax1.set_ylim(0, max(0.3, max(r["failed_fraction"] for r in rows) * 1.2 + 0.05))
    ax1.set_title("failed = diverged (hatched) or final loss above initial (plain)", fontsize=8.5)
    ax2.set_ylabel("final held-out cross-entropy")
    chance = math.log(6)
    ax2.axhline(chance, color="0.4", ls="--", lw=1)
    finite = [r["median_final_loss"] for r in rows if math.isfinite(r["median_final_loss"])]
    ax2.set_ylim(0, max([chance] + finite) * 1.15)
    ax2.text(-0.45, chance * 1.01, "ln 6: uniform guess over 6 counts", fontsize=7, ha="left", va="bottom",
             color="0.3")
    ax2.set_title("bars: median over draws; triangles: best draw (bars per cell: depths "
                  + ", ".join(str(d) for d in depths) + ", light to dark)", fontsize=8.5)
    tr = summary.get("training", {})
    footer = ("Parentheses counting (per step and type, the open count saturating at max_count); each draw: "
              "lr log-U[1e-4, 1], clip log-U[0.1, 1000], forget bias U[-1, 3], recurrent init scale log-U[0.3, 3]; "
              "same draws for every cell and depth, equal parameter budget. Budget: " + budget_text(tr))
    return _finish(fig, "Trainability under random hyperparameters, by cell and depth", footer, path,
                   width_chars=200)
