"""Separation-rank engine, certified half: exact rank, one-hot table building, ``tnrnn rank`` wall time.

Groups (every ratio measured side by side in this run):

* ``exact rank``: python-flint ``nmod_mat.rank`` versus a naive Gaussian elimination mod p in numpy int64
  (written here only as the baseline), on the same one-hot table; both must agree.
* ``one-hot table``: the prefix-trie evaluation of the full table versus per-pair evaluation of every entry.
* ``tnrnn rank``: wall time of the command (a fresh process, imports included) and of the in-process call,
  for L = 2, R = 4, M = 4, T = 12 one-hot (a 4096 x 4096 table; target under 60 s on 2 cores) and
  L = 3, R = 3, M = 3, T = 8 continuous; beside them the certified rank of the full 4096 x 4096 table
  without the upper bound's help (what the random sub-matrix saves).
* ``start-up``: CPU seconds of the whole ``tnrnn rank -L 1 -T 4`` process (target under 1), beside a bare
  interpreter and a bare ``import jax``; the note says whether the command imported jax.
* ``numpy -> flint``: the whole flint call (:func:`tnrnn.bounds.exact_rank.rank_modp`: conversion then ``rank()``) against
  ``rank()`` alone (target within 2x), and the two conversions alone: rows through ``fmpz_mat``
  (:func:`tnrnn.bounds.exact_rank.to_nmod_mat`) and ``nmod_mat``'s own flat-list constructor; same matrix, same rank.
* ``pair kernel``: the compiled numba pair evaluation (:mod:`tnrnn.bounds.gfp_kernel`) versus the numpy broadcast
  path, same sample matrix (entries must agree); numba's load time is outside the timing (cached compile).
* ``certificate``: the certification driver as of commit ``e755d25`` (before the time-boxed driver: doubling
  samples, a second seed at full size) loaded from git, versus :func:`tnrnn.bounds.certify.certified_rank` without
  a time limit; both get the same upper bound and must certify the same value.
"""

from __future__ import annotations

import importlib.util
import statistics
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
from harness import compare

ROOT = Path(__file__).resolve().parent.parent


#: Wall-clock budget of one comparison: the work here takes up to seconds a call, so rounds are cut to what fits
#: (the table states how many).
BUDGET_S = 30.0
ROUNDS = 51


def _rows(group: str, case: str, variants: dict, baseline: str, note: str = "") -> list[dict]:
    """Interleaved rounds of ``variants`` (:func:`harness.compare`), the note on the baseline row."""
    return compare(group, case, variants, baseline=baseline, rounds=ROUNDS, budget_s=BUDGET_S,
                   notes={baseline: note}).rows()


def naive_rank_modp(matrix: np.ndarray, p: int) -> int:
    """Rank by row reduction mod p with numpy int64 (baseline only; entries < 2^20 keep products in int64)."""
    A = np.array(matrix, dtype=np.int64) % p
    m, n = A.shape
    rank = 0
    for col in range(n):
        if rank == m:
            break
        nz = np.nonzero(A[rank:, col])[0]
        if nz.size == 0:
            continue
        piv = rank + int(nz[0])
        if piv != rank:
            A[[rank, piv]] = A[[piv, rank]]
        inv = pow(int(A[rank, col]), p - 2, p)
        A[rank] = (A[rank] * inv) % p
        below = A[rank + 1:, col].copy()
        A[rank + 1:] = (A[rank + 1:] - (below[:, None] * A[rank][None, :]) % p) % p
        rank += 1
    return rank


