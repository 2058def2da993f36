"""Small-cell suppression (--min-group-size): per command, the shown rows plus the pooled row give the
totals, suppressed groups are never ranked or named, and the pooled row equals the same analysis run on
the suppressed groups' users alone."""

from __future__ import annotations

import json

import polars as pl
import pytest

from shortvid_analytics.attribution import attribution
from shortvid_analytics.digest import digest
from shortvid_analytics.engagement import engagement
from shortvid_analytics.eventspec import EventSpec
from shortvid_analytics.funnel import funnel
from shortvid_analytics.kpi import compute_table
from shortvid_analytics.paths import paths
from shortvid_analytics.periods import Period
from shortvid_analytics.privacy import pool_small_groups, suppressed_label
from shortvid_analytics.retention import retention
from shortvid_analytics.source import EventSource
from tests.conftest import at, events_frame

K = 5
# creator -> (users, platform); kol-big and kol-mid reach K users, the tiny ones do not
CREATORS = {"kol-big": (range(0, 6), "douyin"), "kol-mid": (range(6, 11), "kuaishou"),
            "kol-tiny1": (range(11, 13), "douyin"), "kol-tiny2": (range(13, 14), "rareplat")}
SMALL = ("kol-tiny1", "kol-tiny2")


def _rows() -> list[tuple]:
    """Week 1: every user views (and some like, click, buy); week 2: the even users view and buy again."""
    rows = []
    for creator, (users, platform) in CREATORS.items():
        for i in users:
            user = f"uid{i:02d}zq"
            extra = {"creator_id": creator, "platform": platform, "video_id": f"v-{creator}",
                     "product_id": f"p-{creator}", "watch_time_s": 10.0 + i, "session_id": f"{user}-a"}
            rows.append((user, "video_view", at(i), extra))
            if i % 3 != 2:
                rows.append((user, "like", at(i + 0.5), extra))
            if i % 4 != 3:
                rows.append((user, "product_click", at(i + 1), extra))
                rows.append((user, "purchase", at(i + 2), extra | {"order_id": f"o{i}-1", "revenue": 10.0 + i}))
            if i % 2 == 0:
                later = extra | {"session_id": f"{user}-b"}
                rows.append((user, "video_view", at(i, days=7), later))
                rows.append((user, "purchase", at(i + 2, days=7), later | {"order_id": f"o{i}-2", "revenue": 5.0}))
    return rows


ROWS = _rows()
RAW = events_frame(ROWS)


@pytest.fixture
def events(write_events):
    return write_events(ROWS)


@pytest.fixture
def small_only(write_events):
    """The events of the suppressed groups' users only: what the pooled row must equal."""
    return write_events([r for r in ROWS if r[3]["creator_id"] in SMALL], name="small.parquet")


def _users_by_creator() -> dict[str, int]:
    return dict(RAW.group_by("creator_id").agg(pl.col("user_id").n_unique()).iter_rows())


def test_pool_small_groups_sums_per_partition_and_hides_keys():
    frame = pl.DataFrame({"week": [1, 1, 1, 2, 2], "g": ["a", "b", "c", "a", "b"], "users": [9, 2, 3, 1, 7],
                          "n": [10, 20, 30, 40, 50], "rate": [0.1, 0.2, 0.3, 0.4, 0.5]})
    out = pool_small_groups(frame, "users", 5, sums=["users", "n"], within=["week"])
    shown = out.filter(~pl.col("suppressed"))
    assert shown.select("week", "g", "n").rows() == [(1, "a", 10), (2, "b", 50)]
    pooled = out.filter(pl.col("suppressed")).sort("week")
    assert pooled.select("week", "g", "users", "n", "rate", "suppressed_groups").rows() == [
        (1, None, 5, 50, None, 2), (2, None, 1, 40, None, 1)]
    for week in (1, 2):  # shown + pooled = total, per partition
        assert out.filter(pl.col("week") == week)["n"].sum() == frame.filter(pl.col("week") == week)["n"].sum()
    assert pool_small_groups(frame, "users", 1, sums=["n"]).drop("suppressed", "suppressed_groups").equals(frame)
    assert suppressed_label(5, 1) == "<5 users (1 group)" and suppressed_label(5, 12) == "<5 users (12 groups)"


