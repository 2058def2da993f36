"""Scale plumbing: the --memory-limit / --threads flags reach DuckDB and override the config file."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from rich.console import Console

from shortvid_analytics import engine, progress
from shortvid_analytics.cli import app
from shortvid_analytics.config import Config
from shortvid_analytics.source import EventSource
from tests.conftest import T0, at
from tests.locations import REPO


@pytest.fixture
def engine_settings(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The DuckDB settings of every connection the source layer opens."""
    seen: list[dict[str, str]] = []
    real_connect = engine.connect

    def recording_connect(config: Config) -> duckdb.DuckDBPyConnection:
        con = real_connect(config)
        rows = con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', 'memory_limit')")
        seen.append(dict(rows.fetchall()))
        return con

    monkeypatch.setattr(engine, "connect", recording_connect)
    return seen


@pytest.fixture
def events(write_events) -> Path:
    return write_events([(1, "video_view", T0), (1, "purchase", at(5))])


def test_flags_set_duckdb_threads_and_memory_limit(cli, events: Path, engine_settings) -> None:
    result = cli("--threads", "1", "--memory-limit", "512MiB", "validate", str(events), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert engine_settings == [{"threads": "1", "memory_limit": "512.0 MiB"}]


def test_flags_override_the_config_file(cli, events: Path, engine_settings, tmp_path: Path) -> None:
    config = tmp_path / "shortvid.toml"
    config.write_text('[engine]\nmemory_limit = "1GiB"\nthreads = 2\n', encoding="utf-8")
    assert cli("-c", str(config), "validate", str(events), "-f", "json").exit_code == 0
    assert cli("-c", str(config), "--threads", "1", "validate", str(events), "-f", "json").exit_code == 0
    assert cli("-c", str(config), "--memory-limit", "256MiB", "validate", str(events), "-f", "json").exit_code == 0
    assert engine_settings == [
        {"threads": "2", "memory_limit": "1.0 GiB"},
        {"threads": "1", "memory_limit": "1.0 GiB"},
        {"threads": "2", "memory_limit": "256.0 MiB"},
    ]


def test_bad_memory_limit_is_one_line_option_error(cli, events: Path) -> None:
    result = cli("--memory-limit", "lots", "validate", str(events))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: engine setting memory_limit (--memory-limit) = 'lots':")
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_threads_must_be_positive(cli, events: Path) -> None:
    result = cli("--threads", "0", "validate", str(events))
    assert result.exit_code == 2
    assert "--threads" in result.stderr


# ------------------------------------------------------------------- time zones: constant-offset fast path
# Instants around the changes of each zone: China's summer time (1986-1991; the last change 1991-09-14
# 17:00 UTC) and Berlin's 2026 changes (03-29 01:00 and 10-25 01:00 UTC), plus the microsecond before each.
ZONE_INSTANTS = {
    "Asia/Shanghai": [datetime(1988, 7, 1, 12), datetime(1991, 9, 14, 16, 59, 59, 999999),
                      datetime(1991, 9, 14, 17), datetime(1991, 9, 15, 3), datetime(2026, 11, 2, 15, 59, 59, 999999),
                      datetime(2026, 11, 2, 16), datetime(2099, 12, 31, 23, 59)],
    "Europe/Berlin": [datetime(2026, 3, 29, 0, 59, 59, 999999), datetime(2026, 3, 29, 1),
                      datetime(2026, 10, 25, 0, 59, 59, 999999), datetime(2026, 10, 25, 1), datetime(2026, 11, 30)],
}


def zoneinfo_local(instant: datetime, zone: str) -> datetime:
    """Independent conversion of a naive UTC instant to naive wall-clock time."""
    return instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@pytest.mark.parametrize("zone", sorted(ZONE_INSTANTS))
def test_local_time_equals_the_zone_conversion_inside_and_outside_the_constant_span(tmp_path: Path, zone: str):
    instants = ZONE_INSTANTS[zone]
    path = tmp_path / "e.parquet"
    pl.DataFrame({"user_id": list(range(len(instants))), "event_name": "video_view",
                  "event_time": instants}).write_parquet(path)
    source = EventSource.open(path, Config(timezone=zone))
    rows = source.con.execute("SELECT event_time, local_time FROM events_all ORDER BY user_id").fetchall()
    assert rows == [(t, zoneinfo_local(t, zone)) for t in instants]
    # the constant-offset span holds today, so its rows are shifted, not looked up
    assert "shortvid_tz_offset" in source.con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'events_all'").fetchall()[0][0]


# wall-clock times that exist exactly once, on both sides of each change
ZONE_WALL_TIMES = {
    "Asia/Shanghai": [datetime(1988, 7, 1, 20), datetime(1991, 9, 15, 0, 30), datetime(1991, 9, 15, 3),
                      datetime(2026, 11, 2, 23, 59, 59, 999999), datetime(2099, 12, 31, 12)],
    "Europe/Berlin": [datetime(2026, 3, 29, 1, 59, 59, 999999), datetime(2026, 3, 29, 3),
                      datetime(2026, 10, 25, 1, 59, 59), datetime(2026, 10, 25, 3), datetime(2026, 11, 30, 12)],
}


@pytest.mark.parametrize("zone", sorted(ZONE_WALL_TIMES))
def test_naive_source_times_are_converted_to_utc_inside_and_outside_the_span(tmp_path: Path, zone: str):
    local = ZONE_WALL_TIMES[zone]
    path = tmp_path / "e.parquet"
    pl.DataFrame({"user_id": list(range(len(local))), "event_name": "video_view",
                  "event_time": local}).write_parquet(path)
    source = EventSource.open(path, Config(source_timezone=zone))
    got = [r[0] for r in source.con.execute("SELECT event_time FROM events_all ORDER BY user_id").fetchall()]
    assert got == [t.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None) for t in local]


