"""``shortvid ab`` on two real public A/B tests (Udacity landing page, Cookie Cats), each number
checked against an independent computation: polars on the raw files plus scipy/statsmodels.

The datasets live outside the repository (``<repo>/../shared/realdata``, see its README); the tests
skip when it is absent.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps
from statsmodels.stats import proportion as smp

from tests.locations import REALDATA, REALDATA_CANDIDATES

pytestmark = pytest.mark.skipif(REALDATA is None, reason=f"real datasets not found at {REALDATA_CANDIDATES[0]}")


def _per_user(folder: str, assignments: str = "assignments.parquet") -> tuple[pl.DataFrame, pl.DataFrame]:
    assert REALDATA is not None
    return pl.read_parquet(REALDATA / folder / assignments), pl.read_parquet(REALDATA / folder / "events.parquet")


def _run(cli, folder: str, *args: str, assignments: str = "assignments.parquet") -> dict:
    assert REALDATA is not None
    result = cli("ab", REALDATA / folder / "events.parquet", "--assignments", REALDATA / folder / assignments,
                 *args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _flag(assign: pl.DataFrame, events: pl.DataFrame, event: str) -> pl.DataFrame:
    """Per user of ``assign``: 1 if they have ``event`` at/after assigned_at, else 0."""
    hits = (assign.join(events.filter(pl.col("event_name") == event), on="user_id")
            .filter(pl.col("event_time") >= pl.col("assigned_at")).select("user_id").unique()
            .with_columns(pl.lit(1).alias("y")))
    return assign.join(hits, on="user_id", how="left").with_columns(pl.col("y").fill_null(0))


def _wald(frame: pl.DataFrame, control: str, treatment: str):
    counts = {r["variant"]: (r["k"], r["n"]) for r in
              frame.group_by("variant").agg(pl.col("y").sum().alias("k"), pl.len().alias("n")).iter_rows(named=True)}
    (kc, nc), (kt, nt) = counts[control], counts[treatment]
    test = smp.test_proportions_2indep(kt, nt, kc, nc, method="wald", compare="diff")
    low, high = smp.confint_proportions_2indep(kt, nt, kc, nc, method="wald", compare="diff")
    return counts, test.pvalue, (low, high)


def test_udacity_conversion(cli):
    doc = _run(cli, "udacity_ab", "--experiment", "udacity_landing_page", "--metric", "conversion:purchase")
    assign, events = _per_user("udacity_ab")
    counts, p_value, (low, high) = _wald(_flag(assign, events, "purchase"), "control", "treatment")
    metric = doc["metrics"][0]
    variants = {v["variant"]: v for v in metric["variants"]}
    for name, (k, n) in counts.items():
        assert variants[name]["users"] == n and variants[name]["mean"] == pytest.approx(k / n, rel=1e-12)
    c = metric["comparisons"][0]
    assert c["p_value"] == pytest.approx(p_value, rel=1e-9)
    assert (c["abs_ci_low"], c["abs_ci_high"]) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    srm = sps.chisquare([counts["control"][1], counts["treatment"][1]])
    assert doc["srm"]["p_value"] == pytest.approx(srm.pvalue, rel=1e-9)
    assert not c["significant"]  # the well-known null result of this data set


def test_udacity_raw_rows_exclude_conflicting_users(cli):
    doc = _run(cli, "udacity_ab", "--metric", "conversion:purchase", assignments="assignments_all_rows.parquet")
    raw, _ = _per_user("udacity_ab", "assignments_all_rows.parquet")
    per_user = raw.group_by("user_id").agg(pl.col("variant").n_unique().alias("k"), pl.col("variant").first())
    multi = per_user.filter(pl.col("k") > 1).height
    assert multi > 0 and doc["excluded_multi_variant_users"] == multi
    kept = per_user.filter(pl.col("k") == 1).group_by("variant").len()
    assert doc["users"] == dict(kept.iter_rows())
    # SRM on the users that remain, and the output says what was excluded
    observed = dict(kept.iter_rows())
    srm = sps.chisquare([observed["control"], observed["treatment"]])
    assert doc["srm"]["p_value"] == pytest.approx(srm.pvalue, rel=1e-9)
    assert any(f"{multi:,} user(s) assigned to more than one variant were excluded" in n for n in doc["notes"])


def test_cookie_cats_day1_retention(cli):
    doc = _run(cli, "cookie_cats", "--metric", "conversion:retained_d1", "--control", "gate_30")
    assign, events = _per_user("cookie_cats")
    counts, p_value, (low, high) = _wald(_flag(assign, events, "retained_d1"), "gate_30", "gate_40")
    metric = doc["metrics"][0]
    means = {v["variant"]: v["mean"] for v in metric["variants"]}
    assert means == pytest.approx({k: x / n for k, (x, n) in counts.items()}, rel=1e-12)
    comparison = metric["comparisons"][0]
    assert comparison["p_value"] == pytest.approx(p_value, rel=1e-9)
    assert comparison["abs_ci_low"] == pytest.approx(low, rel=1e-9)
    assert comparison["abs_ci_high"] == pytest.approx(high, rel=1e-9)


def test_cookie_cats_retention_and_rounds(cli):
    doc = _run(cli, "cookie_cats", "--metric", "conversion:retained_d7", "--metric", "sum:rounds:session_summary",
               "--control", "gate_30", "--correction", "none")
    assign, events = _per_user("cookie_cats")
    counts, p_value, _ = _wald(_flag(assign, events, "retained_d7"), "gate_30", "gate_40")
    retention = doc["metrics"][0]
    assert {v["variant"]: v["users"] for v in retention["variants"]} == {k: n for k, (_, n) in counts.items()}
    assert retention["comparisons"][0]["p_value"] == pytest.approx(p_value, rel=1e-9)
    rounds = (assign.join(events.filter(pl.col("event_name") == "session_summary")
                          .group_by("user_id").agg(pl.col("rounds").sum()), on="user_id", how="left")
              .with_columns(pl.col("rounds").fill_null(0)))
    a = rounds.filter(pl.col("variant") == "gate_30")["rounds"].to_numpy()
    b = rounds.filter(pl.col("variant") == "gate_40")["rounds"].to_numpy()
    welch = sps.ttest_ind(b, a, equal_var=False)
    c = doc["metrics"][1]["comparisons"][0]
    assert c["abs_diff"] == pytest.approx(b.mean() - a.mean(), rel=1e-9)
    assert c["p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
    assert c["abs_ci_low"] == pytest.approx(welch.confidence_interval().low, rel=1e-9)
    assert doc["metrics"][1]["variants"][0]["sd"] == pytest.approx(a.std(ddof=1), rel=1e-9)
    srm = sps.chisquare([len(a), len(b)])
    assert doc["srm"]["p_value"] == pytest.approx(srm.pvalue, rel=1e-9)


def test_cookie_cats_rounds_capped_at_pooled_99th_percentile(cli):
    """--cap 0.99: the ~50,000-round outlier is capped at the pooled 99th percentile of the
    per-user values (numpy's linear interpolation = DuckDB quantile_cont), then Welch's t as usual."""
    args = ("--experiment", "cookie_cats_gate_30_vs_40", "--control", "gate_30", "--metric", "sum:rounds:session_summary")
    raw = _run(cli, "cookie_cats", *args)
    capped = _run(cli, "cookie_cats", *args, "--cap", "0.99")
    assign, events = _per_user("cookie_cats")
    rounds = (events.filter(pl.col("event_name") == "session_summary").join(assign, on="user_id")
              .filter(pl.col("event_time") >= pl.col("assigned_at")).group_by("user_id").agg(pl.col("rounds").sum()))
    per_user = assign.join(rounds, on="user_id", how="left").with_columns(pl.col("rounds").fill_null(0).cast(pl.Float64))
    cap = float(np.quantile(per_user["rounds"].to_numpy(), 0.99))
    assert per_user["rounds"].max() > 40_000 > cap
    metric = capped["metrics"][0]
    assert metric["cap_value"] == pytest.approx(cap, rel=1e-12)
    assert raw["metrics"][0]["cap_value"] is None
    values = {v: per_user.filter(pl.col("variant") == v)["rounds"].clip(upper_bound=cap).to_numpy()
              for v in ("gate_30", "gate_40")}
    variants = {v["variant"]: v for v in metric["variants"]}
    for name, x in values.items():
        assert variants[name]["mean"] == pytest.approx(x.mean(), rel=1e-12)
        assert variants[name]["sd"] == pytest.approx(x.std(ddof=1), rel=1e-9)
    welch = sps.ttest_ind(values["gate_40"], values["gate_30"], equal_var=False)
    assert metric["comparisons"][0]["p_value"] == pytest.approx(welch.pvalue, rel=1e-8)
    # capping shrinks the spread the outlier caused
    raw_sd = {v["variant"]: v["sd"] for v in raw["metrics"][0]["variants"]}
    assert variants["gate_30"]["sd"] < raw_sd["gate_30"] / 2
    assert any("capped at the pooled 0.99 quantile" in n for n in capped["notes"])
