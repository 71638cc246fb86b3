"""Interop: quimb, einsum and networkx views of RAC and user networks agree with tnrnn's own contraction."""

from __future__ import annotations

import jax
import numpy as np
import opt_einsum as oe
import pytest
import tensornetwork as tn
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.general.helpers import full_tensor, mps
from tnrnn.base.errors import TnrnnError
from tnrnn.network.build import build_network
from tnrnn.network.evaluate import network_forward
from tnrnn.network.indexed import as_network, from_einsum
from tnrnn.network.interop import from_quimb, to_einsum, to_networkx, to_quimb
from tnrnn.rac.recurrence import init_params
from tnrnn.rac.spec import RACSpec


def _rac_case(L, R, M, T, form, seed):
    spec = RACSpec(L, R, M)
    params = init_params(spec, jax.random.PRNGKey(seed))
    net = build_network(spec, T, params, form=form)
    xs = np.random.default_rng(seed).integers(0, M, (3, T))
    y = np.asarray(network_forward(net, x=xs))[:, 0]
    return net, xs, y


def _entries(full: np.ndarray, opened: tuple, xs: np.ndarray) -> np.ndarray:
    """y for each sequence read off the full tensor: every leg of step t takes the symbol x_t, output 0."""
    steps = [0 if ix == "y" else int(ix[1:].split("_")[0]) for ix in opened]
    return np.array([full[tuple(0 if t == 0 else row[t - 1] for t in steps)] for row in xs])


@settings(max_examples=8, deadline=None)
@given(L=st.integers(1, 3), R=st.integers(1, 3), M=st.integers(1, 3), T=st.integers(1, 4),
       form=st.sampled_from(["continuous", "grid"]), seed=st.integers(0, 100))
def test_property_quimb_and_einsum_contractions_equal_network_forward(L, R, M, T, form, seed):
    pytest.importorskip("quimb")
    # the full tensor has M entries per open leg (one per input copy in the continuous form): C(6, 3) = 20
    # legs of 3 at L = 3, T = 4 would be 28 GB, so only tensors of at most 2^16 entries are formed
    legs = T if form == "grid" else RACSpec(L, R, M).total_input_copies(T)
    assume(M ** legs <= 2**16)
    net, xs, y = _rac_case(L, R, M, T, form, seed)
    opened = as_network(net).open
    # a plain path (cotengra's default search forks a process pool, which a test process must not do)
    # (with size-1 indices, quimb's greedy path on the explicit copy chains forms outer products of more than 52
    # indices, which numpy's einsum cannot name: those cases use the hyper-index export)
    q = to_quimb(net, hyper=min(R, M) == 1)
    full_q = np.asarray(q.contract(output_inds=opened, optimize="greedy").data)
    eq, arrays = to_einsum(net)
    full_e = oe.contract(eq, *arrays)
    scale = max(1.0, float(np.abs(y).max()))
    assert np.allclose(_entries(full_q, opened, xs), y, rtol=1e-4, atol=1e-5 * scale)
    assert np.allclose(_entries(full_e, opened, xs), y, rtol=1e-4, atol=1e-5 * scale)


def test_einsum_works_with_cotengra():
    ctg = pytest.importorskip("cotengra")
    nodes = mps(6, 2, 3, np.random.default_rng(0))
    eq, arrays = to_einsum(nodes)
    tree = ctg.array_contract_tree(*_ctg_args(eq, arrays))
    legs = [n[1] if k else n[0] for k, n in enumerate(nodes)]
    assert np.array_equal(tree.contract(arrays), full_tensor(nodes, legs).astype(np.int64))


def _ctg_args(eq, arrays):
    lhs, out = eq.split("->")
    return [tuple(t) for t in lhs.split(",")], tuple(out), {s: d for t, a in zip(lhs.split(","), arrays)
                                                             for s, d in zip(t, a.shape)}


def test_quimb_round_trip_keeps_tensors_tags_and_hyper_indices():
    pytest.importorskip("quimb")
    net = from_einsum("za,zb,zc,z->abc", [np.arange(6.0).reshape(2, 3) + k for k in range(3)] + [np.ones(2)])
    q = to_quimb(net, hyper=True)
    back = from_quimb(q, open=net.open)
    assert back.open == ("a", "b", "c") and back.members()["z"] == [0, 1, 2, 3]
    assert {t.name for t in back.tensors} == {"T0", "T1", "T2", "T3"}
    eq, arrays = to_einsum(back)
    assert np.allclose(oe.contract(eq, *arrays), np.einsum("za,zb,zc,z->abc", *[t.data for t in net.tensors]))


