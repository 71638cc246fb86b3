"""Training throughput: the jitted ``lax.scan`` chunk against per-step loops of the same model.

Case: a GRU (width 128, one layer) on Start-End Similarity with T = 100 and batch 64 (quick: width 32,
T = 20, batch 16). Variants, all doing the same work per step (draw a batch, gradient, Adam update with
clipping):

* ``scan chunk (jit)``: :func:`tnrnn.memory.train.make_train_chunk`, what :func:`train` runs (baseline);
* ``per-step loop, jitted step``: a Python loop calling one jitted step;
* ``per-step loop, no jit``: the same step run eagerly, op by op;
* ``flax GRUCell, scan chunk (jit)``: flax's ``nn.RNN(nn.GRUCell)`` with a dense readout, trained by the same
  jitted chunk (same batches, loss, optimiser): a check that our cell is not slower than the field's standard
  one (row present when the ``bench`` extra's flax is installed).

Times are seconds per training step (compilation excluded), from interleaved rounds (:mod:`harness`); the
note gives steps per second.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from common import flax_gru_chunk
from harness import compare


def rows(quick: bool, rounds: int) -> list[dict]:
    from tnrnn.memory.cells import init_stack
    from tnrnn.memory.fit import make_task_loss
    from tnrnn.memory.tasks import StartEndSimilarity
    from tnrnn.memory.train import TrainConfig, make_optimizer, make_train_chunk

    width, T, batch = (32, 20, 16) if quick else (128, 100, 64)
    chunk_steps = 5  # short calls, so 51 interleaved rounds fit in about 30 s
    task = StartEndSimilarity(time=T, symbols=4, span=T // 2)
    config = TrainConfig(steps=1000, batch_size=batch, learning_rate=1e-3, clip_norm=1.0)
    params = init_stack(0, "gru", task.n_in, width, 1, task.n_out)
    loss_fn = make_task_loss("gru")
    tx = make_optimizer(config)
    opt_state = tx.init(params)
    key = jax.random.PRNGKey(0)

    run_chunk = make_train_chunk(loss_fn, task.sample, config)
    steps = jnp.arange(chunk_steps)

    def scan_chunk():
        return run_chunk(params, opt_state, key, steps)

    def step(p, o, s):
        batch_ = task._sample(jax.random.fold_in(key, s), batch)
        (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, batch_)
        updates, o = tx.update(grads, o, p)
        return optax.apply_updates(p, updates), o, loss

    step_jit = jax.jit(step)

    def loop(fn, n):
        def run():
            p, o = params, opt_state
            for s in range(n):
                p, o, loss = fn(p, o, jnp.int32(s))
            jax.block_until_ready(loss)
        return run

    base = "scan chunk (jit)"
    variants = {base: scan_chunk, "per-step loop, jitted step": loop(step_jit, chunk_steps)}
    flax = flax_gru_chunk(task, width, config, key)
    flax_label = "flax GRUCell, scan chunk (jit)"
    if flax is not None:  # flax is optional (the bench extra)
        flax_chunk, flax_params, flax_state = flax
        variants[flax_label] = lambda: flax_chunk(flax_params, flax_state, key, steps)
    case = f"GRU R={width}, T={T}, batch {batch}"
    out = compare("train", case, variants, rounds=rounds, per=chunk_steps,
                  roles={base: "public", flax_label: "peer"}).rows()
    eager_steps = 1 if not quick else 2

    def eager():
        with jax.disable_jit():  # op by op
            loop(step, eager_steps)()

    # Seconds per eager step, so a few rounds only (the table says how many); ratios per training step.
    eager_row = compare("train", case, {base: scan_chunk, "per-step loop, no jit": eager}, rounds=rounds,
                        budget_s=30, per=eager_steps).rows()[1]
    for k in ("ratio", "ratio_q1", "ratio_q3", "ratio_of_minima"):
        eager_row[k] *= chunk_steps / eager_steps
    out.append(eager_row)
    for r in out:
        r["note"] = f"{1.0 / r['seconds']:.3g} steps/s; " + r["note"]
        if r["variant"] == flax_label:
            r["note"] += f"; {_count(flax[1]):,} parameters vs {_count(params):,} in tnrnn's GRU"
    return out


def _count(tree) -> int:
    return sum(int(x.size) for x in jax.tree_util.tree_leaves(tree))
