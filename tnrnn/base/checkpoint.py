"""Training checkpoints: parameters, optimiser state and a JSON ``meta`` in one ``.npz``, written atomically.

Loading checks everything it can before reading any array data: that the file is a regular, complete zip
archive; that its members are the expected ones and their declared uncompressed sizes fit the memory budget
(so a small file that inflates to gigabytes is refused unread); the ``meta`` (format, a step that is a
non-negative integer within the run it was written for, and, when the caller gives one, the run identity);
and each array's shape and dtype from its ``.npy`` header (only real numbers: bool, integer and float dtypes;
complex, structured, datetime, string and object arrays are refused). Encrypted members are refused before any
is opened. Reads are bounded by the declared sizes.

A finished run can be extended: a checkpoint matches a run that differs only in its number of steps, as long
as the new count is not below the checkpoint's step.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tnrnn.base.budget import budget_bytes
from tnrnn.base.errors import ResourceError, TnrnnError, human_bytes
from tnrnn.base.io import check_input_file, loads_json, write_bytes_atomic

__all__ = ["save_checkpoint", "load_checkpoint", "inspect_checkpoint", "CHECKPOINT_FORMAT", "check_identity"]

CHECKPOINT_FORMAT = "tnrnn-train-checkpoint/1"
_MAX_META_BYTES = 64 * 2**20
# Identity fields that may differ between a checkpoint and the run resuming it (extending a finished run).
_EXTENSIBLE = ("steps",)
# dtype kinds a checkpoint array may have: bool, signed and unsigned integers, floats (a model's parameters and
# optimiser state are real numbers; anything else is not a tnrnn checkpoint).
_ARRAY_KINDS = "biuf"
# Errors zipfile raises on a damaged, unsupported or encrypted archive.
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError)


def save_checkpoint(path: str | os.PathLike, params: Any, opt_state: Any, meta: dict) -> Path:
    """Write parameters, optimiser state and ``meta`` (JSON) to an ``.npz`` file atomically.

    Parameters
    ----------
    path : str or path
        Target file (its folder is created).
    params, opt_state : pytrees of arrays
        Stored leaf by leaf (``p0, p1, ...`` and ``o0, o1, ...``).
    meta : dict
        JSON-serialisable; must hold ``"step"``, a non-negative integer.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    TnrnnError
        ``meta`` without a valid step.

    Examples
    --------
    >>> import tempfile, os
    >>> import jax.numpy as jnp
    >>> path = os.path.join(tempfile.mkdtemp(), "ck.npz")
    >>> _ = save_checkpoint(path, {"w": jnp.arange(3.0)}, (), {"step": 7})
    >>> params, _, meta = load_checkpoint(path, {"w": jnp.zeros(3)}, ())
    >>> params["w"].tolist(), meta["step"]
    ([0.0, 1.0, 2.0], 7)
    """
    import jax

    _check_step(path, meta.get("step"), None)
    arrays = {f"p{i}": np.asarray(x) for i, x in enumerate(jax.tree_util.tree_leaves(params))}
    arrays.update({f"o{i}": np.asarray(x) for i, x in enumerate(jax.tree_util.tree_leaves(opt_state))})
    full = {"format": CHECKPOINT_FORMAT, **meta}
    arrays["meta"] = np.frombuffer(json.dumps(full).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # numpy stubs take **kwds as allow_pickle
    # Atomic, so a crash leaves the previous checkpoint intact.
    return write_bytes_atomic(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike, params_like: Any, opt_state_like: Any, *,
                    identity: dict | None = None, max_bytes: int | None = None) -> tuple[Any, Any, dict]:
    """Read a checkpoint written by [`save_checkpoint`][tnrnn.base.checkpoint.save_checkpoint] into the structure of the given templates.

    Parameters
    ----------
    path : str or path
    params_like, opt_state_like : pytrees of arrays
        Templates: the stored arrays must have their leaf count and shapes; values take their dtypes.
    identity : dict, optional
        What the checkpoint must have been written for (e.g. ``{"config": ..., "task": ..., "model": ...}``);
        ``None`` skips the identity check. See [`check_identity`][tnrnn.base.checkpoint.check_identity].
    max_bytes : int, optional
        Largest total uncompressed size accepted (default: the memory budget, ``$TNRNN_MAX_BYTES``).

    Returns
    -------
    tuple
        ``(params, opt_state, meta)``.

    Raises
    ------
    TnrnnError
        Not a regular file, empty or truncated, not a tnrnn checkpoint, a meta without a valid step, another
        run's identity (or none when one is required), or arrays of other shapes.
    ResourceError
        Declared sizes beyond ``max_bytes`` (nothing was decompressed).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "empty.npz")
    >>> _ = open(path, "wb").close()
    >>> load_checkpoint(path, {}, ())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: cannot read checkpoint '...empty.npz': the file is empty (not a tnrnn training checkpoint)
    """
    import jax
    import jax.numpy as jnp

    check_input_file(path, "checkpoint")
    where = f"checkpoint {str(path)!r}"
    if os.path.getsize(path) == 0:
        raise TnrnnError(f"cannot read {where}: the file is empty (not a tnrnn training checkpoint)")
    p_leaves, p_def = jax.tree_util.tree_flatten(params_like)
    o_leaves, o_def = jax.tree_util.tree_flatten(opt_state_like)
    limit = budget_bytes() if max_bytes is None else int(max_bytes)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = _check_members(zf, where, len(p_leaves), len(o_leaves), limit)
            meta = _read_meta(zf, infos["meta.npy"], where)
            _check_step(path, meta.get("step"), (meta.get("config") or {}).get("steps")
                        if isinstance(meta.get("config"), dict) else None)
            if identity is not None:
                check_identity(path, meta, identity)
            expected = {f"p{i}.npy": leaf for i, leaf in enumerate(p_leaves)}
            expected.update({f"o{i}.npy": leaf for i, leaf in enumerate(o_leaves)})
            headers = {name: _array_header(zf, infos[name], where, np.shape(leaf)) for name, leaf in expected.items()}
            arrays = {name: _read_array(zf, infos[name], headers[name], where) for name in expected}
    except _ZIP_ERRORS as exc:
        raise TnrnnError(f"cannot read {where}: not a complete tnrnn training checkpoint (.npz) "
                         f"({' '.join(str(exc).split()) or type(exc).__name__})") from None
    except OSError as exc:
        raise TnrnnError(f"cannot read {where}: {exc.strerror or exc}") from None

    def restore(prefix: str, leaves: list, treedef: Any) -> Any:
        values = [jnp.asarray(arrays[f"{prefix}{i}.npy"], dtype=jnp.asarray(leaf).dtype) for i, leaf in enumerate(leaves)]
        return jax.tree_util.tree_unflatten(treedef, values)

    return restore("p", p_leaves, p_def), restore("o", o_leaves, o_def), meta


def inspect_checkpoint(path: str | os.PathLike, *, max_bytes: int | None = None) -> dict:
    """Validate a checkpoint without templates (and without jax) and return its meta: for commands to refuse a
    bad ``--checkpoint`` before building any model.

    Checks what [`load_checkpoint`][tnrnn.base.checkpoint.load_checkpoint] checks except the array shapes (the arrays' sizes and headers are
    checked against their declared sizes, not against a model).

    Raises
    ------
    TnrnnError, ResourceError
        As [`load_checkpoint`][tnrnn.base.checkpoint.load_checkpoint].

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "c.npz")
    >>> _ = open(path, "w").write("not a zip")
    >>> inspect_checkpoint(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: cannot read checkpoint '...c.npz': not a complete tnrnn training checkpoint (.npz) (File is not a zip file)
    """
    check_input_file(path, "checkpoint")
    where = f"checkpoint {str(path)!r}"
    if os.path.getsize(path) == 0:
        raise TnrnnError(f"cannot read {where}: the file is empty (not a tnrnn training checkpoint)")
    limit = budget_bytes() if max_bytes is None else int(max_bytes)
    try:
        with zipfile.ZipFile(path) as zf:
            names = [info.filename for info in zf.infolist()]
            n_params = sum(1 for n in names if n.startswith("p"))
            infos = _check_members(zf, where, n_params, len(names) - n_params - 1, limit)
            meta = _read_meta(zf, infos["meta.npy"], where)
            for name, info in infos.items():
                if name != "meta.npy":
                    _array_header(zf, info, where, None)
    except _ZIP_ERRORS as exc:
        raise TnrnnError(f"cannot read {where}: not a complete tnrnn training checkpoint (.npz) "
                         f"({' '.join(str(exc).split()) or type(exc).__name__})") from None
    except OSError as exc:
        raise TnrnnError(f"cannot read {where}: {exc.strerror or exc}") from None
    config = meta.get("config")
    _check_step(path, meta.get("step"), config.get("steps") if isinstance(config, dict) else None)
    return meta


def _check_members(zf: zipfile.ZipFile, where: str, n_params: int, n_opt: int, limit: int) -> dict:
    infos = {info.filename: info for info in zf.infolist()}
    if any(info.flag_bits & 0x1 for info in infos.values()):  # bit 0: the member is encrypted
        raise TnrnnError(f"{where} is an encrypted zip archive, not a tnrnn training checkpoint (tnrnn never "
                         "encrypts checkpoints)")
    if "meta.npy" not in infos:
        raise TnrnnError(f"{where} is not a tnrnn training checkpoint (no meta)")
    total = sum(info.file_size for info in infos.values())
    if total > limit:
        raise ResourceError(f"{where} declares {human_bytes(total)} of uncompressed data, more than the memory "
                            f"budget {human_bytes(limit)}; nothing was decompressed (raise $TNRNN_MAX_BYTES if "
                            "this checkpoint is genuine)")
    want = {f"p{i}.npy" for i in range(n_params)} | {f"o{i}.npy" for i in range(n_opt)} | {"meta.npy"}
    if set(infos) != want:
        extra, missing = sorted(set(infos) - want)[:3], sorted(want - set(infos))[:3]
        raise TnrnnError(f"{where} was written for a different model (arrays {len(infos) - 1} vs {len(want) - 1}; "
                         f"unexpected {extra}, missing {missing})")
    return infos


def _read_meta(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> dict:
    if info.file_size > _MAX_META_BYTES:
        raise TnrnnError(f"{where}: meta of {human_bytes(info.file_size)} is not a tnrnn checkpoint meta")
    header = _array_header(zf, info, where, None)
    if header[1] != np.dtype(np.uint8) or len(header[0]) != 1:
        raise TnrnnError(f"{where} is not a tnrnn training checkpoint (meta is not bytes)")
    raw = _read_array(zf, info, header, where)
    try:
        meta = loads_json(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TnrnnError(f"{where} is not a tnrnn training checkpoint (meta is not JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise TnrnnError(f"{where} is not a tnrnn training checkpoint (format {CHECKPOINT_FORMAT} expected)")
    return meta


def _array_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, shape: tuple | None) -> tuple:
    """``(shape, dtype, fortran)`` from a member's ``.npy`` header, checked against ``shape`` and its size."""
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            got, fortran, dtype = reader(fh, max_header_size=10000)
            offset = fh.tell()
        except ValueError as exc:
            raise TnrnnError(f"{where}: array {info.filename} has no valid .npy header ({exc})") from None
    if dtype.hasobject:
        raise TnrnnError(f"{where}: array {info.filename} holds Python objects; refused")
    if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise TnrnnError(f"{where}: array {info.filename} has dtype {dtype}; a checkpoint holds bool, integer or "
                         "float arrays only")
    if shape is not None and tuple(got) != tuple(shape):
        raise TnrnnError(f"{where} was written for a different model ({info.filename}: shape {tuple(got)} vs "
                         f"{tuple(shape)})")
    if offset + int(np.prod(got, dtype=object)) * dtype.itemsize != info.file_size:
        raise TnrnnError(f"{where}: array {info.filename} does not match its declared size (damaged file)")
    return tuple(got), dtype, fortran


def _read_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, header: tuple, where: str) -> np.ndarray:
    with zf.open(info) as fh:
        return np.lib.format.read_array(fh, allow_pickle=False)


