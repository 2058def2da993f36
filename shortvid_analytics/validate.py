"""``validate``: what an export contains and what is wrong with it.

Fatal problems (no files, unreadable Parquet, a required column missing or of the wrong type, no
rows) are raised by :meth:`EventSource.open` before this module runs. This module reports the
content and *warnings*: nulls in required columns, event names outside the vocabulary, exact
duplicate rows and events later than ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from . import sql
from .config import CANONICAL_COLUMNS, EVENT_VOCABULARY, REQUIRED_COLUMNS
from .periods import naive_utc
from .privacy import detect_pii
from .results import AnalysisResult
from .source import EventSource


@dataclass
class ColumnReport:
    """Null rate of one canonical column; ``source_column`` is None when the export lacks it."""

    column: str
    source_column: str | None
    nulls: int
    null_rate: float | None


@dataclass
class EventCount:
    event_name: str
    events: int
    users: int
    in_vocabulary: bool


@dataclass
class ValidationResult(AnalysisResult):
    """Content summary and warnings of an events export."""

    kind = "validate"
    rows: int = 0
    files: int = 0
    users: int = 0
    first_event_utc: datetime | None = None
    last_event_utc: datetime | None = None
    first_event_local: datetime | None = None
    last_event_local: datetime | None = None
    events: list[EventCount] = field(default_factory=list)
    columns: list[ColumnReport] = field(default_factory=list)
    duplicate_rows: int = 0
    future_events: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "files": self.files,
            "users": self.users,
            "time_range": {
                "first_utc": self.first_event_utc,
                "last_utc": self.last_event_utc,
                "first_local": self.first_event_local,
                "last_local": self.last_event_local,
            },
            "events": [vars(e) for e in self.events],
            "columns": [vars(c) for c in self.columns],
            "duplicate_rows": self.duplicate_rows,
            "future_events": self.future_events,
            "notes": self.notes,
            "warnings": self.warnings,
        }

    def to_frame(self) -> pl.DataFrame:
        """One row per event name."""
        return pl.DataFrame(
            [vars(e) for e in self.events],
            schema={"event_name": pl.String, "events": pl.Int64, "users": pl.Int64, "in_vocabulary": pl.Boolean},
        )


def validate(source: EventSource, as_of: datetime | None = None) -> ValidationResult:
    """Summarise ``source`` and list warnings. ``as_of`` (UTC, default now) bounds "future" events."""
    as_of = naive_utc(as_of or datetime.now(UTC))
    summary = sql.run(source.con, "validate_summary", {"as_of": as_of}).row(0, named=True)
    counts = sql.run(source.con, "validate_event_counts")
    duplicates = int(sql.run(source.con, "validate_duplicates").item())
    rows = int(summary["rows"])

    columns = []
    for canonical in CANONICAL_COLUMNS:
        src = source.config.source_column(canonical)
        present = src in source.raw_columns
        # rows lacking a required column are not in the views: the source counted them (whole export)
        nulls = (source.dropped.get(canonical, 0) if canonical in REQUIRED_COLUMNS
                 else int(summary[f"null_{canonical}"])) if present else rows
        columns.append(ColumnReport(canonical, src if present else None, nulls,
                                    nulls / rows if rows else None))
    events = [
        EventCount(r["event_name"] if r["event_name"] is not None else "(null)", int(r["events"]),
                   int(r["users"]), r["event_name"] in EVENT_VOCABULARY)
        for r in counts.iter_rows(named=True)
    ]

    warnings: list[str] = list(source.warnings)
    unknown = [e.event_name for e in events if not e.in_vocabulary]
    if unknown:
        warnings.append(
            f"event names outside the vocabulary: {', '.join(unknown)}; map them with [events] aliases "
            f"in the config if they mean {', '.join(EVENT_VOCABULARY[:3])}, ..."
        )
    if duplicates:
        warnings.append(f"{duplicates:,} exact duplicate row(s)")
    for finding in detect_pii(source.con, source.raw_columns):
        warnings.append(
            f"column {finding.column!r} looks like personal data ({finding.kind}: {finding.share:.0%} of "
            f"{finding.sampled:,} sampled values); pseudonymise it (shortvid anonymize) before sharing"
        )
    if summary["future_events"]:
        warnings.append(f"{int(summary['future_events']):,} event(s) later than {as_of:%Y-%m-%d %H:%M} UTC")

    return ValidationResult(
        params={"source": source.describe(), "as_of": as_of},
        rows=rows,
        files=len(source.files),
        users=int(summary["users"]),
        first_event_utc=summary["first_event_utc"],
        last_event_utc=summary["last_event_utc"],
        first_event_local=summary["first_event_local"],
        last_event_local=summary["last_event_local"],
        events=events,
        columns=columns,
        duplicate_rows=duplicates,
        future_events=int(summary["future_events"]),
        notes=list(source.notes),
        warnings=warnings,
    )
