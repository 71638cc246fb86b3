"""The rank dial: fit targets of known, certified Start-End separation rank on the whole one-hot domain, with
students whose rank is bounded (RACs) or not (GRU, scoRNN), and measure what width a shallow student needs
(docs/pages/depth.md).

The theory says: a shallow RAC of width R has Start-End rank at most R, so on any target of Start-End rank
r > R its relative error is at least the Eckart-Young floor of the target's Start-End matrix at rank R (the
error of its best rank-R approximation: [`eckart_young_floor`][tnrnn.memory.rank_dial.eckart_young_floor]); a student of the teacher's depth and width
can fit a teacher RAC exactly. Whether gradient training finds these fits is a separate question; both are
measured here.

Targets ([`make_target`][tnrnn.memory.rank_dial.make_target]), every one a table over all ``M^T`` sequences with its exact Start-End rank:

* ``teacher-L{L}R{R}``: a RAC of depth L and width R with dyadic weights (multiples of 2^-8), so its table is an
  integer table divided by a power of two and its rank over Q is computed exactly (python-flint ``fmpz_mat``);
  a teacher is accepted only when that rank equals the certified generic rank of its architecture
  ([`tnrnn.separation_rank`][tnrnn.rank.separation_rank]), so the target has the generic rank the theory speaks of;
* ``match-count``: the number of positions j <= T/2 where ``x_j = x_{j+T/2}`` (rank at most (T/2)(M-1)+1);
* ``products-r{r}``: a sum of r products of random integer start and end tables (rank exactly r, checked):
  a control whose ranks across the cuts inside each half are high too, which no small recurrent student has.

Students ([`student_table`][tnrnn.memory.rank_dial.student_table]) are evaluated on the prefix tree of the domain (each prefix once), which costs
about ``M/(M-1)`` sequence-steps per sequence instead of T. Training is full batch, MSE on the target scaled to
unit root-mean-square, Adam on a cosine schedule, the seeds of one row trained together
([`tnrnn.capacity.vtrain.train_members`][tnrnn.capacity.vtrain.train_members]). Per row: relative errors ``||f - y|| / ||y||`` per seed (median,
best), the fraction of seeds below `FIT_THRESHOLD` with its Wilson interval, whether the loss had
flattened, the trained students' numerical Start-End rank (float64 SVD, relative tolerance
`RANK_RTOL`) and, for RAC students, the certified generic rank of the architecture.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tnrnn.base.errors import TnrnnError
from tnrnn.base.validate import check_positive_int

#: A seed "fits" when its relative error is below this.
FIT_THRESHOLD = 0.01

#: Relative tolerance (to the largest singular value) of the trained students' numerical rank.
RANK_RTOL = 1e-6

#: Largest domain trained on (sequences).
MAX_SEQUENCES = 1 << 16

#: Teacher weights are integers divided by 2^DYADIC_BITS.
DYADIC_BITS = 8

#: Weight draws a teacher is chosen from (the flattest Start-End spectrum among those at the generic rank).
TEACHER_DRAWS = 16

POINT_TASK = "tnrnn.memory.rank_dial:rank_dial_point"


def _check_domain(symbols: int, time: int) -> tuple[int, int]:
    M, T = check_positive_int("symbols", symbols, minimum=2), check_positive_int("time", time, minimum=2)
    if T % 2:
        raise TnrnnError(f"time must be even (a Start-End cut), got {T}")
    if M ** T > MAX_SEQUENCES:
        raise TnrnnError(f"the whole domain has M^T = {M}^{T} = {M ** T} sequences, above {MAX_SEQUENCES}; "
                         "use fewer symbols or a shorter T")
    return M, T


def all_sequences(symbols: int, time: int) -> np.ndarray:
    """Every sequence of the domain, lexicographic with ``x_1`` most significant: (M^T, T) int array.

    Examples
    --------
    >>> all_sequences(2, 2).tolist()
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    M, T = _check_domain(symbols, time)
    return np.array(np.unravel_index(np.arange(M ** T), (M,) * T)).T


