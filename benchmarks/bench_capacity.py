"""Capacity studies: training the members of a grid at once (vmap) against a Python loop over them.

Case: the bits-per-parameter memorisation task of :mod:`tnrnn.capacity.bits`, a GRU at a 1000-parameter
budget (width 11, n_in 16, T = 5), b = 2 x parameters, minibatch 256, and M = 6 members (3 learning rates x
2 seeds), each with its own data set (quick: an RNN at 300 parameters, batch 64). Variants, all doing the
same optimiser steps on the same members:

* ``vmapped members (one program)``: :func:`tnrnn.capacity.vtrain.train_members` with all M members stacked,
  what :func:`bits_point` runs (baseline);
* ``loop over members``: the same function called once per member (M = 1; one compiled program reused).

Times are seconds for ``steps`` optimiser steps of every member (compilation excluded by a warm-up call),
interleaved rounds (:mod:`harness`; seconds-long calls: rounds cut to a 60 s budget, stated in the table).
Measured on the project's 2-core CPU (load average about 1.5): the vmapped program is 2.0x faster for the
quick case (tiny RNN, batch 64: the loop is dominated by per-call overhead) and 1.17x faster for the full case
(GRU, batch 256: one member already keeps the cores busy). Both variants compile once; on an accelerator the
gap should be larger, since one member is far from filling it. Those ratios were measured when the members'
Adam and clipping were written by hand; with the optimiser now optax's (:func:`tnrnn.memory.train.make_optimizer`,
per-member rates and clips through ``optax.inject_hyperparams``) the quick case measured 2.08x again (0.070 s
against 0.146 s, 8556 member-steps/s vmapped; load average about 8).
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
from harness import compare


def rows(quick: bool, rounds: int) -> list[dict]:
    from tnrnn.capacity.bits import _fns, size_of
    from tnrnn.capacity.tasks import memorisation_set
    from tnrnn.capacity.vtrain import stack_init, train_members
    from tnrnn.memory.cells import init_stack

    cell, budget, batch, steps = ("rnn", 300, 64, 100) if quick else ("gru", 1000, 256, 300)
    n_in = 16
    width, P = size_of(cell, budget, n_in=n_in, depth=1)
    b = 2 * P
    grid = list(itertools.product([3e-3, 1e-2, 3e-2], [0, 1]))
    sets = {s: memorisation_set(s, b, n_in) for s in (0, 1)}
    x = jnp.stack([sets[s].inputs[:, 0] for _, s in grid])
    y = jnp.stack([sets[s].targets[:, -1] for _, s in grid])
    params = stack_init(lambda s: init_stack(s, cell, n_in, width, 1, 2), [s for _, s in grid])
    hps = {"lr": [lr for lr, _ in grid], "clip": [10.0] * len(grid), "forget_bias": [1.0] * len(grid)}
    loss_fn, _ = _fns(cell, "tanh", batch, b, 5)

    def together():
        out = train_members(params, (x, y), hps, loss_fn, steps=steps, chunk=steps)
        jax.block_until_ready(out["params"])

    def one_by_one():
        for m in range(len(grid)):
            sl = lambda a, m=m: a[m:m + 1]  # noqa: E731
            out = train_members(jax.tree_util.tree_map(sl, params), (sl(x), sl(y)),
                                {k: v[m:m + 1] for k, v in hps.items()}, loss_fn, steps=steps, chunk=steps)
            jax.block_until_ready(out["params"])

    base = "vmapped members (one program)"
    case = f"{cell} {P} params, b={b}, batch {batch}, M={len(grid)} members, {steps} steps"
    out = compare("capacity", case, {base: together, "loop over members": one_by_one}, rounds=rounds,
                  budget_s=60, roles={base: "public"}).rows()
    out[0]["note"] = f"{len(grid) * steps / out[0]['seconds']:.0f} member-steps/s vmapped; " + out[0]["note"]
    return out
