"""Shared test set-up: hypothesis profiles and the independent references of ``tests/reference.py``."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, settings

from tests import reference

# Contraction plans are cached on disk; tests (and the commands they start) must not write to the user's cache.
os.environ["TNRNN_CACHE_DIR"] = tempfile.mkdtemp(prefix="tnrnn-test-cache-")

# CI runs the same examples every time (derandomised); locally the default profile explores.
settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def ref():
    """The independent references (brute-force recurrence, one-hot tables, exact rank over Q, SVG ids)."""
    return reference
