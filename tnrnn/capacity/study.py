"""A capacity study as an object: its presets, flags, sweep points, summary, table and figure.

Every study of [`tnrnn.capacity`][tnrnn.capacity] is a [`Study`][tnrnn.capacity.study.Study]; `tnrnn.capacity.registry.STUDIES` maps names
to them and the CLI (``tnrnn capacity STUDY``) only talks to this interface:

* `Study.presets` (``quick``, ``full``, and ``long`` where a study has one) and `Study.options`,
  the flags that override single entries of a preset ([`Study.config`][tnrnn.capacity.study.Study.config] merges them);
* [`Study.points`][tnrnn.capacity.study.Study.points]: the sweep points to run given the records finished so far (a study may add points
  once it has seen results: the bits study extends its ``b`` grid while stored bits still rise);
* [`Study.summary`][tnrnn.capacity.study.Study.summary], [`Study.table`][tnrnn.capacity.study.Study.table], [`Study.plot`][tnrnn.capacity.study.Study.plot].

[`run_study`][tnrnn.capacity.study.run_study] runs the points through the resumable sweep runner until the study asks for no new ones;
[`stored_records`][tnrnn.capacity.study.stored_records] collects what a results file already holds for them, running nothing (a summary of a
study stopped part-way).
"""

from __future__ import annotations

import copy
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tnrnn.base.errors import TnrnnError
from tnrnn.sweep import point_key, read_results, run_sweep

#: Kinds of flag values: a cell list, lists of positive ints / floats, seeds (ints >= 0), one positive int,
#: a spectral radius in (0, 1), and a list of names.
OPTION_KINDS = ("cells", "int_list", "float_list", "seed_list", "int", "radius", "names")


@dataclass(frozen=True)
class Option:
    """A flag of a study's subcommand overriding the preset entry ``key``.

    Parameters
    ----------
    flag : str
        E.g. ``"--lrs"``.
    key : str
        The config entry it sets, e.g. ``"learning_rates"``.
    kind : str
        How its text is parsed, one of `OPTION_KINDS` (the CLI maps each kind to its parser, so the
        studies do not import the CLI).
    help : str
    """

    flag: str
    key: str
    kind: str
    help: str = ""

    def __post_init__(self) -> None:
        if self.kind not in OPTION_KINDS:
            raise TnrnnError(f"option kind must be one of {', '.join(OPTION_KINDS)}, got {self.kind!r}")


class Study(ABC):
    """Interface of a capacity study (see the module docstring)."""

    #: Subcommand name, e.g. ``"bits"``; results go to ``capacity_<name>[_<preset>].json``.
    name: ClassVar[str]
    help: ClassVar[str]
    description: ClassVar[str]
    #: ``"module:function"`` the sweep runner calls once per point.
    point_task: ClassVar[str]
    presets: ClassVar[dict[str, dict[str, Any]]]
    options: ClassVar[tuple[Option, ...]] = ()

    def config(self, preset: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """A copy of preset ``preset`` with the non-``None`` ``overrides`` applied.

        Parameters
        ----------
        preset : str
            A key of `presets`.
        overrides : dict, optional
            Config key -> value; ``None`` values are ignored (a flag not given).

        Returns
        -------
        dict

        Raises
        ------
        TnrnnError
            An unknown preset or key.

        Examples
        --------
        >>> from tnrnn.capacity.registry import STUDIES
        >>> STUDIES["units"].config("quick", {"steps": 7, "seeds": None})["steps"]
        7
        """
        if preset not in self.presets:
            raise TnrnnError(f"the {self.name} study has presets {', '.join(self.presets)}, not {preset!r}")
        cfg = copy.deepcopy(self.presets[preset])
        for key, value in (overrides or {}).items():
            if value is None:
                continue
            if key not in cfg:
                raise TnrnnError(f"the {self.name} study has no setting {key!r}")
            cfg[key] = value
        return cfg

    @abstractmethod
    def points(self, config: dict[str, Any], records: list[dict]) -> list[dict]:
        """Every point to run, given the sweep ``records`` finished so far (validated before any run)."""

    @abstractmethod
    def summary(self, records: list[dict], config: dict[str, Any]) -> dict:
        """The study's JSON summary of the sweep records (the config travels in ``training``)."""

    @abstractmethod
    def table(self, summary: dict) -> list[dict]:
        """One row per result, for the CLI's table."""

    @abstractmethod
    def plot(self, summary: dict, path: str | os.PathLike) -> Path:
        """Draw the summary to ``path`` (PNG or SVG)."""

    def has_data(self, summary: dict) -> bool:
        """Whether the summary holds anything to draw."""
        return bool(summary.get("sizes") or summary.get("curves") or summary.get("rows"))


def run_study(study: Study, config: dict[str, Any], results: str | os.PathLike | None, *,
              max_rounds: int = 100, **sweep: Any) -> list[dict]:
    """Run ``study``'s points through [`tnrnn.sweep.run_sweep`][tnrnn.sweep.runner.run_sweep] until it asks for no new point.

    Parameters
    ----------
    study : Study
    config : dict
        From [`Study.config`][tnrnn.capacity.study.Study.config].
    results : path or None
        JSON-lines file of the sweep (resumable: finished points are skipped).
    max_rounds : int
        Guard against a study that keeps asking for points (each round runs at least one new point).
    **sweep
        Passed to [`tnrnn.sweep.run_sweep`][tnrnn.sweep.runner.run_sweep] (``executor``, ``workers``, ``progress`` ...).

    Returns
    -------
    list of dict
        The records of every point of the last round.

    Examples
    --------
    >>> from tnrnn.capacity.registry import STUDIES
    >>> mc = STUDIES["mc"]
    >>> cfg = mc.config("quick", {"sizes": [3], "kinds": ["orthogonal"], "train_steps": 500,
    ...                           "test_steps": 500, "washout": 50})
    >>> recs = run_study(mc, cfg, None, executor="serial", progress=False)
    >>> [r["status"] for r in recs]
    ['ok']
    """
    seen: set[str] = set()
    records: list[dict] = []
    for _ in range(max_rounds):
        points = study.points(config, records)
        keys = {repr(sorted(p.items())) for p in points}
        if keys <= seen:
            return records
        seen |= keys
        records = run_sweep(study.point_task, points, results, desc=f"capacity {study.name}", **sweep)
    raise TnrnnError(f"the {study.name} study still asked for new points after {max_rounds} rounds")


def stored_records(study: Study, config: dict[str, Any], results: str | os.PathLike, *,
                   max_rounds: int = 100) -> list[dict]:
    """The records ``results`` already holds for ``study``'s points, following its rounds; nothing runs.

    Parameters
    ----------
    study : Study
    config : dict
    results : path
        JSON-lines results file of the sweep.
    max_rounds : int
        Guard, as in [`run_study`][tnrnn.capacity.study.run_study].

    Returns
    -------
    list of dict
        Stored records (finished or failed) of the points the study asks for, given the stored records.

    Examples
    --------
    >>> from tnrnn.capacity.registry import STUDIES
    >>> stored_records(STUDIES["mc"], STUDIES["mc"].config("quick"), "/nonexistent/results.jsonl")
    []
    """
    stored = read_results(results).records
    records: list[dict] = []
    for _ in range(max_rounds):
        keys = [point_key(study.point_task, p) for p in study.points(config, records)]
        found = [stored[k] for k in keys if k in stored]
        if len(found) == len(records):
            return found
        records = found
    raise TnrnnError(f"the {study.name} study still asked for new points after {max_rounds} rounds")
