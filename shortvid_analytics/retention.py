"""``retention``: cohort triangles — do users who did a start event come back to do a return event?

Definitions (all periods are calendar days / ISO weeks starting Monday / months of ``local_time``,
the event time in the configured reporting time zone):

- **Cohort entry.** ``first-time`` mode (default): one entry per user, in the period of the user's
  first start event *within the analysed range* (``--from``/``--to``; earlier history is not read, so
  with ``--from`` a long-time user joins the cohort of their first start event in the range).
  ``recurring`` mode: one entry for every period in which the user did a start event (as PostHog).
- **Retained in period k** (k = 0 is the cohort period): the user did a return event in the period k
  periods after the cohort period. For k = 0 the return must happen at or after the entry's first start
  event in that period (a purchase before the first view of the week is not a return); so when the
  start and return selectors match the same event, the start event itself counts — for k = 0 only.
- **Unbounded** (``unbounded=True``, Amplitude's "unbounded"): retained in period k when the user did a
  return event in period k *or any later period* observed.
- **Incomplete periods** are null, never 0: cohort ``c`` has no value at ``k`` when period ``c + k``
  has not ended by the observed end of the data (see :mod:`coverage`).
- **Rate** = retained / cohort size. **Overall curve** at k = sum of retained at k / sum of sizes over
  the cohorts whose period k is complete (the user-weighted mean of their rates); ``users`` is that
  denominator.
- **Breakdown** (``by``): the entry's value of the property on its first start event (in recurring mode
  the first start event of that period; equal times: the smallest value). The top-level cohorts are
  the totals over all values. Values with fewer than ``min_group_size`` distinct users are
  suppressed: their entries are pooled into one triangle (``suppressed``), listed after the values.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from . import sql
from .coverage import ObservedSpan, observed_span
from .errors import InputError
from .options.retention import RetentionMode, RetentionOptions
from .periods import Period
from .privacy import SUPPRESSED, SUPPRESSED_GROUPS, pool_small_groups
from .results import AnalysisResult
from .source import EventSource


@dataclass
class Cohort:
    """One row of the triangle. ``retained[k]``/``rate[k]`` are None where period k is incomplete."""

    cohort: date
    label: str
    size: int
    retained: list[int | None]
    rate: list[float | None]

    def to_dict(self) -> dict[str, Any]:
        return {"cohort": self.cohort, "label": self.label, "size": self.size,
                "retained": self.retained, "rate": self.rate}


@dataclass
class CurvePoint:
    """The overall curve at period ``period``: ``retained`` of ``users`` in cohorts that reached it."""

    period: int
    rate: float | None
    users: int
    retained: int

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "rate": self.rate, "users": self.users, "retained": self.retained}


@dataclass
class Triangle:
    """Cohorts and their overall curve (for all entries, or for one breakdown value)."""

    cohorts: list[Cohort]
    overall: list[CurvePoint]

    @property
    def size(self) -> int:
        """Number of cohort entries."""
        return sum(c.size for c in self.cohorts)


@dataclass
class RetentionResult(AnalysisResult):
    """Cohort triangle, overall curve and optional breakdown (see the module docstring)."""

    kind = "retention"
    period: Period = Period.week
    periods: int = 8
    total: Triangle = field(default_factory=lambda: Triangle([], []))
    by: str | None = None
    breakdown: dict[str | None, Triangle] | None = None
    observed: ObservedSpan | None = None
    suppressed: Triangle | None = None
    suppressed_groups: int = 0

    def groups(self) -> list[tuple[str | None, bool, Triangle]]:
        """(value, suppressed, triangle) of every breakdown row: the values, then the pooled row."""
        rows = [(value, False, tri) for value, tri in (self.breakdown or {}).items()]
        return rows + ([(None, True, self.suppressed)] if self.suppressed is not None else [])

    def body(self) -> dict[str, Any]:
        breakdown = None
        if self.breakdown is not None:
            breakdown = [
                {"value": value, "suppressed": suppressed,
                 "suppressed_groups": self.suppressed_groups if suppressed else 0, "size": tri.size,
                 "cohorts": [c.to_dict() for c in tri.cohorts], "overall": [p.to_dict() for p in tri.overall]}
                for value, suppressed, tri in self.groups()
            ]
        return {
            "observed": self.observed.to_dict() if self.observed else None,
            "size": self.total.size,
            "cohorts": [c.to_dict() for c in self.total.cohorts],
            "overall": [p.to_dict() for p in self.total.overall],
            "breakdown": breakdown,
        }

    def to_frame(self) -> pl.DataFrame:
        """Long form: one row per (value,) cohort and period k; the overall curve as cohort ``overall``.

        With a breakdown, ``suppressed`` marks the rows of the pooled suppressed values (``value`` null).
        """
        groups = self.groups() if self.breakdown is not None else [(None, False, self.total)]
        rows: list[dict[str, Any]] = []
        for value, suppressed, tri in groups:
            for c in tri.cohorts:
                for k in range(self.periods):
                    rows.append({"value": value, "cohort": c.cohort.isoformat(), "size": c.size, "period": k,
                                 "retained": c.retained[k], "rate": c.rate[k], SUPPRESSED: suppressed})
            for p in tri.overall:
                rows.append({"value": value, "cohort": "overall", "size": p.users, "period": p.period,
                             "retained": p.retained, "rate": p.rate, SUPPRESSED: suppressed})
        frame = pl.DataFrame(rows, schema={"value": pl.String, "cohort": pl.String, "size": pl.Int64,
                                           "period": pl.Int64, "retained": pl.Int64, "rate": pl.Float64,
                                           SUPPRESSED: pl.Boolean})
        return frame if self.breakdown is not None else frame.drop("value", SUPPRESSED)


@dataclass
class _Counts:
    """Per cohort: entries returning per period, and entries by their last return period."""

    never: int = 0
    returned: Counter[int] = field(default_factory=Counter)
    last: Counter[int] = field(default_factory=Counter)

    @property
    def size(self) -> int:
        return self.never + sum(self.last.values())

    def add(self, other: _Counts) -> None:
        self.never += other.never
        self.returned.update(other.returned)
        self.last.update(other.last)


def run(source: EventSource, options: RetentionOptions) -> RetentionResult:
    """Cohort retention of ``options.start`` → its return event; see docs/retention.md.

    ``periods`` is the number of periods reported per cohort, k = 0 .. periods-1. With ``by``, the
    values with fewer than ``min_group_size`` distinct users are pooled into ``suppressed``.
    """
    options.validate(source)
    start, return_event, period, periods = options.start, options.returning, options.period, options.periods
    mode, unbounded, by, min_group_size = options.mode, options.unbounded, options.by, options.min_group_size
    span = observed_span(source)

    params = sql.Params()
    context = {
        "start": start.selection(params, source.columns),
        "return_event": return_event.selection(params, source.columns),
        "period_start": period.trunc_sql("local_time"),
        "cohort_start": period.trunc_sql(source.local_time_sql("first_start")),
        "by": by,
    }
    rows = sql.run(source.con, "retention", {**params.values, "recurring": mode is RetentionMode.recurring},
                   context)
    if rows.is_empty():
        raise InputError(f"{source.path}: no {start} events in the analysed range")

    counts = _tally(rows, period)
    totals: dict[date, _Counts] = defaultdict(_Counts)
    for per_cohort in counts.values():
        for cohort, cell in per_cohort.items():
            totals[cohort].add(cell)

    def triangle(cells: dict[date, _Counts]) -> Triangle:
        return _triangle(cells, period, periods, unbounded, span)

    breakdown = None
    suppressed: Triangle | None = None
    suppressed_groups = 0
    if by is not None:
        shown, pooled, suppressed_groups = _shown_values(rows, counts, min_group_size)
        ordered = sorted(((v, c) for v, c in counts.items() if v in shown),
                         key=lambda kv: (-sum(c.size for c in kv[1].values()), kv[0] is None, kv[0] or ""))
        breakdown = {value: triangle(cells) for value, cells in ordered}
        suppressed = triangle(pooled) if suppressed_groups else None
    return RetentionResult(
        params=options.params(source),
        period=period,
        periods=periods,
        total=triangle(totals),
        by=by,
        breakdown=breakdown,
        observed=span,
        suppressed=suppressed,
        suppressed_groups=suppressed_groups,
    )


def _tally(rows: pl.DataFrame, period: Period) -> dict[str | None, dict[date, _Counts]]:
    """The entries of ``retention.sql``'s rows per breakdown value and cohort."""
    counts: dict[str | None, dict[date, _Counts]] = defaultdict(lambda: defaultdict(_Counts))
    for row in rows.iter_rows(named=True):
        cohort = row["cohort"].date()
        cell = counts[row["by_value"]][cohort]
        if row["return_period"] is None:
            cell.never += row["entries"]
        else:
            k = period.between(cohort, row["return_period"].date())
            cell.returned[k] += row["entries"]
            cell.last[k] += row["last_entries"]
    return counts


