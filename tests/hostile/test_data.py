"""Hostile data: every data problem is refused (or dropped with a warning) in the source layer.

The contract: no input provokes exit 70; a data problem exits 1 with one ``error: ...`` line
on stderr naming the file, column, value and count, no traceback, no output file, and the input left
byte-identical. Plus the time rules that used to give wrong answers without an error.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from shortvid_analytics.cli import app
from shortvid_analytics.config import Config
from shortvid_analytics.source import EventSource
from tests.conftest import at, events_frame
from tests.locations import EXAMPLES


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def basic_rows(n: int = 6) -> list[tuple]:
    return [(f"u{i % 3}", "video_view" if i % 2 else "purchase", at(hours=i),
             {"revenue": 10.0 if i % 2 == 0 else None, "order_id": f"o{i}"}) for i in range(n)]


def assert_refused(result, *needles: str, exit_codes: tuple[int, ...] = (1,)) -> str:
    """Exit 1 (or 2), exactly one ``error:`` line naming every needle, no traceback."""
    stderr = result.stderr
    assert result.exit_code in exit_codes, (result.exit_code, result.output, stderr)
    assert result.exit_code != 70
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr and "Traceback" not in result.stdout
    assert "internal error" not in stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def refused_everywhere(path: Path, tmp_path: Path, *needles: str, config: Path | None = None) -> None:
    """Each command that reads events refuses ``path`` the same way, writes no -o file, changes no byte."""
    before = path.read_bytes()
    prefix = ["--config", config] if config else []
    for command in (["validate"], ["kpi"], ["lifecycle"], ["stickiness"], ["attribution"]):
        out = tmp_path / f"out_{command[0]}.json"
        result = run(*prefix, *command, path, "-o", out)
        assert_refused(result, *needles)
        assert not out.exists()
    assert path.read_bytes() == before


# ------------------------------------------------------------------------------------------ paths
def test_folder_with_glob_characters_is_a_literal_path(tmp_path):
    folder = tmp_path / "a[1]"
    folder.mkdir()
    events_frame(basic_rows()).write_parquet(folder / "events.parquet")
    for target in (folder, folder / "events.parquet"):
        result = run("validate", target, "-f", "json")
        assert result.exit_code == 0, result.output
        assert '"rows": 6' in result.stdout


# ------------------------------------------------------------------------------------- refused data
def _write(tmp_path: Path, frame: pl.DataFrame, name: str = "events.parquet") -> Path:
    path = tmp_path / name
    frame.write_parquet(path)
    return path


def _with(column: str, values: list, dtype=None) -> pl.DataFrame:
    frame = events_frame(basic_rows())
    return frame.with_columns(pl.Series(column, values, dtype=dtype or frame.schema[column]))


@pytest.mark.parametrize("value, shown", [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf")])
def test_non_finite_revenue_is_refused_naming_file_column_value_and_count(tmp_path, value, shown):
    path = _write(tmp_path, _with("revenue", [10.0, None, value, None, value, None]))
    refused_everywhere(path, tmp_path, str(path), "'revenue'", "2 non-finite", shown)


def test_negative_revenue_is_refused_naming_the_value_and_event(tmp_path):
    path = _write(tmp_path, _with("revenue", [10.0, None, -4.5, None, 3.0, None]))
    refused_everywhere(path, tmp_path, str(path), "'revenue'", "1 negative", "-4.5", "'purchase'")


def test_negative_revenue_in_ab_is_refused_not_a_zero_division(tmp_path):
    path = _write(tmp_path, _with("revenue", [-10.0, None, -4.5, None, -3.0, None]))
    assignments = tmp_path / "assignments.parquet"
    pl.DataFrame({"user_id": ["u0", "u1", "u2"], "experiment_id": ["e"] * 3, "variant": ["control", "b", "control"],
                  "assigned_at": [at()] * 3}).write_parquet(assignments)
    result = run("ab", "analyze", path, "--assignments", assignments, "-m", "revenue:purchase")
    assert_refused(result, "'revenue'", "3 negative")


def test_all_null_event_time_is_refused(tmp_path):
    path = _write(tmp_path, _with("event_time", [None] * 6))
    refused_everywhere(path, tmp_path, str(path), "'event_time'", "NULL in all 6")


def test_all_null_user_id_is_refused(tmp_path):
    path = _write(tmp_path, _with("user_id", [None] * 6))
    refused_everywhere(path, tmp_path, str(path), "'user_id'", "NULL in all 6")


def test_rows_with_a_null_event_time_are_dropped_with_one_warning(tmp_path):
    times = [at(hours=i) for i in range(6)]
    times[2] = None
    path = _write(tmp_path, _with("event_time", times))
    for command in ("kpi", "lifecycle", "stickiness", "attribution"):
        result = run(command, path, "-f", "json")
        assert result.exit_code == 0, (command, result.output, result.stderr)
        dropped = [line for line in result.stderr.splitlines() if "left out" in line]
        assert len(dropped) == 1 and dropped[0].startswith("warning: "), result.stderr
        assert "'event_time'" in dropped[0] and "1 of 6 row(s)" in dropped[0]
    kpi = run("kpi", path, "--period", "week", "-f", "json")
    assert '"gmv": 20.0' in kpi.stdout.replace(" ", "").replace('"gmv":20.0', '"gmv": 20.0')
    report = run("validate", path, "-f", "json")
    assert report.exit_code == 0 and "left out" in report.stdout


def test_rows_with_a_null_required_column_are_refused_under_strict(tmp_path):
    users = [f"u{i}" for i in range(6)]
    users[1] = None
    path = _write(tmp_path, _with("user_id", users))
    config = tmp_path / "strict.toml"
    config.write_text("[data]\nstrict = true\n", encoding="utf-8")
    refused_everywhere(path, tmp_path, str(path), "'user_id'", "NULL in 1 of 6", config=config)


def test_epoch_milliseconds_read_as_seconds_are_refused_with_the_unit_that_fits(tmp_path):
    millis = [int(at(hours=i).replace(tzinfo=UTC).timestamp() * 1000) for i in range(6)]
    path = _write(tmp_path, _with("event_time", millis, pl.Int64))
    config = tmp_path / "seconds.toml"
    config.write_text('[time]\nepoch_unit = "s"\n', encoding="utf-8")
    refused_everywhere(path, tmp_path, str(path), "'event_time'", "6 value(s)", "epoch_unit = \"ms\"",
                       config=config)


def test_events_in_year_9999_are_refused(tmp_path):
    times = [at(hours=i) for i in range(6)]
    times[3] = datetime(9999, 12, 31, 23, 59, 59)
    path = _write(tmp_path, _with("event_time", times))
    refused_everywhere(path, tmp_path, str(path), "'event_time'", "1 value(s)", "9999-12-31")
    for command in (["digest", path, "--out", tmp_path / "digest", "--week", "last"],):
        assert_refused(run(*command), "'event_time'")
    assert not list((tmp_path / "digest").glob("digest-*")), "no partial digest"


def test_epochs_beyond_any_unit_are_refused_naming_the_year(tmp_path):
    path = _write(tmp_path, _with("event_time", [253402300799 * 10**6] * 5 + [10**18 * 9], pl.Int64))
    error = assert_refused(run("kpi", path), "'event_time'", "year")
    assert "epoch_unit" in error


def test_an_export_with_no_rows_is_refused(tmp_path):
    path = _write(tmp_path, events_frame(basic_rows()).head(0))
    refused_everywhere(path, tmp_path, str(path), "no rows")


def test_the_file_named_is_the_one_holding_the_bad_rows(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    events_frame(basic_rows()).write_parquet(folder / "good.parquet")
    _with("revenue", [10.0, None, math.nan, None, 3.0, None]).write_parquet(folder / "bad.parquet")
    error = assert_refused(run("kpi", folder), "'revenue'", "1 non-finite")
    assert "bad.parquet" in error and "good.parquet" not in error


# ------------------------------------------------------------------------------- time correctness
def _naive_utc(wall: datetime, zone: str, fold: int = 0) -> datetime:
    """What Python's zoneinfo makes of wall-clock time ``wall`` in ``zone`` (fold=0 unless told)."""
    return wall.replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC).replace(tzinfo=None)


