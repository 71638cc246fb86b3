"""The cache folder honours TNRNN_CACHE_DIR, then the platform's rule (XDG_CACHE_HOME on Linux)."""

from __future__ import annotations

import sys

import pytest

from tnrnn.base.cachedir import cache_root
from tnrnn.network.plan import cache_dir


def test_tnrnn_cache_dir_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("TNRNN_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "c" and cache_dir() == tmp_path / "c" / "plans"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_CACHE_HOME is the Linux rule")
def test_xdg_cache_home_is_honoured_on_linux(monkeypatch, tmp_path):
    monkeypatch.delenv("TNRNN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "tnrnn" / "plans"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "tnrnn"
