"""Result files: atomic JSON and CSV, one JSON-lines appender, tolerant JSON-lines reading, validated paths.

Everything a command writes goes through here, so an interruption never leaves half a file, a JSON-lines file
has exactly one writer at a time, and every output option (``--out``, ``--out-dir``, ``--results``, ``--csv``)
is checked the same way, before any work starts.
"""

from __future__ import annotations

import csv
import io as _io
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tnrnn.base.errors import TnrnnError

__all__ = [
    "write_bytes_atomic", "write_json", "read_json", "write_csv", "append_jsonl", "read_jsonl", "scan_jsonl",
    "JsonlAppender", "JsonlLine", "check_input_file", "output_file", "output_dir", "unique_keys", "loads_json",
    "read_bytes_bounded",
]

# A line longer than this is reported as corrupt instead of being parsed (a results record is a few KiB).
MAX_LINE_BYTES = 64 * 2**20


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a torn one.

    The parent folder is created when missing; the file gets the permissions a plain ``open`` would give, or
    ``mode`` (e.g. ``0o600`` for a file only its owner may read or write, set before it is visible).

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_bytes_atomic(os.path.join(tempfile.mkdtemp(), "a", "b.bin"), b"rank")
    >>> p.read_bytes()
    b'rank'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename: os.replace is atomic on one file system.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates the file 0600; give the result the permissions a plain open() would have.
        os.chmod(tmp, 0o666 & ~_umask() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, data: Any, *, indent: int = 2, mode: int | None = None) -> Path:
    """Write ``data`` as JSON atomically and return the path (``mode``: see [`write_bytes_atomic`][tnrnn.base.io.write_bytes_atomic]).

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_json(os.path.join(tempfile.mkdtemp(), "r.json"), {"rank": 4})
    >>> read_json(p)
    {'rank': 4}
    """
    text = json.dumps(data, indent=indent, sort_keys=False, default=_default) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"), mode=mode)


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for `json.loads` that refuses an object with a repeated key.

    ``{"lower": 3, "lower": 999}`` is valid JSON that Python reads as ``{"lower": 999}`` while other readers may
    take the first value: a record that means two things is refused instead.

    Examples
    --------
    >>> json.loads('{"a": 1, "a": 2}', object_pairs_hook=unique_keys)
    Traceback (most recent call last):
    ...
    ValueError: duplicate key 'a' in a JSON object
    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {ascii(key)[:80]} in a JSON object")
        out[key] = value
    return out


def loads_json(data: str | bytes) -> Any:
    """``json.loads`` refusing repeated keys ([`unique_keys`][tnrnn.base.io.unique_keys]); errors are ``ValueError``/``RecursionError``.

    Examples
    --------
    >>> loads_json('{"rank": 4}')
    {'rank': 4}
    """
    return json.loads(data, object_pairs_hook=unique_keys)