def _event_times(path: Path, zone: str) -> list[datetime]:
    source = EventSource.open(path, Config(source_timezone=zone))
    return sorted(row[0] for row in source.con.execute("SELECT event_time FROM events_all").fetchall())


# a repeated (clocks back) and a skipped (clocks forward) wall time in 2026 per zone, and ordinary ones
DST_CASES = {
    "America/New_York": [datetime(2026, 11, 1, 1, 30), datetime(2026, 3, 8, 2, 30)],
    "Europe/London": [datetime(2026, 10, 25, 1, 30), datetime(2026, 3, 29, 1, 30)],
    "Australia/Lord_Howe": [datetime(2026, 4, 5, 1, 45), datetime(2026, 10, 4, 2, 15)],
}
ORDINARY = [datetime(2026, 7, 1, 12, 0), datetime(2026, 12, 24, 23, 59, 59)]


@pytest.mark.parametrize("zone", sorted(DST_CASES))
def test_a_repeated_wall_time_is_its_first_occurrence_as_in_zoneinfo(tmp_path, zone):
    repeated = DST_CASES[zone][0]
    assert _naive_utc(repeated, zone, fold=0) != _naive_utc(repeated, zone, fold=1), "the hour is repeated"
    walls = [*DST_CASES[zone], *ORDINARY]
    path = _write(tmp_path, pl.DataFrame({"event_time": walls, "user_id": ["a"] * len(walls),
                                          "event_name": ["like"] * len(walls)}))
    assert _event_times(path, zone) == sorted(_naive_utc(w, zone) for w in walls)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_text_timestamps_without_a_zone_are_read_in_source_timezone(tmp_path, zone):
    walls = [datetime(2026, 11, 2, 8, 0), datetime(2026, 11, 1, 1, 30), datetime(2026, 6, 1, 23, 15, 30, 250000)]
    frame = pl.DataFrame({"event_time": walls, "user_id": ["a", "b", "c"], "event_name": ["like"] * 3})
    naive = _write(tmp_path, frame, "naive.parquet")
    text = _write(tmp_path, frame.with_columns(pl.col("event_time").dt.to_string("%Y-%m-%d %H:%M:%S%.f")),
                  "text.parquet")
    expected = sorted(_naive_utc(w, zone) for w in walls)
    assert _event_times(naive, zone) == expected
    assert _event_times(text, zone) == expected


