"""Writing files: atomic (temp file + rename), never partial, never over an input, nothing left behind.

Every writer of the package goes through :func:`atomic_path` (or :func:`write_text_atomic` /
:func:`write_bytes_atomic`), which

- refuses (:class:`~shortvid_analytics.errors.OptionError`, exit 2) a destination that resolves to an
  input of the run: see :class:`Guard`. The CLI opens one guard per command (:func:`guarding`) and
  everything read registers itself in it (:func:`protect`, :func:`protect_events`);
- writes into a temporary file next to the destination, named ``.NAME.shortvid-tmp-PID-RANDOM``, and
  renames it over the destination only when the writer succeeded;
- turns the file system's refusals (read-only folder, a directory in the way, no space left, permission)
  into :class:`OutputError` (one line, exit 1); the destination is then unchanged;
- first removes the temporary files of this naming older than :data:`STALE_AFTER` seconds from the
  destination's folder: a run killed with SIGKILL cannot clean up, the next write into that folder does.
  Fresher ones are left alone, a concurrent run may be writing them.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import io
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import OptionError, ShortvidError

#: Temporary files older than this (seconds) are stale: no run writes one for that long without touching it.
STALE_AFTER = 3600

TEMP_MARK = ".shortvid-tmp-"

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")

#: Names the sweep removes when stale: ``.NAME.shortvid-tmp-PID-RANDOM`` (DuckDB may prefix ``tmp_`` to the
#: file it writes), and the ``.NAME.XXXXXXXX.tmp`` temporary names of earlier versions.
_TEMP_NAME = re.compile(r"^(?:tmp_)?\..+(?:\.shortvid-tmp-\d+-[0-9a-f]+|\.[a-z0-9_]{8}\.tmp)$")


def is_uri(path: str) -> bool:
    """True for ``scheme://...`` locations (``hdfs://``, ``s3a://``, ``file://``), which the engine reads
    itself: no local file is behind them."""
    return bool(_URI.match(path))


class OutputError(ShortvidError):
    """The file system refused a write (read-only, full, a directory in the way, permission)."""

    exit_code = 1


# ----------------------------------------------------------------------------- the guard
@dataclass
class Guard:
    """The inputs of one run, which no write may replace: files, folders (every file under a hive
    folder) and globs (every path the glob matches, existing or not). Paths are compared resolved
    (``os.path.realpath``), so a symlink or a ``../`` spelling does not get past it."""

    files: dict[str, str] = field(default_factory=dict)  # real path -> what it is, for the message
    folders: dict[str, str] = field(default_factory=dict)
    globs: dict[str, str] = field(default_factory=dict)  # absolute pattern (real leading folder) -> what

    def add_file(self, path: str | Path, what: str) -> None:
        self.files.setdefault(os.path.realpath(path), f"{what} {path}")

    def add_folder(self, path: str | Path, what: str) -> None:
        self.folders.setdefault(os.path.realpath(path), f"{what} {path}")

    def add_glob(self, pattern: str, what: str) -> None:
        self.globs.setdefault(_real_pattern(pattern), f"{what} {pattern}")

    def add_input(self, path: str | Path, what: str) -> None:
        """A file, folder or glob, told apart as the events source tells them apart."""
        text = str(path)
        if "://" in text:  # a data-lake location: never a local destination
            return
        if any(ch in text for ch in "*?["):
            self.add_glob(text, f"{what} glob")
        elif os.path.isdir(text):
            self.add_folder(text, f"{what} folder")
        else:
            self.add_file(text, what)

    def conflict(self, destination: str | Path) -> str | None:
        """What input ``destination`` would overwrite, or ``None``."""
        real = os.path.realpath(destination)
        if real in self.files:
            return self.files[real]
        for folder, what in self.folders.items():
            if real == folder:
                return what
            if real.startswith(folder.rstrip(os.sep) + os.sep):
                return f"a file under {what}"
        for pattern, what in self.globs.items():
            if _glob_matches(pattern, real):
                return f"a file matched by {what}"
        return None


_GUARD: contextvars.ContextVar[Guard | None] = contextvars.ContextVar("shortvid_output_guard", default=None)


@contextlib.contextmanager
def guarding() -> Iterator[Guard]:
    """Collect the inputs of the ``with`` block; every write inside it refuses them."""
    guard = Guard()
    token = _GUARD.set(guard)
    try:
        yield guard
    finally:
        _GUARD.reset(token)


def protect(path: str | Path | None, what: str = "input") -> None:
    """Register ``path`` (a file, folder or glob) as an input of the current run (no-op outside one)."""
    guard = _GUARD.get()
    if guard is not None and path is not None:
        guard.add_input(path, what)


def protect_events(path: str | Path, files: Iterable[str] = ()) -> None:
    """Register the events source ``path`` and the files it resolved to."""
    guard = _GUARD.get()
    if guard is None:
        return
    guard.add_input(path, "the events")
    for name in files:
        if "://" not in name:
            guard.add_file(name, "the events file")


def check_destination(path: str | Path, option: str | None = None,
                      protected: Iterable[str | Path] = ()) -> None:
    """Raise :class:`OptionError` when writing ``path`` (the value of ``option``) would replace an input:
    one registered in the current guard or one of ``protected``."""
    guard = _GUARD.get() or Guard()
    extra = Guard()
    for name in protected:
        extra.add_file(name, "the input")
    what = extra.conflict(path) or guard.conflict(path)
    if what is not None:
        label = f"{option} {path}" if option else str(path)
        raise OptionError(f"{label} would overwrite {what}; refusing to write over an input of the run, "
                          "choose another path")


def _real_pattern(pattern: str) -> str:
    """``pattern`` absolute, its leading folders (those without wildcards) resolved."""
    parts = os.path.abspath(pattern).split(os.sep)
    fixed = 0
    while fixed < len(parts) - 1 and not any(ch in parts[fixed] for ch in "*?["):
        fixed += 1
    head = os.path.realpath(os.sep.join(parts[:fixed]) or os.sep)
    return os.path.join(head, *parts[fixed:])


def _glob_matches(pattern: str, path: str) -> bool:
    """Whether ``glob.glob(pattern, recursive=True)`` would list ``path`` were it there."""

    def match(pat: list[str], parts: list[str]) -> bool:
        if not pat:
            return not parts
        if pat[0] == "**":
            return any(match(pat[1:], parts[i:]) for i in range(len(parts) + 1))
        return bool(parts) and fnmatch.fnmatchcase(parts[0], pat[0]) and match(pat[1:], parts[1:])

    return match(pattern.split(os.sep)[1:], path.split(os.sep)[1:])


# ----------------------------------------------------------------------------- atomic writes
def temp_name(name: str) -> str:
    """The temporary name of a file being written as ``name``: hidden, recognisable by the sweep."""
    return f".{name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"


def sweep_stale(folder: str | Path, now: float | None = None) -> list[Path]:
    """Remove the temporary files (and folders) of killed runs from ``folder``: those named like
    :func:`temp_name` and not modified for :data:`STALE_AFTER` seconds. Returns what was removed."""
    cutoff = (time.time() if now is None else now) - STALE_AFTER
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _TEMP_NAME.match(entry.name):
            continue
        with contextlib.suppress(OSError):
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_path(path: str | Path, option: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one rename.

    Refuses an input of the run as ``path`` (named ``option`` in the message). The file gets the
    permissions a plain ``open()`` would give it (``0o666`` minus the umask). An existing non-regular
    ``path`` (``/dev/null``, ``/dev/stdout``, a FIFO) is yielded itself: renaming over it would replace
    the device node with a regular file.
    """
    target = Path(path)
    check_destination(target, option)
    if target.exists() and not target.is_file() and not target.is_dir():
        with _os_errors(target):
            yield target
        return
    tmp: Path | None = None
    with _os_errors(target):
        if target.is_dir():
            raise IsADirectoryError(21, os.strerror(21), str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(target.parent)
        tmp = target.parent / temp_name(target.name)
        # O_EXCL: never write through a file or symlink someone else put there
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            yield tmp
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
        except BaseException:
            for leftover in (tmp, tmp.with_name(f"tmp_{tmp.name}")):  # DuckDB's own temporary name
                with contextlib.suppress(OSError):
                    os.unlink(leftover)
            raise


@contextlib.contextmanager
def _os_errors(target: Path) -> Iterator[None]:
    """The file system's refusals as :class:`OutputError`; anything else passes through."""
    try:
        yield
    except ShortvidError:
        raise
    except Exception as exc:
        reason = os_error_reason(exc)
        if reason is None:
            raise
        raise OutputError(f"cannot write {target}: {reason}") from None


def os_error_reason(exc: BaseException) -> str | None:
    """Why the operating system refused, for an :class:`OSError` and for the errors DuckDB and polars
    raise when a write of theirs fails (they carry the errno in the message); ``None`` for other errors."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and not isinstance(exc, duckdb.IOException) and isinstance(exc, duckdb.Error):
        return None
    found = re.search(r"os error (\d+)|\"errno\"\s*:\s*\"?(\d+)", str(exc))
    if found:
        return os.strerror(int(found.group(1) or found.group(2)))
    if duckdb is not None and isinstance(exc, duckdb.IOException):
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "I/O error"
    return None


class _ErrnoKeepingFile(io.RawIOBase):
    """A file that remembers the first failed write. Without a ``fileno()``, so that polars writes through
    it rather than around it: polars reports a full disk while writing a Parquet footer to a file
    descriptor as "Invalid thrift: transport error", losing the errno."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 -- closed by close()
        self.failure: OSError | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        try:
            return self._file.write(data) or 0
        except OSError as exc:
            self.failure = self.failure or exc
            raise

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            super().close()


@contextlib.contextmanager
def writer_file(tmp: Path) -> Iterator[IO[bytes]]:
    """``tmp`` opened for a library's writer (``frame.write_parquet(handle)``); when the writer fails after a
    write of the file failed, that write's :class:`OSError` is raised instead of the writer's own error."""
    raw = _ErrnoKeepingFile(tmp)
    handle = io.BufferedWriter(raw, 1 << 20)
    try:
        yield handle
        handle.flush()
    except Exception:
        if raw.failure is not None:
            raise raw.failure from None
        raise
    finally:
        with contextlib.suppress(OSError):  # a failed flush is already reported
            handle.close()
        with contextlib.suppress(OSError):
            raw.close()


def _umask() -> int:
    # The umask can only be read by setting it; the CLI is single-threaded when it writes.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str, option: str | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path, option) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(path: str | Path, data: bytes, option: str | None = None) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path, option) as tmp:
        tmp.write_bytes(data)


def refuse_input(path: str | Path, protected: Iterable[str | Path] = (), option: str | None = None) -> None:
    """:func:`check_destination` under its older name: refuse ``path`` when it is an input."""
    check_destination(path, option, protected)
