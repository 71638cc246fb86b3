"""Certified continuous ranks: this tree against an earlier commit, interleaved in one run on one machine.

Usage::

    python benchmarks/bench_certify.py --base 3528aa4 --rounds 2 [--out benchmarks/results/certify.md]

The earlier tree is extracted with ``git archive`` into a temporary folder (the working tree is not touched) and
every measurement runs as a fresh process of each tree in turn (base, this, base, this, ...), so both see the
same load. Rows:

* ``reach``: ``tnrnn rank ... --domain continuous --json`` until the certified rank saturates. The base commit
  has a wall-clock box only, so it is given a box large enough to saturate (``--certify-seconds 600``); this tree
  runs its default (work budget), and at the base's prime with one seed (the code's speed alone). Reported: wall
  seconds, the certified rank, the prime.
* ``default twice``: the plain default command of each tree, twice: the base commit's 5 s box gives a load-
  dependent number, the work budget the same number.
* ``build`` / ``rank``: one n x n sample matrix (L = 3, R = M = 3, T = 8) built by each tree's pair evaluation,
  and its rank by each tree's ``rank_modp`` (conversion into FLINT included), at the base's default prime and at
  the largest prime below 2^62 (this tree only: the base refuses primes above about 2^31).

Last measured (``--base 3528aa4 --rounds 1``, shared 2-core machine, load average 10 to 14 from other studies, so
every time is several times its quiet value; compare within a group)::

    Load average at start: 9.98 (2 cores).

    | what | case | tree | round | seconds | certified | prime |
    |---|---|---|---|---|---|---|
    | reach 2844 | -L 3 -R 3 -M 3 -T 8 | base 3528aa4 | 0 | 145.7 | 2844 | 1048573 |
    | reach 2844 | -L 3 -R 3 -M 3 -T 8 | this tree | 0 | 61.3 | 2844 | 4611686018427387847 |
    | reach 2844 | -L 3 -R 3 -M 3 -T 8 | this tree, p = 1048573 | 0 | 43.3 | 2844 | 1048573 |
    | reach 2038 | -L 4 -R 2 -M 2 -T 8 | base 3528aa4 | 0 | 88.4 | 2038 | 1048573 |
    | reach 2038 | -L 4 -R 2 -M 2 -T 8 | this tree | 0 | 33.3 | 2038 | 4611686018427387847 |
    | reach 2038 | -L 4 -R 2 -M 2 -T 8 | this tree, p = 1048573 | 0 | 46.6 | 2038 | 1048573 |
    | default twice | -L 3 -R 3 -M 3 -T 8 | base 3528aa4 | 0 | 5.2 | 853 | 1048573 |
    | default twice | -L 3 -R 3 -M 3 -T 8 | this tree | 0 | 42.4 | 2844 | 4611686018427387847 |
    | default twice | -L 3 -R 3 -M 3 -T 8 | base 3528aa4 | 1 | 7.1 | 849 | 1048573 |
    | default twice | -L 3 -R 3 -M 3 -T 8 | this tree | 1 | 38.6 | 2844 | 4611686018427387847 |
    | build + rank n=2000 | L3 R3 M3 T8 | base 3528aa4 | 0 | 6.83 + 6.94 | 2000 | 1048573 |
    | build + rank n=2000 | L3 R3 M3 T8 | this tree | 0 | 1.34 + 4.99 | 2000 | 1048573 |
    | build + rank n=2000 | L3 R3 M3 T8 | this tree | 0 | 4.42 + 11.48 | 2000 | 4611686018427387847 |

    Measured with `python benchmarks/bench_certify.py --base 3528aa4 --rounds 1` on the shared 2-core machine while
    other studies ran (load average 10 to 14 during the run, so every time is several times its quiet value; the
    ratios within a row group are what the run compares). `base 3528aa4` is the code before the work on issues 23/24
    (wall-clock box only, 2^20 prime); it needs `--certify-seconds 600` to saturate. `this tree` runs its default
    (work budget, prime 2^62 - 57); the `p = 1048573` rows use the base's prime with one seed. In that L4 row the
    pair evaluation still took numpy's path (the compiled kernel's threshold was 7e8 units; now 2e8). `default twice`:
    the same plain command run twice by each tree: the base's 5 s box certified 853 then 849, the work budget 2844 both
    times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

REACH = [("-L 3 -R 3 -M 3 -T 8", 2844), ("-L 4 -R 2 -M 2 -T 8", 2038)]

# Timed inside the child: the matrix build (pair evaluation) and rank_modp, after a small warm-up call (numba's
# cached kernel loads outside the timing).
COMPONENT = r"""
import json, sys, time, numpy as np
from tnrnn.rac.spec import RACSpec
from tnrnn.rac.params import RACParams
from tnrnn.rac.partition import make_partition
from tnrnn.bounds.gfp import _pair_values, rank_modp
n, p = int(sys.argv[1]), int(sys.argv[2])
L, R, M, T = 3, 3, 3, 8
part = make_partition(T, "start-end")
rng = np.random.default_rng(0)
params = RACParams(tuple(rng.integers(0, p, (R, M if l == 0 else R)) for l in range(L)),
                   tuple(rng.integers(0, p, (R, R)) for _ in range(L)), rng.integers(0, p, (1, R)), None)
