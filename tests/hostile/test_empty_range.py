"""One rule for a --from/--to range without events: every command exits 1 with
``error: no events between A and B (the data covers C .. D)``, one line, no traceback, nothing written.
The rule is :meth:`EventSource.open`'s, decided from the Parquet statistics where they can tell and
else by reading the range up to its first event: both ways must give the same answer."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from shortvid_analytics.config import Config
from shortvid_analytics.errors import InputError
from shortvid_analytics.source import EventSource
from tests.conftest import at, events_frame
from tests.locations import EXAMPLE_DATA

EXAMPLE = EXAMPLE_DATA
EVENTS = EXAMPLE / "events"
# examples/data spans the UTC days 2026-10-05 .. 2026-11-01; --from after it leaves --to open
AFTER = "error: no events between 2027-01-01 and 2026-11-01 (the data covers 2026-10-05 .. 2026-11-01)"

# every command reading events with --from/--to: its arguments, and whether it takes -o/--format
COMMANDS = {
    "validate": ([], True),
    "kpi": ([], True),
    "engagement": (["--by", "creator_id"], True),
    "funnel": (["--steps", "video_view,purchase"], True),
    "retention": ([], True),
    "lifecycle": ([], True),
    "stickiness": ([], True),
    "paths": (["--start", "video_view"], True),
    "attribution": ([], True),
    "ab": (["--assignments", EXAMPLE / "assignments.parquet", "--metric", "conversion:purchase"], True),
    "regress": ([], True),
    "digest": (["--out", "{tmp}/digest"], False),
    "anonymize": (["--out", "{tmp}/anonymized"], False),
}


def one_error_line(result) -> str:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("digest: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_exits_1_on_a_range_after_the_data(command, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTVID_PSEUDONYM_KEY", "0123456789abcdef0123456789abcdef")
    extra, writes_output = COMMANDS[command]
    args = [str(a).format(tmp=tmp_path) for a in extra]
    out = tmp_path / "out.json"
    if writes_output:
        args += ["--format", "json", "-o", out]
    result = cli(command, EVENTS, *args, "--from", "2027-01-01")
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    assert one_error_line(result) == AFTER
    assert result.stdout == ""
    assert not out.exists()
    for folder in ("digest", "anonymized"):  # a lock file (dot file) may stay, no output
        written = (tmp_path / folder).iterdir() if (tmp_path / folder).exists() else ()
        assert [p.name for p in written if not p.name.startswith(".")] == []


def test_report_section_with_an_empty_range_stops_the_build(cli, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('title = "T"\n\n[[sections]]\ntype = "kpi"\ntitle = "Weeks"\nfrom = "2027-01-01"\n'
                    'to = "2027-01-31"\n', encoding="utf-8")
    result = cli("report", EVENTS, "--spec", spec, "--out", tmp_path / "r.html")
    assert result.exit_code == 1
    assert one_error_line(result) == ('error: section 1 (kpi "Weeks"): no events between 2027-01-01 and '
                                      '2027-01-31 (the data covers 2026-10-05 .. 2026-11-01)')
    assert not (tmp_path / "r.html").exists()


def test_a_range_before_the_data_shows_the_data_start_for_the_open_from(cli):
    result = cli("kpi", EVENTS, "--to", "2026-01-01")
    assert result.exit_code == 1
    assert one_error_line(result) == ("error: no events between 2026-10-05 and 2026-01-01 "
                                      "(the data covers 2026-10-05 .. 2026-11-01)")


# ------------------------------------------------------------ statistics and reading agree
DAYS = (0, 1, 4, 5)  # events on 2026-11-02, -03, -06, -07 (UTC): a gap on the 4th and 5th


def _rows() -> list[tuple]:
    return [(f"u{d}", "video_view", at(hours=12, days=d)) for d in DAYS]


@pytest.fixture(params=["timestamp", "epoch"])
def shaped(request, tmp_path) -> tuple[Path, Config]:
    """The same events with a timestamp column (the statistics decide) or integer epochs (a read decides);
    small row groups so that some lie wholly inside, some astride and some outside a range."""
    frame = events_frame(_rows())
    config = Config()
    if request.param == "epoch":
        frame = frame.with_columns(pl.col("event_time").dt.epoch("s"))
        config = Config(epoch_unit="s")
    path = tmp_path / f"{request.param}.parquet"
    frame.write_parquet(path, row_group_size=2)
    return path, config


@pytest.mark.parametrize("date_from, date_to, has_events", [
    (date(2026, 11, 2), date(2026, 11, 2), True),     # a row group's first event
    (date(2026, 11, 3), date(2026, 11, 6), True),     # last of one row group, first of the next
    (date(2026, 11, 4), date(2026, 11, 5), False),    # inside the gap, between two row groups
    (date(2026, 11, 8), None, False),                 # after the data
    (None, date(2026, 11, 1), False),                 # before the data
    (None, date(2026, 11, 2), True),
    (date(2026, 11, 7), None, True),
])
def test_statistics_and_reading_agree(shaped, date_from, date_to, has_events):
    path, config = shaped
    if has_events:
        source = EventSource.open(path, config, date_from=date_from, date_to=date_to)
        assert source.con.execute("SELECT count(*) FROM events").fetchall()[0][0] > 0
        return
    with pytest.raises(InputError) as caught:
        EventSource.open(path, config, date_from=date_from, date_to=date_to)
    shown_from, shown_to = date_from or date(2026, 11, 2), date_to or date(2026, 11, 7)
    assert str(caught.value) == (f"no events between {shown_from} and {shown_to} "
                                 f"(the data covers 2026-11-02 .. 2026-11-07)")


def test_a_gap_inside_one_row_group_is_found_by_reading(write_events):
    path = write_events(_rows())  # one row group from the 2nd to the 7th: the statistics cannot tell
    with pytest.raises(InputError, match=r"^no events between 2026-11-04 and 2026-11-05 \(the data covers"):
        EventSource.open(path, date_from=date(2026, 11, 4), date_to=date(2026, 11, 5))
    assert EventSource.open(path, date_from=date(2026, 11, 3), date_to=date(2026, 11, 5))


def test_days_are_local_days_of_the_reporting_zone(write_events):
    # 2026-11-02 16:30 UTC is 2026-11-03 00:30 in China
    path = write_events([("u1", "video_view", datetime(2026, 11, 2, 16, 30))])
    china = Config(timezone="Asia/Shanghai")
    assert EventSource.open(path, china, date_from=date(2026, 11, 3), date_to=date(2026, 11, 3))
    with pytest.raises(InputError) as caught:
        EventSource.open(path, china, date_to=date(2026, 11, 2))
    assert str(caught.value) == "no events between 2026-11-03 and 2026-11-02 (the data covers 2026-11-03 .. 2026-11-03)"


def test_a_file_without_rows_still_says_so(tmp_path, cli):
    path = tmp_path / "e.parquet"
    pl.DataFrame(schema={"user_id": pl.String, "event_name": pl.String,
                         "event_time": pl.Datetime("us")}).write_parquet(path)
    result = cli("validate", path, "--from", "2026-11-01")
    assert result.exit_code == 1
    assert one_error_line(result) == f"error: {path}: no events (the input has no rows)"


def test_a_range_with_events_is_unchanged(cli):
    result = cli("validate", EVENTS, "--from", "2026-11-01", "--format", "json")
    assert result.exit_code == 0 and '"rows": ' in result.stdout and result.stderr == ""
