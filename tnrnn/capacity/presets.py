"""Budgets of the four capacity studies: ``quick`` (a smoke run of about a minute each), ``full`` and ``long``.

Each preset is one flat dict: the grid (cells, sizes ...) and the training budget of every point. The CLI
(``tnrnn capacity STUDY --quick|--full|--long``) starts from a preset and lets flags override single entries
([`tnrnn.capacity.study.Study.config`][tnrnn.capacity.study.Study.config]).

The ``bits`` presets search ``b`` adaptively: the ``b_multiples`` grid (reaching 8 samples per parameter),
then ever larger ``b`` while the stored bits still rise ([`tnrnn.capacity.bits`][tnrnn.capacity.bits]). The ``long`` bits
preset (RNN and GRU at about 250 and 1000 parameters, 3 seeds, 20000 Adam steps at learning rate 1e-2) and the
``full`` trainability preset (50 draws per cell and depth, depths 1 to 8) are the ones run for issue 12; their
run times are in their JSON summaries (``training.total_point_seconds`` and ``training.wall_seconds``).

Measured run times of the earlier ``full`` presets (fixed b = 2P, 3P; trainability with 12 draws at depths
1, 2, 4; one sweep worker, on the project's 2-core CPU shared with other jobs, load average about 4 to 6):

* ``bits``: 36 points (6 cells x budgets 300, 1000, 2000 x b = 2, 3 times the parameter count), each
  training 3 learning rates x 2 seeds at once for 2500 Adam steps of batch 256: 28.0 min wall for 33 points
  (3 more, RNN at b = 2, were kept from an interrupted first run), 29.4 min of point time in all; 20 to 50 s
  per point, one point 8 min while another job held 14 GB and the machine swapped.
* ``units``: 30 points (5 cells x N = 2, 4, 8, 12, 16, 24 at n_in = 16, delay 5), 2 learning rates x 2
  seeds each, 2000 steps of batch 128: 9.0 min wall (5 to 25 s per point).
* ``mc``: 10 points (orthogonal and Gaussian matrices, N = 5, 10, 20, 50, 100, spectral radius 0.95),
  20000 training and 20000 held-out steps each: 8 s wall (the machine was idle by then; 2 to 10 s per point
  at load average 5).
* ``trainability``: 17 points (6 cells x depth 1, 2, 4; the +RNN only at depth >= 2), 12 random draws per
  point trained at once, 600 steps of batch 32 on parentheses counting (T = 30, 2 types, 2 noise symbols,
  counts to 5) at 2000 parameters: 13.9 min wall (13.8 min point time), 30 to 75 s per point.

Together 51 minutes of wall time, more than the 40 minutes aimed at: the bits and trainability points ran
about twice slower than when timed alone because the CPU was shared (load average 5 to 10). For a shorter
run, drop the 2000 budget of ``bits`` (about 12 minutes less) or depth 4 of ``trainability`` (about 5).
This is a far smaller budget than the paper's (which tuned for very long); the figures and JSON say so.
"""

from __future__ import annotations

from typing import Any

BITS: dict[str, dict[str, Any]] = {
    "quick": {"cells": ["rnn", "gru"], "budgets": [100, 300], "b_multiples": [1, 2], "adaptive": False,
              "learning_rates": [1e-2], "seeds": [0], "steps": 300, "batch_size": 128, "n_in": 12, "chunk": 150},
    "full": {"cells": ["rnn", "irnn", "ugrnn", "gru", "lstm", "plusrnn"], "budgets": [300, 1000, 2000],
             "b_multiples": [2, 4, 6, 8], "adaptive": True, "learning_rates": [3e-3, 1e-2, 3e-2], "seeds": [0, 1],
             "steps": 2500, "batch_size": 256, "n_in": 16, "chunk": 500},
    # One learning rate: in 20000-step runs of RNN-250 at b = 2P and 4P, 1e-2 stored 2.0 and 2.7-2.9 bits per
    # parameter where 3e-2 stored 0.8-0.9 and 1.6-2.1 (diagrams/capacity_bits_long.jsonl keeps those runs);
    # b = 2P is left out because the RNN-250 stored all its 2P labels.
    "long": {"cells": ["rnn", "gru"], "budgets": [250, 1000], "b_multiples": [4, 6, 8], "adaptive": True,
             "learning_rates": [1e-2], "seeds": [0, 1, 2], "steps": 20000, "batch_size": 256, "n_in": 16,
             "chunk": 2000},
}

UNITS: dict[str, dict[str, Any]] = {
    "quick": {"cells": ["rnn", "gru"], "units": [2, 4, 8], "n_in": 8, "delay": 3, "learning_rates": [1e-2],
              "seeds": [0], "steps": 300, "batch_size": 64, "eval_batch_size": 1024, "chunk": 150},
    "full": {"cells": ["rnn", "irnn", "ugrnn", "gru", "lstm"], "units": [2, 4, 8, 12, 16, 24], "n_in": 16,
             "delay": 5, "learning_rates": [3e-3, 1e-2], "seeds": [0, 1], "steps": 2000, "batch_size": 128,
             "eval_batch_size": 4096, "chunk": 500},
}

MC: dict[str, dict[str, Any]] = {
    "quick": {"sizes": [5, 10, 20], "kinds": ["orthogonal", "gaussian"], "seeds": [0], "spectral_radius": 0.95,
              "train_steps": 5000, "test_steps": 5000, "washout": 200},
    "full": {"sizes": [5, 10, 20, 50, 100], "kinds": ["orthogonal", "gaussian"], "seeds": [0],
             "spectral_radius": 0.95, "train_steps": 20000, "test_steps": 20000, "washout": 500},
}

TRAINABILITY: dict[str, dict[str, Any]] = {
    "quick": {"cells": ["rnn", "gru"], "depths": [1, 2], "budget": 500, "draws": 4, "steps": 100,
              "batch_size": 16, "time": 20, "eval_batch_size": 128, "chunk": 50},
    "full": {"cells": ["rnn", "gru", "plusrnn"], "depths": [1, 2, 8], "budget": 2000, "draws": 50, "steps": 400,
             "batch_size": 32, "time": 30, "eval_batch_size": 512, "chunk": 200},
}
