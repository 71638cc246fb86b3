"""The public API re-exported by ``tnrnn``: every name resolves, and lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import tnrnn


@pytest.mark.parametrize("name", sorted(tnrnn._EXPORTS))
def test_every_export_resolves_to_its_module_object(name):
    module = importlib.import_module(tnrnn._EXPORTS[name])
    assert getattr(tnrnn, name) is getattr(module, name)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tnrnn.nope  # noqa: B018


def test_import_is_lazy():
    code = "import sys, tnrnn; print('jax' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
