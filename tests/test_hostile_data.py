"""Hostile data: every data problem is refused (or dropped with a warning) in the source layer.

The contract (issue 28): no input provokes exit 70; a data problem exits 1 with one ``error: ...`` line
on stderr naming the file, column, value and count, no traceback, no output file, and the input left
byte-identical. Plus the time rules that used to give wrong answers without an error.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from shortvid_analytics.cli import app
from shortvid_analytics.config import Config
from shortvid_analytics.source import EventSource

from .conftest import at, events_frame


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
