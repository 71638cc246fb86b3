"""Checkpoint loading validates before reading: format, step, identity, member sizes, array headers."""

from __future__ import annotations

import io
import json
import zipfile

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.misuse.harness import mark_zip_encrypted
from tnrnn.base.checkpoint import CHECKPOINT_FORMAT, check_identity, load_checkpoint, save_checkpoint
from tnrnn.base.errors import ResourceError, TnrnnError

PARAMS = {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}
OPT = (jnp.zeros(2),)


def _write_npz(path, arrays):
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    path.write_bytes(buf.getvalue())


def _meta(**meta):
    return np.frombuffer(json.dumps({"format": CHECKPOINT_FORMAT, **meta}).encode(), dtype=np.uint8)


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), step=st.integers(0, 10**6))
def test_round_trip_any_shape(tmp_path_factory, rows, cols, step):
    path = tmp_path_factory.mktemp("ck") / "c.npz"
    params = {"w": jnp.arange(rows * cols, dtype=jnp.float32).reshape(rows, cols)}
    save_checkpoint(path, params, (), {"step": step})
    loaded, _, meta = load_checkpoint(path, {"w": jnp.zeros((rows, cols))}, ())
    assert np.array_equal(np.asarray(loaded["w"]), np.asarray(params["w"])) and meta["step"] == step


@pytest.mark.parametrize("content, match", [
    (b"", "the file is empty"),
    (b"PK\x03\x04truncated", "not a complete tnrnn training checkpoint"),
    (b"hello, not a zip", "not a complete tnrnn training checkpoint"),
])
def test_empty_truncated_or_foreign_files(tmp_path, content, match):
    path = tmp_path / "c.npz"
    path.write_bytes(content)
    with pytest.raises(TnrnnError, match=match):
        load_checkpoint(path, PARAMS, OPT)