@pytest.mark.parametrize("zone, day, compared_on", [
    ("UTC", date(2026, 10, 25), "event_time"),
    ("Asia/Shanghai", date(2026, 10, 25), "event_time"),
    ("Europe/Berlin", date(2026, 10, 25), "local_time"),   # a change of offset that very day
    ("Europe/Berlin", date(2026, 12, 1), "event_time"),
])
def test_date_range_keeps_the_local_days_whichever_column_it_compares(tmp_path: Path, zone: str, day: date,
                                                                      compared_on: str):
    start = datetime.combine(day, datetime.min.time()) - timedelta(days=2)
    instants = [start + timedelta(minutes=20 * i) for i in range(5 * 72)]
    path = tmp_path / "e.parquet"
    pl.DataFrame({"user_id": list(range(len(instants))), "event_name": "video_view",
                  "event_time": instants}).write_parquet(path)
    source = EventSource.open(path, Config(timezone=zone), day, day)
    got = [r[0] for r in source.con.execute("SELECT event_time FROM events ORDER BY event_time").fetchall()]
    assert got == [t for t in instants if zoneinfo_local(t, zone).date() == day]
    assert f"{compared_on} >= getvariable" in source.con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'events'").fetchall()[0][0]


# ------------------------------------------------------------------------------------------ start-up
HEAVY = ("duckdb", "polars", "numpy", "pandas", "pyarrow", "scipy", "matplotlib", "statsmodels")


def test_start_up_imports_no_heavy_library() -> None:
    code = ("import sys, shortvid_analytics.cli as cli; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=REPO)
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------ progress
SLOW_QUERY = "SELECT count(DISTINCT i % 1000003) FROM range(30000000) AS t(i)"


def test_progress_shows_duckdbs_percentage_on_stderr_only(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(progress, "DELAY_S", 0.0)
    monkeypatch.setattr(progress, "POLL_S", 0.02)
    monkeypatch.setattr("shortvid_analytics.progress.stderr_console",
                        lambda: Console(file=screen, force_terminal=True, width=80))
    progress.enable(True)
    try:
        con = engine.connect(Config())
        with progress.query(con, "slow_count"):
            con.execute(SLOW_QUERY).fetchall()
    finally:
        progress.enable(False)
    shown = screen.getvalue()
    assert "running slow_count" in shown
    assert re.search(r"running slow_count: \d+%", shown)


def test_no_progress_without_a_terminal(cli, events: Path) -> None:
    result = cli("validate", str(events), "-f", "json")
    assert result.exit_code == 0 and result.stderr == ""
    assert not progress.enabled()
    con = engine.connect(Config())
    assert con.execute("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]


# ------------------------------------------------------------------- event-time bounds from statistics
def _bounds_by_scan(source: EventSource) -> tuple:
    return tuple(source.con.execute("SELECT min(event_time), max(event_time) FROM events_all").fetchall()[0])


def _stats_usable(source: EventSource, stats_type: str) -> bool:
    from shortvid_analytics.sql import render

    params = {"files": source.files, "column": "event_time", "start": None, "end": None}
    return source.con.execute(render("event_time_statistics", {"stats_type": stats_type}), params).fetchall()[0][2]


def _write_table(path: Path, times: list, tz: str | None, row_group_size: int = 2, **options) -> Path:
    arrow_type = pa.timestamp("us", tz=tz)
    table = pa.table({"user_id": pa.array(range(len(times)), pa.int64()), "event_name": ["video_view"] * len(times),
                      "event_time": pa.array(times, arrow_type)})
    pq.write_table(table, path, row_group_size=row_group_size, **options)
    return path


TIMES = [datetime(2026, 11, 3, 5), None, None, datetime(2026, 11, 1, 23, 59, 59, 999999), datetime(2026, 11, 9),
         datetime(2026, 11, 2, 0, 0, 0, 1)]


@pytest.mark.parametrize("tz, source_tz", [
    ("UTC", "UTC"),             # timestamp with time zone: from the statistics
    (None, "UTC"),              # naive, read as UTC: from the statistics
    (None, "Asia/Shanghai"),    # naive local times, converted per row: scanned
])
def test_event_time_bounds_equal_the_scan(tmp_path: Path, tz: str | None, source_tz: str) -> None:
    # row groups of two rows; the second holds only missing times
    path = _write_table(tmp_path / "e.parquet", TIMES, tz)
    source = EventSource.open(path, Config(source_timezone=source_tz))
    assert _stats_usable(source, "TIMESTAMPTZ" if tz else "TIMESTAMP")
    assert source.event_time_bounds() == _bounds_by_scan(source)


def test_event_time_bounds_without_statistics_scan(tmp_path: Path) -> None:
    _write_table(tmp_path / "a.parquet", TIMES[:3], "UTC")
    _write_table(tmp_path / "b.parquet", TIMES[3:], "UTC", write_statistics=False)
    source = EventSource.open(tmp_path)
    assert not _stats_usable(source, "TIMESTAMPTZ")
    assert source.event_time_bounds() == _bounds_by_scan(source) == (datetime(2026, 11, 1, 23, 59, 59, 999999),
                                                                      datetime(2026, 11, 9))


def test_no_help_text_loses_brackets_to_rich_markup() -> None:
    """Rich reads an unescaped ``[spark]`` in help text as a style tag and drops it from --help."""
    root = typer.main.get_command(app)
    commands = [root] + [root.get_command(None, name) for name in root.list_commands(None)]
    swallowed = [f"{command.name} {param.name}: {param.help}"
                 for command in commands for param in command.params
                 if re.search(r"(?<!\\)\[[a-z_]+\]", getattr(param, "help", None) or "")]
    assert swallowed == []
