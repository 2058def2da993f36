"""engagement / kpi / digest on the generator's example export (examples/data, planted truth in truth.json)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from shortvid_analytics.config import EVENT_VOCABULARY
from shortvid_analytics.digest import digest
from shortvid_analytics.engagement import engagement
from shortvid_analytics.eventspec import EventSpec
from shortvid_analytics.kpi import compute_table
from shortvid_analytics.periods import Period
from shortvid_analytics.source import EventSource
from shortvid_analytics.stickiness import stickiness
from tests.kpi.test_reference import KPI_NAMES, assert_same, reference_periods
from tests.locations import EXAMPLE_DATA

DATA = EXAMPLE_DATA
EVENTS = DATA / "events"


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((DATA / "truth.json").read_text())


def test_platform_kpis_reproduce_the_realised_truth(truth):
    rows = {r["platform"]: r for r in engagement(EventSource.open(EVENTS), ["platform"]).groups.to_dicts()}
    for platform in ("douyin", "kuaishou"):
        real, row = truth["platforms"][platform]["realised"], rows[platform]
        assert (row["views"], row["completes"], row["likes"], row["comments"], row["shares"], row["clicks"]) == (
            real["video_view"], real["video_complete"], real["like"], real["comment"], real["share"],
            real["product_click"])
        # order_id is unique per purchase and every refund refers to one order
        assert (row["orders"], row["refunded_orders"]) == (real["purchase"], real["refund"])
        assert row["completion_rate"] == pytest.approx(real["completion_rate"], rel=1e-12)
        assert row["ctr"] == pytest.approx(real["click_through_rate"], rel=1e-12)
        assert row["gmv"] == pytest.approx(real["gmv"], rel=1e-12)


def test_planted_traffic_source_effect_is_visible(truth):
    # planted purchase logit: search +0.9, follow +0.25 (+0.8 for following the creator) against recommend
    coefficients = truth["purchase_model"]["coefficients"]
    assert coefficients["traffic_search"] > coefficients["traffic_live"] > coefficients["traffic_follow"] > 0
    rows = {r["traffic_source"]: r for r in engagement(EventSource.open(EVENTS), ["traffic_source"]).groups.to_dicts()}
    per_view = {k: r["orders"] / r["views"] for k, r in rows.items() if r["views"]}
    assert per_view["search"] > 2 * per_view["recommend"] and per_view["follow"] > 2 * per_view["recommend"]
    assert rows["search"]["gpm"] > 2 * rows["recommend"]["gpm"]


def test_weekly_kpis_match_polars_on_generated_data():
    frame = pl.read_parquet(EVENTS / "**" / "*.parquet", hive_partitioning=False)
    result = compute_table(EventSource.open(EVENTS), Period.week, ["platform"])
    names = KPI_NAMES + ["active_users", "dau", "wau", "mau", "stickiness"]
    assert_same(result.periods, reference_periods(frame, "week", ["platform"]), ["period_start", "platform"], names)
    assert result.periods["complete"].all() and result.periods["period"].unique().sort().to_list() == [
        "2026-W41", "2026-W42", "2026-W43", "2026-W44"]


def test_digest_of_the_last_generated_week(truth, cli, tmp_path):
    result = digest(EventSource.open(EVENTS), "last")
    assert result.week["label"] == "2026-W44" and result.week["complete"]  # the data ends Sunday 2026-11-01
    frame = pl.read_parquet(EVENTS / "**" / "*.parquet", hive_partitioning=False)
    week = frame.filter(pl.col("event_time").dt.date().is_between(pl.date(2026, 10, 26), pl.date(2026, 11, 1)))
    gmv = next(k for k in result.kpis if k["kpi"] == "gmv")
    assert gmv["value"] == pytest.approx(week.filter(pl.col("event_name") == "purchase")["revenue"].sum(), rel=1e-12)
    assert {g["platform"] for g in result.breakdown["groups"]} == {"douyin", "kuaishou"}
    runs = [cli("digest", EVENTS, "--out", tmp_path / name, "--as-of", "2026-11-02T06:00:00") for name in "ab"]
    assert [r.exit_code for r in runs] == [0, 0]
    for ext in ("json", "md", "html"):
        name = f"digest-2026-W44.{ext}"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_monthly_dau_mau_agree_with_the_stickiness_command():
    # `shortvid stickiness` computes DAU/MAU per month on its own; with every event as activity it must
    # give the numbers of the kpi table
    source = EventSource.open(EVENTS)
    months = {m.label: m for m in stickiness(source, EventSpec.parse("|".join(EVENT_VOCABULARY)), Period.month).dau_mau}
    rows = {r["period"]: r for r in compute_table(EventSource.open(EVENTS), Period.month).periods.to_dicts()}
    assert set(months) == set(rows) == {"2026-10", "2026-11"}
    for label, month in months.items():
        row = rows[label]
        assert (row["mau"], row["days_in_data"]) == (month.mau, month.days_observed)
        assert (row["dau"], row["stickiness"]) == pytest.approx((month.mean_dau, month.stickiness), rel=1e-12)
