"""tnrnn: how much long-term memory can a recurrent network hold, and what does depth buy?

Recurrent Arithmetic Circuits as explicit tensor networks, certified bounds on their separation rank, figures,
and empirical memory studies of common RNN cells. See ``README.md`` and ``docs/theory.md`` for the definitions.

The public API is re-exported here and loaded lazily, so ``import tnrnn`` stays cheap (no jax or matplotlib
until a function that needs them is used).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "TnrnnError": "tnrnn.base.errors",
    "ResourceError": "tnrnn.base.errors",
    "RACSpec": "tnrnn.rac.spec",
    "RACParams": "tnrnn.rac.params",
    "ScaledOutput": "tnrnn.rac.params",
    "init_params": "tnrnn.rac.recurrence",
    "init_params_modp": "tnrnn.rac.params",
    "rac_forward": "tnrnn.rac.recurrence",
    "rac_forward_modp": "tnrnn.rac.recurrence",
    "DEFAULT_PRIME": "tnrnn.rac.params",
    "build_network": "tnrnn.network.build",
    "RACNetwork": "tnrnn.network.build",
    "network_forward": "tnrnn.network.evaluate",
    "network_forward_modp": "tnrnn.network.evaluate",
    "grid_tensor_matrix": "tnrnn.network.evaluate",
    "estimate_cost": "tnrnn.network.report",
    "Partition": "tnrnn.rac.partition",
    "make_partition": "tnrnn.rac.partition",
    # bounds and ranks
    "ExactCount": "tnrnn.base.counts",
    "min_count": "tnrnn.base.counts",
    "CutResult": "tnrnn.bounds.mincut",
    "network_mincut": "tnrnn.bounds.cut_explicit",
    "rac_mincut": "tnrnn.bounds.mincut",
    # any tensor network: bounds and interop
    "separation_bounds": "tnrnn.bounds.general",
    "NetworkRankReport": "tnrnn.bounds.general",
    "explicit_mincut": "tnrnn.bounds.cut_explicit",
    "IndexedNetwork": "tnrnn.network.indexed",
    "as_network": "tnrnn.network.indexed",
    "to_quimb": "tnrnn.network.interop",
    "from_quimb": "tnrnn.network.interop",
    "to_einsum": "tnrnn.network.interop",
    "to_networkx": "tnrnn.network.interop",
    "to_nodes": "tnrnn.network.interop",
    "upper_bounds": "tnrnn.bounds.algebraic",
    "theory_values": "tnrnn.bounds.theory",
    "Certificate": "tnrnn.bounds.certify",
    "certified_rank": "tnrnn.bounds.certify",
    "RankReport": "tnrnn.rank",
    "separation_rank": "tnrnn.rank",
    "rank_table": "tnrnn.rank",
    "solve": "tnrnn.rank",
    "RankProblem": "tnrnn.rac.problem",
    "make_problem": "tnrnn.rac.problem",
    "TableRecord": "tnrnn.report",
    # figures
    "render_network": "tnrnn.draw.network",
    "draw_network": "tnrnn.draw.network",
    "draw_tensor_network": "tnrnn.draw.generic",
    "draw": "tnrnn.draw",
    "plot_rank_curves": "tnrnn.draw.curves",
    "build_gallery": "tnrnn.gallery",
    "render_rac": "tnrnn.figures",
    # sweeps
    "run_sweep": "tnrnn.sweep",
    "load_results": "tnrnn.sweep",
    "read_results": "tnrnn.sweep",
    "point_key": "tnrnn.sweep",
    "SweepExecutorError": "tnrnn.sweep",
    # empirical memory
    "CELLS": "tnrnn.memory.cells",
    "init_stack": "tnrnn.memory.cells",
    "apply_stack": "tnrnn.memory.cells",
    "width_for_budget": "tnrnn.memory.cells",
    "CopyingMemory": "tnrnn.memory.tasks",
    "StartEndSimilarity": "tnrnn.memory.tasks",
    "make_task": "tnrnn.memory.tasks",
    "TrainConfig": "tnrnn.memory.train",
    "TrainResult": "tnrnn.memory.train",
    "train": "tnrnn.memory.train",
    "train_task": "tnrnn.memory.fit",
    "memory_point": "tnrnn.memory.studies",
    # capacity and trainability
    "binary_entropy": "tnrnn.capacity.info",
    "stored_bits": "tnrnn.capacity.info",
    "memorisation_set": "tnrnn.capacity.tasks",
    "recall_batch": "tnrnn.capacity.tasks",
    "ParenthesesCounting": "tnrnn.capacity.tasks",
    "train_members": "tnrnn.capacity.vtrain",
    "bits_point": "tnrnn.capacity.bits",
    "units_point": "tnrnn.capacity.units",
    "linear_memory_capacity": "tnrnn.capacity.mc",
    "linear_memory_function": "tnrnn.capacity.mc",
    "fisher_memory_curve": "tnrnn.capacity.mc",
    "empirical_memory_function": "tnrnn.capacity.mc",
    "mc_point": "tnrnn.capacity.mc_study",
    "trainability_point": "tnrnn.capacity.trainability",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tnrnn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
