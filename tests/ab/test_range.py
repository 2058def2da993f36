"""`ab --from/--to`: only users first assigned inside the range, and only their events inside it."""

from __future__ import annotations

import json

import polars as pl

from tests.conftest import at


def test_date_range_restricts_assignments_and_events(write_events, tmp_path, cli):
    # day 0 = Mon 2026-11-02 (UTC). a1/b1 assigned on day 0, a2/b2 on day 2, a3 on day 5.
    assignments = tmp_path / "assign.parquet"
    pl.DataFrame({
        "experiment_id": ["e"] * 5,
        "user_id": ["a1", "b1", "a2", "b2", "a3"],
        "variant": ["control", "treatment", "control", "treatment", "control"],
        "assigned_at": [at(hours=1), at(hours=1), at(days=2), at(days=2), at(days=5)],
    }).write_parquet(assignments)
    events = write_events([
        ("a1", "purchase", at(hours=2)),
        ("b1", "purchase", at(hours=2)),
        ("b1", "purchase", at(days=3, hours=1)),   # after --to: not counted
        ("a2", "purchase", at(days=2, hours=1)),
        ("b2", "video_view", at(days=2, hours=1)),
        ("a3", "purchase", at(days=5, hours=1)),
    ])
    result = cli("ab", events, "--assignments", assignments, "--experiment", "e", "--metric", "count:purchase",
                 "--from", "2026-11-02", "--to", "2026-11-04", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["users"] == {"control": 2, "treatment": 2}  # a3 was assigned after the range
    means = {v["variant"]: v["mean"] for v in doc["metrics"][0]["variants"]}
    assert means == {"control": 1.0, "treatment": 0.5}  # (1+1)/2 and (1+0)/2: b1's day-3 purchase is out
    whole = json.loads(cli("ab", events, "--assignments", assignments, "--experiment", "e", "--metric",
                           "count:purchase", "--format", "json").stdout)
    assert whole["users"] == {"control": 3, "treatment": 2}


def test_date_range_uses_the_reporting_time_zone(write_events, tmp_path, cli):
    # assigned 2026-11-01 20:00 UTC = 2026-11-02 04:00 in Shanghai: inside --from 2026-11-02 there only
    assignments = tmp_path / "assign.parquet"
    pl.DataFrame({"experiment_id": ["e", "e"], "user_id": ["a", "b"], "variant": ["control", "treatment"],
                  "assigned_at": [at(hours=-4), at(hours=1)]}).write_parquet(assignments)
    events = write_events([("a", "purchase", at(hours=-3)), ("b", "purchase", at(hours=2))])
    config = tmp_path / "c.toml"
    config.write_text('timezone = "Asia/Shanghai"\n')
    args = ("ab", events, "--assignments", assignments, "--experiment", "e", "--metric", "count:purchase",
            "--from", "2026-11-02", "--format", "json")
    utc = cli(*args)  # in UTC, a was assigned on 2026-11-01: no control user is left in the range
    assert utc.exit_code == 2 and "control variant 'control' not found" in utc.stderr
    shanghai = json.loads(cli("--config", config, *args).stdout)
    assert shanghai["users"] == {"control": 1, "treatment": 1}
