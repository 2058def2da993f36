"""``ab`` on the synthetic export with a planted experiment (``examples/data``, made by
``shortvid generate --users 2500 --days 28 --seed 42``): the counts equal the generator's realised
ones and every method's interval covers the expected lifts written in ``truth.json``."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from shortvid_analytics.ab import analyze
from shortvid_analytics.source import EventSource
from tests.locations import EXAMPLE_DATA

DATA = EXAMPLE_DATA
TRUTH = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))["experiment"]
METRICS = ["conversion:purchase", "revenue_per_user"]
EXPECTED = {"conversion:purchase": TRUTH["conversion_lift"], "revenue_per_user": TRUTH["revenue_per_user_lift"]}


@pytest.fixture(scope="module")
def source() -> EventSource:
    return EventSource.open(DATA / "events")


def test_counts_equal_the_generators_realised_ones(source):
    result = analyze(source, DATA / "assignments.parquet", METRICS, experiment=TRUTH["id"])
    assert result.excluded_multi_variant_users == 0
    conversion, revenue = result.metrics
    for v_conv, v_rev in zip(conversion.variants, revenue.variants, strict=True):
        realised = TRUTH["realised"][v_conv.variant]
        assert v_conv.users == realised["users"] == v_rev.users
        assert v_conv.sum == realised["converted"]
        assert v_rev.sum == pytest.approx(realised["revenue"], abs=0.05)  # truth.json rounds to 0.1
    assert result.srm.p_value > 0.001


@pytest.mark.parametrize("method", ["frequentist", "bayesian", "sequential"])
@pytest.mark.parametrize("cuped_days", [None, 14])
def test_intervals_cover_the_planted_lifts(source, method, cuped_days):
    result = analyze(source, DATA / "assignments.parquet", METRICS, method=method, cuped_days=cuped_days)
    for metric in result.metrics:
        c = metric.comparisons[0]
        assert c.ci_low < EXPECTED[metric.metric] < c.ci_high, (metric.metric, c)
        if cuped_days:
            assert c.theta is not None and c.variance_reduction >= 0


def test_revenue_sums_are_exactly_rounded(source):
    """Compensated sums: the variant totals equal math.fsum of the per-user totals, so they do not
    depend on how DuckDB splits the work between threads (a plain parallel sum differs in the last
    bits, here and from run to run)."""
    result = analyze(source, DATA / "assignments.parquet", ["revenue_per_user"])
    assign = pl.read_parquet(DATA / "assignments.parquet")
    purchases = (pl.read_parquet(DATA / "events" / "*" / "*.parquet", hive_partitioning=True)
                 .filter(pl.col("event_name") == "purchase").select("user_id", "event_time", "revenue"))
    per_user = (assign.join(purchases, on="user_id").filter(pl.col("event_time") >= pl.col("assigned_at"))
                .group_by("user_id", "variant").agg(pl.col("revenue")))
    for v in result.metrics[0].variants:
        totals = [math.fsum(r) for r in per_user.filter(pl.col("variant") == v.variant)["revenue"].to_list()]
        assert v.sum == math.fsum(totals)