def test_text_timestamps_with_a_zone_keep_it_whatever_source_timezone(tmp_path):
    values = ["2026-11-02 08:00:00+08:00", "2026-11-02T00:00:00Z", "2026-11-01 20:00:00-04", "2026-11-02 09:00:00 UTC",
              "2026-11-02 08:00:00"]
    path = _write(tmp_path, pl.DataFrame({"event_time": values, "user_id": list("abcde"),
                                          "event_name": ["like"] * 5}))
    assert _event_times(path, "Asia/Shanghai") == sorted(
        [datetime(2026, 11, 2, 0, 0)] * 4 + [datetime(2026, 11, 2, 9, 0)])


def test_kpi_of_text_and_timestamp_exports_agree_under_source_timezone(tmp_path):
    rows = [("u1", "video_view", datetime(2026, 11, 2, 3, 0)), ("u2", "video_view", datetime(2026, 11, 2, 9, 0))]
    frame = events_frame(rows)
    naive = _write(tmp_path, frame, "naive.parquet")
    text = _write(tmp_path, frame.with_columns(pl.col("event_time").dt.to_string("%Y-%m-%d %H:%M:%S")), "text.parquet")
    config = tmp_path / "china.toml"
    config.write_text('[time]\nsource_timezone = "Asia/Shanghai"\n', encoding="utf-8")
    outputs = []
    for path in (naive, text):
        result = run("--config", config, "kpi", path, "--period", "day", "-f", "csv")
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert "2026-11-01" in outputs[0]  # 03:00 in Shanghai is the previous day in UTC


# --------------------------------------------------------------------------------------- assignments
def _assignments(tmp_path: Path, assigned_at: pl.Series, rows: int | None = None) -> Path:
    frame = pl.DataFrame({"experiment_id": ["e"] * 4, "user_id": ["u0", "u1", "u2", "u0"],
                          "variant": ["control", "b", "control", "control"], "assigned_at": assigned_at})
    path = tmp_path / "assignments.parquet"
    (frame.head(rows) if rows is not None else frame).write_parquet(path)
    return path


