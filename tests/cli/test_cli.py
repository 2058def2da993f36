"""The command line as a newcomer meets it: start-up cost, help, usage errors, option positions, -o formats."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata

import polars as pl
import pytest
from typer.testing import CliRunner

from shortvid_analytics.cli import COMMANDS, app
from shortvid_analytics.render.markdown import cell, markdown_text
from tests.locations import REPO

ROOT = REPO
EVENTS = str(ROOT / "examples" / "data" / "events")
HEAVY = ("duckdb", "polars", "numpy", "scipy", "statsmodels", "matplotlib", "pandas", "pyarrow", "patsy",
         "jinja2", "weasyprint")


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def loaded_after(argv: list[str]) -> dict[str, list[str]]:
    """The heavy libraries and the command modules imported by one whole ``shortvid`` process."""
    code = ("import json, sys; from shortvid_analytics.cli import main; sys.argv = ['shortvid', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps({{'heavy': [m for m in {HEAVY!r} if m in sys.modules], 'commands': sorted("
            "m for m in sys.modules if m.startswith('shortvid_analytics.cli.') "
            "and m != 'shortvid_analytics.cli.common')}"
            "), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT)
    return json.loads(result.stderr.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------ start-up
def test_root_help_imports_no_command_and_no_heavy_library():
    assert loaded_after(["--help"]) == {"heavy": [], "commands": []}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_help_imports_only_its_own_module_and_no_heavy_library(command):
    loaded = loaded_after([command, "--help"])
    assert loaded["heavy"] == []
    assert loaded["commands"] == [f"shortvid_analytics.cli.{COMMANDS[command].module}"]


def test_root_help_lists_every_command_with_its_summary():
    result = run("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    for name, entry in COMMANDS.items():
        assert f"{name} {entry.summary}" in text
    modules = {p.stem for p in (ROOT / "shortvid_analytics" / "cli").glob("*.py")} - {"__init__", "__main__",
                                                                                       "common"}
    assert {c.module for c in COMMANDS.values()} == modules


# ------------------------------------------------------------------------------------------ help
@pytest.mark.parametrize("command", [*sorted(COMMANDS), "ab power"])
def test_help_names_arguments_in_capitals_and_flags_without_a_type(command):
    result = run(*command.split(), "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
    assert "{" not in result.stdout.split("\n", 3)[1]  # usage line
    if command not in ("demo", "generate", "ab power"):
        usage = re.search(r"Usage: shortvid (.*)", result.stdout).group(1).split()
        assert usage[-1] == ("COMMAND" if command == "sql" else "EVENTS")


def test_ab_help_shows_the_analysis_options_and_points_to_power():
    text = run("ab", "--help").stdout
    for option in ("--assignments", "--metric", "--cuped-days", "--method", "--correction"):
        assert option in text
    assert "shortvid ab power --help" in text


def test_shell_completion_is_offered():
    text = run("--help").stdout
    assert "--install-completion" in text and "--show-completion" in text
    result = run("--show-completion", "bash")
    assert result.exit_code == 0 and "complete" in result.stdout and "shortvid" in result.stdout.lower()


# ------------------------------------------------------------------------------------------ usage errors
def test_a_mistyped_command_gets_one_line_with_a_suggestion():
    result = run("kpii", EVENTS)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: No such command 'kpii'. Did you mean 'kpi'? (see 'shortvid --help')"]
    result = run("zzz")
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert "Commands: validate, anonymize, funnel" in result.stderr


def test_an_unknown_option_is_one_line():
    result = run("kpi", EVENTS, "--perod", "day")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: No such option: --perod") and "'shortvid kpi --help'" in result.stderr


@pytest.mark.parametrize("args, option", [
    (["kpi", EVENTS, "--period", "day", "--period", "week"], "--period"),
    (["funnel", EVENTS, "--steps", "video_view,purchase", "--by", "platform", "--by", "traffic_source"], "--by"),
    (["kpi", EVENTS, "-o", "a.json", "--output", "b.json"], "--output"),
    (["--config", "a.toml", "--config", "b.toml", "kpi", EVENTS], "--config"),
])
def test_a_single_valued_option_given_twice_is_an_error_naming_it(args, option, tmp_path):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {option} was given more than once; it takes one value "
        f"(see 'shortvid{'' if args[0].startswith('-') else ' ' + args[0]} --help')"]
    assert not (tmp_path / "a.json").exists()


def test_a_repeatable_option_still_takes_several_values():
    result = run("kpi", EVENTS, "--by", "platform", "--by", "traffic_source", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["params"]["by"] == ["platform", "traffic_source"]


def test_global_options_are_accepted_after_the_command(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('timezone = "Asia/Shanghai"\n', encoding="utf-8")
    before = run("--config", config, "kpi", EVENTS, "--period", "day", "-f", "json")
    after = run("kpi", EVENTS, "--period", "day", "-f", "json", "--config", config)
    short = run("kpi", EVENTS, "-c", config, "--period", "day", "-f", "json")
    assert before.exit_code == after.exit_code == short.exit_code == 0, after.stderr
    assert json.loads(after.stdout)["params"]["source"]["timezone"] == "Asia/Shanghai"
    assert before.stdout == after.stdout == short.stdout
    # --debug after the command lets the exception through (for its traceback) as it does before it
    failed = CliRunner().invoke(app, ["kpi", str(tmp_path / "missing.parquet"), "--debug"])
    assert type(failed.exception).__name__ == "InputError"
    assert run("kpi", str(tmp_path / "missing.parquet")).stderr.startswith("error: ")


# ------------------------------------------------------------------------------------------ -o formats
def test_the_output_format_follows_the_extension(tmp_path):
    expected_csv = run("kpi", EVENTS, "-f", "csv").stdout
    expected_json = json.loads(run("kpi", EVENTS, "-f", "json").stdout)
    for name in ("k.csv", "k.json", "k.parquet", "k.md", "k.txt", "K.CSV"):
        assert run("kpi", EVENTS, "-o", tmp_path / name).exit_code == 0
    assert (tmp_path / "k.csv").read_text(encoding="utf-8") == expected_csv
    assert (tmp_path / "K.CSV").read_text(encoding="utf-8") == expected_csv
    assert json.loads((tmp_path / "k.json").read_text(encoding="utf-8")) == expected_json
    frame = pl.read_parquet(tmp_path / "k.parquet")
    assert frame["gmv"].to_list() == [p["gmv"] for p in expected_json["periods"]]
    markdown = (tmp_path / "k.md").read_text(encoding="utf-8")
    assert "| period | Views |" in markdown and "| 2026-W41 | 20,201 |" in markdown
    text = (tmp_path / "k.txt").read_text(encoding="utf-8")
    assert "2026-W41" in text and "20,201" in text and "\x1b[" not in text and "|" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_a_format_that_contradicts_the_extension_is_an_error_before_any_work(tmp_path):
    result = run("kpi", str(tmp_path / "no-such-input"), "-o", tmp_path / "k.csv", "-f", "json")
    assert result.exit_code == 2  # refused before the missing input is even opened
    assert result.stderr.splitlines() == [
        f"error: -f json contradicts -o {tmp_path / 'k.csv'} (a .csv file is csv); drop one of them "
        "(see 'shortvid kpi --help')"]
    result = run("kpi", EVENTS, "-o", tmp_path / "k.xlsx")
    assert result.exit_code == 2 and "cannot tell the format from '.xlsx'" in result.stderr
    assert list(tmp_path.iterdir()) == []
    # an agreeing -f, or a file without extension, is fine
    assert run("kpi", EVENTS, "-o", tmp_path / "k.json", "-f", "json").exit_code == 0
    assert run("kpi", EVENTS, "-o", tmp_path / "k", "-f", "csv").exit_code == 0
    assert (tmp_path / "k").read_text(encoding="utf-8").startswith("period,")


def test_markdown_on_stdout_and_cells_escaped():
    result = run("validate", EVENTS, "-f", "markdown")
    assert result.exit_code == 0
    assert "| event_name | events | users |" in result.stdout
    assert cell("a|b\nc <script>") == "a\\|b<br>c &lt;script&gt;"
    from rich.table import Table

    table = Table(title="T|1")
    table.add_column("name")
    table.add_column("n", justify="right")
    table.add_row("x|y", "1,234")
    assert markdown_text(table) == "**T\\|1**\n\n| name | n |\n|---|---:|\n| x\\|y | 1,234 |\n"


# ------------------------------------------------------------------------------------------ packaging
def _requirement_names(specs: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[(@]", s.strip(), maxsplit=1)[0].lower().replace("_", "-") for s in specs}


def test_the_lock_pins_every_declared_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _requirement_names(project["dependencies"] + [
        s for group in project["optional-dependencies"].values() for s in group]) - {"shortvid-analytics"}
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", lock, re.MULTILINE)}
    assert declared <= pinned, declared - pinned
    assert "pip install -r requirements.lock && pip install --no-deps -e ." in (ROOT / "README.md").read_text(
        encoding="utf-8")


def test_report_provenance_lists_every_resolved_package():
    from shortvid_analytics.report.provenance import package_versions

    versions = package_versions()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for name in _requirement_names(project["dependencies"]):
        assert versions[name] == metadata.version(name), name
    # the tree, not only the direct requirements: polars' runtime, matplotlib's dependencies
    assert {"kiwisolver", "python-dateutil", "markupsafe"} <= set(versions)
    assert "pytest" not in versions  # test tools cannot change a number
    assert list(versions)[:2] == ["shortvid-analytics", "python"]
