"""Scale plumbing: the --memory-limit / --threads flags reach DuckDB and override the config file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from shortvid_analytics import source as source_module
from shortvid_analytics.config import Config

from .conftest import T0, at


@pytest.fixture
def engine_settings(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The DuckDB settings of every connection the source layer opens."""
    seen: list[dict[str, str]] = []
    real_connect = source_module.connect

    def recording_connect(config: Config) -> duckdb.DuckDBPyConnection:
        con = real_connect(config)
        rows = con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', 'memory_limit')")
        seen.append(dict(rows.fetchall()))
        return con

    monkeypatch.setattr(source_module, "connect", recording_connect)
    return seen


@pytest.fixture
def events(write_events) -> Path:
    return write_events([(1, "video_view", T0), (1, "purchase", at(5))])


def test_flags_set_duckdb_threads_and_memory_limit(cli, events: Path, engine_settings) -> None:
    result = cli("--threads", "1", "--memory-limit", "512MiB", "validate", str(events), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert engine_settings == [{"threads": "1", "memory_limit": "512.0 MiB"}]


def test_flags_override_the_config_file(cli, events: Path, engine_settings, tmp_path: Path) -> None:
    config = tmp_path / "shortvid.toml"
    config.write_text('[engine]\nmemory_limit = "1GiB"\nthreads = 2\n', encoding="utf-8")
    assert cli("-c", str(config), "validate", str(events), "-f", "json").exit_code == 0
    assert cli("-c", str(config), "--threads", "1", "validate", str(events), "-f", "json").exit_code == 0
    assert cli("-c", str(config), "--memory-limit", "256MiB", "validate", str(events), "-f", "json").exit_code == 0
    assert engine_settings == [
        {"threads": "2", "memory_limit": "1.0 GiB"},
        {"threads": "1", "memory_limit": "1.0 GiB"},
        {"threads": "2", "memory_limit": "256.0 MiB"},
    ]


def test_bad_memory_limit_is_one_line_option_error(cli, events: Path) -> None:
    result = cli("--memory-limit", "lots", "validate", str(events))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: engine setting memory_limit (--memory-limit) = 'lots':")
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_threads_must_be_positive(cli, events: Path) -> None:
    result = cli("--threads", "0", "validate", str(events))
    assert result.exit_code == 2
    assert "--threads" in result.stderr
