"""Funnel: hand-worked tiny event tables per option, a property test against a brute-force reference, CLI."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree

import matplotlib.image
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shortvid_analytics.config import Config
from shortvid_analytics.errors import OptionError
from shortvid_analytics.funnel import HISTOGRAM_EDGES_S, FunnelResult, funnel
from shortvid_analytics.source import EventSource
from tests.conftest import at, events_frame

from .reference import quantiles, reference_funnel

VV, CLICK, CART, BUY = "video_view", "product_click", "add_to_cart", "purchase"


def write(path: Path, rows: list[tuple], int_ids: bool = False) -> Path:
    """Rows as in conftest; extra property columns are text; ``int_ids`` stores user_id as BIGINT."""
    frame = events_frame(rows)
    extra = [c for c in frame.columns if frame.schema[c] == pl.Null]
    frame = frame.with_columns(pl.col(c).cast(pl.String) for c in extra)
    if int_ids:
        frame = frame.with_columns(pl.col("user_id").cast(pl.Int64))
    frame.write_parquet(path)
    return path


def run(tmp_path: Path, rows: list[tuple], steps: str, window: str = "1h", *, int_ids: bool = False,
        date_from: date | None = None, date_to: date | None = None, tz: str = "UTC", **kw) -> FunnelResult:
    path = write(tmp_path / "events.parquet", rows, int_ids)
    source = EventSource.open(path, Config(timezone=tz), date_from, date_to)
    return funnel(source, steps, window, **kw)


def users(result_steps) -> list[int]:
    return [s.users for s in result_steps]


def seconds(result: FunnelResult, step: int) -> tuple:
    ttc = result.steps[step - 1].time_to_convert_s
    return ttc.median, ttc.mean, ttc.p90


# ----------------------------------------------------------------------------------------------- ordered


def test_ordered_counts_times_and_rates_with_rows_out_of_order_in_the_file(tmp_path):
    rows = [
        ("u1", BUY, at(30)), ("u1", CLICK, at(5)), ("u1", VV, at(0)),          # written backwards
        ("u2", CLICK, at(12)), ("u2", VV, at(2)),
        ("u3", CLICK, at(0)), ("u3", VV, at(1)),                                # click before the view
        ("u4", VV, at(3)), ("u4", "like", at(4)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK},{BUY}")
    assert users(r.steps) == [4, 2, 1]
    s1, s2, s3 = r.steps
    assert (s1.conversion_from_start, s1.conversion_from_previous, s1.dropoff) == (1.0, None, None)
    assert (s2.conversion_from_start, s2.conversion_from_previous, s2.dropoff) == (0.5, 0.5, 2)
    assert (s3.conversion_from_start, s3.conversion_from_previous, s3.dropoff) == (0.25, 0.5, 1)
    # step 2 times: u1 5 min, u2 10 min; step 3: u1 25 min
    assert seconds(r, 2) == (450.0, 450.0, pytest.approx(300 + 0.9 * 300))
    assert seconds(r, 3) == (1500.0, 1500.0, 1500.0)
    assert s1.time_to_convert_s.median is None and s1.time_to_convert_s.histogram == []


def test_window_edge_exactly_at_the_limit_counts_one_second_later_does_not(tmp_path):
    rows = [
        ("on_edge", VV, at(0)), ("on_edge", CLICK, at(10)),
        ("late", VV, at(0)), ("late", CLICK, at(10, hours=0) + timedelta(seconds=1)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK}", "10m")
    assert users(r.steps) == [2, 1]
    assert seconds(r, 2)[0] == 600.0
    # the edge sits in the last histogram bin, which includes the window
    assert r.steps[1].time_to_convert_s.histogram[-1].users == 1
    assert r.steps[1].time_to_convert_s.histogram[-1].to_s == 600.0


def test_the_window_counts_from_step_one_not_from_the_previous_step(tmp_path):
    rows = [("u", VV, at(0)), ("u", CLICK, at(40)), ("u", BUY, at(70))]
    r = run(tmp_path, rows, f"{VV},{CLICK},{BUY}", "1h")
    assert users(r.steps) == [1, 1, 0]


def test_counted_attempt_is_the_furthest_and_times_come_from_it(tmp_path):
    # attempt 1 (t=0) reaches step 2 only; attempt 2 (t=100) reaches step 3: attempt 2 is counted
    rows = [
        ("u", VV, at(0)), ("u", CLICK, at(1)),
        ("u", VV, at(100)), ("u", CLICK, at(130)), ("u", BUY, at(140)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK},{BUY}", "1h")
    assert users(r.steps) == [1, 1, 1]
    assert seconds(r, 2)[0] == 1800.0 and seconds(r, 3)[0] == 600.0


def test_ties_between_attempts_go_to_the_earliest(tmp_path):
    rows = [("u", VV, at(0)), ("u", VV, at(20)), ("u", CLICK, at(30))]
    r = run(tmp_path, rows, f"{VV},{CLICK}", "1h")
    assert seconds(r, 2)[0] == 1800.0  # measured from the first view, not the second


def test_each_step_is_completed_as_early_as_possible(tmp_path):
    rows = [("u", VV, at(0)), ("u", CLICK, at(5)), ("u", CLICK, at(9)), ("u", BUY, at(20))]
    r = run(tmp_path, rows, f"{VV},{CLICK},{BUY}", "1h")
    assert (seconds(r, 2)[0], seconds(r, 3)[0]) == (300.0, 900.0)


def test_timestamp_ties_are_taken_in_step_order(tmp_path):
    rows = [
        ("same_time", CLICK, at(5)), ("same_time", VV, at(5)),    # simultaneous: view first, then click
        ("click_first", CLICK, at(4)), ("click_first", VV, at(5)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK}")
    assert users(r.steps) == [2, 1]
    assert seconds(r, 2)[0] == 0.0


def test_repeated_step_needs_a_second_event(tmp_path):
    rows = [
        ("once", VV, at(0)),
        ("twice", VV, at(0)), ("twice", VV, at(7)),
        ("same_second", VV, at(3)), ("same_second", VV, at(3)),   # two distinct rows at the same time
    ]
    r = run(tmp_path, rows, f"{VV},{VV}")
    assert users(r.steps) == [3, 2]
    assert seconds(r, 2)[:2] == (210.0, 210.0)  # 420 s and 0 s


def test_any_of_steps_and_property_filters(tmp_path):
    rows = [
        ("a", VV, at(0)), ("a", "checkout", at(2)), ("a", BUY, at(3), {"platform": "douyin"}),
        ("b", VV, at(0)), ("b", CART, at(2)), ("b", BUY, at(3), {"platform": "kuaishou"}),
        ("c", VV, at(0), {"traffic_source": "live"}), ("c", CART, at(1)),
    ]
    r = run(tmp_path, rows, f"{VV},{CART}|checkout,{BUY}[platform=douyin]")
    assert users(r.steps) == [3, 3, 1]
    r = run(tmp_path, rows, f"{VV}[traffic_source!=live],{CART}|checkout")
    assert users(r.steps) == [2, 2]
    r = run(tmp_path, rows, f"{VV},{BUY}[platform in (douyin, kuaishou)]")
    assert users(r.steps) == [3, 2]


def test_bigint_user_ids(tmp_path):
    rows = [(1, VV, at(0)), (1, CLICK, at(1)), (2, VV, at(0)), (3, CLICK, at(0))]
    r = run(tmp_path, rows, f"{VV},{CLICK}", int_ids=True)
    assert users(r.steps) == [2, 1]


# ------------------------------------------------------------------------------------------------ strict


def test_strict_order_is_broken_by_any_other_event(tmp_path):
    rows = [
        ("direct", VV, at(0)), ("direct", CLICK, at(1)),
        ("liked", VV, at(0)), ("liked", "like", at(1)), ("liked", CLICK, at(2)),
        ("viewed_twice", VV, at(0)), ("viewed_twice", VV, at(1)), ("viewed_twice", CLICK, at(2)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK}", order="strict")
    # viewed_twice: the attempt from the second view is uninterrupted
    assert users(r.steps) == [3, 2]
    assert seconds(r, 2)[0] == 60.0
    assert users(run(tmp_path, rows, f"{VV},{CLICK}").steps) == [3, 3]


def test_strict_ties_put_events_outside_the_funnel_last(tmp_path):
    rows = [
        ("like_same_time_as_click", VV, at(0)), ("like_same_time_as_click", "like", at(1)),
        ("like_same_time_as_click", CLICK, at(1)),
        ("like_same_time_as_view", VV, at(0)), ("like_same_time_as_view", "like", at(0)),
        ("like_same_time_as_view", CLICK, at(1)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK}", order="strict")
    assert [g.users for g in r.steps] == [2, 1]


def test_strict_later_steps_must_follow_within_the_window(tmp_path):
    rows = [("u", VV, at(0)), ("u", CLICK, at(30)), ("u", BUY, at(61))]
    r = run(tmp_path, rows, f"{VV},{CLICK},{BUY}", "1h", order="strict")
    assert users(r.steps) == [1, 1, 0]


# --------------------------------------------------------------------------------------------- unordered


def test_unordered_counts_steps_in_any_order_from_the_first_event(tmp_path):
    rows = [
        ("reverse", BUY, at(0)), ("reverse", CLICK, at(10)), ("reverse", VV, at(20)),
        ("two_only", CLICK, at(0)), ("two_only", VV, at(5)), ("two_only", BUY, at(70)),
        ("buy_only", BUY, at(0)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK},{BUY}", "1h", order="unordered")
    assert [s.event for s in r.steps] == ["1 of 3 steps", "2 of 3 steps", "3 of 3 steps"]
    assert users(r.steps) == [3, 2, 1]
    # reverse: steps at 0, 10, 20 min; two_only: 0, 5 min (the 3-step attempt from t=5 also reaches only 2)
    assert seconds(r, 2)[:2] == (450.0, 450.0)
    assert seconds(r, 3)[0] == 600.0


def test_unordered_repeated_step_and_overlapping_selectors_use_distinct_events(tmp_path):
    rows = [("one_view", VV, at(0)), ("two_views", VV, at(0)), ("two_views", VV, at(1))]
    r = run(tmp_path, rows, f"{VV},{VV}", order="unordered")
    assert users(r.steps) == [2, 1]
    # a view and a click fill "view|click" and "view" only one way round
    rows = [("u", CLICK, at(0)), ("u", VV, at(1))]
    r = run(tmp_path, rows, f"{VV}|{CLICK},{VV}", order="unordered")
    assert users(r.steps) == [1, 1]
    r = run(tmp_path, rows, f"{VV},{VV}|{CLICK},{VV}", order="unordered")
    assert users(r.steps) == [1, 1, 0]


def test_unordered_many_copies_of_one_step_and_the_overlap_limit(tmp_path):
    rows = [("five", VV, at(i)) for i in range(5)] + [("four", VV, at(i)) for i in range(4)]
    r = run(tmp_path, rows, ",".join([VV] * 5), order="unordered")
    assert users(r.steps) == [2, 2, 2, 2, 1]
    many = ",".join(f"{VV}[video_id={i}]" for i in range(9))
    with pytest.raises(OptionError, match="at most 8 different steps may share event names"):
        run(tmp_path, rows, many, order="unordered")


# ---------------------------------------------------------------------------------------------- exclude


def test_exclusion_between_entry_and_last_completed_step_removes_the_user(tmp_path):
    rows = [
        ("refunded_between", VV, at(0)), ("refunded_between", "refund", at(1)), ("refunded_between", CLICK, at(2)),
        ("refund_after", VV, at(0)), ("refund_after", CLICK, at(2)), ("refund_after", "refund", at(3)),
        ("refund_at_entry_time", "refund", at(0)), ("refund_at_entry_time", VV, at(0)),
        ("refund_at_entry_time", CLICK, at(2)),
        ("no_step_2", VV, at(0)), ("no_step_2", "refund", at(1)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK}", exclude=["refund"])
    assert users(r.steps) == [3, 2]
    assert r.excluded_users == 1
    assert r.to_dict()["excluded_users"] == 1


def test_exclusion_is_judged_on_the_counted_attempt_only(tmp_path):
    # the counted attempt (the first view, reaching step 2) has no refund inside it; a later attempt has
    rows = [("u", VV, at(0)), ("u", CLICK, at(1)), ("u", VV, at(10)), ("u", "refund", at(11)), ("u", CLICK, at(12))]
    assert users(run(tmp_path, rows, f"{VV},{CLICK}", exclude=["refund"]).steps) == [1, 1]


def test_exclusion_may_not_equal_a_step(tmp_path):
    with pytest.raises(OptionError, match="also a step"):
        run(tmp_path, [("u", VV, at(0))], f"{VV},{CLICK}", exclude=[CLICK])


# ------------------------------------------------------------------------------------------------- hold


def test_hold_keeps_the_property_constant_across_steps(tmp_path):
    rows = [
        ("u1", VV, at(0), {"product_id": "p1"}), ("u1", CLICK, at(2), {"product_id": "p2"}),
        ("u1", CLICK, at(5), {"product_id": "p1"}),
        ("u2", VV, at(0), {"product_id": "p1"}), ("u2", CLICK, at(2), {"product_id": "p2"}),
        ("u3", VV, at(0)), ("u3", CLICK, at(1)),                     # missing value: matches nothing
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK}", hold="product_id")
    assert users(r.steps) == [3, 1]
    assert seconds(r, 2)[0] == 300.0
    assert users(run(tmp_path, rows, f"{VV},{CLICK}").steps) == [3, 3]


def test_hold_in_strict_and_unordered_modes(tmp_path):
    rows = [("u", VV, at(0), {"product_id": "p1"}), ("u", CLICK, at(2), {"product_id": "p2"})]
    assert users(run(tmp_path, rows, f"{VV},{CLICK}", hold="product_id", order="strict").steps) == [1, 0]
    assert users(run(tmp_path, rows, f"{VV},{CLICK}", hold="product_id", order="unordered").steps) == [1, 0]
    assert users(run(tmp_path, rows, f"{VV},{CLICK}", order="unordered").steps) == [1, 1]


# ------------------------------------------------------------------------------------------- breakdown


def test_by_takes_the_entry_value_of_the_counted_attempt_and_pools_other_values(tmp_path):
    rows = [
        # u1 enters on kuaishou (no click) then on douyin (click): counted under douyin
        ("u1", VV, at(0), {"platform": "kuaishou"}), ("u1", VV, at(100), {"platform": "douyin"}),
        ("u1", CLICK, at(101), {"platform": "kuaishou"}),
        ("u2", VV, at(0), {"platform": "douyin"}),
        ("u3", VV, at(0), {"platform": "douyin"}), ("u3", CLICK, at(1)),
        ("u4", VV, at(0), {"platform": "kuaishou"}), ("u4", CLICK, at(1)),
        ("u5", VV, at(0), {"platform": "kuaishou"}),
        ("u6", VV, at(0), {"platform": "xigua"}), ("u6", CLICK, at(1)),
        ("u7", VV, at(0)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK}", by="platform", by_limit=2)
    groups = [(g.value, g.other, users(g.steps)) for g in r.breakdown]
    assert groups == [("douyin", False, [3, 2]), ("kuaishou", False, [2, 1]), ("other", True, [2, 1])]
    r = run(tmp_path, rows, f"{VV},{CLICK}", by="platform", by_limit=0)
    assert [(g.value, users(g.steps)) for g in r.breakdown] == [
        ("douyin", [3, 2]), ("kuaishou", [2, 1]), ("xigua", [1, 1]), (None, [1, 0])]
    doc = r.to_dict()
    assert doc["breakdown"][0]["value"] == "douyin" and doc["breakdown"][0]["steps"][1]["users"] == 2


def test_by_integer_property_ranks_ties_by_numeric_value(tmp_path):
    rows = [("a", VV, at(0), {"category_id": 10}), ("b", VV, at(0), {"category_id": 9}),
            ("c", VV, at(0), {"category_id": 9}), ("c", CLICK, at(1)), ("d", VV, at(0), {"category_id": 10})]
    r = run(tmp_path, rows, f"{VV},{CLICK}", by="category_id", by_limit=1)
    assert [(g.value, users(g.steps)) for g in r.breakdown] == [("9", [2, 1]), ("other", [2, 0])]


def test_no_entrants_gives_zero_users_and_null_rates(tmp_path):
    r = run(tmp_path, [("u", CLICK, at(0)), ("u", VV, at(0, days=3))], f"{VV},{CLICK}",
            date_from=date(2026, 11, 2), date_to=date(2026, 11, 2))
    assert users(r.steps) == [0, 0]
    assert r.steps[1].conversion_from_start is None and r.steps[1].conversion_from_previous is None
    assert r.steps[1].dropoff == 0 and r.steps[1].time_to_convert_s.median is None


# ---------------------------------------------------------------------------------------- dates, trends


def test_entries_must_fall_in_the_date_range_later_steps_need_not(tmp_path):
    rows = [
        ("before", VV, at(0, days=-1)), ("before", CLICK, at(1)),
        ("crosses_to", VV, at(23 * 60 + 30)), ("crosses_to", CLICK, at(24 * 60 + 20)),   # click the next day
        ("after", VV, at(0, days=1)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK}", "1h", date_from=date(2026, 11, 2), date_to=date(2026, 11, 2))
    assert users(r.steps) == [1, 1]
    assert r.params["source"]["date_from"] == "2026-11-02"


def test_trends_give_one_funnel_per_entry_period_in_local_time(tmp_path):
    rows = [
        # 2026-11-02 20:00 UTC is 2026-11-03 04:00 in Shanghai
        ("u1", VV, at(0, hours=20)), ("u1", CLICK, at(5, hours=20)),
        ("u1", VV, at(0, hours=20, days=1)),                                  # enters again the next day
        ("u2", VV, at(0, hours=1)),                                          # 2026-11-02 09:00 local
        ("u3", VV, at(0, days=3)), ("u3", CLICK, at(1, days=3)),
    ]
    r = run(tmp_path, rows, f"{VV},{CLICK}", trends="day", tz="Asia/Shanghai")
    cohorts = {c.period: users(c.steps) for c in r.trends}
    assert cohorts == {"2026-11-02": [1, 0], "2026-11-03": [1, 1], "2026-11-04": [1, 0],
                       "2026-11-05": [1, 1]}
    assert users(r.steps) == [3, 2]
    weekly = run(tmp_path, rows, f"{VV},{CLICK}", trends="week", tz="Asia/Shanghai")
    assert [(c.period, users(c.steps)) for c in weekly.trends] == [("2026-W45", [3, 2])]
    doc = weekly.to_dict()["trends"]
    assert doc["period"] == "week" and doc["cohorts"][0]["conversion"] == pytest.approx(2 / 3)


def test_trends_fill_empty_periods_of_the_range(tmp_path):
    rows = [("u", VV, at(0)), ("v", VV, at(0, days=2)), ("v", CLICK, at(1, days=2))]
    r = run(tmp_path, rows, f"{VV},{CLICK}", trends="day", date_from=date(2026, 11, 1), date_to=date(2026, 11, 4))
    assert [(c.period, c.steps[0].users) for c in r.trends] == [
        ("2026-11-01", 0), ("2026-11-02", 1), ("2026-11-03", 0), ("2026-11-04", 1)]
    assert r.trends[3].conversion == 1.0 and r.trends[0].conversion is None


# ----------------------------------------------------------------------------------- time to convert


def test_time_to_convert_statistics_and_histogram_match_numpy(tmp_path):
    gaps_s = [0, 3, 45, 45, 200, 1000, 3000, 7100]
    rows = []
    for i, gap in enumerate(gaps_s):
        rows += [(f"u{i}", VV, at(0)), (f"u{i}", CLICK, at(0) + timedelta(seconds=gap))]
    r = run(tmp_path, rows, f"{VV},{CLICK}", "2h")
    assert seconds(r, 2) == pytest.approx(quantiles(gaps_s))
    hist = r.steps[1].time_to_convert_s.histogram
    edges = [e for e in HISTOGRAM_EDGES_S if e < 7200] + [7200]
    expected = np.histogram(gaps_s, bins=edges)[0].tolist()  # numpy's last bin is closed, like ours
    assert [b.users for b in hist] == expected
    assert [b.from_s for b in hist] == edges[:-1]


# ------------------------------------------------------------------------------------ property test

NAMES = ["a", "b", "c", "x"]
STEP_CHOICES = ["a", "b", "c", "a|b", "b[p=u]", "a[p!=v]", "a|c"]
EXCLUDE_CHOICES = [[], ["x"], ["x"], ["c[p=u]"], ["x", "b[p=v]"]]


@st.composite
def scenarios(draw):
    int_ids = draw(st.booleans())
    rows = []
    for u in range(draw(st.integers(1, 3))):
        uid = u + 1 if int_ids else f"u{u}"
        for _ in range(draw(st.integers(1, 10))):
            rows.append((
                uid, draw(st.sampled_from(NAMES + ["x"])),
                at(draw(st.integers(0, 5)), days=draw(st.sampled_from([0, 0, 0, 1]))),
                {"p": draw(st.sampled_from(["u", "v", None])), "q": draw(st.sampled_from(["k", "l", None]))},
            ))
    # every event name occurs (unknown names are an error, tested elsewhere): one user does them all at once
    filler = 99 if int_ids else "filler"
    rows += [(filler, name, at(0, days=5), {"p": "u", "q": "k"}) for name in NAMES]
    steps = draw(st.lists(st.sampled_from(STEP_CHOICES), min_size=2, max_size=3))
    exclude = [x for x in draw(st.sampled_from(EXCLUDE_CHOICES)) if x not in steps]
    options = {
        "window": timedelta(minutes=draw(st.sampled_from([1, 3, 5, 1440]))),
        "order": draw(st.sampled_from(["ordered", "strict", "unordered"])),
        "exclude": exclude,
        "hold": draw(st.sampled_from([None, "p"])),
        "by": draw(st.sampled_from([None, "q"])),
        "by_limit": draw(st.integers(0, 2)),
        "trends": draw(st.sampled_from([None, "day"])),
    }
    # a range holding no event is refused by the source (tests/hostile/test_empty_range.py): draw days with events
    days = {row[2].date() for row in rows}
    day = draw(st.sampled_from([None, *(d for d in (date(2026, 11, 2), date(2026, 11, 3)) if d in days)]))
    return rows, steps, int_ids, options, day


# 60 examples keep the file fast; SHORTVID_PROPERTY_EXAMPLES=2000 for a thorough run.
@settings(max_examples=int(os.environ.get("SHORTVID_PROPERTY_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_sql_funnel_matches_brute_force_reference(scenario):
    rows, steps, int_ids, options, day = scenario
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "e.parquet", rows, int_ids)
        result = funnel(EventSource.open(path, Config(), day, day), steps, **options)
    expected = reference_funnel(rows, steps, date_from=day, date_to=day, **options)

    def check(got_steps, exp):
        assert users(got_steps) == exp["users"]
        for k, secs in enumerate(exp["seconds"], start=2):
            ttc = got_steps[k - 1].time_to_convert_s
            assert (ttc.median, ttc.mean, ttc.p90) == pytest.approx(quantiles(secs))

    check(result.steps, expected["total"])
    assert result.excluded_users == expected["excluded_users"]
    if options["by"]:
        assert [g.value for g in result.breakdown] == [v for v, _ in expected["by"]]
        for group, (_value, exp) in zip(result.breakdown, expected["by"]):
            check(group.steps, exp)
    if options["trends"]:
        got = {c.start: c for c in result.trends}
        assert {c for c in got if got[c].steps[0].users} == {c for c, e in expected["trends"].items() if e["users"][0]}
        for cohort, exp in expected["trends"].items():
            if exp["users"][0]:
                check(got[cohort].steps, exp)


# ------------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def shop(tmp_path):
    rows = [
        ("u1", VV, at(0), {"platform": "douyin"}), ("u1", CLICK, at(2)), ("u1", BUY, at(9)),
        ("u2", VV, at(0), {"platform": "kuaishou"}), ("u2", CLICK, at(3)),
        ("u3", VV, at(0), {"platform": "douyin"}), ("u3", "like", at(1)),
    ]
    return write(tmp_path / "shop.parquet", rows)


def test_cli_json_document(cli, shop):
    res = cli("funnel", shop, "--steps", f"{VV},{CLICK},{BUY}", "--window", "1h", "--by", "platform",
              "--trends", "day", "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["kind"] == "funnel" and doc["version"]
    assert doc["params"]["steps"] == [VV, CLICK, BUY] and doc["params"]["window"] == "1h"
    assert doc["params"]["order"] == "ordered" and doc["params"]["by"] == "platform"
    assert [s["users"] for s in doc["steps"]] == [3, 2, 1]
    step2 = doc["steps"][1]
    assert set(step2) == {"step", "event", "users", "conversion_from_start", "conversion_from_previous",
                          "dropoff", "time_to_convert_s"}
    assert step2["time_to_convert_s"]["median"] == 150.0 and step2["dropoff"] == 1
    assert set(step2["time_to_convert_s"]) == {"median", "mean", "p90", "histogram"}
    assert [(b["value"], [s["users"] for s in b["steps"]]) for b in doc["breakdown"]] == [
        ("douyin", [2, 1, 1]), ("kuaishou", [1, 1, 0])]
    assert doc["trends"]["cohorts"][0]["period"] == "2026-11-02"


def test_cli_json_has_no_breakdown_or_trends_unless_asked(cli, shop):
    doc = json.loads(cli("funnel", shop, "--steps", f"{VV},{CLICK}", "--format", "json").stdout)
    assert "breakdown" not in doc and "trends" not in doc


def test_cli_csv_and_parquet(cli, shop, tmp_path):
    res = cli("funnel", shop, "--steps", f"{VV},{CLICK}", "--by", "platform", "--format", "csv")
    assert res.exit_code == 0
    frame = pl.read_csv(res.stdout.encode())
    assert frame.filter(pl.col("scope") == "total")["users"].to_list() == [3, 2]
    assert frame.filter(pl.col("value") == "douyin")["users"].to_list() == [2, 1]
    out = tmp_path / "f.parquet"
    assert cli("funnel", shop, "--steps", f"{VV},{CLICK}", "--format", "parquet", "-o", out).exit_code == 0
    back = pl.read_parquet(out)
    assert back["users"].to_list() == [3, 2]
    assert back["conversion_from_start"].to_list() == [1.0, pytest.approx(2 / 3)]


def test_cli_table_shows_steps_and_bars(cli, shop):
    res = cli("funnel", shop, "--steps", f"{VV},{CLICK},{BUY}", "--exclude", "like", "--hold", "product_id")
    assert res.exit_code == 0
    assert "product_click" in res.stdout and "█" in res.stdout and "100.0%" in res.stdout


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG\r\n\x1a\n"), (".svg", b"<?xml")])
def test_cli_chart_files(cli, shop, tmp_path, suffix, magic):
    for extra in ([], ["--by", "platform"]):
        chart = tmp_path / f"chart{len(extra)}{suffix}"
        res = cli("funnel", shop, "--steps", f"{VV},{CLICK},{BUY}", "--chart", chart, *extra)
        assert res.exit_code == 0, res.stderr
        data = chart.read_bytes()
        assert data.startswith(magic) and len(data) > 1000
        if suffix == ".svg":
            root = ElementTree.fromstring(data)
            assert root.tag.endswith("svg") and b"product_click" in data
        else:
            height, width, _channels = matplotlib.image.imread(chart).shape
            assert height > 100 and width > 100


@pytest.mark.parametrize("args,message", [
    (["--steps", f"{VV},nosuch"], "step 'nosuch' does not occur"),
    (["--steps", f"{VV},{CLICK}", "--window", "24x"], "window '24x'"),
    (["--steps", f"{VV},{CLICK}", "--window", "0h"], "must be positive"),
    (["--steps", f"{VV},{CLICK}", "--by", "nosuch"], "--by property 'nosuch' is not a column"),
    (["--steps", f"{VV},{CLICK}", "--hold", "nosuch"], "--hold property 'nosuch' is not a column"),
    (["--steps", f"{VV}[nosuch=1],{CLICK}"], "'nosuch' is not a column"),
    (["--steps", f"{VV},{CLICK}", "--exclude", "nosuch"], "--exclude event 'nosuch' does not occur"),
    (["--steps", VV], "at least 2 steps"),
    (["--steps", f"{VV},{CLICK}", "--chart", "out.gif"], "--chart out.gif: expected a file name ending in .png, .svg "
                                                         "or .pdf"),
    (["--steps", f"{VV},{CLICK}", "--by-limit", "-1"], "--by-limit -1"),
])
def test_cli_bad_input_is_one_line_and_nonzero(cli, shop, args, message):
    res = cli("funnel", shop, *args)
    assert res.exit_code == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_cli_unknown_event_lists_events_present(cli, shop):
    res = cli("funnel", shop, "--steps", f"{VV},nosuch")
    assert f"events present: like, {CLICK}, {BUY}, {VV}" in res.stderr


def test_cli_missing_file_exits_1(cli, tmp_path):
    res = cli("funnel", tmp_path / "missing.parquet", "--steps", f"{VV},{CLICK}")
    assert res.exit_code == 1 and "no such file" in res.stderr


# ------------------------------------------------------------------------------- real data (Taobao)

@pytest.mark.parametrize("hold", [None, "product_id"])
def test_taobao_counts_match_a_forward_state_machine(realdata, hold):
    """Users per step on the real Taobao log against a different algorithm: one forward pass per user (and
    held product) keeping, per step, the latest entry from which a chain reaches it."""
    path = realdata / "taobao_userbehavior" / "events.parquet"
    steps, window = ["product_click", "add_to_cart", "purchase"], timedelta(days=1)
    first, last = date(2017, 11, 25), date(2017, 12, 3)
    tz = "Asia/Shanghai"
    result = funnel(EventSource.open(path, Config(timezone=tz), first, last), steps, window, hold=hold)

    frame = pl.read_parquet(path).with_columns(
        pl.col("event_time").dt.convert_time_zone(tz).dt.replace_time_zone(None).alias("local"),
        pl.col("event_time").dt.replace_time_zone(None),
    ).filter(pl.col("event_name").is_in(steps))
    rank = {name: k for k, name in enumerate(steps, start=1)}
    frame = frame.with_columns(pl.col("event_name").replace_strict(rank).alias("step"))
    keys = ["user_id"] + ([hold] if hold else [])
    frame = frame.sort(*keys, "event_time", "step")
    reached: dict[str, int] = {}
    latest: dict[int, object] = {}  # step -> latest entry time whose chain reached it, for the current key
    previous_key = None
    for row in zip(*(frame[c] for c in keys), frame["event_time"], frame["local"], frame["step"]):
        key, (t, local, step) = row[:len(keys)], row[len(keys):]
        if key != previous_key:
            latest, previous_key = {}, key
        user = key[0]
        if step == 1 and first <= local.date() <= last:
            latest[1] = t
            reached[user] = max(reached.get(user, 0), 1)
        elif step > 1 and step - 1 in latest and t - latest[step - 1] <= window and all(key):
            latest[step] = latest[step - 1]
            reached[user] = max(reached.get(user, 0), step)
    expected = [sum(1 for level in reached.values() if level >= k) for k in range(1, 4)]
    assert users(result.steps) == expected
    assert expected[2] > 0
