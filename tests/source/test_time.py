"""Event time and local time of the canonical view for every kind of time column: the view's epoch arithmetic
gives the values of per-row time-zone conversions (ICU), computed independently here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from shortvid_analytics.config import Config
from shortvid_analytics.source import EventSource

# the last time lies past 2100, where the constant-offset spans of source._zone_shift end: it goes through ICU
UTC_TIMES = [datetime(2026, 11, 1, 1, 30), datetime(2026, 3, 8, 7, 0, 0, 123456), datetime(2150, 6, 1, 12, 0)]
# The same instants written as wall-clock times of each reporting zone (by hand: New York is UTC-4 until
# 2026-11-01 06:00 UTC and from 2026-03-08 07:00 UTC, UTC-5 otherwise; Shanghai is UTC+8 all year).
LOCAL = {
    "UTC": UTC_TIMES,
    "America/New_York": [datetime(2026, 10, 31, 21, 30), datetime(2026, 3, 8, 3, 0, 0, 123456),
                         datetime(2150, 6, 1, 8, 0)],
    "Asia/Shanghai": [datetime(2026, 11, 1, 9, 30), datetime(2026, 3, 8, 15, 0, 0, 123456),
                      datetime(2150, 6, 1, 20, 0)],
}


def _write(tmp_path: Path, name: str, times: list) -> Path:
    path = tmp_path / f"{name}.parquet"
    pl.DataFrame({"event_time": times, "user_id": ["a", "b", "c"], "event_name": ["like"] * 3}).write_parquet(path)
    return path


@pytest.mark.parametrize("reporting_tz", sorted(LOCAL))
@pytest.mark.parametrize("kind", ["tz_aware", "text", "naive"])
def test_event_time_is_utc_and_local_time_follows_the_reporting_zone(tmp_path, kind, reporting_tz):
    times = {
        "tz_aware": [t.replace(tzinfo=UTC) for t in UTC_TIMES],
        "text": ["2026-10-31T21:30:00-04:00", "2026-03-08 02:00:00.123456-05", "2150-06-01 12:00:00+00"],
        "naive": UTC_TIMES,
    }[kind]
    source = EventSource.open(_write(tmp_path, kind, times), Config(timezone=reporting_tz))
    rows = source.con.execute("SELECT event_time, local_time FROM events ORDER BY user_id").fetchall()
    assert [r[0] for r in rows] == UTC_TIMES
    assert [r[1] for r in rows] == LOCAL[reporting_tz]


def test_naive_times_in_a_source_zone_are_converted_to_utc(tmp_path):
    path = _write(tmp_path, "ny", [datetime(2026, 3, 8, 7, 0), datetime(2026, 7, 1, 12, 0), datetime(2026, 12, 1, 12, 0)])
    source = EventSource.open(path, Config(source_timezone="America/New_York"))
    rows = source.con.execute("SELECT event_time FROM events ORDER BY user_id").fetchall()
    assert [r[0] for r in rows] == [datetime(2026, 3, 8, 11, 0), datetime(2026, 7, 1, 16, 0), datetime(2026, 12, 1, 17, 0)]
