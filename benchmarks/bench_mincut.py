"""Min-cut: structured fast path vs explicit graph (scipy max-flow, networkx) over T, side by side in one run.

Rows per (form, T): ``structured`` (:func:`tnrnn.bounds.mincut.rac_mincut`, the baseline), ``explicit-scipy`` and
``explicit-networkx`` (:func:`network_mincut` on a prebuilt network; the build time is in the note), until the
explicit network passes the builder's node limit. Every row checks that the three values agree. One more group
times the Start-End bound of L = 4, T = 1024 (continuous form: the closed form R^S(T/2, L) against the DP; grid form
too).
"""

from __future__ import annotations

import time
from functools import partial

from common import best_time, rows_with_ratios

from tnrnn.bounds.closed_form import closed_form_mincut
from tnrnn.bounds.cut_explicit import network_mincut
from tnrnn.bounds.mincut import rac_mincut
from tnrnn.network.build import DEFAULT_MAX_NODES, build_network, count_nodes
from tnrnn.rac.partition import make_partition
from tnrnn.rac.spec import RACSpec


def _group(spec: RACSpec, form: str, times: list[int], repeat: int) -> list[dict]:
    rows: list[dict] = []
    for T in times:
        case = f"L={spec.L} R={spec.R} M={spec.M} T={T} {form} start-end"
        timings = {"structured": best_time(lambda T=T: rac_mincut(spec, T, form=form), repeat=repeat)}
        fast = rac_mincut(spec, T, form=form)
        nodes = count_nodes(spec, T, form)
        if nodes > DEFAULT_MAX_NODES:
            rows += rows_with_ratios(
                f"mincut-{form}", case, timings, "structured",
                f"value {fast.value}; explicit network infeasible ({nodes:,} nodes > {DEFAULT_MAX_NODES:,})",
            )
            break
        t0 = time.perf_counter()
        net = build_network(spec, T, form=form)
        build_s = time.perf_counter() - t0
        slow_repeat = 1 if nodes > 20_000 else repeat
        timings["explicit-scipy"] = best_time(lambda net=net: network_mincut(net, solver="scipy"), repeat=slow_repeat, warmup=0)
        timings["explicit-networkx"] = best_time(lambda net=net: network_mincut(net, solver="networkx"), repeat=slow_repeat, warmup=0)
        a = network_mincut(net, solver="scipy").value
        b = network_mincut(net, solver="networkx").value
        agree = a == b == fast.value
        rows += rows_with_ratios(
            f"mincut-{form}", case, timings, "structured",
            f"value {fast.value}; {nodes:,} nodes, build {build_s:.2f} s; values agree: {agree}; "
            f"{fast.stats}",
        )
    return rows


def rows(quick: bool) -> list[dict]:
    out: list[dict] = []
    if quick:
        out += _group(RACSpec(3, 2, 2), "continuous", [8, 16], repeat=2)
        out += _group(RACSpec(3, 2, 2), "grid", [8], repeat=2)
    else:
        out += _group(RACSpec(3, 2, 2), "continuous", [8, 16, 24, 32, 48, 64, 96], repeat=3)
        out += _group(RACSpec(3, 2, 3), "grid", [8, 16, 32, 48, 64, 96], repeat=3)
    spec = RACSpec(4, 2, 2)
    part = make_partition(1024)
    timings = {
        "closed form R^S(T/2, L)": best_time(partial(closed_form_mincut, spec, part), repeat=3),
        "structured": best_time(lambda: rac_mincut(spec, 1024), repeat=3 if not quick else 1),
    }
    cut = rac_mincut(spec, 1024)
    if closed_form_mincut(spec, part) != cut.value:
        raise AssertionError("closed form and DP disagree")
    out += rows_with_ratios(
        "mincut-long", "L=4 R=2 M=2 T=1024 continuous start-end", timings, "closed form R^S(T/2, L)",
        f"value {cut.value} (log2 {cut.value.log2:.6g}), both equal",
    )
    if not quick:
        t0 = time.perf_counter()
        grid = rac_mincut(spec, 1024, form="grid")
        out += rows_with_ratios(
            "mincut-long", "L=4 R=2 M=2 T=1024 grid start-end", {"structured": time.perf_counter() - t0}, "structured",
            f"value {grid.value}; {grid.stats}; one run",
        )
    return out
