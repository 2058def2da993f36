"""Every registered command against a library of hostile inputs and options.

A command joins by being registered in ``shortvid_analytics.cli.COMMANDS`` with its example invocation; the
cases below are built from that example and from the command's own options (a ``--window`` gets an absurd
window, an ``--output`` a full disk, ...). Whatever happens, the rules of the README hold: exit 0, 1, 2 or 3
and never 70; no traceback; a failure is one ``error:`` line; inputs are byte-identical afterwards; no file
at the destination unless the command succeeded; no case takes more than 10 s.
"""

from __future__ import annotations

import hashlib
import math
import shlex
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shortvid_analytics.cli import COMMANDS, app
from tests.conftest import events_frame

T0 = datetime(2026, 11, 2)
ALLOWED_EXITS = {0, 1, 2, 3}
#: Lines a command may print on stderr besides its one error line: warnings, and digest's log lines.
LOG_PREFIXES = ("warning: ", "digest: ", "generating ")
KEY = "matrix-test-key-0123456789abcdef"
NO_EVENTS = {"demo", "generate"}  # commands without an EVENTS argument
HUGE = "99999999999999999999"


def good_rows() -> list[tuple]:
    rows: list[tuple] = []
    for u in range(8):
        user = f"u{u}"
        for day in range(0, 9, 2):
            base = T0 + timedelta(days=day, hours=u)
            extra = {"platform": "douyin" if u % 2 else "kuaishou", "creator_id": f"c{u % 3}", "video_id": f"v{u}",
                     "session_id": f"s{u}-{day}", "product_id": f"p{u % 2}", "traffic_source": "recommend"}
            rows.append((user, "video_view", base, {**extra, "watch_time_s": 12.5}))
            rows.append((user, "product_click", base + timedelta(minutes=3), extra))
            if (u + day) % 3 == 0:
                rows.append((user, "purchase", base + timedelta(minutes=9),
                             {**extra, "revenue": 20.0 + u, "order_id": f"o{u}-{day}"}))
    return rows


def _with(rows: list[tuple], **changes: Any) -> pl.DataFrame:
    return events_frame(rows).with_columns(**changes)


