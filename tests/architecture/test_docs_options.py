"""Each command's docs page lists exactly the command's options.

The option table of ``docs/<page>.md`` is every Markdown table whose header starts ``| option |``; a row
documents the flags in its first cell (``--by COLUMN``, ``--format, -f``). An option is documented when
one of its flags is; a flag in the table that the command lacks is an error too.
"""

from __future__ import annotations

import re

import pytest
import typer

from shortvid_analytics.cli import COMMANDS, app
from tests.locations import REPO

ROOT = REPO
#: The page of each command (``ab`` documents ``ab analyze`` and ``ab power``).
PAGES = {name: f"{name}.md" for name in COMMANDS if name not in ("validate", "demo")}
#: Commands documented in the README only (their few options are listed there).
README_ONLY = ("validate", "demo")
_FLAG = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


def documented_flags(page: str) -> set[str]:
    """The flags in the first cell of the rows of the page's option tables."""
    flags: set[str] = set()
    in_table = False
    for line in (ROOT / "docs" / page).read_text(encoding="utf-8").splitlines():
        if re.match(r"^\|\s*option\s*\|", line):
            in_table = True
            continue
        in_table = in_table and line.startswith("|")
        if in_table:
            flags |= set(_FLAG.findall(_CELL_SEPARATOR.split(line)[1]))
    return flags


def command_options(name: str) -> list[tuple[str, ...]]:
    """The flags of each option of command ``name`` (of both subcommands of a group such as ``ab``)."""
    root = typer.main.get_command(app)
    command = root.get_command(typer.Context(root), name)
    commands = list(command.commands.values()) if hasattr(command, "commands") else [command]
    return [tuple(param.opts) for cmd in commands for param in cmd.params
            if param.opts[0].startswith("-") and param.name != "help"]


def test_every_command_has_a_page_or_is_readme_only():
    assert set(PAGES) | set(README_ONLY) == set(COMMANDS)
    for page in PAGES.values():
        assert (ROOT / "docs" / page).is_file(), page


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_option_table_lists_exactly_the_command_options(name):
    options = command_options(name)
    listed = documented_flags(PAGES[name])
    missing = [flags[0] for flags in options if not set(flags) & listed]
    assert missing == [], f"docs/{PAGES[name]} misses {', '.join(missing)}"
    unknown = sorted(listed - {flag for flags in options for flag in flags})
    assert unknown == [], f"docs/{PAGES[name]} lists {', '.join(unknown)}, not an option of {name}"
