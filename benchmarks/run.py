"""Run every benchmark group and write the table of side-by-side ratios.

Usage::

    python benchmarks/run.py                 # all groups
    python benchmarks/run.py --only contract # groups whose module name contains "contract"
    python benchmarks/run.py --quick         # smaller sizes, for a smoke run
    python benchmarks/run.py --rounds 101    # more interleaved rounds (at least 51)

Each ``benchmarks/bench_*.py`` module defines ``rows(quick: bool, rounds: int) -> list[dict]`` and times its
variants with :func:`harness.compare` (interleaved rounds, per-round ratios with their IQR, ratio of minima,
load average; see ``harness.py``). The table is printed as Markdown and saved to
``benchmarks/results/latest.md`` and ``latest.json``; with ``--only``, the stored rows of the other groups are
kept. Each new row is compared with the stored row of the same name: the table says whether their per-round
ratio IQRs overlap, so running the same command twice shows whether the ratios are reproducible.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from harness import ROUNDS, load_average, overlapping  # noqa: E402

from tnrnn.base.io import read_json, write_json  # noqa: E402


def _fmt_seconds(s: float) -> str:
    if not math.isfinite(s):
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _ratio(r: dict) -> str:
    ratio = r.get("ratio", float("nan"))
    if not math.isfinite(ratio):
        return "n/a"
    if "ratio_q1" not in r:  # a row stored by the earlier runner: one median per variant, no spread
        return f"{ratio:.3g}x (no IQR: earlier runner)"
    if r.get("rounds", 0) == 0:
        return f"{ratio:.3g}x (count)"
    return f"{ratio:.3g}x [{r['ratio_q1']:.3g}, {r['ratio_q3']:.3g}]"


def to_markdown(rows: list[dict]) -> str:
    lines = ["| group | case | variant | role | median time | ratio: median [IQR] per round | ratio of minima "
             "| rounds (load) | vs previous run | note |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        mins = r.get("ratio_of_minima", float("nan"))
        load = r.get("load") or [float("nan")] * 2
        rounds = f"{r['rounds']} ({load[0]:.1f}-{load[1]:.1f})" if r.get("rounds") else ""
        lines.append(
            f"| {r['group']} | {r['case']} | {r['variant']} | {r.get('role', '')} | {_fmt_seconds(r['seconds'])} "
            f"| {_ratio(r)} vs {r.get('baseline', '')} | {'' if not math.isfinite(mins) else f'{mins:.3g}x'} "
            f"| {rounds} | {r.get('previous', '')} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


def _against_previous(previous: Path, rows: list[dict]) -> None:
    """Mark each new timed row with whether its ratio IQR overlaps the stored row of the same name."""
    if not previous.exists():
        return
    try:
        old = {(r["group"], r["case"], r["variant"]): r for r in read_json(previous) if "ratio_q1" in r}
    except (OSError, ValueError, KeyError, TypeError):
        return
    for r in rows:
        o = old.get((r["group"], r["case"], r["variant"]))
        if o is None or not r.get("rounds") or r["variant"] == r["baseline"]:
            continue
        r["previous"] = (f"{'overlaps' if overlapping(r, o) else 'DISJOINT'}: "
                         f"[{o['ratio_q1']:.3g}, {o['ratio_q3']:.3g}]")


def _merged(previous: Path, rows: list[dict]) -> list[dict]:
    """The rows of the groups just run, after the stored rows of the groups not run this time (``--only``)."""
    if not previous.exists():
        return rows
    try:
        old = read_json(previous)
    except (OSError, ValueError):
        return rows
    ran = {r["group"] for r in rows}
    return [r for r in old if isinstance(r, dict) and r.get("group") not in ran] + rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run only groups whose module name contains this text")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for latest.md / latest.json")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"interleaved rounds (at least {ROUNDS})")
    args = parser.parse_args(argv)
    if args.rounds < ROUNDS and not args.quick:
        print(f"run.py: error: --rounds must be at least {ROUNDS} (or use --quick for a smoke run)", file=sys.stderr)
        return 2
    load0 = load_average()
    rows: list[dict] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if args.only and args.only not in path.stem:
            continue
        module = importlib.import_module(path.stem)
        t0 = time.perf_counter()
        print(f"# {path.stem} ...", file=sys.stderr, flush=True)
        rows.extend(module.rows(quick=args.quick, rounds=args.rounds))
        print(f"# {path.stem} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _against_previous(out / "latest.json", rows)
    ran = sorted({r["group"] for r in rows})
    rows = _merged(out / "latest.json", rows)
    import jax  # the groups have loaded it already

    header = (f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
              f"{os.cpu_count()} CPUs, jax {jax.__version__} ({jax.default_backend()}); load average "
              f"{load0:.2f} at the start, {load_average():.2f} at the end; {args.rounds} rounds"
              f"{' (--quick)' if args.quick else ''}; groups run now: {', '.join(ran)} "
              "(rows of other groups are kept from earlier runs).")
    table = header + "\n\n" + to_markdown(rows)
    print(table)
    (out / "latest.md").write_text(table + "\n")
    write_json(out / "latest.json", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
