"""Property tests: retention and lifecycle against slow, obviously-correct pure-Python references.

The references walk the events one by one with :mod:`zoneinfo` for local time and calendar arithmetic
written out here (not the package's period helpers), on random tiny exports in three time zones
(one with a DST change inside the data).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shortvid_analytics.config import Config
from shortvid_analytics.eventspec import EventSpec
from shortvid_analytics.lifecycle import lifecycle
from shortvid_analytics.periods import Period
from shortvid_analytics.retention import RetentionMode, retention
from shortvid_analytics.source import EventSource
from tests.conftest import events_frame

BASE = datetime(2026, 10, 19)  # a Monday UTC; America/New_York leaves DST on 2026-11-01
PERIODS = 4


def local(t: datetime, tz: str) -> datetime:
    return t.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def period_start(t: datetime, unit: str) -> date:
    d = t.date()
    if unit == "day":
        return d
    if unit == "week":
        return d - timedelta(days=d.weekday())
    return date(d.year, d.month, 1)


def shift(start: date, unit: str, k: int) -> date:
    if unit == "day":
        return start + timedelta(days=k)
    if unit == "week":
        return start + timedelta(days=7 * k)
    months = start.year * 12 + start.month - 1 + k
    return date(months // 12, months % 12 + 1, 1)


def earlier(a, b):
    """The earlier of two (time, value) start events; equal times: the smaller value, None last."""
    return min(a, b, key=lambda tv: (tv[0], tv[1] is None, tv[1] or ""))


def reference_retention(events, tz, unit, start_names, return_names, recurring, unbounded, value=None):
    """{cohort: (size, [retained or None per k])} walking every event; ``value``: only entries whose
    first start event has that platform."""
    last_local = local(max(t for _, _, t, _ in events), tz)
    entries = {}  # (user, cohort) -> (first start time, its platform)
    for user, name, t, platform in events:
        if name in start_names:
            key = (user, period_start(local(t, tz), unit))
            entries[key] = earlier(entries.get(key, (t, platform)), (t, platform))
    if not recurring:
        first = {}
        for (user, cohort), start in entries.items():
            if user not in first or earlier(first[user][1], start) == start:
                first[user] = (cohort, start)
        entries = {(user, cohort): start for user, (cohort, start) in first.items()}
    table = {}
    for (user, cohort), (first_start, platform) in entries.items():
        if value is not None and platform != value[0]:
            continue
        returned_at = set()
        for u, name, t, _ in events:
            if u != user or name not in return_names:
                continue
            p = period_start(local(t, tz), unit)
            k = next(j for j in range(10_000) if shift(cohort, unit, j) >= p) if p >= cohort else None
            if k is None or (k == 0 and t < first_start):
                continue
            returned_at.add(k)
        size, counts = table.get(cohort, (0, [0] * PERIODS))
        for k in range(PERIODS):
            hit = any(j >= k for j in returned_at) if unbounded else k in returned_at
            counts[k] += hit
        table[cohort] = (size + 1, counts)
    over = {c: [datetime.combine(shift(c, unit, k + 1), datetime.min.time()) <= last_local for k in range(PERIODS)]
            for c in table}
    return {c.isoformat(): (size, [n if over[c][k] else None for k, n in enumerate(counts)])
            for c, (size, counts) in table.items()}


def reference_lifecycle(events, tz, unit, names):
    """{period: (new, returning, resurrecting, dormant)} over the reported periods."""
    active = {}
    for user, name, t, _ in events:
        if name in names:
            active.setdefault(user, set()).add(period_start(local(t, tz), unit))
    first = period_start(local(min(t for _, _, t, _ in events), tz), unit)
    last = period_start(local(max(t for _, _, t, _ in events), tz), unit)
    result = {}
    p = first
    while p <= last:
        before = shift(p, unit, -1)
        new = sum(1 for s in active.values() if p in s and min(s) == p)
        returning = sum(1 for s in active.values() if p in s and before in s)
        resurrecting = sum(1 for s in active.values() if p in s and min(s) < p and before not in s)
        dormant = -sum(1 for s in active.values() if before in s and p not in s)
        result[p.isoformat()] = (new, returning, resurrecting, dormant)
        p = shift(p, unit, 1)
    return result


event_rows = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3", "u4", "u5"]),
        st.sampled_from(["video_view", "video_view", "purchase", "like"]),
        # whole hours and the minute before: lands on local midnights in every zone used
        st.tuples(st.integers(0, 24 * 75), st.sampled_from([0, 59])).map(
            lambda hm: BASE + timedelta(hours=hm[0], minutes=hm[1])),
        st.sampled_from([None, "douyin", "kuaishou"]),
    ),
    min_size=1,
    max_size=30,
)


def open_source(rows, tz: str, folder: str) -> EventSource:
    path = Path(folder) / "events.parquet"
    events_frame([(u, n, t, {"platform": p}) for u, n, t, p in rows]).write_parquet(path)
    return EventSource.open(path, Config(timezone=tz))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=event_rows, tz=st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York"]),
       unit=st.sampled_from(["day", "week", "month"]), same_event=st.booleans())
def test_retention_matches_reference(rows, tz, unit, same_event):
    names = {n for _, n, _, _ in rows}
    start_name = "video_view"
    return_name = "video_view" if same_event else "purchase"
    if start_name not in names or return_name not in names:
        return
    with tempfile.TemporaryDirectory() as folder:
        source = open_source(rows, tz, folder)
        for mode in RetentionMode:
            for unbounded in (False, True):
                result = retention(source, EventSpec.parse(start_name), EventSpec.parse(return_name),
                                   Period(unit), PERIODS, mode, unbounded)
                got = {c.cohort.isoformat(): (c.size, c.retained) for c in result.total.cohorts}
                expected = reference_retention(rows, tz, unit, {start_name}, {return_name},
                                               mode is RetentionMode.recurring, unbounded)
                assert got == expected, (mode, unbounded)
                for k, point in enumerate(result.total.overall):
                    reached = [v for v in expected.values() if v[1][k] is not None]
                    assert point.users == sum(size for size, _ in reached)
                    assert point.retained == sum(counts[k] for _, counts in reached)
            by_platform = retention(source, EventSpec.parse(start_name), EventSpec.parse(return_name),
                                    Period(unit), PERIODS, mode, False, by="platform")
            for platform in (None, "douyin", "kuaishou"):
                expected = reference_retention(rows, tz, unit, {start_name}, {return_name},
                                               mode is RetentionMode.recurring, False, value=(platform,))
                triangle = by_platform.breakdown.get(platform)
                got = {c.cohort.isoformat(): (c.size, c.retained) for c in triangle.cohorts} if triangle else {}
                assert got == expected, (mode, platform)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=event_rows, tz=st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York"]),
       unit=st.sampled_from(["day", "week", "month"]))
def test_lifecycle_matches_reference(rows, tz, unit):
    if "video_view" not in {n for _, n, _, _ in rows}:
        return
    with tempfile.TemporaryDirectory() as folder:
        result = lifecycle(open_source(rows, tz, folder), EventSpec.parse("video_view"), Period(unit))
    got = {p.period.isoformat(): (p.new, p.returning, p.resurrecting, p.dormant) for p in result.periods}
    assert got == reference_lifecycle(rows, tz, unit, {"video_view"})