def start_end_matrix(table: np.ndarray, symbols: int, time: int) -> np.ndarray:
    """The table as its Start-End matricisation (M^(T/2) x M^(T/2)).

    Examples
    --------
    >>> start_end_matrix(np.arange(16), 2, 4).shape
    (4, 4)
    """
    M, T = _check_domain(symbols, time)
    side = M ** (T // 2)
    return np.asarray(table).reshape(side, side)


def eckart_young_floor(matrix: np.ndarray, rank: int) -> float:
    """Relative Frobenius error of the best rank-``rank`` approximation of ``matrix``: no function of
    Start-End rank at most ``rank`` can fit the target better.

    Examples
    --------
    >>> eckart_young_floor(np.diag([3.0, 4.0]), 1)
    0.6
    >>> eckart_young_floor(np.diag([3.0, 4.0]), 2)
    0.0
    """
    s = np.linalg.svd(np.asarray(matrix, np.float64), compute_uv=False)
    total = float(np.sum(s ** 2))
    return 0.0 if total == 0 else float(math.sqrt(float(np.sum(s[int(rank):] ** 2)) / total))


def numerical_rank(matrix: np.ndarray, rtol: float = RANK_RTOL) -> int:
    """Number of singular values above ``rtol`` times the largest (float64 SVD; an estimate, not a certificate).

    Examples
    --------
    >>> numerical_rank(np.outer([1.0, 2.0, 3.0], [1.0, -1.0]) + np.outer([0.0, 1.0, 0.0], [1.0, 1.0]))
    2
    """
    s = np.linalg.svd(np.asarray(matrix, np.float64), compute_uv=False)
    return 0 if s.size == 0 or s[0] == 0 else int(np.sum(s > rtol * s[0]))


def exact_rank(matrix: np.ndarray) -> int:
    """Rank over Q of an integer matrix (python-flint ``fmpz_mat``, exact; entries of any size).

    Examples
    --------
    >>> exact_rank(np.array([[2**70, 1], [2**71, 2]], dtype=object))
    1
    """
    import flint

    rows = [[int(v) for v in row] for row in np.asarray(matrix, dtype=object)]
    return int(flint.fmpz_mat(rows).rank())


# ------------------------------------------------------------------------------------------------- targets


def _teacher_integer_weights(depth: int, width: int, symbols: int, seed: int) -> tuple[list, list, np.ndarray]:
    """Integer numerators of a teacher's weights (denominator 2^DYADIC_BITS): Gaussian input weights, random
    orthogonal recurrent and upper-layer input matrices (norm-preserving, so the table's dynamic range stays
    moderate), Gaussian readout.
    """
    from scipy.stats import ortho_group

    rng = np.random.default_rng([seed, depth, width, symbols])
    q = 2 ** DYADIC_BITS

    def dy(a):
        return np.rint(np.asarray(a) * q).astype(np.int64)

    def orth():
        return ortho_group.rvs(width, random_state=rng) if width > 1 else np.ones((1, 1))

    W_I = [dy(rng.standard_normal((symbols, width)))] + [dy(orth()) for _ in range(depth - 1)]
    W_H = [dy(orth()) for _ in range(depth)]
    W_O = dy(rng.standard_normal(width))
    return W_I, W_H, W_O


def _teacher_table_exact(W_I: list, W_H: list, W_O: np.ndarray, symbols: int,
                         time: int) -> tuple[np.ndarray, int, int]:
    """The teacher's table times 2^(DYADIC_BITS * degree), in exact Python integers (object array).

    Row-vector convention of the students: ``h[t,l] = (h[t,l-1] W_I[l]) * (h[t-1,l] W_H[l])``, the first step
    ``h[1,l] = h[1,l-1] W_I[l]`` (the all-ones convention ``h[0] W_H = 1``); the degree in the weights is the
    same for every sequence, so dividing by one power of two gives the real table.
    """
    q = 2 ** DYADIC_BITS
    L = len(W_I)
    WI = [np.asarray(w, dtype=object) for w in W_I]
    WH = [np.asarray(w, dtype=object) for w in W_H]
    states: list = [None] * L   # (prefixes, R) object arrays
    degrees = [0] * L           # weight degree of each layer's state
    for t in range(time):
        n = symbols ** t
        x = np.tile(np.arange(symbols), n)
        below: Any = None
        below_deg = 0
        new_states = []
        for l in range(L):
            inp = WI[0][x] if l == 0 else below.dot(WI[l])
            inp_deg = 1 if l == 0 else below_deg + 1
            if t == 0:
                h, deg = inp, inp_deg
            else:
                prev = np.repeat(states[l], symbols, axis=0)
                h, deg = inp * prev.dot(WH[l]), inp_deg + degrees[l] + 1
            new_states.append(h)
            degrees[l] = deg
            below, below_deg = h, deg
        states = new_states
    out = states[-1].dot(np.asarray(W_O, dtype=object))
    total_degree = degrees[-1] + 1
    return out, q, total_degree


def _to_float(exact_table: np.ndarray) -> np.ndarray:
    """An exact integer table as float64 up to one power of two (scaled in Python ints: never overflows)."""
    big = max(abs(int(v)) for v in exact_table) or 1
    shift = max(0, big.bit_length() - 60)
    return np.array([float(int(v) >> shift) if v >= 0 else -float((-int(v)) >> shift) for v in exact_table])


def _generic_rank(depth: int, width: int, symbols: int, time: int) -> int | None:
    """Certified generic Start-End rank of a RAC architecture (one-hot domain), or None when not exact."""
    rep = _rank_report(depth, width, symbols, time)
    return rep[0] if rep[1] else None


@lru_cache(maxsize=256)
def _rank_report(depth: int, width: int, symbols: int, time: int) -> tuple[int, bool, str]:
    from tnrnn import RACSpec, separation_rank

    rep = separation_rank(RACSpec(depth=depth, width=width, features=symbols), time, "start-end", "onehot",
                          certify_seconds=30)
    return int(rep.lower or 0), bool(rep.exact), str(rep.upper)


def make_target(name: str, symbols: int, time: int, seed: int = 0) -> dict:
    """A target table and its exact Start-End rank.

    Parameters
    ----------
    name : str
        ``"teacher-L{L}R{R}"``, ``"match-count"`` or ``"products-r{r}"``.
    symbols, time : int
        The domain: all ``symbols**time`` sequences (at most `MAX_SEQUENCES`), T even.
    seed : int
        Draws the teacher's weights or the random tables (a teacher whose table falls short of the generic rank
        is redrawn with the next seeds).

    Returns
    -------
    dict
        ``name``, ``values`` (float64 table scaled to unit root-mean-square, lexicographic order),
        ``rank`` (exact rank over Q of the Start-End matricisation), ``how`` (how the rank is known),
        ``generic_rank`` (teachers: the certified rank of the architecture), ``seed`` (the one used),
        ``floors`` (Eckart-Young floor at ranks 1, 2, 4, ... below the rank: how much of the rank matters at a
        given error).

    Raises
    ------
    TnrnnError
        Unknown names, domains that are too large, a teacher architecture whose generic rank is not certified.

    Examples
    --------
    >>> t = make_target("match-count", 2, 4)
    >>> t["rank"], round(float(np.sqrt(np.mean(t["values"] ** 2))), 6)
    (3, 1.0)
    >>> make_target("teacher-L2R2", 2, 6)["rank"]
    8
    """
    M, T = _check_domain(symbols, time)
    half = T // 2
    if name == "match-count":
        seqs = all_sequences(M, T)
        table = np.sum(seqs[:, :half] == seqs[:, half:], axis=1).astype(np.int64)
        rank, how, generic, used = exact_rank(start_end_matrix(table, M, T)), "exact rank over Q (flint)", None, seed
        values = table.astype(np.float64)
    elif name.startswith("products-r"):
        r = check_positive_int("products rank", _suffix_int(name, "products-r"))
        side = M ** half
        if r > side:
            raise TnrnnError(f"{name}: a rank above the side of the Start-End matrix ({side}) is impossible")
        rng = np.random.default_rng([seed, r, M, T])
        left = rng.integers(-1000, 1001, size=(side, r))
        right = rng.integers(-1000, 1001, size=(r, side))
        table = (left @ right).reshape(-1)
        rank, how, generic, used = exact_rank(left @ right), "exact rank over Q (flint)", None, seed
        values = table.astype(np.float64)
    elif name.startswith("teacher-L"):
        depth, width = _teacher_shape(name)
        generic = _generic_rank(depth, width, M, T)
        if generic is None:
            raise TnrnnError(f"{name}: the generic Start-End rank of L={depth} R={width} M={M} T={T} is not "
                             "certified within 30 s; choose a smaller teacher or domain")
        # Random RAC tables are dominated by a few sequences: their Start-End spectra typically fall by 1e-3
        # per singular value, so a rank-2 function fits them to 1%. Among TEACHER_DRAWS draws reaching the
        # generic rank, keep the one with the flattest spectrum (largest Eckart-Young floor at rank r/4).
        best = None
        for used in range(seed, seed + TEACHER_DRAWS):
            W_I, W_H, W_O = _teacher_integer_weights(depth, width, M, used)
            exact_table, _, _ = _teacher_table_exact(W_I, W_H, W_O, M, T)
            if exact_rank(start_end_matrix(exact_table, M, T)) != generic:
                continue
            vals = _to_float(exact_table)
            spread = eckart_young_floor(start_end_matrix(vals, M, T), max(1, generic // 4))
            if best is None or spread > best[0]:
                best = (spread, used, vals)
        if best is None:  # pragma: no cover - a generic draw reaches the generic rank almost surely
            raise TnrnnError(f"{name}: no draw of {TEACHER_DRAWS} reached the generic rank {generic}")
        _, used, values = best
        rank = generic
        how = (f"exact rank over Q of the dyadic teacher (flint) = certified generic rank of L={depth} R={width}; "
               f"flattest spectrum of {TEACHER_DRAWS} draws")
    else:
        raise TnrnnError(f"unknown target {name!r}; use teacher-L<depth>R<width>, match-count or products-r<rank>")
    rms = float(np.sqrt(np.mean(values ** 2)))
    if rms == 0:
        raise TnrnnError(f"{name}: the target table is identically zero")
    mat = start_end_matrix(values, M, T)
    floors = {str(k): eckart_young_floor(mat, k) for k in (2 ** i for i in range(12)) if k < rank}
    return {"name": name, "values": values / rms, "rank": int(rank), "how": how, "generic_rank": generic,
            "seed": int(used), "symbols": M, "time": T, "floors": floors}


def _suffix_int(name: str, prefix: str) -> int:
    try:
        return int(name[len(prefix):])
    except ValueError:
        raise TnrnnError(f"bad target name {name!r}") from None


def _teacher_shape(name: str) -> tuple[int, int]:
    body = name[len("teacher-L"):]
    if "R" not in body:
        raise TnrnnError(f"bad teacher name {name!r}; use teacher-L<depth>R<width>")
    d, w = body.split("R", 1)
    try:
        return check_positive_int("teacher depth", int(d)), check_positive_int("teacher width", int(w))
    except ValueError:
        raise TnrnnError(f"bad teacher name {name!r}; use teacher-L<depth>R<width>") from None


# ------------------------------------------------------------------------------------------------ students


def student_table(params: Any, cell: str, symbols: int, time: int):
    """A student's outputs on every sequence of the domain (lexicographic order), evaluated on the prefix tree:
    the state after each prefix is computed once.

    Parameters
    ----------
    params : dict
        A stack of [`tnrnn.memory.cells.init_stack`][tnrnn.memory.cells.init_stack] with one output (RACs without normalisation).
    cell : str
    symbols, time : int

    Returns
    -------
    jax array (M^T,)

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from tnrnn.memory.cells import apply_stack, init_stack
    >>> p = init_stack(0, "gru", n_in=2, width=3, depth=2, n_out=1)
    >>> xs = jax.nn.one_hot(jnp.asarray(all_sequences(2, 4)), 2)
    >>> direct = apply_stack(p, xs, cell="gru")[:, -1, 0]
    >>> bool(jnp.allclose(student_table(p, "gru", 2, 4), direct, atol=1e-5))
    True
    """
    import jax
    import jax.numpy as jnp

    from tnrnn.memory.cells import cell_step, initial_carry

    layers = params["layers"]
    carries = [initial_carry(cell, layer, 1) for layer in layers]
    eye = jnp.eye(symbols, dtype=jnp.result_type(float))  # float64 under jax.enable_x64
    out = None
    for t in range(time):
        n = symbols ** t
        carries = [jax.tree_util.tree_map(lambda a: jnp.repeat(a, symbols, axis=0), c) for c in carries]
        x = jnp.tile(eye, (n, 1))
        if cell == "plusrnn":
            x = x @ params["P"]
        for l, layer in enumerate(layers):
            carries[l], x = cell_step(cell, layer, carries[l], x, normalize=False)
        out = x
    y = out @ params["readout"]["W"]
    if "b" in params["readout"]:
        y = y + params["readout"]["b"]
    return y[:, 0]


def _init_student(cell: str, depth: int, width: int, symbols: int, seed: int):
    import jax.numpy as jnp

    from tnrnn.memory.cells import init_stack

    return {"net": init_stack(seed, cell, symbols, width, depth, 1), "scale": jnp.ones((), jnp.float32)}


def student_output(params: Any, cell: str, symbols: int, time: int):
    """The student's fitted table: its network's table scaled to unit root-mean-square over the domain, times
    a learned scalar.

    One scalar for the whole table changes no separation rank, so the rank bounds of the architecture hold;
    it frees training from the scale of a multiplicative network's outputs (an unnormalised deep RAC's table
    spans many orders of magnitude at initialisation, and plain MSE training of it diverges).

    Examples
    --------
    >>> p = _init_student("rac", 2, 3, 2, 0)
    >>> y = student_output(p, "rac", 2, 4)
    >>> y.shape, round(float((y ** 2).mean()), 4)
    ((16,), 1.0)
    """
    import jax.numpy as jnp

    table = student_table(params["net"], cell, symbols, time)
    return params["scale"] * table / jnp.sqrt(jnp.mean(table ** 2) + 1e-30)


@lru_cache(maxsize=64)
def _loss(cell: str, symbols: int, time: int):
    import jax.numpy as jnp

    def loss_fn(params, target, hp, key):
        pred = student_output(params, cell, symbols, time)
        err = jnp.mean((pred - target) ** 2)
        return err, {}

    return loss_fn


def _student_rank_float64(params: Any, cell: str, symbols: int, time: int) -> tuple[int, np.ndarray]:
    """Numerical Start-End rank of a trained student, evaluated in float64."""
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(True):
        p64 = jax.tree_util.tree_map(lambda a: jnp.asarray(np.asarray(a, np.float64)), params)
        table = np.asarray(student_output(p64, cell, symbols, time), np.float64)
    return numerical_rank(start_end_matrix(table, symbols, time)), table


def rank_dial_point(*, target: str, symbols: int, time: int, cell: str, depth: int, width: int,
                    seeds: list[int], steps: int = 4000, learning_rate: float = 3e-3, target_seed: int = 0) -> dict:
    """Train one student architecture on one target for every seed (the sweep's point function).

    Returns
    -------
    dict
        ``target``, ``target_rank``, ``cell``, ``depth``, ``width``, ``params``, ``certified_rank`` (RAC
        students: the certified generic rank of the architecture; None otherwise), ``eckart_young_floor``
        (the error floor at that rank; None when unbounded), and ``runs``: per seed ``seed``, ``error``
        (relative), ``student_rank`` (float64, `RANK_RTOL`), ``flattened``, ``diverged``.

    Examples
    --------
    >>> r = rank_dial_point(target="match-count", symbols=2, time=4, cell="rac", depth=1, width=2,
    ...                     seeds=[0, 1], steps=20)
    >>> r["target_rank"], r["certified_rank"], len(r["runs"]), round(r["eckart_young_floor"], 3)
    (3, 2, 2, 0.408)
    """
    import jax

    from tnrnn.capacity.vtrain import stack_init, train_members
    from tnrnn.memory.cells import check_cell, num_params

    cell = check_cell(cell)
    M, T = _check_domain(symbols, time)
    seeds = [check_positive_int("seed", s, minimum=0) for s in seeds]
    tgt = make_target(target, M, T, target_seed)
    y = tgt["values"]
    certified = None
    floor = None
    if cell == "rac":
        certified = _generic_rank(depth, width, M, T)
        if certified is not None:
            floor = eckart_young_floor(start_end_matrix(y, M, T), certified)
    params = stack_init(lambda s: _init_student(cell, depth, width, M, s), seeds)
    data = jax.numpy.asarray(np.broadcast_to(y.astype(np.float32), (len(seeds), y.size)).copy())
    hps = {"lr": [learning_rate] * len(seeds), "clip": [1.0] * len(seeds)}
    out = train_members(params, data, hps, _loss(cell, M, T), steps=steps, chunk=max(1, steps // 20),
                        optimizer="adam", schedule="cosine", final_lr_fraction=0.01)
    curve = out["loss_curve"]  # (chunks, members)
    runs = []
    for i, s in enumerate(seeds):
        member = jax.tree_util.tree_map(lambda a, i=i: a[i], out["params"])
        rank, table = _student_rank_float64(member, cell, M, T)
        err = float(np.linalg.norm(table - y) / np.linalg.norm(y))
        losses = curve[:, i]
        late = losses[-max(2, len(losses) // 5):]
        flattened = bool(np.isfinite(late).all() and late[-1] >= 0.9 * late[0])
        runs.append({"seed": s, "error": err if math.isfinite(err) else None, "student_rank": rank,
                     "flattened": flattened, "diverged": bool(out["diverged"][i]),
                     "loss_curve": [None if not np.isfinite(v) else float(f"{v:.4g}") for v in losses]})
    return {"target": target, "target_rank": tgt["rank"], "target_how": tgt["how"], "target_seed": tgt["seed"],
            "target_floors": tgt["floors"],
            "symbols": M, "time": T, "cell": cell, "depth": depth, "width": width,
            "params": num_params(cell, M, width, depth, 1), "certified_rank": certified,
            "eckart_young_floor": floor, "steps": steps, "learning_rate": learning_rate,
            "seconds": out["seconds"], "runs": runs}


# ------------------------------------------------------------------------------------------------- summary


def summarize_rank_dial(records: list[dict]) -> dict:
    """One row per (target, student): the fit statistics over seeds.

    Examples
    --------
    >>> rec = {"target": "t", "target_rank": 4, "symbols": 2, "time": 4, "cell": "rac", "depth": 1, "width": 2,
    ...        "params": 9, "certified_rank": 2, "eckart_young_floor": 0.3, "steps": 10,
    ...        "runs": [{"seed": s, "error": 0.31, "student_rank": 2, "flattened": True} for s in range(10)]}
    >>> row = summarize_rank_dial([rec])["rows"][0]
    >>> row["fit_fraction"], [round(v, 3) for v in row["fit_interval"]], row["median_error"]
    (0.0, [0.0, 0.278], 0.31)
    """
    from tnrnn.stats import bootstrap_interval, success_summary

    rows = []
    for rec in (r.get("result", r) for r in records if r.get("status", "ok") == "ok"):
        errors = [run["error"] for run in rec["runs"]]
        finite = [e for e in errors if e is not None]
        # a diverged seed (no error) is a failure to fit, not a missing value
        fit = success_summary([e if e is not None else 1e300 for e in errors], FIT_THRESHOLD, below=True)
        med = bootstrap_interval(finite, bounds=(0.0, math.inf)) if finite else {"value": None, "interval": None}
        ranks = sorted(run["student_rank"] for run in rec["runs"])
        rows.append({
            "target": rec["target"], "target_rank": rec["target_rank"], "symbols": rec["symbols"],
            "T": rec["time"], "cell": rec["cell"], "depth": rec["depth"], "width": rec["width"],
            "params": rec["params"], "seeds": [run["seed"] for run in rec["runs"]],
            "certified_rank": rec["certified_rank"], "eckart_young_floor": rec["eckart_young_floor"],
            "fit_fraction": fit["rate"], "fit_interval": fit["interval"], "fits": fit["successes"],
            "median_error": med["value"], "median_error_interval": med["interval"],
            "best_error": min(finite) if finite else None, "errors": errors,
            "student_rank_median": ranks[len(ranks) // 2], "student_ranks": [run["student_rank"] for run in rec["runs"]],
            "flattened": sum(bool(run["flattened"]) for run in rec["runs"]), "steps": rec["steps"],
        })
    rows.sort(key=lambda r: (r["symbols"], r["T"], r["target"], r["cell"] != "rac", r["cell"], r["depth"],
                             r["width"]))
    return {"rows": rows, "fit_threshold": FIT_THRESHOLD, "rank_rtol": RANK_RTOL}


def plot_rank_dial(summary: dict, path: str | os.PathLike) -> Path:
    """One panel per target: relative error of every seed against the student's width (shallow RACs joined,
    other students marked), the Eckart-Young floor of a rank-R function, and the target's rank as a line.

    Examples
    --------
    >>> import tempfile, os
    >>> rows = [{"target": "t", "symbols": 2, "T": 4, "target_rank": 3, "cell": "rac", "depth": 1, "width": w,
    ...          "errors": [0.5, 0.4], "eckart_young_floor": 0.3, "median_error": 0.45, "fits": 0}
    ...         for w in (1, 2)]
    >>> plot_rank_dial({"rows": rows}, os.path.join(tempfile.mkdtemp(), "d.png")).exists()
    True
    """
    from tnrnn.draw.style import finish_figure, new_plot

    panels = sorted({(r["symbols"], r["T"], r["target"]) for r in summary["rows"]})
    ncols = min(3, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    fig, axes = new_plot(4.6 * ncols, 3.8 * nrows, nrows=nrows, ncols=ncols)
    styles = {("rac", 1): ("tab:blue", "o"), ("gru", 1): ("tab:green", "s"), ("scornn", 1): ("tab:purple", "^")}
    for ax, (M, T, name) in zip(axes, panels):
        rows = [r for r in summary["rows"] if (r["symbols"], r["T"], r["target"]) == (M, T, name)]
        r0 = rows[0]
        shallow = sorted((r for r in rows if r["cell"] == "rac" and r["depth"] == 1), key=lambda r: r["width"])
        if shallow:
            ax.plot([r["width"] for r in shallow], [max(r["eckart_young_floor"] or 0, 1e-6) for r in shallow],
                    color="black", ls="--", lw=1, label="floor of any rank-R function")
            ax.plot([r["width"] for r in shallow], [max(r["median_error"] or 1e-6, 1e-6) for r in shallow],
                    color="tab:blue", lw=1)
        for r in rows:
            color, marker = styles.get((r["cell"], min(r["depth"], 1)), ("tab:red", "D"))
            if r["cell"] == "rac" and r["depth"] > 1:
                color, marker = "tab:red", "*"
            errs = [max(e, 1e-6) for e in r["errors"] if e is not None]
            jitter = [1 + (i - (len(errs) - 1) / 2) * 0.02 for i in range(len(errs))]
            ax.scatter([r["width"] * j for j in jitter], errs, s=12, color=color, marker=marker, alpha=0.6,
                       zorder=3)
        ax.axvline(r0["target_rank"], color="grey", ls=":", lw=1)
        ax.axhline(FIT_THRESHOLD, color="grey", ls="-.", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"{name}, M={M}, T={T} (rank {r0['target_rank']})", fontsize=9)
        ax.set_xlabel("student width R")
        ax.set_ylabel("relative error (a mark per seed)")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="lower left")
    return finish_figure(
        fig, path, title="Rank dial: fitting targets of certified Start-End rank on the whole one-hot domain",
        footer="blue o: shallow RAC; red *: RAC of the teacher's depth; green s: GRU; purple ^: scoRNN (depth 1); "
               "dashed: Eckart-Young floor (no function of Start-End rank <= R fits better); dotted: target's "
               f"rank; dash-dot: fit threshold {FIT_THRESHOLD}")


#: The study behind ``diagrams/rank_dial.*``: (symbols, T, target, [(cell, depth, width), ...]).
DEFAULT_STUDY: dict[str, Any] = {
    "seeds": list(range(10)), "steps": 3000,
    "learning_rates": {"shallow": 3e-2, "deep_rac": 3e-3, "other": 3e-3},
    "targets": [
        [2, 10, "teacher-L2R2", [["rac", 1, 2], ["rac", 1, 4], ["rac", 1, 8], ["rac", 1, 16], ["rac", 1, 32],
                                 ["rac", 2, 2], ["rac", 3, 2], ["gru", 1, 16], ["scornn", 1, 16]]],
        [2, 10, "match-count", [["rac", 1, 2], ["rac", 1, 4], ["rac", 1, 8], ["rac", 1, 16], ["rac", 2, 2],
                                ["rac", 3, 2], ["gru", 1, 16], ["scornn", 1, 16]]],
        [2, 10, "products-r12", [["rac", 1, 2], ["rac", 1, 4], ["rac", 1, 8], ["rac", 1, 16], ["rac", 1, 32],
                                 ["rac", 2, 2], ["rac", 3, 2], ["gru", 1, 16], ["scornn", 1, 16]]],
        [2, 10, "teacher-L2R4", [["rac", 1, 2], ["rac", 1, 4], ["rac", 1, 8], ["rac", 1, 16], ["rac", 1, 32],
                                 ["rac", 2, 4], ["rac", 3, 2], ["gru", 1, 16], ["scornn", 1, 16]]],
        [3, 8, "teacher-L2R3", [["rac", 1, 4], ["rac", 1, 8], ["rac", 1, 16], ["rac", 1, 45], ["rac", 2, 3],
                                ["rac", 3, 2]]],
    ],
}


def rank_dial_points(study: dict) -> list[dict]:
    """The sweep points of a study of `DEFAULT_STUDY`'s form, validated before anything trains.

    Examples
    --------
    >>> pts = rank_dial_points(DEFAULT_STUDY)
    >>> len(pts), pts[0]["target"], len(pts[0]["seeds"])
    (41, 'teacher-L2R2', 10)
    """
    from tnrnn.memory.cells import check_cell

    seeds = sorted({check_positive_int("seed", s, minimum=0) for s in study["seeds"]})
    if len(seeds) < 10:
        raise TnrnnError(f"the rank dial needs at least 10 seeds per point, got {len(seeds)}")
    rates = study["learning_rates"]
    points = []
    for M, T, target, students in study["targets"]:
        _check_domain(M, T)
        for cell, depth, width in students:
            cell = check_cell(cell)
            kind = "shallow" if cell == "rac" and depth == 1 else "deep_rac" if cell == "rac" else "other"
            points.append({"target": target, "symbols": M, "time": T, "cell": cell,
                           "depth": check_positive_int("depth", depth), "width": check_positive_int("width", width),
                           "seeds": seeds, "steps": check_positive_int("steps", study["steps"]),
                           "learning_rate": float(rates[kind])})
    return points


def run_rank_dial(study: dict, results: str | os.PathLike, prefix: str | os.PathLike, *,
                  progress: bool = True) -> dict:
    """Run or resume the study point by point (resumable sweep runner, this process); rewrite ``PREFIX.json``
    and ``PREFIX.png`` after every point. Returns the summary.
    """
    from tnrnn.base.io import write_json
    from tnrnn.sweep import run_sweep
    from tnrnn.sweep.store import read_results

    summary: dict = {}
    for point in rank_dial_points(study):
        run_sweep(POINT_TASK, [point], results, executor="serial", progress=progress,
                  desc=f"rank dial {point['target']} {point['cell']} L={point['depth']} R={point['width']}")
        records = list(read_results(results).records.values())
        summary = summarize_rank_dial(records)
        summary["settings"] = study
        write_json(Path(prefix).with_suffix(".json"), summary)
        plot_rank_dial(summary, Path(prefix).with_suffix(".png"))
    return summary


def main(argv: list[str] | None = None) -> int:
    """``python -m tnrnn.memory.rank_dial [RESULTS PREFIX]``: run or resume `DEFAULT_STUDY`."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    run_rank_dial(DEFAULT_STUDY, args[0] if args else "diagrams/rank_dial.jsonl",
                  args[1] if len(args) > 1 else "diagrams/rank_dial")
    return 0



def markdown_table(summary: dict) -> str:
    """The rows of a summary as one Markdown table (for the README and the docs).

    Examples
    --------
    >>> row = {"target": "t", "target_rank": 4, "symbols": 2, "T": 4, "cell": "rac", "depth": 1, "width": 2,
    ...        "certified_rank": 2, "eckart_young_floor": 0.3, "fit_fraction": 0.0, "fit_interval": [0.0, 0.28],
    ...        "median_error": 0.31, "best_error": 0.305, "student_rank_median": 2, "flattened": 10,
    ...        "seeds": list(range(10))}
    >>> print(markdown_table({"rows": [row]}).splitlines()[2])
    | t (4) | M=2, T=4 | rac L=1 R=2 | 2 | 0.300 | 0.00 [0.00, 0.28] | 0.31 | 0.305 | 2 | 10/10 |
    """
    out = ["| target (rank) | domain | student | certified rank | Eckart-Young floor | fit < 0.01 [Wilson 95%] "
           "| median error | best error | trained rank (median) | flattened |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary["rows"]:
        floor = "-" if r["eckart_young_floor"] is None else f"{r['eckart_young_floor']:.3f}"
        cert = "-" if r["certified_rank"] is None else str(r["certified_rank"])
        lo, hi = r["fit_interval"] or (float("nan"), float("nan"))
        med = "n/a" if r["median_error"] is None else f"{r['median_error']:.3g}"
        best = "n/a" if r["best_error"] is None else f"{r['best_error']:.3g}"
        out.append(f"| {r['target']} ({r['target_rank']}) | M={r['symbols']}, T={r['T']} | {r['cell']} "
                   f"L={r['depth']} R={r['width']} | {cert} | {floor} | {r['fit_fraction']:.2f} [{lo:.2f}, "
                   f"{hi:.2f}] | {med} | {best} | {r['student_rank_median']} | {r['flattened']}/{len(r['seeds'])} |")
    return "\n".join(out)


def facts(summary: dict) -> str:
    """The study's findings in words, computed from its summary (the gallery's caption; never hand-written).

    For every target: the narrowest shallow RAC width with a fit in at least half of its seeds, against the
    target's rank, and the fits of the other students.

    Examples
    --------
    >>> rows = [{"target": "t", "target_rank": 4, "symbols": 2, "T": 4, "cell": "rac", "depth": 1, "width": w,
    ...          "seeds": list(range(10)), "fits": f, "fit_interval": [0.0, 1.0]} for w, f in ((2, 0), (8, 9))]
    >>> facts({"rows": rows})
    't (rank 4, M=2, T=4): shallow RACs fit (< 0.01 in half the seeds or more) from width 8 (9/10 [0.00, 1.00]).'
    """
    out = []
    for M, T, name in sorted({(r["symbols"], r["T"], r["target"]) for r in summary["rows"]}):
        rows = [r for r in summary["rows"] if (r["symbols"], r["T"], r["target"]) == (M, T, name)]
        shallow = sorted((r for r in rows if r["cell"] == "rac" and r["depth"] == 1), key=lambda r: r["width"])
        first = next((r for r in shallow if 2 * r["fits"] >= len(r["seeds"])), None)
        text = (f"{name} (rank {rows[0]['target_rank']}, M={M}, T={T}): shallow RACs fit (< {FIT_THRESHOLD:g} in "
                "half the seeds or more) ")
        if first:
            lo, hi = first["fit_interval"]
            text += f"from width {first['width']} ({first['fits']}/{len(first['seeds'])} [{lo:.2f}, {hi:.2f}])"
        else:
            text += f"at no width tried (up to {shallow[-1]['width'] if shallow else '-'})"
        others = [r for r in rows if not (r["cell"] == "rac" and r["depth"] == 1)]
        if others:
            text += "; " + ", ".join(f"{r['cell']} L={r['depth']} R={r['width']} {r['fits']}/{len(r['seeds'])}"
                                     for r in others)
        out.append(text + ".")
    return " ".join(out)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
