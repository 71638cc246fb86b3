"""tnrnn: how much long-term memory can a recurrent network hold, and what does depth buy?

Recurrent Arithmetic Circuits as explicit tensor networks, certified bounds on their separation rank, figures,
and empirical memory studies of common RNN cells. See ``README.md`` and ``SCIENCE.md`` for the definitions.

The public API is re-exported here and loaded lazily, so ``import tnrnn`` stays cheap (no jax or matplotlib
until a function that needs them is used).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "TnrnnError": "tnrnn.errors",
    "ResourceError": "tnrnn.errors",
    "RACSpec": "tnrnn.spec",
    "RACParams": "tnrnn.rac",
    "init_params": "tnrnn.rac",
    "init_params_modp": "tnrnn.rac",
    "rac_forward": "tnrnn.rac",
    "rac_forward_modp": "tnrnn.rac",
    "DEFAULT_PRIME": "tnrnn.rac",
    "build_network": "tnrnn.network.build",
    "RACNetwork": "tnrnn.network.build",
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