def test_engagement_pools_small_creators_and_never_ranks_them(events):
    source = EventSource.open(events)
    result = engagement(source, ["creator_id"], top=100, sort="ctr", min_group_size=K)
    users = _users_by_creator()
    shown = result.groups.filter(~pl.col("suppressed"))
    assert set(shown["creator_id"]) == {c for c, n in users.items() if n >= K}
    assert shown["rank"].to_list() == list(range(1, shown.height + 1))
    (pooled,) = result.groups.filter(pl.col("suppressed")).to_dicts()
    assert pooled["rank"] is None and pooled["creator_id"] is None and pooled["suppressed_groups"] == len(SMALL)
    assert result.groups_suppressed == len(SMALL) and result.groups_total == len(CREATORS)
    small = RAW.filter(pl.col("creator_id").is_in(SMALL))
    assert pooled["views"] == small.filter(pl.col("event_name") == "video_view").height
    assert pooled["gmv"] == pytest.approx(small.filter(pl.col("event_name") == "purchase")["revenue"].sum())
    assert pooled["active_users"] == sum(users[c] for c in SMALL)
    assert pooled["ctr"] == pytest.approx(
        small.filter(pl.col("event_name") == "product_click").height / pooled["views"])
    # shown + pooled = the total over all events, for every additive KPI
    for kpi, event in (("views", "video_view"), ("likes", "like"), ("clicks", "product_click"),
                       ("orders", "purchase")):
        assert result.groups[kpi].sum() == RAW.filter(pl.col("event_name") == event).height
    assert result.groups["gmv"].sum() == pytest.approx(RAW["revenue"].sum())
    # unsuppressed, a tiny creator would top the CTR ranking (kol-tiny2: 1 view, 1 click)
    assert engagement(source, ["creator_id"], sort="ctr").groups["creator_id"][0] == "kol-tiny2"