def read_bytes_bounded(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, its size checked from metadata before reading.

    A sparse file that claims gigabytes is refused from ``stat`` alone; the read itself stops after
    ``max_bytes + 1`` bytes too, for a file that grows between the two.

    Raises
    ------
    TnrnnError
        Not a regular readable file, or larger than ``max_bytes``.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "big.bin")
    >>> with open(p, "wb") as fh:
    ...     _ = fh.truncate(2**30)    # 1 GiB of holes: no disk used, nothing read
    >>> read_bytes_bounded(p, 2**20, "plan file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: plan file '...big.bin' holds 1,073,741,824 bytes, more than the 1,048,576 allowed
    """
    p = check_input_file(path, what)
    size = p.stat().st_size
    too_big = f"{what} {ascii(str(p))} holds {{:,}} bytes, more than the {max_bytes:,} allowed"
    if size > max_bytes:
        raise TnrnnError(too_big.format(size))
    try:
        with open(p, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise TnrnnError(f"cannot read {ascii(str(p))}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise TnrnnError(too_big.format(len(data)))
    return data


def read_json(path: str | os.PathLike, *, max_bytes: int | None = None) -> Any:
    """Read a JSON file; any problem (missing, not a regular file, not UTF-8, not JSON) is a [`TnrnnError`][tnrnn.base.errors.TnrnnError].

    An object with a repeated key is refused ([`unique_keys`][tnrnn.base.io.unique_keys]); with ``max_bytes`` a larger file is refused
    from its size before anything is read ([`read_bytes_bounded`][tnrnn.base.io.read_bytes_bounded]).

    Examples
    --------
    >>> read_json("/nonexistent.json")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: cannot read '/nonexistent.json': No such file or directory
    """
    check_input_file(path)
    data = read_bytes_bounded(path, max_bytes) if max_bytes is not None else None
    try:
        if data is not None:
            return loads_json(data.decode("utf-8"))
        with open(path, encoding="utf-8") as fh:
            return json.load(fh, object_pairs_hook=unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise TnrnnError(f"{ascii(str(path))} is not a JSON file ({ascii(' '.join(str(exc).split()))[1:121]})") from None


def write_csv(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Path:
    """Write a list of dicts as CSV atomically (columns default to the union of the rows' keys, in order).

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_csv(os.path.join(tempfile.mkdtemp(), "t.csv"), [{"a": 1}, {"a": 2, "b": "x"}])
    >>> p.read_text().splitlines()
    ['a,b', '1,', '2,x']
    """
    if columns is None:
        cols: list[str] = []
        for row in rows:
            cols += [k for k in row if k not in cols]
    else:
        cols = list(columns)
    buf = _io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return _atomic_write_text(path, buf.getvalue())


# ------------------------------------------------------------------------------------------------ JSON lines


class JsonlAppender:
    """The single writer of a JSON-lines file, holding an exclusive lock on it while open.

    Each record is one ``os.write`` of a whole line on an ``O_APPEND`` descriptor: once the call returns, the
    line survives the process being killed (it is in the kernel), and a reader never sees half of it unless
    the machine itself fails mid-write. ``fsync`` (durability across an OS crash or power loss) is batched to
    at most one per ``sync_seconds``, plus one on close: one per record costs milliseconds on many disks,
    more than a cheap point takes to compute.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> with JsonlAppender(path) as out:
    ...     out.append({"i": 1})
    >>> read_jsonl(path)
    [{'i': 1}]
    """

    def __init__(self, path: str | os.PathLike, sync_seconds: float = 1.0) -> None:
        self.path = Path(path)
        self.sync_seconds = sync_seconds
        check_output_target(self.path, "results file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise TnrnnError(f"cannot open results file {str(self.path)!r}: {exc.strerror or exc}") from None
        try:
            self._lock()
            # A process killed mid-write (or a full disk) can leave a last line without its newline; appending
            # right after it would glue the next record onto the torn one and lose both.
            size = os.fstat(self.fd).st_size
            if size and os.lseek(self.fd, size - 1, os.SEEK_SET) >= 0 and os.read(self.fd, 1) != b"\n":
                self._write(b"\n")
        except BaseException:
            os.close(self.fd)
            raise
        self._last_sync = time.monotonic()

    def _lock(self) -> None:
        # flock on the results file itself rather than the filelock package: filelock locks a separate
        # "<file>.lock" beside it, which a rename, a copy or a second path to the same file does not carry, and
        # which outlives a killed writer as litter; a lock on the open descriptor covers exactly this file and
        # the kernel drops it when the process dies.
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, a single writer is the user's job
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise TnrnnError(
                f"results file {str(self.path)!r} is being written by another running process; wait for it to "
                "finish or choose another results file"
            ) from None

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:  # a regular file takes it in one call; the loop only matters on a full disk or NFS
            view = view[os.write(self.fd, view):]

    def append(self, record: Any) -> None:
        """Append one record as one line (``fsync`` at most once per ``sync_seconds``)."""
        self.append_many([record])

    def append_many(self, records: Iterable[Any]) -> None:
        """Append several records with one ``write`` (all or, on a crash, a torn last line)."""
        data = "".join(json.dumps(r, sort_keys=True, default=_default) + "\n" for r in records).encode("utf-8")
        self._write(data)
        if time.monotonic() - self._last_sync >= self.sync_seconds:
            os.fsync(self.fd)
            self._last_sync = time.monotonic()

    def close(self) -> None:
        """``fsync`` and release the file (and its lock)."""
        if self.fd < 0:
            return
        try:
            os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def append_jsonl(path: str | os.PathLike, records: Iterable[Any]) -> None:
    """Append records to a JSON-lines file in one ``write``, then ``fsync`` (through [`JsonlAppender`][tnrnn.base.io.JsonlAppender]).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> append_jsonl(path, [{"i": 0}, {"i": 1}])
    >>> len(read_jsonl(path))
    2
    """
    with JsonlAppender(path) as out:
        out.append_many(records)


@dataclass(frozen=True)
class JsonlLine:
    """One line of a JSON-lines file: its 1-based number and either the parsed ``value`` or a ``problem``."""

    number: int
    value: Any = None
    problem: str | None = None


#: A JSON-lines file larger than this is refused from its size before reading (about 100,000 records of 5 KiB).
MAX_JSONL_BYTES = 512 * 2**20


def _lines_bounded(fh: Any, limit: int) -> Iterator[tuple[bytes, int]]:
    """Each line of a binary file with its full length, holding at most ``limit + 1`` bytes of it in memory.

    A line longer than ``limit`` (a sparse file of NULs has no newline at all) is yielded cut, with its length,
    and the rest of it is skipped in chunks instead of being read into one string.
    """
    while True:
        raw = fh.readline(limit + 1)
        if not raw:
            return
        length = len(raw)
        if length > limit and not raw.endswith(b"\n"):
            while True:
                chunk = fh.readline(2**20)
                length += len(chunk)
                if not chunk or chunk.endswith(b"\n"):
                    break
        yield raw, length


def scan_jsonl(path: str | os.PathLike, *, max_bytes: int = MAX_JSONL_BYTES) -> Iterator[JsonlLine]:
    """Every non-blank line of a JSON-lines file, parsed, or with the reason it could not be.

    Invalid UTF-8, invalid JSON, an object with a repeated key ([`unique_keys`][tnrnn.base.io.unique_keys]), integers beyond Python's
    digit limit, nesting too deep and overlong lines are reported per line (never raised); no line is held in
    memory beyond `MAX_LINE_BYTES`. A missing file yields nothing; anything else that is not a regular
    file (a folder, a FIFO, a device), or a file over ``max_bytes`` (from its size, before reading), is refused.

    Raises
    ------
    TnrnnError
        ``path`` exists and is not a regular readable file, or is larger than ``max_bytes``.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> _ = open(path, "wb").write(b'{"a": 1}\\n\\xff\\n' + b'9' * 5000 + b'\\n{"a": 1, "a": 2}\\n')
    >>> [(ln.number, ln.problem is None) for ln in scan_jsonl(path)]
    [(1, True), (2, False), (3, False), (4, False)]
    """
    if not os.path.lexists(path):
        return
    p = check_input_file(path)
    size = p.stat().st_size
    if size > max_bytes:
        raise TnrnnError(f"{ascii(str(p))} holds {size:,} bytes, more than the {max_bytes:,} a results file may "
                         "have; split it or choose another file")
    with open(path, "rb") as fh:
        for number, (raw, length) in enumerate(_lines_bounded(fh, MAX_LINE_BYTES), start=1):
            if length > MAX_LINE_BYTES:
                yield JsonlLine(number, problem=f"line of {length} bytes, more than {MAX_LINE_BYTES}")
                continue
            if not raw.strip():
                continue
            try:
                yield JsonlLine(number, value=loads_json(raw.decode("utf-8")))
            except UnicodeDecodeError:
                yield JsonlLine(number, problem="not valid UTF-8")
            except RecursionError:
                yield JsonlLine(number, problem="JSON nested too deeply")
            except ValueError as exc:  # JSONDecodeError, a repeated key, int() beyond sys.get_int_max_str_digits()
                yield JsonlLine(number, problem=f"not JSON ({ascii(' '.join(str(exc).split()))[1:101]})")


def read_jsonl(path: str | os.PathLike) -> list[Any]:
    """Read a JSON-lines file, skipping lines that do not parse (a torn last line left by a killed writer).

    Examples
    --------
    >>> read_jsonl("/nonexistent/r.jsonl")
    []
    """
    return [line.value for line in scan_jsonl(path) if line.problem is None]


# ---------------------------------------------------------------------------------------------------- paths


def check_input_file(path: str | os.PathLike, what: str = "file") -> Path:
    """Check that ``path`` is an existing regular file, without opening it (a FIFO would block a reader).

    Raises
    ------
    TnrnnError
        Empty path, missing, a folder, a FIFO, a device or a socket.

    Examples
    --------
    >>> check_input_file("/dev/null", "results file")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: results file '/dev/null' is not a regular file (a character device)
    """
    if path is None or str(path).strip() == "":
        raise TnrnnError(f"the {what} path is empty")
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise TnrnnError(f"cannot read {str(p)!r}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise TnrnnError(f"{what} {str(p)!r} is not a regular file ({_kind(mode)})")
    return p


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a plain file")


def check_output_target(path: str | os.PathLike, what: str) -> Path:
    """Refuse an output path that is empty, or that exists and is not a regular file (folder, FIFO, device).

    Examples
    --------
    >>> check_output_target("", "results file")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: the results file path is empty
    """
    if path is None or str(path).strip() == "":
        raise TnrnnError(f"the {what} path is empty")
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        return p
    except OSError as exc:
        raise TnrnnError(f"cannot use {str(p)!r} as {what}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise TnrnnError(f"{what} {str(p)!r} is not a regular file ({_kind(mode)}); give a file path")
    return p


def _check_creatable(p: Path, what: str) -> None:
    parent = next((q for q in p.absolute().parents if q.exists()), None)
    if parent is None:
        return
    if not parent.is_dir():
        raise TnrnnError(f"cannot write {what} {str(p)!r}: {str(parent)!r} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise TnrnnError(f"cannot write {what} {str(p)!r}: {str(parent)!r} refuses new files "
                         f"({exc.strerror or exc})") from None


def output_file(path: str | os.PathLike | None, *, what: str = "output file", default_name: str | None = None,
                suffixes: Sequence[str] = ()) -> Path:
    """The one validation of an output-file option (``--out``, ``--results``, ``--csv``), run before any work.

    An existing folder (or a path ending in ``/``) means "this file name inside that folder" when
    ``default_name`` is given, and is refused otherwise. An empty path, a FIFO or device, a wrong suffix and
    a location where no file can be created are refused.

    Parameters
    ----------
    path : str or path
        What the user gave.
    what : str
        The option, for messages (e.g. ``"--results"``).
    default_name : str, optional
        File name used inside a folder given as ``path``.
    suffixes : sequence of str
        Allowed suffixes (e.g. ``(".json",)``); empty allows any.

    Returns
    -------
    Path
        The file to write.

    Raises
    ------
    TnrnnError
        One readable line saying what is wrong with ``path``.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> output_file(d + "/", what="--out", default_name="summary.json").name
    'summary.json'
    >>> output_file("", what="--out")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: the --out path is empty
    """
    if path is None or str(path).strip() == "":
        raise TnrnnError(f"the {what} path is empty")
    text = os.fspath(path)
    p = Path(text)
    if text.endswith(os.sep) or p.is_dir():
        if default_name is None:
            raise TnrnnError(f"{what} {text!r} is a folder; give a file path")
        p = p / default_name
    check_output_target(p, what)
    if suffixes and p.suffix.lower() not in suffixes:
        raise TnrnnError(f"{what} {str(p)!r} must end in {' or '.join(suffixes)}")
    _check_creatable(p, what)
    return p


def output_dir(path: str | os.PathLike | None, *, what: str = "--out-dir") -> Path:
    """The one validation of an output-folder option: non-empty, and a folder or creatable as one.

    Raises
    ------
    TnrnnError
        Empty path, an existing non-folder, or a place where the folder cannot be created.

    Examples
    --------
    >>> output_dir("", what="gallery folder")
    Traceback (most recent call last):
    ...
    tnrnn.base.errors.TnrnnError: the gallery folder path is empty; give a folder such as ./figures
    """
    if path is None or str(path).strip() == "":
        raise TnrnnError(f"the {what} path is empty; give a folder such as ./figures")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise TnrnnError(f"{what} {str(p)!r} exists and is not a folder")
    _check_creatable(p / "probe", what)
    return p


def _default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "to_json"):
        return obj.to_json()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")
