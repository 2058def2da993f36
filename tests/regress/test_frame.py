"""The modelling frame: every feature and outcome checked against hand-worked tiny event tables."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from shortvid_analytics.errors import InputError, OptionError
from shortvid_analytics.regress.frame import Assignments, build_frame, default_controls, default_features
from shortvid_analytics.source import EventSource
from tests.conftest import at, events_frame
from tests.locations import EXAMPLE_DATA

V1 = {"video_id": "v1", "creator_id": "c1", "product_id": "p1", "platform": "douyin",
      "traffic_source": "recommend", "session_id": "s1"}
V2 = {"video_id": "v2", "creator_id": "c2", "product_id": "p2", "platform": "kuaishou",
      "traffic_source": "follow", "session_id": "s1"}


def _rows() -> list[tuple]:
    return [
        # u1 / v1: two views (30 s + 90 s), a like, two comments; p1 bought after 23h59 (in the 24h
        # window) and again after 25h (outside it); a purchase of p9 (not shown in any video).
        ("u1", "video_view", at(0), V1 | {"watch_time_s": 30.0}),
        ("u1", "like", at(1), {"video_id": "v1", "session_id": "s1"}),
        ("u1", "comment", at(2), {"video_id": "v1", "session_id": "s1"}),
        ("u1", "comment", at(3), {"video_id": "v1", "session_id": "s1"}),
        ("u1", "video_complete", at(4), {"video_id": "v1", "session_id": "s1"}),
        ("u1", "video_view", at(hours=1), V1 | {"watch_time_s": 90.0, "traffic_source": "search",
                                                "session_id": "s2"}),
        ("u1", "purchase", at(hours=23, minutes=59), {"product_id": "p1", "order_id": "o1", "revenue": 10.0,
                                                      "session_id": "s3"}),
        ("u1", "purchase", at(hours=25), {"product_id": "p1", "order_id": "o2", "revenue": 20.0}),
        ("u1", "purchase", at(hours=2), {"product_id": "p9", "order_id": "o9", "revenue": 99.0,
                                         "session_id": "s1"}),
        # u1 / v2: followed c2 at the very time of the view (counts: at or before), a share.
        ("u1", "follow", at(hours=3), {"creator_id": "c2", "session_id": "s1"}),
        ("u1", "video_view", at(hours=3), V2 | {"watch_time_s": 6.0}),
        ("u1", "share", at(hours=3, minutes=1), {"video_id": "v2", "session_id": "s1"}),
        # u2 / v1: follows c1 one minute *after* the view (does not count); order o3 has two purchase
        # events (5 + 7), one purchase has no order_id (counts as its own order); a product click.
        ("u2", "video_view", at(10), V1 | {"watch_time_s": 60.0, "platform": "kuaishou", "session_id": "s9"}),
        ("u2", "follow", at(11), {"creator_id": "c1", "session_id": "s9"}),
        ("u2", "product_click", at(12), {"video_id": "v1", "product_id": "p1", "session_id": "s9"}),
        ("u2", "purchase", at(hours=1), {"product_id": "p1", "order_id": "o3", "revenue": 5.0, "session_id": "s9"}),
        ("u2", "purchase", at(hours=1), {"product_id": "p1", "order_id": "o3", "revenue": 7.0, "session_id": "s9"}),
        ("u2", "purchase", at(hours=2), {"product_id": "p1", "revenue": 3.0, "session_id": "s9"}),
        # u3: a view without product_id and a view without video_id (no pair); a like of a video
        # never viewed (no pair either).
        ("u3", "video_view", at(days=2), {"video_id": "v3", "creator_id": "c3", "platform": "douyin",
                                          "watch_time_s": 12.0, "session_id": "s7"}),
        ("u3", "video_view", at(days=2, minutes=1), {"creator_id": "c3", "session_id": "s7"}),
        ("u3", "like", at(days=2, minutes=2), {"video_id": "v4", "session_id": "s7"}),
        # u4 never views: not a user of the user frame
        ("u4", "purchase", at(days=2), {"product_id": "p1", "order_id": "o4", "revenue": 1.0}),
        # u5 views v1 and v5, both showing p1; the purchase names v5, so it counts for v5 only
        ("u5", "video_view", at(20), V1 | {"watch_time_s": 6.0, "session_id": "s5"}),
        ("u5", "video_view", at(21), V1 | {"video_id": "v5", "watch_time_s": 6.0, "session_id": "s5"}),
        ("u5", "purchase", at(25), {"video_id": "v5", "product_id": "p1", "order_id": "o5", "revenue": 8.0,
                                    "session_id": "s5"}),
    ]


@pytest.fixture
def source(write_events):
    return EventSource.open(write_events(_rows()))


def _by_key(frame: pl.DataFrame, *keys: str) -> dict[tuple, dict]:
    return {tuple(r[k] for k in keys): r for r in frame.iter_rows(named=True)}


def test_user_video_frame_matches_hand_worked_values(source):
    frame = build_frame(source, "user_video", timedelta(hours=24))
    rows = _by_key(frame.data, "user_id", "video_id")
    assert set(rows) == {("u1", "v1"), ("u1", "v2"), ("u2", "v1"), ("u3", "v3"), ("u5", "v1"), ("u5", "v5")}
    assert (rows[("u5", "v1")]["purchased"], rows[("u5", "v5")]["purchased"]) == (0, 1)
    assert (rows[("u5", "v5")]["orders"], rows[("u5", "v5")]["revenue"]) == (1, 8.0)

    u1v1 = rows[("u1", "v1")]
    assert u1v1["start_time"] == at(0)
    assert (u1v1["views"], u1v1["likes"], u1v1["comments"], u1v1["shares"], u1v1["completes"]) == (2, 1, 2, 0, 1)
    assert u1v1["watch_min"] == pytest.approx((30 + 90) / 60)
    assert (u1v1["liked"], u1v1["commented"], u1v1["shared"], u1v1["completed"]) == (1, 1, 0, 1)
    # attributes of the first view, not of the later one
    assert (u1v1["traffic_source"], u1v1["session_id"], u1v1["creator_id"], u1v1["product_id"]) == \
        ("recommend", "s1", "c1", "p1")
    assert (u1v1["purchased"], u1v1["orders"], u1v1["revenue"]) == (1, 1, 10.0)
    assert u1v1["follows_creator"] == 0

    u1v2 = rows[("u1", "v2")]
    assert (u1v2["follows_creator"], u1v2["shared"], u1v2["liked"]) == (1, 1, 0)
    assert (u1v2["platform"], u1v2["traffic_source"]) == ("kuaishou", "follow")
    assert (u1v2["purchased"], u1v2["orders"], u1v2["revenue"]) == (0, 0, 0.0)  # p9 is not p2
    assert u1v2["watch_min"] == pytest.approx(0.1)

    u2v1 = rows[("u2", "v1")]
    assert u2v1["follows_creator"] == 0  # followed after the view
    assert (u2v1["purchased"], u2v1["orders"], u2v1["revenue"]) == (1, 2, 15.0)
    assert u2v1["product_clicks"] == 1
    assert u2v1["platform"] == "kuaishou"

    u3v3 = rows[("u3", "v3")]
    assert u3v3["product_id"] is None and u3v3["purchased"] == 0
    assert any("have no product_id" in w for w in frame.warnings)
    # the export's last event is u3's like at day 2 + 2 min: views from day 1 + 2 min on are censored
    assert [rows[k]["censored"] for k in sorted(rows)] == [0, 0, 0, 1, 0, 0]
    assert frame.data.columns[:2] == ["user_id", "video_id"]
    assert frame.data.sort("user_id", "video_id").equals(frame.data)


def test_user_video_window_decides_which_purchases_count(source):
    rows = _by_key(build_frame(source, "user_video", timedelta(hours=48)).data, "user_id", "video_id")
    assert (rows[("u1", "v1")]["orders"], rows[("u1", "v1")]["revenue"]) == (2, 30.0)
    rows = _by_key(build_frame(source, "user_video", timedelta(minutes=30)).data, "user_id", "video_id")
    assert rows[("u1", "v1")]["purchased"] == 0 and rows[("u2", "v1")]["purchased"] == 0


def test_user_video_follow_up_reaches_beyond_the_range(write_events):
    # the view is on the last day of the range, its purchase the next day, its follow the day before
    rows = [("u1", "follow", at(days=-1), {"creator_id": "c1"}),
            ("u1", "video_view", at(hours=20), V1 | {"watch_time_s": 6.0}),
            ("u1", "video_view", at(days=3), V2 | {"watch_time_s": 6.0}),
            ("u1", "purchase", at(hours=30), {"product_id": "p1", "order_id": "o1", "revenue": 4.0})]
    source = EventSource.open(write_events(rows), date_from=date(2026, 11, 2), date_to=date(2026, 11, 2))
    frame = build_frame(source, "user_video", timedelta(hours=24)).data
    assert frame.select("video_id", "purchased", "revenue", "follows_creator").rows() == [("v1", 1, 4.0, 1)]


def test_user_frame_matches_hand_worked_values(source):
    rows = {k[0]: r for k, r in _by_key(build_frame(source, "user", timedelta(hours=24)).data, "user_id").items()}
    assert set(rows) == {"u1", "u2", "u3", "u5"}
    u1 = rows["u1"]
    assert (u1["views"], u1["likes"], u1["comments"], u1["shares"]) == (3, 1, 2, 1)
    assert (u1["completes"], u1["follows"], u1["sessions"], u1["active_days"]) == (1, 1, 3, 2)
    assert u1["watch_min"] == pytest.approx(126 / 60)
    assert u1["completion_rate"] == pytest.approx(1 / 3)
    assert u1["engagement_rate"] == pytest.approx(4 / 3)
    assert (u1["platform"], u1["traffic_source"], u1["creator_id"]) == ("douyin", "recommend", "c1")
    # every purchase of the user in the range counts, shown product or not
    assert (u1["purchased"], u1["orders"], u1["revenue"]) == (1, 3, 129.0)
    u2 = rows["u2"]
    assert (u2["purchased"], u2["orders"], u2["revenue"], u2["product_clicks"]) == (1, 2, 15.0, 1)
    u3 = rows["u3"]
    assert (u3["views"], u3["likes"], u3["purchased"], u3["orders"]) == (2, 1, 0, 0)


def test_session_frame_matches_hand_worked_values(source):
    rows = _by_key(build_frame(source, "session", timedelta(hours=24)).data, "user_id", "session_id")
    # s3 has only a purchase (no view): not a session row
    assert set(rows) == {("u1", "s1"), ("u1", "s2"), ("u2", "s9"), ("u3", "s7"), ("u5", "s5")}
    s1 = rows[("u1", "s1")]
    assert (s1["views"], s1["likes"], s1["comments"], s1["shares"], s1["follows"]) == (2, 1, 2, 1, 1)
    assert s1["start_time"] == at(0)
    assert s1["duration_min"] == pytest.approx(181.0)  # first event 0:00, last 3:01
    assert (s1["purchased"], s1["orders"], s1["revenue"]) == (1, 1, 99.0)
    assert (s1["platform"], s1["traffic_source"]) == ("douyin", "recommend")
    s9 = rows[("u2", "s9")]
    assert (s9["purchased"], s9["orders"], s9["revenue"]) == (1, 2, 15.0)
    s2 = rows[("u1", "s2")]
    assert (s2["traffic_source"], s2["completion_rate"], s2["purchased"]) == ("search", 0.0, 0)


def test_default_controls_use_recommend_as_reference(source):
    frame = build_frame(source, "user_video", timedelta(hours=24))
    assert default_controls(frame) == ["C(platform)", "C(traffic_source, Treatment('recommend'))"]


def test_frame_errors_name_what_is_missing(write_events):
    no_views = EventSource.open(write_events([("u1", "like", at(0), {"video_id": "v1"})]))
    with pytest.raises(OptionError, match="'video_view' does not occur"):
        build_frame(no_views, "user_video", timedelta(hours=24))
    no_sessions = EventSource.open(write_events([("u1", "video_view", at(0), {"video_id": "v1"})]))
    with pytest.raises(InputError, match="no session rows"):
        build_frame(no_sessions, "session", timedelta(hours=24))


def _assignments(tmp_path, rows: list[tuple]) -> str:
    path = tmp_path / "assignments.parquet"
    pl.DataFrame(rows, schema={"experiment_id": pl.String, "user_id": pl.String, "variant": pl.String,
                               "assigned_at": pl.Datetime("us", "UTC")}, orient="row").write_parquet(path)
    return str(path)


def test_assignments_add_variant_and_treated(source, tmp_path):
    path = _assignments(tmp_path, [("checkout_v2", "u1", "treatment", at(hours=2)),
                                   ("checkout_v2", "u2", "control", at(0)),
                                   ("checkout_v2", "u5", "treatment", at(0)),
                                   ("checkout_v2", "u3", "treatment", at(0)), ("checkout_v2", "u3", "control", at(1))])
    frame = build_frame(source, "user_video", timedelta(hours=24), Assignments(path))
    rows = _by_key(frame.data, "user_id", "video_id")
    assert frame.experiment == "checkout_v2"
    # u1's first view of v1 (0:00) precedes the assignment (2:00); v2 (3:00) follows it
    assert [(k, rows[k]["variant"], rows[k]["treated"]) for k in sorted(rows)] == [
        (("u1", "v1"), "treatment", 0), (("u1", "v2"), "treatment", 1), (("u2", "v1"), "control", 0),
        (("u3", "v3"), None, 0), (("u5", "v1"), "treatment", 1), (("u5", "v5"), "treatment", 1)]
    # the user unit is intent-to-treat: treated whatever the timing
    users = build_frame(source, "user", timedelta(hours=24), Assignments(path)).data
    assert dict(users.select("user_id", "treated").rows()) == {"u1": 1, "u2": 0, "u3": 0, "u5": 1}
    assert default_features(frame)[-1] == "treated"
    assert "1 users of checkout_v2 have several variants; they count as not in the experiment" in frame.warnings[-1]


def test_assignments_errors(source, tmp_path):
    path = _assignments(tmp_path, [("a", "u1", "treatment", at(0)), ("b", "u2", "control", at(0))])
    with pytest.raises(OptionError, match="holds 2 experiments; choose one with --experiment: a, b"):
        build_frame(source, "user", timedelta(hours=24), Assignments(path))
    with pytest.raises(OptionError, match="experiment 'c' not found in .*; experiments present: a, b"):
        build_frame(source, "user", timedelta(hours=24), Assignments(path, "c"))
    bad = tmp_path / "bad.parquet"
    pl.DataFrame({"user_id": ["u1"], "arm": ["x"]}).write_parquet(bad)
    with pytest.raises(InputError, match="assignments lack required column.s. experiment_id, variant, assigned_at"):
        build_frame(source, "user", timedelta(hours=24), Assignments(str(bad)))


def test_assignments_join_integer_user_ids(write_events, tmp_path):
    events = events_frame([("1", "video_view", at(0), V1), ("2", "video_view", at(0), V1)])
    path = tmp_path / "int_events.parquet"
    events.with_columns(pl.col("user_id").cast(pl.Int64)).write_parquet(path)
    assignments = tmp_path / "int_assignments.parquet"
    pl.DataFrame({"experiment_id": ["x"], "user_id": [2], "variant": ["treatment"],
                  "assigned_at": [at(-5)]}).write_parquet(assignments)
    frame = build_frame(EventSource.open(path), "user_video", timedelta(hours=24), Assignments(str(assignments)))
    assert frame.data.select("user_id", "treated").rows() == [(1, 0), (2, 1)]


@pytest.mark.parametrize("unit", ["user", "user_video", "session"])
def test_frames_are_identical_to_the_last_bit_across_runs(unit):
    """Float sums are compensated (fsum): a parallel plain sum gave watch_min different last bits per run."""
    events = EXAMPLE_DATA / "events"
    frames = [build_frame(EventSource.open(events), unit, timedelta(hours=24)).data for _ in range(4)]
    keys = [c for c in ("user_id", "video_id", "session_id") if c in frames[0].columns]
    assert all(frame.sort(keys).equals(frames[0].sort(keys)) for frame in frames[1:])
