"""Every KPI of `engagement` and `kpi` against an independent polars computation on random data.

The reference reads the Parquet file with polars and applies the README definitions directly; it
shares no code with the SQL path (queries/, kpi.derive).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shortvid_analytics.engagement import engagement
from shortvid_analytics.kpi import compute_table
from shortvid_analytics.periods import Period
from shortvid_analytics.source import EventSource

NAMES = ["video_view", "video_complete", "like", "comment", "share", "follow", "product_click", "add_to_cart",
         "purchase", "refund", "live_enter"]
WEIGHTS = [0.45, 0.08, 0.08, 0.04, 0.04, 0.02, 0.08, 0.04, 0.09, 0.04, 0.04]
COUNTS = {"views": "video_view", "likes": "like", "comments": "comment", "shares": "share",
          "completes": "video_complete", "clicks": "product_click"}


def random_events(seed: int, n: int = 3000) -> pl.DataFrame:
    """Events over 2026-10-20 .. 2026-11-21 with nulls in every optional column and multi-item orders."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 10, 20)
    names = rng.choice(NAMES, size=n, p=WEIGHTS)
    video = rng.integers(0, 8, size=n)

    def maybe(values: list, p_null: float) -> list:
        return [None if rng.random() < p_null else v for v in values]

    orders = [f"o{rng.integers(0, n // 8)}" if name in ("purchase", "refund") else None for name in names]
    return pl.DataFrame({
        "event_time": [start + timedelta(seconds=int(s)) for s in rng.integers(0, 32 * 86400, size=n)],
        "user_id": [f"u{u}" for u in rng.integers(0, 60, size=n)],
        "event_name": names.tolist(),
        "video_id": maybe([f"v{v}" for v in video], 0.05),
        "creator_id": maybe([f"c{v % 3}" for v in video], 0.05),
        "product_id": maybe([f"p{v % 4}" for v in video], 0.2),
        "order_id": maybe(orders, 0.15),
        "revenue": [round(float(r), 2) if name in ("purchase", "refund") else None
                    for r, name in zip(rng.uniform(1, 300, size=n), names)],
        "watch_time_s": maybe([round(float(w), 3) if name == "video_view" else None
                               for w, name in zip(rng.uniform(0, 60, size=n), names)], 0.1),
        "platform": maybe(rng.choice(["douyin", "kuaishou"], size=n).tolist(), 0.05),
        "traffic_source": rng.choice(["recommend", "follow", "search", "live"], size=n).tolist(),
    }, schema_overrides={"event_time": pl.Datetime("us")})


