"""Exceptions that carry a user-facing one-line message and a process exit code."""

from __future__ import annotations


class ShortvidError(Exception):
    """An error caused by the user's input or options; shown as one line, never as a traceback."""

    exit_code: int = 1


class InputError(ShortvidError):
    """The events, assignments or config files are missing, unreadable or not in the expected shape."""

    exit_code = 1


class OptionError(ShortvidError):
    """A command-line option or spec value is malformed (bad window string, unknown event, ...)."""

    exit_code = 2


def first_line(exc: BaseException | str) -> str:
    """The first line of an exception's message (engines' messages run to many lines), else its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
