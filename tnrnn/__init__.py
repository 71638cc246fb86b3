"""tnrnn: how much long-term memory can a recurrent network hold, and what does depth buy?

Recurrent Arithmetic Circuits as explicit tensor networks, certified bounds on their separation rank, figures,
and empirical memory studies of common RNN cells. See ``README.md`` and ``docs/theory.md`` for the definitions.

The public API is re-exported here and loaded lazily, so ``import tnrnn`` stays cheap (no jax or matplotlib
until a function that needs them is used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:  # the lazy exports below, as static imports for type checkers and IDEs (never run)
    from tnrnn.base.counts import ExactCount as ExactCount
    from tnrnn.base.counts import min_count as min_count
    from tnrnn.base.errors import ResourceError as ResourceError
    from tnrnn.base.errors import TnrnnError as TnrnnError
    from tnrnn.bounds.algebraic import upper_bounds as upper_bounds
    from tnrnn.bounds.certify import Certificate as Certificate
    from tnrnn.bounds.certify import certified_rank as certified_rank
    from tnrnn.bounds.cut_explicit import explicit_mincut as explicit_mincut
    from tnrnn.bounds.cut_explicit import network_mincut as network_mincut
    from tnrnn.bounds.general import NetworkRankReport as NetworkRankReport
    from tnrnn.bounds.general import separation_bounds as separation_bounds
    from tnrnn.bounds.mincut import CutEdge as CutEdge
    from tnrnn.bounds.mincut import CutResult as CutResult
    from tnrnn.bounds.mincut import rac_mincut as rac_mincut
    from tnrnn.bounds.theory import theory_values as theory_values
    from tnrnn.capacity.bits import bits_point as bits_point
    from tnrnn.capacity.info import binary_entropy as binary_entropy
    from tnrnn.capacity.info import stored_bits as stored_bits
    from tnrnn.capacity.mc import (
        empirical_memory_function as empirical_memory_function,
    )
    from tnrnn.capacity.mc import (
        fisher_memory_curve as fisher_memory_curve,
    )
    from tnrnn.capacity.mc import (
        linear_memory_capacity as linear_memory_capacity,
    )
    from tnrnn.capacity.mc import (
        linear_memory_function as linear_memory_function,
    )
    from tnrnn.capacity.mc_study import mc_point as mc_point
    from tnrnn.capacity.tasks import (
        ParenthesesCounting as ParenthesesCounting,
    )
    from tnrnn.capacity.tasks import (
        memorisation_set as memorisation_set,
    )
    from tnrnn.capacity.tasks import (
        recall_batch as recall_batch,
    )
    from tnrnn.capacity.trainability import trainability_point as trainability_point
    from tnrnn.capacity.units import units_point as units_point
    from tnrnn.capacity.vtrain import train_members as train_members
    from tnrnn.draw import draw as draw
    from tnrnn.draw.curves import plot_rank_curves as plot_rank_curves
    from tnrnn.draw.generic import draw_tensor_network as draw_tensor_network
    from tnrnn.draw.network import draw_network as draw_network
    from tnrnn.draw.network import render_network as render_network
    from tnrnn.figures import render_rac as render_rac
    from tnrnn.gallery import build_gallery as build_gallery
    from tnrnn.memory.cells import (
        CELLS as CELLS,
    )
    from tnrnn.memory.cells import (
        apply_stack as apply_stack,
    )
    from tnrnn.memory.cells import (
        init_stack as init_stack,
    )
    from tnrnn.memory.cells import (
        width_for_budget as width_for_budget,
    )
    from tnrnn.memory.fit import train_task as train_task
    from tnrnn.memory.studies import memory_point as memory_point
    from tnrnn.memory.tasks import (
        CopyingMemory as CopyingMemory,
    )
    from tnrnn.memory.tasks import (
        StartEndSimilarity as StartEndSimilarity,
    )
    from tnrnn.memory.tasks import (
        make_task as make_task,
    )
    from tnrnn.memory.train import TrainConfig as TrainConfig
    from tnrnn.memory.train import TrainResult as TrainResult
    from tnrnn.memory.train import train as train
    from tnrnn.network.build import RACNetwork as RACNetwork
    from tnrnn.network.build import build_network as build_network
    from tnrnn.network.evaluate import (
        grid_tensor_matrix as grid_tensor_matrix,
    )
    from tnrnn.network.evaluate import (
        network_forward as network_forward,
    )
    from tnrnn.network.evaluate import (
        network_forward_modp as network_forward_modp,
    )
    from tnrnn.network.indexed import IndexedNetwork as IndexedNetwork
    from tnrnn.network.indexed import as_network as as_network
    from tnrnn.network.interop import (
        from_quimb as from_quimb,
    )
    from tnrnn.network.interop import (
        to_einsum as to_einsum,
    )
    from tnrnn.network.interop import (
        to_networkx as to_networkx,
    )
    from tnrnn.network.interop import (
        to_nodes as to_nodes,
    )
    from tnrnn.network.interop import (
        to_quimb as to_quimb,
    )
    from tnrnn.network.report import estimate_cost as estimate_cost
    from tnrnn.rac.params import (
        DEFAULT_PRIME as DEFAULT_PRIME,
    )
    from tnrnn.rac.params import (
        RACParams as RACParams,
    )
    from tnrnn.rac.params import (
        ScaledOutput as ScaledOutput,
    )
    from tnrnn.rac.params import (
        init_params_modp as init_params_modp,
    )
    from tnrnn.rac.partition import Partition as Partition
    from tnrnn.rac.partition import make_partition as make_partition
    from tnrnn.rac.problem import RankProblem as RankProblem
    from tnrnn.rac.problem import make_problem as make_problem
    from tnrnn.rac.recurrence import (
        init_params as init_params,
    )
    from tnrnn.rac.recurrence import (
        rac_forward as rac_forward,
    )
    from tnrnn.rac.recurrence import (
        rac_forward_modp as rac_forward_modp,
    )
    from tnrnn.rac.spec import RACSpec as RACSpec
    from tnrnn.rank import (
        RankReport as RankReport,
    )
    from tnrnn.rank import (
        rank_table as rank_table,
    )
    from tnrnn.rank import (
        separation_rank as separation_rank,
    )
    from tnrnn.rank import (
        solve as solve,
    )
    from tnrnn.report import TableRecord as TableRecord
    from tnrnn.sweep import (
        SweepExecutorError as SweepExecutorError,
    )
    from tnrnn.sweep import (
        load_results as load_results,
    )
    from tnrnn.sweep import (
        point_key as point_key,
    )
    from tnrnn.sweep import (
        read_results as read_results,
    )
    from tnrnn.sweep import (
        run_sweep as run_sweep,
    )

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
    "CutEdge": "tnrnn.bounds.mincut",
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
