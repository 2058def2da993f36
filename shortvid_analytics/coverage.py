"""How much time an export observes: which periods are complete and which are only partly seen.

Cohort and period analyses must tell "nobody came back" (0) from "we cannot know yet" (null). The
span observed is taken from the whole export, clipped to the ``--from``/``--to`` range:

- it **starts** at the later of the first event (local time) and ``--from`` 00:00;
- it **ends** at the local time of the export's last event, except that when ``--to D`` is given and
  the export has events on day ``D`` or later, it ends at ``D + 1 day`` 00:00 (``--to`` declares the
  range complete through the end of ``D``; an export that stops before ``D`` is not taken as
  covering it).

A period ``[start, end)`` **has ended** when ``end <= observed end``: the period containing the last
event has not ended unless it ends exactly at that event (an event at Monday 00:00 ends the week
before it). A period is **complete** when it has ended and observation began on or before its first
day (the day of the first event counts as observed, as does the ``--from`` day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from . import sql
from .errors import InputError
from .periods import Period, midnight
from .source import EventSource

_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class ObservedSpan:
    """``[start, end)`` in naive local time; ``last`` is the local time of the last event in range."""

    start: datetime
    end: datetime
    last: datetime

    def has_ended(self, period: Period, start: date) -> bool:
        """Whether the period beginning at ``start`` has been observed to its end."""
        return midnight(period.add(start, 1)) <= self.end

    def is_complete(self, period: Period, start: date) -> bool:
        """Whether the whole period is observed: it has ended, and observation began on or before its first day."""
        return self.start.date() <= start and self.has_ended(period, start)

    def periods(self, period: Period) -> list[date]:
        """Starts of every period from the one containing ``start`` to the one containing ``last``."""
        current, last = period.start_of(self.start), period.start_of(self.last)
        starts = []
        while current <= last:
            starts.append(current)
            current = period.add(current, 1)
        return starts

    def days_observed(self, period: Period, start: date) -> int:
        """Calendar days of the period beginning at ``start`` that overlap the observed span."""
        first = max(start, self.start.date())
        last = min(period.add(start, 1) - timedelta(days=1), self.last.date())
        return max((last - first).days + 1, 0)

    def to_dict(self) -> dict[str, datetime]:
        """JSON form: ``start``/``end`` of the observed span and the ``last`` event (local time)."""
        return {"start": self.start, "end": self.end, "last": self.last}


def observed_span(source: EventSource) -> ObservedSpan:
    """The observed span of ``source`` within its date range (see the module docstring); never empty, as
    :meth:`EventSource.open` refuses a range without events."""
    first_utc, last_utc = source.event_time_bounds()
    row = sql.run(source.con, "observed_span",
                  {"tz": source.config.timezone, "first": first_utc, "last": last_utc}).row(0, named=True)
    first, last = row["first_local"], row["last_local"]
    if first is None:
        raise InputError(f"{source.path}: no event has a timestamp")
    start = max(first, midnight(source.date_from)) if source.date_from else first
    end, last_in_range = last, last
    if source.date_to:
        to_exclusive = midnight(source.date_to + timedelta(days=1))
        if last >= midnight(source.date_to):
            end = to_exclusive
        last_in_range = min(last, to_exclusive - _TICK)
    return ObservedSpan(start=start, end=end, last=last_in_range)