@pytest.mark.parametrize("case, needles", [
    ("no rows", ("no assignments", "no rows")),
    ("all-NULL timestamp", ("'assigned_at'", "NULL in all 4")),
    ("all-NULL untyped", ("'assigned_at'", "NULL in all 4")),
    ("year 9999", ("'assigned_at'", "1 value(s)", "9999-01-01")),
])
def test_unusable_assignments_are_refused_as_input_not_as_an_option(tmp_path, case, needles):
    events = _write(tmp_path, events_frame(basic_rows()))
    series = {
        "no rows": pl.Series([at()] * 4),
        "all-NULL timestamp": pl.Series([None] * 4, dtype=pl.Datetime("us")),
        "all-NULL untyped": pl.Series([None] * 4),
        "year 9999": pl.Series([at(), at(), datetime(9999, 1, 1), at()]),
    }[case]
    path = _assignments(tmp_path, series.alias("assigned_at"), rows=0 if case == "no rows" else None)
    before = path.read_bytes()
    out = tmp_path / "ab.json"
    result = run("ab", "analyze", events, "--assignments", path, "-m", "conversion:purchase", "-o", out)
    assert_refused(result, str(path), *needles)
    assert not out.exists() and path.read_bytes() == before


# -------------------------------------------------------------------------------- nested breakdowns
@pytest.mark.parametrize("column", ["context", "tags"])
@pytest.mark.parametrize("command", ["engagement", "kpi", "attribution"])
def test_a_struct_or_list_column_as_breakdown_is_written_in_every_format(tmp_path, command, column):
    frame = events_frame(basic_rows()).with_columns(
        pl.Series("context", [{"app": "a", "build": i % 2} for i in range(6)]),
        pl.Series("tags", [["x"], ["y", "z"], [], None, ["x"], ["y", "z"]]),
    )
    path = _write(tmp_path, frame)
    for suffix in ("csv", "json", "parquet", "md", "txt"):
        out = tmp_path / f"{command}_{column}.{suffix}"
        result = run(command, path, "--by", column, "-o", out)
        assert result.exit_code == 0, (suffix, result.output, result.stderr)
        assert out.exists()
    if command == "attribution":
        return  # attribution groups by the column's text (DuckDB's rendering), not by the nested value
    text = (tmp_path / f"{command}_{column}.csv").read_text(encoding="utf-8")
    assert ('{""app"": ""a""' if column == "context" else '[""y"", ""z""]') in text


# ------------------------------------------------------------------------------------------- validate
@pytest.mark.parametrize("extra", [[], ["-f", "json"], ["-o", "report.json"]])
def test_validate_strict_fails_on_an_event_name_outside_the_vocabulary(tmp_path, extra):
    rows = basic_rows() + [("u9", "pay_success", at(hours=9))]
    path = _write(tmp_path, events_frame(rows))
    extra = [str(tmp_path / e) if e.endswith(".json") else e for e in extra]
    assert run("validate", path, *extra).exit_code == 0
    result = run("validate", path, "--strict", *extra)
    assert result.exit_code == 1
    assert "pay_success" in (result.stdout + result.stderr + "".join(
        Path(e).read_text(encoding="utf-8") for e in extra if e.endswith(".json")))


def test_config_data_strict_must_be_a_boolean(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[data]\nstrict = "yes"\n', encoding="utf-8")
    path = _write(tmp_path, events_frame(basic_rows()))
    assert_refused(run("--config", config, "validate", path), "[data] strict")
    assert Config.load(EXAMPLES / "config.toml").strict is False


def test_a_range_whose_only_event_was_left_out_is_refused_as_empty(tmp_path):
    rows = basic_rows() + [(None, "video_view", at(days=20))]
    path = _write(tmp_path, events_frame(rows))
    day = at(days=20).date().isoformat()
    result = run("kpi", path, "--from", day, "--to", day)
    assert_refused(result, "no events between")


REPORT_SPEC = '''
title = "Hostile"

[[sections]]
type = "data"
title = "Data"

[[sections]]
type = "kpi"
title = "KPIs"
period = "day"
'''


def test_report_refuses_bad_data_and_says_once_which_rows_it_left_out(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(REPORT_SPEC, encoding="utf-8")
    bad = _write(tmp_path, _with("revenue", [10.0, None, math.nan, None, 3.0, None]), "bad.parquet")
    out = tmp_path / "r.json"
    assert_refused(run("report", bad, "--spec", spec, "--out", out), "'revenue'", "non-finite")
    assert not out.exists()
    times = [at(hours=i) for i in range(6)]
    times[4] = None
    holed = _write(tmp_path, _with("event_time", times), "holed.parquet")
    result = run("report", holed, "--spec", spec, "--out", out)
    assert result.exit_code == 0, (result.output, result.stderr)
    assert [line for line in result.stderr.splitlines() if "left out" in line] == [
        f"warning: {holed}: 1 of 6 row(s) left out: NULL 'event_time' (event_time) in 1; "
        f"set [data] strict = true to refuse such input"]
