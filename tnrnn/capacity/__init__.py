"""Capacity and trainability studies of recurrent cells (Collins, Sohl-Dickstein, Sussillo, ICLR 2017).

One module per job:

* [`info`][tnrnn.capacity.info]: binary entropy and the stored bits ``I = b (1 - H2(p))``;
* [`tasks`][tnrnn.capacity.tasks]: seeded generators (memorisation, single-shot recall, parentheses counting with its exact
  no-learning baseline);
* [`vtrain`][tnrnn.capacity.vtrain]: one jitted training of many same-shaped models at once (``vmap`` over seeds and settings),
  on the package's optimiser ([`tnrnn.memory.train.make_optimizer`][tnrnn.memory.optim.make_optimizer]);
* [`study`][tnrnn.capacity.study]: a study as an object (presets, flags, points, summary, table, figure) and the run loop;
  [`registry`][tnrnn.capacity.registry]: the studies by name, behind ``tnrnn capacity``;
* [`bits`][tnrnn.capacity.bits]: bits per parameter with the adaptive ``b`` search; [`units`][tnrnn.capacity.units]: per-unit memory;
  [`mc`][tnrnn.capacity.mc], [`mc_study`][tnrnn.capacity.mc_study]: Jaeger's memory capacity, analytic (Lyapunov) and empirical, and the Fisher
  memory curve; [`trainability`][tnrnn.capacity.trainability]: random hyperparameter draws per (cell, depth);
* [`presets`][tnrnn.capacity.presets]: the ``quick``, ``full`` and ``long`` budgets; [`plots`][tnrnn.capacity.plots]: the figures.

Data flows one way: this package imports [`tnrnn.memory`][tnrnn.memory], never the reverse.
"""
