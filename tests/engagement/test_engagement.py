"""`shortvid engagement`: ranking, filters, the JSON contract and bad options."""

from __future__ import annotations

import json

import pytest
from statsmodels.stats.proportion import proportion_confint

from shortvid_analytics.engagement import engagement
from shortvid_analytics.source import EventSource
from tests.conftest import at


def _creator(creator: str, views: int, clicks: int, start: int = 0) -> list[tuple]:
    rows = [(f"{creator}-u{i}", "video_view", at(start + i), {"creator_id": creator}) for i in range(views)]
    rows += [(f"{creator}-u{i}", "product_click", at(start + i, hours=1), {"creator_id": creator})
             for i in range(clicks)]
    return rows


# "small": CTR 1/2 = 50% by luck; "big": CTR 30/100 = 30%; "mid": 10/40 = 25%; "silent": no views
EVENTS = (_creator("small", 2, 1) + _creator("big", 100, 30) + _creator("mid", 40, 10)
          + [("x", "like", at(5), {"creator_id": "silent"})])


def test_rate_ranking_vs_lower_bound_ranking(write_events):
    source = EventSource.open(write_events(EVENTS))
    by_rate = engagement(source, ["creator_id"], sort="ctr")
    assert by_rate.groups["creator_id"].to_list() == ["small", "big", "mid", "silent"]  # undefined rate last
    by_bound = engagement(source, ["creator_id"], sort="ctr", rank_by_lower_bound=True)
    lows = {c: proportion_confint(x, n, alpha=0.05, method="wilson")[0]
            for c, x, n in [("small", 1, 2), ("big", 30, 100), ("mid", 10, 40)]}
    assert sorted(lows, key=lows.get, reverse=True) == ["big", "mid", "small"]
    assert by_bound.groups["creator_id"].to_list() == ["big", "mid", "small", "silent"]
    assert by_bound.groups["rank"].to_list() == [1, 2, 3, 4]


def test_top_and_min_views(write_events):
    source = EventSource.open(write_events(EVENTS))
    result = engagement(source, ["creator_id"], top=2, min_views=3, sort="ctr")
    assert result.groups["creator_id"].to_list() == ["big", "mid"]
    assert (result.groups_total, result.groups_eligible) == (4, 2)


def test_ties_break_by_views_then_key(write_events):
    rows = _creator("b", 4, 1) + _creator("a", 4, 1, start=100) + _creator("c", 8, 2, start=200)
    result = engagement(EventSource.open(write_events(rows)), ["creator_id"], sort="ctr")
    assert result.groups["creator_id"].to_list() == ["c", "a", "b"]  # all 25%: 8 views first, then a < b


def test_null_breakdown_values_form_their_own_group(write_events):
    rows = [("u1", "video_view", at(0), {"creator_id": None}), ("u2", "video_view", at(1), {"creator_id": "c1"}),
            ("u3", "video_view", at(2), {"creator_id": None})]
    result = engagement(EventSource.open(write_events(rows)), ["creator_id"])
    assert result.groups.select("creator_id", "views").rows() == [(None, 2), ("c1", 1)]


def test_json_contract(write_events, cli):
    result = cli("engagement", write_events(EVENTS), "--by", "creator_id", "--top", "2", "--sort", "ctr",
                 "--rank-by-lower-bound", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["kind"] == "engagement" and "version" in doc
    assert doc["params"] | {"source": None} == {
        "source": None, "by": ["creator_id"], "top": 2, "min_views": 0, "sort": "ctr",
        "rank_by_lower_bound": True, "min_group_size": 1, "confidence": 0.95}
    assert (doc["groups_total"], doc["groups_eligible"]) == (4, 4)
    first = doc["groups"][0]
    assert first["creator_id"] == "big" and first["rank"] == 1 and first["ctr"] == 0.3
    for field in ["views", "viewers", "likes", "comments", "shares", "engagement_rate", "engagement_rate_ci_low",
                  "engagement_rate_ci_high", "completion_rate", "mean_watch_time_s", "ctr", "ctr_ci_low",
                  "ctr_ci_high", "purchasers", "orders", "gmv", "net_gmv", "aov", "gpm", "user_conversion_rate",
                  "user_conversion_rate_ci_low", "refund_rate", "refund_rate_ci_high", "refunded_orders"]:
        assert field in first, field


def test_table_output_is_plain_when_not_a_terminal(write_events, cli, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = cli("engagement", write_events(EVENTS), "--by", "creator_id", "--sort", "ctr")
    assert result.exit_code == 0
    assert "big" in result.stdout and "30.00%" in result.stdout and "\x1b[" not in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--by", "nosuch"], "'nosuch' is not a column"),
    (["--by", "user_id"], "user_id is a measure or identity column"),
    (["--by", "creator_id", "--by", "creator_id"], "given twice"),
    (["--by", "region"], "has no region column"),
    (["--by", "creator_id", "--top", "0"], "--top 0: expected a positive number"),
    (["--by", "creator_id", "--min-views", "-1"], "--min-views -1"),
    (["--by", "creator_id", "--sort", "likes_per_view"], "--sort 'likes_per_view': expected one of"),
    (["--by", "creator_id", "--sort", "gmv", "--rank-by-lower-bound"], "gmv has no interval"),
])
def test_bad_options_fail_in_one_line(write_events, cli, args, message):
    result = cli("engagement", write_events(EVENTS), *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_missing_input_is_an_input_error(cli, tmp_path):
    result = cli("engagement", tmp_path / "nothing.parquet", "--by", "creator_id")
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_kpis_without_their_base_are_named_in_one_warning(tmp_path, cli):
    from tests.kpi.test_kpi import _store_log

    path = _store_log(tmp_path)
    table = cli("engagement", path, "--by", "creator_id", "--sort", "clicks")
    assert table.exit_code == 0
    lines = table.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: some KPIs are empty: no video_view events (views, ")
    assert "no revenue column (gmv, refund_revenue, net_gmv, aov, gpm)" in lines[0]
    doc = json.loads(cli("engagement", path, "--by", "creator_id", "--format", "json").stdout)
    assert doc["warnings"] == [lines[0].removeprefix("warning: ")]
    assert engagement(EventSource.open(path), ["creator_id"]).warnings == doc["warnings"]
