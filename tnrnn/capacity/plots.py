"""Figures of the capacity studies; every figure carries its training budget in a footer.

Each ``plot_*`` takes the summary dict of its study (``summarize_*``) and draws it in the package's shared
style ([`tnrnn.draw.style.new_plot`][tnrnn.draw.style.new_plot], [`tnrnn.draw.style.finish_figure`][tnrnn.draw.style.finish_figure]: atomic, deterministic
bytes). Cells are named and ordered by `tnrnn.memory.cells.CELL_TABLE` and coloured by their position
in it. Comparisons with Collins, Sohl-Dickstein and Sussillo, "Capacity and trainability in recurrent neural
networks" (ICLR 2017) cite the section of the paper they come from.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.draw.style import SERIES_COLORS, finish_figure, new_plot
from tnrnn.memory.cells import CELL_TABLE, CELLS

#: The paper's per-parameter capacity: "approximately 5 bits per parameter" (Collins et al. 2017, abstract and
#: section "Per-parameter capacity"), reached after extensive hyperparameter tuning.
PAPER_BITS_PER_PARAMETER = 5.0


def cell_label(cell: str) -> str:
    """Display name of a cell (``"+RNN"`` for ``plusrnn``).

    Examples
    --------
    >>> cell_label("plusrnn"), cell_label("gru")
    ('+RNN', 'GRU')
    """
    return CELL_TABLE[cell].label if cell in CELL_TABLE else cell


def cell_color(cell: str) -> str:
    """Colour of a cell: the shared series colour at its position in the cell table.

    Examples
    --------
    >>> cell_color("rnn") != cell_color("gru")
    True
    """
    index = CELLS.index(cell) if cell in CELLS else len(CELLS)
    return SERIES_COLORS[index % len(SERIES_COLORS)]


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


def plot_bits(summary: dict, path: str | os.PathLike) -> Path:
    """Stored bits against b (the adaptive search), capacity against parameters, and bits per parameter."""
    sizes = summary.get("sizes") or []
    if not sizes:
        raise TnrnnError("no finished bits-per-parameter points to plot")
    fig, (ax0, ax1, ax2) = new_plot(15.0, 4.9, ncols=3)
    cells = list(dict.fromkeys(s["cell"] for s in sizes))
    for cell in cells:
        rows = sorted((s for s in sizes if s["cell"] == cell), key=lambda s: s["num_params"])
        color = cell_color(cell)
        for j, s in enumerate(rows):
            search = s.get("search") or []
            m = np.array([e["b_multiple"] for e in search], float)
            mean = np.array([e["mean_bits"] for e in search], float) / s["num_params"]
            lo = np.array([min(e["seed_bits"]) for e in search], float) / s["num_params"]
            hi = np.array([max(e["seed_bits"]) for e in search], float) / s["num_params"]
            ls = ("-", "--", ":", "-.")[j % 4]
            ax0.errorbar(m, mean, yerr=[mean - lo, hi - mean], fmt="o" + ls, color=color, ms=4, lw=1.3, capsize=2,
                         label=f"{cell_label(cell)} P={s['num_params']}")
        P = np.array([s["num_params"] for s in rows], float)
        C = np.array([max(s["capacity_bits"], 1e-3) for s in rows], float)
        slope = summary.get("slopes", {}).get(cell)
        depth = rows[0]["depth"]
        lab = cell_label(cell) + (f" (L={depth})" if depth != 1 else "")
        lab += f", slope {slope:.2f}" if slope is not None else ""
        ax1.loglog(P, C, "o", color=color, ms=5, label=lab)
        if slope is not None and len(P) >= 2:
            a, b = np.polyfit(np.log(P), np.log(C), 1)
            xs = np.geomspace(P.min(), P.max(), 20)
            ax1.loglog(xs, np.exp(b) * xs**a, "-", color=color, lw=1.2, alpha=0.8)
        ax2.semilogx(P, [s["bits_per_param"] for s in rows], "o-", color=color, ms=5, lw=1.5, label=cell_label(cell))
    top_m = max(e["b_multiple"] for s in sizes for e in (s.get("search") or [{"b_multiple": 1.0}]))
    xs = np.linspace(0, top_m, 50)
    ax0.plot(xs, xs, color="0.6", lw=0.8, ls="--", label="I = b (every label stored)")
    ax0.set_xlabel("b / P  (samples per parameter)")
    ax0.set_ylabel("stored bits per parameter  I / P  (seed mean, min-max)")
    ax0.set_ylim(0, max(1.0, max(s["bits_per_param"] for s in sizes) * 1.3))
    ax0.legend(fontsize=7, loc="upper right")
    ax0.set_title("search over b: stops once I falls", fontsize=8.5)
    ax1.set_xlabel("trainable parameters")
    ax1.set_ylabel("capacity (bits, max over b and lr of the seed mean)")
    ax1.legend(fontsize=7.5, loc="upper left")
    ax2.set_xlabel("trainable parameters")
    ax2.set_ylabel("bits per parameter")
    ax2.axhline(PAPER_BITS_PER_PARAMETER, color="0.5", ls=":", lw=1)
    ax2.text(ax2.get_xlim()[0], PAPER_BITS_PER_PARAMETER,
             " Collins et al. 2017 ('Per-parameter capacity'): about 5, extensive tuning", fontsize=7.5,
             color="0.35", va="bottom")
    ax2.set_ylim(0, max(5.8, max(s["bits_per_param"] for s in sizes) * 1.15))
    ax2.legend(fontsize=7.5, ncol=3, loc="lower right")
    footer = ("Memorisation of b random binary labels (input at step 1, label read at step 5); I = b(1 - H2(p)) "
              "with p the accuracy on the training set; capacity = max over the searched b and the learning rates "
              "of the seed-mean I. Budget per setting: " + budget_text(summary.get("training", {})))
    return finish_figure(fig, path, title="Bits per parameter (Collins et al. 2017 memorisation task)",
                         footer=footer, width_chars=230)


def plot_units(summary: dict, path: str | os.PathLike) -> Path:
    """Normalised single-shot recall error against units, per cell, beside ``max(0, 1 - N/n_in)``."""
    curves = summary.get("curves") or {}
    if not curves:
        raise TnrnnError("no finished per-unit points to plot")
    fig, (ax,) = new_plot(7.2, 5.0)
    n_in = summary.get("training", {}).get("n_in")
    allN = sorted({r["units"] for rows in curves.values() for r in rows})
    for i, (cell, rows) in enumerate(curves.items()):
        N = [r["units"] for r in rows]
        # a small horizontal offset per cell keeps overlapping curves distinguishable
        off = 1 + 0.025 * (i - (len(curves) - 1) / 2)
        ax.plot(np.array(N) * off, [r["normalized_error"] for r in rows], "o-", color=cell_color(cell),
                lw=1.4, ms=4.5, label=cell_label(cell), alpha=0.9)
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
    return finish_figure(fig, path, title="Per-unit memory: about one real number per unit (Collins et al. 2017, "
                         "'Per-unit capacity')", footer=footer, width_chars=120)


def plot_mc(summary: dict, path: str | os.PathLike) -> Path:
    """Memory capacity against N (exact and measured), memory functions, and Fisher memory curves."""
    rows = summary.get("rows") or []
    if not rows:
        raise TnrnnError("no finished memory-capacity points to plot")
    fig, (ax1, ax2, ax3) = new_plot(13.5, 4.6, ncols=3)
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
    return finish_figure(fig, path, title="Jaeger memory capacity: Lyapunov theory vs held-out measurement; "
                         "Fisher memory", footer=footer, width_chars=220)


def _fisher_total(summary: dict, kind: str) -> float:
    rows = [r for r in summary["rows"] if r["kind"] == kind]
    return max(rows, key=lambda r: r["n"])["fisher_total"] if rows else math.nan


def plot_trainability(summary: dict, path: str | os.PathLike) -> Path:
    """Fractions of draws that learned nothing, and final losses (median, best) beside the no-learning baseline."""
    rows = summary.get("rows") or []
    if not rows:
        raise TnrnnError("no finished trainability points to plot")
    import matplotlib.colors as mcolors

    fig, (ax1, ax2) = new_plot(13.0, 5.0, ncols=2)
    cells = list(dict.fromkeys(r["cell"] for r in rows))
    depths = sorted({r["depth"] for r in rows})
    w = 0.8 / len(depths)
    shades = [0.35 + 0.65 * i / max(len(depths) - 1, 1) for i in range(len(depths))]
    for j, d in enumerate(depths):
        for i, cell in enumerate(cells):
            r = next((r for r in rows if r["cell"] == cell and r["depth"] == d), None)
            if r is None:
                continue
            color = tuple(np.array(mcolors.to_rgb(cell_color(cell))) * shades[j] + (1 - shades[j]))  # light = shallow
            x = i + (j - (len(depths) - 1) / 2) * w
            _stacked_failures(ax1, x, w * 0.9, r, color)
            med = r["median_final_loss"]
            ax2.bar(x, med if math.isfinite(med) else 0, w * 0.9, color=color, edgecolor="k", lw=0.5)
            if not math.isfinite(med):
                ax2.text(x, 0.02, "inf", ha="center", fontsize=6.5, rotation=90)
            ax2.plot([x], [r["best_final_loss"]], "v", color="k", ms=4)
            ax2.text(x, -0.02, f"L{d}", ha="center", va="top", fontsize=6)
    for ax in (ax1, ax2):
        ax.set_xticks(range(len(cells)))
        ax.set_xticklabels([cell_label(c) for c in cells])
        ax.tick_params(axis="x", pad=9)
    ax1.set_ylabel("fraction of draws")
    ax1.set_ylim(0, 1.12)
    ax1.set_title("learned nothing (n/N): diverged (hatched) or final loss >= no-learning baseline (plain); "
                  "black tick: diverged or above initial loss", fontsize=8)
    ax2.set_ylabel("final held-out cross-entropy (nats)")
    baseline = summary.get("baseline_loss")
    chance = rows[0].get("chance_loss", math.log(6))
    finite = [r["median_final_loss"] for r in rows if math.isfinite(r["median_final_loss"])]
    ax2.axhline(chance, color="0.6", ls=":", lw=1)
    ax2.text(0.01, chance, f"{chance:.2f} = ln(classes): uniform guess", fontsize=7, va="bottom", color="0.4",
             transform=ax2.get_yaxis_transform())
    if baseline is not None:
        ax2.axhline(baseline, color="#d55e00", ls="--", lw=1.2)
        ax2.text(0.01, baseline, f"no-learning baseline {baseline:.3f} (per-step label frequencies)", fontsize=7,
                 va="bottom", color="#d55e00", transform=ax2.get_yaxis_transform())
    ax2.set_ylim(0, max([chance] + finite) * 1.15)
    ax2.set_title("bars: median over draws; triangles: best draw (per cell: depths "
                  + ", ".join(str(d) for d in depths) + ", light to dark)", fontsize=8.5)
    footer = ("Parentheses counting (per step and type, the open count saturating at max_count); each draw: "
              "lr log-U[1e-4, 1], clip log-U[0.1, 1000], forget bias U[-1, 3], recurrent init scale log-U[0.3, 3]; "
              "same draws for every cell and depth, equal parameter budget; a draw learned nothing if it diverged "
              "or its final held-out loss is not below the baseline scored on the same batch. Budget: "
              + budget_text(summary.get("training", {})))
    return finish_figure(fig, path, title="Trainability under random hyperparameters, by cell and depth "
                         "(task of Collins et al. 2017, 'Trainability')", footer=footer, width_chars=220)


def _stacked_failures(ax, x: float, width: float, r: dict, color) -> None:
    """Diverged and above-baseline draws stacked (together: learned nothing), a tick at diverged + above initial."""
    div = r["diverged_fraction"]
    above = r.get("above_baseline_fraction")
    ax.bar(x, div, width, color=color, edgecolor="k", lw=0.5, hatch="//")
    if above is not None:
        ax.bar(x, above, width, bottom=div, color=color, edgecolor="k", lw=0.5)
    total = div + (above or 0.0)
    failed = div + r["above_initial_fraction"]
    ax.plot([x - width / 2, x + width / 2], [failed, failed], color="k", lw=1.6)
    ax.text(x, max(total, failed) + 0.01, f"{round(total * r['draws'])}/{r['draws']}", ha="center", va="bottom",
            fontsize=6)
