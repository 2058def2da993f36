"""Terminal consoles: colour only on a TTY and when NO_COLOR is unset; diagnostics go to stderr."""

from __future__ import annotations

import io
import os
import sys

from rich.console import Console

from ..terminal import colour_allowed, stderr_console

__all__ = ["DEFAULT_WIDTH", "file_console", "fmt_number", "fmt_pct", "stderr_console", "stdout_console"]

#: Width of results that do not go to a terminal (a pipe, a ``-o`` file) unless COLUMNS says otherwise.
DEFAULT_WIDTH = 120


def _columns_env() -> int | None:
    """The width the COLUMNS variable asks for, if it is set to a number."""
    value = os.environ.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def stdout_console() -> Console:
    """Console for results on stdout: a terminal's own width (rich reads COLUMNS first), otherwise
    COLUMNS or 120 columns."""
    width = None if sys.stdout.isatty() else _columns_env() or DEFAULT_WIDTH
    return Console(file=sys.stdout, no_color=not colour_allowed(sys.stdout), highlight=False,
                   soft_wrap=False, width=width)


def file_console() -> Console:
    """Console that renders results for a ``-o`` file: plain text, as wide as stdout's but at least 120
    columns, so that a file written from a narrow terminal is as readable as a piped one."""
    return Console(file=io.StringIO(), color_system=None, highlight=False, soft_wrap=False,
                   width=max(DEFAULT_WIDTH, stdout_console().width))


def fmt_number(value: float | int | None, digits: int = 2) -> str:
    """Thousands-separated number; ``-`` for missing."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:  # NaN
        return "-"
    return f"{value:,.{digits}f}"


def fmt_pct(value: float | None, digits: int = 2) -> str:
    """Percentage with ``digits`` decimals; ``-`` for missing."""
    if value is None or value != value:
        return "-"
    return f"{100 * value:.{digits}f}%"
