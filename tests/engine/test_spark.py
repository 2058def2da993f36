"""The Spark engine gives the DuckDB engine's numbers.

Every analysis below runs on both engines over the example export (``examples/data``, generated
with a planted experiment) in the reporting time zone Asia/Shanghai (so local days differ from UTC
days and the time-zone conversions are exercised); the results must be identical, except float
sums, which Spark adds up in another order (DuckDB's ``fsum`` is compensated, Spark's ``sum`` is
not): those agree to 1e-9 relative. One local SparkSession serves the module (JVM start-up is the
slow part). Skipped, saying why, only where Java or pyspark is absent.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from shortvid_analytics.ab.metrics import load_assignments, parse_metric, variant_sums
from shortvid_analytics.cli import COMMANDS, app
from shortvid_analytics.config import Config, EngineSettings
from shortvid_analytics.engagement import engagement
from shortvid_analytics.errors import InputError
from shortvid_analytics.eventspec import EventSpec
from shortvid_analytics.funnel import funnel
from shortvid_analytics.kpi import compute_table
from shortvid_analytics.lifecycle import lifecycle
from shortvid_analytics.periods import Period
from shortvid_analytics.regress.frame import Assignments, build_frame
from shortvid_analytics.retention import RetentionMode, retention
from shortvid_analytics.source import EventSource
from shortvid_analytics.spark import spark_available, to_spark
from shortvid_analytics.stickiness import stickiness
from tests.conftest import at
from tests.hostile.test_matrix import NO_EVENTS, hostile_frames, run_case, write_inputs
from tests.locations import EXAMPLE_DATA, REPO

DATA = EXAMPLE_DATA
ASSIGNMENTS = DATA / "assignments.parquet"
ZONE = "Asia/Shanghai"

_missing = spark_available() or (None if shutil.which("java") else "Java (17 or newer) is not on PATH")
needs_spark = pytest.mark.skipif(_missing is not None, reason=f"Spark engine unavailable: {_missing}")


def _config(engine: str) -> Config:
    return Config(timezone=ZONE, engine=EngineSettings(name=engine, threads=2))


@pytest.fixture(scope="module")
def engines() -> dict[str, EventSource]:
    return {name: EventSource.open(DATA / "events", _config(name)) for name in ("duckdb", "spark")}


def assert_same(duck: Any, spark: Any, path: str = "") -> None:
    """Equal, floats to 1e-9 relative (summation order), everything else exactly."""
    if isinstance(duck, dict):
        assert isinstance(spark, dict) and duck.keys() == spark.keys(), path
        for key in duck:
            assert_same(duck[key], spark[key], f"{path}.{key}")
    elif isinstance(duck, list | tuple):
        assert isinstance(spark, list | tuple) and len(duck) == len(spark), path
        for i, (a, b) in enumerate(zip(duck, spark, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(duck, float) and not isinstance(spark, bool):
        assert isinstance(spark, float | int), (path, duck, spark)
        assert (math.isnan(duck) and math.isnan(spark)) or math.isclose(duck, spark, rel_tol=1e-9, abs_tol=1e-12), \
            (path, duck, spark)
    else:
        assert type(duck) is type(spark) and duck == spark, (path, duck, spark)


def _result(result: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(result.to_dict(), default=str))
    engine = out["params"]["source"].pop("engine")
    assert engine in ("duckdb", "spark")
    return out


def _frame(frame: pl.DataFrame) -> dict[str, Any]:
    return {"schema": {name: str(dtype) for name, dtype in frame.schema.items()}, "rows": frame.rows()}


# ------------------------------------------------------------------------------------ no JVM needed
def test_transpiled_time_zone_conversions():
    # local time of a naive UTC event time; a tz-aware column to naive UTC; a naive local time to UTC
    assert to_spark("SELECT timezone('Asia/Shanghai', timezone('UTC', event_time)) FROM e") == (
        "SELECT CAST(FROM_UTC_TIMESTAMP(CAST(event_time AS TIMESTAMP_LTZ), 'Asia/Shanghai') AS TIMESTAMP_NTZ) FROM e")
    assert to_spark("SELECT timezone('UTC', CAST(t AS TIMESTAMPTZ))") == (
        "SELECT CAST(CAST(t AS TIMESTAMP_LTZ) AS TIMESTAMP_NTZ)")
    assert to_spark("SELECT timezone('UTC', timezone($tz, CAST(t AS TIMESTAMP)))") == (
        "SELECT CAST(TO_UTC_TIMESTAMP(CAST(t AS TIMESTAMP_NTZ), :tz) AS TIMESTAMP_NTZ)")


def test_transpiled_duckdb_constructs():
    assert to_spark("SELECT fsum(x), GROUPING(a, b, c) FROM t GROUP BY GROUPING SETS ((a), (a, b, c))") == (
        "SELECT SUM(x), (GROUPING(a) * 4 + GROUPING(b) * 2 + GROUPING(c) * 1) FROM t "
        "GROUP BY GROUPING SETS ((a), (a, b, c))")
    assert to_spark("SELECT l[1], l[i], m['k'], epoch_us(t), epoch(t)") == (
        "SELECT TRY_ELEMENT_AT(l, 1), TRY_ELEMENT_AT(l, CAST(i AS INT)), m['k'], "
        "UNIX_MICROS(CAST(t AS TIMESTAMP_LTZ)), UNIX_MICROS(CAST(t AS TIMESTAMP_LTZ)) / 1e6")
    assert to_spark("SELECT CAST($w AS INTERVAL), CAST($s AS INTERVAL)", {"w": timedelta(days=7), "s": "1 week"}) == (
        "SELECT :w, CAST(:s AS INTERVAL)")
    assert to_spark("SELECT arg_min(v, CASE WHEN ok THEN (t, v) END), x IN (1, 2)") == (
        "SELECT MIN_BY(v, CASE WHEN ok THEN STRUCT(t, v) END), x IN (1, 2)")


def test_engine_options_are_checked(cli, tmp_path):
    result = cli("--engine", "duckdb", "--spark-master", "spark://nowhere:7077", "validate", DATA / "events")
    assert result.exit_code == 2
    assert "--spark-master spark://nowhere:7077 needs --engine spark" in result.stderr
    config = tmp_path / "bad.toml"
    config.write_text('[engine]\nname = "flink"\n', encoding="utf-8")
    result = cli("--config", config, "validate", DATA / "events")
    assert result.exit_code == 1
    assert "[engine] name = 'flink'; expected one of duckdb, spark" in result.stderr


def test_anonymize_refuses_spark_before_starting_it(cli, tmp_path):
    result = cli("--engine", "spark", "anonymize", DATA / "events", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "runs with --engine duckdb only" in result.stderr
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------ both engines
@needs_spark
def test_source_columns_and_types_match(engines):
    assert engines["spark"].columns == engines["duckdb"].columns
    assert engines["spark"].event_names() == engines["duckdb"].event_names()


@needs_spark
@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_date_range_is_in_local_days(engines, engine):
    """--from/--to select local (Asia/Shanghai) days: counted against polars on the raw files. Spark
    reads the folder as a URI, listing it and finding its partitions itself (as on a data lake)."""
    path = (DATA / "events").as_uri() if engine == "spark" else DATA / "events"
    source = EventSource.open(path, _config(engine), date(2026, 10, 12), date(2026, 10, 18))
    assert "dt" in source.columns
    counted = source.con.execute("SELECT count(*), min(local_time), max(local_time) FROM events").fetchall()[0]
    raw = (pl.read_parquet(DATA / "events" / "*" / "*.parquet")
           .with_columns(local=pl.col("event_time").dt.convert_time_zone(ZONE).dt.replace_time_zone(None))
           .filter(pl.col("local").dt.date().is_between(date(2026, 10, 12), date(2026, 10, 18))))
    assert counted == (raw.height, raw["local"].min(), raw["local"].max())


@needs_spark
def test_a_range_without_events_is_refused_as_on_duckdb():
    """The check of EventSource.open runs on Spark too (no Parquet statistics there: a LIMIT 1 probe and
    a scan of the bounds for the message), with DuckDB's message; a range with events opens."""
    messages = {}
    for engine in ("duckdb", "spark"):
        with pytest.raises(InputError) as caught:
            EventSource.open(DATA / "events", _config(engine), date_from=date(2027, 1, 1))
        messages[engine] = str(caught.value)
    assert messages["spark"] == messages["duckdb"] == (
        "no events between 2027-01-01 and 2026-11-02 (the data covers 2026-10-05 .. 2026-11-02)")
    assert EventSource.open(DATA / "events", _config("spark"), date(2026, 11, 2), date(2026, 11, 2))


@needs_spark
def test_retention(engines):
    """Daily recurring cohorts by platform (weekly first-time cohorts: the CLI test below)."""
    results = [_result(retention(engines[e], EventSpec.parse("video_view"), EventSpec.parse("purchase"),
                                 period=Period.day, periods=4, mode=RetentionMode.recurring, by="platform"))
               for e in ("duckdb", "spark")]
    assert_same(*results)


@needs_spark
def test_ab_inputs(engines):
    """The per-variant sums (by segment, with CUPED covariates, a 7-day window and 99% capping of the
    mean metrics): everything ``ab`` computes from the events; its statistics are the same Python
    code on either engine."""
    defs = [parse_metric(m) for m in ["conversion:purchase", "revenue_per_user", "ratio:purchase/video_view", "aov"]]
    inputs = []
    for name in ("duckdb", "spark"):
        source = engines[name]
        info = load_assignments(source, ASSIGNMENTS, "checkout_v2", segment_column="platform",
                                window=timedelta(days=7), pre_period=timedelta(days=14))
        sums, caps = variant_sums(source, defs, cuped=True, segment_column="platform", segment_from_events=True,
                                  first_needed=info.first_needed, last_needed=info.last_needed, cap=0.99)
        inputs.append({"users": info.users, "caps": caps,
                       **{str(segment): {variant: [vars(s) for s in per_metric] for variant, per_metric in v.items()}
                          for segment, v in sums.items()}})
    assert set(inputs[0]) == {"users", "caps", "None", "douyin", "kuaishou"} and inputs[0]["caps"][1] > 0
    assert_same(*inputs)


@needs_spark
def test_funnel(engines):
    """Ordered funnel with a held product, an exclusion, a breakdown and weekly trends."""
    results = [_result(funnel(engines[e], "product_click,add_to_cart,purchase", hold="product_id",
                              exclude=["refund"], by="platform", trends="week")) for e in ("duckdb", "spark")]
    assert results[0]["steps"][2]["users"] > 0
    assert_same(*results)


@needs_spark
@pytest.mark.parametrize("analysis", [
    lambda source: lifecycle(source, EventSpec.parse("video_view"), Period.week),
    lambda source: stickiness(source, EventSpec.parse("like|comment|share"), Period.month),
    lambda source: engagement(source, ["creator_id"], top=10, sort="ctr", rank_by_lower_bound=True),
], ids=["lifecycle", "stickiness", "engagement"])
def test_other_analyses(engines, analysis):
    assert_same(*[_result(analysis(engines[e])) for e in ("duckdb", "spark")])


@needs_spark
def test_kpi(engines):
    results = [_result(compute_table(engines[e], Period.week, ["platform"])) for e in ("duckdb", "spark")]
    assert results[0]["periods"]
    assert_same(*results)


@needs_spark
@pytest.mark.parametrize(("unit", "with_assignments"), [("user", True), ("user_video", False), ("session", False)])
def test_regression_frames(engines, unit, with_assignments):
    assignments = Assignments(str(ASSIGNMENTS)) if with_assignments else None
    frames = [_frame(build_frame(engines[e], unit, timedelta(days=7), assignments).data) for e in ("duckdb", "spark")]
    assert len(frames[0]["rows"]) > 1000
    assert_same(*frames)


@needs_spark
def test_cli_gives_the_same_json(cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'timezone = "{ZONE}"\n', encoding="utf-8")
    outputs = []
    for engine in ("duckdb", "spark"):
        result = cli("--config", config, "--engine", engine, "retention", DATA / "events",
                     "--start", "video_view", "--return", "purchase", "--period", "week", "--format", "json")
        assert result.exit_code == 0, result.stderr
        outputs.append(json.loads(result.stdout))
        assert outputs[-1]["params"]["source"].pop("engine") == engine
    assert_same(*outputs)


@needs_spark
def test_unreadable_parquet_is_one_line_error(cli, tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    result = cli("--engine", "spark", "validate", bad)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}: cannot read as Parquet:")
    assert len(result.stderr.strip().splitlines()) == 1


#: The one line Java itself prints when Spark's launcher adds the vector module (always): Java has no
#: switch to silence it, so it is the only stderr line allowed.
JVM_INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector"


@needs_spark
def test_spark_start_up_keeps_stderr_clean(write_events, tmp_path):
    """A fresh process (a new JVM): Spark's start-up messages ("Setting default log level ...") stay off
    stderr, which cron jobs watch; the result is the same as DuckDB's."""
    events = write_events([(1, "video_view", at(10), {"platform": "douyin"}), (1, "purchase", at(70), {"revenue": 9.5}),
                           (2, "video_view", at(0, days=8), {"platform": "kuaishou"})])
    outputs, stderr = {}, {}
    for engine in ("duckdb", "spark"):
        run = subprocess.run(
            [sys.executable, "-m", "shortvid_analytics.cli", "--engine", engine, "kpi", str(events),
             "--format", "json"],
            cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
        assert run.returncode == 0, run.stderr
        stderr[engine] = [line for line in run.stderr.splitlines() if line != JVM_INCUBATOR_WARNING]
        outputs[engine] = json.loads(run.stdout)
        assert outputs[engine]["params"]["source"].pop("engine") == engine
    assert_same(outputs["duckdb"], outputs["spark"])
    # the KPI warning (this export has no likes, ...) and nothing else: Spark adds no line of its own
    assert stderr["spark"] == stderr["duckdb"] and all(line.startswith("warning: ") for line in stderr["duckdb"])


# The hostile-input matrix's Spark cases run here, in the file whose JVM is already up: a second JVM in
# another test worker costs a minute of start-up on 2 cores.
@pytest.fixture(scope="module")
def spark_started(tmp_path_factory) -> None:
    """The JVM and the Spark session start once, untimed; the cases' 30 s are for the command itself."""
    events = write_inputs(tmp_path_factory.mktemp("spark") / "in", hostile_frames()["good"]())["EVENTS"]
    assert CliRunner().invoke(app, ["--engine", "spark", "validate", str(events)]).exit_code == 0


@needs_spark
@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in NO_EVENTS])
def test_hostile_input_on_spark(tmp_path, command, spark_started):
    # refused by the source layer's check query as it runs on Spark, before any analysis
    run_case(tmp_path, command, "nan_inf_revenue", [], engine=["--engine", "spark"])
