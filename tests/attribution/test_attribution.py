"""`shortvid attribution`: hand-worked cases per model, window edges, same-product, unattributed
purchases, order shares, a pure-Python reference under hypothesis, and every bad-input case."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shortvid_analytics.attribution import attribution
from shortvid_analytics.errors import OptionError
from shortvid_analytics.options.attribution import AttributionModel
from shortvid_analytics.source import EventSource
from tests.conftest import T0, at, events_frame
from tests.source.test_validate import one_line_error

# u1: three views, then one order o1 (revenue 100) two hours after the first view.
U1 = [
    ("u1", "video_view", at(0), {"creator_id": "A"}),
    ("u1", "video_view", at(60), {"creator_id": "B"}),
    ("u1", "video_view", at(90), {"creator_id": "A"}),
    ("u1", "purchase", at(120), {"order_id": "o1", "revenue": 100.0, "creator_id": "C"}),
]


def credited(result) -> dict:
    return {g.group: (g.attributed_orders, g.attributed_gmv) for g in result.groups}


def approx_credit(expected: dict) -> dict:
    return {k: (pytest.approx(o, rel=1e-12), pytest.approx(v, rel=1e-12)) for k, (o, v) in expected.items()}


@pytest.fixture
def u1_source(write_events):
    return EventSource.open(write_events(U1))


@pytest.mark.parametrize("model, expected", [
    ("last", {"A": (1.0, 100.0)}),
    ("first", {"A": (1.0, 100.0)}),
    ("linear", {"A": (2 / 3, 200 / 3), "B": (1 / 3, 100 / 3)}),
    ("platform", {"C": (1.0, 100.0)}),  # the purchase's own creator_id
])
def test_each_model_by_hand(u1_source, model, expected):
    result = attribution(u1_source, model=model)
    assert credited(result) == approx_credit(expected)
    assert result.attributed.orders == 1.0 and result.unattributed.conversions == 0


def test_time_decay_weights_are_exact(u1_source):
    # Δt = 120, 60 and 30 minutes; half-life 1 hour: weights 2^-2, 2^-1, 2^-0.5, normalised.
    w = {"first A": 2 ** -2, "B": 2 ** -1, "last A": 2 ** -0.5}
    total = sum(w.values())
    result = attribution(u1_source, model="time_decay:1h")
    a, b = (w["first A"] + w["last A"]) / total, w["B"] / total
    assert credited(result) == approx_credit({"A": (a, 100 * a), "B": (b, 100 * b)})
    # default half-life 7 days
    w7 = [2 ** -(m / (7 * 24 * 60)) for m in (120, 60, 30)]
    a7 = (w7[0] + w7[2]) / sum(w7)
    assert credited(attribution(u1_source, model="time_decay"))["A"][0] == pytest.approx(a7, rel=1e-12)


def test_ties_at_the_last_touch_share_the_credit(write_events):
    rows = [("u1", "video_view", at(0), {"creator_id": "A"}), ("u1", "video_view", at(5), {"creator_id": "B"}),
            ("u1", "product_click", at(5), {"creator_id": "C"}),
            ("u1", "purchase", at(9), {"order_id": "o1", "revenue": 10.0})]
    source = EventSource.open(write_events(rows))
    result = attribution(source, touch="video_view|product_click", model="last")
    assert credited(result) == approx_credit({"B": (0.5, 5.0), "C": (0.5, 5.0)})
    first = attribution(source, touch="video_view|product_click", model="first")
    assert credited(first) == {"A": (1.0, 10.0)}


def test_window_edges_are_inclusive(write_events):
    purchase_time = at(0, days=10)
    rows = [
        ("u1", "video_view", purchase_time - timedelta(days=7), {"creator_id": "edge"}),  # exactly 7d: in
        ("u1", "video_view", purchase_time - timedelta(days=7, microseconds=1), {"creator_id": "early"}),  # out
        ("u1", "video_view", purchase_time, {"creator_id": "same_time"}),  # Δt = 0: in
        ("u1", "video_view", purchase_time + timedelta(seconds=1), {"creator_id": "after"}),  # after: out
        ("u1", "purchase", purchase_time, {"order_id": "o1", "revenue": 40.0}),
    ]
    source = EventSource.open(write_events(rows))
    assert credited(attribution(source, model="linear")) == {"edge": (0.5, 20.0), "same_time": (0.5, 20.0)}
    assert credited(attribution(source, model="first")) == {"edge": (1.0, 40.0)}
    assert credited(attribution(source, model="last", window="1h")) == {"same_time": (1.0, 40.0)}


def test_same_product_and_unattributed_purchases(write_events):
    rows = [
        ("u1", "product_click", at(0), {"creator_id": "A", "product_id": "p1"}),
        ("u1", "product_click", at(1), {"creator_id": "B", "product_id": "p2"}),
        ("u1", "product_click", at(2), {"creator_id": "D", "product_id": None}),
        ("u1", "purchase", at(3), {"order_id": "o1", "revenue": 30.0, "product_id": "p1"}),
        ("u2", "product_click", at(0), {"creator_id": "A", "product_id": "p9"}),
        ("u2", "purchase", at(3), {"order_id": "o2", "revenue": 7.0, "product_id": "p1"}),  # other product
        ("u3", "purchase", at(3), {"order_id": "o3", "revenue": 5.0, "product_id": "p1"}),  # no touch at all
    ]
    source = EventSource.open(write_events(rows))
    same = attribution(source, touch="product_click", model="linear", same_product=True)
    assert credited(same) == {"A": (1.0, 30.0)}
    assert (same.unattributed.conversions, same.unattributed.orders, same.unattributed.gmv) == (2, 2.0, 12.0)
    assert (same.totals.orders, same.totals.gmv) == (3.0, 42.0)
    assert any("same product" in n for n in same.notes)
    anyproduct = attribution(source, touch="product_click", model="linear")
    assert credited(anyproduct) == approx_credit({"A": (1 / 3 + 1.0, 10.0 + 7.0), "B": (1 / 3, 10.0),
                                                  "D": (1 / 3, 10.0)})
    assert anyproduct.unattributed.orders == 1.0 and anyproduct.unattributed.gmv == 5.0


def test_orders_are_distinct_order_ids_and_touches_without_a_group_are_kept(write_events):
    rows = [
        ("u1", "video_view", at(0), {"creator_id": "A"}),
        ("u1", "video_view", at(1), {"creator_id": None}),
        # one order in two purchase events: each carries half the order and its own revenue
        ("u1", "purchase", at(2), {"order_id": "o1", "revenue": 30.0}),
        ("u1", "purchase", at(2), {"order_id": "o1", "revenue": 70.0}),
        # purchases without order_id are orders by themselves; NULL revenue counts as 0
        ("u1", "purchase", at(3), {"order_id": None, "revenue": 5.0}),
        ("u1", "purchase", at(4), {"order_id": None, "revenue": None}),
    ]
    result = attribution(EventSource.open(write_events(rows)), model="linear")
    assert result.totals.conversions == 4 and result.totals.orders == 3.0 and result.totals.gmv == 105.0
    assert credited(result) == approx_credit({"A": (1.5, 52.5), None: (1.5, 52.5)})
    assert sum(g.attributed_orders for g in result.groups) == pytest.approx(result.attributed.orders)


def test_gpm_share_top_other_and_lookback_before_the_range(write_events):
    rows = [
        ("u1", "video_view", at(0, days=-1), {"creator_id": "A"}),  # before --from: still a touch
        ("u1", "purchase", at(10), {"order_id": "o1", "revenue": 60.0}),
        ("u2", "video_view", at(0), {"creator_id": "B"}), ("u2", "video_view", at(1), {"creator_id": "B"}),
        ("u2", "purchase", at(10), {"order_id": "o2", "revenue": 30.0}),
        ("u3", "video_view", at(0), {"creator_id": "C"}),
        ("u3", "purchase", at(10), {"order_id": "o3", "revenue": 10.0}),
        ("u3", "purchase", at(0, days=1), {"order_id": "o4", "revenue": 99.0}),  # after --to: not counted
    ]
    source = EventSource.open(write_events(rows), date_from=T0.date(), date_to=T0.date())
    result = attribution(source, top=2)
    by_group = {g.group: g for g in result.groups}
    assert [g.group for g in result.groups] == ["A", "B"]
    assert by_group["A"].touches == 0 and by_group["A"].gpm is None  # A's only view is outside the range
    assert by_group["B"].touches == 2 and by_group["B"].gpm == pytest.approx(30.0 / 2 * 1000)
    assert by_group["A"].share_of_total == pytest.approx(0.6) and by_group["B"].orders_share_of_total == 1 / 3
    other = result.other
    assert (other.groups, other.attributed_orders, other.attributed_gmv, other.touches) == (1, 1.0, 10.0, 1)
    assert result.totals.orders == 3.0 and result.totals.gmv == 100.0


def test_platform_model_leaves_purchases_without_their_own_value_unattributed(write_events):
    rows = [("u1", "video_view", at(0), {"creator_id": "A"}),
            ("u1", "purchase", at(1), {"order_id": "o1", "revenue": 10.0, "creator_id": "A"}),
            ("u2", "purchase", at(1), {"order_id": "o2", "revenue": 20.0, "creator_id": "B"}),
            ("u3", "purchase", at(1), {"order_id": "o3", "revenue": 40.0, "creator_id": None})]
    result = attribution(EventSource.open(write_events(rows)), model="platform")
    assert credited(result) == {"A": (1.0, 10.0), "B": (1.0, 20.0)}
    assert {g.group: g.touches for g in result.groups} == {"A": 1, "B": 0}
    assert (result.unattributed.orders, result.unattributed.gmv) == (1.0, 40.0)


def test_by_traffic_source(write_events):
    rows = [("u1", "video_view", at(0), {"traffic_source": "search"}),
            ("u1", "video_view", at(1), {"traffic_source": "recommend"}),
            ("u1", "purchase", at(2), {"order_id": "o1", "revenue": 8.0})]
    result = attribution(EventSource.open(write_events(rows)), by="traffic_source", model="first")
    assert credited(result) == {"search": (1.0, 8.0)}


# ------------------------------------------------------------------------------------------------ reference
def reference(rows, touch, window, model, half_life, same_product):
    """Orders and GMV per creator and unattributed, written out naively from the definitions."""
    conversions = [r for r in rows if r[1] == "purchase"]
    order_size = defaultdict(int)
    for r in conversions:
        order_size[r[3]["order_id"]] += 1
    groups = defaultdict(lambda: [0.0, 0.0])
    unattributed = [0.0, 0.0]
    for c in conversions:
        share, revenue = 1 / order_size[c[3]["order_id"]], c[3]["revenue"]
        touches = [t for t in rows if t[0] == c[0] and t[1] in touch and c[2] - window <= t[2] <= c[2]
                   and (not same_product or t[3]["product_id"] == c[3]["product_id"])]
        if model == "platform":
            touches, weights = [], {c[3]["creator_id"]: 1.0}
        elif not touches:
            weights = {}
        else:
            last, first = max(t[2] for t in touches), min(t[2] for t in touches)
            weights = defaultdict(float)
            for t in touches:
                weights[t[3]["creator_id"]] += {
                    "last": float(t[2] == last), "first": float(t[2] == first), "linear": 1.0,
                    "time_decay": 2 ** -((c[2] - t[2]) / half_life),
                }[model]
        total = sum(weights.values())
        if not total:
            unattributed[0] += share
            unattributed[1] += revenue
            continue
        for group, weight in weights.items():
            if not weight:  # a group whose touches all weigh 0 receives nothing and is not listed
                continue
            groups[group][0] += share * weight / total
            groups[group][1] += revenue * weight / total
    return dict(groups), unattributed


event_strategy = st.tuples(
    st.sampled_from(["u1", "u2"]),
    st.sampled_from(["video_view", "product_click", "purchase"]),
    st.integers(min_value=0, max_value=12),  # whole hours, so touches fall exactly on window edges
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(["p1", "p2"]),
    st.sampled_from(["o1", "o2", "o3", "o4"]),
    st.integers(min_value=1, max_value=50),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.lists(event_strategy, min_size=1, max_size=20),
       model=st.sampled_from(["last", "first", "linear", "time_decay", "platform"]),
       touch=st.sampled_from([("video_view",), ("video_view", "product_click")]),
       window_hours=st.integers(min_value=1, max_value=4), half_life_hours=st.integers(min_value=1, max_value=6),
       same_product=st.booleans())
def test_attribution_matches_the_reference(tmp_path_factory, raw, model, touch, window_hours, half_life_hours,
                                           same_product):
    rows = [(u, n, at(0, hours=h), {"creator_id": c, "product_id": p, "order_id": o, "revenue": float(r)})
            for u, n, h, c, p, o, r in raw]
    rows += [("u9", name, at(0), {"creator_id": "Z", "product_id": "p9", "order_id": "o9", "revenue": 1.0})
             for name in ("video_view", "product_click", "purchase")]
    same_product = same_product and model != "platform"
    path = tmp_path_factory.mktemp("attribution") / "events.parquet"
    events_frame(rows).write_parquet(path)
    window, half_life = timedelta(hours=window_hours), timedelta(hours=half_life_hours)
    result = attribution(EventSource.open(path), touch="|".join(touch), window=window,
                         model=AttributionModel("time_decay", half_life) if model == "time_decay" else model,
                         same_product=same_product, top=None)
    expected, unattributed = reference(rows, touch, window, model, half_life, same_product)
    assert set(credited(result)) == set(expected)
    for group, (orders, gmv) in credited(result).items():
        assert orders == pytest.approx(expected[group][0], rel=1e-9)
        assert gmv == pytest.approx(expected[group][1], rel=1e-9)
    assert result.unattributed.orders == pytest.approx(unattributed[0], abs=1e-9)
    assert result.unattributed.gmv == pytest.approx(unattributed[1], abs=1e-9)
    assert math.isclose(result.attributed.orders + result.unattributed.orders, result.totals.orders)


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_json_contract(write_events, cli):
    path = write_events(U1)
    result = cli("attribution", path, "--touch", "video_view", "--conversion", "purchase",
                 "--window", "7d", "--model", "time_decay:2h", "--by", "creator_id", "-f", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["kind"] == "attribution" and doc["version"]
    assert doc["params"] | {"source": None} == {
        "source": None, "touch": "video_view", "conversion": "purchase", "window": "1w",
        "window_s": 604800.0, "model": "time_decay", "half_life": "2h", "half_life_s": 7200.0,
        "by": "creator_id", "same_product": False, "top": 20, "min_group_size": 1}
    assert set(doc["groups"][0]) == {"rank", "group", "conversions", "attributed_orders", "attributed_gmv",
                                     "touches", "gpm", "share_of_total", "orders_share_of_total"}
    assert doc["other"] is None and doc["suppressed"] is None
    assert doc["totals"] == {"conversions": 1, "orders": 1.0, "gmv": 100.0}
    assert doc["unattributed"] == {"conversions": 0, "orders": 0.0, "gmv": 0.0}
    table = cli("attribution", path, "--model", "linear")
    assert table.exit_code == 0 and "unattributed" in table.stdout and "66.67" in table.stdout
    csv = cli("attribution", path, "--model", "linear", "-f", "csv")
    assert csv.stdout.splitlines()[0].startswith("rank,group,conversions,attributed_orders")


@pytest.mark.parametrize("args, message", [
    (["--touch", "video_vew"], "touch event 'video_vew' does not occur in .*; events present: purchase, video_view"),
    (["--touch", "video_view|product_click"], "touch event 'product_click' does not occur"),
    (["--conversion", "buy"], "conversion event 'buy' does not occur"),
    (["--window", "7days"], "window '7days': expected a number and a unit"),
    (["--window", "-1d"], "window '-1d': expected a number and a unit"),
    (["--model", "time_decay:abc"], "--model 'time_decay:abc': half-life 'abc' is not a positive duration"),
    (["--model", "time_decay:0h"], "half-life '0h' is not a positive duration"),
    (["--model", "shapley"], "--model 'shapley': expected one of last, first, linear"),
    (["--model", "last:2h"], "only time_decay takes a parameter"),
    (["--by", "influencer"], "--by 'influencer': .* has no such column; columns present: event_time, user_id"),
    (["--by", "device"], "--by 'device': .* has no such column"),  # canonical, but absent from this export
    (["--model", "platform", "--same-product"], "--same-product has no meaning with --model platform"),
    (["--same-product"], "--same-product needs 'product_id': .* has no such column"),
])
def test_bad_input_gives_one_line_error(tmp_path, cli, args, message):
    path = tmp_path / "events.parquet"
    events_frame(U1).drop("product_id").write_parquet(path)
    result = cli("attribution", path, *args)
    assert result.exit_code == 2
    line = one_line_error(result)
    assert len(line.splitlines()) == 1 and re.search(message, line), line


def test_model_parsing():
    assert AttributionModel.parse("time_decay:12h") == AttributionModel("time_decay", timedelta(hours=12))
    assert str(AttributionModel.parse(" Time_Decay:3d ")) == "time_decay:3d"
    with pytest.raises(OptionError):
        AttributionModel.parse("time_decay:")  # an empty half-life is the default, written without the colon


def test_no_conversion_in_the_range_is_a_note_not_an_internal_error(write_events, cli):
    result = cli("attribution", write_events(U1), "--conversion", "purchase[creator_id=Z]", "-f", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["totals"] == {"conversions": 0, "orders": 0.0, "gmv": 0.0} and doc["groups"] == []
    assert any("nothing to attribute" in note for note in doc["notes"])