def reference_kpis(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The README's KPI table, straight from the events, per group of ``keys``."""
    name = pl.col("event_name")
    purchase, refund, view = name == "purchase", name == "refund", name == "video_view"
    sums = frame.group_by(keys).agg(
        *((name == event).sum().alias(kpi) for kpi, event in COUNTS.items()),
        pl.col("user_id").filter(view).n_unique().alias("viewers"),
        pl.col("user_id").filter(purchase).n_unique().alias("purchasers"),
        (pl.col("order_id").filter(purchase & pl.col("order_id").is_not_null()).n_unique()
         + (purchase & pl.col("order_id").is_null()).sum()).alias("orders"),
        (pl.col("order_id").filter(refund & pl.col("order_id").is_not_null()).n_unique()
         + (refund & pl.col("order_id").is_null()).sum()).alias("refunded_orders"),
        pl.col("revenue").filter(purchase).sum().alias("gmv"),
        pl.col("revenue").filter(refund).sum().alias("refund_revenue"),
        pl.col("watch_time_s").filter(view).mean().alias("mean_watch_time_s"),
        pl.col("user_id").n_unique().alias("active_users"),
    )

    def ratio(a: pl.Expr, b: pl.Expr) -> pl.Expr:
        return pl.when(b > 0).then(a / b)

    return sums.with_columns(
        ratio(pl.col("likes") + pl.col("comments") + pl.col("shares"), pl.col("views")).alias("engagement_rate"),
        ratio(pl.col("completes"), pl.col("views")).alias("completion_rate"),
        ratio(pl.col("clicks"), pl.col("views")).alias("ctr"),
        (pl.col("gmv") - pl.col("refund_revenue")).alias("net_gmv"),
        ratio(pl.col("gmv"), pl.col("orders")).alias("aov"),
        ratio(pl.col("gmv") * 1000, pl.col("views")).alias("gpm"),
        ratio(pl.col("purchasers"), pl.col("viewers")).alias("user_conversion_rate"),
        ratio(pl.col("refunded_orders"), pl.col("orders")).alias("refund_rate"),
    )


KPI_NAMES = ["views", "viewers", "likes", "comments", "shares", "completes", "clicks", "purchasers", "orders",
             "refunded_orders", "gmv", "refund_revenue", "net_gmv", "mean_watch_time_s", "engagement_rate",
             "completion_rate", "ctr", "aov", "gpm", "user_conversion_rate", "refund_rate"]


def assert_same(actual: pl.DataFrame, expected: pl.DataFrame, keys: list[str], names: list[str]) -> None:
    actual_rows = {tuple(r[k] for k in keys): r for r in actual.to_dicts()}
    expected_rows = {tuple(r[k] for k in keys): r for r in expected.to_dicts()}
    assert set(actual_rows) == set(expected_rows)
    for key, want in expected_rows.items():
        got = actual_rows[key]
        for name in names:
            if want[name] is None:
                assert got[name] is None, (key, name)
            else:
                assert got[name] == pytest.approx(want[name], rel=1e-9, abs=1e-9), (key, name)


@pytest.fixture(params=[11, 12])
def random_export(request, tmp_path) -> tuple[Path, pl.DataFrame]:
    frame = random_events(request.param)
    path = tmp_path / "events.parquet"
    frame.write_parquet(path)
    return path, pl.read_parquet(path)


@pytest.mark.parametrize("keys", [["creator_id"], ["platform", "traffic_source"], ["product_id"], ["video_id"]])
def test_engagement_matches_polars(random_export, keys):
    path, frame = random_export
    result = engagement(EventSource.open(path), keys, top=1000)
    assert result.groups.height == result.groups_total
    assert_same(result.groups, reference_kpis(frame, keys), keys, KPI_NAMES)


def reference_periods(frame: pl.DataFrame, period: str, keys: list[str]) -> pl.DataFrame:
    """KPIs per calendar period plus DAU/WAU/MAU as means over the period's days in the data span."""
    every = {"day": "1d", "week": "1w", "month": "1mo"}
    days = frame.with_columns(pl.col("event_time").dt.date().alias("day"))
    days = days.with_columns(pl.col("day").dt.truncate("1w").alias("week"),
                             pl.col("day").dt.truncate("1mo").alias("month"))
    rows = reference_kpis(days, [period, *keys])
    span = pl.DataFrame({"day": pl.date_range(days["day"].min(), days["day"].max(), "1d", eager=True)})
    span = span.with_columns(pl.col("day").dt.truncate(every["week"]).alias("week"),
                             pl.col("day").dt.truncate(every["month"]).alias("month"))
    grid = span.join(rows.select(keys).unique(), how="cross") if keys else span
    for unit, alias in (("day", "dau"), ("week", "wau"), ("month", "mau")):
        active = days.group_by([unit, *keys]).agg(pl.col("user_id").n_unique().alias(alias))
        grid = grid.join(active, on=[unit, *keys], how="left", nulls_equal=True).with_columns(pl.col(alias).fill_null(0))
    activity = grid.group_by([period, *keys]).agg(pl.col("dau").mean(), pl.col("wau").mean(), pl.col("mau").mean())
    rows = rows.join(activity, on=[period, *keys], how="left", nulls_equal=True)
    return rows.with_columns((pl.col("dau") / pl.col("mau")).alias("stickiness")).rename({period: "period_start"})


@pytest.mark.parametrize("period, keys", [("week", []), ("day", []), ("month", []), ("week", ["platform"])])
def test_kpi_periods_match_polars(random_export, period, keys):
    path, frame = random_export
    result = compute_table(EventSource.open(path), Period(period), keys)
    names = KPI_NAMES + ["active_users", "dau", "wau", "mau", "stickiness"]
    assert_same(result.periods, reference_periods(frame, period, keys), ["period_start", *keys], names)
