"""Capacity and trainability studies of recurrent cells (SCIENCE.md section 7; Collins et al., ICLR 2017).

One module per job:

* :mod:`.info`: binary entropy and the stored bits ``I = b (1 - H2(p))``;
* :mod:`.tasks`: seeded generators (memorisation, single-shot recall, parentheses counting);
* :mod:`.vtrain`: one jitted training of many same-shaped models at once (``vmap`` over seeds and settings);
* :mod:`.bits`: bits per parameter; :mod:`.units`: per-unit memory; :mod:`.mc`: Jaeger's memory capacity,
  analytic (Lyapunov) and empirical, and the Fisher memory curve; :mod:`.trainability`: random
  hyperparameter draws per (cell, depth);
* :mod:`.presets`: the ``quick`` and ``full`` budgets; :mod:`.plots`: the figures.

Data flows one way: this package imports :mod:`tnrnn.memory`, never the reverse.
"""