def _check_step(path: Any, step: Any, run_steps: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise TnrnnError(f"checkpoint {str(path)!r} has no valid step (got {step!r}; a non-negative integer is "
                         "required); delete it or choose another checkpoint path")
    if isinstance(run_steps, int) and not isinstance(run_steps, bool) and step > run_steps:
        raise TnrnnError(f"checkpoint {str(path)!r} is at step {step}, beyond the {run_steps} steps of the run "
                         "it records (damaged or edited)")
    return step


def check_identity(path: Any, meta: dict, identity: dict) -> None:
    """Check that a checkpoint's ``meta`` was written by the run ``identity`` describes.

    ``None`` parts of ``identity`` are not checked. The checkpoint must record every other part; in a
    ``config`` dict, ``steps`` may differ (extending a finished run) but may not fall below the stored step.

    Raises
    ------
    TnrnnError
        Missing identity, or differences, listed.

    Examples
    --------
    >>> meta = {"step": 100, "config": {"steps": 100, "lr": 0.1}}
    >>> check_identity("ck.npz", meta, {"config": {"steps": 500, "lr": 0.1}})  # extending: fine
    >>> check_identity("ck.npz", meta, {"config": {"steps": 500, "lr": 0.2}})
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: checkpoint 'ck.npz' belongs to another run (lr 0.1 -> 0.2); resume with the same settings, or choose a new checkpoint path
    """
    missing = [part for part, now in identity.items() if now is not None and meta.get(part) is None]
    if missing:
        raise TnrnnError(f"checkpoint {str(path)!r} records no run identity ({', '.join(missing)}), so it cannot "
                         "be checked against this run; delete it or choose another checkpoint path")
    diffs = []
    for part, now in identity.items():
        then = meta.get(part)
        if now is None or then == now:
            continue
        if isinstance(then, dict) and isinstance(now, dict):
            diffs += [f"{k} {then.get(k)!r} -> {now.get(k)!r}" for k in sorted(set(then) | set(now))
                      if then.get(k) != now.get(k) and k not in _EXTENSIBLE]
        else:
            diffs.append(f"{part} {then!r} -> {now!r}")
    if diffs:
        raise TnrnnError(f"checkpoint {str(path)!r} belongs to another run ({'; '.join(diffs)}); resume with the "
                         "same settings, or choose a new checkpoint path")
    steps = (identity.get("config") or {}).get("steps") if isinstance(identity.get("config"), dict) else None
    if isinstance(steps, int) and meta["step"] > steps:
        raise TnrnnError(f"checkpoint {str(path)!r} is at step {meta['step']}, beyond the {steps} steps asked "
                         "for; ask for at least that many steps, or choose a new checkpoint path")
