"""`shortvid validate` and the event source: content summary checked against hand counts, and every
bad-input case giving a one-line error, a non-zero exit code and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest

from shortvid_analytics.config import Config
from shortvid_analytics.errors import InputError
from shortvid_analytics.source import EventSource
from shortvid_analytics.validate import validate
from tests.conftest import at

ROWS = [
    ("u1", "video_view", at(0), {"platform": "douyin", "revenue": None}),
    ("u1", "like", at(1), {"platform": "douyin"}),
    ("u1", "purchase", at(5), {"platform": "douyin", "revenue": 10.0, "order_id": "o1"}),
    ("u2", "video_view", at(10), {"platform": "kuaishou"}),
    ("u2", "video_view", at(10), {"platform": "kuaishou"}),  # exact duplicate of the row above
    ("u3", "pay_success", at(20), {"platform": None}),  # outside the vocabulary
]


def one_line_error(result) -> str:
    """The error output must be exactly one line per problem and carry no traceback."""
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("error: ") for line in lines), result.stderr
    return "\n".join(lines)


def test_summary_matches_hand_counts(write_events):
    path = write_events(ROWS)
    result = validate(EventSource.open(path), as_of=datetime(2026, 11, 2, 0, 15, tzinfo=UTC))
    assert result.rows == 6
    assert result.users == 3
    assert result.first_event_utc == at(0) and result.last_event_utc == at(20)
    assert {(e.event_name, e.events, e.users) for e in result.events} == {
        ("video_view", 3, 2), ("like", 1, 1), ("purchase", 1, 1), ("pay_success", 1, 1)}
    assert result.duplicate_rows == 1
    assert result.future_events == 1  # only the 00:20 event is after 00:15
    nulls = {c.column: (c.source_column, c.nulls) for c in result.columns}
    assert nulls["platform"] == ("platform", 1)
    assert nulls["revenue"] == ("revenue", 5)
    assert nulls["device"] == (None, 6)  # absent column: all null, reported as absent
    assert any("pay_success" in w for w in result.warnings)
    assert any("1 exact duplicate" in w for w in result.warnings)


def test_cli_json_contract_and_exit_zero(write_events, cli):
    path = write_events(ROWS)
    result = cli("validate", path, "--format", "json", "--as-of", "2030-01-01")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["kind"] == "validate" and doc["version"] and doc["params"]["source"]["path"] == str(path)
    assert doc["rows"] == 6 and doc["users"] == 3 and doc["future_events"] == 0
    assert doc["time_range"]["first_utc"] == "2026-11-02T00:00:00"


def test_table_output_and_strict(write_events, cli):
    path = write_events(ROWS)
    result = cli("validate", path)
    assert result.exit_code == 0
    assert "Events per name" in result.stdout and "pay_success (not in vocabulary)" in result.stdout
    assert cli("validate", path, "--strict").exit_code == 1


def test_date_range_restricts_rows(write_events):
    rows = [("u1", "video_view", at(0, days=d)) for d in range(5)]
    source = EventSource.open(write_events(rows), date_from=at(days=1).date(), date_to=at(days=3).date())
    assert validate(source).rows == 3


def test_timezone_shifts_local_time(write_events, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('timezone = "Asia/Shanghai"\n')
    source = EventSource.open(write_events([("u1", "video_view", at(hours=20))]), Config.load(cfg))
    local = source.con.execute("SELECT local_time FROM events").fetchall()[0][0]
    assert local == datetime(2026, 11, 3, 4, 0)  # 20:00 UTC = 04:00 next day in UTC+8


def test_mapping_aliases_and_epoch_seconds(tmp_path, cli):
    path = tmp_path / "raw.parquet"
    pl.DataFrame({
        "uid": [1, 1, 2],
        "behavior_type": ["pv", "buy", "pv"],
        "timestamp": [1_700_000_000, 1_700_000_060, 1_700_000_120],
    }).write_parquet(path)
    cfg = tmp_path / "c.toml"
    cfg.write_text('[columns]\nuser_id = "uid"\nevent_name = "behavior_type"\nevent_time = "timestamp"\n'
                   '[events]\nproduct_click = ["pv"]\npurchase = ["buy"]\n')
    source = EventSource.open(path, Config.load(cfg))
    assert source.event_names() == ["product_click", "purchase"]
    assert any("inferred as 's'" in n for n in source.notes)
    first = source.con.execute("SELECT min(event_time) FROM events").fetchall()[0][0]
    assert first == datetime(2023, 11, 14, 22, 13, 20)  # 1_700_000_000 s after the epoch, UTC
    result = cli("--config", cfg, "validate", path, "--format", "json")
    assert json.loads(result.stdout)["notes"][0].startswith("event_time: integer epoch unit inferred")


@pytest.mark.parametrize("unit,scale", [("ms", 1_000), ("us", 1_000_000)])
def test_epoch_units_inferred_from_magnitude(tmp_path, unit, scale):
    path = tmp_path / "raw.parquet"
    pl.DataFrame({"user_id": ["a"], "event_name": ["like"], "event_time": [1_700_000_000 * scale]}).write_parquet(path)
    source = EventSource.open(path)
    assert source.con.execute("SELECT event_time FROM events").fetchall()[0][0] == datetime(2023, 11, 14, 22, 13, 20)
    assert f"inferred as {unit!r}" in source.notes[0]


def test_tz_aware_and_naive_inputs_agree(tmp_path):
    aware = tmp_path / "aware.parquet"
    naive = tmp_path / "naive.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT TIMESTAMPTZ '2026-11-02 08:00:00+08' AS event_time, 'u' AS user_id, "
                f"'like' AS event_name) TO '{aware}'")
    con.execute(f"COPY (SELECT TIMESTAMP '2026-11-02 00:00:00' AS event_time, 'u' AS user_id, "
                f"'like' AS event_name) TO '{naive}'")
    times = [EventSource.open(p).con.execute("SELECT event_time FROM events").fetchall()[0][0] for p in (aware, naive)]
    assert times == [datetime(2026, 11, 2, 0, 0)] * 2


def test_hive_folder_and_glob(tmp_path, cli):
    for day in ("2026-11-01", "2026-11-02"):
        folder = tmp_path / "events" / f"dt={day}"
        folder.mkdir(parents=True)
        pl.DataFrame({"user_id": ["u"], "event_name": ["like"],
                      "event_time": [datetime.fromisoformat(day + "T12:00:00")]}).write_parquet(folder / "part-0.parquet")
    source = EventSource.open(tmp_path / "events")
    assert len(source.files) == 2 and "dt" in source.columns
    assert validate(source).rows == 2
    glob_result = cli("validate", str(tmp_path / "events" / "*" / "*.parquet"), "-f", "json")
    assert json.loads(glob_result.stdout)["rows"] == 2


# ---------------------------------------------------------------------------- bad input


def test_missing_required_column_names_it_and_lists_columns(tmp_path, cli):
    path = tmp_path / "e.parquet"
    pl.DataFrame({"user_id": ["u"], "ts": [at(0)], "name": ["like"]}).write_parquet(path)
    result = cli("validate", path)
    assert result.exit_code == 1
    message = one_line_error(result)
    assert "missing required column 'event_time'" in message and "columns present: user_id, ts, name" in message
    assert "missing required column 'event_name'" in message
    assert len(message.splitlines()) == 1  # both problems, in one line
    assert message.index("'event_time'") < message.index("; ") < message.index("'event_name'")


def test_event_time_text_that_does_not_parse(tmp_path, cli):
    path = tmp_path / "e.parquet"
    pl.DataFrame({"user_id": ["u", "v"], "event_name": ["like", "like"],
                  "event_time": ["2026-11-01 10:00:00", "yesterday"]}).write_parquet(path)
    result = cli("validate", path)
    assert result.exit_code == 1
    assert "'event_time' (event_time) is text and 1 value(s) do not parse" in one_line_error(result)
    assert "'yesterday'" in result.stderr


def test_event_time_text_that_parses_is_accepted(tmp_path):
    path = tmp_path / "e.parquet"
    pl.DataFrame({"user_id": ["u"], "event_name": ["like"], "event_time": ["2026-11-01T10:00:00+08:00"]}).write_parquet(path)
    source = EventSource.open(path)
    assert source.con.execute("SELECT event_time FROM events").fetchall()[0][0] == datetime(2026, 11, 1, 2, 0)


def test_wrong_type_for_revenue(tmp_path, cli):
    path = tmp_path / "e.parquet"
    pl.DataFrame({"user_id": ["u"], "event_name": ["purchase"], "event_time": [at(0)],
                  "revenue": ["ten"]}).write_parquet(path)
    result = cli("validate", path)
    assert result.exit_code == 1
    assert "column 'revenue' (revenue) has type VARCHAR; expected a number" in one_line_error(result)


def test_empty_input(tmp_path, cli):
    path = tmp_path / "e.parquet"
    pl.DataFrame(schema={"user_id": pl.String, "event_name": pl.String,
                         "event_time": pl.Datetime("us")}).write_parquet(path)
    result = cli("validate", path)
    assert result.exit_code == 1
    assert "no events (the input has no rows)" in one_line_error(result)


def test_corrupt_parquet(tmp_path, cli):
    path = tmp_path / "e.parquet"
    path.write_bytes(b"PAR1 this is not really parquet PAR1")
    result = cli("validate", path)
    assert result.exit_code == 1
    assert f"{path}: cannot read as Parquet" in one_line_error(result)


@pytest.mark.parametrize("target", ["missing.parquet", "nothing/*.parquet", "emptydir"])
def test_path_matching_no_files(tmp_path, cli, target):
    (tmp_path / "emptydir").mkdir()
    result = cli("validate", tmp_path / target)
    assert result.exit_code == 1
    message = one_line_error(result)
    assert str(tmp_path / target) in message
    assert "no such file or folder" in message or "matches no Parquet files" in message


def test_bad_config_is_one_line(tmp_path, cli, write_events):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[columns]\nuserid = "uid"\n')
    result = cli("--config", cfg, "validate", write_events(ROWS))
    assert result.exit_code == 1
    assert "'userid' is not a canonical column" in one_line_error(result)
    cfg.write_text('timezone = "Mars/Olympus"\n')
    result = cli("--config", cfg, "validate", write_events(ROWS))
    assert "'Mars/Olympus' is not a known IANA time zone" in one_line_error(result)


def test_open_raises_input_error_in_python(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        EventSource.open(tmp_path / "nope.parquet")


def test_real_entry_point_prints_no_traceback(tmp_path):
    """The installed console script path (not only the in-process runner) keeps errors to one line."""
    proc = subprocess.run([sys.executable, "-m", "shortvid_analytics.cli", "validate", str(tmp_path / "x.parquet")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1


def test_debug_shows_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "shortvid_analytics.cli", "--debug", "validate",
                           str(tmp_path / "x.parquet")], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr
