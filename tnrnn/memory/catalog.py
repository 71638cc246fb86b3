"""What the memory experiments offer, by name, without jax: the cells' metadata table and the task names.

Commands list and check these names while parsing their arguments; keeping them apart from the cells' and
tasks' jax code ([`tnrnn.memory.cells`][tnrnn.memory.cells] re-exports the cell table, [`tnrnn.memory.tasks`][tnrnn.memory.tasks] maps the names
to classes) lets a command refuse bad input, a bad checkpoint included, before jax is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from tnrnn.base.errors import TnrnnError


@dataclass(frozen=True)
class CellInfo:
    """What the rest of the package needs to know about a cell (one row of `CELL_TABLE`).

    Attributes
    ----------
    label : str
        Name in figures and tables.
    gates : int
        Gate blocks G (the width of ``Wx`` is G * width).
    min_depth : int
        Smallest depth the cell is defined for (+RNN: 2).
    readout_bias : bool
        Whether the linear readout has a bias (not for the RAC, a multilinear circuit).
    """

    label: str
    gates: int
    min_depth: int = 1
    readout_bias: bool = True


#: The one table of cell metadata, in the order cells are listed and plotted.
CELL_TABLE: dict[str, CellInfo] = {
    "rac": CellInfo("RAC", 1, readout_bias=False),
    "rnn": CellInfo("RNN", 1),
    "irnn": CellInfo("IRNN", 1),
    "ugrnn": CellInfo("UGRNN", 2),
    "gru": CellInfo("GRU", 3),
    "lstm": CellInfo("LSTM", 4),
    "plusrnn": CellInfo("+RNN", 4, min_depth=2),
    "scornn": CellInfo("scoRNN", 1),
}

#: Names accepted by ``cell=``.
CELLS: tuple[str, ...] = tuple(CELL_TABLE)

#: Number of gate blocks G per cell (the width of ``Wx`` is G * width).
GATES: dict[str, int] = {name: info.gates for name, info in CELL_TABLE.items()}


def check_cell(cell: str) -> str:
    """Return the cell name in lower case, or raise a [`TnrnnError`][tnrnn.base.errors.TnrnnError] listing the valid ones.

    Examples
    --------
    >>> check_cell("GRU"), check_cell("+RNN")
    ('gru', 'plusrnn')
    """
    name = str(cell).lower().replace("+rnn", "plusrnn")
    if name not in CELLS:
        raise TnrnnError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    return name


#: Task names, in the order they are listed (``tnrnn.memory.tasks.TASKS`` maps them to classes).
TASK_NAMES: tuple[str, ...] = ("ses", "copying", "ses-halves")

#: Other accepted spellings of task names.
TASK_ALIASES: dict[str, str] = {"copy": "copying"}
