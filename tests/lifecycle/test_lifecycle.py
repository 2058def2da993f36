"""``lifecycle``: hand-worked new / returning / resurrecting / dormant counts."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from shortvid_analytics.config import Config
from shortvid_analytics.eventspec import EventSpec
from shortvid_analytics.lifecycle import lifecycle
from shortvid_analytics.periods import Period
from shortvid_analytics.source import EventSource
from tests.conftest import at

# Active weeks (video_view): a W45 W46 W48 | b W46 W47 | c W45 W47 | d W48; b's W48 event is a like.
ROWS = [
    ("a", "video_view", at(days=0, hours=9)),
    ("a", "video_view", at(days=8)),
    ("a", "video_view", at(days=22)),
    ("b", "video_view", at(days=9)),
    ("b", "video_view", at(days=17)),
    ("c", "video_view", at(days=3)),
    ("c", "video_view", at(days=20)),
    ("d", "video_view", at(days=24)),
    ("b", "like", at(days=27, hours=12)),  # last event Sun W48 12:00: W48 is not over
]
VIEW = EventSpec.parse("video_view")


def counts(result):
    return {p.label: (p.new, p.returning, p.resurrecting, p.dormant) for p in result.periods}


EXPECTED = {
    "2026-W45": (2, 0, 0, 0),    # a, c new
    "2026-W46": (1, 1, 0, -1),   # b new, a returning, c dormant
    "2026-W47": (0, 1, 1, -1),   # b returning, c resurrecting, a dormant
    "2026-W48": (1, 0, 1, -2),   # d new, a resurrecting, b and c dormant
}


def test_weekly_lifecycle(write_events):
    result = lifecycle(EventSource.open(write_events(ROWS)), VIEW, Period.week)
    assert counts(result) == EXPECTED
    assert [p.complete for p in result.periods] == [True, True, True, False]
    w48 = result.periods[3]
    assert (w48.active, w48.quick_ratio) == (2, 1.0)
    assert result.periods[0].quick_ratio is None
    assert result.periods[1].quick_ratio == 1.0


def test_history_before_from_is_used_and_nothing_after_to(write_events):
    path = write_events(ROWS)
    ranged = lifecycle(EventSource.open(path, date_from=date(2026, 11, 16)), VIEW, Period.week)
    # a and c were active before the range: resurrecting/dormant, never new
    assert counts(ranged) == {k: EXPECTED[k] for k in ("2026-W47", "2026-W48")}
    cut = lifecycle(EventSource.open(path, date_to=date(2026, 11, 22)), VIEW, Period.week)
    assert counts(cut) == {k: EXPECTED[k] for k in ("2026-W45", "2026-W46", "2026-W47")}
    # the export has events after --to: W47 counts as observed to its end
    assert [p.complete for p in cut.periods] == [True, True, True]


def test_daily_and_monthly(write_events):
    rows = [("a", "video_view", at(hours=1)), ("a", "video_view", at(days=1)), ("b", "video_view", at(days=1)),
            ("a", "video_view", at(days=3)), ("b", "like", at(days=3, hours=5))]
    daily = lifecycle(EventSource.open(write_events(rows)), VIEW, Period.day)
    assert counts(daily) == {"2026-11-02": (1, 0, 0, 0), "2026-11-03": (1, 1, 0, 0),
                             "2026-11-04": (0, 0, 0, -2), "2026-11-05": (0, 0, 1, 0)}
    monthly_rows = [("a", "video_view", datetime(2026, 10, 31)), ("a", "video_view", datetime(2026, 12, 1)),
                    ("b", "video_view", datetime(2026, 11, 30, 23, 59))]
    monthly = lifecycle(EventSource.open(write_events(monthly_rows)), VIEW, Period.month)
    assert counts(monthly) == {"2026-10": (1, 0, 0, 0), "2026-11": (1, 0, 0, -1), "2026-12": (0, 0, 1, -1)}


def test_week_boundary_in_the_configured_time_zone(write_events):
    # Asia/Shanghai: 15:59 UTC Sunday = Sun 23:59 local (W45); 16:00 UTC = Mon 00:00 local (W46)
    rows = [("a", "video_view", datetime(2026, 11, 8, 15, 59)), ("a", "video_view", datetime(2026, 11, 8, 16, 0)),
            ("b", "video_view", datetime(2026, 11, 8, 16, 0))]
    local = lifecycle(EventSource.open(write_events(rows), Config(timezone="Asia/Shanghai")), VIEW, Period.week)
    assert counts(local) == {"2026-W45": (1, 0, 0, 0), "2026-W46": (1, 1, 0, 0)}
    utc = lifecycle(EventSource.open(write_events(rows)), VIEW, Period.week)
    assert counts(utc) == {"2026-W45": (2, 0, 0, 0)}


def test_filtered_event_and_json(write_events, cli):
    rows = ROWS + [("e", "video_view", at(days=1), {"platform": "douyin"})]
    out = cli("lifecycle", write_events(rows), "--event", "video_view[platform=douyin]", "--format", "json")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "lifecycle" and doc["params"]["event"] == "video_view[platform=douyin]"
    assert doc["periods"][0] == {"period": "2026-11-02", "label": "2026-W45", "complete": True, "new": 1,
                                 "returning": 0, "resurrecting": 0, "dormant": 0, "active": 1, "quick_ratio": None}
    assert [p["dormant"] for p in doc["periods"]] == [0, -1, 0, 0]


def test_table_csv_and_chart(write_events, cli, tmp_path):
    path = write_events(ROWS)
    out = cli("lifecycle", path, "--chart", tmp_path / "life.svg")
    assert out.exit_code == 0, out.stderr
    assert any("2026-W48 *" in line and "-2" in line for line in out.stdout.splitlines())
    assert (tmp_path / "life.svg").read_text().lstrip().startswith("<?xml")
    csv = cli("lifecycle", path, "--format", "csv")
    assert csv.stdout.splitlines()[3].startswith("2026-11-16,2026-W47,true,0,1,1,-1,2,")


@pytest.mark.parametrize(("args", "message"), [
    (("--event", "nosuch"), "event 'nosuch' does not occur"),
    (("--period", "quarter"), "period 'quarter': expected day, week or month"),
    (("--event", "video_view[colour=red]"), "'colour' is not a column"),
])
def test_bad_options(write_events, cli, args, message):
    out = cli("lifecycle", write_events(ROWS), *args)
    assert out.exit_code == 2
    assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr
    assert "Traceback" not in out.stderr


def test_no_events_in_range(write_events, cli):
    path = write_events(ROWS)
    out = cli("lifecycle", path, "--event", "like", "--to", "2026-11-20")
    assert out.exit_code == 1
    assert out.stderr.strip() == f"error: {path}: no like events in the analysed range"
