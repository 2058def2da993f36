"""``lifecycle``: how the active users of each period split into new, returning and resurrecting, and
how many of the previous period's users went dormant (PostHog's lifecycle).

A user is *active* in a period (calendar day / ISO week / month of ``local_time``) when they did the
event (a selector such as ``video_view`` or ``purchase[platform=douyin]``) in it. For each period p:

- **new**: active in p, and p is the user's first active period in the export;
- **returning**: active in p and in the period before p;
- **resurrecting**: active in p, not in the period before, but in some earlier period;
- **dormant**: active in the period before p but not in p; reported as a **negative** number;
- **active** = new + returning + resurrecting; **quick ratio** = (new + resurrecting) / |dormant|
  (growth from gains over losses; None when nobody went dormant).

History before ``--from`` is read, so a user active before the range is returning, resurrecting or
dormant, never new; ``--from`` only selects which periods are reported (the first reported period is
the one containing ``--from``, computed over all its days). Nothing after ``--to`` is read. The export's
own first period counts everyone as new: the export cannot know who was active before it starts.
The last period is usually incomplete (see :mod:`coverage`): its ``complete`` flag is False and
its dormant count includes users who may still return before it ends.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl

from . import sql
from .coverage import ObservedSpan, observed_span
from .errors import InputError
from .options.active_users import LifecycleOptions
from .periods import Period
from .results import AnalysisResult
from .source import EventSource

STATUSES: tuple[str, ...] = ("new", "returning", "resurrecting", "dormant")


@dataclass
class LifecyclePeriod:
    """User counts of one period; ``dormant`` is ≤ 0."""

    period: date
    label: str
    complete: bool
    new: int
    returning: int
    resurrecting: int
    dormant: int

    @property
    def active(self) -> int:
        """Users active in the period."""
        return self.new + self.returning + self.resurrecting

    @property
    def quick_ratio(self) -> float | None:
        """(new + resurrecting) / |dormant|; None without dormant users."""
        return (self.new + self.resurrecting) / -self.dormant if self.dormant else None

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "label": self.label, "complete": self.complete, "new": self.new,
                "returning": self.returning, "resurrecting": self.resurrecting, "dormant": self.dormant,
                "active": self.active, "quick_ratio": self.quick_ratio}


@dataclass
class LifecycleResult(AnalysisResult):
    """One row per period of the analysed range."""

    kind = "lifecycle"
    period: Period = Period.week
    periods: list[LifecyclePeriod] = field(default_factory=list)
    observed: ObservedSpan | None = None

    def body(self) -> dict[str, Any]:
        return {"observed": self.observed.to_dict() if self.observed else None,
                "periods": [p.to_dict() for p in self.periods]}

    def to_frame(self) -> pl.DataFrame:
        """One row per period."""
        return pl.DataFrame(
            [{**p.to_dict(), "period": p.period.isoformat()} for p in self.periods],
            schema={"period": pl.String, "label": pl.String, "complete": pl.Boolean, "new": pl.Int64,
                    "returning": pl.Int64, "resurrecting": pl.Int64, "dormant": pl.Int64, "active": pl.Int64,
                    "quick_ratio": pl.Float64},
        )


def lifecycle(source: EventSource, *args: Any, **values: Any) -> LifecycleResult:
    """:func:`run` with the options given as :class:`LifecycleOptions` fields: ``lifecycle(source, "video_view",
    "week")``; text or typed values."""
    return run(source, LifecycleOptions(*args, **values))


def run(source: EventSource, options: LifecycleOptions) -> LifecycleResult:
    """Lifecycle of the users doing ``event``, per ``period`` (see the module docstring)."""
    event, period = options.event, options.period
    event.validate(source, "event")
    span = observed_span(source)
    params = sql.Params()
    context = {"event": event.selection(params, source.columns), "period_start": period.trunc_sql("local_time")}
    to_exclusive = (datetime.combine(source.date_to + timedelta(days=1), time())
                    if source.date_to else None)
    rows = sql.run(source.con, "lifecycle",
                   {**params.values, "to_exclusive": to_exclusive, "step": f"1 {period.value}"}, context)

    counts: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    for row in rows.iter_rows(named=True):
        counts[row["period"].date()][row["status"]] = int(row["users"])
    reported = span.periods(period)
    if not any(counts[p]["new"] + counts[p]["returning"] + counts[p]["resurrecting"] for p in reported):
        raise InputError(f"{source.path}: no {event} events in the analysed range")
    return LifecycleResult(
        params={"source": source.describe(), "event": str(event), "period": period.value},
        period=period,
        periods=[
            LifecyclePeriod(period=p, label=period.label(p), complete=span.has_ended(period, p),
                            new=counts[p]["new"], returning=counts[p]["returning"],
                            resurrecting=counts[p]["resurrecting"], dormant=-counts[p]["dormant"])
            for p in reported
        ],
        observed=span,
    )
