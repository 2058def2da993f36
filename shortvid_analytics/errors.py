"""Exceptions that carry a user-facing one-line message and a process exit code."""

from __future__ import annotations


class ShortvidError(Exception):
    """An error caused by the user's input or options; shown as one line, never as a traceback."""

    exit_code: int = 1


class InputError(ShortvidError):
    """The events, assignments or config files are missing, unreadable or not in the expected shape."""

    exit_code = 1


class OptionError(ShortvidError):
    """A command-line option or spec value is malformed (bad window string, unknown event, ...).

    ``option`` is the option's name as the library knows it (the options dataclass field, ``by_limit``);
    ``detail`` is the rest of the line (``-1: must be 0 (every value) or more``). Each front end shows the
    name its own way (:meth:`shown_as`): the CLI as the flag (``--by-limit``), the report as the spec key.
    Without ``option`` the message stands alone.
    """

    exit_code = 2

    def __init__(self, detail: str = "", option: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.option = option

    def __str__(self) -> str:
        return self.shown_as(self.option)

    def shown_as(self, label: str | None) -> str:
        """The message with the option named ``label`` (the CLI flag, the spec key)."""
        return f"{label} {self.detail}" if label else self.detail

    def named(self, option: str) -> OptionError:
        """This error, naming ``option`` (the field of an options dataclass whose parser raised it)."""
        self.option = option
        return self


def first_line(exc: BaseException | str) -> str:
    """The first line of an exception's message (engines' messages run to many lines), else its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
