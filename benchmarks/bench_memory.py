"""The orthogonal cell and the protocol: training steps per second side by side in one run.

Cases (quick: width 16, T = 12, batch 32; full: width 64, T = 80, batch 128, the authors' batch):

* ``cells``: one jitted chunk of RMSProp steps on Start-End Similarity for ``gru`` (baseline), ``rnn`` and
  ``scornn`` (the scaled-Cayley orthogonal cell: one linear solve per layer and batch, modReLU), and flax's
  ``nn.RNN(nn.GRUCell)`` in the same chunk when flax is installed (flax has no scoRNN cell; the row is left out
  cleanly without flax);
* ``protocol``: a whole :func:`tnrnn.memory.train.train` run of the same GRU with the plain loop (baseline)
  and with the authors' protocol (plateau checks, best-parameter tracking, a fixed validation set), both at one
  evaluation every ``eval_every`` steps: the protocol's bookkeeping is host-side and should cost little.

Times are seconds per training step (compilation excluded), from interleaved rounds (:mod:`harness`; whole
training runs: rounds cut to a 60 s budget, stated in the table); the note gives steps per second.

Measured (quick mode, the project's shared 2-core CPU, load average about 2, flax not installed): scoRNN 0.67x
and RNN 1.06x the GRU's time per step (1770 GRU steps/s); the protocol's loop 1.15x the plain loop (787 vs 901
steps/s with an evaluation every 20 steps).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from common import flax_gru_chunk
from harness import compare


def rows(quick: bool, rounds: int) -> list[dict]:
    return _cells(quick, rounds) + _protocol(quick, rounds)


def _cells(quick: bool, rounds: int) -> list[dict]:
    from tnrnn.memory.cells import init_stack
    from tnrnn.memory.fit import make_task_loss
    from tnrnn.memory.tasks import StartEndSimilarity
    from tnrnn.memory.train import TrainConfig, make_optimizer, make_train_chunk

    width, T, batch, chunk = (16, 12, 32, 10) if quick else (64, 80, 128, 20)
    task = StartEndSimilarity(time=T, symbols=8, span=4)
    config = TrainConfig(optimizer="rmsprop", clip_norm=None, batch_size=batch)
    key, steps = jax.random.PRNGKey(0), jnp.arange(chunk)
    variants = {}
    for cell in ("gru", "rnn", "scornn"):
        params = init_stack(0, cell, task.n_in, width, 1, task.n_out)
        run = make_train_chunk(make_task_loss(cell), task.sample, config)
        state = make_optimizer(config).init(params)
        variants[cell] = lambda r=run, p=params, s=state: r(p, s, key, steps)
    flax = flax_gru_chunk(task, width, config, key)
    if flax is not None:  # flax is optional (the bench extra)
        run_flax, flax_params, flax_state = flax
        variants["flax GRUCell"] = lambda: run_flax(flax_params, flax_state, key, steps)
    out = compare("memory cells", f"R={width}, T={T}, batch {batch}, RMSProp", variants, rounds=rounds,
                  budget_s=60, per=chunk, roles={"gru": "public", "flax GRUCell": "peer"}).rows()
    for r in out:
        r["note"] = f"{1.0 / r['seconds']:.3g} steps/s; " + r["note"]
    return out


def _protocol(quick: bool, rounds: int) -> list[dict]:
    from tnrnn.memory.fit import train_task
    from tnrnn.memory.tasks import StartEndSimilarity
    from tnrnn.memory.train import TrainConfig

    width, T, batch, n = (16, 12, 32, 200) if quick else (64, 80, 128, 1000)
    task = StartEndSimilarity(time=T, symbols=8, span=4)
    common = dict(optimizer="rmsprop", clip_norm=None, batch_size=batch, steps=n, eval_every=n // 10,
                  eval_batch_size=500)
    configs = {"plain loop": TrainConfig(**common),
               "authors' protocol": TrainConfig(**common, plateau_patience=10**6, restore_best=True)}
    variants = {name: (lambda cfg=cfg: train_task(task, "gru", 1, width, cfg, progress=False))
                for name, cfg in configs.items()}
    out = compare("memory protocol", f"GRU R={width}, T={T}, {n} steps", variants, rounds=rounds, budget_s=60,
                  per=n).rows()
    for r in out:
        r["note"] = f"{1.0 / r['seconds']:.3g} steps/s (evaluation every {n // 10} steps included)"
    return out
