"""Run every benchmark group and write the table of side-by-side ratios.

Usage::

    python benchmarks/run.py                 # all groups
    python benchmarks/run.py --only contract # groups whose module name contains "contract"
    python benchmarks/run.py --quick         # smaller sizes, for a smoke run

Each ``benchmarks/bench_*.py`` module defines ``rows(quick: bool) -> list[dict]`` (see ``common.py``). The
table is printed as Markdown and saved to ``benchmarks/results/latest.md`` and ``latest.json``; with ``--only``,
the stored rows of the other groups are kept.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from tnrnn.base.io import read_json, write_json  # noqa: E402


def _fmt_seconds(s: float) -> str:
    if not math.isfinite(s):
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def to_markdown(rows: list[dict]) -> str:
    lines = ["| group | case | variant | time | ratio (vs baseline) | note |", "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = r.get("ratio", float("nan"))
        ratio_s = "n/a" if not math.isfinite(ratio) else f"{ratio:.3g}x vs {r.get('baseline', '')}"
        lines.append(
            f"| {r['group']} | {r['case']} | {r['variant']} | {_fmt_seconds(r['seconds'])} | {ratio_s} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


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
    args = parser.parse_args(argv)
    rows: list[dict] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if args.only and args.only not in path.stem:
            continue
        module = importlib.import_module(path.stem)
        t0 = time.perf_counter()
        print(f"# {path.stem} ...", file=sys.stderr, flush=True)
        rows.extend(module.rows(quick=args.quick))
        print(f"# {path.stem} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = _merged(out / "latest.json", rows)
    table = to_markdown(rows)
    print(table)
    (out / "latest.md").write_text(table + "\n")
    write_json(out / "latest.json", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
