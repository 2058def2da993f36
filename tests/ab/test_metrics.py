"""The SQL behind ``ab``: per-variant sums from events and assignments, against hand-worked cases and a
slow pure-Python reference; the metric grammar; and an end-to-end run on data with a planted effect."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shortvid_analytics.ab import analyze
from shortvid_analytics.ab.metrics import load_assignments, parse_metric, variant_sums
from shortvid_analytics.ab.stats import Sums
from shortvid_analytics.config import Config
from shortvid_analytics.errors import OptionError
from shortvid_analytics.source import EventSource
from tests.conftest import T0, at


def write_assignments(path: Path, rows: list[tuple], user_type: type = pl.String, **extra: list) -> Path:
    """Rows ``(experiment_id, user_id, variant, assigned_at)`` (plus extra columns) as Parquet."""
    frame = pl.DataFrame(
        {"experiment_id": [r[0] for r in rows], "user_id": [r[1] for r in rows],
         "variant": [r[2] for r in rows], "assigned_at": [r[3] for r in rows], **extra},
        schema_overrides={"user_id": user_type, "assigned_at": pl.Datetime("us")},
    )
    frame.write_parquet(path)
    return path


def sums_for(events: Path, assignments: Path, metrics: list[str], experiment: str = "exp",
             window: timedelta | None = None, cuped_days: int | None = None, by: str | None = None,
             by_events: bool = False) -> dict:
    source = EventSource.open(events)
    defs = [parse_metric(m) for m in metrics]
    info = load_assignments(source, assignments, experiment, segment_column=by, window=window,
                            pre_period=timedelta(days=cuped_days) if cuped_days else None)
    sums, _caps = variant_sums(source, defs, cuped=cuped_days is not None, segment_column=by,
                               segment_from_events=by_events, first_needed=info.first_needed,
                               last_needed=info.last_needed)
    return sums, info


HAND_EVENTS = [
    ("u1", "purchase", at(-60), {"revenue": 7.0, "order_id": "o0"}),   # before assignment: CUPED only
    ("u1", "video_view", at(10)),
    ("u1", "product_click", at(15)),
    ("u1", "video_view", at(20)),
    ("u1", "purchase", at(60), {"revenue": 10.0, "order_id": "o1"}),
    ("u1", "purchase", at(0, days=2), {"revenue": 5.0, "order_id": "o2"}),
    ("u1", "purchase", at(1, days=2), {"revenue": 5.0, "order_id": "o2"}),  # same order, second line item
    ("u3", "purchase", at(-30), {"revenue": 3.0, "order_id": "o3"}),   # before assignment only
    ("u4", "video_view", at(5)),
    ("u4", "purchase", at(30), {"revenue": 8.0}),                      # no order_id: each counts once
    ("u4", "purchase", at(40), {"revenue": 4.0}),
    ("u5", "purchase", at(90), {"revenue": 99.0, "order_id": "o5"}),   # u5 is in two variants
    ("u6", "video_view", at(0, days=10)),
    ("u6", "purchase", at(5, days=10), {"revenue": 50.0, "order_id": "o6"}),  # after a 7d window
    ("u9", "purchase", at(5), {"revenue": 100.0, "order_id": "o9"}),   # not in the experiment
]
HAND_ASSIGNMENTS = [
    ("exp", "u1", "control", T0),
    ("exp", "u1", "control", T0 + timedelta(hours=2)),  # repeated exposure: first assigned_at counts
    ("exp", "u2", "control", T0 + timedelta(days=1)),
    ("exp", "u3", "treatment", T0),
    ("exp", "u4", "treatment", T0),
    ("exp", "u5", "control", T0),
    ("exp", "u5", "treatment", T0 + timedelta(hours=1)),
    ("exp", "u6", "treatment", T0),
    ("other", "u1", "treatment", T0),
]
METRICS = ["conversion:purchase", "revenue_per_user", "aov", "ctr", "count:video_view"]


@pytest.fixture
def hand(write_events, tmp_path):
    return write_events(HAND_EVENTS), write_assignments(tmp_path / "assign.parquet", HAND_ASSIGNMENTS)


def test_hand_case_sums(hand):
    sums, info = sums_for(*hand, METRICS)
    assert info.users == {"control": 2, "treatment": 3}
    assert info.excluded_multi_variant_users == 1
    control, treatment = sums[None]["control"], sums[None]["treatment"]
    # control: u1 (converted, revenue 20 in orders o1, o2; 1 click / 2 views), u2 (no events)
    assert control[0] == Sums(n=2, sum=1, sum_squares=1)
    assert control[1] == Sums(n=2, sum=20, sum_squares=400)
    assert control[2] == Sums(n=2, sum=20, sum_squares=400, den_sum=2, den_sum_squares=4, num_den_products=40)
    assert control[3] == Sums(n=2, sum=1, sum_squares=1, den_sum=2, den_sum_squares=4, num_den_products=2)
    assert control[4] == Sums(n=2, sum=2, sum_squares=4)
    # treatment: u3 (nothing after assignment), u4 (12 in 2 order-less purchases, 1 view), u6 (50, 1 order, 1 view)
    assert treatment[0] == Sums(n=3, sum=2, sum_squares=2)
    assert treatment[1] == Sums(n=3, sum=62, sum_squares=144 + 2500)
    assert treatment[2] == Sums(n=3, sum=62, sum_squares=2644, den_sum=3, den_sum_squares=5, num_den_products=74)
    assert treatment[3] == Sums(n=3, sum=0, sum_squares=0, den_sum=2, den_sum_squares=2, num_den_products=0)
    assert treatment[4] == Sums(n=3, sum=2, sum_squares=2)


def test_hand_case_window_and_cuped(hand):
    sums, _ = sums_for(*hand, ["conversion:purchase", "revenue_per_user", "aov"], window=timedelta(days=7),
                       cuped_days=14)
    control, treatment = sums[None]["control"], sums[None]["treatment"]
    # u6's purchase on day 10 falls outside the 7-day window
    assert treatment[0] == Sums(n=3, sum=1, sum_squares=1, pre_sum=1, pre_sum_squares=1, post_pre_products=0)
    assert treatment[1] == Sums(n=3, sum=12, sum_squares=144, pre_sum=3, pre_sum_squares=9, post_pre_products=0)
    # pre-period covariate: u1 bought for 7 an hour before assignment
    assert control[0] == Sums(n=2, sum=1, sum_squares=1, pre_sum=1, pre_sum_squares=1, post_pre_products=1)
    assert control[1] == Sums(n=2, sum=20, sum_squares=400, pre_sum=7, pre_sum_squares=49, post_pre_products=140)
    assert treatment[2] == Sums(n=3, sum=12, sum_squares=144, den_sum=2, den_sum_squares=4, num_den_products=24)


def test_window_boundaries(write_events, tmp_path):
    """[assigned_at, assigned_at + window) is post; [assigned_at - cuped_days, assigned_at) is pre."""
    events = write_events([
        ("a", "purchase", at(0), {"revenue": 1.0}),               # at assignment: post
        ("a", "purchase", at(0, days=1), {"revenue": 10.0}),      # at assignment + window: outside
        ("a", "purchase", at(0, days=-2), {"revenue": 100.0}),    # at assignment - 2 days: pre
        ("a", "purchase", at(-1, days=-2), {"revenue": 1000.0}),  # a minute earlier: outside
        ("b", "purchase", at(5), {"revenue": 1.0}),
    ])
    assign = write_assignments(tmp_path / "a.parquet", [("exp", "a", "control", T0), ("exp", "b", "treatment", T0)])
    sums, _ = sums_for(events, assign, ["revenue_per_user"], window=timedelta(days=1), cuped_days=2)
    assert sums[None]["control"][0] == Sums(n=1, sum=1, sum_squares=1, pre_sum=100, pre_sum_squares=10000,
                                            post_pre_products=100)


def test_segment_from_assignments_and_from_first_event(write_events, tmp_path):
    events = write_events([
        ("a", "video_view", at(-5), {"platform": "kuaishou"}),  # before assignment: ignored
        ("a", "video_view", at(5), {"platform": "douyin"}),
        ("a", "purchase", at(6), {"platform": "kuaishou", "revenue": 1.0}),
        ("b", "video_view", at(5), {"platform": "kuaishou"}),
        ("b", "video_view", at(5), {"platform": "douyin"}),    # same instant: the smaller value wins
        ("c", "purchase", at(5), {"platform": "kuaishou", "revenue": 2.0}),
    ])
    assign = write_assignments(tmp_path / "a.parquet", [("exp", u, v, T0) for u, v in
                                                          [("a", "control"), ("b", "treatment"), ("c", "treatment"),
                                                           ("d", "control")]],
                               region=["north", "south", "north", "south"])
    sums, _ = sums_for(events, assign, ["conversion:purchase"], by="platform", by_events=True)
    assert set(sums) == {None, "douyin", "kuaishou", "(none)"}
    assert sums["douyin"]["control"][0] == Sums(n=1, sum=1, sum_squares=1)     # a: first event douyin
    assert sums["douyin"]["treatment"][0] == Sums(n=1, sum=0, sum_squares=0)   # b: tie -> douyin
    assert sums["kuaishou"]["treatment"][0] == Sums(n=1, sum=1, sum_squares=1)  # c
    assert sums["(none)"]["control"][0] == Sums(n=1, sum=0, sum_squares=0)     # d: no events
    by_region, _ = sums_for(events, assign, ["conversion:purchase"], by="region")
    assert by_region["north"]["control"][0].n == 1 and by_region["north"]["treatment"][0].sum == 1
    assert by_region[None]["treatment"][0] == Sums(n=2, sum=1, sum_squares=1)


@pytest.mark.parametrize("events_type,assign_type", [(pl.Int64, pl.String), (pl.String, pl.Int64),
                                                     (pl.Int64, pl.Int32)])
def test_user_id_types_are_cast_consistently(tmp_path, events_type, assign_type):
    events = tmp_path / "e.parquet"
    pl.DataFrame({"event_time": [at(5), at(6), at(7)], "user_id": [1, 2, 3], "event_name": ["purchase"] * 3}
                 ).with_columns(pl.col("user_id").cast(events_type)).write_parquet(events)
    ids = [1, 2, 3, 4] if assign_type != pl.String else ["1", "2", "3", "x"]
    assign = write_assignments(tmp_path / "a.parquet", [("exp", u, v, T0) for u, v in
                                                          zip(ids, ["control", "control", "treatment", "treatment"])],
                               user_type=assign_type)
    sums, info = sums_for(events, assign, ["conversion:purchase"])
    assert info.users == {"control": 2, "treatment": 2}
    assert sums[None]["control"][0].sum == 2 and sums[None]["treatment"][0].sum == 1


# ------------------------------------------------------------------ slow pure-Python reference
def _reference_sums(events: list[tuple], assignments: list[tuple], window: timedelta, pre: timedelta,
                    ) -> dict[str, dict[str, list[float]]]:
    """Per variant and metric: [n, Σy, Σy², Σx, Σx², Σxy, Σc, Σc², Σyc] by looping over rows."""
    per_user: dict[str, dict] = {}
    for _exp, user, variant, when in assignments:
        entry = per_user.setdefault(user, {"variants": set(), "at": when})
        entry["variants"].add(variant)
        entry["at"] = min(entry["at"], when)
    out: dict[str, dict[str, list[float]]] = {}
    for user, entry in per_user.items():
        if len(entry["variants"]) != 1:
            continue
        variant = next(iter(entry["variants"]))
        start = entry["at"]
        post = [e for e in events if e[0] == user and start <= e[2] < start + window]
        before = [e for e in events if e[0] == user and start - pre <= e[2] < start]

        def values(evts):
            douyin = [e for e in evts if e[1] == "purchase" and e[3].get("platform") == "douyin"]
            purchases = [e for e in evts if e[1] == "purchase"]
            revenue = sum(e[3]["revenue"] for e in purchases)
            orders = len({e[3]["order_id"] for e in purchases if e[3].get("order_id")}) + sum(
                1 for e in purchases if not e[3].get("order_id"))
            views = sum(1 for e in evts if e[1] == "video_view")
            clicks = sum(1 for e in evts if e[1] == "product_click")
            return {"conv": float(bool(douyin)), "rev": revenue, "aov": (revenue, orders), "ctr": (clicks, views),
                    "views": float(views)}

        now, then = values(post), values(before)
        acc = out.setdefault(variant, {k: [0.0] * 9 for k in ("conv", "rev", "aov", "ctr", "views")})
        for key in acc:
            y, x = (now[key] if isinstance(now[key], tuple) else (now[key], 0.0))
            c = then[key] if not isinstance(then[key], tuple) else 0.0
            for i, v in enumerate((1, y, y * y, x, x * x, x * y, c, c * c, y * c)):
                acc[key][i] += v
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_sql_sums_equal_pure_python_reference(write_events, tmp_path, seed):
    rng = random.Random(seed)
    users = [f"user{i}" for i in range(60)]
    assignments = []
    for u in users[:50]:
        when = T0 + timedelta(hours=rng.randint(0, 72))
        assignments.append(("exp", u, rng.choice(["control", "treatment"]), when))
        if rng.random() < 0.1:
            assignments.append(("exp", u, rng.choice(["control", "treatment"]), when + timedelta(hours=1)))
    events = []
    for _ in range(900):
        u = rng.choice(users)
        when = T0 + timedelta(minutes=rng.randint(-4 * 1440, 6 * 1440))
        name = rng.choice(["video_view", "video_view", "product_click", "purchase", "like"])
        extra = {"platform": rng.choice(["douyin", "kuaishou"])}
        if name == "purchase":
            extra |= {"revenue": float(rng.randint(1, 200)), "order_id": rng.choice([None, f"o{rng.randint(0, 300)}"])}
        events.append((u, name, when, extra))
    path = write_events(events)
    assign = write_assignments(tmp_path / "a.parquet", assignments)
    window, pre = timedelta(days=2), timedelta(days=3)
    metrics = ["conversion:purchase[platform=douyin]", "revenue_per_user", "aov", "ctr", "count:video_view"]
    sums, _ = sums_for(path, assign, metrics, window=window, cuped_days=3)
    ref = _reference_sums(events, assignments, window, pre)
    for variant, per_metric in sums[None].items():
        for key, got in zip(("conv", "rev", "aov", "ctr", "views"), per_metric, strict=True):
            r = ref[variant][key]
            assert got.n == r[0] and got.sum == pytest.approx(r[1]) and got.sum_squares == pytest.approx(r[2])
            if key in ("aov", "ctr"):
                assert (got.den_sum, got.den_sum_squares, got.num_den_products) == (
                    pytest.approx(r[3]), pytest.approx(r[4]), pytest.approx(r[5]))
            else:
                assert (got.pre_sum, got.pre_sum_squares, got.post_pre_products) == (
                    pytest.approx(r[6]), pytest.approx(r[7]), pytest.approx(r[8]))


# ------------------------------------------------------------------ metric grammar
@pytest.mark.parametrize("text,kind,n_components", [
    ("conversion:purchase", "proportion", 1),
    ("conversion:add_to_cart|checkout", "proportion", 1),
    ("conversion:purchase[platform=douyin]", "proportion", 1),
    ("count:video_view", "mean", 1),
    ("sum:watch_time_s:video_view[platform in (douyin, kuaishou)]", "mean", 1),
    ("revenue_per_user", "mean", 1),
    ("revenue_per_user[platform=douyin]", "mean", 1),
    ("aov", "ratio", 2),
    ("ctr", "ratio", 2),
    ("ratio:product_click[platform=douyin]/video_view", "ratio", 2),
])
def test_metric_grammar(text, kind, n_components):
    metric = parse_metric(text)
    assert metric.type == kind and len(metric.components) == n_components and metric.name == text


def test_metric_grammar_details():
    assert str(parse_metric("revenue_per_user[platform=douyin]").numerator.spec) == "purchase[platform=douyin]"
    ctr = parse_metric("ctr[traffic_source=live]")
    assert str(ctr.numerator.spec) == "product_click[traffic_source=live]"
    assert str(ctr.denominator.spec) == "video_view[traffic_source=live]"
    assert parse_metric("sum:rounds:session_summary").numerator.column == "rounds"


@pytest.mark.parametrize("text", ["purchase", "conversion:", "mean:purchase", "ratio:a", "sum:purchase",
                                  "conversion:purchase[platform]", "ratio:a/b/c"])
def test_metric_grammar_errors(text):
    with pytest.raises(OptionError):
        parse_metric(text)


# ------------------------------------------------------------------ planted effect, end to end
def _planted(tmp_path: Path, users: int = 20000, lift: float = 0.2, seed: int = 42) -> tuple[Path, Path]:
    """Users with a latent propensity; purchases in the 14 days before and after assignment.

    Treatment multiplies the post-assignment purchase probability by (1 + lift) and leaves the
    order value alone, so both conversion and revenue per user have relative lift ``lift``.
    """
    rng = np.random.default_rng(seed)
    uid = np.arange(users)
    treat = rng.random(users) < 0.5
    propensity = rng.choice([0.02, 0.08, 0.3], size=users, p=[0.5, 0.3, 0.2])
    assigned = np.datetime64(T0) + rng.integers(0, 7 * 86400, users).astype("timedelta64[s]")
    pre_buy = rng.random(users) < propensity
    post_buy = rng.random(users) < propensity * np.where(treat, 1 + lift, 1.0)
    frames = []
    for mask, sign in ((pre_buy, -1), (post_buy, 1)):
        n = int(mask.sum())
        offset = rng.integers(60, 13 * 86400, n).astype("timedelta64[s]")
        frames.append(pl.DataFrame({
            "event_time": assigned[mask] + sign * offset, "user_id": uid[mask], "event_name": ["purchase"] * n,
            "revenue": rng.gamma(4.0, 25.0, n), "order_id": [f"o{sign}_{u}" for u in uid[mask]],
        }))
    views = pl.DataFrame({"event_time": assigned + np.timedelta64(1, "s"), "user_id": uid,
                          "event_name": ["video_view"] * users, "revenue": [None] * users,
                          "order_id": [None] * users}, schema_overrides={"revenue": pl.Float64,
                                                                           "order_id": pl.String})
    events = tmp_path / "planted.parquet"
    pl.concat([views, *frames]).with_columns(pl.col("event_time").cast(pl.Datetime("us"))).write_parquet(events)
    assign = tmp_path / "planted_assign.parquet"
    pl.DataFrame({"experiment_id": "checkout_v2", "user_id": uid,
                  "variant": np.where(treat, "treatment", "control"), "assigned_at": assigned},
                 ).with_columns(pl.col("assigned_at").cast(pl.Datetime("us"))).write_parquet(assign)
    return events, assign


def test_planted_effect_is_recovered_with_and_without_cuped(tmp_path):
    events, assign = _planted(tmp_path)
    source = EventSource.open(events)
    metrics = ["conversion:purchase", "revenue_per_user"]
    plain = analyze(source, assign, metrics, experiment="checkout_v2")
    cuped = analyze(source, assign, metrics, experiment="checkout_v2", cuped_days=14)
    for result in (plain, cuped):
        for m in result.metrics:
            c = m.comparisons[0]
            assert c.ci_low < 0.2 < c.ci_high, (m.metric, c)
    for m_plain, m_cuped in zip(plain.metrics, cuped.metrics, strict=True):
        a, b = m_plain.comparisons[0], m_cuped.comparisons[0]
        assert b.variance_reduction > 0.01 and b.theta > 0
        assert (b.ci_high - b.ci_low) < (a.ci_high - a.ci_low)
        # the adjustment moves the estimate by less than its own standard error
        assert abs(b.rel_lift - a.rel_lift) < (a.ci_high - a.ci_low) / 3.92
    assert plain.srm.p_value > 0.001 and plain.excluded_multi_variant_users == 0


def test_planted_effect_cuped_equals_regression_on_user_values(tmp_path):
    """CUPED's adjusted difference equals y - θ(c - c̄) computed by hand from per-user values in polars."""
    events, assign = _planted(tmp_path, users=4000, seed=3)
    result = analyze(EventSource.open(events), assign, ["revenue_per_user"], cuped_days=14)
    ev = pl.read_parquet(events).filter(pl.col("event_name") == "purchase")
    a = pl.read_parquet(assign)
    joined = a.join(ev, on="user_id", how="left").with_columns(
        post=pl.when(pl.col("event_time") >= pl.col("assigned_at")).then(pl.col("revenue")).otherwise(0.0),
        pre=pl.when(pl.col("event_time") < pl.col("assigned_at")).then(pl.col("revenue")).otherwise(0.0),
    ).group_by("user_id", "variant").agg(pl.col("post").sum(), pl.col("pre").sum())
    y, c = joined["post"].to_numpy(), joined["pre"].to_numpy()
    theta = np.cov(y, c)[0, 1] / np.var(c, ddof=1)
    adj = joined.with_columns(adj=pl.col("post") - theta * pl.col("pre")).group_by("variant").agg(pl.col("adj").mean())
    means = dict(adj.iter_rows())
    comparison = result.metrics[0].comparisons[0]
    assert comparison.theta == pytest.approx(theta, rel=1e-9)
    assert comparison.abs_diff == pytest.approx(means["treatment"] - means["control"], rel=1e-9)
    control_mean = joined.filter(pl.col("variant") == "control")["post"].mean()
    assert math.isclose(result.metrics[0].variants[0].mean, control_mean, rel_tol=1e-12)