a, b = rng.integers(0, p, (n, T // 2, M)), rng.integers(0, p, (n, T // 2, M))
_pair_values(params, part, p, a[:8], b[:8], 0, kernel=True)
t0 = time.perf_counter(); S = _pair_values(params, part, p, a, b, 0, kernel=True); t1 = time.perf_counter()
r = rank_modp(S, p); t2 = time.perf_counter()
print(json.dumps({"build": t1 - t0, "rank": t2 - t1, "r": r}))
"""


def _env(tree: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    return env


def _cli(tree: Path, args: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run([PYTHON, "-m", "tnrnn", "rank", *args.split(), "--json", "--no-progress"], cwd=tree,
                         env=_env(tree), capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t0, json.loads(out)


def _component(tree: Path, n: int, p: int) -> dict:
    out = subprocess.run([PYTHON, "-c", COMPONENT, str(n), str(p)], cwd=tree, env=_env(tree), capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def _lower(data: dict) -> str:
    low = data.get("lower")
    return "-" if low is None else str(low["value"] if isinstance(low, dict) else low)


def _prime(data: dict) -> str:
    runs = (data.get("certificate") or {}).get("runs") or []
    return ",".join(sorted({str(r["prime"]) for r in runs})) or "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="3528aa4", help="the commit to compare with (default %(default)s)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--n", type=int, default=2000, help="sample matrix side of the build/rank rows")
    ap.add_argument("--out", default=None, help="also write the Markdown table here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        archive = subprocess.run(["git", "archive", args.base, "tnrnn"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        trees = {f"base {args.base}": base, "this tree": ROOT}
        rows: list[str] = []
        load = os.getloadavg()[0]
        # the base tree needs a box large enough to saturate; this tree runs its default, and also at the base's
        # prime (same arithmetic class, so the speed-up of the code alone shows)
        variants = [(f"base {args.base}", base, " --certify-seconds 600"), ("this tree", ROOT, ""),
                    ("this tree, p = 1048573", ROOT, " --primes 1048573 --seeds 0")]
        for spec, truth in REACH:
            for rnd in range(args.rounds):
                for name, tree, extra in variants:
                    secs, data = _cli(tree, f"{spec} --domain continuous{extra}")
                    rows.append(f"| reach {truth} | {spec} | {name} | {rnd} | {secs:.1f} | {_lower(data)} | "
                                f"{_prime(data)} |")
                    print(rows[-1], flush=True)
        spec = REACH[0][0]
        for rnd in range(2):
            for name, tree in trees.items():
                secs, data = _cli(tree, f"{spec} --domain continuous")
                rows.append(f"| default twice | {spec} | {name} | {rnd} | {secs:.1f} | {_lower(data)} | "
                            f"{_prime(data)} |")
                print(rows[-1], flush=True)
        for rnd in range(args.rounds):
            for name, tree in trees.items():
                for p in (1_048_573, 4_611_686_018_427_387_847):
                    if tree is base and p > 2**31:
                        continue
                    c = _component(tree, args.n, p)
                    rows.append(f"| build + rank n={args.n} | L3 R3 M3 T8 | {name} | {rnd} | "
                                f"{c['build']:.2f} + {c['rank']:.2f} | {c['r']} | {p} |")
                    print(rows[-1], flush=True)
        head = (f"Load average at start: {load:.2f} (2 cores).\n\n| what | case | tree | round | seconds | certified "
                "| prime |\n|---|---|---|---|---|---|---|")
        table = head + "\n" + "\n".join(rows) + "\n"
        print(table)
        if args.out:
            Path(args.out).write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