def hostile_frames() -> dict[str, Callable[[], pl.DataFrame]]:
    """Name -> the events of one hostile file (each small; the good rows with one thing wrong)."""
    rows = good_rows()
    good = events_frame(rows)
    n = good.height
    return {
        "good": lambda: good,
        "empty": lambda: good.head(0),
        "all_null_user_id": lambda: good.with_columns(pl.lit(None, dtype=pl.String).alias("user_id")),
        "some_null_event_time": lambda: good.with_columns(
            pl.when(pl.int_range(n) % 5 == 0).then(None).otherwise(pl.col("event_time")).alias("event_time")),
        "all_null_event_time": lambda: good.with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias("event_time")),
        "nan_inf_revenue": lambda: good.with_columns(
            pl.when(pl.col("event_name") == "purchase")
            .then(pl.Series([math.nan, math.inf, -math.inf] * (n // 3 + 1))[:n])
            .otherwise(pl.col("revenue")).alias("revenue")),
        "negative_revenue": lambda: good.with_columns((-pl.col("revenue")).alias("revenue")),
        "year_9999": lambda: pl.concat([good, events_frame([("u1", "video_view", datetime(9999, 12, 31, 23))])]),
        "epoch_milliseconds": lambda: good.with_columns(pl.col("event_time").dt.epoch("ms").alias("event_time")),
        "boolean_event_time": lambda: good.with_columns((pl.int_range(n) % 2 == 0).alias("event_time")),
        "nested_columns": lambda: good.with_columns(
            pl.struct(a=pl.col("platform"), b=pl.int_range(n)).alias("props"),
            pl.concat_list(pl.col("platform"), pl.col("creator_id")).alias("tags"),
            pl.col("user_id").str.slice(1).cast(pl.Int64).alias("user_id")),
        "unicode_and_markup": lambda: pl.concat([good, events_frame([
            ("u1", "<script>alert(1)</script>", T0 + timedelta(hours=1), {"creator_id": "<b>c</b>|x"}),
            ("u2", "a|b", T0 + timedelta(hours=2), {"creator_id": "line\nbreak"}),
            ("u3", "购买", T0 + timedelta(hours=3), {"creator_id": "抖音达人", "platform": "抖音"}),
            ("u4", "purchase", T0 + timedelta(hours=4), {"creator_id": "\u202etxt", "revenue": 5.0,
                                                         "platform": "快手"}),
        ])]),
    }


def write_inputs(folder: Path, frame: pl.DataFrame) -> dict[str, Path]:
    """The events file, an assignments file of its users and a report spec, in ``folder``."""
    folder.mkdir(parents=True)
    events = folder / "events.parquet"
    frame.write_parquet(events)
    assignments = folder / "assignments.parquet"
    pl.DataFrame({"experiment_id": ["exp"] * 8, "user_id": [f"u{i}" for i in range(8)],
                  "variant": ["control", "treatment"] * 4,
                  "assigned_at": [T0 - timedelta(hours=1)] * 8}).write_parquet(assignments)
    spec = folder / "spec.toml"
    spec.write_text('title = "Matrix"\n\n[[sections]]\ntype = "kpi"\ntitle = "KPIs"\nperiod = "day"\n',
                    encoding="utf-8")
    return {"EVENTS": events, "ASSIGNMENTS": assignments, "SPEC": spec}


def digest_of(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def command_options(command: str) -> set[str]:
    root = typer.main.get_command(app)
    cmd = root.get_command(typer.Context(root), command)
    if hasattr(cmd, "commands"):  # ab: the analysis is its default subcommand
        cmd = cmd.commands["analyze"]
    return {opt for param in cmd.params for opt in param.opts}


def option_cases(command: str) -> dict[str, list[str]]:
    """Hostile option values this command accepts an option for (extra arguments after its example)."""
    options = command_options(command)
    cases: dict[str, list[str]] = {}
    for option in ("--window", "--cuped-days", "--periods", "--top", "--users", "--days", "--steps", "--by-limit"):
        if option in options:
            value = f"{HUGE}d" if option == "--window" else HUGE
            cases[f"huge {option}"] = [option, value]
    if "--from" in options:
        cases["--from 0001-01-01"] = ["--from", "0001-01-01"]
    if "--output" in options:
        cases["-o onto a full disk"] = ["-o", "/dev/full", "-f", "json"]
        cases["-o onto a directory"] = ["-o", "DIRECTORY", "-f", "json"]
    return cases


def matrix() -> list[tuple[str, str, list[str]]]:
    """(command, case, extra arguments): every data case of every EVENTS command, and every option case."""
    out = []
    for command in COMMANDS:
        if command not in NO_EVENTS:
            out += [(command, name, []) for name in hostile_frames()]
        out += [(command, name, extra) for name, extra in option_cases(command).items()]
    return out


def run_case(tmp_path: Path, command: str, data: str, extra: list[str], engine: list[str] | None = None,
             frame: pl.DataFrame | None = None) -> None:
    inputs = write_inputs(tmp_path / "in", frame if frame is not None else hostile_frames()[data]())
    out, directory = tmp_path / "out", tmp_path / "a-directory"
    directory.mkdir()
    words = {**{k: str(v) for k, v in inputs.items()}, "OUT": str(out), "DIRECTORY": str(directory)}
    # a placeholder stands alone (EVENTS) or starts a path (OUT/report.json)
    argv = [next((words[k] + w[len(k):] for k in words if w == k or w.startswith(k + "/")), w)
            for w in [*shlex.split(COMMANDS[command].example), *extra]]
    before = digest_of(tmp_path / "in")
    started = time.monotonic()
    result = CliRunner().invoke(app, [*(engine or []), *command.split(), *argv],
                                env={"SHORTVID_PSEUDONYM_KEY": KEY}, catch_exceptions=True)
    elapsed = time.monotonic() - started
    where = f"{command} [{data}] {' '.join(extra)}: exit {result.exit_code}\n{result.stderr}"
    assert result.exit_code in ALLOWED_EXITS, where
    assert result.exception is None or isinstance(result.exception, SystemExit), where
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, where
    if result.exit_code != 0:
        errors = [line for line in result.stderr.splitlines() if not line.startswith(LOG_PREFIXES)]
        assert len(errors) == 1 and errors[0].startswith("error: "), where
        # the lock file of digest's lock protocol may stay (unlinking it would race another run); no output.
        # When only -o failed (a full disk), what the command wrote to its --out folder before is complete.
        leftovers = [p.name for p in out.rglob("*") if not p.name.endswith(".lock")] if out.exists() else []
        assert leftovers == [] or "-o" in extra, where
        assert list(directory.iterdir()) == [], where
    assert digest_of(tmp_path / "in") == before, where
    # Spark in local mode plans and runs every statement as a job (seconds each on 2 cores, however small the
    # data), so a Spark case gets 30 s; every DuckDB case, 10 s
    assert elapsed < (10 if engine is None else 30), where


@pytest.mark.parametrize("command, data, extra", matrix(),
                         ids=[f"{c}-{d}" for c, d, _ in matrix()])
def test_hostile_input(tmp_path, command, data, extra):
    run_case(tmp_path, command, data if not extra else "good", extra)


@st.composite
def hostile_frame(draw) -> pl.DataFrame:
    """A small events table whose cells may be NULL, non-finite, far in time or full of markup."""
    size = draw(st.integers(0, 12))
    names = st.sampled_from(["video_view", "purchase", "product_click", "", "<i>", "a|b", "购买", "x\ny"])
    times = st.one_of(st.none(), st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 1, 1)))
    revenue = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64))
    users = st.one_of(st.none(), st.sampled_from(["u1", "u2", "", "用户"]))
    return pl.DataFrame({
        "event_time": draw(st.lists(times, min_size=size, max_size=size)),
        "user_id": draw(st.lists(users, min_size=size, max_size=size)),
        "event_name": draw(st.lists(names, min_size=size, max_size=size)),
        "revenue": draw(st.lists(revenue, min_size=size, max_size=size)),
    }, schema={"event_time": pl.Datetime("us"), "user_id": pl.String, "event_name": pl.String,
               "revenue": pl.Float64})


@pytest.mark.parametrize("command", ["validate", "kpi", "funnel", "engagement"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=hostile_frame())
def test_generated_hostile_files(tmp_path_factory, command, frame):
    run_case(tmp_path_factory.mktemp(command), command, "generated", [], frame=frame)