def test_unknown_metric_event_lists_events(hand):
    with pytest.raises(OptionError, match="add_to_cart.*events present"):
        analyze(EventSource.open(hand[0]), hand[1], ["conversion:add_to_cart"], experiment="exp")


def test_naive_assigned_at_follows_the_source_timezone(write_events, tmp_path):
    # naive times in Asia/Shanghai: the purchase at 08:30 local is after an 08:00 assignment only
    events = write_events([("a", "purchase", datetime(2026, 11, 2, 8, 30)),
                           ("b", "purchase", datetime(2026, 11, 2, 8, 30))])
    assign = write_assignments(tmp_path / "a.parquet", [("exp", "a", "control", datetime(2026, 11, 2, 8, 0)),
                                                         ("exp", "b", "treatment", datetime(2026, 11, 2, 9, 0))])
    source = EventSource.open(events, config=Config(source_timezone="Asia/Shanghai"))
    sums = analyze(source, assign, ["conversion:purchase"]).metrics[0].variants
    assert [(v.variant, v.sum) for v in sums] == [("control", 1.0), ("treatment", 0.0)]


def test_assigned_at_timezone_aware_is_converted(write_events, tmp_path):
    events = write_events([("a", "purchase", at(30)), ("b", "purchase", at(30))])
    assign = tmp_path / "tz.parquet"
    # 08:00+08:00 = 00:00 UTC (before the purchase); 09:00+08:00 = 01:00 UTC (after it)
    pl.DataFrame({"experiment_id": ["exp", "exp"], "user_id": ["a", "b"], "variant": ["control", "treatment"],
                  "assigned_at": [datetime(2026, 11, 2, 8, 0), datetime(2026, 11, 2, 9, 0)]}).with_columns(
        pl.col("assigned_at").dt.replace_time_zone("Asia/Shanghai")).write_parquet(assign)
    sums, _ = sums_for(events, assign, ["conversion:purchase"])
    assert sums[None]["control"][0].sum == 1 and sums[None]["treatment"][0].sum == 0
