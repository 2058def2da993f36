"""``stickiness``: hand-worked active-day distributions and DAU/MAU."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from shortvid_analytics.config import Config
from shortvid_analytics.eventspec import EventSpec
from shortvid_analytics.periods import Period
from shortvid_analytics.source import EventSource
from shortvid_analytics.stickiness import stickiness
from tests.conftest import at

ROWS = [
    # p: W45 Mon (twice) and Wed -> 2 days; W46 Tue -> 1 day
    ("p", "video_view", at(hours=9)),
    ("p", "video_view", at(hours=20)),
    ("p", "video_view", at(days=2)),
    ("p", "video_view", at(days=8)),
    # q: every day of W45 -> 7 days
    *[("q", "video_view", at(days=d, hours=12)) for d in range(7)],
    # r: W46 Mon, Tue, Wed -> 3 days; its like does not make it active
    *[("r", "video_view", at(days=d)) for d in (7, 8, 9)],
    ("r", "like", at(days=10)),
    ("z", "like", at(days=14)),  # last event Mon W47 00:00: W45, W46 over; W47 not
]
VIEW = EventSpec.parse("video_view")


def test_weekly_distribution_and_dau_mau(write_events):
    result = stickiness(EventSource.open(write_events(ROWS)), VIEW, Period.week)
    by_week = {p.label: (p.complete, p.distribution.users) for p in result.periods}
    assert by_week == {
        "2026-W45": (True, [0, 1, 0, 0, 0, 0, 1]),   # p 2 days, q 7 days
        "2026-W46": (True, [1, 0, 1, 0, 0, 0, 0]),   # p 1 day, r 3 days
        "2026-W47": (False, [0] * 7),
    }
    assert result.periods[0].distribution.mean_active_days == 4.5
    # overall pools complete weeks: user-weeks with 1, 2, 3 and 7 days
    assert result.overall.users == [1, 1, 1, 0, 0, 0, 1]
    assert result.overall.mean_active_days == (1 + 2 + 3 + 7) / 4
    # November: observed 11-02 09:00 .. 11-16 00:00 -> 15 observed days (11-02 .. 11-16);
    # active days p 3 + q 7 + r 3 = 13 = the sum of the daily DAUs; MAU 3
    (november,) = result.dau_mau
    assert (november.label, november.complete, november.days_observed, november.mau) == ("2026-11", False, 15, 3)
    assert november.mean_dau == 13 / 15
    assert november.stickiness == 13 / 45


def test_monthly_distribution(write_events):
    rows = [("a", "video_view", datetime(2026, 2, d)) for d in (1, 5, 28)] + [
        ("b", "video_view", datetime(2026, 2, 3)), ("b", "video_view", datetime(2026, 3, 1)),
        ("z", "like", datetime(2026, 3, 1, 12))]
    result = stickiness(EventSource.open(write_events(rows)), VIEW, Period.month)
    february, march = result.periods
    assert (february.days, february.complete, march.complete) == (28, True, False)
    assert february.distribution.users == [1, 0, 1] + [0] * 25
    assert march.distribution.users[:2] == [1, 0] and len(march.distribution.users) == 31
    assert result.overall.users == february.distribution.users
    feb_ratio = result.dau_mau[0]
    assert (feb_ratio.mau, feb_ratio.days_observed, feb_ratio.mean_dau) == (2, 28, 4 / 28)
    assert feb_ratio.stickiness == 4 / 28 / 2
    assert (result.dau_mau[1].days_observed, result.dau_mau[1].mean_dau) == (1, 1.0)


def test_days_follow_the_configured_time_zone(write_events):
    # 15:00 and 17:00 UTC on 11-02 are 23:00 on 11-02 and 01:00 on 11-03 in Asia/Shanghai
    rows = [("a", "video_view", at(hours=15)), ("a", "video_view", at(hours=17)), ("z", "like", at(days=7))]
    local = stickiness(EventSource.open(write_events(rows), Config(timezone="Asia/Shanghai")), VIEW)
    utc = stickiness(EventSource.open(write_events(rows)), VIEW)
    assert local.periods[0].distribution.users[:2] == [0, 1]
    assert utc.periods[0].distribution.users[:2] == [1, 0]


def test_json_csv_table_chart(write_events, cli, tmp_path):
    path = write_events(ROWS)
    out = cli("stickiness", path, "--event", "video_view", "--period", "week", "--format", "json")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "stickiness"
    assert doc["periods"][1]["distribution"][2] == {"days": 3, "users": 1, "share": 0.5}
    assert (doc["periods"][1]["users"], doc["periods"][1]["days"]) == (2, 7)
    assert doc["overall"]["users"] == 4
    assert doc["dau_mau"][0] == {"month": "2026-11-01", "label": "2026-11", "complete": False, "days_observed": 15,
                                 "mau": 3, "mean_dau": 13 / 15, "stickiness": 13 / 45}
    csv = cli("stickiness", path, "--format", "csv").stdout.splitlines()
    assert csv[0] == "period,complete,days,users,share"
    assert "2026-11-02,true,7,1,0.5" in csv and "overall,true,7,1,0.25" in csv
    table = cli("stickiness", path, "--chart", tmp_path / "s.png")
    assert any("DAU/MAU" in line for line in table.stdout.splitlines())
    assert any("2026-11 *" in line and "28.9%" in line for line in table.stdout.splitlines())
    assert (tmp_path / "s.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(("args", "message"), [
    (("--period", "day"), "--period day: stickiness counts active days within a week or a month"),
    (("--period", "year"), "period 'year': expected day, week or month"),
    (("--event", "nosuch"), "event 'nosuch' does not occur"),
])
def test_bad_options(write_events, cli, args, message):
    out = cli("stickiness", write_events(ROWS), *args)
    assert out.exit_code == 2
    assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr
