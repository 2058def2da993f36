"""Shareable outputs on generated data: `anonymize` keeps every analysis result, time coarsening changes
only what it must, and no raw user id of the input reaches a saved frame or a digest."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from shortvid_analytics.cli import app
from shortvid_analytics.generate import generate
from shortvid_analytics.privacy import key_id, pseudonymize

KEY = "co-author key 2026"
ENV = {"SHORTVID_PSEUDONYM_KEY": KEY}


def run(*args: Any, env: dict[str, str] | None = None):
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False, env=env)
    assert result.exit_code == 0, result.stderr
    return result


def run_json(*args: Any) -> dict[str, Any]:
    doc = json.loads(run(*args, "--format", "json").stdout)
    doc["params"].pop("source")
    return doc


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out, users=600, days=21, seed=11)
    return out


@pytest.fixture(scope="module")
def shared(generated, tmp_path_factory) -> Path:
    """``shortvid anonymize`` of the generated export and its assignments (no time coarsening)."""
    out = tmp_path_factory.mktemp("shared")
    run("anonymize", generated / "events", "--out", out, "--assignments", generated / "assignments.parquet", env=ENV)
    return out


ANALYSES = [
    ("funnel", "--steps", "video_view,product_click,add_to_cart|checkout,purchase", "--window", "24h",
     "--by", "platform", "--trends", "week"),
    ("funnel", "--steps", "video_view,purchase", "--order", "strict", "--window", "1h"),
    ("retention", "--start", "video_view", "--return", "purchase", "--period", "week", "--periods", "3",
     "--by", "traffic_source"),
    ("kpi", "--period", "week", "--by", "platform"),
]


def _close(a: Any, b: Any) -> bool:
    """Equal; floats to 1e-9 relative: DuckDB's parallel sums of doubles (a mean time to convert, a
    regression's log-likelihood) may differ in the last bits between runs and row orders."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


@pytest.mark.parametrize("analysis", ANALYSES, ids=lambda a: " ".join(a[:2]))
def test_anonymized_copy_gives_identical_results(generated, shared, analysis):
    command, *options = analysis
    original = run_json(command, generated / "events", *options)
    assert _close(original, run_json(command, shared / "events.parquet", *options))
    assert original.get("steps", [{"users": 1}])[0]["users"] > 0 and original.get("size", 1) > 0


def test_anonymized_copy_gives_identical_ab_and_regression(generated, shared):
    for folder, events, assignments in ((generated, generated / "events", generated / "assignments.parquet"),
                                        (shared, shared / "events.parquet", shared / "assignments.parquet")):
        folder.joinpath("ab.json").write_text(json.dumps(run_json(
            "ab", events, "--assignments", assignments, "--metric", "conversion:purchase",
            "--metric", "revenue_per_user")))
        folder.joinpath("regress.json").write_text(json.dumps(run_json(
            "regress", events, "--unit", "user", "--model", "logit", "--cluster", "creator_id",
            "--assignments", assignments)))
    for name in ("ab.json", "regress.json"):
        original = json.loads((generated / name).read_text())
        anonymized = json.loads((shared / name).read_text())
        anonymized["params"]["assignments"] = original["params"].get("assignments")
        assert _close(original, anonymized), name


def test_day_coarsening_changes_times_only(generated, tmp_path):
    """Truncating event times to the UTC day cannot move an event across a (UTC) week, so weekly KPIs and
    weekly view retention stay identical (but for the observed span, now whole days); what depends on the
    time of day -- the funnel's time to convert and which steps fall inside a 1-hour window -- changes, and
    the times become whole days."""
    out = tmp_path / "daily"
    run("anonymize", generated / "events", "--out", out, "--time-resolution", "day", env=ENV)
    coarse = out / "events.parquet"
    assert _close(run_json("kpi", generated / "events", "--period", "week", "--by", "platform"),
                  run_json("kpi", coarse, "--period", "week", "--by", "platform"))
    options = ("--start", "video_view", "--period", "week", "--periods", "3")
    exact, daily = run_json("retention", generated / "events", *options), run_json("retention", coarse, *options)
    assert exact.pop("observed") != daily["observed"] and daily.pop("observed")["end"].endswith("T00:00:00")
    assert exact == daily
    steps = ("--steps", "video_view,product_click,purchase", "--window", "1h")
    exact, daily = run_json("funnel", generated / "events", *steps), run_json("funnel", coarse, *steps)
    assert daily["steps"][0]["users"] == exact["steps"][0]["users"]  # entering needs no time of day
    assert daily["steps"] != exact["steps"]
    for step in daily["steps"][1:]:
        for value in (step["time_to_convert_s"]["median"], step["time_to_convert_s"]["p90"]):
            assert value is None or value % 86400 == 0
    times = pl.read_parquet(coarse)["event_time"]
    assert (times.dt.hour() == 0).all() and (times.dt.minute() == 0).all()


def test_anonymize_assignments_join_the_events(generated, shared):
    manifest = json.loads((shared / "manifest.json").read_text())
    assert manifest["assignments"]["output"] == "assignments.parquet"
    original = pl.read_parquet(generated / "assignments.parquet").sort("user_id")
    copy = pl.read_parquet(shared / "assignments.parquet")
    key = KEY.encode()
    assert sorted(copy["user_id"].to_list()) == sorted(pseudonymize(u, key) for u in original["user_id"])
    assert set(copy["user_id"]) <= set(pl.read_parquet(shared / "events.parquet")["user_id"])
    assert KEY not in (shared / "manifest.json").read_text()


# ------------------------------------------------------------------ no raw identifier in a shareable output

@pytest.fixture(scope="module")
def branded(generated, tmp_path_factory) -> Path:
    """The generated export with user ids that cannot occur by chance (``person-00042-zq``)."""
    out = tmp_path_factory.mktemp("branded") / "events.parquet"
    frame = pl.read_parquet(generated / "events" / "**" / "*.parquet", hive_partitioning=False)
    frame.with_columns(pl.format("person-{}-zq", pl.col("user_id").cast(pl.String).str.zfill(5))
                       .alias("user_id")).write_parquet(out)
    return out


def _raw_ids(events: Path) -> list[bytes]:
    return [u.encode() for u in pl.read_parquet(events)["user_id"].unique().to_list()]


def _leaks(data: bytes, ids: list[bytes]) -> list[bytes]:
    return [u for u in ids if u in data]


def test_saved_frame_holds_pseudonyms_only(branded, tmp_path):
    ids = _raw_ids(branded)
    csv, parquet, raw = tmp_path / "frame.csv", tmp_path / "frame.parquet", tmp_path / "raw.parquet"
    for frame in (csv, parquet):
        result = run("regress", branded, "--unit", "session", "--save-frame", frame, "--format", "json", env=ENV)
        assert not _leaks(result.stdout.encode(), ids) and KEY not in result.stdout
    assert not _leaks(csv.read_bytes(), ids) and KEY.encode() not in csv.read_bytes()
    saved = pl.read_parquet(parquet)
    cells = {str(v) for column in saved.columns for v in saved[column].to_list()}
    assert not cells & {u.decode() for u in ids}
    # the same frame as with --raw-ids, each id replaced by its keyed pseudonym
    run("regress", branded, "--unit", "session", "--save-frame", raw, "--raw-ids", env=ENV)
    original = pl.read_parquet(raw)
    key = KEY.encode()
    assert saved["user_id"].to_list() == [pseudonymize(u, key) for u in original["user_id"]]
    assert saved["session_id"].to_list() == [pseudonymize(u, key) for u in original["session_id"]]
    assert saved.drop("user_id", "session_id").equals(original.drop("user_id", "session_id"))


def test_saved_frame_needs_a_key_or_raw_ids(branded, tmp_path):
    frame = tmp_path / "frame.csv"
    result = CliRunner().invoke(app, ["regress", str(branded), "--save-frame", str(frame)], env={
        "SHORTVID_PSEUDONYM_KEY": ""})
    assert result.exit_code == 2 and not frame.exists()
    assert result.stderr.strip() == (
        "error: no pseudonymisation key: set SHORTVID_PSEUDONYM_KEY or [privacy] pseudonym_key in the config "
        "(or pass --raw-ids to write raw identifiers into --save-frame)")
    run("regress", branded, "--save-frame", frame, "--raw-ids", env={"SHORTVID_PSEUDONYM_KEY": KEY})
    assert b"person-" in frame.read_bytes()  # explicitly asked for: raw ids, even with a key set


def test_digest_shows_no_raw_user_id(branded, tmp_path):
    ids = _raw_ids(branded)
    out = tmp_path / "digest"
    run("digest", branded, "--out", out, "--week", "last", "--by", "traffic_source", "--as-of", "2026-11-01")
    files = sorted(out.glob("digest-*"))
    assert len(files) == 3
    for path in files:
        assert not _leaks(path.read_bytes(), ids), path


REPORT_SPEC = '''
title = "Shareable report"

[[sections]]
type = "data"
title = "Data"

[[sections]]
type = "funnel"
title = "Funnel"
steps = ["video_view", "product_click", "purchase"]
by = "platform"

[[sections]]
type = "retention"
title = "Retention"
by = "traffic_source"
periods = 3

[[sections]]
type = "engagement"
title = "Creators"
by = ["creator_id"]
top = 200

[[sections]]
type = "kpi"
title = "Weekly"
by = ["platform"]

[[sections]]
type = "platform_comparison"
title = "Regions"
by = "region"
'''


def test_report_shows_no_raw_user_id_and_suppresses_small_groups(branded, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(REPORT_SPEC)
    config = tmp_path / "k60.toml"
    config.write_text(f'[privacy]\nmin_group_size = 60\npseudonym_key = "{KEY}"\n')
    html, doc_path = tmp_path / "r.html", tmp_path / "r.json"
    run("--config", config, "report", branded, "--spec", spec, "--out", html, "--out", doc_path,
        "--as-of", "2026-11-01")
    ids = _raw_ids(branded)
    for path in (html, doc_path):
        assert not _leaks(path.read_bytes(), ids), path
        assert KEY.encode() not in path.read_bytes(), path  # the key of the config never appears
    doc = json.loads(doc_path.read_text())
    assert doc["provenance"]["config"]["privacy"] == {"min_group_size": 60, "pseudonym_key_id": key_id(KEY.encode())}
    frame = pl.read_parquet(branded)
    users = frame.group_by("creator_id").agg(pl.col("user_id").n_unique().alias("n"))
    small = set(users.filter(pl.col("n") < 60)["creator_id"])
    creators = next(s for s in doc["sections"] if s["title"] == "Creators")
    groups = creators["results"]["engagement"]["groups"]
    assert small and {g["creator_id"] for g in groups if not g["suppressed"]} == set(users["creator_id"]) - small
    assert groups[-1]["suppressed"] and groups[-1]["suppressed_groups"] == len(small)
    assert creators["commands"]["engagement"][-4:] == ["--min-group-size", "60", "--format", "json"]
    assert f"&lt;60 users ({len(small)} groups)" in html.read_text()
    regions = next(s for s in doc["sections"] if s["title"] == "Regions")["results"]
    region_users = frame.group_by("region").agg(pl.col("user_id").n_unique().alias("n"))
    shown = {g["region"] for g in regions["engagement"]["groups"] if not g["suppressed"]}
    assert shown == set(region_users.filter(pl.col("n") >= 60)["region"])


@pytest.mark.parametrize("section", [
    'type = "engagement"\ntitle = "Top users"\nby = ["platform", "user_id"]',
    'type = "funnel"\ntitle = "Per user"\nsteps = ["video_view", "purchase"]\nby = "user_id"',
    'type = "retention"\ntitle = "Per session"\nby = "session_id"',
])
def test_report_refuses_tables_keyed_by_identifiers(tmp_path, section):
    spec = tmp_path / "spec.toml"
    spec.write_text('title = "T"\n\n[[sections]]\n' + section + "\n")
    # the events do not exist: the refusal comes before any analysis
    result = CliRunner().invoke(app, ["report", str(tmp_path / "missing"), "--spec", str(spec), "--out",
                                      str(tmp_path / "r.html")])
    column = "session_id" if "session_id" in section else "user_id"
    title = section.split('title = "')[1].split('"')[0]
    assert result.exit_code == 2 and not (tmp_path / "r.html").exists()
    assert result.stderr.strip() == (
        f"error: spec {spec}: section 1 ({section.split(chr(34))[1]} \"{title}\"): key 'by': its table would be "
        f"keyed by {column}; reports never show raw user identifiers (docs/privacy.md)")


def test_report_refuses_a_built_table_keyed_by_user():
    from shortvid_analytics.errors import OptionError
    from shortvid_analytics.report.build import _refuse_identifier_tables
    from shortvid_analytics.report.content import SectionOutput, Table

    _refuse_identifier_tables(SectionOutput(blocks=[Table("ok", ["creator_id", "views"], [])]))
    with pytest.raises(OptionError, match="keyed by user_id"):
        _refuse_identifier_tables(SectionOutput(blocks=[Table("per user", ["user_id", "views"], [])]))
