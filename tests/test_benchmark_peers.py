"""The pandas peers of the scale benchmark compute what `shortvid funnel` / `shortvid retention` compute.

benchmarks/run.py reports how much faster shortvid is than these peers; that comparison is only fair if
both give the same numbers. Checked here on a generated export (first-time weekly retention with every
cell the command reports, and ordered funnels with windows that bind and one that hardly does).
"""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from shortvid_analytics.generate import generate

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
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