def test_engagement_json_names_no_suppressed_group(events, cli):
    result = cli("engagement", events, "--by", "creator_id", "--min-group-size", K, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["params"]["min_group_size"] == K and doc["groups_suppressed"] == 2
    assert [g["suppressed"] for g in doc["groups"]] == [False, False, True]
    assert doc["groups"][-1]["suppressed_groups"] == 2
    assert not any(name in result.stdout for name in SMALL)
    table = cli("engagement", events, "--by", "creator_id", "--min-group-size", K)
    assert "<5 users (2 groups)" in table.stdout and not any(name in table.stdout for name in SMALL)
    assert all(name in cli("engagement", events, "--by", "creator_id").stdout for name in SMALL)  # default K=1


def test_kpi_by_pools_per_period(events):
    result = compute_table(EventSource.open(events), Period.week, ["creator_id"], min_group_size=K)
    local = RAW.with_columns(pl.col("event_time").dt.truncate("1w").dt.date().alias("week"))
    active = local.group_by("week", "creator_id").agg(pl.col("user_id").n_unique().alias("users"))
    for week in local["week"].unique().sort():
        rows = result.periods.filter(pl.col("period_start") == week)
        big = set(active.filter((pl.col("week") == week) & (pl.col("users") >= K))["creator_id"])
        assert set(rows.filter(~pl.col("suppressed"))["creator_id"]) == big
        pooled = rows.filter(pl.col("suppressed"))
        assert pooled["suppressed_groups"].to_list() == [
            active.filter((pl.col("week") == week) & (pl.col("users") < K)).height]
        in_week = local.filter(pl.col("week") == week)
        assert rows["views"].sum() == in_week.filter(pl.col("event_name") == "video_view").height
        assert rows["orders"].sum() == in_week.filter(pl.col("event_name") == "purchase").height
        assert rows["gmv"].sum() == pytest.approx(in_week["revenue"].sum())
        assert rows["active_users"].sum() == active.filter(pl.col("week") == week)["users"].sum()
    # week 2: only even users, 3 of kol-big -> every creator is suppressed that week
    second = result.periods.filter(pl.col("period") == "2026-W46")
    assert second["suppressed"].to_list() == [True]


def test_funnel_suppressed_segment_is_the_funnel_of_those_users(events, small_only):
    steps = "video_view,product_click,purchase"
    result = funnel(EventSource.open(events), steps, "1h", by="creator_id", min_group_size=K)
    assert [(g.value, g.suppressed) for g in result.breakdown] == [("kol-big", False), ("kol-mid", False),
                                                                   (None, True)]
    pooled = result.breakdown[-1]
    assert pooled.suppressed_groups == 2 and not pooled.other
    alone = funnel(EventSource.open(small_only), steps, "1h")
    assert [s.users for s in pooled.steps] == [s.users for s in alone.steps]
    assert [s.time_to_convert_s for s in pooled.steps] == [s.time_to_convert_s for s in alone.steps]
    for k in range(3):  # every user enters with one value: the breakdown adds up to the total
        assert sum(g.steps[k].users for g in result.breakdown) == result.steps[k].users
    doc = result.to_dict()
    assert doc["breakdown"][-1]["suppressed"] is True and doc["breakdown"][0]["suppressed_groups"] == 0
    assert not any(name in json.dumps(doc) for name in SMALL)


def test_funnel_by_limit_counts_only_shown_values(events):
    result = funnel(EventSource.open(events), "video_view,purchase", "1h", by="creator_id", by_limit=1,
                    min_group_size=K)
    assert [(g.value, g.other, g.suppressed) for g in result.breakdown] == [
        ("kol-big", False, False), ("other", True, False), (None, False, True)]
    assert result.breakdown[1].steps[0].users == 5  # kol-mid, the only big value beyond the limit


def test_retention_suppressed_triangle_is_the_retention_of_those_users(events, small_only):
    view = EventSpec.parse("video_view")
    result = retention(EventSource.open(events), view, period=Period.week, periods=2, by="creator_id",
                       min_group_size=K)
    assert list(result.breakdown) == ["kol-big", "kol-mid"] and result.suppressed_groups == 2
    alone = retention(EventSource.open(small_only), view, period=Period.week, periods=2)
    assert result.suppressed.cohorts == alone.total.cohorts and result.suppressed.overall == alone.total.overall
    assert sum(tri.size for _, _, tri in result.groups()) == result.total.size
    rows = result.to_dict()["breakdown"]
    assert [(r["value"], r["suppressed"], r["suppressed_groups"]) for r in rows] == [
        ("kol-big", False, 0), ("kol-mid", False, 0), (None, True, 2)]
    assert result.to_frame().filter(pl.col("suppressed"))["value"].null_count() == result.to_frame()[
        "suppressed"].sum()


def test_attribution_listed_other_and_suppressed_add_up(events):
    result = attribution(EventSource.open(events), top=1, min_group_size=K)
    purchases = RAW.filter(pl.col("event_name") == "purchase")
    buyers = dict(purchases.group_by("creator_id").agg(pl.col("user_id").n_unique()).iter_rows())
    small = {c for c, n in buyers.items() if n < K}
    assert small == {"kol-mid", *SMALL}  # kol-mid has 5 viewers but only 4 buyers
    assert [g.group for g in result.groups] == ["kol-big"] and result.other is None
    assert result.suppressed.groups == len(small)
    assert result.suppressed.attributed_gmv == pytest.approx(
        purchases.filter(pl.col("creator_id").is_in(small))["revenue"].sum())
    listed = sum(g.attributed_gmv for g in result.groups)
    assert listed + result.suppressed.attributed_gmv == pytest.approx(result.attributed.gmv)
    assert sum(g.attributed_orders for g in result.groups) + result.suppressed.attributed_orders == \
        pytest.approx(result.attributed.orders)
    assert result.to_dict()["suppressed"]["groups"] == 3
    everyone = attribution(EventSource.open(events), top=1)
    assert everyone.suppressed is None and everyone.other.groups == 3


def test_paths_listed_other_and_suppressed_add_up(events):
    source = EventSource.open(events)
    every = paths(source, start="video_view", steps=3, top=100)
    result = paths(EventSource.open(events), start="video_view", steps=3, top=2, min_group_size=3)
    big = [p for p in every.top_paths if p.users >= 3]
    small = [p for p in every.top_paths if p.users < 3]
    assert small and [p.label for p in result.top_paths] == [p.label for p in big[:2]]
    assert result.suppressed_sequences == len(small)
    assert result.suppressed_paths == sum(p.paths for p in small)
    assert sum(p.paths for p in result.top_paths) + result.other_paths + result.suppressed_paths == \
        result.totals.paths
    assert result.other_sequences == len(big) - 2
    assert result.to_dict()["suppressed"] == {"paths": result.suppressed_paths, "sequences": len(small)}


def test_digest_defaults_to_the_config_threshold(events, tmp_path, cli):
    result = digest(EventSource.open(events), "2026-W45", allow_partial=True)  # default config: K = 5
    assert result.params["min_group_size"] == 5
    groups = result.breakdown["groups"]
    assert [(g["platform"], g["suppressed"]) for g in groups] == [("douyin", False), ("kuaishou", False),
                                                                  (None, True)]
    views = {g["platform"]: next(e for e in g["kpis"] if e["kpi"] == "views")["value"] for g in groups}
    assert views[None] == RAW.filter((pl.col("platform") == "rareplat") & (pl.col("event_name") == "video_view")
                                     & (pl.col("event_time") < at(days=7))).height
    movers = result.movers["creator_id"]
    assert [m["creator_id"] for m in movers["up"]] == ["kol-big"]  # 5 buyers in W45; the others 4, 1, 1
    assert movers["suppressed"]["suppressed_groups"] == 3
    assert movers["suppressed"]["gmv"] == pytest.approx(RAW.filter(
        pl.col("creator_id").is_in(["kol-mid", *SMALL]) & (pl.col("event_time") < at(days=7)))["revenue"].sum())
    # W46: kol-big has 3 buyers (W45: 5), every platform fewer than 5 users: nothing is named
    out = tmp_path / "digest"
    assert cli("digest", events, "--out", out, "--week", "2026-W46", "--allow-partial",
               "--as-of", "2026-11-20").exit_code == 0
    for path in out.iterdir():
        data = path.read_bytes()
        assert not any(name.encode() in data for name in ("kol-big", "kol-mid", *SMALL, "rareplat")), path
        assert all(f"uid{i:02d}zq".encode() not in data for i in range(14)), path
    config = tmp_path / "k1.toml"
    config.write_text("[privacy]\nmin_group_size = 1\n")
    shown = tmp_path / "shown"
    assert cli("--config", config, "digest", events, "--out", shown, "--week", "2026-W46", "--allow-partial",
               "--as-of", "2026-11-20").exit_code == 0
    assert b"kol-big" in (shown / "digest-2026-W46.md").read_bytes()


@pytest.mark.parametrize("command", [
    ["engagement", "--by", "creator_id"], ["kpi", "--by", "creator_id"], ["funnel", "--steps", "video_view,like"],
    ["retention"], ["attribution"], ["paths", "--start", "video_view"],
])
def test_min_group_size_below_one_is_refused(events, cli, command):
    result = cli(command[0], events, *command[1:], "--min-group-size", "0")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == "error: --min-group-size 0: expected a whole number of users >= 1 " \
                                    "(1 = no suppression)"
