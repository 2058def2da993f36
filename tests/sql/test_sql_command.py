"""``shortvid sql``: it prints exactly the statements a real run of the command executes, in order, with
their bound parameters; -o writes the same text; --explain adds each statement's plan."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from shortvid_analytics import sql
from shortvid_analytics.cli import app
from shortvid_analytics.render.sql import literal, statements_text
from tests.locations import REPO

ROOT = REPO
EVENTS = "examples/data/events"
RUNS = {
    "funnel": ["funnel", EVENTS, "--steps", "video_view,purchase", "--window", "1d", "--by", "platform"],
    "paths": ["paths", EVENTS, "--start", "video_view", "--steps", "3"],
    "kpi": ["kpi", EVENTS, "--period", "week"],
}


@pytest.fixture(autouse=True)
def at_root():
    cwd = os.getcwd()
    os.chdir(ROOT)
    yield
    os.chdir(cwd)


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("name", list(RUNS))
def test_printed_statements_are_those_a_real_run_executes(name):
    with sql.tracing() as executed:
        real = invoke(*RUNS[name])
    assert real.stdout  # the real run prints its result ...
    printed = invoke("sql", *RUNS[name]).stdout
    assert printed == statements_text(executed)  # ... shortvid sql the statements it ran, and nothing else
    assert [s.name for s in executed][:4] == ["raw_events_view", "source_checks", "events_view",
                                              "events_in_range_view"]


def test_output_file_holds_the_same_text(tmp_path):
    target = tmp_path / "funnel.sql"
    printed = invoke("sql", *RUNS["funnel"]).stdout
    assert invoke("sql", *RUNS["funnel"], "-o", str(target)).stdout == ""
    assert target.read_text(encoding="utf-8") == printed


def test_explain_prints_each_plan():
    text = invoke("sql", "--explain", *RUNS["kpi"]).stdout
    assert text.count("/* EXPLAIN ANALYZE") == text.count("-- [")
    assert "kpi_periods" in text


@pytest.mark.parametrize("args, message", [
    (["generate", "--out", "x"], "expected one of"),
    (["funnel", EVENTS, "--steps", "a,b", "--chart", "c.png"], "--chart"),
])
def test_refusals(args, message):
    result = CliRunner().invoke(app, ["sql", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_parameter_values_are_sql_literals():
    from datetime import date, datetime, timedelta

    assert literal("it's") == "'it''s'"
    assert literal([1, None, True]) == "[1, NULL, TRUE]"
    assert literal(datetime(2026, 1, 2, 3)) == "TIMESTAMP '2026-01-02 03:00:00'"
    assert literal(date(2026, 1, 2)) == "DATE '2026-01-02'"
    assert literal(timedelta(days=1)) == "INTERVAL '86400 seconds'"
