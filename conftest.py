"""Collection rules for the doctests of ``tnrnn/`` (``--doctest-modules`` imports every module)."""

from __future__ import annotations

import importlib.util

# The compiled GF(p) kernel imports numba at module level; without numba (an optional speed-up, ``[fast]``)
# the module is never imported by tnrnn, so it must not be imported by the doctest collector either.
collect_ignore = [] if importlib.util.find_spec("numba") else ["tnrnn/bounds/_gfp_numba.py"]
