"""The atlas: separation ranks of RACs over a grid of shapes, with the published theorem and conjecture checked.

Every cell of L in 1..4, R in 2..4, M in 2..4, T in 2..16 (even), both domains and both named partitions
(Start-End, odd-even): 1,152 cells. Each is one [`tnrnn.rank.separation_rank`][tnrnn.rank.separation_rank] under a small, deterministic work
budget, run by the resumable sweep runner ([`tnrnn.sweep`][tnrnn.sweep]), so an interrupted atlas resumes where it stopped
and the same command gives the same file on any machine. The rows (`COLUMNS`) say for each cell:

* ``lower``: the certified lower bound (exact over GF(p); ``primes`` names the primes it came from), empty when no
  matrix fitted the budget; ``upper``: the best upper bound; ``exact``: they meet;
* ``status``: ``exact``, ``statement`` (a gap with a probabilistic statement, ``epsilon`` its bound, see
  [`tnrnn.bounds.statement`][tnrnn.bounds.statement]) or ``bounds-only`` (a gap without one);
* ``depth2_theorem`` and ``depthL_conjecture``: ``holds`` (the certified lower bound reaches the stated value),
  ``contradicted`` (a certified or upper bound rules it out), ``open`` (the value lies in the gap) or ``does not
  apply`` (another depth or partition, or on the one-hot domain a value above the trivial bound ``M^(T/2)``, where
  the statement was never meant to hold: "does not apply", not "refuted").

Run it (``nice`` keeps it out of the way; it resumes)::

    nice -n 15 python -m tnrnn.atlas --work 1.5 --results diagrams/atlas.jsonl --csv diagrams/atlas.csv
    python -m tnrnn.atlas --report-only --page docs/pages/atlas.md --figure diagrams/atlas.png
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import os
from collections.abc import Iterable
from typing import Any

from tnrnn.base.errors import TnrnnError

__all__ = ["COLUMNS", "ATLAS_TASK", "atlas_points", "atlas_cell", "atlas_rows", "write_atlas_csv", "verdict",
           "atlas_markdown", "plot_atlas", "write_atlas_page"]

#: The sweep task of one cell.
ATLAS_TASK = "tnrnn.atlas:atlas_cell"
#: CSV columns, in order.
COLUMNS = ("model", "L", "R", "M", "T", "domain", "partition", "lower", "upper", "exact", "epsilon", "depth2_theorem",
           "depthL_conjecture", "status", "depth2_value", "depthL_value", "upper_source", "primes", "work")
#: The grid of the published atlas.
GRID = {"L": (1, 2, 3, 4), "R": (2, 3, 4), "M": (2, 3, 4), "T": tuple(range(2, 17, 2)),
        "domain": ("continuous", "onehot"), "partition": ("start-end", "odd-even")}
#: Work units per cell of the published atlas (about 1,150 cells in under an hour on one core).
ATLAS_WORK = 1.5


def verdict(value: Any, applies: bool, contradicted: bool, lower: int | None, domain: str = "continuous") -> str:
    """The atlas's word for one published ``sep >= value`` statement at one cell.

    A ``>=`` statement can only be contradicted by an upper bound below its value. On the one-hot domain that
    means the value exceeds a valid bound of a function on finitely many inputs, which the statements (made for
    the continuous domain) were never meant to cover: "does not apply", never "refuted".

    Examples
    --------
    >>> verdict(10, True, False, 12), verdict(10, True, False, 8), verdict(10, False, False, 12)
    ('holds', 'open', 'does not apply')
    >>> verdict(10, True, True, 8), verdict(10, True, True, 8, "onehot")
    ('contradicted', 'does not apply')
    """
    if not applies:
        return "does not apply"
    if contradicted:
        return "does not apply" if domain == "onehot" else "contradicted"
    if lower is not None and lower >= value:
        return "holds"
    return "open"


def atlas_points(grid: dict | None = None, *, work: float = ATLAS_WORK, seeds: int = 2) -> list[dict]:
    """The sweep points of the atlas, smallest problems first (so a partial atlas is the cheap part, complete).

    Examples
    --------
    >>> len(atlas_points())
    1152
    >>> atlas_points({"L": (1,), "R": (2,), "M": (2,), "T": (2,), "domain": ("onehot",), "partition": ("odd-even",)})
    [{'depth': 1, 'width': 2, 'features': 2, 'time': 2, 'domain': 'onehot', 'partition': 'odd-even', 'work': 1.5, 'seeds': 2}]
    """
    g = dict(GRID if grid is None else grid)
    unknown = set(g) - set(GRID)
    if unknown:
        raise TnrnnError(f"unknown atlas axes {sorted(unknown)}; the axes are {', '.join(GRID)}")
    cells = itertools.product(g["T"], g["L"], g["R"], g["M"], g["domain"], g["partition"])
    return [{"depth": L, "width": R, "features": M, "time": T, "domain": d, "partition": part, "work": work,
             "seeds": seeds} for T, L, R, M, d, part in cells]


def atlas_cell(depth: int, width: int, features: int, time: int, domain: str, partition: str, work: float,
               seeds: int = 2) -> dict:
    """One atlas row (a dict over `COLUMNS`), computed under a work budget of ``work`` units.

    Examples
    --------
    >>> row = atlas_cell(2, 2, 2, 4, "continuous", "start-end", 1.0)
    >>> row["lower"], row["upper"], row["exact"], row["status"], row["depth2_theorem"]
    (6, '6', True, 'exact', 'holds')
    """
    from tnrnn.rac.spec import RACSpec
    from tnrnn.rank import separation_rank
    from tnrnn.report import count_json

    rep = separation_rank(RACSpec(depth, width, features), time, partition, domain, seeds=seeds, certify_work=work)
    theory = {v.name: v for v in rep.theory}
    words = {}
    for name in ("depth-2", "depth-L"):
        v = theory[name]
        contradicted = bool(v.applies and v.contradicted_by(rep.lower, rep.upper))
        words[name] = verdict(v.value, v.applies, contradicted, rep.lower, domain)
    st = rep.statement
    upper = count_json(rep.upper)
    if rep.exact:
        status = "exact"
    elif st is not None and st.epsilon < 1:
        status = "statement"
    else:
        status = "bounds-only"
    cert = rep.certificate
    return {"model": "rac", "L": depth, "R": width, "M": features, "T": time, "domain": domain, "partition": partition,
            "lower": rep.lower, "upper": None if upper is None else upper["value"], "exact": bool(rep.exact),
            "epsilon": st.epsilon if status == "statement" and st is not None else None,
            "depth2_theorem": words["depth-2"], "depthL_conjecture": words["depth-L"], "status": status,
            "depth2_value": str(theory["depth-2"].value), "depthL_value": str(theory["depth-L"].value),
            "upper_source": rep.upper_source,
            "primes": "" if cert is None else " ".join(str(q) for q in sorted(set(cert.primes)))}


# Bump when a row's meaning changes: the sweep runner recomputes older records instead of reusing them.
atlas_cell.result_schema = 1  # type: ignore[attr-defined]


def atlas_rows(results: str | os.PathLike) -> list[dict]:
    """The finished rows of an atlas results file (sweep JSON lines), in grid order.

    Examples
    --------
    >>> atlas_rows("/nonexistent/atlas.jsonl")
    []
    """
    from tnrnn.sweep import read_results

    best: dict = {}
    for rec in read_results(results).records.values():
        if rec.get("status") != "ok" or not rec.get("result"):
            continue
        row = dict(rec["result"], work=(rec.get("params") or {}).get("work"))
        cell = _cell(row)
        if cell not in best or (row["work"] or 0) > (best[cell]["work"] or 0):
            best[cell] = row  # a cell computed under several budgets: the largest budget's row
    rows = list(best.values())
    for row in rows:  # records written before the one-hot rule of verdict(): the same rule, applied to the word
        for col in ("depth2_theorem", "depthL_conjecture"):
            if row["domain"] == "onehot" and row[col] == "contradicted":
                row[col] = "does not apply"
    order = {k: i for i, k in enumerate(("start-end", "odd-even", "continuous", "onehot"))}
    return sorted(rows, key=lambda r: (order[r["domain"]], order[r["partition"]], r["L"], r["R"], r["M"], r["T"]))


def _cell(row: dict) -> tuple:
    return (row["L"], row["R"], row["M"], row["T"], row["domain"], row["partition"])


def missing_points(points: list[dict], results: str | os.PathLike) -> list[dict]:
    """The points whose cell has no finished row in ``results`` under any budget (to fill an atlas in with a
    smaller budget when time runs short; each row keeps the budget it was computed under, column ``work``).

    Examples
    --------
    >>> len(missing_points(atlas_points(), "/nonexistent/atlas.jsonl"))
    1152
    """
    done = {_cell(r) for r in atlas_rows(results)}
    return [p for p in points if (p["depth"], p["width"], p["features"], p["time"], p["domain"], p["partition"])
            not in done]


def rows_csv(rows: Iterable[dict]) -> str:
    """The rows as CSV text over `COLUMNS` (empty cells for None).

    Examples
    --------
    >>> rows_csv([]).strip() == ",".join(COLUMNS)
    True
    """
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in COLUMNS})
    return buf.getvalue()


def write_atlas_csv(results: str | os.PathLike, path: str | os.PathLike) -> int:
    """Write the CSV of an atlas results file; returns the number of rows."""
    from tnrnn.base.io import _atomic_write_text

    rows = atlas_rows(results)
    _atomic_write_text(str(path), rows_csv(rows))
    return len(rows)


_PANELS = [(d, p) for d in ("continuous", "onehot") for p in ("start-end", "odd-even")]


def _cell_text(row: dict) -> str:
    """One table cell: the exact value, ``lower~`` (a statement supports it), or ``lower..upper``."""
    if row["lower"] is None:
        return f"?..{_short(row['upper'])}"
    if row["exact"]:
        return str(row["lower"])
    mark = "~" if row["status"] == "statement" else ""
    return f"{row['lower']}{mark}..{_short(row['upper'])}"


def _short(upper: Any) -> str:
    text = str(upper)
    return text if len(text) <= 7 else f"{float(text):.1e}".replace("e+0", "e").replace("e+", "e")


def atlas_markdown(rows: list[dict]) -> str:
    """The atlas's tables in Markdown: counts, then one table per domain and partition ((L, R, M) x T).

    Examples
    --------
    >>> text = atlas_markdown([atlas_cell(1, 2, 2, 2, "onehot", "start-end", 0.5)])
    >>> "| 1 | 2 | 2 | 2 |" in text and "1 of 1,152 cells" in text
    True
    """
    total = len(atlas_points())
    count: dict = {}
    for row in rows:
        count[row["status"]] = count.get(row["status"], 0) + 1
    out = [f"{len(rows):,} of {total:,} cells computed: " + ", ".join(
        f"{count.get(k, 0):,} {k}" for k in ("exact", "statement", "bounds-only")) + ".", ""]
    out += ["| statement | holds | open | contradicted | does not apply |", "|---|---|---|---|---|"]
    for col, label in (("depth2_theorem", "depth-2 theorem"), ("depthL_conjecture", "depth-L conjecture")):
        words = [sum(1 for r in rows if r[col] == w) for w in ("holds", "open", "contradicted", "does not apply")]
        out.append(f"| {label} | " + " | ".join(f"{w:,}" for w in words) + " |")
    times = sorted({r["T"] for r in rows}) or list(GRID["T"])
    for domain, part in _PANELS:
        sub = [r for r in rows if r["domain"] == domain and r["partition"] == part]
        if not sub:
            continue
        out += ["", f"### {domain}, {part}", "", "| L | R | M | " + " | ".join(f"T={t}" for t in times) + " |",
                "|---|---|---|" + "---|" * len(times)]
        cells = {(r["L"], r["R"], r["M"], r["T"]): r for r in sub}
        for L, R, M in sorted({(r["L"], r["R"], r["M"]) for r in sub}):
            texts = [_cell_text(cells[(L, R, M, t)]) if (L, R, M, t) in cells else "" for t in times]
            out.append(f"| {L} | {R} | {M} | " + " | ".join(texts) + " |")
    return "\n".join(out) + "\n"


def plot_atlas(rows: list[dict], path: str | os.PathLike) -> Any:
    """Four panels (domain x partition): log2 of the certified lower bound (solid) and the best upper bound
    (dashed) against T, one colour per depth, for R = M = 3 (the grid's middle). Returns the saved path.
    """
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tnrnn.draw.style import save_figure

    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), sharex=True)
    for ax, (domain, part) in zip(axes.ravel(), _PANELS):
        for L, colour in zip(GRID["L"], ("tab:blue", "tab:orange", "tab:green", "tab:red")):
            sub = sorted((r for r in rows if (r["domain"], r["partition"], r["L"], r["R"], r["M"]) ==
                          (domain, part, L, 3, 3)), key=lambda r: r["T"])
            low = [(r["T"], math.log2(r["lower"])) for r in sub if r["lower"]]
            up = [(r["T"], math.log2(float(r["upper"]))) for r in sub if r["upper"] not in (None, "")]
            if low:
                ax.plot(*zip(*low), "-o", color=colour, ms=3, label=f"L={L} certified")
            if up:
                ax.plot(*zip(*up), "--", color=colour, lw=1, label=f"L={L} upper")
        ax.set_title(f"{domain}, {part} (R = M = 3)", fontsize=10)
        ax.set_ylabel("log2 separation rank")
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("T")
    axes[0, 0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def write_atlas_page(rows: list[dict], page: str | os.PathLike, template: str) -> None:
    """Fill the page template's ``<!-- atlas tables -->`` marker with [`atlas_markdown`][tnrnn.atlas.atlas_markdown] and write it."""
    from tnrnn.base.io import _atomic_write_text

    marker = "<!-- atlas tables -->"
    if marker not in template:
        raise TnrnnError(f"the atlas page template has no {marker} marker")
    _atomic_write_text(str(page), template.replace(marker, atlas_markdown(rows)))


def main(argv: list[str] | None = None) -> int:
    """``python -m tnrnn.atlas``: run (or resume) the atlas sweep and write its CSV."""
    ap = argparse.ArgumentParser(prog="python -m tnrnn.atlas", description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=float, default=ATLAS_WORK, help=f"work units per cell (default {ATLAS_WORK:g})")
    ap.add_argument("--results", default="diagrams/atlas.jsonl", help="sweep results file (JSON lines; resumable)")
    ap.add_argument("--csv", default="diagrams/atlas.csv", help="CSV written from the results")
    ap.add_argument("--csv-every", type=int, default=25, metavar="N", help="rewrite the CSV every N cells")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--report-only", action="store_true", help="only write the CSV, page and figure from --results")
    ap.add_argument("--fill", action="store_true",
                    help="compute only the cells with no row yet under any budget (rows keep their own budget)")
    ap.add_argument("--page", default=None, help="also write this docs page (from --template)")
    ap.add_argument("--template", default="docs/pages/atlas.md.in", help="page template (default %(default)s)")
    ap.add_argument("--figure", default=None, help="also draw the atlas figure here (PNG or SVG)")
    args = ap.parse_args(argv)
    if not args.work > 0:
        ap.error("--work must be > 0")
    from tnrnn.sweep import run_sweep

    points = [] if args.report_only else atlas_points(work=args.work)
    if args.fill:
        points = missing_points(points, args.results)
    for start in range(0, len(points), args.csv_every):
        # in slices, so the CSV grows with the results (each slice resumes from the file)
        run_sweep(ATLAS_TASK, points[start:start + args.csv_every], args.results, executor="serial",
                  progress=not args.no_progress, desc=f"atlas {start}/{len(points)}")
        write_atlas_csv(args.results, args.csv)
    n = write_atlas_csv(args.results, args.csv)
    rows = atlas_rows(args.results)
    if args.page:
        with open(args.template, encoding="utf-8") as fh:
            write_atlas_page(rows, args.page, fh.read())
    if args.figure:
        plot_atlas(rows, args.figure)
    print(f"atlas: {n} rows in {args.csv} (results {args.results})")
    return 0


if __name__ == "__main__":  # pragma: no cover - the command line
    raise SystemExit(main())
