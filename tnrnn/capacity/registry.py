"""The capacity studies by name: the one table ``tnrnn capacity STUDY`` dispatches through.

Examples
--------
>>> sorted(STUDIES)
['bits', 'mc', 'trainability', 'units']
>>> STUDIES["bits"].presets["long"]["steps"]
20000
"""

from __future__ import annotations

from tnrnn.base.errors import TnrnnError
from tnrnn.capacity.bits import BitsStudy
from tnrnn.capacity.mc_study import MCStudy
from tnrnn.capacity.study import Study
from tnrnn.capacity.trainability import TrainabilityStudy
from tnrnn.capacity.units import UnitsStudy

#: Study name -> study object (points, summary, table, plot).
STUDIES: dict[str, Study] = {s.name: s for s in (BitsStudy(), UnitsStudy(), MCStudy(), TrainabilityStudy())}


def get_study(name: str) -> Study:
    """The study called ``name``.

    Parameters
    ----------
    name : str

    Returns
    -------
    Study

    Raises
    ------
    TnrnnError
        An unknown name (the message lists the studies).

    Examples
    --------
    >>> get_study("mc").name
    'mc'
    """
    try:
        return STUDIES[name]
    except KeyError:
        raise TnrnnError(f"unknown capacity study {name!r}; choose one of {', '.join(STUDIES)}") from None