def retention(source: EventSource, *args: Any, **values: Any) -> RetentionResult:
    """:func:`run` with the options given as :class:`RetentionOptions` fields: ``retention(source, "video_view",
    "purchase", "week", periods=5)``; text or typed values (parsed selectors, a :class:`Period`)."""
    return run(source, RetentionOptions(*args, **values))


def _shown_values(rows: pl.DataFrame, counts: dict[str | None, dict[date, _Counts]],
                  min_group_size: int) -> tuple[set[str | None], dict[date, _Counts], int]:
    """The breakdown values large enough to show, the pooled counts of the others and how many they are."""
    sizes = pool_small_groups(rows.group_by("by_value").agg(pl.col("value_users").first()), "value_users",
                              min_group_size, sums=["value_users"])
    shown = set(sizes.filter(pl.col(SUPPRESSED).not_())["by_value"].to_list())
    pooled: dict[date, _Counts] = defaultdict(_Counts)
    for value, cells in counts.items():
        if value not in shown:
            for cohort, cell in cells.items():
                pooled[cohort].add(cell)
    return shown, pooled, int(sizes[SUPPRESSED_GROUPS].sum())


def _triangle(cells: dict[date, _Counts], period: Period, periods: int, unbounded: bool,
              span: ObservedSpan) -> Triangle:
    cohorts: list[Cohort] = []
    users = [0] * periods
    retained_sum = [0] * periods
    for cohort_start in sorted(cells):
        cell = cells[cohort_start]
        size = cell.size
        retained: list[int | None] = []
        for k in range(periods):
            if not span.has_ended(period, period.add(cohort_start, k)):
                retained.append(None)
                continue
            value = (sum(n for j, n in cell.last.items() if j >= k) if unbounded else cell.returned.get(k, 0))
            retained.append(value)
            users[k] += size
            retained_sum[k] += value
        cohorts.append(Cohort(
            cohort=cohort_start,
            label=period.label(cohort_start),
            size=size,
            retained=retained,
            rate=[None if r is None else r / size for r in retained],
        ))
    overall = [CurvePoint(period=k, rate=retained_sum[k] / users[k] if users[k] else None, users=users[k],
                          retained=retained_sum[k]) for k in range(periods)]
    return Triangle(cohorts=cohorts, overall=overall)
