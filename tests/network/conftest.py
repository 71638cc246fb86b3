"""Network tests keep their plan cache in a temporary folder, never in the user's ~/.cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _plan_cache_dir(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("TNRNN_CACHE_DIR", str(tmp_path_factory.mktemp("tnrnn-cache")))
    yield
    mp.undo()
