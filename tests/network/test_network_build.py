"""The tensor-network builder (tnrnn.network.build): counts, tags, the shallow grid form as an MPS, errors."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import jax
import numpy as np
import pytest
import tensornetwork as tn
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.network.build import ROLES, build_network, count_nodes
from tnrnn.rac.recurrence import init_params
from tnrnn.rac.spec import RACSpec

specs = st.builds(RACSpec, st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2))


@settings(max_examples=30, deadline=None)
@given(specs, st.integers(1, 7), st.sampled_from(["continuous", "grid"]))
def test_input_copies_follow_the_lattice_path_formula(spec, T, form):
    if math.comb(T + spec.L - 1, spec.L) > 2000:
        return
    net = build_network(spec, T, form=form)
    L = spec.L
    n = [math.comb(T - j + L - 1, L - 1) for j in range(1, T + 1)]  # docs/theory.md, "Recurrent Arithmetic Circuits"
    assert net.input_copies() == n == spec.input_copies(T)
    stats = net.stats()
    assert stats["input_copies"] == n
    assert stats["total_input_copies"] == sum(n) == math.comb(T + L - 1, L)
    # Open legs: one per copy (continuous) or one per step (grid), plus the output leg.
    legs = [len(es) for es in net.input_edges]
    assert legs == (n if form == "continuous" else [1] * T)
    assert stats["open_legs"] == sum(legs) + 1
    dangling = tn.get_all_dangling(net.nodes)
    assert len(dangling) == stats["open_legs"]
    assert sorted(e.dimension for e in dangling) == sorted([spec.M] * sum(legs) + [spec.K])


@settings(max_examples=20, deadline=None)
@given(specs, st.integers(1, 6), st.sampled_from(["continuous", "grid"]), st.booleans())
def test_node_counts_and_tags(spec, T, form, h0):
    if math.comb(T + spec.L - 1, spec.L) > 2000:
        return
    params = init_params(spec, jax.random.PRNGKey(0), init_state=h0)
    net = build_network(spec, T, params, form=form)
    assert len(net.nodes) == count_nodes(spec, T, form, init_state=h0) == net.stats()["nodes"]
    assert len(net.tags) == len(net.nodes)
    roles = Counter(tag.role for tag in net.tags)
    assert set(roles) <= set(ROLES)
    L = spec.L
    # One instance of h[t,l] per monotone lattice path from (t,l) to (T,L).
    instances = sum(math.comb(T - t + L - l, L - l) for t in range(1, T + 1) for l in range(1, L + 1))
    assert roles["copy"] == roles["W_I"] == instances
    first_step = sum(math.comb(T - 1 + L - l, L - l) for l in range(1, L + 1))
    assert roles["init"] == first_step
    assert roles["W_H"] == instances - (0 if h0 else first_step)
    assert roles["W_O"] == 1
    assert roles["tie"] == (sum(1 for c in spec.input_copies(T) if c > 1) if form == "grid" else 0)
    for node, tag in zip(net.nodes, net.tags):
        assert net.tag(node) == tag
        assert 0 <= tag.time <= T and 0 <= tag.layer <= L
        if tag.role == "W_I":
            assert node.tensor.shape == ((spec.R, spec.M) if tag.layer == 1 else (spec.R, spec.R))
            np.testing.assert_array_equal(node.tensor, np.asarray(params.W_I[tag.layer - 1]))
        if tag.role == "W_H":
            np.testing.assert_array_equal(node.tensor, np.asarray(params.W_H[tag.layer - 1]))
    # Copy indices of a (role, time, layer) run 0..n-1.
    groups = defaultdict(list)
    for tag in net.tags:
        groups[(tag.role, tag.time, tag.layer)].append(tag.copy)
    assert all(sorted(c) == list(range(len(c))) for c in groups.values())


@pytest.mark.parametrize("T", [1, 2, 5, 9])
def test_grid_form_of_a_shallow_rac_is_an_mps(T):
    spec = RACSpec(1, 3, 4, 2)
    net = build_network(spec, T, form="grid")
    # Group the nodes into sites by time (the all-ones init belongs to step 1).
    site = {id(node): max(tag.time, 1) for node, tag in zip(net.nodes, net.tags)}
    between = Counter()
    for e in tn.get_all_nondangling(net.nodes):
        a, b = site[id(e.node1)], site[id(e.node2)]
        if a != b:
            assert abs(a - b) == 1, "bonds only join neighbouring sites"
            assert e.dimension == spec.R
            between[min(a, b)] += 1
    assert between == Counter({t: 1 for t in range(1, T)}), "one bond of dimension R between consecutive sites"
    open_per_site = Counter(site[id(e.node1)] for e in tn.get_all_dangling(net.nodes) if e.dimension == spec.M)
    assert open_per_site == Counter({t: 1 for t in range(1, T + 1)}), "one input leg per site"
    assert net.output_edge.dimension == spec.K and site[id(net.output_edge.node1)] == T
    assert not any(tag.role == "tie" for tag in net.tags)


def test_deep_grid_form_ties_every_copy_of_a_step_to_one_leg():
    spec = RACSpec(3, 2, 3)
    net = build_network(spec, 4, form="grid")
    for t, legs in enumerate(net.input_edges, start=1):
        assert len(legs) == 1
        n = spec.input_copies(4)[t - 1]
        owner = legs[0].node1
        if n > 1:
            assert net.tag(owner).role == "tie" and len(owner.edges) == n + 1
        else:
            assert net.tag(owner).role == "W_I"


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: build_network(RACSpec(2, 2, 2), 0), TnrnnError, "T must be an integer >= 1"),
        (lambda: build_network(RACSpec(2, 2, 2), -3), TnrnnError, "T must be an integer >= 1"),
        (lambda: build_network(RACSpec(2, 2, 2), 2.5), TnrnnError, "T must be an integer"),
        (lambda: build_network(RACSpec(2, 2, 2), 3, form="tree"), TnrnnError, "form must be one of"),
        (lambda: build_network((2, 2, 2), 3), TnrnnError, "spec must be a RACSpec"),
        (lambda: build_network(RACSpec(2, 2, 2), 3, init_params(RACSpec(1, 2, 2), jax.random.PRNGKey(0))),
         TnrnnError, "params are for"),
        (lambda: build_network(RACSpec(4, 2, 2), 400), ResourceError, "nodes"),
        (lambda: build_network(RACSpec(2, 2, 2), 10, max_nodes=50), ResourceError, "limit 50"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@settings(max_examples=40, deadline=None)
@given(specs, st.integers(1, 40), st.sampled_from(["continuous", "grid"]), st.booleans())
def test_count_nodes_closed_form_equals_the_sum_over_instances(spec, T, form, h0):
    L = spec.L
    want = 1
    for t in range(1, T + 1):
        for l in range(1, L + 1):
            want += math.comb(T - t + L - l, L - l) * (4 if (t == 1 and h0) else 3)
        want += form == "grid" and math.comb(T - t + L - 1, L - 1) > 1
    assert count_nodes(spec, T, form, init_state=h0) == want


def test_huge_requests_are_refused_at_once():
    # The node count used to be a T x L loop (T = 10**8 hung) and an exact binomial (T = L = 10**6 took minutes).
    assert count_nodes(RACSpec(1, 2, 2), 10**9) == 3 * 10**9 + 1
    with pytest.raises(ResourceError, match=r"~10\^602057 nodes"):
        build_network(RACSpec(10**6, 2, 2), 10**6)
    with pytest.raises(ResourceError, match="more than an array can index"):
        build_network(RACSpec(1, 10**12, 2), 2)


def test_structure_only_network_allocates_no_weights():
    # R = 10**5: dense zero weights would need 75 GiB each; the structure needs none.
    net = build_network(RACSpec(2, 10**5, 3), 2)
    assert net.stats()["nodes"] == count_nodes(RACSpec(2, 10**5, 3), 2)
    for node, tag in zip(net.nodes, net.tags):
        if tag.role in ("W_I", "W_H", "W_O"):
            assert node.tensor.strides == (0, 0)
