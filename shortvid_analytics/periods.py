"""Windows (``24h``, ``7d``) and calendar periods (day, ISO week, month) — one definition for all modules.

Periods are calendar periods of ``local_time`` (the event time in the configured reporting time
zone): a day runs 00:00–24:00 local, a week is an ISO week starting Monday 00:00 local, a month
starts on the 1st at 00:00 local. Period labels: ``2026-11-02`` (day), ``2026-W45`` (ISO week),
``2026-11`` (month).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum

from .errors import OptionError
from .options import MAX_WINDOW

_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


class Period(str, Enum):
    """A calendar period of local time."""

    day = "day"
    week = "week"
    month = "month"

    def trunc_sql(self, column: str = "local_time") -> str:
        """SQL truncating the local timestamp ``column`` to the start of its period (a TIMESTAMP)."""
        return f"date_trunc('{self.value}', {column})"

    def label(self, start: date | datetime) -> str:
        """Human label of the period starting at ``start``."""
        d = start.date() if isinstance(start, datetime) else start
        if self is Period.day:
            return d.isoformat()
        if self is Period.week:
            iso = d.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        return f"{d.year}-{d.month:02d}"

    def add(self, start: date, k: int) -> date:
        """Start of the period ``k`` periods after the period starting at ``start``."""
        if self is Period.day:
            return start + timedelta(days=k)
        if self is Period.week:
            return start + timedelta(weeks=k)
        month_index = start.year * 12 + (start.month - 1) + k
        return date(month_index // 12, month_index % 12 + 1, 1)

    def start_of(self, moment: date | datetime) -> date:
        """Start (a local date) of the period containing the local date or time ``moment``."""
        d = moment.date() if isinstance(moment, datetime) else moment
        if self is Period.day:
            return d
        if self is Period.week:
            return d - timedelta(days=d.weekday())
        return d.replace(day=1)

    def between(self, start: date, later: date) -> int:
        """Number of whole periods from the period starting at ``start`` to the one starting at ``later``.

        The inverse of :meth:`add`: ``period.between(a, period.add(a, k)) == k`` for period starts.
        """
        if self is Period.month:
            return (later.year - start.year) * 12 + (later.month - start.month)
        days = (later - start).days
        return days if self is Period.day else days // 7


def parse_period(text: str) -> Period:
    """``day``/``week``/``month`` (also ``daily``/``weekly``/``monthly``)."""
    aliases = {"daily": "day", "weekly": "week", "monthly": "month"}
    normalized = text.strip().lower()
    try:
        return Period(aliases.get(normalized, normalized))
    except ValueError:
        raise OptionError(f"{text!r}: expected day, week or month", option="period") from None


def parse_window(text: str) -> timedelta:
    """Parse a window such as ``30m``, ``24h``, ``7d``, ``2w`` (also a bare number of seconds)."""
    raw = str(text).strip()
    if re.fullmatch(r"\d+", raw):
        seconds = float(raw)
    else:
        match = _WINDOW.match(raw)
        if not match:
            raise OptionError(f"{text!r}: expected a number and a unit s|m|h|d|w, e.g. 24h or 7d", option="window")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds <= 0:
        raise OptionError(f"{text!r}: must be positive", option="window")
    # checked on the float: timedelta() itself overflows (an internal error) long before a float does
    if seconds > MAX_WINDOW.total_seconds():
        raise OptionError(f"{text!r}: expected at most {format_window(MAX_WINDOW)} (10 years)", option="window")
    return timedelta(seconds=seconds)


def check_window(window: timedelta, name: str = "window") -> timedelta:
    """A window given as a ``timedelta`` (library callers): positive and at most :data:`MAX_WINDOW`."""
    if window <= timedelta(0):
        raise OptionError(f"{window}: must be positive", option=name)
    if window > MAX_WINDOW:
        raise OptionError(f"{window}: expected at most {format_window(MAX_WINDOW)} (10 years)", option=name)
    return window


def format_window(window: timedelta) -> str:
    """Compact form of a window (inverse of :func:`parse_window` for whole units)."""
    seconds = int(window.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def midnight(day: date) -> datetime:
    """The naive start (00:00) of ``day``: the form in which dates are compared with timestamp columns."""
    return datetime.combine(day, time())


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as a naive UTC time, the form of every stored timestamp; a naive time is UTC already."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def parse_iso_week(text: str) -> date:
    """Monday of an ISO week written ``2026-W47``."""
    match = re.fullmatch(r"(\d{4})-W(\d{1,2})", text.strip(), re.IGNORECASE)
    if not match:
        raise OptionError(f"week {text!r}: expected an ISO week such as 2026-W47")
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise OptionError(f"week {text!r}: no such ISO week") from None
