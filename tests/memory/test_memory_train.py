"""Training loop: the loss falls, resume is exact, checkpoints are checked, divergence is caught."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tnrnn.base.errors import TnrnnError
from tnrnn.memory.fit import make_task_loss, sequence_loss, train_task
from tnrnn.memory.tasks import StartEndSimilarity
from tnrnn.memory.train import (
    TrainConfig,
    learning_rate_schedule,
    load_checkpoint,
    make_optimizer,
    make_train_chunk,
    save_checkpoint,
    train,
)

TASK = StartEndSimilarity(time=6, symbols=2, span=2)


def test_tiny_training_run_loss_falls():
    cfg = TrainConfig(steps=120, eval_every=40, batch_size=32, eval_batch_size=256, learning_rate=1e-2)
    res = train_task(TASK, "gru", 1, 8, cfg, progress=False)
    first, last = res.history[0], res.history[-1]
    assert res.steps_done == 120 and len(res.history) == 3 and not res.diverged
    # the loss over the first chunk starts near ln 3 (uniform guess); it must fall clearly below that
    assert last["train_loss"] < first["train_loss"] - 0.05
    assert last["eval_loss"] < math.log(3) - 0.05
    assert res.final["accuracy"] > TASK.chance + 0.05
    assert res.extra["num_params"] == sum(x.size for x in jax.tree_util.tree_leaves(res.params))
    # the final metrics are those of the last chunk's evaluation (same params, not recomputed)
    assert res.final == {k[len("eval_"):]: v for k, v in last.items() if k.startswith("eval_")}


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_optimizers_fit_a_linear_model(optimizer):
    def loss(p, b):
        x, y = b
        return jnp.mean((x @ p["w"] - y) ** 2), {}

    w_true = jnp.array([1.5, -2.0, 0.5])

    def sample(key, n):
        x = jax.random.normal(key, (n, 3))
        return x, x @ w_true

    cfg = TrainConfig(optimizer=optimizer, steps=300, eval_every=100, learning_rate=0.05, schedule="cosine",
                      clip_norm=None)
    res = train({"w": jnp.zeros(3)}, loss, sample, cfg, progress=False)
    np.testing.assert_allclose(np.asarray(res.params["w"]), np.asarray(w_true), atol=0.05)
    assert res.history[-1]["eval_loss"] < 1e-2 * res.history[0]["eval_loss"] + 1e-3


def test_resume_reproduces_uninterrupted_run(tmp_path):
    cfg = TrainConfig(steps=30, eval_every=10, batch_size=8, eval_batch_size=16, learning_rate=1e-2, seed=3)
    full = train_task(TASK, "rnn", 2, 4, cfg, progress=False)
    ck = tmp_path / "ck.npz"
    half = train_task(TASK, "rnn", 2, 4, cfg, checkpoint=ck, progress=False, until=20)  # "interrupted"
    assert half.steps_done == 20 and ck.exists()
    resumed = train_task(TASK, "rnn", 2, 4, cfg, checkpoint=ck, progress=False)
    assert resumed.resumed_from == 20 and resumed.steps_done == 30
    for a, b in zip(jax.tree_util.tree_leaves(full.params), jax.tree_util.tree_leaves(resumed.params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    assert [h["step"] for h in resumed.history] == [10, 20, 30]
    meta = load_checkpoint(ck, (resumed.params, resumed.params), make_optimizer(cfg).init(resumed.params))[2]
    assert meta["step"] == 30 and meta["config"]["steps"] == 30


def test_checkpoint_of_another_run_with_the_same_shapes_is_refused(tmp_path):
    # Same parameter shapes, different run: resuming would silently mix them (it used to).
    cfg = TrainConfig(steps=4, eval_every=2, batch_size=8, eval_batch_size=8)
    ck = tmp_path / "ck.npz"
    train_task(TASK, "rnn", 1, 4, cfg, checkpoint=ck, progress=False, until=2)
    longer = StartEndSimilarity(time=8, symbols=2, span=2)
    for args, kwargs, what in [((longer, "rnn", 1, 4, cfg), {}, "time 6 -> 8"),
                               ((TASK, "rnn", 1, 4, cfg), {"nonlinearity": "relu"}, "nonlinearity 'tanh' -> 'relu'"),
                               ((TASK, "irnn", 1, 4, cfg), {}, "cell 'rnn' -> 'irnn'"),
                               ((TASK, "rnn", 1, 4, TrainConfig(**{**cfg.to_json(), "seed": 1})), {}, "seed 0 -> 1")]:
        with pytest.raises(TnrnnError, match=f"another run.*{what}"):
            train_task(*args, checkpoint=ck, progress=False, **kwargs)
    assert train_task(TASK, "rnn", 1, 4, cfg, checkpoint=ck, progress=False).resumed_from == 2


def _rewrite_meta(path, edit) -> None:
    """Rewrite a checkpoint's JSON meta (as a hand edit or an older writer would), keeping its arrays."""
    import json

    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = edit(json.loads(arrays["meta"].tobytes()))
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def test_checkpoint_without_identity_is_refused_and_a_finished_run_can_be_extended(tmp_path):
    cfg = TrainConfig(steps=4, eval_every=2, batch_size=8, eval_batch_size=8)
    ck = tmp_path / "ck.npz"
    assert train_task(TASK, "rnn", 1, 4, cfg, checkpoint=ck, progress=False).steps_done == 4
    # a finished run extended to more steps resumes from where it ended
    longer = TrainConfig(**{**cfg.to_json(), "steps": 6})
    assert train_task(TASK, "rnn", 1, 4, longer, checkpoint=ck, progress=False).resumed_from == 4
    # the same file stripped of its identity can no longer be checked, so it is refused (it used to be resumed)
    _rewrite_meta(ck, lambda m: {k: v for k, v in m.items() if k not in ("config", "task", "model")})
    with pytest.raises(TnrnnError, match="records no run identity"):
        train_task(TASK, "rnn", 1, 4, longer, checkpoint=ck, progress=False)


