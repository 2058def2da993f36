"""`shortvid digest`: hand-worked comparisons, anomaly rule, movers, idempotency, lock, partial weeks."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from shortvid_analytics.digest import digest, last_complete_week
from shortvid_analytics.lock import lock_path
from shortvid_analytics.source import EventSource

FIRST_MONDAY = date(2026, 8, 31)  # 2026-W36; the tenth week is 2026-W45
VIEWS = [5, 10, 12, 11, 13, 9, 10, 12, 11, 20]  # per week; the last week is the digest week
AS_OF = "2026-11-09T06:00:00"


def weekly_events(weeks: int = 10, skip_days: tuple[date, ...] = ()) -> list[tuple]:
    """One live_enter a day; VIEWS[k] views on the Monday of week k; purchases on Tuesdays:
    c1/p1 (douyin) 100 a week, 500 in the last week; c2/p2 (kuaishou) 300 a week, 100 in the last week."""
    rows: list[tuple] = []
    for k in range(weeks):
        monday = FIRST_MONDAY + timedelta(weeks=k)
        for d in range(7):
            day = monday + timedelta(days=d)
            if day not in skip_days:
                rows.append(("a", "live_enter", datetime.combine(day, datetime.min.time()) + timedelta(hours=12),
                             {"platform": "douyin"}))
        noon = datetime.combine(monday, datetime.min.time()) + timedelta(hours=10)
        rows += [(f"v{i}", "video_view", noon + timedelta(minutes=i), {"platform": "douyin", "creator_id": "c1"})
                 for i in range(VIEWS[k])]
        last = k == 9
        tuesday = noon + timedelta(days=1)
        rows.append(("b1", "purchase", tuesday, {"creator_id": "c1", "product_id": "p1", "platform": "douyin",
                                                 "order_id": f"o1-{k}", "revenue": 500.0 if last else 100.0}))
        rows.append(("b2", "purchase", tuesday, {"creator_id": "c2", "product_id": "p2", "platform": "kuaishou",
                                                 "order_id": f"o2-{k}", "revenue": 100.0 if last else 300.0}))
    return rows


@pytest.fixture
def weekly(write_events) -> Path:
    return write_events(weekly_events())


def kpi(result, name: str) -> dict:
    return next(k for k in result.kpis if k["kpi"] == name)


def test_views_against_previous_week_trailing_mean_and_baseline(weekly):
    result = digest(EventSource.open(weekly), "last")
    assert result.week["label"] == "2026-W45" and result.week["complete"]
    views = kpi(result, "views")
    # by hand: previous week 11; trailing 4 weeks 9, 10, 12, 11; baseline weeks 10, 12, 11, 13, 9, 10, 12, 11
    assert (views["value"], views["previous"], views["change"]) == (20, 11, 9.0)
    assert views["change_pct"] == pytest.approx(9 / 11)
    assert views["trailing_4w_mean"] == 10.5 and views["trailing_4w_weeks"] == 4
    assert views["change_vs_trailing_4w"] == 9.5 and views["change_pct_vs_trailing_4w"] == pytest.approx(9.5 / 10.5)
    baseline = views["baseline"]
    # median 11, absolute deviations 1,1,0,2,2,1,1,0 -> MAD 1, robust SD 1.4826 (= 1 / Phi^-1(3/4))
    assert baseline["weeks"] == 8 and baseline["median"] == 11.0
    assert baseline["robust_sd"] == pytest.approx(1.482602218505602)
    assert baseline["upper"] == pytest.approx(11 + 3 * 1.482602218505602)
    assert views["anomaly"] == "high"


def test_gmv_spike_is_flagged_and_steady_kpis_are_not(weekly):
    result = digest(EventSource.open(weekly), "last")
    gmv = kpi(result, "gmv")
    assert (gmv["value"], gmv["previous"], gmv["change_pct"]) == (600.0, 400.0, 0.5)
    assert gmv["baseline"]["robust_sd"] == 0.0 and gmv["anomaly"] == "high"
    assert kpi(result, "orders")["anomaly"] is None  # 2 orders every week
    assert "gmv" in result.anomalies and "views" in result.anomalies and "orders" not in result.anomalies


def test_mau_and_stickiness_of_a_cut_month_are_partial_and_not_flagged(weekly):
    # the data ends on 2026-11-08: November's MAU counts 8 days only, so W45's MAU is not comparable
    result = digest(EventSource.open(weekly), "last")
    mau, stickiness, wau = kpi(result, "mau"), kpi(result, "stickiness"), kpi(result, "wau")
    assert mau["partial"] and stickiness["partial"] and not wau["partial"] and not kpi(result, "views")["partial"]
    assert mau["anomaly"] is None and stickiness["anomaly"] is None
    # the baseline keeps the weeks whose months lie inside the data: W37..W43 (W44 touches November)
    assert mau["baseline"]["weeks"] == 7 and wau["baseline"]["weeks"] == 8


def test_an_earlier_week_compares_with_its_own_past(weekly):
    result = digest(EventSource.open(weekly), "2026-W44")
    views = kpi(result, "views")
    assert (views["value"], views["previous"]) == (11, 12)
    # baseline W36..W43: 5, 10, 12, 11, 13, 9, 10, 12 -> median 10.5; deviations .5 .5 .5 1.5 1.5 1.5 2.5 5.5
    # -> MAD 1.5; 11 is well inside
    baseline = views["baseline"]
    assert (baseline["weeks"], baseline["median"]) == (8, 10.5)
    assert baseline["robust_sd"] == pytest.approx(1.5 * 1.482602218505602) and views["anomaly"] is None


def test_breakdown_and_movers(weekly):
    result = digest(EventSource.open(weekly), "last", min_group_size=1)  # suppression: test_privacy_suppression
    groups = {g["platform"]: {e["kpi"]: e for e in g["kpis"]} for g in result.breakdown["groups"]}
    assert set(groups) == {"douyin", "kuaishou"}
    assert (groups["douyin"]["gmv"]["value"], groups["douyin"]["gmv"]["previous"]) == (500.0, 100.0)
    assert groups["kuaishou"]["gmv"]["change_pct"] == pytest.approx(-2 / 3)
    assert groups["douyin"]["views"]["value"] == 20
    creators = result.movers["creator_id"]
    assert [(m["creator_id"], m["gmv"], m["previous_gmv"], m["gmv_change"]) for m in creators["up"]] == \
        [("c1", 500.0, 100.0, 400.0)]
    assert [(m["creator_id"], m["gmv_change"]) for m in creators["down"]] == [("c2", -200.0)]
    assert creators["up"][0]["gmv_change_pct"] == 4.0
    assert [m["product_id"] for m in result.movers["product_id"]["up"]] == ["p1"]


def test_last_complete_week_rule():
    sunday, wednesday = date(2026, 11, 8), date(2026, 11, 4)
    assert last_complete_week([date(2026, 11, 1), sunday]) == date(2026, 11, 2)
    assert last_complete_week([date(2026, 11, 1), wednesday]) == date(2026, 10, 26)


def run(cli, events: Path, out: Path, *extra: str):
    return cli("digest", events, "--out", out, "--as-of", AS_OF, *extra)


def errors(result) -> list[str]:
    """stderr without the digest's progress log lines."""
    return [line for line in result.stderr.splitlines() if not line.startswith("digest: ")]


