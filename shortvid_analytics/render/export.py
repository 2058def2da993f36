"""Writing analysis results as JSON, CSV or Parquet to a file or stdout.

The file writing itself (atomic, refusing inputs, sweeping stale temporary files) is
:mod:`shortvid_analytics.files`.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ..errors import OptionError
# re-exported: the writers of render/ and the older imports use them from here
from ..files import atomic_path, check_destination, refuse_input, write_bytes_atomic, write_text_atomic
from ..results import AnalysisResult

__all__ = ["FORMATS", "atomic_path", "check_destination", "refuse_input", "write_bytes_atomic", "write_result",
           "write_text_atomic"]

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
        "csv": lambda: result.to_frame().write_csv().encode("utf-8"),
        "parquet": lambda: _parquet_bytes(result),
    }
    if output is None:
        if fmt == "parquet":
            raise OptionError("--format parquet needs -o/--output PATH")
        (stdout or sys.stdout).write(writers[fmt]().decode("utf-8"))
        return
    write_bytes_atomic(output, writers[fmt](), "--output")


def _parquet_bytes(result: AnalysisResult) -> bytes:
    buffer = io.BytesIO()
    result.to_frame().write_parquet(buffer)
    return buffer.getvalue()
