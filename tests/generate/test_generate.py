"""`shortvid generate`: layout, determinism, realism and the planted truth, all recomputed from the
written files with DuckDB/statsmodels independently of the generator's own bookkeeping."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import statsmodels.api as sm

from shortvid_analytics.generate import generate
from tests.locations import REPO
from tests.source.test_validate import one_line_error

START = date(2026, 10, 5)
EXP_START = datetime(2026, 10, 19, tzinfo=UTC)  # start + 28 // 2 days


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """12,000 users x 28 days (~0.85M events): enough purchases to pin the planted coefficients."""
    out = tmp_path_factory.mktemp("gen") / "data"
    generate(out, users=12_000, days=28, seed=11, start=START)
    return out


@pytest.fixture(scope="module")
def con(data: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    c.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet('{data}/events/*/*.parquet', hive_partitioning = true)")
    c.execute(f"CREATE VIEW a AS SELECT * FROM read_parquet('{data}/assignments.parquet')")
    c.execute(f"CREATE VIEW cr AS SELECT * FROM read_parquet('{data}/creator_effects.parquet')")
    return c


@pytest.fixture(scope="module")
def truth(data: Path) -> dict:
    return json.loads((data / "truth.json").read_text())


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    rows = con.execute(sql).fetchall()
    assert len(rows) == 1
    return rows[0]


# ----------------------------------------------------------------------------- files and determinism
def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_other_seed_differs(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(tmp_path / name, users=300, days=5, seed=seed, start=START)
    a, b, c = (_tree(tmp_path / n) for n in "abc")
    assert a == b
    assert set(a) == set(c)  # same layout ...
    assert all(a[k] != c[k] for k in a if k.startswith("events/"))  # ... different content


def test_layout_schema_and_partitions(data, con):
    days = sorted(p.name for p in (data / "events").iterdir())
    assert days == [f"dt={START + timedelta(days=d)}" for d in range(28)]
    assert all([f.name for f in (data / "events" / d).iterdir()] == ["part-0000.parquet"] for d in days)
    assert sorted(p.name for p in data.iterdir()) == [
        "assignments.parquet", "creator_effects.parquet", "events", "truth.json"]
    schema = pq.read_schema(data / "events" / days[0] / "part-0000.parquet")
    expected = {"event_time": pa.timestamp("us", tz="UTC"), "user_id": pa.int64(), "revenue": pa.float64(),
                "watch_time_s": pa.float64()}
    strings = ["event_name", "session_id", "video_id", "creator_id", "product_id", "order_id", "platform",
               "traffic_source", "device", "region"]
    assert schema.names == ["event_time", "user_id", "event_name", "session_id", "video_id", "creator_id",
                            "product_id", "order_id", "revenue", "watch_time_s", "platform", "traffic_source",
                            "device", "region"]
    for name in schema.names:
        assert schema.field(name).type == expected.get(name, pa.string() if name in strings else None), name
    assignments = pq.read_schema(data / "assignments.parquet")
    assert [(f.name, f.type) for f in assignments] == [
        ("experiment_id", pa.string()), ("user_id", pa.int64()), ("variant", pa.string()),
        ("assigned_at", pa.timestamp("us", tz="UTC"))]
    # every row sits in the partition of its UTC date, inside the period
    assert one(con, "SELECT count(*) FILTER (WHERE CAST(timezone('UTC', event_time) AS DATE) <> dt), "
                    "min(dt), max(dt) FROM e") == (0, START, START + timedelta(days=27))
    # id formats
    assert one(con, r"""SELECT count(*) FILTER (WHERE NOT regexp_full_match(video_id, 'v\d{6,}')),
        count(*) FILTER (WHERE NOT regexp_full_match(creator_id, 'c\d{5,}')),
        count(*) FILTER (WHERE NOT regexp_full_match(product_id, 'p\d{6,}')),
        count(*) FILTER (WHERE NOT regexp_full_match(order_id, 'o\d{10}')),
        count(*) FILTER (WHERE NOT regexp_full_match(session_id, 's\d{10}')) FROM e""") == (0, 0, 0, 0, 0)


def test_validate_accepts_the_output(data, cli, truth):
    result = cli("validate", data / "events", "--format", "json", "--as-of", "2030-01-01")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["rows"] == truth["realised"]["events"]
    assert body["warnings"] == []
    assert {e["event_name"]: e["events"] for e in body["events"]} == {
        k: v for k, v in truth["realised"]["events_by_name"].items() if v}


def test_cli_writes_and_prints_summary(tmp_path, cli):
    result = cli("generate", "--users", "200", "--days", "3", "--seed", "1", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    written = sum(pq.read_metadata(p).num_rows for p in (tmp_path / "o" / "events").rglob("*.parquet"))
    assert f"wrote {written:,} events in 3 files" in result.stdout
    assert "truth.json" in result.stdout


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("args, message", [
    (["--users", "0"], "--users 0: expected an integer from 1"),
    (["--days", "0"], "--days 0: expected an integer from 1"),
    (["--users", "-5"], "--users -5"),
    (["--seed", "-1"], "--seed -1"),
])
def test_bad_numbers_one_line_error(tmp_path, cli, args, message):
    result = cli("generate", "--out", tmp_path / "o", *args)
    assert result.exit_code == 2
    assert message in one_line_error(result)
    assert not (tmp_path / "o").exists()


def test_non_empty_out_dir_refused_then_overwrite(tmp_path, cli):
    out = tmp_path / "o"
    assert cli("generate", "--users", "100", "--days", "4", "--out", out).exit_code == 0
    before = _tree(out)
    result = cli("generate", "--users", "100", "--days", "2", "--out", out)
    assert result.exit_code == 2
    assert "events is not empty; pass --overwrite" in one_line_error(result)
    assert _tree(out) == before  # untouched
    # --overwrite replaces everything: no stale day partitions, no temporary folders left
    assert cli("generate", "--users", "100", "--days", "2", "--out", out, "--overwrite").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "assignments.parquet", "creator_effects.parquet", "events", "truth.json"]
    assert len(list((out / "events").iterdir())) == 2


def test_out_is_a_file(tmp_path, cli):
    target = tmp_path / "file"
    target.write_text("x")
    result = cli("generate", "--out", target)
    assert result.exit_code == 2
    assert "exists and is not a folder" in one_line_error(result)
    assert target.read_text() == "x"


def test_stray_file_in_events_counts_as_non_empty(tmp_path, cli):
    (tmp_path / "o" / "events").mkdir(parents=True)
    (tmp_path / "o" / "events" / "notes.txt").write_text("keep me")
    result = cli("generate", "--users", "50", "--days", "1", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert (tmp_path / "o" / "events" / "notes.txt").read_text() == "keep me"


# ----------------------------------------------------------------------------- realism
def test_rates_within_stated_ranges(con, truth):
    rates = con.execute("""
        SELECT platform,
               count(*) FILTER (WHERE event_name = 'video_complete') / count(*) FILTER (WHERE event_name = 'video_view'),
               count(*) FILTER (WHERE event_name = 'like') / count(*) FILTER (WHERE event_name = 'video_view'),
               count(*) FILTER (WHERE event_name = 'comment') / count(*) FILTER (WHERE event_name = 'video_view'),
               count(*) FILTER (WHERE event_name = 'share') / count(*) FILTER (WHERE event_name = 'video_view'),
               count(*) FILTER (WHERE event_name = 'product_click') / count(*) FILTER (WHERE event_name = 'video_view'),
               count(*) FILTER (WHERE event_name = 'purchase') / count(*) FILTER (WHERE event_name = 'video_view'),
               count(*) FILTER (WHERE event_name = 'refund') / count(*) FILTER (WHERE event_name = 'purchase'),
               avg(CASE WHEN traffic_source = 'recommend' THEN 1 ELSE 0 END) FILTER (WHERE event_name = 'video_view'),
               avg(CASE WHEN traffic_source = 'follow' THEN 1 ELSE 0 END) FILTER (WHERE event_name = 'video_view'),
               count(DISTINCT user_id)
        FROM e GROUP BY platform ORDER BY platform""").fetchall()
    (_, *douyin), (_, *kuaishou) = rates
    for completion, like, comment, share, ctr, purchase, refund, _rec, _fol, _users in (douyin, kuaishou):
        assert 0.25 <= completion <= 0.40
        assert 0.03 <= like <= 0.05
        assert comment < 0.01 and share < 0.01
        assert 0.02 <= ctr <= 0.04
        assert 0.002 <= purchase <= 0.005
        assert 0.05 <= refund <= 0.10
    assert douyin[0] > kuaishou[0]  # douyin: higher completion
    assert douyin[7] > kuaishou[7] and kuaishou[8] > douyin[8]  # douyin recommend, kuaishou follow traffic
    assert 0.55 <= douyin[9] / (douyin[9] + kuaishou[9]) <= 0.65  # ~60% of users on douyin
    view_share = one(con, "SELECT avg(CASE WHEN event_name = 'video_view' THEN 1 ELSE 0 END) FROM e")[0]
    assert 0.6 <= view_share <= 0.75
    # the generator's own counters agree with the files, to the event
    by_platform = con.execute("SELECT platform, event_name, count(*) FROM e GROUP BY ALL").fetchall()
    for platform, name, n in by_platform:
        assert truth["platforms"][platform]["realised"][name] == n
    gmv = dict(con.execute("SELECT platform, sum(revenue) FROM e WHERE event_name = 'purchase' GROUP BY 1").fetchall())
    for platform, value in gmv.items():
        assert truth["platforms"][platform]["realised"]["gmv"] == pytest.approx(value, rel=1e-9)


def test_kol_effect_and_retention(con):
    # heavy-tailed creators: the top 1% of creators by views get a large share of the views
    top_share = one(con, """
        WITH c AS (SELECT creator_id, count(*) AS n FROM e WHERE event_name = 'video_view' GROUP BY 1),
             r AS (SELECT n, row_number() OVER (ORDER BY n DESC) AS k, count(*) OVER () AS m FROM c)
        SELECT sum(n) FILTER (WHERE k <= greatest(1, m // 100)) / sum(n) FROM r""")[0]
    assert top_share > 0.10
    # users come back on later days, decaying: day-1 > day-7 > 0 among users first seen in week 1
    d1, d7 = one(con, """
        WITH days AS (SELECT DISTINCT user_id, CAST(dt AS DATE) AS d FROM e),
             first AS (SELECT user_id, min(d) AS d0 FROM days GROUP BY 1 HAVING min(d) < DATE '2026-10-12')
        SELECT avg(CASE WHEN EXISTS (SELECT 1 FROM days x WHERE x.user_id = f.user_id AND x.d = f.d0 + 1) THEN 1 ELSE 0 END),
               avg(CASE WHEN EXISTS (SELECT 1 FROM days x WHERE x.user_id = f.user_id AND x.d = f.d0 + 7) THEN 1 ELSE 0 END)
        FROM first f""")
    assert 0.25 <= d1 <= 0.55 and 0.1 <= d7 < d1


def test_users_sessions_and_views_are_consistent(con):
    # one platform (and device, region) per user; creators belong to one platform
    assert one(con, "SELECT count(*) FROM (SELECT user_id FROM e GROUP BY 1 "
                    "HAVING count(DISTINCT platform) > 1 OR count(DISTINCT device) > 1 "
                    "OR count(DISTINCT region) > 1)") == (0,)
    assert one(con, "SELECT count(*) FROM (SELECT creator_id FROM e GROUP BY 1 "
                    "HAVING count(DISTINCT platform) > 1)") == (0,)
    # a user views a given video at most once
    assert one(con, "SELECT count(*) FROM (SELECT user_id, video_id FROM e WHERE event_name = 'video_view' "
                    "GROUP BY ALL HAVING count(*) > 1)") == (0,)
    # sessions: one user, one UTC day, several views on average, never overlapping
    assert one(con, "SELECT count(*) FROM (SELECT session_id FROM e WHERE session_id IS NOT NULL GROUP BY 1 "
                    "HAVING count(DISTINCT user_id) > 1 OR count(DISTINCT dt) > 1)") == (0,)
    views_per_session = one(con, "SELECT count(*) / count(DISTINCT session_id) FROM e "
                                 "WHERE event_name = 'video_view'")[0]
    assert 3 <= views_per_session <= 8
    assert one(con, """
        WITH s AS (SELECT user_id, min(event_time) AS s0, max(event_time) AS s1 FROM e
                   WHERE session_id IS NOT NULL GROUP BY user_id, session_id)
        SELECT count(*) FROM (SELECT s0, lag(s1) OVER (PARTITION BY user_id ORDER BY s0) AS prev FROM s)
        WHERE prev >= s0""") == (0,)
    # follows come before any view of the user; follow traffic comes from followed creators
    assert one(con, """SELECT count(*) FROM (
                         SELECT max(event_time) FILTER (WHERE event_name = 'follow') AS last_follow,
                                min(event_time) FILTER (WHERE event_name = 'video_view') AS first_view
                         FROM e GROUP BY user_id) WHERE last_follow >= first_view""") == (0,)
    assert one(con, """SELECT count(*) FROM e v WHERE v.event_name = 'video_view' AND v.traffic_source = 'follow'
                       AND NOT EXISTS (SELECT 1 FROM e f WHERE f.event_name = 'follow'
                                       AND f.user_id = v.user_id AND f.creator_id = v.creator_id)""") == (0,)
    # live views are entered through live_enter one second earlier
    assert one(con, """SELECT count(*) FROM e v WHERE v.event_name = 'video_view' AND v.traffic_source = 'live'
                       AND NOT EXISTS (SELECT 1 FROM e l WHERE l.event_name = 'live_enter' AND l.user_id = v.user_id
                         AND l.creator_id = v.creator_id AND l.event_time = v.event_time - INTERVAL 1 SECOND)""") == (0,)
    # watch time only on views, never longer than ~3 minutes
    assert one(con, "SELECT count(*) FILTER (WHERE (watch_time_s IS NULL) = (event_name = 'video_view')), "
                    "max(watch_time_s) <= 180 FROM e") == (0, True)


def test_purchase_funnel_in_order_within_the_session(con):
    rows = con.execute("""
        SELECT p.order_id,
               (SELECT count(*) FROM e x WHERE x.user_id = p.user_id AND x.video_id = p.video_id
                  AND x.session_id = p.session_id AND x.event_name = 'video_view' AND x.event_time < c.event_time),
               c.event_time < k.event_time AND k.event_time < h.event_time AND h.event_time < p.event_time,
               p.event_time - c.event_time <= INTERVAL 5 MINUTE,
               p.revenue > 0 AND p.product_id = c.product_id AND p.creator_id = c.creator_id
        FROM e p
        JOIN e c ON c.event_name = 'product_click' AND c.user_id = p.user_id AND c.video_id = p.video_id AND c.session_id = p.session_id
        JOIN e k ON k.event_name = 'add_to_cart' AND k.user_id = p.user_id AND k.video_id = p.video_id AND k.session_id = p.session_id
        JOIN e h ON h.event_name = 'checkout' AND h.user_id = p.user_id AND h.video_id = p.video_id AND h.session_id = p.session_id
        WHERE p.event_name = 'purchase'""").fetchall()
    purchases, orders = one(con, "SELECT count(*), count(DISTINCT order_id) FROM e WHERE event_name = 'purchase'")
    assert len(rows) == purchases == orders  # every purchase has exactly one click, cart, checkout; unique orders
    assert all(r[1] == 1 and r[2] and r[3] and r[4] for r in rows)
    # non-buyers drop off along the way: fewer carts than clicks, fewer checkouts than carts
    clicks, carts, checkouts = one(con, "SELECT count(*) FILTER (WHERE event_name = 'product_click'), "
                                        "count(*) FILTER (WHERE event_name = 'add_to_cart'), "
                                        "count(*) FILTER (WHERE event_name = 'checkout') FROM e")
    assert clicks > 2 * carts > 0 and carts > checkouts > purchases


def test_every_refund_matches_an_earlier_purchase(con):
    refunds, matched = one(con, """
        SELECT count(*), count(p.order_id) FROM e r
        LEFT JOIN e p ON p.event_name = 'purchase' AND p.order_id = r.order_id AND p.user_id = r.user_id
              AND p.event_time + INTERVAL 1 DAY <= r.event_time AND p.revenue = r.revenue
        WHERE r.event_name = 'refund'""")
    assert refunds > 0 and matched == refunds
    assert one(con, "SELECT count(*) FROM (SELECT order_id FROM e WHERE event_name = 'refund' "
                    "GROUP BY 1 HAVING count(*) > 1)") == (0,)


# ----------------------------------------------------------------------------- experiment
def test_assignment_at_first_event_after_start(con, truth):
    exp = truth["experiment"]
    assert exp["id"] == "checkout_v2" and exp["start"] == "2026-10-19"
    assert exp["variants"] == ["control", "treatment"] and exp["split"] == {"control": 0.5, "treatment": 0.5}
    n, wrong, missing = one(con, """
        WITH first AS (SELECT user_id, min(event_time) AS t FROM e
                       WHERE event_time >= TIMESTAMPTZ '2026-10-19 00:00:00+00' GROUP BY 1)
        SELECT count(*), count(*) FILTER (WHERE a.assigned_at IS DISTINCT FROM f.t OR a.experiment_id <> 'checkout_v2'),
               count(*) FILTER (WHERE a.user_id IS NULL)
        FROM first f FULL JOIN a USING (user_id)""")
    assert wrong == 0 and missing == 0 and n == exp["assigned_users"]
    treatment = one(con, "SELECT count(*) FILTER (WHERE variant = 'treatment') FROM a")[0]
    assert abs(treatment - n / 2) < 4 * math.sqrt(n / 4)
    # users have history before the start: CUPED on the pre-period is meaningful
    with_history = one(con, "SELECT count(DISTINCT a.user_id) FROM a JOIN e USING (user_id) "
                            "WHERE e.event_time < a.assigned_at")[0]
    assert with_history > 0.4 * n


def test_conversion_and_revenue_lift_within_sampling_error(con, truth):
    exp = truth["experiment"]
    per_user = con.sql("""
        SELECT a.variant, a.user_id,
               count(p.order_id) > 0 AS converted, coalesce(sum(p.revenue), 0) AS revenue
        FROM a LEFT JOIN e p ON p.user_id = a.user_id AND p.event_name = 'purchase' AND p.event_time >= a.assigned_at
        GROUP BY ALL""").pl()
    stats = {}
    for variant in ("control", "treatment"):
        g = per_user.filter(pl.col("variant") == variant)
        conv = g["converted"].cast(pl.Float64).to_numpy()
        rev = g["revenue"].to_numpy()
        stats[variant] = (len(g), conv.mean(), conv.var(ddof=1), rev.mean(), rev.var(ddof=1))
        # the generator's realised counters are exactly what the files say
        assert exp["realised"][variant]["users"] == len(g)
        assert exp["realised"][variant]["converted"] == int(conv.sum())
        assert exp["realised"][variant]["revenue"] == pytest.approx(rev.sum(), abs=0.01)
    for mean_at, var_at, key in ((1, 2, "conversion_lift"), (3, 4, "revenue_per_user_lift")):
        (nc, *c), (nt, *t) = stats["control"], stats["treatment"]
        ratio = t[mean_at - 1] / c[mean_at - 1]
        # delta method for the ratio of two independent means
        se = ratio * math.sqrt(t[var_at - 1] / (nt * t[mean_at - 1] ** 2) + c[var_at - 1] / (nc * c[mean_at - 1] ** 2))
        assert abs((ratio - 1) - exp[key]) < 3 * se, (key, ratio - 1, exp[key], se)
    # the expected control means are those of the whole assigned population under control
    n = stats["control"][0] + stats["treatment"][0]
    conv_c = stats["control"][1]
    assert abs(conv_c - exp["control_conversion"]) < 3 * math.sqrt(conv_c * (1 - conv_c) / stats["control"][0])
    assert exp["expected"]["conversion"]["treatment"] == pytest.approx(
        exp["control_conversion"] * (1 + exp["conversion_lift"]))
    assert exp["assigned_users"] == n
    assert 0.08 < exp["conversion_lift"] < 0.16 and exp["b_treatment"] == 0.15


# ----------------------------------------------------------------------------- the planted purchase model
def test_truth_json_describes_the_model(truth):
    model = truth["purchase_model"]
    assert model["unit"] == "user_video" and model["window"] == "24h" and model["link"] == "logit"
    assert list(model["coefficients"]) == [
        "intercept", "liked", "commented", "shared", "watch_min", "completed", "follows_creator",
        "platform_kuaishou", "traffic_follow", "traffic_search", "traffic_live", "treated"]
    assert set(model["features"]) == set(model["coefficients"])
    assert model["reference_categories"] == {"platform": "douyin", "traffic_source": "recommend"}
    assert model["creator_effect_sd"] == model["creator_effect"]["sd"] == 0.3
    assert truth["experiment"]["b_treatment"] == model["coefficients"]["treated"]
    assert truth["generator"]["args"] == {"users": 12_000, "days": 28, "seed": 11, "start": "2026-10-05"}
    assert set(truth["platforms"]) == {"douyin", "kuaishou"}


def test_creator_effects_file(con, truth):
    n, sd, platforms = one(con, "SELECT count(*), stddev_samp(creator_effect), count(DISTINCT platform) FROM cr")
    assert n == sum(truth["world"]["creators"].values()) and platforms == 2
    assert abs(sd - 0.3) < 4 * 0.3 / math.sqrt(2 * n)
    assert one(con, "SELECT count(*) FROM (SELECT DISTINCT creator_id, platform FROM e WHERE creator_id IS NOT NULL) x "
                    "ANTI JOIN cr USING (creator_id, platform)") == (0,)


USER_VIDEO = """
WITH v AS (SELECT user_id, video_id, creator_id, platform, traffic_source, watch_time_s, event_time
           FROM e WHERE event_name = 'video_view'),
     flags AS (SELECT user_id, video_id,
                      max(CASE WHEN event_name = 'like' THEN 1 ELSE 0 END) AS liked,
                      max(CASE WHEN event_name = 'comment' THEN 1 ELSE 0 END) AS commented,
                      max(CASE WHEN event_name = 'share' THEN 1 ELSE 0 END) AS shared,
                      max(CASE WHEN event_name = 'video_complete' THEN 1 ELSE 0 END) AS completed
               FROM e WHERE event_name IN ('like', 'comment', 'share', 'video_complete') GROUP BY ALL),
     bought AS (SELECT DISTINCT v.user_id, v.video_id FROM v
                JOIN e p ON p.event_name = 'purchase' AND p.user_id = v.user_id AND p.video_id = v.video_id
                 AND p.event_time >= v.event_time AND p.event_time <= v.event_time + INTERVAL 24 HOUR),
     fol AS (SELECT DISTINCT user_id, creator_id, min(event_time) AS t FROM e WHERE event_name = 'follow' GROUP BY ALL)
SELECT CASE WHEN b.user_id IS NULL THEN 0 ELSE 1 END AS purchased,
       1.0 AS intercept,
       coalesce(f.liked, 0) AS liked, coalesce(f.commented, 0) AS commented, coalesce(f.shared, 0) AS shared,
       v.watch_time_s / 60 AS watch_min, coalesce(f.completed, 0) AS completed,
       CASE WHEN fol.t < v.event_time THEN 1 ELSE 0 END AS follows_creator,
       CASE WHEN v.platform = 'kuaishou' THEN 1 ELSE 0 END AS platform_kuaishou,
       CASE WHEN v.traffic_source = 'follow' THEN 1 ELSE 0 END AS traffic_follow,
       CASE WHEN v.traffic_source = 'search' THEN 1 ELSE 0 END AS traffic_search,
       CASE WHEN v.traffic_source = 'live' THEN 1 ELSE 0 END AS traffic_live,
       CASE WHEN a.variant = 'treatment' AND v.event_time >= a.assigned_at THEN 1 ELSE 0 END AS treated,
       cr.creator_effect
FROM v LEFT JOIN flags f USING (user_id, video_id) LEFT JOIN bought b USING (user_id, video_id)
LEFT JOIN fol USING (user_id, creator_id) LEFT JOIN a USING (user_id) JOIN cr USING (creator_id)
"""


def test_recover_planted_purchase_coefficients(con, truth):
    model = truth["purchase_model"]
    names = list(model["coefficients"])
    frame = con.sql(USER_VIDEO).pl()
    assert frame.height == model["rows"] and int(frame["purchased"].sum()) == model["purchases"]
    exog = frame.select(names).cast(pl.Float64).to_numpy()
    fit = sm.Logit(frame["purchased"].to_numpy(), exog, offset=frame["creator_effect"].to_numpy()).fit(disp=0)
    true = np.array([model["coefficients"][n] for n in names])
    z = (fit.params - true) / fit.bse
    assert np.all(np.abs(z) < 3), dict(zip(names, np.round(z, 2), strict=True))
    # the data pins the effects down: a wrong generator would not pass by luck
    se = dict(zip(names, fit.bse, strict=True))
    assert se["liked"] < 0.1 and se["completed"] < 0.07 and se["treated"] < 0.07 and se["commented"] < 0.25


# ----------------------------------------------------------------------------- the committed example
def test_committed_example_is_reproducible(tmp_path, cli):
    example = REPO / "examples" / "data"
    truth = json.loads((example / "truth.json").read_text())
    args = truth["generator"]["args"]
    result = cli("generate", "--users", args["users"], "--days", args["days"], "--seed", args["seed"],
                 "--start", args["start"], "--out", tmp_path / "again")
    assert result.exit_code == 0, result.stderr
    again = json.loads((tmp_path / "again" / "truth.json").read_text())
    for doc in (truth, again):
        doc["generator"].pop("package_version")
    assert again == truth
    for rel in [str(p.relative_to(example)) for p in example.rglob("*.parquet")]:
        assert pq.read_table(tmp_path / "again" / rel).equals(pq.read_table(example / rel)), rel
    size = sum(p.stat().st_size for p in example.rglob("*") if p.is_file())
    assert size < 5_000_000
    readme = (REPO / "examples" / "README.md").read_text()
    assert (f"shortvid generate --users {args['users']} --days {args['days']} --seed {args['seed']} "
            f"--out examples/data") in readme


def test_sample_config_loads_and_reads_the_example(cli):
    result = cli("--config", REPO / "examples" / "config.toml", "validate", REPO / "examples" / "data" / "events",
                 "--format", "json", "--as-of", "2030-01-01")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["params"]["source"]["timezone"] == "Asia/Shanghai" and body["warnings"] == []
