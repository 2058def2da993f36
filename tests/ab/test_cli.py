"""``shortvid ab`` and ``shortvid ab power`` through the CLI: JSON contract, output files, bad input."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import polars as pl
import pytest
from scipy import stats as sps

from shortvid_analytics.ab import stats as S
from tests.ab.test_metrics import HAND_ASSIGNMENTS, HAND_EVENTS, write_assignments
from tests.conftest import T0, at


@pytest.fixture
def files(write_events, tmp_path):
    return write_events(HAND_EVENTS), write_assignments(tmp_path / "assign.parquet", HAND_ASSIGNMENTS)


@pytest.fixture
def bigger(write_events, tmp_path):
    """400 users: control converts 10%, treatment 20%; three variants for A/B/n."""
    rows, assignments = [], []
    for i in range(600):
        variant = ("control", "treatment", "treatment_b")[i % 3]
        user = f"u{i}"
        assignments.append(("checkout_v2", user, variant, T0))
        rows.append((user, "video_view", at(1), {"platform": "douyin" if i % 2 else "kuaishou"}))
        rate = {"control": 10, "treatment": 5, "treatment_b": 10}[variant]
        if i % rate == 0:
            rows.append((user, "purchase", at(2), {"revenue": 10.0 + i % 7, "order_id": f"o{i}"}))
    return write_events(rows), write_assignments(tmp_path / "assign.parquet", assignments)


def _json(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_contract_and_numbers(cli, bigger):
    events, assign = bigger
    doc = _json(cli("ab", events, "--assignments", assign, "--experiment", "checkout_v2", "--metric",
                    "conversion:purchase", "--metric", "revenue_per_user", "--format", "json"))
    assert doc["kind"] == "ab" and doc["version"] and doc["params"]["experiment"] == "checkout_v2"
    assert doc["experiment"] == "checkout_v2"
    assert set(doc["srm"]) >= {"p_value", "observed", "expected_share"}
    assert doc["srm"]["observed"] == {"control": 200, "treatment": 200, "treatment_b": 200}
    assert doc["srm"]["p_value"] == 1.0
    assert doc["excluded_multi_variant_users"] == 0
    conv = doc["metrics"][0]
    assert conv["metric"] == "conversion:purchase" and conv["type"] == "proportion"
    assert [v["variant"] for v in conv["variants"]] == ["control", "treatment", "treatment_b"]
    control = conv["variants"][0]
    assert set(control) >= {"variant", "users", "mean", "sd"}
    assert control["users"] == 200 and control["mean"] == pytest.approx(0.1)
    assert control["sd"] == pytest.approx(math.sqrt(0.1 * 0.9))
    comp = {c["variant"]: c for c in conv["comparisons"]}
    assert set(comp) == {"treatment", "treatment_b"}
    t = comp["treatment"]
    assert set(t) >= {"variant", "abs_diff", "rel_lift", "ci_low", "ci_high", "p_value", "p_adjusted",
                      "chance_to_win"}
    assert t["abs_diff"] == pytest.approx(0.1) and t["rel_lift"] == pytest.approx(1.0)
    # p-value: statsmodels-equivalent Wald z on 20/200 vs 40/200, computed here from scratch
    se = math.sqrt(0.1 * 0.9 / 200 + 0.2 * 0.8 / 200)
    assert t["p_value"] == pytest.approx(2 * sps.norm.sf(0.1 / se), rel=1e-10)
    # Holm over 2 metrics x 2 variants (revenue p-values included)
    all_p = [c["p_value"] for m in doc["metrics"] for c in m["comparisons"]]
    assert [c["p_adjusted"] for m in doc["metrics"] for c in m["comparisons"]] == pytest.approx(
        S.adjust_p_values(all_p, "holm"))
    assert t["chance_to_win"] is None and t["ci_low"] < 1.0 < t["ci_high"]


def test_bayesian_and_sequential_modes(cli, bigger):
    events, assign = bigger
    base = ("ab", events, "--assignments", assign, "--metric", "conversion:purchase", "-f", "json")
    bayes = _json(cli(*base, "--method", "bayesian"))["metrics"][0]["comparisons"][0]
    # flat-prior Gaussian on the relative lift (gbstats): lift 1.0, delta-method variance
    # 0.16/(0.1² · 200) + 0.09 · 0.2²/(0.1⁴ · 200) = 0.26
    assert bayes["p_value"] is None and bayes["chance_to_win"] == pytest.approx(sps.norm.cdf(1 / math.sqrt(0.26)))
    assert bayes["risk"] > 0 and bayes["ci_low"] == pytest.approx(1 - sps.norm.ppf(0.975) * math.sqrt(0.26))
    seq = _json(cli(*base, "--method", "sequential", "--sequential-tuning", "1000"))
    c = seq["metrics"][0]["comparisons"][0]
    freq = _json(cli(*base))["metrics"][0]["comparisons"][0]
    assert c["ci_high"] - c["ci_low"] > freq["ci_high"] - freq["ci_low"]
    assert seq["params"]["sequential_tuning"] == 1000


def test_by_segment_and_correction_none(cli, bigger):
    events, assign = bigger
    doc = _json(cli("ab", events, "--assignments", assign, "--metric", "conversion:purchase", "--by", "platform",
                    "--correction", "none", "-f", "json"))
    segments = {s["segment"]: s for s in doc["segments"]}
    assert set(segments) == {"douyin", "kuaishou"}
    users = sum(v["users"] for s in segments.values() for v in s["metrics"][0]["variants"])
    assert users == 600
    c = doc["metrics"][0]["comparisons"][0]
    assert c["p_adjusted"] == c["p_value"]


def test_table_window_split_and_chart(cli, files, tmp_path):
    events, assign = files
    chart = tmp_path / "forest.png"
    result = cli("ab", events, "--assignments", assign, "--experiment", "exp", "--metric", "conversion:purchase",
                 "--metric", "aov", "--window", "7d", "--split", "control=40,treatment=60", "--chart", chart)
    assert result.exit_code == 0, result.stderr
    assert "conversion:purchase" in result.stdout and "sample ratio check" in result.stdout
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "forest.svg"
    assert cli("ab", events, "--assignments", assign, "-e", "exp", "-m", "conversion:purchase",
               "--chart", svg).exit_code == 0
    assert svg.read_text().lstrip().startswith("<?xml")
    doc = _json(cli("ab", events, "--assignments", assign, "-e", "exp", "-m", "conversion:purchase",
                    "--window", "7d", "--split", "2,3", "--cuped-days", "14", "-f", "json"))
    assert doc["params"]["window"] == "1w" and doc["params"]["split"] == {"control": 0.4, "treatment": 0.6}
    assert doc["srm"]["p_value"] == pytest.approx(sps.chisquare([2, 3], [2, 3]).pvalue)
    assert doc["excluded_multi_variant_users"] == 1
    assert doc["metrics"][0]["cuped"] is True


def test_srm_banner(cli, write_events, tmp_path):
    events = write_events([("u0", "purchase", at(5))])
    assign = write_assignments(tmp_path / "a.parquet", [("exp", f"u{i}", "control" if i < 700 else "treatment", T0)
                                                         for i in range(1000)])
    result = cli("ab", events, "--assignments", assign, "-m", "conversion:purchase")
    assert result.exit_code == 0
    assert "SAMPLE RATIO MISMATCH" in result.stdout
    doc = _json(cli("ab", events, "--assignments", assign, "-m", "conversion:purchase", "-f", "json"))
    assert doc["srm"]["p_value"] == pytest.approx(sps.chisquare([700, 300]).pvalue)
    assert any("sample ratio mismatch" in w for w in doc["warnings"])


def test_output_file_and_csv(cli, files, tmp_path):
    events, assign = files
    out = tmp_path / "ab.csv"
    assert cli("ab", events, "--assignments", assign, "-e", "exp", "-m", "revenue_per_user", "-f", "csv",
               "-o", out).exit_code == 0
    frame = pl.read_csv(out)
    assert frame["variant"].to_list() == ["control", "treatment"]
    assert frame["mean"].to_list() == pytest.approx([10.0, 62 / 3])


def test_power_command_matches_statsmodels(cli):
    doc = _json(cli("ab", "power", "--baseline", "0.03", "--mde", "0.05", "-f", "json"))
    assert doc["kind"] == "ab_power" and doc["users_per_variant"] == S.users_per_variant(0.03, 0.05)
    assert doc["total_users"] == 2 * doc["users_per_variant"]
    doc = _json(cli("ab", "power", "--baseline", "0.03", "--mde", "0.05", "--alpha", "0.01", "--power", "0.9",
                    "--variants", "3", "-f", "json"))
    assert doc["users_per_variant"] == S.users_per_variant(0.03, 0.05, alpha=0.01, power=0.9)
    assert doc["total_users"] == 3 * doc["users_per_variant"]
    mde = _json(cli("ab", "power", "--baseline", "0.03", "--users", "100000", "-f", "json"))
    assert mde["solved_for"] == "mde" and S.users_per_variant(0.03, mde["mde"]) == pytest.approx(100000, abs=1)
    mean = _json(cli("ab", "power", "--baseline", "50", "--sd", "40", "--mde", "0.02", "-f", "json"))
    assert mean["metric_type"] == "mean" and mean["users_per_variant"] == S.users_per_variant(50, 0.02, sd=40)
    table = cli("ab", "power", "--baseline", "0.03", "--mde", "0.05")
    assert table.exit_code == 0 and f"{doc['users_per_variant']:,}" not in table.stdout
    assert f"{S.users_per_variant(0.03, 0.05):,}" in table.stdout


@pytest.mark.parametrize("args,code,message", [
    (("-e", "nope", "-m", "conversion:purchase"), 2,
     "experiment 'nope' not found in .*experiments present: exp, other"),
    (("-e", "exp", "-m", "conversion:purchase", "--control", "base"), 2,
     "control variant 'base' not found .*variants: control, treatment"),
    (("-m", "conversion:purchase"), 2, "holds 2 experiments; choose one with --experiment: exp, other"),
    (("-e", "exp", "-m", "mean:purchase"), 2, "unknown metric kind 'mean'"),
    (("-e", "exp", "-m", "conversion:add_to_cart"), 2, "'add_to_cart' does not occur"),
    (("-e", "exp", "-m", "conversion:purchase", "--split", "50,30,20"), 2, "3 share\\(s\\) for 2 variants"),
    (("-e", "exp", "-m", "conversion:purchase", "--window", "soon"), 2, "window 'soon'"),
    (("-e", "exp", "-m", "conversion:purchase", "--alpha", "1.5"), 2, "--alpha 1.5"),
    (("-e", "exp", "-m", "conversion:purchase", "--cuped-days", "0"), 2, "--cuped-days 0"),
    (("-e", "exp", "-m", "conversion:purchase", "--by", "nosuch"), 2, "'nosuch' is not a column"),
    (("-e", "exp", "-m", "conversion:purchase", "--chart", "x.gif"), 2, "--chart x.gif"),
    (("-e", "exp", "-m", "sum:event_name:purchase"), 2, "has type VARCHAR; expected a number"),
])
def test_bad_options_one_line_errors(cli, files, args, code, message):
    events, assign = files
    result = cli("ab", events, "--assignments", assign, *args)
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr
    assert __import__("re").search(message, lines[0]), lines[0]


def test_bad_assignments_files(cli, files, tmp_path):
    events, _ = files
    missing = tmp_path / "missing_cols.parquet"
    pl.DataFrame({"experiment_id": ["exp"], "user": ["u1"], "variant": ["control"]}).write_parquet(missing)
    result = cli("ab", events, "--assignments", missing, "-m", "conversion:purchase")
    assert result.exit_code == 1
    assert "lack required column(s) user_id, assigned_at" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    text_time = tmp_path / "text_time.parquet"
    pl.DataFrame({"experiment_id": ["exp"], "user_id": ["u1"], "variant": ["control"],
                  "assigned_at": ["yesterday"]}).write_parquet(text_time)
    result = cli("ab", events, "--assignments", text_time, "-m", "conversion:purchase")
    assert result.exit_code == 1 and "'assigned_at' has type VARCHAR; expected a timestamp" in result.stderr
    not_parquet = tmp_path / "bad.parquet"
    not_parquet.write_text("hello")
    result = cli("ab", events, "--assignments", not_parquet, "-m", "conversion:purchase")
    assert result.exit_code == 1 and "cannot read as Parquet" in result.stderr
    result = cli("ab", events, "--assignments", tmp_path / "nope.parquet", "-m", "conversion:purchase")
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_only_control_and_incomplete_rows(cli, files, tmp_path):
    events, _ = files
    only = write_assignments(tmp_path / "only.parquet", [("exp", "u1", "control", T0)])
    result = cli("ab", events, "--assignments", only, "-m", "conversion:purchase")
    assert result.exit_code == 2 and "nothing to compare" in result.stderr
    holes = write_assignments(tmp_path / "holes.parquet", [("exp", "u1", "control", T0),
                                                           ("exp", "u3", "treatment", T0),
                                                           ("exp", "u4", None, T0),
                                                           ("exp", "u6", "treatment", None)])
    doc = _json(cli("ab", events, "--assignments", holes, "-m", "conversion:purchase", "-f", "json"))
    assert doc["incomplete_assignment_rows"] == 2 and doc["users"] == {"control": 1, "treatment": 1}


@pytest.mark.parametrize("args,message", [
    (("--baseline", "0.03"), "exactly one of --mde"),
    (("--baseline", "0.03", "--mde", "0.05", "--users", "10"), "exactly one of --mde"),
    (("--baseline", "3", "--mde", "0.05"), "--baseline 3.0: expected a conversion rate"),
    (("--baseline", "0.03", "--mde", "-0.1"), "--mde -0.1"),
    (("--baseline", "0.5", "--users", "3"), "too few users"),
    (("--baseline", "0.03", "--mde", "0.05", "--variants", "1"), "--variants 1"),
])
def test_power_bad_options(cli, args, message):
    result = cli("ab", "power", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_analyze_subcommand_name_and_window_param(cli, files):
    events, assign = files
    doc = _json(cli("ab", "analyze", events, "--assignments", assign, "-e", "exp", "-m", "conversion:purchase",
                    "--window", "36h", "-f", "json"))
    assert doc["params"]["window"] == "36h"
    # options before the events path route to `analyze` too, with the same numbers
    first = _json(cli("ab", "--assignments", assign, "-e", "exp", events, "-m", "conversion:purchase",
                      "--window", str(int(timedelta(hours=36).total_seconds())), "-f", "json"))
    assert first["metrics"] == doc["metrics"]
