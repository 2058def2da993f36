"""Small-cell suppression of the paths matrices, the ``ab --by`` levels and the ``regress --by`` levels:
hand-worked tiny cases naming exactly what is suppressed, and the numbers left shown equal to the
unsuppressed run (docs/privacy.md)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import polars as pl
import pytest
import statsmodels.formula.api as smf

from shortvid_analytics.ab import analyze
from shortvid_analytics.errors import InputError
from shortvid_analytics.paths import paths
from shortvid_analytics.regress import Frame, regress
from shortvid_analytics.regress.spec import from_options
from shortvid_analytics.source import EventSource
from tests.ab.test_metrics import write_assignments
from tests.conftest import T0, at

# u1, u2: a → b → c; u3: a → b; u4: a → d (the only user of d)
PATH_ROWS = [("u1", "a", at(0)), ("u1", "b", at(1)), ("u1", "c", at(2)),
             ("u2", "a", at(0)), ("u2", "b", at(1)), ("u2", "c", at(2)),
             ("u3", "a", at(0)), ("u3", "b", at(1)),
             ("u4", "a", at(0)), ("u4", "d", at(1))]


def _transitions(result) -> list[tuple]:
    return [(t.from_state, t.to_state, t.count, round(t.probability, 12), t.suppressed, t.suppressed_groups)
            for t in result.transitions]


def _steps(result) -> list[tuple]:
    return [(c.step, c.event, c.paths, c.share, c.suppressed, c.suppressed_groups) for c in result.step_matrix]


def test_paths_matrices_hand_worked(write_events):
    source = EventSource.open(write_events(PATH_ROWS))
    every = paths(source, start="a", steps=3)
    assert _transitions(every) == [
        ("(path_start)", "a", 4, 1.0, False, 0),
        ("a", "b", 3, 0.75, False, 0), ("a", "d", 1, 0.25, False, 0),
        ("b", "(path_end)", 1, round(1 / 3, 12), False, 0), ("b", "c", 2, round(2 / 3, 12), False, 0),
        ("c", "(path_end)", 2, 1.0, False, 0),
        ("d", "(path_end)", 1, 1.0, False, 0)]
    # K = 2: a → d and b → (path_end) have one user each; d's row (one user) is pooled whole
    two = paths(source, start="a", steps=3, min_group_size=2)
    assert _transitions(two) == [
        ("(path_start)", "a", 4, 1.0, False, 0),
        ("a", "b", 3, 0.75, False, 0), ("a", None, 1, 0.25, True, 1),
        ("b", "c", 2, round(2 / 3, 12), False, 0), ("b", None, 1, round(1 / 3, 12), True, 1),
        ("c", "(path_end)", 2, 1.0, False, 0),
        (None, None, 1, 1.0, True, 1)]
    # step 2: d (u4) pooled; step 3: c (u1, u2) and the filler (u3, u4) both have 2 users
    assert _steps(two) == [(1, "a", 4, 1.0, False, 0),
                           (2, "b", 3, 0.75, False, 0), (2, None, 1, 0.25, True, 1),
                           (3, "c", 2, 0.5, False, 0), (3, "(path_end)", 2, 0.5, False, 0)]
    # K = 3: b → c (2 users) joins b → (path_end); c's row (2 users) is pooled with d's
    three = paths(source, start="a", steps=3, min_group_size=3)
    assert _transitions(three) == [
        ("(path_start)", "a", 4, 1.0, False, 0),
        ("a", "b", 3, 0.75, False, 0), ("a", None, 1, 0.25, True, 1),
        ("b", None, 3, 1.0, True, 2),
        (None, None, 3, 1.0, True, 2)]
    assert _steps(three) == [(1, "a", 4, 1.0, False, 0),
                             (2, "b", 3, 0.75, False, 0), (2, None, 1, 0.25, True, 1),
                             (3, None, 4, 1.0, True, 2)]
    # the top paths and totals do not depend on the matrices' suppression
    assert [(p.label, p.paths) for p in two.top_paths] == [("a → b → c", 2)]
    assert two.suppressed_paths == 2 and vars(two.totals) == vars(every.totals)


def test_paths_backward_filler_is_suppressed_on_its_users(write_events):
    # backward from c: u1, u2 reach back a → b → c (3 steps); no shorter path, so no filler at step -3
    source = EventSource.open(write_events(PATH_ROWS))
    result = paths(source, end="c", steps=4, min_group_size=2)
    assert _steps(result) == [(-1, "c", 2, 1.0, False, 0), (-2, "b", 2, 1.0, False, 0),
                              (-3, "a", 2, 1.0, False, 0), (-4, "(path_start)", 2, 1.0, False, 0)]
    assert _steps(paths(source, end="c", steps=4, min_group_size=3)) == [
        (step, None, 2, 1.0, True, 1) for step in (-1, -2, -3, -4)]


def test_paths_json_and_table_name_no_suppressed_state(write_events, cli):
    path = write_events(PATH_ROWS)
    doc = json.loads(cli("paths", path, "--start", "a", "--steps", "3", "--min-group-size", "2",
                         "--format", "json").stdout)
    assert doc["params"]["min_group_size"] == 2
    assert {"from": None, "to": None, "count": 1, "probability": 1.0, "suppressed": True,
            "suppressed_groups": 1} in doc["transition_matrix"]
    assert {"step": 2, "event": None, "paths": 1, "share": 0.25, "suppressed": True,
            "suppressed_groups": 1} in doc["step_matrix"]["cells"]
    assert '"d"' not in json.dumps(doc)
    table = cli("paths", path, "--start", "a", "--steps", "3", "--min-group-size", "2")
    assert table.exit_code == 0 and "<2 users" in table.stdout
    assert " d " not in table.stdout and "→ d" not in table.stdout


# ---------------------------------------------------------------------------------------------- ab --by
# tier (from the assignments): gold 3 control + 3 treatment users, silver 3 + 2, bronze 1 + 0.
TIERS = {"gold": (3, 3), "silver": (3, 2), "bronze": (1, 0)}


@pytest.fixture
def experiment(write_events, tmp_path):
    rows, assignments, tiers = [], [], []
    for tier, counts in TIERS.items():
        for variant, n in zip(("control", "treatment"), counts):
            for i in range(n):
                user = f"{tier}-{variant}-{i}"
                assignments.append(("exp", user, variant, T0))
                tiers.append(tier)
                rows.append((user, "video_view", at(1)))
                if i % 2 == 0:  # users 0 and 2 of each cell buy
                    rows.append((user, "purchase", at(2), {"revenue": 10.0 + i, "order_id": f"o-{user}"}))
    return write_events(rows), write_assignments(tmp_path / "assign.parquet", assignments, tier=tiers)


def _ab(events, assignments, k):
    return analyze(EventSource.open(events), assignments, ["conversion:purchase", "revenue_per_user"], by="tier",
                   min_group_size=k).to_dict()


def test_ab_by_suppresses_levels_with_a_small_variant_and_keeps_the_rest(experiment):
    every, three = _ab(*experiment, 1), _ab(*experiment, 3)
    # the all-users block and SRM never change
    assert three["metrics"] == every["metrics"] and three["srm"] == every["srm"] and three["users"] == every["users"]
    assert every["users"] == {"control": 7, "treatment": 5}
    shown = {s["segment"]: s for s in every["segments"]}
    assert set(shown) == {"gold", "silver", "bronze"}
    assert all(not s["suppressed"] and s["suppressed_groups"] == 0 for s in every["segments"])
    # K = 3: silver (2 treatment users) and bronze (1 + 0) are pooled; gold (3 + 3) is unchanged
    assert [s["segment"] for s in three["segments"]] == ["gold", None]
    gold, pooled = three["segments"]
    assert gold == shown["gold"] and gold["users"] == {"control": 3, "treatment": 3}
    assert pooled == {"segment": None, "suppressed": True, "suppressed_groups": 2,
                      "users": {"control": 4, "treatment": 2}, "metrics": []}
    # shown + pooled users = all users
    assert {v: gold["users"][v] + pooled["users"][v] for v in ("control", "treatment")} == every["users"]
    # gold by hand: users 0 and 2 of 3 buy in each variant; revenue 10 + 12 over 3 users
    conversion, revenue = gold["metrics"]
    assert [v["mean"] for v in conversion["variants"]] == pytest.approx([2 / 3, 2 / 3])
    assert [v["mean"] for v in revenue["variants"]] == pytest.approx([22 / 3, 22 / 3])
    assert any("2 tier segment(s) with fewer than 3 users in a variant" in n for n in three["notes"])
    assert not any("suppression" in n for n in every["notes"])
    # K = 4: every level has a variant below 4 users: one pooled entry holding everybody
    assert _ab(*experiment, 4)["segments"] == [{"segment": None, "suppressed": True, "suppressed_groups": 3,
                                                 "users": every["users"], "metrics": []}]


def test_ab_by_suppression_through_the_cli(experiment, cli):
    events, assignments = experiment
    args = ["ab", events, "--assignments", assignments, "--metric", "conversion:purchase", "--by", "tier",
            "--min-group-size", "3"]
    doc = json.loads(cli(*args, "--format", "json").stdout)
    assert doc["params"]["min_group_size"] == 3 and "silver" not in json.dumps(doc) and "bronze" not in json.dumps(doc)
    table = cli(*args)
    assert table.exit_code == 0 and "tier = <3 users (2 groups)" in table.stdout and "silver" not in table.stdout
    frame = pl.read_csv(io.StringIO(cli(*args, "--format", "csv").stdout))
    pooled = frame.filter(pl.col("suppressed"))
    assert pooled.select("segment", "metric", "variant", "users", "mean").rows() == [
        (None, None, "control", 4, None), (None, None, "treatment", 2, None)]
    refused = cli(*args[:-1], "0")
    assert refused.exit_code == 2 and "--min-group-size 0: expected a whole number" in refused.stderr


# ------------------------------------------------------------------------------------------ regress --by
# platform A: 6 users; B: 5 users, one of them without x (statsmodels drops that row: 4 users fitted);
# C: 2 users with 3 rows each (6 rows, but 2 users).
FRAME = pl.DataFrame({
    "user_id": [f"a{i}" for i in range(6)] + [f"b{i}" for i in range(5)] + ["c0"] * 3 + ["c1"] * 3,
    "platform": ["A"] * 6 + ["B"] * 5 + ["C"] * 6,
    "x": [0, 1, 1, 2, 2, 3, 0, 1, 2, 2, None, 0, 1, 1, 2, 2, 3],
    "y": [1.0, 2.5, 2.0, 4.5, 3.0, 6.5, 0.5, 1.0, 3.5, 2.0, 9.0, 1.0, 2.0, 2.5, 4.0, 3.0, 5.5],
}, schema_overrides={"x": pl.Float64})


def _regress(k):
    run = from_options(unit="user_video", window="24h", models=["ols"], outcome="purchased", features=None,
                       controls=None, formula="y ~ x", cluster=None, robust=None, by="platform", spec_file=None)
    return regress(Frame(unit="user_video", window=timedelta(hours=24), data=FRAME), run, None,
                   min_group_size=k).to_dict()


def test_regress_by_reports_only_levels_fitted_on_enough_users():
    every = _regress(1)
    assert [m["name"] for m in every["models"]] == ["(1) platform=A", "(1) platform=B", "(1) platform=C",
                                                     "(1) pooled × platform"]
    assert every["notes"] == [] and every["params"]["min_group_size"] == 1
    # K = 4: C (2 users in 6 rows) is left out; A and B are the same models, the pooled model is A and B only
    four = _regress(4)
    assert [m["name"] for m in four["models"]] == ["(1) platform=A", "(1) platform=B", "(1) pooled × platform"]
    assert four["models"][:2] == every["models"][:2]
    assert four["notes"] == ["(1): 1 level(s) of platform with fewer than 4 users are not reported (small-cell "
                             "suppression); the pooled × platform model uses the 2 reported levels only"]
    pooled = four["models"][2]
    rows = FRAME.filter(pl.col("platform").is_in(["A", "B"])).to_pandas()
    fitted = smf.ols("y ~ (x) * C(platform)", rows).fit()
    assert pooled["formula"] == "y ~ (x) * C(platform)" and pooled["n"] == 10
    assert {c["term"]: c["estimate"] for c in pooled["coefficients"]} == pytest.approx(fitted.params.to_dict())
    assert {c["term"]: c["std_error"] for c in pooled["coefficients"]} == pytest.approx(fitted.bse.to_dict())
    assert "platform=C" not in json.dumps(four) and "[T.C]" not in json.dumps(four)
    # K = 5: B's fitted rows hold 4 users (b4 has no x): only A remains, and no pooled model
    five = _regress(5)
    assert [m["name"] for m in five["models"]] == ["(1) platform=A"] and five["models"][0] == every["models"][0]
    assert five["notes"][0].endswith("2 level(s) of platform with fewer than 5 users are not reported (small-cell "
                                     "suppression); fewer than two levels remain: no pooled × platform model")
    with pytest.raises(InputError, match="every level has fewer than 7 users"):
        _regress(7)


def _platform_events():
    """Users with a first view on douyin (6), kuaishou (6) or rareplat (2); every second one buys."""
    rows = []
    for platform, n in (("douyin", 6), ("kuaishou", 6), ("rareplat", 2)):
        for i in range(n):
            user = f"{platform}-{i}"
            extra = {"platform": platform, "video_id": f"v{i}", "traffic_source": "recommend"}
            rows += [(user, "video_view", at(i), extra), (user, "video_view", at(i + 1), extra)]
            if i % 2:
                rows.append((user, "purchase", at(i + 2), extra | {"order_id": f"o-{user}", "revenue": 5.0}))
    return rows


def test_regress_by_suppression_through_the_cli(write_events, cli):
    events = write_events(_platform_events())
    args = ["regress", events, "--unit", "user", "--model", "ols", "--formula", "purchased ~ views", "--by",
            "platform", "--format", "json"]
    every = json.loads(cli(*args).stdout)
    result = cli(*args, "--min-group-size", "5")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [m["name"] for m in doc["models"]] == ["(1) platform=douyin", "(1) platform=kuaishou",
                                                  "(1) pooled × platform"]
    assert doc["models"][:2] == every["models"][:2] and "rareplat" not in result.stdout
    assert doc["notes"] and doc["params"]["min_group_size"] == 5
    refused = cli(*args, "--min-group-size", "0")
    assert refused.exit_code == 2 and "--min-group-size 0: expected a whole number" in refused.stderr


# ------------------------------------------------------------------------------------------------ reports
def test_report_ab_and_regression_sections_use_the_config_threshold(write_events, experiment, tmp_path, cli):
    spec = tmp_path / "spec.toml"
    spec.write_text('title = "T"\n\n[[sections]]\ntype = "ab"\ntitle = "Tiers"\nmetric = ["conversion:purchase"]\n'
                    'by = "tier"\n\n[[sections]]\ntype = "regression"\ntitle = "Platforms"\nunit = "user"\n'
                    'model = ["ols"]\nformula = "purchased ~ views"\nby = "platform"\n')
    _, assignments = experiment
    events = write_events(_platform_events() + [(f"{tier}-{variant}-{i}", "video_view", at(1), {"platform": "douyin"})
                                                for tier, counts in TIERS.items()
                                                for variant, n in zip(("control", "treatment"), counts)
                                                for i in range(n)], name="both.parquet")
    out = tmp_path / "r.json"
    result = cli("report", events, "--spec", spec, "--assignments", assignments, "--out", out, "--as-of", "2026-11-20")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text())
    ab_section, regression_section = doc["sections"]
    segments = ab_section["results"]["ab"]["segments"]  # default K = 5: gold (3 + 3) is small too
    assert segments == [{"segment": None, "suppressed": True, "suppressed_groups": 3,
                         "users": {"control": 7, "treatment": 5}, "metrics": []}]
    assert ab_section["commands"]["ab"][-4:] == ["--min-group-size", "5", "--format", "json"]
    models = regression_section["results"]["regression"]["models"]
    assert [m["subset"]["level"] for m in models] == ["douyin", "kuaishou", None]  # douyin: 6 + 12 users
    assert regression_section["commands"]["regression"][-4:] == ["--min-group-size", "5", "--format", "json"]
    assert b"rareplat" not in out.read_bytes() and b"silver" not in out.read_bytes()
