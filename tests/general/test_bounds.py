"""separation_bounds on user networks: min-cut and certified rank against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import tensornetwork as tn
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.general.helpers import brute_mincut, full_tensor, matricize, mps, peps, rank_p, rank_q
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.bounds.general import NetworkRankReport, separation_bounds
from tnrnn.bounds.gfp_network import Plan, random_tensors
from tnrnn.network.indexed import as_network, from_einsum
from tnrnn.rank import RankReport


def test_mps_middle_cut_is_bond_and_certified():
    rng = np.random.default_rng(1)
    nodes = mps(8, 2, 3, rng)
    rep = separation_bounds(nodes, nodes[:4], weights="given")
    assert isinstance(rep, RankReport) and isinstance(rep, NetworkRankReport)
    assert rep.upper == 3 and rep.bounds["mincut"] == 3 and rep.lower == 3 and rep.exact
    assert len(rep.cut.edges) == 1 and rep.cut.edges[0].dimension == 3 and not rep.cut.edges[0].is_dangling()
    legs = [n[1] if k else n[0] for k, n in enumerate(nodes)]  # physical legs in site order
    brute = rank_q(matricize(full_tensor(nodes, legs), 4))
    assert brute == 3 and rep.given_rank == brute and rep.given_rank_kind.startswith("exact")


def test_peps_column_cut():
    rng = np.random.default_rng(2)
    grid = peps(3, 3, 2, 2, rng)
    nodes = list(grid.values())
    left = [grid[r, 0] for r in range(3)]
    rep = separation_bounds(nodes, left, weights="given")
    assert rep.bounds["mincut"] == 8 and rep.lower == 8 and rep.exact
    assert sorted(e.dimension for e in rep.cut.edges) == [2, 2, 2]
    order = [grid[r, c][0] for c in range(3) for r in range(3)]  # first column's physical legs first
    assert rank_q(matricize(full_tensor(nodes, order), 3)) == rep.given_rank == 8


@pytest.mark.parametrize("left,expected", [(["x0", "x1"], 2), (["x0", "x2"], 4)])
def test_tree_network_contiguous_and_interleaved(left, expected):
    # a binary tree: leaves (phys 3) -> pairs (bond 2) -> root; contiguous halves cut the root bond once
    leaves = [tn.Node(np.arange(6).reshape(3, 2) % 5 + k, name=f"leaf{k}") for k in range(4)]
    mids = [tn.Node(np.arange(8).reshape(2, 2, 2) % 3 + k, name=f"mid{k}") for k in range(2)]
    root = tn.Node(np.array([[1, 2], [3, 5]]), name="root")
    for k in range(4):
        leaves[k][1] ^ mids[k // 2][k % 2]
    mids[0][2] ^ root[0]
    mids[1][2] ^ root[1]
    for k, leaf in enumerate(leaves):
        leaf[0].set_name(f"x{k}")
    rep = separation_bounds(leaves + mids + [root], left, seeds=[0, 1])
    assert rep.bounds["mincut"] == expected and rep.lower == expected and rep.exact
    nets = as_network(leaves + mids + [root])
    side = {ix: 0 if ix in {nets.aliases[n] for n in left} else 1 for ix in nets.open}
    assert brute_mincut([t.inds for t in nets.tensors], nets.sizes, side) == expected


def test_einsum_with_hyper_index_is_a_cp_network():
    # CP rank r: a hyper-index z joins N factor matrices; every cut costs r once (Lawler gadget)
    r, N = 3, 4
    eq = ",".join(f"z{chr(97 + k)}" for k in range(N)) + ",z->" + "".join(chr(97 + k) for k in range(N))
    rep = separation_bounds((eq, [(r, 4)] * N + [(r,)]), ["a", "c"])
    assert rep.bounds["mincut"] == 3 and rep.lower == 3 and rep.exact
    assert [e.index for e in rep.cut.edges] == ["z"] and rep.cut.edges[0].edge is None


def test_shared_tensors_use_one_draw():
    net = from_einsum("ab,bc->ac", [(3, 3), (3, 3)])
    arrays = random_tensors(net, 101, 0)
    assert not np.array_equal(arrays[0], arrays[1])
    rep = separation_bounds(("ab,bc->ac", [(3, 3), (3, 3)]), ["a"], shared=[["T0", "T1"]])
    assert rep.lower == 3
    from tnrnn.bounds.general import _apply_marks

    marked = _apply_marks(net, [["T0", "T1"]], None)
    same = random_tensors(marked, 101, 0)
    assert np.array_equal(same[0], same[1])


def test_budget_refusal_names_the_remaining_bound():
    rng = np.random.default_rng(0)
    nodes = mps(24, 2, 2, rng)
    with pytest.raises(ResourceError, match=r"min-cut upper bound remains: 2"):
        separation_bounds(nodes, nodes[:12], budget_mb=1, sketch=False)


def test_sketch_certifies_a_network_whose_matricisation_is_over_the_budget():
    rng = np.random.default_rng(0)
    nodes = mps(40, 2, 3, rng)  # a 2^20 x 2^20 matricisation
    rep = separation_bounds(nodes, nodes[:20], budget_mb=1, weights="given")
    assert rep.lower == 3 and rep.exact and "sketch" in rep.certificate.method
    run = rep.certificate.runs[0]
    assert run.rows * run.cols < 2**20 and rep.given_rank is None and rep.notes


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 3))
def test_property_sketch_rank_never_exceeds_the_full_rank(seed, bond):
    from tnrnn.bounds.general import _keep

    rng = np.random.default_rng(seed)
    nodes = mps(6, 2, bond, rng)
    net = as_network(nodes)
    rows, cols = net.open[:3], net.open[3:]
    keep_r, keep_c = _keep(net, rows, 2, 4), _keep(net, cols, 4, 4)
    plan = Plan(net, keep_r, keep_c, sketched=[ix for ix in net.open if ix not in keep_r + keep_c])
    p = 1_048_573
    vectors = {ix: rng.integers(0, p, 2) for ix in plan.sketched}
    sketch = plan.matrix(random_tensors(net, p, seed), p, vectors)
    full = Plan(net, rows, cols).matrix(random_tensors(net, p, seed), p)
    assert sketch.shape == (2, 4) and rank_p(sketch, p) <= rank_p(full, p) <= bond
    # the sketch equals the full tensor contracted with the vectors (numpy.einsum on python ints)
    tensor = full.astype(object).reshape([2] * 6)
    letters = "abcdef"
    kept = [letters[net.open.index(ix)] for ix in keep_r + keep_c]
    eq = letters + "".join("," + letters[net.open.index(ix)] for ix in plan.sketched) + "->" + "".join(kept)
    want = np.einsum(eq, tensor, *[vectors[ix].astype(object) for ix in plan.sketched]) % p
    assert np.array_equal(want.reshape(2, 4), sketch)


def test_bad_input():
    with pytest.raises(TnrnnError, match="cannot read"):
        separation_bounds(42, ["a"])
    with pytest.raises(TnrnnError, match="names no open leg"):
        separation_bounds(("ab,bc->ac", [(2, 3), (3, 2)]), ["q"])
    with pytest.raises(TnrnnError, match="weights"):
        separation_bounds(("ab,bc->ac", [(2, 3), (3, 2)]), ["a"], weights="float")
    with pytest.raises(TnrnnError, match="primes"):
        separation_bounds(("ab,bc->ac", [(2, 3), (3, 2)]), ["a"], primes=[100])


def test_float_data_rank_is_labelled_an_estimate():
    rep = separation_bounds(("ab,bc->ac", [np.full((3, 2), 0.5), np.ones((2, 3)) / 3]), ["a"], weights="given")
    assert rep.given_rank == 1 and "floating-point" in rep.given_rank_kind
    assert rep.lower == 2 and rep.exact


@st.composite
def small_networks(draw):
    """A random connected network of 2..5 tensors over named indices, some hyper, some open."""
    n = draw(st.integers(2, 5))
    n_ix = draw(st.integers(n, n + 3))
    sizes = {f"i{k}": draw(st.integers(1, 3)) for k in range(n_ix)}
    tensors = [set() for _ in range(n)]
    for k in range(1, n):  # a spanning tree keeps it connected
        ix = f"i{k - 1}"
        tensors[k].add(ix)
        tensors[draw(st.integers(0, k - 1))].add(ix)
    for k in range(n - 1, n_ix):
        for t in draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=3)):
            tensors[t].add(f"i{k}")
    carried = [ix for ix in sizes if any(ix in t for t in tensors)]
    open_ix = draw(st.lists(st.sampled_from(carried), min_size=2, max_size=4, unique=True))
    left = draw(st.lists(st.sampled_from(open_ix), min_size=1, max_size=len(open_ix) - 1, unique=True))
    inds = [tuple(sorted(t)) for t in tensors]
    return inds, {ix: sizes[ix] for ix in carried}, open_ix, left


@settings(max_examples=40, deadline=None)
@given(small_networks(), st.integers(0, 10**6))
def test_property_random_networks_against_brute_force(case, seed):
    inds, sizes, open_ix, left = case
    eq = ",".join("".join(chr(97 + int(ix[1:])) for ix in t) for t in inds)
    sym = {ix: chr(97 + int(ix[1:])) for ix in sizes}
    eq += "->" + "".join(sym[ix] for ix in open_ix)
    shapes = [tuple(sizes[ix] for ix in t) for t in inds]
    net = from_einsum(eq, shapes)
    left_sym = [sym[ix] for ix in left]
    rep = separation_bounds(net, left_sym, seeds=[seed])
    side = {sym[ix]: (0 if ix in left else 1) for ix in open_ix}
    # the min-cut equals an exhaustive search over tensor sides
    assert rep.bounds["mincut"] == brute_mincut([t.inds for t in net.tensors], net.sizes, side)
    # the certified rank equals an independent contraction of the same GF(p) tensors (numpy.einsum, python ints)
    p = rep.certificate.primes[0]
    arrays = [a.astype(object) for a in random_tensors(net, p, seed)]
    full = np.einsum(eq, *arrays)
    rows = [sym[ix] for ix in open_ix if ix in left]
    perm = [eq.split("->")[1].index(s) for s in rows + [s for s in eq.split("->")[1] if s not in rows]]
    assert rep.lower == rank_p(matricize(np.transpose(full, perm), len(rows)), p)
    assert rep.lower <= rep.upper


def test_plan_matches_opt_einsum_over_the_integers():
    rng = np.random.default_rng(3)
    nodes = mps(5, 2, 3, rng)
    net = as_network(nodes)
    plan = Plan(net, net.open[:2], net.open[2:])
    exact = plan.matrix([t.data for t in net.tensors], None)
    legs = [n[1] if k else n[0] for k, n in enumerate(nodes)]
    assert np.array_equal(exact, matricize(full_tensor(nodes, legs), 2))


@settings(max_examples=25, deadline=None)
@given(small_networks())
def test_property_networkx_max_flow_cross_checks_scipy(case):
    from tnrnn.bounds.cut_explicit import explicit_mincut

    inds, sizes, open_ix, left = case
    sym = {ix: chr(97 + int(ix[1:])) for ix in sizes}
    eq = ",".join("".join(sym[ix] for ix in t) for t in inds) + "->" + "".join(sym[ix] for ix in open_ix)
    shapes = [tuple(sizes[ix] for ix in t) for t in inds]
    a = explicit_mincut((eq, shapes), [sym[ix] for ix in left], solver="scipy")
    b = explicit_mincut((eq, shapes), [sym[ix] for ix in left], solver="networkx")
    assert a.value == b.value and b.method == "explicit-networkx"


@pytest.mark.parametrize("L,R,M,T,part", [(1, 3, 2, 6, "start-end"), (2, 2, 3, 4, "odd-even"), (3, 2, 2, 4, "1,4")])
@pytest.mark.parametrize("form", ["continuous", "grid"])
def test_general_mincut_of_a_rac_equals_the_structured_one(L, R, M, T, part, form):
    from tnrnn.bounds.cut_explicit import explicit_mincut
    from tnrnn.bounds.mincut import rac_mincut
    from tnrnn.network.build import build_network
    from tnrnn.rac.partition import make_partition
    from tnrnn.rac.spec import RACSpec

    spec = RACSpec(L, R, M)
    p = make_partition(T, part)
    net = build_network(spec, T, form=form)
    cut = explicit_mincut(net, [f"x{t}" for t in p.A], [f"x{t}" for t in p.B])
    from tnrnn.bounds.cut_explicit import split_open
    from tnrnn.network.indexed import from_rac

    side = split_open(from_rac(net), [f"x{t}" for t in p.A], [f"x{t}" for t in p.B])
    assert "y" not in side and len(side) == sum(net.input_copies() if form == "continuous" else [1] * T)
    assert cut.value == rac_mincut(spec, T, part, form=form).value


@pytest.mark.parametrize("L,R,M,T,expected", [(2, 2, 2, 6, 8), (3, 2, 3, 4, 6), (2, 3, 3, 4, 9), (1, 3, 3, 6, 3)])
def test_general_certificate_of_a_rac_grid_network_reproduces_the_one_hot_anchors(L, R, M, T, expected):
    # Exact generic one-hot Start-End ranks (docs/theory.md); the general path knows nothing of RACs: weights
    # shared over time are groups, the all-ones initial vectors are fixed, the output leg is free.
    from tnrnn.network.build import build_network
    from tnrnn.rac.spec import RACSpec

    net = build_network(RACSpec(L, R, M), T, form="grid")
    rep = separation_bounds(net, [f"x{t}" for t in range(1, T // 2 + 1)], seeds=[0, 1])
    assert rep.lower == expected
    assert rep.lower <= rep.upper


def test_fraction_data_rank_is_exact():
    from fractions import Fraction

    a = np.array([[Fraction(1, 2), Fraction(1, 3)], [Fraction(1, 4), Fraction(1, 6)]], dtype=object)
    rep = separation_bounds(("ab,bc->ac", [a, np.eye(2, dtype=np.int64)]), ["a"], weights="given")
    assert rep.given_rank == 1 and rep.given_rank_kind.startswith("exact") and rep.lower == 2


def test_fixed_tensors_keep_their_values():
    # a fixed rank-1 middle matrix caps the rank at 1, whatever the random outer weights
    rep = separation_bounds(("ab,bc,cd->ad", [(3, 3), np.ones((3, 3), dtype=np.int64), (3, 3)]), ["a"],
                            fixed=["T1"])
    assert rep.lower == 1 and rep.upper == 3
    with pytest.raises(TnrnnError, match="non-integer"):
        separation_bounds(("ab,bc->ac", [(2, 2), np.full((2, 2), 0.5)]), ["a"], fixed=["T1"])


def test_cut_edges_have_one_type_for_every_kind_of_network():
    # tensornetwork nodes, a quimb network and an einsum equation of the same MPS: the same CutEdge records
    pytest.importorskip("quimb")
    from tnrnn.bounds.mincut import CutEdge
    from tnrnn.network.interop import to_einsum, to_quimb

    nodes = mps(6, 2, 3, np.random.default_rng(1))
    left = [nodes[0][0], nodes[1][1], nodes[2][1]]
    reps = [separation_bounds(nodes, left=left)]
    index = [e.index for e in reps[0].cut.edges]
    open_legs = as_network(nodes).select_open(left)
    reps.append(separation_bounds(to_quimb(nodes), left=list(open_legs)))
    eq, arrays = to_einsum(nodes)
    names = dict(zip(as_network(nodes).open, eq.split("->")[1]))
    reps.append(separation_bounds((eq, arrays), left=[names[ix] for ix in open_legs]))
    for rep in reps:
        assert rep.cut.edges and all(isinstance(e, CutEdge) for e in rep.cut.edges)
        assert [e.dimension for e in rep.cut.edges] == [3] and all(len(e.tensors) == 2 for e in rep.cut.edges)
    assert reps[0].cut.edges[0].edge is not None and reps[1].cut.edges[0].edge is None
    assert reps[1].cut.edges[0].index == index[0]  # the quimb export keeps the index names
