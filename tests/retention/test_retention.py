"""``retention``: hand-worked cohort triangles (every expected number is worked out in the comments)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from shortvid_analytics.config import Config
from shortvid_analytics.eventspec import EventSpec
from shortvid_analytics.periods import Period
from shortvid_analytics.retention import RetentionMode, retention
from shortvid_analytics.source import EventSource
from tests.conftest import at

# Weeks (UTC): W45 = Mon 2026-11-02 (T0), W46 = 11-09, W47 = 11-16, W48 = 11-23, W49 = 11-30.
DOUYIN, KUAISHOU = {"platform": "douyin"}, {"platform": "kuaishou"}
ROWS = [
    # u1: first view Mon W45 10:00; a purchase BEFORE it that week (not a k=0 return); purchases W46, W48
    ("u1", "purchase", at(hours=9)),
    ("u1", "video_view", at(hours=10), DOUYIN),
    ("u1", "video_view", at(days=1, hours=8), KUAISHOU),
    ("u1", "purchase", at(days=8)),
    ("u1", "purchase", at(days=21)),
    # u2: view Wed W45, purchase after it the same week, nothing later
    ("u2", "video_view", at(days=2), KUAISHOU),
    ("u2", "purchase", at(days=2, hours=1)),
    # u4: views Fri W45 and in W46, purchase W47
    ("u4", "video_view", at(days=4), DOUYIN),
    ("u4", "video_view", at(days=9), DOUYIN),
    ("u4", "purchase", at(days=16)),
    # u3: view Mon W46; view Tue W47 10:00 then purchase 11:00
    ("u3", "video_view", at(days=7), KUAISHOU),
    ("u3", "video_view", at(days=15, hours=10), KUAISHOU),
    ("u3", "purchase", at(days=15, hours=11)),
    # the export's last event, exactly at Mon W49 00:00: W45..W48 are over, W49 is not
    ("z", "like", at(days=28)),
]
VIEW, PURCHASE = EventSpec.parse("video_view"), EventSpec.parse("purchase")


@pytest.fixture
def source(write_events) -> EventSource:
    return EventSource.open(write_events(ROWS))


def triangle(result) -> dict[str, tuple[int, list[int | None]]]:
    return {c.cohort.isoformat(): (c.size, c.retained) for c in result.total.cohorts}


def test_first_time_bounded(source):
    result = retention(source, VIEW, PURCHASE, Period.week, periods=5)
    # W45 cohort u1, u2, u4: k0 only u2 (u1's purchase precedes its view); k1 u1; k2 u4; k3 u1; W49 not over
    # W46 cohort u3: k0 no purchase in W46; k1 yes (W47); k2 no; W49, W50 not over
    assert triangle(result) == {"2026-11-02": (3, [1, 1, 1, 1, None]), "2026-11-09": (1, [0, 1, 0, None, None])}
    overall = [(p.period, p.retained, p.users, p.rate) for p in result.total.overall]
    assert overall == [(0, 1, 4, 0.25), (1, 2, 4, 0.5), (2, 1, 4, 0.25), (3, 1, 3, 1 / 3), (4, 0, 0, None)]
    assert result.total.cohorts[0].rate == [1 / 3, 1 / 3, 1 / 3, 1 / 3, None]
    assert result.total.cohorts[0].label == "2026-W45"


def test_first_time_unbounded(source):
    result = retention(source, VIEW, PURCHASE, Period.week, periods=5, unbounded=True)
    # W45: last valid return u1 k3, u2 k0, u4 k2 -> at k>=0: 3, k>=1: 2, k>=2: 2, k>=3: 1
    # W46: u3 last return k1
    assert triangle(result) == {"2026-11-02": (3, [3, 2, 2, 1, None]), "2026-11-09": (1, [1, 1, 0, None, None])}


def test_recurring(source):
    result = retention(source, VIEW, PURCHASE, Period.week, periods=5, mode=RetentionMode.recurring)
    # entries: W45 {u1, u2, u4} as first-time; W46 {u3, u4}: k0 none, k1 both (W47), k2 none;
    # W47 {u3, first view Tue 10:00}: k0 the 11:00 purchase; k1 (W48) none
    assert triangle(result) == {
        "2026-11-02": (3, [1, 1, 1, 1, None]),
        "2026-11-09": (2, [0, 2, 0, None, None]),
        "2026-11-16": (1, [1, 0, None, None, None]),
    }
    assert [p.users for p in result.total.overall] == [6, 6, 5, 3, 0]
    assert [p.retained for p in result.total.overall] == [2, 3, 1, 1, 0]


def test_recurring_unbounded(source):
    result = retention(source, VIEW, PURCHASE, Period.week, periods=3, mode=RetentionMode.recurring,
                       unbounded=True)
    # W46 {u3, u4}: both return in W47 only -> [2, 2, 0]; W47 {u3}: returns only at k0 -> [1, 0, None]
    assert triangle(result) == {"2026-11-02": (3, [3, 2, 2]), "2026-11-09": (2, [2, 2, 0]),
                                "2026-11-16": (1, [1, 0, None])}


def test_start_equals_return_counts_start_event_at_k0_only(source):
    result = retention(source, VIEW, None, Period.week, periods=4)
    # W45 {u1, u2, u4}: the start event itself makes k0 = 3; only u4 viewed in W46; nobody later
    # W46 {u3}: k0 itself, k1 the W47 view
    assert triangle(result) == {"2026-11-02": (3, [3, 1, 0, 0]), "2026-11-09": (1, [1, 1, 0, None])}
    assert result.params["return"] == "video_view"
    recurring = retention(source, VIEW, VIEW, Period.week, periods=2, mode=RetentionMode.recurring)
    assert triangle(recurring) == {"2026-11-02": (3, [3, 1]), "2026-11-09": (2, [2, 1]),
                                   "2026-11-16": (1, [1, 0])}


def test_start_filter_moves_the_first_start_event(source):
    start = EventSpec.parse("video_view[platform=kuaishou]")
    result = retention(source, start, PURCHASE, Period.week, periods=5)
    # first kuaishou views: u1 Tue W45 08:00 (its Mon 09:00 purchase is before it), u2 Wed W45, u3 W46
    assert triangle(result) == {"2026-11-02": (2, [1, 1, 0, 1, None]), "2026-11-09": (1, [0, 1, 0, None, None])}
    assert result.params["start"] == "video_view[platform=kuaishou]"


def test_alternative_return_events(source):
    result = retention(source, VIEW, EventSpec.parse("purchase|like"), Period.week, periods=5)
    # the like at W49 00:00 belongs to user z, who never viewed: nothing changes, W49 stays not over
    assert triangle(result) == {"2026-11-02": (3, [1, 1, 1, 1, None]), "2026-11-09": (1, [0, 1, 0, None, None])}


def test_breakdown_by_property_of_first_start_event(source):
    result = retention(source, VIEW, PURCHASE, Period.week, periods=5, by="platform")
    assert result.breakdown is not None
    # u1 first view douyin (its later kuaishou view does not matter), u4 douyin, u2 and u3 kuaishou
    douyin, kuaishou = result.breakdown["douyin"], result.breakdown["kuaishou"]
    assert {c.cohort.isoformat(): (c.size, c.retained) for c in douyin.cohorts} == {
        "2026-11-02": (2, [0, 1, 1, 1, None])}
    assert {c.cohort.isoformat(): (c.size, c.retained) for c in kuaishou.cohorts} == {
        "2026-11-02": (1, [1, 0, 0, 0, None]), "2026-11-09": (1, [0, 1, 0, None, None])}
    assert [p.rate for p in kuaishou.overall] == [0.5, 0.5, 0.0, 0.0, None]
    # the totals are the same as without the breakdown
    assert triangle(result) == triangle(retention(source, VIEW, PURCHASE, Period.week, periods=5))


def test_breakdown_ties_and_nulls(write_events):
    rows = [
        ("a", "video_view", at(hours=1), KUAISHOU),
        ("a", "video_view", at(hours=1), DOUYIN),  # same instant: the smaller value wins
        ("b", "video_view", at(hours=2)),  # platform NULL
        ("b", "video_view", at(hours=3), DOUYIN),
        ("z", "like", at(days=7)),
    ]
    result = retention(EventSource.open(write_events(rows)), VIEW, VIEW, Period.week, periods=1, by="platform")
    assert {v: t.size for v, t in result.breakdown.items()} == {"douyin": 1, None: 1}
    document = result.to_dict()
    assert [b["value"] for b in document["breakdown"]] == ["douyin", None]


def test_day_periods(write_events):
    rows = [
        ("a", "video_view", at(hours=23, minutes=59)),  # Mon 23:59 -> cohort Mon
        ("a", "purchase", at(days=1)),                    # Tue 00:00 -> k1
        ("a", "purchase", at(days=3, hours=5)),           # Thu -> k3
        ("b", "video_view", at(days=1, hours=12)),        # cohort Tue
        ("z", "like", at(days=3, hours=12)),              # last event Thu 12:00: Thu not over
    ]
    result = retention(EventSource.open(write_events(rows)), VIEW, PURCHASE, Period.day, periods=4)
    assert triangle(result) == {"2026-11-02": (1, [0, 1, 0, None]), "2026-11-03": (1, [0, 0, None, None])}
    assert result.total.cohorts[0].label == "2026-11-02"


SUNDAY_2359_LOCAL = datetime(2026, 11, 8, 15, 59)  # Asia/Shanghai = UTC+8: Sun 11-08 23:59 local
MONDAY_0000_LOCAL = datetime(2026, 11, 8, 16, 0)   # Mon 11-09 00:00 local, still Sunday in UTC


def shanghai(tmp_path: Path) -> Path:
    path = tmp_path / "shanghai.toml"
    path.write_text('timezone = "Asia/Shanghai"\n')
    return path


def boundary_rows():
    return [
        ("v1", "video_view", SUNDAY_2359_LOCAL),
        ("v1", "purchase", MONDAY_0000_LOCAL),
        ("v2", "video_view", MONDAY_0000_LOCAL),
        ("v2", "purchase", datetime(2026, 11, 8, 16, 30)),
        ("z", "like", datetime(2026, 11, 29, 16, 0)),  # Mon 11-30 00:00 local: W46..W48 over
    ]


def test_week_boundary_in_the_configured_time_zone(write_events, tmp_path, cli):
    path = write_events(boundary_rows())
    local = cli("--config", shanghai(tmp_path), "retention", path, "--return", "purchase", "--periods", "3",
                "--format", "json")
    assert local.exit_code == 0, local.stderr
    cohorts = {c["cohort"]: (c["size"], c["retained"]) for c in json.loads(local.stdout)["cohorts"]}
    # local: v1 Sunday 23:59 -> W45, buys Monday 00:00 -> k1; v2 Monday 00:00 -> W46, buys 00:30 -> k0
    assert cohorts == {"2026-11-02": (1, [0, 1, 0]), "2026-11-09": (1, [1, 0, 0])}
    assert json.loads(local.stdout)["params"]["source"]["timezone"] == "Asia/Shanghai"
    # UTC: everything happens on Sunday 11-08 -> both in W45, both buy after viewing -> k0
    utc = cli("retention", path, "--return", "purchase", "--periods", "3", "--format", "json")
    cohorts = {c["cohort"]: (c["size"], c["retained"]) for c in json.loads(utc.stdout)["cohorts"]}
    assert cohorts == {"2026-11-02": (2, [2, 0, 0])}


def test_month_boundary_in_the_configured_time_zone(write_events, tmp_path):
    rows = [
        ("m1", "video_view", datetime(2026, 11, 30, 15, 59)),  # local Mon 11-30 23:59 -> November
        ("m1", "purchase", datetime(2026, 11, 30, 16, 0)),     # local Tue 12-01 00:00 -> k1
        ("m2", "video_view", datetime(2026, 12, 31, 16, 0)),   # local 2027-01-01 00:00 -> January
        ("z", "like", datetime(2027, 1, 31, 16, 0)),           # local 2027-02-01 00:00: January is over
    ]
    source = EventSource.open(write_events(rows), Config.load(shanghai(tmp_path)))
    result = retention(source, VIEW, PURCHASE, Period.month, periods=3)
    assert triangle(result) == {"2026-11-01": (1, [0, 1, 0]), "2027-01-01": (1, [0, None, None])}
    assert [c.label for c in result.total.cohorts] == ["2026-11", "2027-01"]


@pytest.mark.parametrize(("last_event", "week48"), [
    (at(days=28), 1),                            # Mon W49 00:00: W48 ends exactly there -> over
    (at(days=28, minutes=-1 / 60_000_000), None),  # Sun 23:59:59.999999: W48 not over -> null
])
def test_period_containing_the_last_event_is_null(write_events, last_event, week48):
    rows = [("a", "video_view", at(days=2)), ("a", "purchase", at(days=23)), ("z", "like", last_event)]
    result = retention(EventSource.open(write_events(rows)), VIEW, PURCHASE, Period.week, periods=5)
    assert triangle(result) == {"2026-11-02": (1, [0, 0, 0, week48, None])}
    # an incomplete period is null in the rate and in the JSON, never 0
    assert result.to_dict()["cohorts"][0]["rate"][4] is None


def test_to_declares_the_last_day_observed(write_events):
    rows = [("a", "video_view", at(days=1)), ("a", "purchase", at(days=13, hours=12))]
    # the last event is Sun W46 12:00: W46 is not over
    plain = retention(EventSource.open(write_events(rows)), VIEW, PURCHASE, Period.week, periods=3)
    assert triangle(plain) == {"2026-11-02": (1, [0, None, None])}
    # --to that Sunday declares it observed to its end (an event after --to is out of range)
    ranged_source = EventSource.open(write_events(rows + [("a", "purchase", at(days=15))]),
                                     date_to=datetime(2026, 11, 15).date())
    ranged = retention(ranged_source, VIEW, PURCHASE, Period.week, periods=3)
    assert triangle(ranged) == {"2026-11-02": (1, [0, 1, None])}
    assert ranged.observed.end == datetime(2026, 11, 16)
    # an export that stops before --to is not taken as covering it: even W45 is not over
    short = retention(EventSource.open(write_events(rows[:1]), date_to=datetime(2026, 11, 20).date()), VIEW,
                      VIEW, Period.week, periods=3)
    assert triangle(short) == {"2026-11-02": (1, [None, None, None])}


def test_from_makes_first_time_the_first_in_range(write_events):
    rows = [("a", "video_view", at(days=1)), ("a", "video_view", at(days=8)), ("a", "purchase", at(days=15)),
            ("z", "like", at(days=28))]
    path = write_events(rows)
    assert triangle(retention(EventSource.open(path), VIEW, PURCHASE, Period.week, periods=3)) == {
        "2026-11-02": (1, [0, 0, 1])}
    ranged = EventSource.open(path, date_from=datetime(2026, 11, 9).date())
    assert triangle(retention(ranged, VIEW, PURCHASE, Period.week, periods=3)) == {"2026-11-09": (1, [0, 1, 0])}


def test_integer_user_ids(tmp_path):
    frame = pl.DataFrame({"user_id": [7, 7, 8], "event_name": ["video_view", "purchase", "like"],
                          "event_time": [at(), at(days=7), at(days=14)]})
    frame.write_parquet(tmp_path / "ints.parquet")
    result = retention(EventSource.open(tmp_path / "ints.parquet"), VIEW, PURCHASE, Period.week, periods=2)
    assert triangle(result) == {"2026-11-02": (1, [0, 1])}


def test_json_contract_and_csv(write_events, cli):
    path = write_events(ROWS)
    out = cli("retention", path, "--start", "video_view", "--return", "purchase", "--period", "week",
              "--periods", "5", "--mode", "first-time", "--format", "json")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "retention" and doc["version"]
    assert doc["params"] == {**doc["params"], "start": "video_view", "return": "purchase", "period": "week",
                             "periods": 5, "mode": "first-time", "unbounded": False, "by": None}
    assert doc["cohorts"][0] == {"cohort": "2026-11-02", "label": "2026-W45", "size": 3,
                                 "retained": [1, 1, 1, 1, None], "rate": [1 / 3, 1 / 3, 1 / 3, 1 / 3, None]}
    assert doc["overall"][1] == {"period": 1, "rate": 0.5, "users": 4, "retained": 2}
    assert doc["size"] == 4 and doc["breakdown"] is None
    assert doc["observed"]["end"] == "2026-11-30T00:00:00"

    csv = cli("retention", path, "--return", "purchase", "--periods", "2", "--by", "platform", "--format", "csv")
    frame = pl.read_csv(csv.stdout.encode())
    assert frame.columns == ["value", "cohort", "size", "period", "retained", "rate", "suppressed"]
    row = frame.filter((pl.col("value") == "kuaishou") & (pl.col("cohort") == "overall") & (pl.col("period") == 1))
    assert row.select("size", "retained").row(0) == (2, 1)


def test_table_and_chart(write_events, cli, tmp_path):
    chart = tmp_path / "triangle.png"
    out = cli("retention", write_events(ROWS), "--return", "purchase", "--periods", "5", "--by", "platform",
              "--chart", chart)
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    w45 = next(line for line in lines if "2026-W45" in line)
    assert w45.split() == ["2026-W45", "3", "33.3", "33.3", "33.3", "33.3"]  # k0..k3 in %, W49 blank
    overall = next(line for line in lines if line.strip().startswith("overall"))
    assert overall.split() == ["overall", "25.0", "50.0", "25.0", "33.3"]
    assert chart.read_bytes().startswith(b"\x89PNG")


ERRORS = [
    (("--start", "nosuch"), "start event 'nosuch' does not occur", "events present: like, purchase, video_view"),
    (("--return", "purchase|refund"), "return event 'refund' does not occur", "events present"),
    (("--period", "fortnight"), "period 'fortnight': expected day, week or month", None),
    (("--periods", "0"), "--periods 0: expected a positive number", None),
    (("--by", "colour"), "--by property 'colour' is not a column", "columns: event_time, user_id"),
    (("--start", "video_view[colour=red]"), "property in start event", "'colour' is not a column"),
    (("--mode", "sometimes"), "--mode 'sometimes': expected first-time or recurring", None),
    (("--chart", "out.gif"), "expected a file name ending in .png, .svg or .pdf", None),
    (("--start", "video_view[platform=douyin"), "event selector 'video_view[platform=douyin'", None),
]


@pytest.mark.parametrize(("args", "message", "detail"), ERRORS)
def test_bad_options_one_line_error(write_events, cli, tmp_path, args, message, detail):
    out = cli("retention", write_events(ROWS), *args, "-o", tmp_path / "out.json", "--format", "json")
    assert out.exit_code == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert detail is None or detail in lines[0]
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "out.json").exists()


def test_range_without_start_events(write_events, cli):
    path = write_events(ROWS)
    out = cli("retention", path, "--from", "2026-11-23", "--to", "2026-11-28")  # one purchase, no view
    assert out.exit_code == 1
    assert out.stderr.strip() == f"error: {path}: no video_view events in the analysed range"
    out = cli("retention", path, "--from", "2026-11-25", "--to", "2026-11-28")
    assert out.exit_code == 1
    assert out.stderr.strip() == "error: no events between 2026-11-25 and 2026-11-28 (the data covers 2026-11-02 .. 2026-11-30)"
    out = cli("retention", path, "--from", "2027-01-01")
    assert out.exit_code == 1 and "error: no events between 2027-01-01 and " in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
