"""Terminal consoles: colour only on a TTY and when NO_COLOR is unset; diagnostics go to stderr."""

from __future__ import annotations

import os
import sys

from rich.console import Console


def _colour_allowed(stream: object) -> bool:
    return not os.environ.get("NO_COLOR") and bool(getattr(stream, "isatty", lambda: False)())


def stdout_console() -> Console:
    """Console for results on stdout."""
    return Console(file=sys.stdout, no_color=not _colour_allowed(sys.stdout), highlight=False,
                   soft_wrap=False, width=None if sys.stdout.isatty() else 120)


def stderr_console() -> Console:
    """Console for errors, warnings and progress on stderr."""
    # soft_wrap: an error stays one line however long, so scripts can grep it.
    return Console(file=sys.stderr, no_color=not _colour_allowed(sys.stderr), highlight=False, soft_wrap=True)


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
