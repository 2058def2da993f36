"""Every KPI against hand-worked tiny tables, intervals against statsmodels/scipy, and the `kpi` command."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from scipy.stats import chi2
from statsmodels.stats.proportion import proportion_confint

from shortvid_analytics.config import Config
from shortvid_analytics.engagement import engagement
from shortvid_analytics.kpi import CONFIDENCE, KPIS, compute_table, rate_interval
from shortvid_analytics.periods import Period
from shortvid_analytics.source import EventSource
from tests.conftest import at

# Week 2026-W45 (T0 = Monday 2026-11-02). Creator c1 (video v1, product p1), creator c2 (v2, p2).
C1 = {"video_id": "v1", "creator_id": "c1", "product_id": "p1"}
C2 = {"video_id": "v2", "creator_id": "c2", "product_id": "p2"}
SHOP = [
    ("u1", "video_view", at(0), C1 | {"watch_time_s": 10.0, "platform": "douyin"}),
    ("u1", "video_view", at(5), C1 | {"watch_time_s": 20.0, "platform": "douyin"}),
    ("u1", "like", at(6), C1 | {"platform": "douyin"}),
    ("u1", "video_complete", at(7), C1 | {"platform": "douyin"}),
    ("u1", "product_click", at(8), C1 | {"platform": "douyin"}),
    ("u1", "purchase", at(9), C1 | {"order_id": "o1", "revenue": 100.0, "platform": "douyin"}),
    ("u2", "video_view", at(0, days=1), C1 | {"watch_time_s": 30.0, "platform": "kuaishou"}),
    ("u2", "comment", at(1, days=1), C1 | {"platform": "kuaishou"}),
    ("u2", "share", at(2, days=1), C1 | {"platform": "kuaishou"}),
    # one order, two items: counted once in orders, both in GMV
    ("u2", "purchase", at(3, days=1), C1 | {"order_id": "o2", "revenue": 50.0, "platform": "kuaishou"}),
    ("u2", "purchase", at(3, days=1), C1 | {"order_id": "o2", "revenue": 25.0, "platform": "kuaishou"}),
    ("u2", "refund", at(0, days=2), C1 | {"order_id": "o2", "revenue": 25.0, "platform": "kuaishou"}),
    ("u3", "video_view", at(0, days=1), C2 | {"platform": "douyin"}),  # no watch time: not in the mean
    ("u3", "video_view", at(0, days=3), C2 | {"watch_time_s": 40.0, "platform": "douyin"}),
    ("u3", "like", at(1, days=3), C2 | {"platform": "douyin"}),
    # purchases without order_id: each is an order of its own
    ("u3", "purchase", at(2, days=3), C2 | {"revenue": 10.0, "platform": "douyin"}),
    ("u3", "purchase", at(3, days=3), C2 | {"revenue": 5.0, "platform": "douyin"}),
]

EXPECTED_BY_CREATOR = {
    "c1": dict(views=3, viewers=2, likes=1, comments=1, shares=1, completes=1, clicks=1,
               engagement_rate=1.0, completion_rate=1 / 3, mean_watch_time_s=20.0, ctr=1 / 3,
               purchasers=2, orders=2, gmv=175.0, refund_revenue=25.0, net_gmv=150.0, aov=87.5,
               gpm=175000 / 3, user_conversion_rate=1.0, refunded_orders=1, refund_rate=0.5),
    "c2": dict(views=2, viewers=1, likes=1, comments=0, shares=0, completes=0, clicks=0,
               engagement_rate=0.5, completion_rate=0.0, mean_watch_time_s=40.0, ctr=0.0,
               purchasers=1, orders=2, gmv=15.0, refund_revenue=0.0, net_gmv=15.0, aov=7.5,
               gpm=7500.0, user_conversion_rate=1.0, refunded_orders=0, refund_rate=0.0),
}


def _assert_kpis(row: dict, expected: dict) -> None:
    for name, value in expected.items():
        assert row[name] == pytest.approx(value, rel=1e-12, abs=0), name


def test_every_kpi_per_creator_matches_the_hand_worked_table(write_events):
    source = EventSource.open(write_events(SHOP))
    rows = {r["creator_id"]: r for r in engagement(source, ["creator_id"], sort="gmv").groups.to_dicts()}
    assert set(rows) == {"c1", "c2"}
    for creator, expected in EXPECTED_BY_CREATOR.items():
        _assert_kpis(rows[creator], expected)
    assert rows["c1"]["rank"] == 1  # sorted by GMV


def test_events_count_for_the_platform_on_their_own_row(write_events):
    source = EventSource.open(write_events(SHOP))
    rows = {r["platform"]: r for r in engagement(source, ["platform"]).groups.to_dicts()}
    # kuaishou: u2's view, comment, share, the two-item order o2 and its refund
    _assert_kpis(rows["kuaishou"], dict(views=1, viewers=1, engagement_rate=2.0, orders=1, gmv=75.0,
                                        refund_revenue=25.0, net_gmv=50.0, refunded_orders=1, refund_rate=1.0,
                                        user_conversion_rate=1.0, gpm=75000.0))
    _assert_kpis(rows["douyin"], dict(views=4, viewers=2, likes=2, engagement_rate=0.5, orders=3, gmv=115.0,
                                      purchasers=2, user_conversion_rate=1.0, completion_rate=0.25))


def test_week_totals_match_the_hand_worked_table(write_events):
    source = EventSource.open(write_events(SHOP))
    row = compute_table(source, Period.week).periods.row(0, named=True)
    assert row["period"] == "2026-W45" and row["period_start"] == date(2026, 11, 2)
    _assert_kpis(row, dict(views=5, viewers=3, likes=2, comments=1, shares=1, engagement_rate=4 / 5,
                           completion_rate=1 / 5, mean_watch_time_s=25.0, ctr=1 / 5, purchasers=3, orders=4,
                           gmv=190.0, refund_revenue=25.0, net_gmv=165.0, aov=47.5, gpm=38000.0,
                           user_conversion_rate=1.0, refunded_orders=1, refund_rate=0.25, active_users=3))


def test_intervals_are_wilson_and_exact_poisson(write_events):
    source = EventSource.open(write_events(SHOP))
    row = next(r for r in engagement(source, ["creator_id"]).groups.to_dicts() if r["creator_id"] == "c1")
    alpha = 1 - CONFIDENCE
    for name, (x, n) in {"completion_rate": (1, 3), "ctr": (1, 3), "user_conversion_rate": (2, 2),
                         "refund_rate": (1, 2)}.items():
        low, high = proportion_confint(x, n, alpha=alpha, method="wilson")
        assert (row[f"{name}_ci_low"], row[f"{name}_ci_high"]) == pytest.approx((low, high), rel=1e-12)
    # Garwood's exact interval from chi-square quantiles, independent of statsmodels: 3 interactions in 3 views
    x, n = 3, 3
    assert row["engagement_rate_ci_low"] == pytest.approx(chi2.ppf(alpha / 2, 2 * x) / 2 / n, rel=1e-9)
    assert row["engagement_rate_ci_high"] == pytest.approx(chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2 / n, rel=1e-9)


def test_wilson_interval_by_hand():
    # Wilson score interval for 1 success in 3 trials, z = 1.959963984540054 (two-sided 95%)
    z, x, n = 1.959963984540054, 1.0, 3.0
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = rate_interval("wilson", np.array([x]), np.array([n]))
    assert (low[0], high[0]) == pytest.approx((centre - half, centre + half), rel=1e-12)


def test_intervals_undefined_without_exposure_or_beyond_a_proportion():
    low, high = rate_interval("wilson", np.array([0.0, 3.0, 0.0]), np.array([0.0, 2.0, 5.0]))
    assert np.isnan(low[0]) and np.isnan(low[1]) and low[2] == 0.0 and 0 < high[2] < 1
    low, high = rate_interval("poisson", np.array([3.0, 0.0]), np.array([2.0, 0.0]))
    assert low[0] > 0 and high[0] > 1.5 and np.isnan(low[1])


def test_ratios_without_denominator_are_null(write_events):
    source = EventSource.open(write_events([("u1", "like", at(0), {"creator_id": "c9"})]))
    row = engagement(source, ["creator_id"]).groups.row(0, named=True)
    for name in ("engagement_rate", "completion_rate", "ctr", "gpm", "aov", "user_conversion_rate",
                 "refund_rate", "mean_watch_time_s", "engagement_rate_ci_low", "ctr_ci_high"):
        assert row[name] is None, name
    assert row["likes"] == 1 and row["gmv"] == 0.0


# --------------------------------------------------------------------------- DAU / WAU / MAU
# Days: Sat 10-31 (week W44, October): u1 · Sun 11-01 (W44, November): u1 douyin, u2 kuaishou ·
# Mon 11-02 (W45): u2, u3 douyin · Tue 11-03: nothing · Wed 11-04: u1. By hand: DAU 1, 2, 2, 0, 1;
# WAU W44 = 2, W45 = 3; MAU October = 1, November = 3.
ACTIVITY = [
    ("u1", "live_enter", datetime(2026, 10, 31, 12), {"platform": "douyin"}),
    ("u1", "live_enter", datetime(2026, 11, 1, 9), {"platform": "douyin"}),
    ("u2", "video_view", datetime(2026, 11, 1, 23, 59), {"platform": "kuaishou"}),
    ("u2", "video_view", datetime(2026, 11, 2, 0, 0), {"platform": "douyin"}),
    ("u3", "video_view", datetime(2026, 11, 2, 10), {"platform": "douyin"}),
    ("u1", "like", datetime(2026, 11, 4, 8), {"platform": "douyin"}),
]


@pytest.mark.parametrize("period, expected", [
    ("week", {"2026-W44": (2, 2, 2, 1.5, 2.0, 2.0, 0.75, False),
              "2026-W45": (3, 3, 2, 1.0, 3.0, 3.0, 1 / 3, False)}),
    ("month", {"2026-10": (1, 1, 1, 1.0, 2.0, 1.0, 1.0, False),
               "2026-11": (4, 3, 3, 1.25, 2.75, 3.0, 1.25 / 3, False)}),
    ("day", {"2026-10-31": (1, 1, 1, 1.0, 2.0, 1.0, 1.0, True),
             "2026-11-01": (1, 2, 1, 2.0, 2.0, 3.0, 2 / 3, True),
             "2026-11-02": (1, 2, 1, 2.0, 3.0, 3.0, 2 / 3, True),
             "2026-11-04": (1, 1, 1, 1.0, 3.0, 3.0, 1 / 3, True)}),
])
def test_dau_wau_mau_and_stickiness_by_hand(write_events, period, expected):
    source = EventSource.open(write_events(ACTIVITY))
    rows = {r["period"]: r for r in compute_table(source, Period(period)).periods.to_dicts()}
    assert set(rows) == set(expected)
    for label, (days_in_data, active, days_with_events, dau, wau, mau, stickiness, complete) in expected.items():
        row = rows[label]
        assert (row["days_in_data"], row["active_users"], row["days_with_events"], row["complete"]) == \
            (days_in_data, active, days_with_events, complete), label
        assert (row["dau"], row["wau"], row["mau"], row["stickiness"]) == pytest.approx((dau, wau, mau, stickiness))


def test_activity_per_platform_counts_days_without_the_platform_as_zero(write_events):
    source = EventSource.open(write_events(ACTIVITY))
    table = compute_table(source, Period.week, ["platform"])
    rows = {(r["period"], r["platform"]): r for r in table.periods.to_dicts()}
    assert set(rows) == {("2026-W44", "douyin"), ("2026-W44", "kuaishou"), ("2026-W45", "douyin")}
    kuaishou = rows[("2026-W44", "kuaishou")]  # active on 11-01 only: DAU 0 then 1; MAU October 0, November 1
    assert (kuaishou["dau"], kuaishou["wau"], kuaishou["mau"], kuaishou["stickiness"]) == (0.5, 1.0, 0.5, 1.0)
    douyin = rows[("2026-W45", "douyin")]  # DAU 2, 0, 1; WAU 3; MAU November 3 (u1, u2, u3 all on douyin)
    assert (douyin["dau"], douyin["wau"], douyin["mau"]) == pytest.approx((1.0, 3.0, 3.0))


def test_weeks_and_months_complete_say_whether_wau_and_mau_rest_on_whole_units(write_events):
    # one event a day from Monday 2026-09-28 to Sunday 2026-11-08: September and November are cut
    rows = [("u", "like", datetime(2026, 9, 28, 12) + timedelta(days=k)) for k in range(42)]
    source = EventSource.open(write_events(rows))
    weeks = {r["period"]: (r["complete"], r["weeks_complete"], r["months_complete"])
             for r in compute_table(source, Period.week).periods.to_dicts()}
    assert weeks == {"2026-W40": (True, True, False),   # Sep 28-Oct 4: September is cut
                     "2026-W41": (True, True, True), "2026-W42": (True, True, True), "2026-W43": (True, True, True),
                     "2026-W44": (True, True, False),   # Oct 26-Nov 1: November is cut
                     "2026-W45": (True, True, False)}
    months = {r["period"]: (r["complete"], r["weeks_complete"], r["months_complete"])
              for r in compute_table(source, Period.month).periods.to_dicts()}
    assert months == {"2026-09": (False, False, False), "2026-10": (True, True, True),
                      "2026-11": (False, False, False)}


def test_periods_follow_the_reporting_time_zone(write_events):
    # 2026-11-01 23:59 UTC is Monday 2026-11-02 07:59 in Shanghai: week W45 there, W44 in UTC
    path = write_events(ACTIVITY)
    shanghai = compute_table(EventSource.open(path, Config(timezone="Asia/Shanghai")), Period.week).periods
    assert dict(zip(shanghai["period"], shanghai["views"])) == {"2026-W44": 0, "2026-W45": 3}
    utc = compute_table(EventSource.open(path), Period.week).periods
    assert dict(zip(utc["period"], utc["views"])) == {"2026-W44": 1, "2026-W45": 2}


# --------------------------------------------------------------------------- the command
def test_kpi_command_json_contract(write_events, cli):
    result = cli("kpi", write_events(SHOP), "--period", "week", "--by", "platform", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["kind"] == "kpi" and doc["params"]["period"] == "week" and doc["params"]["by"] == ["platform"]
    assert doc["data_days"] == {"first": "2026-11-02", "last": "2026-11-05"}
    row = doc["periods"][0]
    for name in [k.name for k in KPIS] + ["active_users", "dau", "wau", "mau", "stickiness", "period",
                                          "period_start", "days", "days_in_data", "days_with_events", "complete"]:
        assert name in row, name
    assert {r["platform"]: r["gmv"] for r in doc["periods"]} == {"douyin": 115.0, "kuaishou": 75.0}


def test_kpi_command_table_and_csv(write_events, cli, tmp_path):
    table = cli("kpi", write_events(SHOP), "--period", "day")
    assert table.exit_code == 0 and "2026-11-02" in table.stdout and "\x1b[" not in table.stdout
    out = tmp_path / "kpi.csv"
    assert cli("kpi", write_events(SHOP), "--period", "month", "--format", "csv", "-o", out).exit_code == 0
    frame = pl.read_csv(out)
    assert frame["period"].to_list() == ["2026-11"] and frame["gmv"].to_list() == [190.0]


@pytest.mark.parametrize("args, message", [
    (["--period", "fortnight"], "period 'fortnight'"),
    (["--by", "nosuch"], "'nosuch' is not a column"),
    (["--by", "revenue"], "revenue is a measure"),
    (["--by", "region"], "has no region column"),
])
def test_kpi_command_bad_options(write_events, cli, args, message):
    result = cli("kpi", write_events(SHOP), *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- KPIs whose base is absent
CLICKS_ONLY = [  # a store log: clicks, carts and purchases, no video views, no revenue column, no refunds
    {"user_id": "u1", "event_name": "product_click", "event_time": at(0), "creator_id": "c1"},
    {"user_id": "u1", "event_name": "add_to_cart", "event_time": at(1), "creator_id": "c1"},
    {"user_id": "u1", "event_name": "purchase", "event_time": at(2), "creator_id": "c1", "order_id": "o1"},
]


def _store_log(tmp_path) -> str:
    path = tmp_path / "store.parquet"
    pl.DataFrame(CLICKS_ONLY).write_parquet(path)
    return str(path)


def test_kpis_without_their_base_events_or_columns_are_named_in_one_warning(tmp_path, cli):
    result = cli("kpi", _store_log(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["warnings"]) == 1
    warning = doc["warnings"][0]
    assert result.stderr == f"warning: {warning}\n"
    assert warning.startswith("some KPIs are empty: no video_view events (views, viewers, engagement_rate, "
                              "completion_rate, mean_watch_time_s, ctr, gpm, user_conversion_rate); ")
    for cause in ("no like, comment or share events (engagement_rate)", "no like events (likes)",
                  "no video_complete events (completes, completion_rate)",
                  "no watch_time_s column (mean_watch_time_s)",
                  "no revenue column (gmv, refund_revenue, net_gmv, aov, gpm)",
                  "no refund events (refund_revenue, refunded_orders, refund_rate)"):
        assert cause in warning, cause
    for present in ("(clicks", "(orders", "(purchasers"):
        assert present not in warning
    assert doc["periods"][0]["clicks"] == 1 and doc["periods"][0]["orders"] == 1


def test_no_warning_when_every_base_is_present(write_events, cli):
    result = cli("kpi", write_events(SHOP), "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""
    assert json.loads(result.stdout)["warnings"] == []
    assert compute_table(EventSource.open(write_events(SHOP)), Period.week).warnings == []