def _old_certify():
    """The certification module as of commit e755d25 (today's code before this change), or None outside git."""
    try:
        src = subprocess.run(["git", "show", "e755d25:tnrnn/bounds/certify.py"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "old_certify.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("old_certify", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_certify"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def conversion_rows(quick: bool) -> list[dict]:
    import flint

    from tnrnn.bounds.gfp import rank_modp, to_nmod_mat
    from tnrnn.rac.recurrence import DEFAULT_PRIME

    p = DEFAULT_PRIME
    out: list[dict] = []
    for n in ((500, 1000) if quick else (1000, 2000, 4096)):
        a = np.random.default_rng(n).integers(0, p, (n, n), dtype=np.int64)
        if to_nmod_mat(a, p).rank() != flint.nmod_mat(n, n, (a % p).ravel().tolist(), p).rank():
            raise AssertionError("the two conversions disagree")
        timings = {
            "rank() alone (matrix already in flint)": lambda m=to_nmod_mat(a, p): m.rank(),
            "rank_modp: conversion (rows via fmpz_mat) + rank()": lambda a=a: rank_modp(a, p),
            "conversion alone (rows via fmpz_mat)": lambda a=a: to_nmod_mat(a, p),
            "conversion alone, nmod_mat(m, n, flat list, p)":
                lambda a=a, n=n: flint.nmod_mat(n, n, (a % p).ravel().tolist(), p),
        }
        out += _rows("numpy -> flint", f"{n} x {n}", timings, "rank() alone (matrix already in flint)",
                                note="same rank")
    return out


def kernel_rows(quick: bool) -> list[dict]:
    from tnrnn.bounds import gfp_kernel
    from tnrnn.bounds.gfp import _pair_values
    from tnrnn.rac.partition import make_partition
    from tnrnn.rac.recurrence import DEFAULT_PRIME, init_params_modp
    from tnrnn.rac.spec import RACSpec

    if not gfp_kernel.available():
        return []
    p, spec, T = DEFAULT_PRIME, RACSpec(3, 3, 3), 8
    n = 300 if quick else 1000
    part = make_partition(T)
    params = init_params_modp(spec, 0, p)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, p, (n, T // 2, 3)), rng.integers(0, p, (n, T // 2, 3))
    if not (_pair_values(params, part, p, a, b, 0, kernel=True) == _pair_values(params, part, p, a, b, 0,
                                                                                  kernel=False)).all():
        raise AssertionError("kernel and numpy disagree")
    timings = {"numba kernel": partial(_pair_values, params, part, p, a, b, 0, kernel=True),
               "numpy broadcast": partial(_pair_values, params, part, p, a, b, 0, kernel=False)}
    return _rows("pair kernel", f"L=3 R=3 M=3 T=8 continuous, {n} x {n} samples", timings, "numba kernel",
                            note="identical entries")


def certificate_rows(quick: bool) -> list[dict]:
    from tnrnn.bounds.algebraic import best_bound, upper_bounds
    from tnrnn.bounds.certify import certified_rank
    from tnrnn.rac.spec import RACSpec

    old = _old_certify()
    if old is None:
        return []
    out: list[dict] = []
    cases = [(RACSpec(3, 2, 2), 8, "continuous"), (RACSpec(2, 3, 3), 8, "onehot")]
    if not quick:
        cases += [(RACSpec(4, 2, 2), 8, "continuous"), (RACSpec(3, 3, 3), 6, "continuous")]
    for spec, T, domain in cases:
        upper = best_bound(upper_bounds(spec, T, "start-end", domain)[0])[0]
        new_rank = certified_rank(spec, T, domain=domain, upper=upper, seconds=None).rank
        old_rank = old.certified_rank(spec, T, domain=domain, upper=upper).rank
        if new_rank != old_rank:
            raise AssertionError(f"old {old_rank} != new {new_rank}")
        new_call = partial(certified_rank, spec, T, domain=domain, upper=upper, seconds=None)
        old_call = partial(old.certified_rank, spec, T, domain=domain, upper=upper)
        timings = {"time-boxed driver (no limit)": new_call,
                   "driver of e755d25": old_call}
        out += _rows("certificate", f"L={spec.L} R={spec.R} M={spec.M} T={T} {domain}", timings,
                                "time-boxed driver (no limit)", note=f"both certify {new_rank} (upper {upper})")
    return out


def _child_cpu_seconds(argv: list[str]) -> float:
    """CPU seconds (user + system) of one child process running ``argv`` to the end."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def startup_rows(quick: bool) -> list[dict]:
    """Whole-process wall time (interleaved) and CPU seconds (medians of 3) of a small ``tnrnn rank`` against
    bare interpreter and jax imports."""
    py = sys.executable
    variants = {
        "tnrnn rank -L 1 -T 4 (whole process)": [py, "-m", "tnrnn", "rank", "-L", "1", "-T", "4", "--json",
                                                 "--no-progress"],
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import jax'": [py, "-c", "import jax"],
    }
    cpu = {name: statistics.median(_child_cpu_seconds(argv) for _ in range(3)) for name, argv in variants.items()}
    probe = subprocess.run([py, "-c", "import sys; from tnrnn.cli import main; main(['rank', '-L', '1', '-T', '4', "
                            "'--json', '--no-progress']); print('jax' in sys.modules, file=sys.stderr)"],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    jax_loaded = probe.stderr.strip().splitlines()[-1]
    calls = {name: partial(subprocess.run, argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
             for name, argv in variants.items()}
    base = "tnrnn rank -L 1 -T 4 (whole process)"
    out = _rows("start-up", "wall seconds of one process", calls, base)
    for r in out:
        r["note"] = f"median CPU seconds (user + system) of 3 runs: {cpu[r['variant']]:.2f}; " + r["note"]
    out[0]["note"] += f"; target < 1 CPU-s; jax imported by the command: {jax_loaded}"
    return out


def _cli(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "tnrnn", *args, "--json", "--no-progress"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def rows(quick: bool, rounds: int) -> list[dict]:
    global ROUNDS
    ROUNDS = rounds
    from tnrnn.bounds.certify import certified_rank
    from tnrnn.bounds.gfp import _pair_values, onehot_matrix_modp, rank_modp
    from tnrnn.bounds.gfp import all_sequences as _all_sequences
    from tnrnn.rac.partition import make_partition
    from tnrnn.rac.recurrence import DEFAULT_PRIME, init_params_modp
    from tnrnn.rac.spec import RACSpec
    from tnrnn.rank import separation_rank

    p = DEFAULT_PRIME
    out: list[dict] = []

    # Exact rank: flint versus naive elimination, same matrix.
    spec = RACSpec(2, 4, 4)
    T = 8 if quick else 10
    table = onehot_matrix_modp(spec, T, init_params_modp(spec, 0), "start-end", p)
    r_flint, r_naive = rank_modp(table, p), naive_rank_modp(table, p)
    if r_flint != r_naive:
        raise AssertionError(f"flint rank {r_flint} != naive rank {r_naive}")
    timings = {
        "flint nmod_mat.rank (incl. conversion)": lambda: rank_modp(table, p),
        "naive numpy int64 elimination": lambda: naive_rank_modp(table, p),
    }
    out += _rows("exact rank", f"{table.shape[0]} x {table.shape[1]} one-hot table, rank {r_flint}",
                            timings, "flint nmod_mat.rank (incl. conversion)", note="both ranks agree")

    # One-hot table: trie versus per-pair evaluation (same entries).
    params = init_params_modp(spec, 1)
    part = make_partition(T, "start-end")
    seqs = _all_sequences(spec.M, T // 2)
    pairs = _pair_values(params, part, p, seqs, seqs, 0)
    trie = onehot_matrix_modp(spec, T, params, part, p)
    if not (pairs == trie).all():
        raise AssertionError("trie and pair evaluation disagree")
    timings = {
        "prefix trie": lambda: onehot_matrix_modp(spec, T, params, part, p),
        "per-pair evaluation": lambda: _pair_values(params, part, p, seqs, seqs, 0),
    }
    out += _rows("one-hot table", f"L=2 R=4 M=4 T={T} ({trie.shape[0]} x {trie.shape[1]})", timings,
                            "prefix trie", note="identical entries")

    # tnrnn rank wall times.
    big_T = 8 if quick else 12
    case = f"L=2 R=4 M=4 T={big_T} onehot"
    big = RACSpec(2, 4, 4)
    timings = {
        "tnrnn rank (CLI, fresh process)":
            lambda: _cli(["rank", "-L", "2", "-R", "4", "-M", "4", "-T", str(big_T)]),
        "separation_rank() in process": lambda: separation_rank(big, big_T),
        "certified_rank, full table, 1 seed, no upper bound":
            lambda: certified_rank(big, big_T, seeds=(0,)),
    }
    rep = separation_rank(big, big_T)
    out += _rows("tnrnn rank", case, timings, "tnrnn rank (CLI, fresh process)",
                            note=f"lower {rep.lower}, upper {rep.upper} ({rep.upper_source}), exact {rep.exact}")

    cT = 6 if quick else 8
    cont = RACSpec(3, 3, 3)
    timings = {
        "tnrnn rank (CLI, fresh process)":
            lambda: _cli(["rank", "-L", "3", "-R", "3", "-M", "3", "-T", str(cT), "--domain", "continuous"]),
        "separation_rank() in process": lambda: separation_rank(cont, cT, domain="continuous"),
    }
    rep = separation_rank(cont, cT, domain="continuous")
    out += _rows("tnrnn rank", f"L=3 R=3 M=3 T={cT} continuous", timings,
                            "tnrnn rank (CLI, fresh process)",
                            note=f"lower {rep.lower}, upper {rep.upper} ({rep.upper_source}), exact {rep.exact}")
    return out + startup_rows(quick) + conversion_rows(quick) + kernel_rows(quick) + certificate_rows(quick)
