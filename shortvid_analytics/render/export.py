"""Writing analysis results as JSON, CSV or Parquet to a file or stdout.

The file writing itself (atomic, refusing inputs, sweeping stale temporary files) is
:mod:`shortvid_analytics.files`.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..errors import OptionError

# re-exported: the writers of render/ and the older imports use them from here
from ..files import atomic_path, check_destination, refuse_input, write_bytes_atomic, write_text_atomic
from ..results import AnalysisResult

if TYPE_CHECKING:
    import polars as pl

__all__ = ["FORMATS", "atomic_path", "check_destination", "csv_text", "refuse_input", "write_bytes_atomic",
           "write_result", "write_text_atomic"]

FORMATS = ("table", "json", "csv", "parquet")


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
        check_destination(output, "--output", protected)
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
    write_bytes_atomic(output, writers[fmt](), "--output")


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
