"""Attribution and paths on the synthetic generator's data.

The generator writes every purchase with the `video_id`/`creator_id` of the view it came from, and a
purchaser's shopping flow is view → product_click (during the view) → add_to_cart → checkout →
purchase, in one session, before the next view (docs/generate.md). So: `--model platform` must give
each creator exactly its purchases (counted here independently with polars); last-touch attribution
to the latest view, or to the latest same-product click, must agree with it exactly; and paths must
match the slow pure-Python reference of `test_paths` on thousands of real-looking journeys.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from shortvid_analytics.attribution import attribution
from shortvid_analytics.generate import generate
from shortvid_analytics.paths import paths
from shortvid_analytics.source import EventSource
from tests.paths.test_paths import check_against_reference


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out, users=2500, days=21, seed=7, start=date(2026, 10, 5))
    return out / "events"


@pytest.fixture(scope="module")
def source(events: Path) -> EventSource:
    return EventSource.open(events)


def by_group(result) -> dict[str | None, tuple[float, float]]:
    return {g.group: (g.attributed_orders, g.attributed_gmv) for g in result.groups}


def test_platform_model_counts_each_creators_purchases(events, source):
    purchases = (pl.read_parquet(events / "**" / "*.parquet", hive_partitioning=True)
                 .filter(pl.col("event_name") == "purchase"))
    assert purchases.height > 150 and purchases["order_id"].n_unique() == purchases.height
    expected = {row["creator_id"]: (float(len(row["revenue"])), math.fsum(row["revenue"]))
                for row in purchases.group_by("creator_id").agg("revenue").iter_rows(named=True)}
    result = attribution(source, model="platform", by="creator_id", top=None)
    got = by_group(result)
    assert set(got) == set(expected)
    for creator, (orders, gmv) in expected.items():
        assert got[creator][0] == orders
        assert got[creator][1] == pytest.approx(gmv, rel=1e-15)
    assert result.unattributed.conversions == 0
    assert result.totals.orders == purchases.height


def test_last_touch_recovers_the_planted_source_of_each_purchase(source):
    platform_by_video = by_group(attribution(source, model="platform", by="video_id", top=None))
    last_click = attribution(source, touch="product_click", window="1d", model="last", by="video_id",
                             same_product=True, top=None)
    assert last_click.unattributed.conversions == 0
    assert by_group(last_click) == platform_by_video
    platform_by_creator = by_group(attribution(source, model="platform", by="creator_id", top=None))
    last_view = attribution(source, touch="video_view", window="1d", model="last", by="creator_id", top=None)
    assert by_group(last_view) == platform_by_creator


@pytest.mark.parametrize("options", [
    dict(end=("purchase",), steps=5, collapse=True),
    dict(start=("product_click",), end=("purchase",), steps=4, session=True),
])
def test_paths_match_the_reference_on_generated_journeys(events, source, options):
    frame = pl.read_parquet(events / "**" / "*.parquet", hive_partitioning=True,
                            columns=["user_id", "event_name", "event_time", "session_id"])
    rows = [(user, name, when.replace(tzinfo=None), {"session_id": session})
            for user, name, when, session in frame.iter_rows()]
    start = options.get("start")
    result = paths(source, start="|".join(start) if start else None, end="|".join(options["end"]),
                   steps=options["steps"], top=100_000, collapse_repeats=options.get("collapse", False),
                   session=options.get("session", False))
    assert result.totals.paths > 150
    check_against_reference(result, rows, **options)
