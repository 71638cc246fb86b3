"""ConvACs: bounds and certified ranks against brute force, and the published separation-rank statements."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.general.helpers import full_tensor, matricize, rank_q
from tnrnn.base.errors import ResourceError, TnrnnError
from tnrnn.bounds.cut_explicit import explicit_mincut
from tnrnn.bounds.gfp_network import random_tensors
from tnrnn.models.convac import build_convac, convac_bounds, convac_partition, convac_theory


def _brute_rank(net, left: list[str]) -> int:
    """Rank over Q of the coefficient tensor contracted independently (numpy.einsum on python ints)."""
    order = [net.input_edges[int(x[1:]) - 1] for x in left]
    order += [e for i, e in enumerate(net.input_edges, start=1) if f"x{i}" not in left]
    return rank_q(matricize(full_tensor(net.nodes, order), len(left)))


@pytest.mark.parametrize("partition,expected", [("left-right", 2), ("odd-even", 16), ("1,2,5,6", 4)])
def test_deep_convac_matches_brute_force(partition, expected):
    net = build_convac("deep", 8, 3, 2, seed=3)
    rep = convac_bounds(net, partition, weights="given")
    assert rep.bounds["mincut"] == expected and rep.lower == expected and rep.exact
    assert _brute_rank(net, convac_partition(8, partition)) == rep.given_rank == expected


@pytest.mark.parametrize("r", [1, 3, 5])
def test_shallow_convac_rank_is_at_most_its_width_for_every_partition(r):
    N, M = 5, 2
    net = build_convac("shallow", N, M, r, seed=1)
    for k in range(1, N):
        for side in itertools.combinations(range(1, N + 1), k):
            cut = explicit_mincut(net, [f"x{i}" for i in side])
            assert cut.value == min(r, M ** k, M ** (N - k)) and cut.value <= r
    for partition in ("left-right", "odd-even"):
        rep = convac_bounds(net, partition, weights="given")
        assert rep.lower == rep.bounds["mincut"] == min(r, M**2) and rep.exact
        assert _brute_rank(net, convac_partition(N, partition)) == rep.given_rank


@pytest.mark.parametrize("N", [4, 8, 16, 32, 64])
def test_deep_interleaved_grows_exponentially_while_contiguous_stays_at_the_top_width(N):
    # the top width is the narrowest link between the halves (a narrower lower level would be cheaper to cut)
    M, r0, top = 3, 3, 2
    levels = int(np.log2(N))
    net = build_convac("deep", N, M, (r0,) + (5,) * (levels - 2) + (top,), seed=None)
    assert explicit_mincut(net, convac_partition(N, "odd-even")).value == min(M, r0) ** (N // 2)
    assert explicit_mincut(net, convac_partition(N, "left-right")).value == top
    theory = {name: value for name, _, value, _ in convac_theory(net, "odd-even")}
    assert theory["interleaved windows"] == min(M, net.widths[0]) ** (N // 2)


def test_certified_interleaved_rank_reaches_min_M_r0_per_window():
    net = build_convac("deep", 8, 2, 3, seed=None)  # M = 2 < r_0 = 3: the input side limits every window
    rep = convac_bounds(net, "odd-even", seeds=[0, 1])
    assert rep.lower == rep.bounds["mincut"] == 2**4 and rep.exact


def test_representation_layer_is_shared():
    net = build_convac("deep", 4, 2, 2, seed=0)
    reps = [n.tensor for n, tags in zip(net.nodes, net.tags) if "rep" in tags]
    assert len(reps) == 4 and all(np.array_equal(reps[0], r) for r in reps)
    inet = net.to_indexed()
    drawn = random_tensors(inet, 101, 0)
    rep_ids = [i for i, t in enumerate(inet.tensors) if "rep" in t.tags]
    assert all(np.array_equal(drawn[rep_ids[0]], drawn[i]) for i in rep_ids)
    conv = [i for i, t in enumerate(inet.tensors) if "conv0" in t.tags]
    assert not np.array_equal(drawn[conv[0]], drawn[conv[1]])


def test_features_below_channels_limit_the_rank():
    net = build_convac("deep", 4, 3, 3, features=2, seed=None)
    rep = convac_bounds(net, "odd-even")
    assert rep.bounds["mincut"] == 4 and rep.lower == 4


def test_bad_arguments():
    with pytest.raises(TnrnnError, match="2\\^k"):
        build_convac("deep", 6, 2, 2)
    with pytest.raises(TnrnnError, match="kind"):
        build_convac("wide", 4, 2, 2)
    with pytest.raises(TnrnnError, match="width"):
        build_convac("deep", 8, 2, (2, 2))
    with pytest.raises(ResourceError, match="inputs"):
        build_convac("shallow", 10**6, 2, 2)
    with pytest.raises(TnrnnError, match="side A"):
        convac_partition(4, "1,2,3,4")
    with pytest.raises(TnrnnError, match="partition"):
        convac_partition(4, "halves")


def test_convac_exports_contract_to_the_brute_force_tensor():
    import opt_einsum as oe

    from tnrnn.network.interop import to_einsum

    for kind, N in (("shallow", 4), ("deep", 4)):
        net = build_convac(kind, N, 2, 3, seed=5)
        eq, arrays = to_einsum(net)
        want = full_tensor(net.nodes, net.input_edges)
        assert np.array_equal(oe.contract(eq, *[a.astype(object) for a in arrays]), want)
        pytest.importorskip("quimb")
        from tnrnn.network.interop import to_quimb

        got = to_quimb(net).contract(output_inds=[f"x{i}" for i in range(1, N + 1)], optimize="greedy").data
        assert np.allclose(np.asarray(got, dtype=float), want.astype(float))
