"""Shared benchmark fixtures (timing itself is :mod:`harness`: interleaved rounds, per-round ratios)."""

from __future__ import annotations


def flax_gru_chunk(task, width: int, config, key):
    """flax's ``nn.RNN(nn.GRUCell)`` with a dense read-out, in tnrnn's own training chunk, for side-by-side rows.

    Returns ``(run_chunk, params, opt_state)`` ready to time, or ``None`` when flax (the ``bench`` extra) is absent.
    """
    try:
        import flax.linen as nn
    except ImportError:
        return None
    from tnrnn.memory.fit import sequence_loss
    from tnrnn.memory.train import make_optimizer, make_train_chunk

    class FlaxGRU(nn.Module):
        width: int
        n_out: int

        @nn.compact
        def __call__(self, x):
            return nn.Dense(self.n_out)(nn.RNN(nn.GRUCell(features=self.width))(x))

    model = FlaxGRU(width, task.n_out)
    params = model.init(key, task.sample(key, config.batch_size).inputs)

    def loss_fn(p, batch):
        return sequence_loss(model.apply(p, batch.inputs), batch.targets, batch.mask)

    return make_train_chunk(loss_fn, task.sample, config), params, make_optimizer(config).init(params)