def test_equal_tasks_made_anew_share_the_compiled_chunk():
    # Bound methods compare their instance by identity, so each new task object used to miss the cache and
    # recompile (every memory-sweep point, every seed): seconds per run.
    cfg = TrainConfig(steps=4, eval_every=2, batch_size=8)
    loss_fn = make_task_loss("gru")
    a = make_train_chunk(loss_fn, StartEndSimilarity(time=6, symbols=2, span=2).sample, cfg)
    assert make_train_chunk(loss_fn, StartEndSimilarity(time=6, symbols=2, span=2).sample, cfg) is a
    assert make_train_chunk(loss_fn, StartEndSimilarity(time=8, symbols=2, span=2).sample, cfg) is not a


def _quadratic(p, b):
    return jnp.sum((p["w"] - b) ** 2), {}


def test_checkpoint_of_another_model_is_refused(tmp_path):
    ck = tmp_path / "ck.npz"
    cfg = TrainConfig(steps=2, eval_every=2, batch_size=4, eval_batch_size=4)
    sample = lambda key, n: jnp.ones(3)  # noqa: E731
    train({"w": jnp.zeros(3)}, _quadratic, sample, cfg, checkpoint=ck, progress=False)
    with pytest.raises(TnrnnError, match="different model"):
        train({"w": jnp.zeros(4)}, _quadratic, sample, cfg, checkpoint=ck, progress=False)
    with pytest.raises(TnrnnError, match="different model"):
        train({"w": jnp.zeros(3), "v": jnp.zeros(1)}, _quadratic, sample, cfg, checkpoint=ck, progress=False)
    bad = tmp_path / "bad.npz"
    bad.write_text("not a checkpoint")
    with pytest.raises(TnrnnError, match="cannot read checkpoint"):
        train({"w": jnp.zeros(3)}, _quadratic, sample, cfg, checkpoint=bad, progress=False)


def test_checkpoint_round_trip(tmp_path):
    params = {"a": jnp.arange(3.0), "b": [jnp.ones((2, 2))]}
    tx = make_optimizer(TrainConfig())
    opt = tx.init(params)
    save_checkpoint(tmp_path / "c.npz", params, opt, {"step": 7, "history": [{"x": 1}]})
    p2, o2, meta = load_checkpoint(tmp_path / "c.npz", params, opt)
    assert meta["step"] == 7 and meta["history"] == [{"x": 1}]
    for a, b in zip(jax.tree_util.tree_leaves((params, opt)), jax.tree_util.tree_leaves((p2, o2))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed away


def test_divergence_is_detected_and_last_finite_params_kept():
    def loss(p, b):
        # finite at the start, infinite once w exceeds 1 (the gradient pushes it up)
        w = p["w"]
        return jnp.where(w < 1.0, -w, jnp.inf), {}

    cfg = TrainConfig(steps=100, eval_every=5, learning_rate=0.1, clip_norm=None)
    res = train({"w": jnp.zeros(())}, loss, lambda k, n: jnp.zeros((n,)), cfg, progress=False)
    assert res.diverged and res.steps_done < 100
    assert float(res.params["w"]) < 1.0
    assert res.history[-1]["diverged"]


def test_sequence_loss_by_hand():
    logits = jnp.array([[[2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    targets = jnp.array([[0, 2, 0]])
    mask = jnp.array([[1.0, 1.0, 0.0]])
    loss, m = sequence_loss(logits, targets, mask)
    ce0 = -(2.0 - math.log(math.exp(2) + 2))
    ce1 = math.log(3)
    assert float(loss) == pytest.approx((ce0 + ce1) / 2, rel=1e-6)
    # step 1 is a three-way tie: argmax picks class 0, the target is 2
    assert float(m["accuracy"]) == pytest.approx(0.5)


def test_schedules():
    cfg = dict(steps=100, learning_rate=1.0, final_lr_fraction=0.1)
    assert float(learning_rate_schedule(TrainConfig(schedule="constant", **cfg))(77)) == 1.0
    cos = learning_rate_schedule(TrainConfig(schedule="cosine", **cfg))
    assert float(cos(0)) == pytest.approx(1.0) and float(cos(100)) == pytest.approx(0.1)
    assert float(cos(50)) == pytest.approx(0.1 + 0.9 * 0.5)
    warm = learning_rate_schedule(TrainConfig(schedule="warmup_cosine", warmup_steps=10, **cfg))
    assert float(warm(0)) == 0.0 and float(warm(10)) == pytest.approx(1.0)
    exp = learning_rate_schedule(TrainConfig(schedule="exponential", **cfg))
    assert float(exp(100)) == pytest.approx(0.1, rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"optimizer": "sgd"}, "optimizer"),
        ({"schedule": "step"}, "schedule"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"steps": 0}, "steps"),
        ({"clip_norm": 0.0}, "clip_norm"),
        ({"final_lr_fraction": 0.0}, "final_lr_fraction"),
    ],
)
def test_bad_config(kwargs, message):
    with pytest.raises(TnrnnError, match=message):
        TrainConfig(**kwargs)
