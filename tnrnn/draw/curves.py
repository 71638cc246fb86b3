"""The rank-curve figure: separation rank against T for several depths, on a log2 axis.

Certified lower bounds are markers (filled where they meet the best upper bound, i.e. the rank is exact), the
best upper bound is the top of a band that starts at the lower bound (the rank lies inside it), the published
formulas are lines (dashed for theorems, dotted for conjectures). Upper bounds can be astronomically large, so
everything is plotted as ``log2`` and ticks are labelled as powers of two; bounds far above the certified values
are clipped at the top of the axes and marked with a triangle. Depths that share values are shifted a little
sideways, each depth's markers, band, upper line and formulas by the same amount, so an exact point sits on its
upper line. A certified lower bound of 0 (nothing certified) has no logarithm: it is drawn as a down triangle
on the bottom edge.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

import matplotlib

from tnrnn.base.errors import TnrnnError
from tnrnn.draw import style

#: One colour per depth.
DEPTH_COLORS = list(style.SERIES_COLORS)


def _count_value(raw):
    """A count as drawn data: an int when the record holds one (plain or ``{"value": "<decimal>"}``), else the
    record's text (``"2^9000"``).
    """
    if isinstance(raw, dict):
        raw = raw.get("value")
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return raw


def _log2_of(rec: dict, key: str):
    """log2 of a record's count (``None`` for 0, which has none): from ``<key>_log2``, an ExactCount JSON
    ``{"value", "log2"}`` or a plain number.
    """
    raw = rec.get(key)
    if _count_value(raw) == 0:
        return None
    v = rec.get(f"{key}_log2")
    if v is None and isinstance(raw, dict):
        v = raw.get("log2")
    if v is not None:
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0:
        return math.log2(raw)
    return None


def curve_data(records: Iterable[dict]) -> dict:
    """Group table records into per-depth curves (the data the figure shows, also written beside it).

    Parameters
    ----------
    records : iterable of dict or TableRecord
        Rank-table records (``tnrnn.rank.table_point``; typed records are read through their ``to_json``):
        ``depth, time, lower, upper, exact, theory``, counts as numbers, text or ``{"value", "log2"}``; records
        with ``"error"`` or no lower bound are skipped.

    Returns
    -------
    dict
        ``{"curves": {depth: {"T", "lower_log2", "upper_log2", "exact", "lower", "upper", "probabilistic"}}, "theory":
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
        if hasattr(rec, "to_json"):  # a typed table record
            rec = rec.to_json()
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
        c = curves.setdefault(d, {"T": [], "lower_log2": [], "upper_log2": [], "exact": [], "lower": [], "upper": [],
                                  "probabilistic": []})
        c["T"].append(T)
        c["lower"].append(_count_value(rec["lower"]))
        c["lower_log2"].append(_log2_of(rec, "lower"))
        c["upper"].append(_count_value(rec.get("upper")))
        c["upper_log2"].append(_log2_of(rec, "upper"))
        c["exact"].append(bool(rec.get("exact")))
        # A separate, labelled statement (Schwartz-Zippel), never mixed with the certified values.
        c["probabilistic"].append(bool(rec.get("probabilistic")) and not rec.get("exact"))
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


def axis_top(data: dict, clip_log2: float | None = None) -> int:
    """Top of the y axis in log2 units, an integer so that "above 2^k" says exactly what was clipped.

    Default: the upper bounds in full unless they dwarf the certified and theory values; then 1.6 times the
    largest of those (at least 8).

    Examples
    --------
    >>> axis_top({"curves": {1: {"lower_log2": [1.0], "upper_log2": [1.0]}}, "theory": {}})
    2
    >>> axis_top({"curves": {1: {"lower_log2": [3.0], "upper_log2": [900.0]}}, "theory": {}})
    8
    """
    if clip_log2 is not None:
        return max(1, math.ceil(float(clip_log2)))
    curves, theory = data["curves"], data["theory"]
    finite = [v for c in curves.values() for v in c["lower_log2"] if v is not None]
    finite += [v for t in theory.values() for v in t["value_log2"]]
    base = max(finite + [1.0])
    uppers = [v for c in curves.values() for v in c["upper_log2"] if v is not None]
    shown = [v for v in uppers if v <= 2.5 * base + 6]
    top = max([base] + shown) * 1.08 + 0.6
    if len(shown) < len(uppers):
        top = max(top, 1.6 * base, 8.0)
    return math.ceil(top)


def _dodge(curves: dict) -> dict:
    """Sideways shift per depth (in units of T), shared by everything drawn for that depth."""
    all_T = sorted({t for c in curves.values() for t in c["T"]})
    gaps = [b - a for a, b in zip(all_T, all_T[1:])]
    step = 0.08 * (min(gaps) if gaps else 1) / 2
    n = len(curves)
    return {d: step * (i - (n - 1) / 2) for i, d in enumerate(curves)}


def _draw_depth(ax, d: int, c: dict, color: str, dx: float, top: int, bottom: float) -> dict:
    """Band, upper line, lower-bound line and markers of one depth, all at T + dx; returns what was flagged."""
    T = [t + dx for t in c["T"]]
    lo = [v if v is not None else bottom for v in c["lower_log2"]]
    up = [v if v is not None else top for v in c["upper_log2"]]
    up_clip = [min(v, top) for v in up]
    ax.fill_between(T, lo, up_clip, color=color, alpha=0.13, lw=0, zorder=1, gid=f"upper-band-L{d}")
    ax.plot(T, up_clip, color=color, lw=1.0, alpha=0.7, zorder=2, gid=f"upper-L{d}")
    over = [(t, v) for t, v in zip(T, up) if v > top]
    if over:
        ax.plot([t for t, _ in over], [top] * len(over), ls="none", marker="^", ms=6, color=color, clip_on=False,
                zorder=5, gid=f"upper-clipped-L{d}")
    ax.plot(T, lo, color=color, lw=1.4, zorder=3)
    zero = [v is None for v in c["lower_log2"]]
    kinds = {"exact": [e and not z for e, z in zip(c["exact"], zero)],
             "lower": [not e and not z for e, z in zip(c["exact"], zero)]}
    for kind, keep in kinds.items():
        face = color if kind == "exact" else "white"
        ax.plot([t for t, k in zip(T, keep) if k], [v for v, k in zip(lo, keep) if k], ls="none", marker="o",
                ms=6.5, markerfacecolor=face, markeredgecolor=color, markeredgewidth=1.5, zorder=4,
                gid=f"{kind}-L{d}")
    prob = [p and not z for p, z in zip(c.get("probabilistic") or [False] * len(T), zero)]
    if any(prob):
        ax.plot([t for t, p in zip(T, prob) if p], [v for v, p in zip(lo, prob) if p], ls="none", marker="o", ms=2.2,
                color=color, zorder=5, gid=f"probabilistic-L{d}")
    if any(zero):
        ax.plot([t for t, z in zip(T, zero) if z], [bottom] * sum(zero), ls="none", marker="v", ms=6.5,
                markerfacecolor="white", markeredgecolor=color, markeredgewidth=1.5, clip_on=False, zorder=5,
                gid=f"lower-zero-L{d}")
    return {"clipped": bool(over), "zero": any(zero), "probabilistic": any(prob)}


def _draw_theory(ax, theory: dict, colors: dict, dodge: dict, top: int) -> set:
    kinds = set()
    for (d, _name), row in theory.items():
        conj = row["kind"].lower().startswith("conj")
        kinds.add("conjecture" if conj else "theorem")
        T = [t + dodge[d] for t in row["T"]]
        vals = [min(v, top) for v in row["value_log2"]]
        ax.plot(T, vals, color=colors[d], lw=1.3, ls=":" if conj else "--", alpha=0.65 if conj else 0.9, zorder=2,
                gid=f"theory-L{d}")
        bad = [(t, v) for t, v, b in zip(T, vals, row["contradicted"]) if b]
        if bad:
            ax.plot([t for t, _ in bad], [v for _, v in bad], ls="none", marker="x", ms=7, mew=1.6, color="#c00000",
                    zorder=5, gid=f"contradicted-L{d}")
            kinds.add("contradicted")
    return kinds


def _style_handles(kinds: set, top: int) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    grey = "#555555"
    handles = [
        Line2D([], [], ls="none", marker="o", ms=6.5, markerfacecolor="white", markeredgecolor=grey,
               markeredgewidth=1.5, label="certified lower bound (exact GF(p) rank)"),
        Line2D([], [], ls="none", marker="o", ms=6.5, color=grey, label="exact: lower bound = upper bound"),
        Patch(facecolor=grey, alpha=0.2, label="between lower and best upper bound"),
    ]
    extra = {
        "theorem": Line2D([], [], color=grey, ls="--", lw=1.3, label="theorem (literature)"),
        "conjecture": Line2D([], [], color=grey, ls=":", lw=1.3, alpha=0.7, label="conjecture (literature)"),
        "contradicted": Line2D([], [], ls="none", marker="x", ms=7, mew=1.6, color="#c00000",
                               label="formula ruled out by the bounds"),
        "clipped": Line2D([], [], ls="none", marker="^", ms=6, color=grey,
                          label=f"upper bound above $2^{{{top}}}$ (drawn at the top edge)"),
        "zero": Line2D([], [], ls="none", marker="v", ms=6.5, markerfacecolor="white", markeredgecolor=grey,
                       markeredgewidth=1.5, label="lower bound 0: nothing certified"),
        "probabilistic": Line2D([], [], ls="none", marker="$\\odot$", ms=7.5, color=grey,
                                label="rank = lower bound with high probability (not certified)"),
    }
    return handles + [h for k, h in extra.items() if k in kinds]


def _default_title(meta: dict) -> str:
    bits = []
    for key, fmt in (("partition", "{} cut"), ("domain", "{} domain"), ("width", "R = {}"), ("features", "M = {}")):
        vals = meta.get(key) or []
        if len(vals) == 1:
            bits.append(fmt.format({"onehot": "one-hot"}.get(vals[0], vals[0])))
    return "Separation rank against T" + (f"  ({', '.join(bits)})" if bits else "")


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
        Rank-table records (see [`curve_data`][tnrnn.draw.curves.curve_data]).
    path : path, optional
        ``.svg`` or ``.png``; without it the matplotlib Figure is returned unsaved.
    title : str, optional
    clip_log2 : float, optional
        Top of the y axis in log2 units (rounded up to an integer); upper bounds and theory values above it are
        drawn as triangles at the top edge. Default: see [`axis_top`][tnrnn.draw.curves.axis_top].

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
    curves, theory = data["curves"], data["theory"]
    top = axis_top(data, clip_log2)
    bottom = -0.5  # room below 2^0 for the markers of a lower bound 0
    all_T = sorted({t for c in curves.values() for t in c["T"]})
    colors = {d: DEPTH_COLORS[i % len(DEPTH_COLORS)] for i, d in enumerate(curves)}
    dodge = _dodge(curves)
    with matplotlib.rc_context(style.RC):
        fig, (ax,) = style.new_plot(7.6, 5.4)
        kinds = set()
        for d, c in curves.items():
            flags = _draw_depth(ax, d, c, colors[d], dodge[d], top, bottom)
            kinds |= {k for k, v in flags.items() if v}
        kinds |= _draw_theory(ax, theory, colors, dodge, top)
        ax.set_xlabel("sequence length T")
        ax.set_ylabel("separation rank (log scale)")
        ax.set_xticks(all_T)
        ax.set_ylim(bottom, top + 0.02 * (top - bottom))
        ax.set_xlim(min(all_T) - 0.4, max(all_T) + 0.4)
        # Integer powers of two from 2^0 to the top only (the room below 2^0 holds the zero markers).
        ticks = [v for v in MaxNLocator(integer=True, nbins=9).tick_values(0, top) if 0 <= v <= top]
        ax.set_yticks(ticks)
        ax.yaxis.set_major_formatter(FuncFormatter(_pow2_label))
        ax.set_title(title or _default_title(data["meta"]), fontsize=10.5, pad=10)
        depth_handles = [Line2D([], [], color=colors[d], lw=2, label=f"depth L = {d}") for d in curves]
        ax.add_artist(ax.legend(handles=depth_handles, loc="upper left", fontsize=8, frameon=False))
        handles = _style_handles(kinds, top)
        fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=7.8, frameon=False, bbox_to_anchor=(0.5, 0.0))
        n_rows = (len(handles) + 1) // 2
        fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=(0.52 + 0.2 * n_rows) / fig.get_figheight())
    if path is None:
        return fig
    return style.save_figure(fig, path)
