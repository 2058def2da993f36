"""``stickiness``: on how many days of a week (or month) do active users come back, and DAU/MAU.

A user is *active on a day* (local calendar day of the reporting time zone) when they did the event
that day (a selector such as ``video_view``). For each period (ISO week or month):

- **distribution**: users active on exactly d days of the period, d = 1 .. days in the period, and
  their share of the period's active users; **mean_active_days** = the mean of d;
- the **overall** distribution pools the user-periods of all *complete* periods (see :mod:`coverage`).

Per month, the shared KPI table's stickiness ratio:

- **MAU** = distinct users active in the month; **mean DAU** = (sum over the observed days of the
  month of that day's distinct active users) / number of observed days, where a day is observed when
  any part of it lies inside the observed span (so a month cut by the start or end of the data is
  averaged over its observed days only, and flagged ``complete: false``);
- **stickiness** = mean DAU / MAU (between 1/days and 1; 1 = every monthly user active every day).

Only the ``--from``/``--to`` range is read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from . import sql
from .coverage import ObservedSpan, observed_span
from .errors import InputError
from .options.active_users import StickinessOptions
from .periods import Period
from .results import AnalysisResult
from .source import EventSource


@dataclass
class Distribution:
    """Users by number of active days: ``users[d - 1]`` users were active on exactly d days."""

    users: list[int]

    @property
    def total(self) -> int:
        """Active users (user-periods when pooled)."""
        return sum(self.users)

    @property
    def mean_active_days(self) -> float | None:
        """Mean number of active days per active user."""
        total = self.total
        return sum(d * n for d, n in enumerate(self.users, start=1)) / total if total else None

    def to_list(self) -> list[dict[str, Any]]:
        total = self.total
        return [{"days": d, "users": n, "share": n / total if total else None}
                for d, n in enumerate(self.users, start=1)]


@dataclass
class StickinessPeriod:
    """The active-days distribution of one week or month."""

    period: date
    label: str
    complete: bool
    days: int
    distribution: Distribution

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "label": self.label, "complete": self.complete, "days": self.days,
                "users": self.distribution.total, "mean_active_days": self.distribution.mean_active_days,
                "distribution": self.distribution.to_list()}


@dataclass
class MonthRatio:
    """DAU/MAU of one month."""

    month: date
    label: str
    complete: bool
    days_observed: int
    mau: int
    mean_dau: float
    stickiness: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month, "label": self.label, "complete": self.complete,
                "days_observed": self.days_observed, "mau": self.mau, "mean_dau": self.mean_dau,
                "stickiness": self.stickiness}


@dataclass
class StickinessResult(AnalysisResult):
    """Active-days distributions per period, pooled over complete periods, and DAU/MAU per month."""

    kind = "stickiness"
    period: Period = Period.week
    periods: list[StickinessPeriod] = field(default_factory=list)
    overall: Distribution = field(default_factory=lambda: Distribution([]))
    dau_mau: list[MonthRatio] = field(default_factory=list)
    observed: ObservedSpan | None = None

    def body(self) -> dict[str, Any]:
        return {
            "observed": self.observed.to_dict() if self.observed else None,
            "periods": [p.to_dict() for p in self.periods],
            "overall": {"users": self.overall.total, "mean_active_days": self.overall.mean_active_days,
                        "distribution": self.overall.to_list()},
            "dau_mau": [m.to_dict() for m in self.dau_mau],
        }

    def to_frame(self) -> pl.DataFrame:
        """Long form: one row per period and number of active days (``overall`` for the pooled one)."""
        rows = [{"period": p.period.isoformat(), "complete": p.complete, **entry}
                for p in self.periods for entry in p.distribution.to_list()]
        rows += [{"period": "overall", "complete": True, **entry} for entry in self.overall.to_list()]
        return pl.DataFrame(rows, schema={"period": pl.String, "complete": pl.Boolean, "days": pl.Int64,
                                          "users": pl.Int64, "share": pl.Float64})


def stickiness(source: EventSource, *args: Any, **values: Any) -> StickinessResult:
    """:func:`run` with the options given as :class:`StickinessOptions` fields: ``stickiness(source,
    "video_view", "month")``; text or typed values."""
    return run(source, StickinessOptions(*args, **values))


def run(source: EventSource, options: StickinessOptions) -> StickinessResult:
    """Active-day distributions of ``event`` per week or month, and monthly DAU/MAU."""
    event, period = options.event, options.period
    event.validate(source, "event")
    span = observed_span(source)
    params = sql.Params()
    context = {
        "event": event.selection(params, source.columns),
        "day_start": Period.day.trunc_sql("local_time"),
        "period_start": period.trunc_sql("day"),
        "month_start": Period.month.trunc_sql("day"),
    }
    rows = sql.run(source.con, "stickiness", params.values, context)
    if rows.is_empty():
        raise InputError(f"{source.path}: no {event} events in the analysed range")

    counts: dict[tuple[str, date], dict[int, int]] = defaultdict(dict)
    for row in rows.iter_rows(named=True):
        counts[(row["grain"], row["period"].date())][int(row["active_days"])] = int(row["users"])

    def distribution(grain: str, grain_period: Period, start: date) -> Distribution:
        days = (grain_period.add(start, 1) - start).days
        found = counts.get((grain, start), {})
        return Distribution([found.get(d, 0) for d in range(1, days + 1)])

    periods = [StickinessPeriod(period=p, label=period.label(p), complete=span.is_complete(period, p),
                                days=(period.add(p, 1) - p).days, distribution=distribution("period", period, p))
               for p in span.periods(period)]
    width = max((len(p.distribution.users) for p in periods if p.complete), default=0)
    pooled = [sum(p.distribution.users[d] for p in periods if p.complete and d < len(p.distribution.users))
              for d in range(width)]

    ratios = []
    for month in span.periods(Period.month):
        monthly = distribution("month", Period.month, month)
        observed_days = span.days_observed(Period.month, month)
        dau_sum = sum(d * n for d, n in enumerate(monthly.users, start=1))
        ratios.append(MonthRatio(month=month, label=Period.month.label(month),
                                 complete=span.is_complete(Period.month, month), days_observed=observed_days,
                                 mau=monthly.total, mean_dau=dau_sum / observed_days,
                                 stickiness=dau_sum / (observed_days * monthly.total) if monthly.total else None))
    return StickinessResult(
        params={"source": source.describe(), "event": str(event), "period": period.value},
        period=period,
        periods=periods,
        overall=Distribution(pooled),
        dau_mau=ratios,
        observed=span,
    )
