"""Capacity and trainability studies of recurrent cells (Collins, Sohl-Dickstein, Sussillo, ICLR 2017).

One module per job:

* :mod:`.info`: binary entropy and the stored bits ``I = b (1 - H2(p))``;
* :mod:`.tasks`: seeded generators (memorisation, single-shot recall, parentheses counting with its exact
  no-learning baseline);
* :mod:`.vtrain`: one jitted training of many same-shaped models at once (``vmap`` over seeds and settings),
  on the package's optimiser (:func:`tnrnn.memory.train.make_optimizer`);
* :mod:`.study`: a study as an object (presets, flags, points, summary, table, figure) and the run loop;
  :mod:`.registry`: the studies by name, behind ``tnrnn capacity``;
* :mod:`.bits`: bits per parameter with the adaptive ``b`` search; :mod:`.units`: per-unit memory;
  :mod:`.mc`, :mod:`.mc_study`: Jaeger's memory capacity, analytic (Lyapunov) and empirical, and the Fisher
  memory curve; :mod:`.trainability`: random hyperparameter draws per (cell, depth);
* :mod:`.presets`: the ``quick``, ``full`` and ``long`` budgets; :mod:`.plots`: the figures.

Data flows one way: this package imports :mod:`tnrnn.memory`, never the reverse.
"""
