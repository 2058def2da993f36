"""The base of every analysis result: the JSON envelope and the tabular view.

Every result serialises to ``{"kind": ..., "version": ..., "params": {...}, ...}``; ``kind`` names the
command, ``params`` echoes every option that shaped the numbers (including the source), so a JSON
file is self-describing. Non-finite floats become ``null``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from . import __version__


@dataclass
class AnalysisResult:
    """Base class: subclasses set ``kind`` and implement :meth:`body` and :meth:`to_frame`."""

    params: dict[str, Any] = field(default_factory=dict)

    kind = "result"

    def body(self) -> dict[str, Any]:
        """The command-specific part of the JSON document."""
        raise NotImplementedError

    def to_frame(self) -> pl.DataFrame:
        """The main table of the result (what ``--format csv|parquet`` writes)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: ``kind``, ``version``, ``params`` and the body, JSON-safe."""
        return to_jsonable({"kind": self.kind, "version": __version__, "params": self.params, **self.body()})

    def to_json(self, indent: int | None = 2) -> str:
        """The JSON document as text (stable key order, no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)


def to_jsonable(value: Any) -> Any:
    """Recursively convert to JSON-safe values: NaN/inf -> None, dates -> ISO text, numpy -> Python."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, date):  # a datetime is a date
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if hasattr(value, "item"):  # numpy scalar
        return to_jsonable(value.item())
    if hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict())
    return str(value)
