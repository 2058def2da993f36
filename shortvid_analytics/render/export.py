"""Writing results to files: atomic (temp file + rename), never partial, never over an input."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..errors import OptionError
from ..results import AnalysisResult

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("table", "json", "csv", "parquet")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one rename.

    The file gets the permissions a plain ``open()`` would give it (``0o666`` minus the umask), not the
    owner-only ``0o600`` of the temporary file. An existing non-regular ``path`` (``/dev/null``,
    ``/dev/stdout``, a FIFO) is yielded itself: renaming over it would replace the device node with a
    regular file.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        yield target
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    # The umask can only be read by setting it; the CLI is single-threaded when it writes.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def refuse_input(path: str | Path, protected: tuple[str, ...], option: str) -> None:
    """Raise :class:`OptionError` when ``path`` (the value of ``option``) is one of the ``protected`` inputs."""
    resolved = os.path.realpath(path)
    if any(os.path.realpath(p) == resolved for p in protected):
        raise OptionError(f"{option} {path} is one of the input files; refusing to overwrite it")


def write_result(
    result: AnalysisResult,
    fmt: str,
    output: str | Path | None,
    stdout: IO[str] | None = None,
    protected: tuple[str, ...] = (),
) -> None:
    """Serialise ``result`` as ``json``/``csv``/``parquet`` to ``output`` or to stdout.

    ``protected`` lists input files that must never be overwritten.
    """
    if fmt not in FORMATS or fmt == "table":
        raise OptionError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if output is not None:
        refuse_input(output, protected, "--output")
    writers: dict[str, Callable[[], bytes]] = {
        "json": lambda: (result.to_json() + "\n").encode("utf-8"),
        "csv": lambda: csv_text(result.to_frame()).encode("utf-8"),
        "parquet": lambda: _parquet_bytes(result),
    }
    if output is None:
        if fmt == "parquet":
            raise OptionError("--format parquet needs -o/--output PATH")
        (stdout or sys.stdout).write(writers[fmt]().decode("utf-8"))
        return
    write_bytes_atomic(output, writers[fmt]())


def csv_text(frame: pl.DataFrame) -> str:
    """``frame`` as CSV; a nested column (a struct, map or list column of the export used as a breakdown)
    as one JSON text per cell, since CSV has no nested values."""
    import polars as pl

    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    if nested:
        frame = frame.with_columns(
            pl.Series(name, [None if value is None else json.dumps(value, default=str, ensure_ascii=False)
                             for value in frame[name].to_list()], dtype=pl.String)
            for name in nested
        )
    return frame.write_csv()


def _parquet_bytes(result: AnalysisResult) -> bytes:
    buffer = io.BytesIO()
    result.to_frame().write_parquet(buffer)
    return buffer.getvalue()
