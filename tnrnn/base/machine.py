"""What machine a float result came from: CPU, accelerator, XLA flags and library versions.

Float training is not bit-reproducible across machines: XLA chooses kernels, fusions and reduction orders by
CPU features, thread counts and accelerator, so the same seed can follow another trajectory elsewhere (runs
have been seen to differ from step 200 on). Results therefore record where they were computed, and the studies
state their conclusions over seeds, never for one seed.
"""

from __future__ import annotations

import os
import platform


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()[:120]
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_provenance() -> dict:
    """CPU model and count, the jax backend and devices, XLA and thread flags, jax and jaxlib versions.

    Imports jax (call it from code that already uses it).

    Examples
    --------
    >>> m = machine_provenance()
    >>> sorted(m)
    ['backend', 'cpu', 'cpu_count', 'devices', 'jax', 'jaxlib', 'machine', 'xla_flags']
    """
    import jax
    import jaxlib

    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "backend": jax.default_backend(),
        "devices": sorted({f"{d.platform}:{getattr(d, 'device_kind', '?')}" for d in jax.devices()}),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
    }
