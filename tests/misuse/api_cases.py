"""The Python API misuse corpus: each case builds its input and returns the call that must raise ``TnrnnError``.

Inputs are built in the runner's process before the limits apply (see :mod:`tests.misuse.api_runner`); the
returned call is what must refuse, within a second of CPU and 500 MB.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

GOOD_EQ = "ab,bc->ac"
GOOD_SHAPES = [(2, 3), (3, 2)]


def _bounds(tn, left=("a",), **kw) -> Callable[[], None]:
    def call() -> None:
        from tnrnn import separation_bounds

        separation_bounds(tn, list(left) if isinstance(left, tuple) else left, **kw)
    return call


def _given(array) -> Callable[[], Callable[[], None]]:
    return lambda: _bounds(("ab->ab", [array]), weights="given")


def _nodes(n: int) -> Callable[[], None]:
    import tensornetwork as tn

    nodes = [tn.Node(np.ones((2, 2)), name=f"n{k}") for k in range(n)]
    for a, b in zip(nodes, nodes[1:]):
        a[1] ^ b[0]
    return _bounds(nodes, left=[nodes[0]])


def _quimb(n: int) -> Callable[[], None]:
    import quimb.tensor as qtn

    tensors = [qtn.Tensor(np.ones((2, 2)), (f"i{k}", f"i{k + 1}"), {f"T{k}"}) for k in range(n)]
    tn = qtn.TensorNetwork(tensors, virtual=True)
    return _bounds(tn, left=["i0"])


def _chain_equation(n: int) -> tuple:
    letters = [chr(0x100 + k) for k in range(n + 1)]
    eq = ",".join(a + b for a, b in zip(letters, letters[1:])) + "->" + letters[0] + letters[-1]
    return eq, [(2, 2)] * n


def _nested(depth: int) -> list:
    out: list = [1]
    for _ in range(depth):
        out = [out]
    return out


def _structured() -> np.ndarray:
    return np.zeros((2, 2), dtype=[("x", "f8"), ("y", "i4")])


CASES: list[tuple[str, Callable[[], Callable[[], None]]]] = [
    # einsum equations
    ("eq-two-arrows", lambda: _bounds(("ab->b->a", [(2, 2)]))),
    ("eq-ellipsis", lambda: _bounds(("...a->a", [(2, 2)]))),
    ("eq-bytes", lambda: _bounds((b"ab->ab", [(2, 2)]))),
    ("eq-two-million-chars", lambda: _bounds(("a" * 2_000_000 + "->a", [(2,)]))),
    ("eq-100000-operands", lambda: _bounds((",".join(["a"] * 100_000) + "->a", [(2,)] * 100_000))),
    ("eq-chain-of-100000", lambda: _bounds(_chain_equation(100_000), left=[chr(0x100)])),
    ("eq-operands-endless", lambda: _bounds(("ab,bc->ac", itertools.repeat((2, 2))))),
    ("eq-operands-a-string", lambda: _bounds(("ab->ab", "22"))),
    ("eq-operand-count-wrong", lambda: _bounds((GOOD_EQ, [(2, 3)]))),
    # dimensions
    ("dim-negative", lambda: _bounds(("ab->ab", [(2, -1)]))),
    ("dim-zero", lambda: _bounds(("ab->ab", [(2, 0)]))),
    ("dim-2^63", lambda: _bounds(("ab->ab", [(2, 2**63)]))),
    ("dim-10^100", lambda: _bounds(("ab->ab", [(2, 10**100)]))),
    ("dim-bool", lambda: _bounds(("ab->ab", [(True, 2)]))),
    ("dim-numpy-bool", lambda: _bounds(("ab->ab", [(np.bool_(True), 2)]))),
    ("dim-float", lambda: _bounds(("ab->ab", [(2.0, 2)]))),
    ("dim-string", lambda: _bounds(("ab->ab", [("2", 2)]))),
    ("dims-70-axes", lambda: _bounds(("".join(chr(0x100 + k) for k in range(70)) + "->" + chr(0x100),
                                      [(2,) * 70]), left=[chr(0x100)])),
    ("dims-over-budget", lambda: _bounds(("ab->ab", [(2**31 - 1, 2**31 - 1)]))),
    # array values
    ("array-nan", _given(np.array([[np.nan, 1.0], [1.0, 1.0]]))),
    ("array-inf", _given(np.array([[np.inf, 1.0], [1.0, 1.0]]))),
    ("array-object", _given(np.array([[object(), 1], [1, 1]], dtype=object))),
    ("array-float-objects", _given(np.array([[0.5, 1], [1, 1]], dtype=object))),
    ("array-strings", _given(np.array([["a", "b"], ["c", "d"]]))),
    ("array-bytes", _given(np.array([[b"a", b"b"], [b"c", b"d"]]))),
    ("array-datetime", _given(np.array([["2020-01-01"] * 2] * 2, dtype="datetime64[D]"))),
    ("array-structured", _given(_structured())),
    ("array-ragged", lambda: _bounds(("ab->ab", [[[1, 2], [3]]]))),
    ("array-nested-10000", lambda: _bounds(("a->a", [_nested(10_000)]))),
    # sides
    ("left-unhashable-list", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), left=[["a"]])),
    ("left-unhashable-dict", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), left=[{"a": 1}])),
    ("left-endless", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), left=itertools.repeat("a"))),
    ("left-names-nothing", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), left=["zz\x1b[2J"])),
    ("right-unhashable", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), right=[{"c"}])),
    ("shared-unhashable", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), shared=[[["T0"]]])),
    # seeds, primes, budget, flags
    ("seeds-million-list", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), seeds=list(range(10**6)))),
    ("seeds-endless-generator", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), seeds=itertools.count())),
    ("seeds-negative", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), seeds=[-1])),
    ("seeds-2^64", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), seeds=[2**64])),
    ("seeds-bool", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), seeds=[True])),
    ("seeds-string", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), seeds="0")),
    ("seeds-float", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), seeds=[0.5])),
    ("seeds-empty", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), seeds=[])),
    ("primes-composite", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), primes=[4])),
    ("primes-2^61-1", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), primes=[2**61 - 1])),
    ("primes-endless", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), primes=itertools.repeat(7))),
    ("budget-4G", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), budget_mb="4G")),
    ("budget-nan", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), budget_mb=float("nan"))),
    ("budget-negative", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), budget_mb=-1)),
    ("budget-bool", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), budget_mb=True)),
    ("budget-10^400", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), budget_mb=10**400)),
    ("weights-unknown", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), weights="Given")),
    ("weights-list", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), weights=["given"])),
    ("sketch-string", lambda: _bounds((GOOD_EQ, GOOD_SHAPES), sketch="no")),
    # networks too large, in every input form
    ("nodes-20000", lambda: _nodes(20_000)),
    ("quimb-20000", lambda: _quimb(20_000)),
    ("not-a-network", lambda: _bounds(object())),
    ("nodes-generator", lambda: _bounds(iter([]))),
    # other entry points reading a network
    ("mincut-two-arrows", lambda: lambda: __import__("tnrnn").explicit_mincut(("ab->b->a", [(2, 2)]), ["a"])),
    ("networkx-negative-dim", lambda: lambda: __import__("tnrnn").to_networkx(("ab->ab", [(2, -1)]))),
    ("as-network-100000", lambda: lambda: __import__("tnrnn").as_network(_chain_equation(100_000))),
]
