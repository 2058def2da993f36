"""The pandas peers of the scale benchmark compute what `shortvid funnel` / `shortvid retention` compute.

benchmarks/run.py reports how much faster shortvid is than these peers; that comparison is only fair if
both give the same numbers. Checked here on a generated export (first-time weekly retention with every
cell the command reports, and ordered funnels with windows that bind and one that hardly does).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import duckdb
import pandas as pd
import pytest

from shortvid_analytics.generate import generate
from tests.locations import BENCHMARKS


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script executes
    spec.loader.exec_module(module)
    return module


peers = load_script("pandas_peers")


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("peers")
    generate(out, users=2500, days=24, seed=5, start=date(2026, 10, 5))
    return out / "events"


# 24h hardly binds; 60s cuts steps 3 and 4 (2,320 / 1,312 / 673 / 5 users), 30s also step 2
@pytest.mark.parametrize("window", ["24h", "60s", "30s"])
def test_pandas_funnel_matches_shortvid_funnel(cli, events: Path, window: str) -> None:
    result = cli("funnel", str(events), "--steps", ",".join(peers.FUNNEL_STEPS), "--window", window, "-f", "json")
    assert result.exit_code == 0, result.stderr
    shortvid = [step["users"] for step in json.loads(result.stdout)["steps"]]
    pandas = peers.funnel(peers.load(str(events)), window=pd.Timedelta(window))
    assert pandas == shortvid
    assert shortvid[0] > shortvid[1] > shortvid[2] > 0


def test_pandas_retention_matches_shortvid_retention(cli, events: Path) -> None:
    result = cli("retention", str(events), "--start", peers.RETENTION_START, "--return", peers.RETENTION_RETURN,
                 "--period", "week", "--periods", str(peers.RETENTION_PERIODS), "-f", "json")
    assert result.exit_code == 0, result.stderr
    cohorts = json.loads(result.stdout)["cohorts"]
    pandas = peers.retention(peers.load(str(events)))
    assert [c["cohort"] for c in cohorts] == list(pandas)
    compared = 0
    for cohort in cohorts:
        size, *retained = pandas[cohort["cohort"]]
        assert cohort["size"] == size
        # shortvid leaves cells it has not fully observed empty (null); every reported cell must agree
        for k, value in enumerate(cohort["retained"]):
            if value is not None:
                assert value == retained[k], (cohort["cohort"], k)
                compared += 1
    assert compared >= 6  # 24 days from a Monday: weeks 0..2 of the first cohort, ... (a real triangle)


def test_harness_times_cases_against_the_scan_and_keeps_the_analysis(tmp_path: Path) -> None:
    """benchmarks/run.py on a tiny stand-in for the 1M dataset: medians, ratios, RESULTS.md rewrite."""
    run = load_script("run")
    generate(tmp_path / "data" / "1M", users=300, days=7, seed=2, start=date(2026, 10, 5))
    results = tmp_path / "RESULTS.md"
    results.write_text(f"old table\n{run.MARKER}\nhand-written analysis\n", encoding="utf-8")
    rows = run.main(["--sizes", "1M", "--runs", "2", "--only", "funnel 4 steps,pandas funnel",
                     "--data", str(tmp_path / "data"), "--write-results", "--results", str(results)])
    by_case = {row["case"]: row for row in rows}
    scan = by_case["scan: user_id, event_name, event_time"]
    funnel_row = by_case["funnel 4 steps 24h ordered"]
    pandas_row = by_case["pandas funnel (merge_asof)"]
    assert len(rows) == 3 and all(row["runs"] == 2 and not row["failures"] for row in rows)
    events = duckdb.sql(f"SELECT count(*) FROM read_parquet('{tmp_path}/data/1M/events/**/*.parquet')").fetchall()
    assert all(row["events"] == events[0][0] for row in rows)
    assert funnel_row["x_scan"] == pytest.approx(funnel_row["wall_s"] / scan["wall_s"], abs=0.05 * funnel_row["x_scan"])
    assert pandas_row["speedup"] == pytest.approx(pandas_row["wall_s"] / funnel_row["wall_s"], rel=0.1)
    text = results.read_text(encoding="utf-8")
    assert "old table" not in text and text.endswith(f"{run.MARKER}\nhand-written analysis\n")
    assert sum(line.startswith("| 0.0M | ") for line in text.splitlines()) == 3
