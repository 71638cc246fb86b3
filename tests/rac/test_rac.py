"""The RAC recurrence (tnrnn.rac.recurrence) against an exact big-integer reference written here from the definition
(docs/theory.md, "Recurrent Arithmetic Circuits")."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrnn.base.errors import TnrnnError
from tnrnn.rac.recurrence import (
    DEFAULT_PRIME,
    RACParams,
    check_prime,
    init_params,
    init_params_modp,
    max_safe_terms,
    rac_forward,
    rac_forward_modp,
    rac_readout_modp,
    rac_scan_modp,
)
from tnrnn.rac.spec import RACSpec

P = 10_007


def reference(W_I, W_H, W_O, h0, x):
    """``y = W_O h[T, L]`` with Python integers (exact, unbounded), one sequence of feature vectors ``x``.

    ``h[t,l] = (W_I[l] h[t,l-1]) * (W_H[l] h[t-1,l])`` with ``W_H[l] h[0,l] = 1`` when ``h0`` is None.
    """
    L = len(W_I)

    def mv(W, v):
        return [sum(w * a for w, a in zip(row, v)) for row in W]

    state = [None] * L
    for t, f in enumerate(x):
        below = list(f)
        for l in range(L):
            inp = mv(W_I[l], below)
            if t == 0 and h0 is None:
                rec = [1] * len(inp)
            else:
                rec = mv(W_H[l], state[l] if t > 0 else h0[l])
            state[l] = [a * b for a, b in zip(inp, rec)]
            below = state[l]
    return mv(W_O, state[-1])


@st.composite
def small_integer_racs(draw):
    """Small integer weights: exact in float64 and as Python ints (not generic weights: for testing values only)."""
    L = draw(st.integers(1, 3))
    R, M, K = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    T = draw(st.integers(1, 5))
    h0 = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W_I = [rng.integers(-2, 3, (R, M if l == 0 else R)) for l in range(L)]
    W_H = [rng.integers(-2, 3, (R, R)) for _ in range(L)]
    W_O = rng.integers(-2, 3, (K, R))
    H0 = [rng.integers(-2, 3, R) for _ in range(L)] if h0 else None
    ids = rng.integers(0, M, (draw(st.integers(1, 3)), T))
    return RACSpec(L, R, M, K), W_I, W_H, W_O, H0, ids


def _ints(a):
    return np.asarray(a).astype(int).tolist()


@settings(max_examples=15, deadline=None)
@given(small_integer_racs())
def test_float_recurrence_equals_exact_reference(case):
    spec, W_I, W_H, W_O, H0, ids = case
    with jax.enable_x64(True):
        params = RACParams(
            tuple(np.asarray(w, np.float64) for w in W_I), tuple(np.asarray(w, np.float64) for w in W_H),
            np.asarray(W_O, np.float64), None if H0 is None else tuple(np.asarray(h, np.float64) for h in H0),
        )
        y = np.asarray(rac_forward(params, ids))
    eye = np.eye(spec.M, dtype=int)
    want = np.array(
        [reference(*map(lambda ws: [_ints(w) for w in ws], (W_I, W_H)), _ints(W_O),
                   None if H0 is None else [_ints(h) for h in H0], [_ints(eye[i]) for i in seq]) for seq in ids],
        dtype=float,
    )
    np.testing.assert_allclose(y, want, rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(small_integer_racs(), st.booleans())
def test_modp_recurrence_equals_reference_mod_p(case, features):
    spec, W_I, W_H, W_O, H0, ids = case
    # Negative small weights become their residues; the reference keeps the integers and reduces at the end.
    red = lambda w: np.asarray(w, np.int64) % P  # noqa: E731
    params = RACParams(tuple(map(red, W_I)), tuple(map(red, W_H)), red(W_O), None if H0 is None else tuple(map(red, H0)))
    rng = np.random.default_rng(len(ids))
    x = rng.integers(-50, 50, ids.shape + (spec.M,)) if features else ids
    got = rac_forward_modp(params, x % P if features else x, P)
    eye = np.eye(spec.M, dtype=int)
    seqs = [[_ints(f) for f in seq] for seq in x] if features else [[_ints(eye[i]) for i in seq] for seq in ids]
    want = [
        [v % P for v in reference([_ints(w) for w in W_I], [_ints(w) for w in W_H], _ints(W_O),
                                  None if H0 is None else [_ints(h) for h in H0], seq)]
        for seq in seqs
    ]
    assert got.tolist() == want


def test_modp_continuation_from_a_state_equals_the_whole_sequence():
    spec = RACSpec(2, 3, 2)
    q = init_params_modp(spec, 4, P)
    x = np.random.default_rng(0).integers(0, 2, (4, 6))
    whole = rac_forward_modp(q, x, P)
    half = rac_scan_modp(q, x[:, :3], P)
    assert np.array_equal(rac_readout_modp(q, rac_scan_modp(q, x[:, 3:], P, state=half), P), whole)


def test_modp_weights_are_uniform_over_the_field():
    q = init_params_modp(RACSpec(1, 50, 50), 0, P)
    w = np.asarray(q.W_I[0])
    assert w.min() >= 0 and w.max() < P
    assert w.max() > P // 2 and len(np.unique(w)) > 2000  # not small integers


def _log_reference(params, ids):
    """float64 recurrence in numpy with a per-step rescale: (sign, log|y|) per sequence and output."""
    W_I = [np.asarray(w, np.float64) for w in params.W_I]
    W_H = [np.asarray(w, np.float64) for w in params.W_H]
    W_O = np.asarray(params.W_O, np.float64)
    M = W_I[0].shape[1]
    out = []
    for seq in ids:
        states = [None] * len(W_I)
        logs = [0.0] * len(W_I)
        for t, i in enumerate(seq):
            below, below_log = np.eye(M)[i], 0.0
            for l in range(len(W_I)):
                rec = np.ones(W_I[l].shape[0]) if t == 0 else W_H[l] @ states[l]
                h = (W_I[l] @ below) * rec
                s = np.abs(h).max()
                states[l], logs[l] = h / s, below_log + (logs[l] if t else 0.0) + math.log(s)
                below, below_log = states[l], logs[l]
        y = W_O @ states[-1]
        out.append((np.sign(y), np.log(np.abs(y)) + logs[-1]))
    return out


def test_long_sequence_float_stays_finite_and_matches_float64_in_log_space():
    spec = RACSpec(2, 4, 3)
    params = init_params(spec, jax.random.PRNGKey(7))
    ids = np.random.default_rng(7).integers(0, 3, (3, 500))
    mant, log = rac_forward(params, ids)
    mant, log = np.asarray(mant), np.asarray(log)
    assert np.all(np.isfinite(mant)) and np.all(np.isfinite(log))
    assert np.all(log < -300)  # far below float32's range: plain evaluation would give 0
    for b, (sign, logabs) in enumerate(_log_reference(params, ids)):
        assert np.array_equal(np.sign(mant[b]), sign)
        np.testing.assert_allclose(np.log(np.abs(mant[b])) + log[b], logabs, rtol=1e-4)


def test_explicit_initial_state_changes_the_first_step():
    spec = RACSpec(1, 2, 2)
    q = init_params_modp(spec, 3, P, init_state=True)
    x = [[1, 0]]
    W_I, W_H, W_O, h0 = q.W_I[0], q.W_H[0], q.W_O, q.h0[0]
    h1 = (W_I[:, 1] * (W_H @ h0)) % P
    h2 = (W_I[:, 0] * (W_H @ h1)) % P
    assert np.array_equal(rac_forward_modp(q, x, P), (W_O @ h2 % P)[None, :])
    assert not np.array_equal(rac_forward_modp(q._replace(h0=None), x, P), rac_forward_modp(q, x, P))


def test_max_safe_terms_and_check_prime():
    assert max_safe_terms(DEFAULT_PRIME) * (DEFAULT_PRIME - 1) ** 2 <= 2**63 - 1
    assert (max_safe_terms(DEFAULT_PRIME) + 1) * (DEFAULT_PRIME - 1) ** 2 > 2**63 - 1
    with pytest.raises(TnrnnError, match="prime"):
        check_prime(10_000)
    with pytest.raises(TnrnnError, match="too large"):
        check_prime(2_147_483_647, terms=3)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros((2, 3, 4)), r"shape \(B, T, M=3\)"),
        ([[0, 3]], "symbol id 3 is out of range"),
        ([[0, -1]], "symbol id -1 is out of range"),
        ([[0.0, 1.0]], "must be integers"),
        (np.zeros((0, 3), int), "at least one sequence"),
        (np.zeros(4, int), "inputs must be symbol ids"),
        ([[0, 1], [1]], "rectangular"),
    ],
)
def test_bad_inputs_raise_clear_errors(x, match):
    spec = RACSpec(2, 2, 3)
    for fn in (lambda: rac_forward(init_params(spec, jax.random.PRNGKey(0)), x),
               lambda: rac_forward_modp(init_params_modp(spec, 0, P), x, P)):
        with pytest.raises(TnrnnError, match=match):
            fn()


@pytest.mark.parametrize("kwargs", [dict(depth=0, width=2, features=2), dict(depth=1, width=0, features=2),
                                    dict(depth=1, width=2, features=-1), dict(depth=1.5, width=2, features=2)])
def test_bad_spec(kwargs):
    with pytest.raises(TnrnnError, match="must be an integer >= 1"):
        RACSpec(**kwargs)


def test_bad_state_for_continuation():
    q = init_params_modp(RACSpec(2, 2, 2), 0, P)
    with pytest.raises(TnrnnError, match="state must be 2 arrays"):
        rac_scan_modp(q, [[0, 1]], P, state=[np.zeros((1, 2), np.int64)])


def test_modp_refuses_float_weights_features_and_states_instead_of_truncating():
    # A float would be cast to int64 (0.5 -> 0): a silently wrong "exact" value. Each must be refused.
    spec = RACSpec(1, 2, 3)
    q = init_params_modp(spec, 0, P)
    with pytest.raises(TnrnnError, match="feature inputs must be integers"):
        rac_forward_modp(q, np.full((1, 2, 3), 0.5), P)
    with pytest.raises(TnrnnError, match="weights must be integers"):
        rac_forward_modp(init_params(spec, jax.random.PRNGKey(0)), [[0, 1]], P)
    with pytest.raises(TnrnnError, match="states must be integers"):
        rac_scan_modp(q, [[0]], P, state=[np.full((1, 2), 0.7)])
    with pytest.raises(TnrnnError, match="states must be integers"):
        rac_readout_modp(q, [np.full((1, 2), 0.7)], P)


def test_modp_reduces_unsigned_features_before_the_int64_cast():
    # 2**64 - 1 as uint64 used to wrap to -1 in the int64 cast, giving the residue of -1 instead of its own.
    q = init_params_modp(RACSpec(1, 2, 3), 0, P)
    big = np.full((1, 1, 3), 2**64 - 1, dtype=np.uint64)
    assert np.array_equal(rac_forward_modp(q, big, P), rac_forward_modp(q, np.full((1, 1, 3), (2**64 - 1) % P), P))


def test_float_recurrence_accepts_integer_weights():
    # Integer (e.g. mod-p) weights used to crash lax.scan with an int32/float carry mismatch.
    spec = RACSpec(2, 2, 3)
    q = init_params_modp(spec, 1, 101)
    as_float = RACParams(*(tuple(np.asarray(w, np.float32) for w in ws) for ws in (q.W_I, q.W_H)),
                         np.asarray(q.W_O, np.float32))
    np.testing.assert_allclose(rac_forward(q, [[0, 2, 1]]), rac_forward(as_float, [[0, 2, 1]]), rtol=1e-6)


def test_symbol_ids_need_no_one_hot_array():
    # M = 200,000 symbols: a (M, M) identity for one-hot rows would need 298 GiB; ids select columns of W_I[0].
    spec = RACSpec(1, 2, 200_000)
    params = init_params(spec, jax.random.PRNGKey(0))
    ids = np.array([[5, 199_999]])
    W_I, W_H, W_O = (np.asarray(w, np.float64) for w in (params.W_I[0], params.W_H[0], params.W_O))
    want = W_O @ (W_I[:, 199_999] * (W_H @ W_I[:, 5]))
    np.testing.assert_allclose(np.asarray(rac_forward(params, ids))[0], want, rtol=1e-5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: init_params(RACSpec(1, 2, 2), 0), "PRNG key"),
        (lambda: rac_forward(init_params(RACSpec(1, 2, 2), jax.random.PRNGKey(0)), np.full((1, 2, 2), "a")),
         "must be real numbers"),
        (lambda: rac_forward_modp(init_params_modp(RACSpec(1, 2, 2), 0, P), np.full((1, 2, 2), 1 + 2j), P),
         "must be real numbers"),
    ],
)
def test_bad_keys_and_feature_dtypes_raise_clear_errors(call, match):
    with pytest.raises(TnrnnError, match=match):
        call()


def _exact_y(W_I, W_H, W_O, ids):
    """y for one symbol sequence over Z with Python integers (no rescaling, no modulus), ones initial state."""
    L = len(W_I)
    state = [None] * L
    for t, i in enumerate(ids):
        below = [int(v) for v in W_I[0][:, i]]
        for l in range(L):
            inp = below if l == 0 else [sum(int(w) * a for w, a in zip(row, below)) for row in W_I[l]]
            rec = [1] * len(inp) if t == 0 else [sum(int(w) * a for w, a in zip(row, state[l])) for row in W_H[l]]
            state[l] = [a * b for a, b in zip(inp, rec)]
            below = state[l]
    return [sum(int(w) * a for w, a in zip(row, state[-1])) for row in W_O]


def _log_abs_int(n: int) -> float:
    shift = max(abs(n).bit_length() - 60, 0)
    return math.log(abs(n) >> shift) + shift * math.log(2)


def test_deep_long_float_outputs_are_finite_nonzero_and_match_exact_and_modp_values():
    # L = 3, R = 8, M = 4, T = 64: y has degree C(66, 3) = 45,760 in the inputs, far outside float32's range.
    # Small integer weights make the exact value computable with Python integers: the default float output
    # (mantissa, log scale) must match it in sign and log-magnitude, and the exact value mod p must equal the
    # mod-p recurrence. The raw float32 product is shown to be unusable (zero or infinite).
    T, p = 64, DEFAULT_PRIME
    rng = np.random.default_rng(3)
    W_I = [rng.integers(-2, 3, (8, 4 if l == 0 else 8)) for l in range(3)]
    W_H = [rng.integers(-2, 3, (8, 8)) for _ in range(3)]
    W_O = rng.integers(-2, 3, (1, 8))
    ids = rng.integers(0, 4, (2, T))
    as_float = RACParams(tuple(np.asarray(w, np.float32) for w in W_I), tuple(np.asarray(w, np.float32) for w in W_H),
                         np.asarray(W_O, np.float32))
    mant, log = rac_forward(as_float, ids)
    mant, log = np.asarray(mant), np.asarray(log)
    assert np.all(np.isfinite(mant)) and np.all(np.isfinite(log)) and np.all(mant != 0)
    modp = rac_forward_modp(RACParams(tuple(W_I), tuple(W_H), W_O), ids, p)
    raw = np.asarray(rac_forward(as_float, ids, raw=True))
    for b in range(2):
        y = _exact_y(W_I, W_H, W_O, ids[b])[0]
        assert y != 0
        assert np.sign(mant[b, 0]) == np.sign(y)
        np.testing.assert_allclose(np.log(np.abs(mant[b, 0])) + log[b], _log_abs_int(y), rtol=1e-5)
        assert modp[b, 0] == y % p
        assert raw[b, 0] == 0 or not np.isfinite(raw[b, 0])


def test_generic_deep_float_rac_default_output_matches_a_float64_reference():
    # The default initialisation: float32 y underflows to exactly 0 (depth 2, T = 32), the default output does not.
    spec = RACSpec(3, 8, 4)
    params = init_params(spec, jax.random.PRNGKey(0))
    ids = np.random.default_rng(0).integers(0, 4, (4, 64))
    out = rac_forward(params, ids)
    mant, log = np.asarray(out.mantissa), np.asarray(out.log_scale)
    assert np.all(np.isfinite(mant)) and np.all(mant != 0) and np.all(np.isfinite(log))
    for b, (sign, logabs) in enumerate(_log_reference(params, ids)):
        assert np.array_equal(np.sign(mant[b]), sign)
        np.testing.assert_allclose(np.log(np.abs(mant[b])) + log[b], logabs, rtol=1e-4)
    two = RACSpec(2, 8, 4)
    assert np.all(np.asarray(rac_forward(init_params(two, jax.random.PRNGKey(0)), ids[:, :32], raw=True)) == 0)
    assert np.all(np.asarray(rac_forward(init_params(two, jax.random.PRNGKey(0)), ids[:, :32]).mantissa) != 0)


@pytest.mark.parametrize("L, R, M, T, scale", [(1, 8, 4, 256, 1.0), (2, 4, 3, 256, 1.0), (3, 3, 2, 40, 1.0),
                                                (2, 4, 3, 12, 1.0), (2, 3, 2, 60, 1e4), (1, 3, 2, 30, 1e-6)])
def test_block_rescaling_agrees_with_the_per_step_float64_reference(L, R, M, T, scale):
    # The recurrence rescales every rescale_period(L) steps (scanned in blocks beyond UNROLL_T, unrolled below);
    # weights far from O(1) (scale 1e4: a block overflows float32; 1e-6: it underflows) take the per-step path.
    from tnrnn.rac.recurrence import UNROLL_T, rescale_period

    assert rescale_period(L) > 1 and (T > UNROLL_T) == (T > 16)
    params = init_params(RACSpec(L, R, M), jax.random.PRNGKey(L + T))
    params = params._replace(W_H=tuple(w * scale for w in params.W_H))
    ids = np.random.default_rng(T).integers(0, M, (4, T))
    mant, log = (np.asarray(a, np.float64) for a in rac_forward(params, ids))
    assert np.all(np.isfinite(mant)) and np.all(np.isfinite(log))
    for b, (sign, logabs) in enumerate(_log_reference(params, ids)):
        assert np.array_equal(np.sign(mant[b]), sign)
        np.testing.assert_allclose(np.log(np.abs(mant[b])) + log[b], logabs, rtol=2e-5, atol=2e-3)


def test_device_inputs_are_checked_from_metadata_and_bad_ids_give_nan():
    import jax.numpy as jnp

    spec = RACSpec(2, 3, 4)
    params = init_params(spec, jax.random.PRNGKey(0))
    good = np.array([[0, 3, 1], [2, 2, 1]])
    want = rac_forward(params, good)
    got = rac_forward(params, jnp.asarray([[0, 3, 1], [2, 4, 1]]))  # the second sequence has id 4 >= M
    np.testing.assert_allclose(got.mantissa[0], want.mantissa[0], rtol=1e-6)
    assert np.isfinite(got.log_scale[0]) and np.isnan(got.log_scale[1]) and np.isnan(got.mantissa[1]).all()
    assert np.isnan(rac_forward(params, jnp.asarray([[0, -1, 1]])).log_scale[0])
    features = jnp.asarray(np.eye(4, dtype=np.float32)[good])
    np.testing.assert_allclose(rac_forward(params, features).log_scale, want.log_scale, rtol=1e-5)
    for bad, match in [(jnp.zeros((2, 3), jnp.float32), "must be integers"), (jnp.zeros((2, 3, 5)), r"M=4"),
                       (jnp.zeros((0, 3), jnp.int32), "at least one sequence"), (jnp.zeros(3, jnp.int32), "shape")]:
        with pytest.raises(TnrnnError, match=match):
            rac_forward(params, bad)


def test_float_params_remembers_only_immutable_weights():
    # Jax weights in tuples are remembered by identity (a public call skips rebuilding them); numpy weights can
    # change in place, so they are converted afresh every time.
    from tnrnn.rac.recurrence import float_params

    spec = RACSpec(1, 2, 2)
    params = init_params(spec, jax.random.PRNGKey(0))
    assert float_params(params) is float_params(params)
    host = RACParams(tuple(np.array(w) for w in params.W_I), tuple(np.array(w) for w in params.W_H),
                     np.array(params.W_O))
    before = rac_forward(host, [[0, 1]])
    host.W_O[...] *= -1
    np.testing.assert_allclose(rac_forward(host, [[0, 1]]).mantissa, -np.asarray(before.mantissa))


def _log_reference_features(params, feats):
    """float64 recurrence over feature vectors (no initial states), rescaled every step: (sign, log|y|)."""
    W_I = [np.asarray(w, np.float64) for w in params.W_I]
    W_H = [np.asarray(w, np.float64) for w in params.W_H]
    out = []
    for seq in np.asarray(feats, np.float64):
        states, logs = [None] * len(W_I), [0.0] * len(W_I)
        for t, x in enumerate(seq):
            below, below_log = x, 0.0
            for l in range(len(W_I)):
                h = (W_I[l] @ below) * (np.ones(W_I[l].shape[0]) if t == 0 else W_H[l] @ states[l])
                s = np.abs(h).max()
                states[l], logs[l] = h / s, below_log + (logs[l] if t else 0.0) + math.log(s)
                below, below_log = states[l], logs[l]
        y = np.asarray(params.W_O, np.float64) @ states[-1]
        out.append((np.sign(y), np.log(np.abs(y)) + logs[-1]))
    return out


@settings(max_examples=30)
@given(L=st.integers(1, 3), R=st.integers(1, 5), M=st.integers(1, 4), T=st.integers(1, 40),
       exps=st.lists(st.integers(-60, 60), min_size=7, max_size=7), seed=st.integers(0, 2**16))
def test_weights_of_any_magnitude_agree_with_float64(L, R, M, T, exps, seed):
    # Each matrix scaled by its own power of two, 2^-60 to 2^60: the recurrence divides every weight by a power of
    # two at or above its infinity norm (no block can overflow), and the divisors' counts restore the magnitude.
    params = init_params(RACSpec(L, R, M), jax.random.PRNGKey(seed))
    e = [2.0 ** k for k in exps]
    params = params._replace(W_I=tuple(w * e[l] for l, w in enumerate(params.W_I)),
                             W_H=tuple(w * e[3 + l] for l, w in enumerate(params.W_H)), W_O=params.W_O * e[6])
    ids = np.random.default_rng(seed).integers(0, M, (3, T))
    mant, log = (np.asarray(a, np.float64) for a in rac_forward(params, ids))
    assert np.all(np.isfinite(mant)) and np.all(np.isfinite(log))
    for b, (sign, logabs) in enumerate(_log_reference(params, ids)):
        close = np.abs(mant[b]) > 1e-3  # an output that nearly cancels may round to either sign in float32
        assert np.array_equal(np.sign(mant[b])[close], sign[close])
        np.testing.assert_allclose(np.log(np.abs(mant[b][close])) + log[b], logabs[close], rtol=2e-5, atol=2e-3)


@pytest.mark.parametrize("L", [1, 2, 3])
def test_feature_vectors_of_any_magnitude_agree_with_float64(L):
    # Every feature vector is divided by a power of two at or above its max-abs, its log carried: one-hot rows
    # scaled by 2^-100 .. 2^100 (float32 holds neither product of two of them) still give y in log space.
    spec = RACSpec(L, 3, 4)
    params = init_params(spec, jax.random.PRNGKey(L))
    rng = np.random.default_rng(L)
    ids = rng.integers(0, 4, (3, 20))
    feats = np.eye(4)[ids] * 2.0 ** rng.integers(-100, 101, (3, 20, 1)) + rng.normal(0, 1e-3, (3, 20, 4))
    mant, log = (np.asarray(a, np.float64) for a in rac_forward(params, jax.numpy.asarray(feats, np.float32)))
    assert np.all(np.isfinite(mant)) and np.all(np.isfinite(log))
    ref = _log_reference_features(params, np.asarray(jax.numpy.asarray(feats, np.float32), np.float64))
    for b, (sign, logabs) in enumerate(ref):
        assert np.array_equal(np.sign(mant[b]), sign)
        np.testing.assert_allclose(np.log(np.abs(mant[b])) + log[b], logabs, rtol=2e-5, atol=2e-3)


@pytest.mark.parametrize("L, R, T", [(2, 32, 300), (3, 64, 200), (4, 8, 60), (3, 1024, 40)])
def test_log_scales_keep_float32_precision_on_long_deep_sequences(L, R, T):
    # |log y| reaches 1e4-1e6 here; float32 holds it to a few 1e-7 relative when each step adds numbers of the
    # size of the true log. Summing the weight divisors' logs apart would cost about ten times that.
    params = init_params(RACSpec(L, R, 4), jax.random.PRNGKey(1))
    ids = np.random.default_rng(0).integers(0, 4, (8, T))
    mant, log = (np.asarray(a, np.float64) for a in rac_forward(params, ids))
    ref = _log_reference(params, ids)
    logabs = np.array([r[1][0] for r in ref])
    rel = np.abs(np.log(np.abs(mant[:, 0])) + log - logabs) / np.abs(logabs)
    assert np.median(rel) < 5e-7, np.median(rel)


def test_rac_forward_inside_a_users_jit_equals_the_eager_call():
    # Weights are tracers there: nothing about them may be remembered between calls.
    from tnrnn.rac import recurrence

    params = init_params(RACSpec(2, 3, 4), jax.random.PRNGKey(0))
    ids = jax.numpy.asarray(np.random.default_rng(0).integers(0, 4, (5, 12)), jax.numpy.int32)
    jitted = jax.jit(lambda p, x: tuple(rac_forward(p, x)))(params, ids)
    assert not any(isinstance(v, jax.core.Tracer) for v in jax.tree_util.tree_leaves(
        [recurrence._LAST_FLOAT, recurrence._LAST_BOUNDED]))
    eager = rac_forward(params, ids)
    np.testing.assert_allclose(jitted[0], eager.mantissa, rtol=1e-6)
    np.testing.assert_allclose(jitted[1], eager.log_scale, rtol=1e-6)
