"""Shared fixtures: tiny hand-written event tables written to Parquet, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from shortvid_analytics.cli import app
from tests.locations import REALDATA, REALDATA_CANDIDATES

# pytest-xdist's workers get COLUMNS=80 and LINES=24 from execnet; results off a terminal honour COLUMNS, so
# every test sees the width of a plain pipe (120) unless it asks for one (CliRunner's env=).
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

T0 = datetime(2026, 11, 2, 0, 0, 0)  # a Monday, UTC

_SCHEMA = {
    "event_time": pl.Datetime("us"),
    "user_id": pl.String,
    "event_name": pl.String,
    "session_id": pl.String,
    "video_id": pl.String,
    "creator_id": pl.String,
    "product_id": pl.String,
    "order_id": pl.String,
    "revenue": pl.Float64,
    "watch_time_s": pl.Float64,
    "platform": pl.String,
    "traffic_source": pl.String,
}


def at(minutes: float = 0, *, hours: float = 0, days: float = 0) -> datetime:
    """``T0`` plus an offset: a readable way to write event times in hand-worked cases."""
    return T0 + timedelta(minutes=minutes, hours=hours, days=days)


def events_frame(rows: Sequence[dict[str, Any] | tuple]) -> pl.DataFrame:
    """Rows as dicts, or tuples ``(user_id, event_name, event_time, {extra columns})``."""
    records = []
    for row in rows:
        if isinstance(row, tuple):
            user, name, when, *extra = row
            record = {"user_id": user, "event_name": name, "event_time": when}
            if extra:
                record.update(extra[0])
            row = record
        records.append({col: row.get(col) for col in _SCHEMA} | {k: v for k, v in row.items() if k not in _SCHEMA})
    return pl.DataFrame(records, schema_overrides=_SCHEMA, infer_schema_length=None)


@pytest.fixture
def write_events(tmp_path: Path) -> Callable[..., Path]:
    """Write rows (see :func:`events_frame`) to a Parquet file and return its path."""
    counter = {"n": 0}

    def _write(rows: Sequence[dict[str, Any] | tuple], name: str | None = None) -> Path:
        counter["n"] += 1
        path = tmp_path / (name or f"events_{counter['n']}.parquet")
        events_frame(rows).write_parquet(path)
        return path

    return _write


@pytest.fixture
def cli() -> Callable[..., Any]:
    """Run ``shortvid`` in-process: ``cli("validate", path, "--format", "json")``."""
    runner = CliRunner()

    def _run(*args: Any, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return _run




@pytest.fixture(scope="session")
def realdata() -> Path:
    """The product owner's real public datasets (``<repo>/../shared/realdata``); skip when absent."""
    if REALDATA is None:
        pytest.skip(f"real datasets not found at {REALDATA_CANDIDATES[0]}")
    return REALDATA
