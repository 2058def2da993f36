"""Options that several analyses declare alike: an event selector, a calendar period, ``--min-group-size``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..errors import OptionError
from ..eventspec import EventSpec
from ..periods import check_window, parse_period, parse_window
from . import TERMINAL_MIN_GROUP_SIZE, check_min_group_size
from .declare import option

#: ``--min-group-size``'s help wherever the terminal default (1: show every group) applies.
MIN_GROUP_SIZE_HELP = ("Suppress groups with fewer than this many distinct users: pooled into one row, left out "
                       "of rankings (1 = show all; docs/privacy.md).")


def parse_selector(selector: str | EventSpec) -> EventSpec:
    """One event selector (``purchase[platform=douyin]``), parsed unless it already is."""
    return selector if isinstance(selector, EventSpec) else EventSpec.parse(selector)


def parse_event_window(window: str | timedelta) -> timedelta:
    """A window (``24h``, ``7d`` or a ``timedelta``) of whole microseconds, the unit of event times, and at most
    :data:`..MAX_WINDOW`."""
    window = check_window(window) if isinstance(window, timedelta) else parse_window(window)
    if window % timedelta(microseconds=1):
        raise OptionError(f"{window}: finer than a microsecond", option="window")
    return window


def selector_option(default: Any, help: str, **spec: Any) -> Any:
    """An event-selector field."""
    return option(default, parse=parse_selector, help=help, **spec)


def period_option(help: str = "Calendar period: day, week (ISO, from Monday) or month.", **spec: Any) -> Any:
    """A calendar-period field (default: week)."""
    return option("week", parse=parse_period, help=help, **spec)


def min_group_size_option() -> Any:
    """The small-cell threshold of a command's output; a report uses the config's instead (docs/privacy.md)."""
    return option(TERMINAL_MIN_GROUP_SIZE, kind="int", parse=check_min_group_size, report=False,
                  help=MIN_GROUP_SIZE_HELP)
