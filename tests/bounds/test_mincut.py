"""Min-cut upper bounds: explicit (scipy and networkx) vs structured, cut validity, Lawler's hyperedges."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import tensornetwork as tn
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.counts import ExactCount
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.bounds.cut_explicit import network_graph, network_mincut
from tnrnn.bounds.mincut import rac_mincut
from tnrnn.network.build import NodeTag, RACNetwork, build_network
from tnrnn.rac.partition import make_partition
from tnrnn.rac.spec import RACSpec

CASES = [
    # (L, R, M, T, partition): commensurable and incommensurable dimensions, named and custom partitions
    (1, 3, 2, 6, "start-end"),
    (2, 2, 2, 6, "start-end"),
    (2, 2, 3, 5, "odd-even"),
    (2, 3, 2, 4, "1,4"),
    (3, 2, 2, 6, "start-end"),
    (3, 3, 2, 4, "odd-even"),
    (3, 4, 8, 4, "start-end"),
    (3, 2, 5, 5, "2"),
]


def _float_mincut(g: nx.DiGraph) -> float:
    """Independent solver: networkx preflow-push on the float log capacities."""
    return nx.minimum_cut_value(g, "A", "B", capacity="capacity")


@pytest.mark.parametrize("form", ["continuous", "grid"])
@pytest.mark.parametrize("L,R,M,T,part", CASES)
def test_explicit_solvers_agree_and_cut_is_valid(L, R, M, T, part, form):
    net = build_network(RACSpec(L, R, M), T, form=form)
    a = network_mincut(net, part, solver="scipy")
    b = network_mincut(net, part, solver="networkx")
    assert a.value == b.value
    g = network_graph(net, part)
    # the exact value agrees with a float max-flow on the same graph (a different algorithm and arithmetic)
    assert math.isclose(a.value.log2 * math.log(2), _float_mincut(g), rel_tol=1e-9, abs_tol=1e-9)
    for cut in (a, b):
        # value == product of the dimensions of the reported edges
        assert cut.value == ExactCount.product({}) * math.prod(e.dimension for e in cut.edges)
        # removing the reported edges disconnects A from B in the cut graph
        cut_ids = {id(e.edge) for e in cut.edges}
        h = g.copy()
        h.remove_edges_from([(u, v) for u, v, d in g.edges(data=True) if d["edge"] is not None and id(d["edge"]) in cut_ids])
        assert not nx.has_path(h, "A", "B")
        # sides: a cut bond joins two sides, an uncut bond between plain nodes does not
        for e in tn.get_all_nondangling(net.nodes):
            u, v = net.node_id(e.node1), net.node_id(e.node2)
            if net.tags[u].role == "tie" or net.tags[v].role == "tie":
                continue
            assert (cut.sides[u] != cut.sides[v]) == (id(e) in cut_ids)


@pytest.mark.parametrize("form", ["continuous", "grid"])
@pytest.mark.parametrize("L,R,M,T,part", CASES)
def test_structured_equals_explicit(L, R, M, T, part, form):
    spec = RACSpec(L, R, M)
    explicit = network_mincut(build_network(spec, T, form=form), part)
    fast = rac_mincut(spec, T, part, form=form)
    assert fast.value == explicit.value
    assert fast.method == "structured" and fast.edges == []


@settings(max_examples=25, deadline=None)
@given(
    L=st.integers(1, 3),
    R=st.integers(1, 4),
    M=st.integers(1, 4),
    T=st.integers(2, 5),
    form=st.sampled_from(["continuous", "grid"]),
    data=st.data(),
)
def test_property_structured_equals_explicit(L, R, M, T, form, data):
    A = data.draw(st.sets(st.integers(1, T), min_size=1, max_size=T - 1))
    spec = RACSpec(L, R, M)
    part = make_partition(T, sorted(A))
    explicit = network_mincut(build_network(spec, T, form=form), part)
    assert rac_mincut(spec, T, part, form=form).value == explicit.value


def test_lawler_hyperedge_is_cheaper_than_a_hub_node():
    # A 5-leg copy tensor (dimension 2) whose members are pinned to both sides by dimension-64 legs: splitting it
    # costs 2 once as a hyperedge, while a plain hub node must cut two of its dimension-2 bonds (4).
    tie = tn.CopyNode(5, 2)
    xs = [tn.Node(np.zeros((2, 64))) for _ in range(4)]
    for i, x in enumerate(xs):
        x[0] ^ tie[i]
    nodes = [tie] + xs
    tags = [NodeTag("tie", 1, 0, 0)] + [NodeTag("W_I", 1 if i < 2 else 2, 1, i) for i in range(4)]
    net = RACNetwork(RACSpec(1, 2, 2), 2, "grid", nodes, tags, [[tie[4], xs[0][1], xs[1][1]], [xs[2][1], xs[3][1]]], None)
    part = make_partition(2, "start-end")
    lawler = network_mincut(net, part)
    assert lawler.value == 2
    assert network_mincut(net, part, solver="networkx").value == 2
    hub = nx.Graph()
    for e in tn.get_all_nondangling(nodes):
        hub.add_edge(net.node_id(e.node1), net.node_id(e.node2), capacity=math.log(e.dimension))
    for t, legs in enumerate(net.input_edges, start=1):
        for e in legs:
            hub.add_edge(net.node_id(e.node1), part.side(t), capacity=math.log(e.dimension))
    assert math.isclose(nx.minimum_cut_value(hub.to_directed(), "A", "B"), math.log(4))


def test_grid_ties_use_lawler_gadgets_and_hub_never_beats_them():
    net = build_network(RACSpec(3, 3, 2), 4, form="grid")
    g = network_graph(net, "odd-even")
    ties = [i for i, tag in enumerate(net.tags) if tag.role == "tie" and len(net.nodes[i].edges) > 3]
    assert ties and all(i not in g for i in ties)
    assert all(g.has_edge(("tie", net.tags[i].time, "in"), ("tie", net.tags[i].time, "out")) for i in ties)
    # a hub-node graph can only over-count
    part = make_partition(4, "odd-even")
    hub = nx.Graph()
    for e in tn.get_all_nondangling(net.nodes):
        hub.add_edge(net.node_id(e.node1), net.node_id(e.node2), capacity=math.log(e.dimension))
    for t, legs in enumerate(net.input_edges, start=1):
        for e in legs:
            hub.add_edge(net.node_id(e.node1), part.side(t), capacity=math.log(e.dimension))
    assert nx.minimum_cut_value(hub.to_directed(), "A", "B") >= network_mincut(net, part).value.log2 * math.log(2) - 1e-9


@pytest.mark.parametrize("R,M,T", [(1, 2, 4), (3, 2, 4), (2, 2, 8), (5, 2, 6), (2, 3, 10), (7, 2, 2)])
def test_shallow_start_end_is_min_R_M_half(R, M, T):
    for form in ("continuous", "grid"):
        assert rac_mincut(RACSpec(1, R, M), T, form=form).value == min(R, M ** (T // 2))


@pytest.mark.parametrize("T", [2, 4, 6, 8, 12])
def test_depth2_start_end_with_wide_inputs_is_R_to_half_plus_one(T):
    # M so large that no input leg is worth cutting: the min-cut is the derived R^(T/2+1) (docs/theory.md, "Upper bounds"),
    # or, when B holds fewer input copies (sum_{j in B} n_j = C(T/2+1, 2)), one R bond above each of them
    expected = min(T // 2 + 1, math.comb(T // 2 + 1, 2))
    assert rac_mincut(RACSpec(2, 2, 2**20), T).value == ExactCount.power(2, expected)


def test_incommensurable_dimensions_certified_by_brackets():
    net = build_network(RACSpec(3, 2, 3), 4, form="grid")
    cut = network_mincut(net, "start-end")
    assert "brackets" in cut.certificate
    assert cut.value == rac_mincut(RACSpec(3, 2, 3), 4, form="grid").value
    assert set(cut.counts) <= {2, 3}


def test_long_start_end_structured_is_exact_and_compact():
    spec = RACSpec(4, 2, 2)
    cut = rac_mincut(spec, 1024)
    derived = ExactCount.power(2, math.comb(1024 // 2 + 3, 3))
    # at most the derived cut of all states handed over, at most cutting every input copy of B
    assert cut.value <= derived
    assert cut.value <= ExactCount.power(2, math.comb(512 + 3, 4))
    assert len(str(cut.value)) < 30 and cut.value.to_json() == {"value": "2^22632191", "log2": 22632191.0}
    # continuous >= grid (a tie can always replace cuts of its copies' legs) on a size both solve
    assert rac_mincut(spec, 16, form="grid").value <= rac_mincut(spec, 16).value


def test_output_leg_attached_to_neither_side():
    for K in (1, 3):
        assert rac_mincut(RACSpec(2, 2, 2, outputs=K), 4).value == 8
        assert network_mincut(build_network(RACSpec(2, 2, 2, outputs=K), 4), "start-end").value == 8


def test_bad_arguments():
    net = build_network(RACSpec(2, 2, 2), 4)
    with pytest.raises(TnrnnError, match="solver"):
        network_mincut(net, solver="cplex")
    with pytest.raises(TnrnnError, match="form"):
        rac_mincut(RACSpec(2, 2, 2), 4, form="tree")
    with pytest.raises(TnrnnError, match="even"):
        rac_mincut(RACSpec(2, 2, 2), 5)
    with pytest.raises(TnrnnError):
        rac_mincut("spec", 4)


def test_grid_frontier_gives_up_clearly():
    spec = RACSpec(4, 2, 3)
    with pytest.raises(ResourceError, match="nodes"):
        rac_mincut(spec, 200, form="grid", max_states=1, fallback=False)
    full = rac_mincut(RACSpec(2, 2, 2), 12, form="grid")
    assert full.method == "structured" and full.stats["pareto_states_max"] > 1
    cut = rac_mincut(RACSpec(2, 2, 2), 12, form="grid", max_states=1)
    assert cut.method == "explicit-scipy" and "fallback" in cut.stats
    assert cut.value == full.value


def test_explicit_initial_state_changes_no_cut():
    from tnrnn.rac.recurrence import init_params_modp

    spec = RACSpec(3, 2, 3)
    for form in ("continuous", "grid"):
        net = build_network(spec, 6, init_params_modp(spec, 0, 101, init_state=True), form=form)
        assert any(tag.role == "init" and tag.time == 0 for tag in net.tags)
        assert network_mincut(net, "odd-even").value == rac_mincut(spec, 6, "odd-even", form=form).value


def test_cut_result_json():
    import json

    cut = network_mincut(build_network(RACSpec(2, 2, 3), 4, form="grid"), "start-end")
    data = json.loads(json.dumps(cut.to_json()))
    assert data["method"] == "explicit-scipy" and data["form"] == "grid"
    assert ExactCount.from_json(data["value"]) == cut.value
    assert math.prod(int(d) ** n for d, n in data["counts"].items()) == cut.value.exact()


@pytest.mark.parametrize("L,R,M,T,part", [(2, 2, 3, 24, "start-end"), (3, 3, 2, 10, "odd-even"), (4, 2, 3, 8, "1,2,7")])
def test_grid_frontier_equals_explicit_at_longer_T(L, R, M, T, part):
    spec = RACSpec(L, R, M)
    fast = rac_mincut(spec, T, part, form="grid", fallback=False)
    assert fast.method == "structured"
    assert fast.value == network_mincut(build_network(spec, T, form="grid"), part).value
    # the grid form never costs more than the continuous form or the trivial M^min(|A|,|B|)
    p = make_partition(T, part)
    assert fast.value <= rac_mincut(spec, T, part).value
    assert fast.value <= M ** min(len(p.A), len(p.B))


def test_huge_grids_refused_before_any_work(monkeypatch):
    from tnrnn.bounds import mincut as mincut_module

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the size check")

    for name in ("_tree_dp", "_grid_column", "build_network", "network_mincut"):
        if hasattr(mincut_module, name):
            monkeypatch.setattr(mincut_module, name, refuse)
    with pytest.raises(ResourceError, match=r"cells.*limit"):
        rac_mincut(RACSpec(2, 2, 2), 10**6)  # 2e6 (time, layer) cells
    with pytest.raises(ResourceError, match=r"cells.*limit"):
        rac_mincut(RACSpec(10**6, 2, 2), 4, form="grid")
    with pytest.raises(ResourceError, match="input copies"):
        rac_mincut(RACSpec(1000, 2, 2), 1000)  # 2^1995 input copies: bond counts beyond float log2


def test_grid_form_stops_before_its_int64_costs_could_be_misread():
    # Subtree R-bond counts of L = T = 60 pass 2^59: the DP used to clip them to "forbidden" silently.
    with pytest.raises(ResourceError, match="int64"):
        rac_mincut(RACSpec(60, 2, 3), 60, form="grid")
    # where the costs fit, nothing changes
    assert rac_mincut(RACSpec(20, 2, 3), 100, form="grid").value == ExactCount.product({2: 1, 3: 49})


def test_grid_form_work_limit_hands_over(monkeypatch):
    import tnrnn.bounds.mincut as mc

    monkeypatch.setattr(mc, "MAX_GRID_WORK", 1000)
    with pytest.raises(ResourceError, match="work limit"):
        rac_mincut(RACSpec(3, 2, 2), 40, form="grid", fallback=False)
    # with the fallback, the explicit grid network gives the same value as the unlimited DP
    cut = rac_mincut(RACSpec(2, 2, 3), 8, form="grid")
    assert "work limit" in cut.stats["fallback"]
    monkeypatch.setattr(mc, "MAX_GRID_WORK", 10**12)
    assert cut.value == rac_mincut(RACSpec(2, 2, 3), 8, form="grid").value


def _pareto_brute(X: np.ndarray) -> set:
    rows = {tuple(r) for r in X.tolist()}
    return {r for r in rows if not any(o != r and all(a <= b for a, b in zip(o, r)) for o in rows)}


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 5), st.integers(0, 2**40), st.booleans())
def test_pareto_filter_matches_brute_force(n, d, seed, wide):
    from tnrnn.bounds.mincut import _pareto

    rng = np.random.default_rng(seed)
    high = 2**40 if wide else 4  # wide values take the int64 path, small ones int32 (and many duplicates)
    X = rng.integers(0, high, (n, d), dtype=np.int64)
    got = _pareto(X)
    assert len(got) == len({tuple(r) for r in got.tolist()})  # duplicates kept once
    assert {tuple(r) for r in got.tolist()} == _pareto_brute(X)
