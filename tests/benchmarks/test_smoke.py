"""The scale benchmark's smoke run: every case on ≈1M generated events, once (benchmarks/run.py --smoke).

About half a minute on an idle 2-core machine, more under load, so it is not part of the default suite:
run it with ``python -m pytest -m benchmark`` (CI may). The dataset is generated into the git-ignored
``benchmarks/data/1M`` on first use and reused.
"""

from __future__ import annotations

import pytest

from tests.benchmarks.test_peers import load_script


@pytest.mark.benchmark
def test_smoke_benchmark_runs_every_case_within_the_memory_budget() -> None:
    run = load_script("run")
    rows = run.main(["--smoke"])
    cases = {row["case"]: row for row in rows}
    expected = [c.name for c in run.cases() if "1M" in c.sizes]
    assert set(expected) <= set(cases)
    assert [row["failures"] for row in rows] == [[] for _ in rows]
    assert all(row["events"] > 900_000 for row in rows)
    # every command is compared with the scan of its columns; everything fits far below 2 GiB at 1M
    assert all(row["x_scan"] and row["x_scan"] > 0 for row in rows if not row["case"].startswith("scan:"))
    assert max(row["peak_rss_gib"] for row in rows) < 2.0