def test_files_are_written_and_byte_identical_across_runs(weekly, cli, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    result = run(cli, weekly, first, "--week", "last")
    assert result.exit_code == 0, result.stderr
    names = ["digest-2026-W45.json", "digest-2026-W45.md", "digest-2026-W45.html"]
    assert result.stdout.splitlines() == [str(first / n) for n in names]
    assert "week 2026-W45 (complete)" in result.stderr and "\x1b[" not in result.stderr + result.stdout
    assert run(cli, weekly, second, "--week", "last").exit_code == 0
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert stat.S_IMODE(os.stat(first / name).st_mode) == 0o666 & ~_umask()
    assert sorted(p.name for p in first.iterdir()) == sorted(names + [lock_path(first, "digest").name])
    doc = json.loads((first / names[0]).read_text())
    assert doc["kind"] == "digest" and doc["generated_at"] == "2026-11-09T06:00:00Z"
    assert doc["params"]["week"] == "last" and doc["week"]["label"] == "2026-W45"
    markdown = (first / names[1]).read_text()
    assert "| Views | 20 | 11 | +9 | +81.8% | 10.5 | +90.5% | high |" in markdown
    assert "**GMV** 600.00 is above its usual range" in markdown
    html = (first / names[2]).read_text()
    assert html.count("data:image/png;base64,") == 2 and "<script" not in html and "http" not in html.replace(
        "http-equiv", "")


@pytest.mark.parametrize("as_of, expected", [
    ("2026-11-09T14:00:00+08:00", "2026-11-09T06:00:00Z"),
    ("2026-11-09T06:00:00Z", "2026-11-09T06:00:00Z"),
    ("2026-11-09 06:00:00", "2026-11-09T06:00:00Z"),
])
def test_as_of_is_stored_in_utc(weekly, cli, tmp_path, as_of, expected):
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"  # a naive --as-of is UTC, not the machine's zone
    time.tzset()
    try:
        assert cli("digest", weekly, "--out", tmp_path, "--as-of", as_of).exit_code == 0
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()
    doc = json.loads((tmp_path / "digest-2026-W45.json").read_text())
    assert doc["generated_at"] == expected == doc["params"]["as_of"]


def test_without_as_of_only_generated_at_changes(weekly, cli, tmp_path):
    assert cli("digest", weekly, "--out", tmp_path / "a").exit_code == 0
    assert run(cli, weekly, tmp_path / "b").exit_code == 0
    a = json.loads((tmp_path / "a" / "digest-2026-W45.json").read_text())
    b = json.loads((tmp_path / "b" / "digest-2026-W45.json").read_text())
    assert b["generated_at"] == "2026-11-09T06:00:00Z" and a["generated_at"] != b["generated_at"]
    a_md = (tmp_path / "a" / "digest-2026-W45.md").read_text().splitlines()
    b_md = (tmp_path / "b" / "digest-2026-W45.md").read_text().splitlines()
    assert [x for x, y in zip(a_md, b_md) if x != y] == [a_md[2]]
    del a["generated_at"], b["generated_at"], a["params"]["as_of"], b["params"]["as_of"]
    assert a == b


def test_held_lock_exits_75_without_writing(weekly, cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with open(lock_path(out, "digest"), "a+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run, as far as the digest can tell
        result = run(cli, weekly, out)
    assert result.exit_code == 75
    assert "another digest run holds" in result.stderr and len(errors(result)) == 1
    assert [p.name for p in out.iterdir()] == [lock_path(out, "digest").name]
    assert run(cli, weekly, out).exit_code == 0  # released: the next run proceeds


def test_partial_week_exits_3_unless_allowed(write_events, cli, tmp_path):
    # data ends on Wednesday of W45: 'last' is W44, W45 itself is partial
    rows = [r for r in weekly_events() if r[2].date() <= date(2026, 11, 4)]
    events = write_events(rows)
    assert run(cli, events, tmp_path / "last").exit_code == 0
    assert (tmp_path / "last" / "digest-2026-W44.json").exists()
    result = run(cli, events, tmp_path / "partial", "--week", "2026-W45")
    assert result.exit_code == 3
    assert "week 2026-W45 is partial: events on 3 of 7 days" in result.stderr
    assert len(errors(result)) == 1 and not list((tmp_path / "partial").glob("digest-*"))
    allowed = run(cli, events, tmp_path / "partial", "--week", "2026-W45", "--allow-partial")
    assert allowed.exit_code == 0 and "PARTIAL" in allowed.stderr
    doc = json.loads((tmp_path / "partial" / "digest-2026-W45.json").read_text())
    assert doc["week"]["complete"] is False and doc["week"]["days_with_events"] == 3
    assert "Partial week" in (tmp_path / "partial" / "digest-2026-W45.md").read_text()


def test_a_missing_day_makes_the_week_partial(write_events, cli, tmp_path):
    events = write_events(weekly_events(skip_days=(date(2026, 11, 5),)))
    result = run(cli, events, tmp_path / "out")
    assert result.exit_code == 3 and "events on 6 of 7 days" in result.stderr


def test_week_without_data_exits_3(weekly, cli, tmp_path):
    result = run(cli, weekly, tmp_path / "out", "--week", "2025-W10")
    assert result.exit_code == 3 and "week 2025-W10 has no events" in result.stderr


def test_partial_baseline_weeks_are_left_out(write_events):
    # the data starts on Thursday of W36: that week is partial and not part of any baseline
    rows = [r for r in weekly_events() if r[2].date() >= date(2026, 9, 3)]
    result = digest(EventSource.open(write_events(rows)), "2026-W40")
    views = kpi(result, "views")
    assert views["baseline"]["weeks"] == 3 and views["baseline"]["median"] is None and views["anomaly"] is None
    assert views["trailing_4w_weeks"] == 3 and views["trailing_4w_mean"] == pytest.approx((10 + 12 + 11) / 3)


@pytest.mark.parametrize("args, message", [
    (["--week", "2026-47"], "week '2026-47': expected an ISO week such as 2026-W47"),
    (["--week", "2026-W60"], "no such ISO week"),
    (["--top-movers", "0"], "--top-movers 0"),
    (["--by", "nosuch"], "'nosuch' is not a column"),
])
def test_bad_options_fail_in_one_line(weekly, cli, tmp_path, args, message):
    result = run(cli, weekly, tmp_path / "out", *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(errors(result)) == 1
    assert not list(tmp_path.glob("out/digest-*"))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