def test_truncated_real_checkpoint(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(path, PARAMS, OPT, {"step": 3})
    data = path.read_bytes()
    for cut in (len(data) // 3, len(data) - 10):
        path.write_bytes(data[:cut])
        with pytest.raises(TnrnnError):
            load_checkpoint(path, PARAMS, OPT)


@pytest.mark.parametrize("meta, match", [
    ({}, "no valid step"),
    ({"step": None}, "no valid step"),
    ({"step": -500}, "no valid step"),
    ({"step": 1.5}, "no valid step"),
    ({"step": True}, "no valid step"),
    ({"step": 900, "config": {"steps": 100}}, "beyond the 100 steps"),
])
def test_bad_steps_are_refused(tmp_path, meta, match):
    path = tmp_path / "c.npz"
    _write_npz(path, {"meta": _meta(**meta), "p0": np.ones(3), "p1": np.ones((2, 3)), "o0": np.zeros(2)})
    with pytest.raises(TnrnnError, match=match):
        load_checkpoint(path, PARAMS, OPT)


def test_non_checkpoint_npz_and_pickles(tmp_path):
    path = tmp_path / "c.npz"
    _write_npz(path, {"x": np.ones(3)})
    with pytest.raises(TnrnnError, match="no meta"):
        load_checkpoint(path, PARAMS, OPT)
    _write_npz(path, {"meta": _meta(step=1), "p0": np.array([object()], dtype=object), "p1": np.ones((2, 3)),
                      "o0": np.zeros(2)})
    with pytest.raises(TnrnnError, match="Python objects"):
        load_checkpoint(path, PARAMS, OPT)


def test_other_model_shapes_and_counts(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(path, PARAMS, OPT, {"step": 1})
    with pytest.raises(TnrnnError, match="different model"):
        load_checkpoint(path, {"w": jnp.zeros((3, 3)), "b": jnp.ones(3)}, OPT)
    with pytest.raises(TnrnnError, match="different model"):
        load_checkpoint(path, {"w": jnp.zeros((2, 3))}, OPT)


def test_decompression_bomb_is_refused_unread(tmp_path, monkeypatch):
    # 64 MiB of zeros deflate to about 64 KiB; with a 16 MiB budget the header sizes refuse it unread.
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.npy", _npy(_meta(step=1)))
        with zf.open("p0.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header((2**23,)))
            chunk = bytes(2**20)
            for _ in range(64):
                fh.write(chunk)
    assert path.stat().st_size < 2**20
    read = []
    monkeypatch.setattr(np.lib.format, "read_array", lambda *a, **k: read.append(1))
    with pytest.raises(ResourceError, match="nothing was decompressed"):
        load_checkpoint(path, {"w": jnp.zeros(2**23)}, (), max_bytes=16 * 2**20)
    assert read == []


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _npy_header(shape):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_identity_required_checked_and_extensible():
    meta = {"step": 100, "config": {"steps": 100, "lr": 0.1}, "task": "ses"}
    check_identity("c", meta, {"config": {"steps": 400, "lr": 0.1}, "task": "ses", "model": None})
    with pytest.raises(TnrnnError, match="no run identity"):
        check_identity("c", {"step": 5}, {"config": {"steps": 10}})
    with pytest.raises(TnrnnError, match="another run"):
        check_identity("c", meta, {"config": {"steps": 100, "lr": 0.1}, "task": "copy"})
    with pytest.raises(TnrnnError, match="beyond the 50 steps"):
        check_identity("c", meta, {"config": {"steps": 50, "lr": 0.1}})


def test_load_with_identity(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(path, PARAMS, OPT, {"step": 10, "config": {"steps": 10, "lr": 0.1}})
    *_, meta = load_checkpoint(path, PARAMS, OPT, identity={"config": {"steps": 20, "lr": 0.1}})
    assert meta["step"] == 10
    with pytest.raises(TnrnnError, match="another run"):
        load_checkpoint(path, PARAMS, OPT, identity={"config": {"steps": 20, "lr": 0.5}})


def test_inspect_checkpoint_validates_without_templates(tmp_path):
    from tnrnn.base.checkpoint import inspect_checkpoint

    path = tmp_path / "c.npz"
    save_checkpoint(path, PARAMS, OPT, {"step": 4, "config": {"steps": 10}})
    assert inspect_checkpoint(path)["step"] == 4
    with pytest.raises(ResourceError, match="nothing was decompressed"):
        inspect_checkpoint(path, max_bytes=16)
    _write_npz(path, {"meta": _meta(step=-500), "p0": np.ones(3)})
    with pytest.raises(TnrnnError, match="no valid step"):
        inspect_checkpoint(path)


# ------------------------------------------------------------------------ dtypes, encryption, configuration


@pytest.mark.parametrize("array", [
    np.ones(3, dtype=np.complex64),
    np.zeros(3, dtype=[("a", "f4"), ("b", "i4")]),
    np.array(["2020-01-01"] * 3, dtype="datetime64[D]"),
    np.array([1, 2, 3], dtype="timedelta64[s]"),
    np.array(["abc"] * 3),
    np.zeros((3,), dtype=("f4", (2,))).view(np.dtype((np.void, 8))),
], ids=["complex", "structured", "datetime", "timedelta", "string", "void"])
def test_only_real_number_arrays_are_accepted(tmp_path, array):
    from tnrnn.base.checkpoint import inspect_checkpoint

    path = tmp_path / "c.npz"
    _write_npz(path, {"meta": _meta(step=1), "p0": array, "p1": np.ones(3), "o0": np.zeros(2)})
    for load in (lambda: load_checkpoint(path, {"a": jnp.zeros(3), "b": jnp.ones(3)}, OPT),
                 lambda: inspect_checkpoint(path)):
        with pytest.raises(TnrnnError, match="bool, integer or float arrays only|shape"):
            load()


def test_an_encrypted_zip_is_refused_cleanly(tmp_path):
    from tnrnn.base.checkpoint import inspect_checkpoint

    path = tmp_path / "c.npz"
    save_checkpoint(path, PARAMS, OPT, {"step": 1})
    path.write_bytes(mark_zip_encrypted(path.read_bytes()))
    with zipfile.ZipFile(path) as check, pytest.raises(RuntimeError, match="encrypted"):
        check.read("meta.npy")  # the archive really is one zipfile refuses to read without a password
    for load in (lambda: load_checkpoint(path, PARAMS, OPT), lambda: inspect_checkpoint(path)):
        with pytest.raises(TnrnnError, match="encrypted zip archive"):
            load()


def test_a_meta_with_a_repeated_key_is_refused(tmp_path):
    path = tmp_path / "c.npz"
    raw = ('{"format": "' + CHECKPOINT_FORMAT + '", "step": 1, "step": 5}').encode()
    _write_npz(path, {"meta": np.frombuffer(raw, dtype=np.uint8), "p0": np.ones((2, 3)), "p1": np.ones(3),
                      "o0": np.zeros(2)})
    with pytest.raises(TnrnnError, match="meta is not JSON"):
        load_checkpoint(path, PARAMS, OPT)


def test_probe_refuses_a_checkpoint_of_another_configuration(tmp_path, capsys):
    from tnrnn.cli import main

    path = tmp_path / "c.npz"
    meta = {"step": 1, "model": {"cell": "gru", "nonlinearity": "tanh", "forget_bias": 1.0},
            "task": {"task": "ses", "symbols": 4, "span": 4, "time": 8}}
    save_checkpoint(path, PARAMS, OPT, meta)
    probe = ["probe", "--cell", "gru", "--depth", "1", "--width", "4", "--symbols", "4", "--checkpoint", str(path)]
    assert main([*probe, "--time", "12"]) == 2  # same shapes, another T: refused before any model is built
    err = capsys.readouterr().err.strip()
    assert "another configuration" in err and "time 8 -> 12" in err and len(err.splitlines()) == 1
    assert main([*probe[:2], "lstm", *probe[3:], "--time", "8"]) == 2
    assert "cell 'gru' -> 'lstm'" in capsys.readouterr().err
    save_checkpoint(path, PARAMS, OPT, {"step": 1})
    assert main([*probe, "--time", "8"]) == 2
    assert "records no model or task" in capsys.readouterr().err
