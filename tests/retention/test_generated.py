"""Retention, lifecycle and stickiness on the synthetic generator's data (planted returning behaviour).

The generator makes a user active on a later day with probability ``p0 · (r + (1 − r) · exp(−age/τ))``
(docs/generate.md: day-1 retention ≈ 34%, day-7 ≈ 22%, day-14 ≈ 19%): retention must decay quickly at
first and then level off well above zero. Lifecycle and DAU/MAU are checked against identities and a
direct count.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from shortvid_analytics.eventspec import EventSpec
from shortvid_analytics.generate import generate
from shortvid_analytics.lifecycle import lifecycle
from shortvid_analytics.periods import Period
from shortvid_analytics.retention import RetentionMode, retention
from shortvid_analytics.source import EventSource
from shortvid_analytics.stickiness import stickiness

VIEW, PURCHASE = EventSpec.parse("video_view"), EventSpec.parse("purchase")


def direct(sql: str) -> list[tuple]:
    """An independent count straight from the Parquet files (UTC days)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.sql(sql).fetchall()


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out, users=3000, days=28, seed=11, start=date(2026, 10, 5))
    return out / "events"


def test_daily_viewer_retention_decays_to_a_floor(events):
    result = retention(EventSource.open(events), VIEW, VIEW, Period.day, periods=15)
    rate = [p.rate for p in result.total.overall]
    assert rate[0] == 1.0  # the start view itself
    assert 0.27 < rate[1] < 0.41 and 0.16 < rate[7] < 0.28 and 0.12 < rate[14] < 0.25
    assert rate[1] > rate[7] > rate[14]
    assert rate[1] - rate[7] > 2 * (rate[7] - rate[14])  # fast decay first, then a plateau


def test_weekly_retention_between_zero_and_one_and_decaying(events):
    # the export ends Sunday 23:59 of its 4th week: --to that Sunday makes the week count as over
    source = EventSource.open(events, date_to=date(2026, 11, 1))
    views = retention(source, VIEW, VIEW, Period.week, periods=4)
    week = [p.rate for p in views.total.overall]
    assert 0.5 < week[1] < 0.95 and week[1] > week[3]
    assert views.total.overall[3].users == views.total.cohorts[0].size  # only the first cohort reached k=3
    buyers = retention(source, VIEW, PURCHASE, Period.week, periods=4, mode=RetentionMode.recurring)
    assert all(0 < p.rate < 1 for p in buyers.total.overall)
    unbounded = retention(source, VIEW, PURCHASE, Period.week, periods=4, unbounded=True)
    bounded = retention(source, VIEW, PURCHASE, Period.week, periods=4)
    for u, b in zip(unbounded.total.overall, bounded.total.overall, strict=True):
        assert u.rate >= b.rate
    for cohort in unbounded.total.cohorts:
        observed = [r for r in cohort.retained if r is not None]
        assert observed == sorted(observed, reverse=True)


def test_lifecycle_balances(events):
    periods = lifecycle(EventSource.open(events), VIEW, Period.week).periods
    assert len(periods) == 4 and periods[0].returning == 0 and periods[1].returning > 0
    for before, after in zip(periods, periods[1:], strict=False):
        # every user active in a week is returning or dormant in the next one
        assert before.active == after.returning - after.dormant
    assert sum(p.new for p in periods) == direct(
        f"SELECT count(DISTINCT user_id) FROM read_parquet('{events}/**/*.parquet') "
        "WHERE event_name = 'video_view'")[0][0]


def test_dau_mau_matches_a_direct_count(events):
    result = stickiness(EventSource.open(events), VIEW, Period.week)
    daily = direct(
        f"SELECT CAST(date_trunc('month', day) AS DATE) AS month, sum(dau) AS dau_sum, count(*) AS days FROM ("
        f"  SELECT CAST(event_time AS DATE) AS day, count(DISTINCT user_id) AS dau"
        f"  FROM read_parquet('{events}/**/*.parquet') WHERE event_name = 'video_view' GROUP BY 1)"
        f" GROUP BY 1 ORDER BY 1")
    monthly = direct(
        f"SELECT date_trunc('month', CAST(event_time AS DATE)), count(DISTINCT user_id)"
        f" FROM read_parquet('{events}/**/*.parquet') WHERE event_name = 'video_view' GROUP BY 1 ORDER BY 1")
    assert [(m.month, m.days_observed, m.mau) for m in result.dau_mau] == [
        (d[0], d[2], mau) for d, (_, mau) in zip(daily, monthly, strict=True)]
    for m, d in zip(result.dau_mau, daily, strict=True):
        assert m.mean_dau == pytest.approx(d[1] / d[2], rel=1e-12)
        assert 1 / m.days_observed <= m.stickiness <= 1
    assert result.dau_mau[0].stickiness < 1  # October: 27 observed days, users not active every day
    assert sum(p.distribution.total for p in result.periods if p.complete) == result.overall.total
