"""Figures that draw what they are given: networks with a cut, rank curves, and the shared style.

* ``tnrnn.draw(nodes, left=..., cut=...)`` draws any tensor network ([`tnrnn.draw.generic.draw`][tnrnn.draw.generic.draw]): a list of
  ``tensornetwork`` nodes, the open legs of side A, and a cut (a ``CutResult``, any object with ``.edges`` and
  optionally ``.sides``, or a plain set of edges), which is drawn bold with the two sides coloured.
* [`network`][tnrnn.draw.network] and [`compact`][tnrnn.draw.compact]: RAC networks node by node or as their (time, layer) grid.
* [`curves`][tnrnn.draw.curves]: separation rank against T. [`style`][tnrnn.draw.style]: the one plotting set-up of every figure.

Nothing here computes a bound: callers pass the cut or the records to draw. Everything renders offline and
headless with matplotlib's Agg backend (pyplot is never imported).

This package is itself callable, so ``tnrnn.draw(...)`` works whether ``tnrnn.draw`` was reached as the
function exported by ``tnrnn`` or as this subpackage.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallableModule(types.ModuleType):
    """The ``tnrnn.draw`` package, callable as [`tnrnn.draw.generic.draw`][tnrnn.draw.generic.draw]."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from tnrnn.draw.generic import draw as _draw

        return _draw(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
#: ``tnrnn.draw`` resolves to this package (callable), whichever way it is reached.
draw = sys.modules[__name__]
