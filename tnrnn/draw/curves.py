"""The rank-curve figure: separation rank against T for several depths, on a log2 axis.

Certified lower bounds are markers (filled where they meet the best upper bound, i.e. the rank is exact), the
best upper bound is the top of a band that starts at the lower bound (the rank lies inside it), the published
formulas are lines (dashed for theorems, dotted for conjectures). Upper bounds can be astronomically large, so
everything is plotted as ``log2`` and ticks are labelled as powers of two; bounds far above the certified values
are clipped at the top of the axes and marked with a triangle.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

import matplotlib

from tnrnn.base.errors import TnrnnError
from tnrnn.draw import style

#: One colour per depth (colour-blind friendly, distinct in grey scale too).
DEPTH_COLORS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"]


def _log2_of(rec: dict, key: str):
    v = rec.get(f"{key}_log2")
    if v is not None:
        return float(v)
    raw = rec.get(key)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0:
        return math.log2(raw)
    return None


def curve_data(records: Iterable[dict]) -> dict:
    """Group table records into per-depth curves (the data the figure shows, also written beside it).

    Parameters
    ----------
    records : iterable of dict
        Rank-table records (:func:`tnrnn.rank.table_point`): ``depth, time, lower, lower_log2, upper,
        upper_log2, exact, theory``; records with ``"error"`` or no lower bound are skipped.

    Returns
    -------
    dict
        ``{"curves": {depth: {"T", "lower_log2", "upper_log2", "exact", "lower", "upper"}}, "theory":
        {(depth, name): {"kind", "relation", "T", "value_log2", "contradicted"}}, "meta": {...}}``.

    Raises
    ------
    TnrnnError
        No usable record.

    Examples
    --------
    >>> recs = [{"depth": 2, "time": 4, "lower": 4, "upper": "4", "upper_log2": 2.0, "exact": True, "theory": []}]
    >>> curve_data(recs)["curves"][2]["lower_log2"]
    [2.0]
    """
    curves: dict[int, dict] = {}
    theory: dict[tuple, dict] = {}
    meta: dict[str, set] = {"width": set(), "features": set(), "domain": set(), "partition": set()}
    skipped = 0
    for rec in records:
        if not isinstance(rec, dict) or rec.get("error") or rec.get("lower") is None:
            skipped += 1
            continue
        try:
            d, T = int(rec["depth"]), int(rec["time"])
        except (KeyError, TypeError, ValueError):
            raise TnrnnError("every rank record needs integer 'depth' and 'time' fields") from None
        for k in meta:
            if rec.get(k) is not None:
                meta[k].add(rec[k])
        c = curves.setdefault(d, {"T": [], "lower_log2": [], "upper_log2": [], "exact": [], "lower": [], "upper": []})
        c["T"].append(T)
        c["lower"].append(rec["lower"])
        c["lower_log2"].append(_log2_of(rec, "lower"))
        c["upper"].append(rec.get("upper"))
        c["upper_log2"].append(_log2_of(rec, "upper"))
        c["exact"].append(bool(rec.get("exact")))
        for tv in rec.get("theory") or []:
            if not tv.get("applies", True) or tv.get("value_log2") is None:
                continue
            key = (d, str(tv.get("name")))
            row = theory.setdefault(key, {"kind": str(tv.get("kind", "theorem")), "relation": tv.get("relation"),
                                          "T": [], "value_log2": [], "contradicted": []})
            row["T"].append(T)
            row["value_log2"].append(float(tv["value_log2"]))
            row["contradicted"].append(bool(tv.get("contradicted")))
    if not curves:
        raise TnrnnError(f"no rank records to plot ({skipped} skipped: failed or without a lower bound)")
    for c in curves.values():  # sort each curve by T
        order = sorted(range(len(c["T"])), key=lambda i: c["T"][i])
        for k in c:
            c[k] = [c[k][i] for i in order]
    for row in theory.values():
        order = sorted(range(len(row["T"])), key=lambda i: row["T"][i])
        for k in ("T", "value_log2", "contradicted"):
            row[k] = [row[k][i] for i in order]
    return {"curves": dict(sorted(curves.items())), "theory": dict(sorted(theory.items())),
            "meta": {k: sorted(v, key=str) for k, v in meta.items()}, "skipped": skipped}


def _pow2_label(v, _pos=None) -> str:
    k = int(round(v))
    return f"$2^{{{k}}}$" if abs(v - k) < 1e-9 else ""


def plot_rank_curves(
    records: Sequence[dict],
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    clip_log2: float | None = None,
):
    """Plot separation rank against T for each depth, and write the figure to ``path`` (SVG or PNG).

    Parameters
    ----------
    records : sequence of dict
        Rank-table records (see :func:`curve_data`).
    path : path, optional
        ``.svg`` or ``.png``; without it the matplotlib Figure is returned unsaved.
    title : str, optional
    clip_log2 : float, optional
        Top of the y axis in log2 units; upper bounds and theory values above it are drawn as triangles at the
        top edge. Default: 1.6 times the largest certified or theory value (at least 8), so astronomically large
        upper bounds do not squash the certified values.

    Returns
    -------
    Path or Figure
        The written path, or the figure when ``path`` is None.

    Raises
    ------
    TnrnnError
        No usable record, bad path or format.

    Examples
    --------
    >>> recs = [{"depth": 2, "time": t, "lower": r, "upper_log2": u, "exact": r == 2 ** u, "theory": []}
    ...         for t, r, u in [(2, 2, 1.0), (4, 4, 2.0), (6, 8, 3.0)]]
    >>> fig = plot_rank_curves(recs)
    >>> fig.axes[0].get_xlabel()
    'sequence length T'
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if path is not None:
        path, _ = style.check_output_path(path)
    data = curve_data(records)
    curves, theory, meta = data["curves"], data["theory"], data["meta"]
    finite = [v for c in curves.values() for v in c["lower_log2"] if v is not None]
    finite += [v for t in theory.values() for v in t["value_log2"]]
    if clip_log2 is not None:
        top = float(clip_log2)
    else:
        # Show the upper bounds in full unless they dwarf the certified and theory values.
        base = max(finite + [1.0])
        uppers = [v for c in curves.values() for v in c["upper_log2"] if v is not None]
        shown = [v for v in uppers if v <= 2.5 * base + 6]
        top = max([base] + shown) * 1.08 + 0.6
        if len(shown) < len(uppers):
            top = max(top, 1.6 * base, 8.0)
    all_T = sorted({t for c in curves.values() for t in c["T"]})
    all_T_gaps = [b - a for a, b in zip(all_T, all_T[1:])]

    with matplotlib.rc_context(style.RC):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.6, 5.4))
        ax = fig.subplots()
        clipped_any = False
        depth_handles = []
        for i, (d, c) in enumerate(curves.items()):
            color = DEPTH_COLORS[i % len(DEPTH_COLORS)]
            T = c["T"]
            lo = [v if v is not None else 0.0 for v in c["lower_log2"]]
            up = [v if v is not None else top for v in c["upper_log2"]]
            up_clip = [min(v, top) for v in up]
            band = ax.fill_between(T, lo, up_clip, color=color, alpha=0.13, lw=0, zorder=1)
            band.set_gid(f"upper-band-L{d}")
            ax.plot(T, up_clip, color=color, lw=1.0, alpha=0.7, zorder=2, gid=f"upper-L{d}")
            over = [(t, v) for t, v in zip(T, up) if v > top]
            if over:
                clipped_any = True
                ax.plot([t for t, _ in over], [top] * len(over), ls="none", marker="^", ms=6, color=color,
                        clip_on=False, zorder=5, gid=f"upper-clipped-L{d}")
            # Depths often share values: shift each depth's markers a little sideways so none hides another.
            dodge = 0.08 * (i - (len(curves) - 1) / 2) * (min(all_T_gaps) if all_T_gaps else 1) / 2
            Td = [t + dodge for t in T]
            ax.plot(Td, lo, color=color, lw=1.4, zorder=3)
            ex_T = [t for t, e in zip(Td, c["exact"]) if e]
            ex_v = [v for v, e in zip(lo, c["exact"]) if e]
            lb_T = [t for t, e in zip(Td, c["exact"]) if not e]
            lb_v = [v for v, e in zip(lo, c["exact"]) if not e]
            ax.plot(lb_T, lb_v, ls="none", marker="o", ms=6.5, markerfacecolor="white", markeredgecolor=color,
                    markeredgewidth=1.5, zorder=4, gid=f"lower-L{d}")
            ax.plot(ex_T, ex_v, ls="none", marker="o", ms=6.5, color=color, zorder=4, gid=f"exact-L{d}")
            depth_handles.append(Line2D([], [], color=color, lw=2, label=f"depth L = {d}"))
        theory_kinds = set()
        for (d, name), row in theory.items():
            i = list(curves).index(d)
            color = DEPTH_COLORS[i % len(DEPTH_COLORS)]
            conj = row["kind"].lower().startswith("conj")
            theory_kinds.add("conjecture" if conj else "theorem")
            vals = [min(v, top) for v in row["value_log2"]]
            ax.plot(row["T"], vals, color=color, lw=1.3, ls=":" if conj else "--",
                    alpha=0.65 if conj else 0.9, zorder=2, gid=f"theory-L{d}")
            bad = [(t, v) for t, v, b in zip(row["T"], vals, row["contradicted"]) if b]
            if bad:
                ax.plot([t for t, _ in bad], [v for _, v in bad], ls="none", marker="x", ms=7, mew=1.6,
                        color="#c00000", zorder=5, gid=f"contradicted-L{d}")
                theory_kinds.add("contradicted")

        ax.set_xlabel("sequence length T")
        ax.set_ylabel("separation rank (log scale)")
        ax.set_xticks(all_T)
        ax.set_ylim(0, top * 1.02)
        ax.set_xlim(min(all_T) - 0.4, max(all_T) + 0.4)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=9))
        ax.yaxis.set_major_formatter(FuncFormatter(_pow2_label))
        ax.grid(True, color="#e4e4e4", lw=0.7, zorder=0)
        for s in ("top", "right"):
            ax.spines[s].set_visible(False)
        if title is None:
            bits = []
            for key, fmt in (("partition", "{} cut"), ("domain", "{} domain"), ("width", "R = {}"),
                             ("features", "M = {}")):
                vals = meta.get(key) or []
                if len(vals) == 1:
                    bits.append(fmt.format({"onehot": "one-hot"}.get(vals[0], vals[0])))
            title = "Separation rank against T" + (f"  ({', '.join(bits)})" if bits else "")
        ax.set_title(title, fontsize=10.5, pad=10)

        grey = "#555555"
        style_handles = [
            Line2D([], [], ls="none", marker="o", ms=6.5, markerfacecolor="white", markeredgecolor=grey,
                   markeredgewidth=1.5, label="certified lower bound (exact GF(p) rank)"),
            Line2D([], [], ls="none", marker="o", ms=6.5, color=grey, label="exact: lower bound = upper bound"),
            matplotlib.patches.Patch(facecolor=grey, alpha=0.2, label="between lower and best upper bound"),
        ]
        if "theorem" in theory_kinds:
            style_handles.append(Line2D([], [], color=grey, ls="--", lw=1.3, label="theorem (literature)"))
        if "conjecture" in theory_kinds:
            style_handles.append(Line2D([], [], color=grey, ls=":", lw=1.3, alpha=0.7,
                                        label="conjecture (literature)"))
        if "contradicted" in theory_kinds:
            style_handles.append(Line2D([], [], ls="none", marker="x", ms=7, mew=1.6, color="#c00000",
                                        label="formula ruled out by the bounds"))
        if clipped_any:
            style_handles.append(Line2D([], [], ls="none", marker="^", ms=6, color=grey,
                                        label=f"upper bound above $2^{{{int(top)}}}$ (clipped)"))
        leg1 = ax.legend(handles=depth_handles, loc="upper left", fontsize=8, frameon=False)
        ax.add_artist(leg1)
        fig.legend(handles=style_handles, loc="lower center", ncol=2, fontsize=7.8, frameon=False,
                   bbox_to_anchor=(0.5, 0.0))
        n_rows = (len(style_handles) + 1) // 2
        fig_h = fig.get_figheight()
        fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=(0.52 + 0.2 * n_rows) / fig_h)
    if path is None:
        return fig
    return style.save_figure(fig, path)