@pytest.mark.parametrize("form, left", [("grid", ["x1", "x2", "x3"]), ("continuous", ["x1_1", "x1_2", "x2_1"])])
def test_quimb_export_keeps_every_open_leg_and_quimb_contracts_it(form, left):
    # A RAC's grid form ties each step's input copies into one open hyper-index: quimb counted those as inner,
    # so the round trip kept only ('y', 'x<T>') open and quimb's contract() refused the network.
    from tnrnn.bounds.cut_explicit import explicit_mincut

    net, xs, y = _rac_case(2, 2, 2, 6, form, 3)
    inet = as_network(net)
    q = to_quimb(net)
    assert set(q.outer_inds()) == set(inet.open)
    full = np.asarray(q.contract().transpose(*inet.open).data)  # quimb's own contraction, no output_inds given
    eq, arrays = to_einsum(net)
    ref = oe.contract(eq, *arrays)
    assert np.allclose(full, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())
    if form == "grid":  # and the recurrence's values on symbol sequences (an independent reference)
        assert np.allclose(_entries(full, inet.open, xs), y, rtol=1e-4)
    back = from_quimb(q)
    assert set(back.open) == set(inet.open)
    eq2, arrays2 = to_einsum(back)
    assert np.allclose(oe.contract(eq2, *arrays2), np.transpose(full, [inet.open.index(i) for i in back.open]),
                       rtol=1e-4, atol=1e-5 * np.abs(ref).max())
    # the copy chains are read back as copy tensors: the same min-cut as the network's own
    assert explicit_mincut(back, left).value == explicit_mincut(net, left).value
    # hyper=True keeps quimb hyper-indices: the open hyper-legs must then be named when contracting
    assert len(to_quimb(net, hyper=True).tensors) < len(q.tensors)


def test_networkx_graph_has_tags_and_hyper_nodes():
    net = build_network(RACSpec(2, 2, 2), 3, form="grid")
    g = to_networkx(net)
    # the network's own graph: copy and tie nodes are tensors, every bond an edge, open legs their own nodes
    assert {k for _, k in g.nodes(data="kind")} == {"tensor", "open"}
    assert sum(1 for _, k in g.nodes(data="kind") if k == "tensor") == len(net.nodes)
    assert g.number_of_edges() == len(net.edges())
    w_i = [n for n, tags in g.nodes(data="tags") if tags and "W_I[1]" in tags]
    assert len(w_i) == sum(net.input_copies())
    # an einsum hyper-index gets its own node, joined to every carrier
    h = to_networkx(("za,zb,zc->abc", [(2, 3)] * 3))
    assert h.degree(("hyper", "z")) == 3 and h.nodes[("hyper", "z")]["dim"] == 2


def test_copy_nodes_become_hyper_indices():
    c = tn.CopyNode(3, 2)
    a, b = tn.Node(np.array([1.0, 2.0])), tn.Node(np.array([3.0, 5.0]))
    a[0] ^ c[0]
    b[0] ^ c[1]
    eq, arrays = to_einsum([a, b, c])
    assert eq.count(",") == 1 and np.allclose(oe.contract(eq, *arrays), [3.0, 10.0])


def test_structure_only_network_has_no_values():
    net = from_einsum("ab->ab", [(2, 2)])
    with pytest.raises(TnrnnError, match="no values"):
        to_einsum(net)


def test_separation_bounds_of_a_quimb_network_selected_by_tags():
    qtn = pytest.importorskip("quimb.tensor")
    from tnrnn.bounds.general import separation_bounds

    mps = qtn.MPS_rand_state(8, bond_dim=3, phys_dim=2, seed=0)
    rep = separation_bounds(mps, ["I0", "I1", "I2", "I3"])
    assert rep.left == ("k0", "k1", "k2", "k3")
    assert rep.bounds["mincut"] == 3 and rep.lower == 3 and rep.exact


def test_to_nodes_contracts_like_the_einsum_and_can_be_drawn():
    from tnrnn.bounds.cut_explicit import explicit_mincut
    from tnrnn.draw.generic import draw
    from tnrnn.network.interop import to_nodes

    rng = np.random.default_rng(0)
    # a hyper-index z over four tensors, an index x summed inside the last one, open legs a..d
    eq = "za,zb,zc,zxd->abcd"
    arrays = [rng.standard_normal((2, 3)) for _ in range(3)] + [rng.standard_normal((2, 2, 4))]
    nodes = to_nodes((eq, arrays))
    legs = {e.name: e for n in nodes for e in n.edges if e.is_dangling()}
    assert sorted(legs) == ["a", "b", "c", "d"]
    out = tn.contractors.greedy(nodes, output_edge_order=[legs[k] for k in "abcd"])
    assert np.allclose(np.asarray(out.tensor), oe.contract(eq, *arrays))
    nodes = to_nodes((eq, arrays))
    cut = explicit_mincut(nodes, ["T0"])
    assert cut.value == 2
    assert draw(nodes, left=["T0"], cut=cut).axes
