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

from harness import compare

from tnrnn.bounds.closed_form import closed_form_mincut
from tnrnn.bounds.cut_explicit import network_mincut
from tnrnn.bounds.mincut import rac_mincut
from tnrnn.network.build import DEFAULT_MAX_NODES, build_network, count_nodes
from tnrnn.rac.partition import make_partition
from tnrnn.rac.spec import RACSpec


def _group(spec: RACSpec, form: str, times: list[int], rounds: int) -> list[dict]:
    rows: list[dict] = []
    for T in times:
        case = f"L={spec.L} R={spec.R} M={spec.M} T={T} {form} start-end"
        variants = {"structured": lambda T=T: rac_mincut(spec, T, form=form)}
        fast = rac_mincut(spec, T, form=form)
        nodes = count_nodes(spec, T, form)
        if nodes > DEFAULT_MAX_NODES:
            rows += compare(f"mincut-{form}", case, variants, rounds=rounds, budget_s=30, notes={"structured": (
                f"value {fast.value}; explicit network infeasible ({nodes:,} nodes > {DEFAULT_MAX_NODES:,})")}).rows()
            break
        t0 = time.perf_counter()
        net = build_network(spec, T, form=form)
        build_s = time.perf_counter() - t0
        variants["explicit-scipy"] = lambda net=net: network_mincut(net, solver="scipy")
        variants["explicit-networkx"] = lambda net=net: network_mincut(net, solver="networkx")
        a = network_mincut(net, solver="scipy").value
        b = network_mincut(net, solver="networkx").value
        agree = a == b == fast.value
        note = f"value {fast.value}; {nodes:,} nodes, build {build_s:.2f} s; values agree: {agree}; {fast.stats}"
        rows += compare(f"mincut-{form}", case, variants, rounds=rounds, budget_s=30,
                        notes={"structured": note}).rows()
    return rows


def rows(quick: bool, rounds: int) -> list[dict]:
    out: list[dict] = []
    if quick:
        out += _group(RACSpec(3, 2, 2), "continuous", [8, 16], rounds)
        out += _group(RACSpec(3, 2, 2), "grid", [8], rounds)
    else:
        out += _group(RACSpec(3, 2, 2), "continuous", [8, 16, 24, 32, 48, 64, 96], rounds)
        out += _group(RACSpec(3, 2, 3), "grid", [8, 16, 32, 48, 64, 96], rounds)
    spec = RACSpec(4, 2, 2)
    part = make_partition(1024)
    cut = rac_mincut(spec, 1024)
    if closed_form_mincut(spec, part) != cut.value:
        raise AssertionError("closed form and DP disagree")
    base = "closed form R^S(T/2, L)"
    out += compare("mincut-long", "L=4 R=2 M=2 T=1024 continuous start-end",
                   {base: partial(closed_form_mincut, spec, part), "structured": lambda: rac_mincut(spec, 1024)},
                   rounds=rounds, budget_s=30,
                   notes={base: f"value {cut.value} (log2 {cut.value.log2:.6g}), both equal"}).rows()
    if not quick:
        grid = rac_mincut(spec, 1024, form="grid")
        out += compare("mincut-long", "L=4 R=2 M=2 T=1024 grid start-end",
                       {"structured": lambda: rac_mincut(spec, 1024, form="grid")}, rounds=rounds, budget_s=30,
                       notes={"structured": f"value {grid.value}; {grid.stats}"}).rows()
    return out
