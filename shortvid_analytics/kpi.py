"""The KPI definitions shared by ``engagement``, ``kpi`` and ``digest``, and the per-period KPI table.

Definitions live in exactly three places, each used by all three commands:

- ``queries/kpi_events_view.sql`` decides what every *event* contributes (a view, a viewer, an order,
  revenue, ...);
- :data:`EVENT_SUMS` and :data:`COMMERCE_SUMS` add those markers up (the aggregates that
  ``queries/engagement.sql`` and ``queries/kpi_periods.sql`` insert as fragments);
- :data:`~shortvid_analytics.kpi_definitions.KPIS` (named, with their units and base events, in
  :mod:`shortvid_analytics.kpi_definitions`) and :func:`derive` turn the added-up ingredients into the KPIs
  of the product README (rates, AOV, GPM, ...) with their 95% intervals.

Every event is attributed to a group and a period by its own row: its own ``local_time`` and its own
``video_id``/``creator_id``/``product_id``/``platform``/``traffic_source`` -- purchases and refunds
included. See docs/kpi.md for the table of definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from . import sql
from .config import CANONICAL_COLUMNS
from .errors import OptionError
from .kpi_definitions import ACTIVITY_KPIS, KPI_BY_NAME, KPIS, Kpi
from .options import TERMINAL_MIN_GROUP_SIZE
from .options.kpi import KpiOptions
from .periods import Period
from .privacy import IDENTIFIER_COLUMNS, SUPPRESSED, SUPPRESSED_GROUPS, pool_small_groups
from .results import AnalysisResult
from .source import EventSource

#: Two-sided coverage of every interval.
CONFIDENCE = 0.95

#: Columns that are measures, identities or times, never a breakdown dimension. Every identifier column
#: is one (a group per user, session or order lists individuals; docs/privacy.md).
_NOT_DIMENSIONS = frozenset(
    {"event_time", "local_time", "event_name", "revenue", "watch_time_s", *IDENTIFIER_COLUMNS}
)



#: The ingredients that add events up, as aggregates over ``kpi_events`` (name, SQL): additive over
#: any partition of the events, so a sum of partial results gives the total (``sum`` of each column).
EVENT_SUMS: tuple[tuple[str, str], ...] = (
    ("views", "count(view_event)"),
    ("likes", "count(like_event)"),
    ("comments", "count(comment_event)"),
    ("shares", "count(share_event)"),
    ("completes", "count(complete_event)"),
    ("clicks", "count(click_event)"),
    ("watch_time_s_sum", "sum(view_watch_time_s)"),
    ("watch_time_s_n", "count(view_watch_time_s)"),
)
#: The additive commerce ingredients, as aggregates over ``kpi_events`` (name, SQL); the distinct purchasers,
#: orders and refunded orders are counted by each query (over purchase and refund events only). The
#: FILTER gives the same result as the plain aggregate (other events carry NULL markers) but lets the
#: engine skip the other events before it updates the aggregate.
COMMERCE_SUMS: tuple[tuple[str, str], ...] = tuple(
    (name, f"{aggregate} FILTER (WHERE commerce_event IS NOT NULL)") for name, aggregate in (
        ("unidentified_purchases", "count(unidentified_purchase)"),
        ("gmv", "sum(purchase_revenue)"),
        ("unidentified_refunds", "count(unidentified_refund)"),
        ("refund_revenue", "sum(refund_revenue)"),
    )
)

#: The count of each base event among the KPIs (see :func:`empty_kpi_warnings`): positive exactly when
#: the events hold one.
EVENT_COUNTS: dict[str, str] = {
    "video_view": "views", "like": "likes", "comment": "comments", "share": "shares",
    "video_complete": "completes", "product_click": "clicks", "purchase": "orders", "refund": "refunded_orders",
}

#: The added-up columns the SQL returns (see queries/engagement.sql and queries/kpi_periods.sql).
INGREDIENTS: tuple[str, ...] = (
    "views", "viewers", "likes", "comments", "shares", "completes", "clicks", "watch_time_s_sum",
    "watch_time_s_n", "purchasers", "orders", "gmv", "refunded_orders", "refund_revenue",
)


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """``numerator / denominator``; null when the denominator is 0."""
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(None)


def derive(frame: pl.DataFrame) -> pl.DataFrame:
    """Add every KPI of :data:`KPIS` and its interval to a frame of :data:`INGREDIENTS`.

    The helper columns ``watch_time_s_sum``/``watch_time_s_n`` are dropped; other columns are kept in front.
    """
    views = pl.col("views")
    counts = [c for c in INGREDIENTS if c not in ("watch_time_s_sum", "gmv", "refund_revenue")]
    derived = frame.with_columns(
        *(pl.col(c).cast(pl.Int64) for c in counts),
        *(pl.col(c).cast(pl.Float64) for c in ("watch_time_s_sum", "gmv", "refund_revenue")),
    ).with_columns(
        (pl.col("likes") + pl.col("comments") + pl.col("shares")).alias("engagements"),
    ).with_columns(
        _ratio(pl.col("engagements"), views).alias("engagement_rate"),
        _ratio(pl.col("completes"), views).alias("completion_rate"),
        _ratio(pl.col("watch_time_s_sum"), pl.col("watch_time_s_n")).alias("mean_watch_time_s"),
        _ratio(pl.col("clicks"), views).alias("ctr"),
        (pl.col("gmv") - pl.col("refund_revenue")).alias("net_gmv"),
        _ratio(pl.col("gmv"), pl.col("orders")).alias("aov"),
        _ratio(1000 * pl.col("gmv"), views).alias("gpm"),
        _ratio(pl.col("purchasers"), pl.col("viewers")).alias("user_conversion_rate"),
        _ratio(pl.col("refunded_orders"), pl.col("orders")).alias("refund_rate"),
    )
    intervals = []
    for kpi in KPIS:
        if kpi.interval is not None and kpi.numerator is not None and kpi.denominator is not None:
            low, high = rate_interval(kpi.interval, derived[kpi.numerator].to_numpy(),
                                      derived[kpi.denominator].to_numpy())
            intervals += [pl.Series(f"{kpi.name}_ci_low", low, dtype=pl.Float64).fill_nan(None),
                          pl.Series(f"{kpi.name}_ci_high", high, dtype=pl.Float64).fill_nan(None)]
    keep = [c for c in frame.columns if c not in INGREDIENTS]
    return derived.with_columns(intervals).select(keep + kpi_columns(KPIS))


def kpi_columns(kpis: Sequence[Kpi]) -> list[str]:
    """Output column names of ``kpis``: each KPI followed by its interval bounds when it has one."""
    names: list[str] = []
    for kpi in kpis:
        names.append(kpi.name)
        if kpi.interval:
            names += [f"{kpi.name}_ci_low", f"{kpi.name}_ci_high"]
    return names


def rate_interval(method: str, count: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% interval of ``count / exposure`` per element; NaN where it is undefined.

    ``wilson``: Wilson score interval (statsmodels ``proportion_confint(method="wilson")``), defined when
    ``0 <= count <= exposure`` and ``exposure > 0`` -- a count above its exposure is not a proportion.
    ``poisson``: exact central Poisson interval of the rate (statsmodels ``confint_poisson(method="exact-c")``,
    Garwood), defined when ``exposure > 0``; used where the numerator may exceed the exposure.
    """
    # statsmodels takes seconds to import: only commands that compute intervals pay for it
    from statsmodels.stats.proportion import proportion_confint
    from statsmodels.stats.rates import confint_poisson

    count = np.asarray(count, dtype=float)
    exposure = np.asarray(exposure, dtype=float)
    low = np.full(count.shape, np.nan)
    high = np.full(count.shape, np.nan)
    valid = exposure > 0
    if method == "wilson":
        valid &= count <= exposure
    if valid.any():
        if method == "wilson":
            lo, hi = proportion_confint(count[valid], exposure[valid], alpha=1 - CONFIDENCE, method="wilson")
        else:
            lo, hi = confint_poisson(count[valid], exposure[valid], method="exact-c", alpha=1 - CONFIDENCE)
        low[valid], high[valid] = lo, hi
    return low, high


def empty_kpi_warnings(source: EventSource, frame: pl.DataFrame, kpis: Sequence[Kpi] = KPIS) -> list[str]:
    """One warning naming the ``kpis`` that are empty because a base event is absent from ``frame``'s rows
    (their counts of :data:`EVENT_COUNTS` add up to 0 over every row) or a base column from the export;
    none when every base is there. ``frame`` must hold the rows of every group (or period) of the result.
    """
    counts = {event: int(frame[column].sum() or 0) for event, column in EVENT_COUNTS.items()}
    empty: dict[str, list[str]] = {}
    for kpi in kpis:
        for alternatives in kpi.events:
            names = alternatives.split("|")
            if not any(counts[name] for name in names):
                listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
                empty.setdefault(f"no {listed} events", []).append(kpi.name)
        for column in kpi.columns:
            if source.config.source_column(column) not in source.raw_columns:
                empty.setdefault(f"no {column} column", []).append(kpi.name)
    if not empty:
        return []
    return ["some KPIs are empty: " + "; ".join(f"{cause} ({', '.join(names)})" for cause, names in empty.items())]


def breakdown_columns(source: EventSource, by: Sequence[str], option: str = "--by") -> list[str]:
    """Validate breakdown columns: present in the export, not a measure, not repeated, no KPI name."""
    columns: list[str] = []
    for name in by:
        if name in columns:
            raise OptionError(f"{option} {name}: given twice")
        if name in _NOT_DIMENSIONS:
            raise OptionError(f"{option} {name}: {name} is a measure or identity column, not a dimension; "
                              f"use e.g. video_id, creator_id, product_id, platform or traffic_source")
        if name in KPI_BY_NAME:
            raise OptionError(f"{option} {name}: the name clashes with the KPI {name!r}; rename the column")
        source.require_column(name, what=f"{option} column")
        if name in CANONICAL_COLUMNS and source.config.source_column(name) not in source.raw_columns:
            raise OptionError(f"{option} {name}: {source.path} has no {name} column "
                              f"(map it with [columns] {name} = \"...\" in the config)")
        columns.append(name)
    return columns


def create_kpi_events(source: EventSource) -> None:
    """Create the ``kpi_events`` view (the event-level KPI ingredients) on the source's connection."""
    sql.execute(source.con, "kpi_events_view")


# ----------------------------------------------------------------------------------------- periods
@dataclass
class PeriodFrames:
    """The result of one scan by :func:`period_kpis`.

    ``breakdowns[i]`` holds the period rows of the i-th breakdown (period columns, breakdown columns,
    every KPI and activity KPI); ``gmv_by[c]`` the ingredients and KPIs per (period, c) over purchase and
    refund events whose ``c`` is not null; ``days`` the local days with at least one event.
    """

    breakdowns: list[pl.DataFrame]
    gmv_by: dict[str, pl.DataFrame]
    days: list[date]


def period_kpis(
    source: EventSource,
    period: Period,
    breakdowns: Sequence[Sequence[str]] = ((),),
    gmv_by: Sequence[str] = (),
    min_group_size: int = TERMINAL_MIN_GROUP_SIZE,
) -> PeriodFrames:
    """KPIs per calendar period for each breakdown, in one scan (``queries/kpi_periods.sql``).

    Each breakdown gives one frame with a row per (period, breakdown values). ``gmv_by`` adds, per
    column, the KPIs of purchase/refund events per (period, column value) -- what the digest needs
    for its top movers -- without grouping the other events by that column; their ``active_users``
    are the distinct users of those purchase/refund events. In a breakdown, the (period, values) rows
    with fewer than ``min_group_size`` active users are pooled into one row per period
    (:func:`~shortvid_analytics.privacy.pool_small_groups`); ``gmv_by`` rows are left to the caller.
    """
    create_kpi_events(source)
    grain: dict[str, str] = {}
    for columns in breakdowns:
        for column in columns:
            grain.setdefault(column, f"g{len(grain)}")
    mover_alias = {column: f"m{i}" for i, column in enumerate(gmv_by)}
    sets: list[tuple[str, ...]] = []
    for columns in breakdowns:
        aliases = tuple(grain[c] for c in columns)
        sets += [("day", *aliases), ("week", *aliases), ("month", *aliases)]
    mover_sets = [(period.value, alias) for alias in mover_alias.values()]
    all_keys = ["day", "week", "month", *grain.values(), *mover_alias.values()]

    raw = sql.run(source.con, "kpi_periods", context={
        "grain": list(grain.items()), "movers": list(mover_alias.items()),
        "sets": [list(s) for s in sets], "mover_sets": [list(s) for s in mover_sets],
        "day_expr": f"CAST({Period.day.trunc_sql('local_time')} AS DATE)",
        "week_expr": f"CAST({Period.week.trunc_sql('day')} AS DATE)",
        "month_expr": f"CAST({Period.month.trunc_sql('day')} AS DATE)",
        "event_sums": EVENT_SUMS, "commerce_sums": COMMERCE_SUMS,
    })

    def rows_of(grouped: tuple[str, ...]) -> pl.DataFrame:
        # GROUPING(...) has bit 1 for every column *not* grouped, the first column most significant.
        gid = sum(1 << (len(all_keys) - 1 - i) for i, k in enumerate(all_keys) if k not in grouped)
        return raw.filter(pl.col("grouping_id") == gid)

    days = sorted(rows_of(("day",) + tuple(grain[c] for c in breakdowns[0]))["day"].unique().to_list())
    frames = []
    for columns in breakdowns:
        aliases = tuple(grain[c] for c in columns)
        units = {unit: rows_of((unit, *aliases)).rename({grain[c]: c for c in columns})
                 for unit in ("day", "week", "month")}
        frames.append(_period_rows(period, list(columns), units, days, min_group_size))
    movers = {}
    for column, alias in mover_alias.items():
        rows = rows_of((period.value, alias)).filter(pl.col(alias).is_not_null())
        movers[column] = derive(rows.select(pl.col(period.value).alias("period_start"),
                                            pl.col(alias).alias(column), *INGREDIENTS, "active_users"))
    return PeriodFrames(breakdowns=frames, gmv_by=movers, days=days)


def _period_rows(period: Period, columns: list[str], units: dict[str, pl.DataFrame],
                 days_with_events: list[date], min_group_size: int) -> pl.DataFrame:
    """Period rows of one breakdown: KPIs of the period's own grouping set plus DAU/WAU/MAU means.

    With breakdown ``columns``, rows with fewer than ``min_group_size`` active users are pooled per
    period; the pooled row's ``days_with_events`` is null (days are not additive over groups).
    """
    activity = _activity(period, columns, units, days_with_events)
    rows = units[period.value].select([period.value, *columns, *INGREDIENTS, "active_users"])
    rows = rows.join(activity, on=[period.value, *columns], how="left", nulls_equal=True)
    flags: list[str] = []
    if columns:
        rows = pool_small_groups(rows, "active_users", min_group_size, within=[period.value],
                                 sums=[*INGREDIENTS, "active_users", "dau", "wau", "mau"], same=["days_in_data"])
        flags = [SUPPRESSED, SUPPRESSED_GROUPS]
    starts = rows[period.value].to_list()
    lengths = [(period.add(s, 1) - s).days for s in starts]
    complete, weeks_complete, months_complete = _coverage(starts, lengths, days_with_events)
    rows = derive(rows).with_columns(
        pl.Series("period", [period.label(s) for s in starts], dtype=pl.String),
        pl.Series("days", lengths, dtype=pl.Int64),
        pl.Series("complete", complete, dtype=pl.Boolean),
        pl.Series("weeks_complete", weeks_complete, dtype=pl.Boolean),
        pl.Series("months_complete", months_complete, dtype=pl.Boolean),
        pl.col("active_users").cast(pl.Int64),
        pl.col("days_with_events").cast(pl.Int64),
        pl.col("days_in_data").cast(pl.Int64),
        _ratio(pl.col("dau"), pl.col("mau")).alias("stickiness"),
    )
    order = ["period", pl.col(period.value).alias("period_start"), "days", "days_in_data", "days_with_events",
             "complete", "weeks_complete", "months_complete", *columns, *kpi_columns(KPIS),
             *[k.name for k in ACTIVITY_KPIS], *flags]
    return rows.select(order).sort(["period_start", *flags[:1], *columns], nulls_last=True)


def _activity(period: Period, columns: list[str], units: dict[str, pl.DataFrame],
              days_with_events: list[date]) -> pl.DataFrame:
    """Per (period, breakdown values): the days in the data, the mean DAU/WAU/MAU over the period's days of
    the data span (a day without events counts 0) and the days with events."""
    first, last = days_with_events[0], days_with_events[-1]
    span = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    calendar = pl.DataFrame({unit: [Period(unit).start_of(d) for d in span] for unit in ("day", "week", "month")},
                            schema={"day": pl.Date, "week": pl.Date, "month": pl.Date})
    groups = units[period.value].select(columns).unique() if columns else pl.DataFrame()
    grid = calendar.join(groups, how="cross") if columns else calendar
    for unit, name in (("day", "dau"), ("week", "wau"), ("month", "mau")):
        counts = units[unit].select([unit, *columns, pl.col("active_users").alias(name)])
        grid = grid.join(counts, on=[unit, *columns], how="left", nulls_equal=True)
    grid = grid.with_columns(pl.col(c).fill_null(0) for c in ("dau", "wau", "mau"))
    return grid.group_by([period.value, *columns]).agg(
        pl.len().alias("days_in_data"),
        pl.col("dau").mean(), pl.col("wau").mean(), pl.col("mau").mean(),
        (pl.col("dau") > 0).sum().alias("days_with_events"),
    )


def _coverage(starts: list[date], lengths: list[int],
              days_with_events: list[date]) -> tuple[list[bool], list[bool], list[bool]]:
    """Per period (start, length in days): every day has events; every ISO week / month of its days lies
    inside the data span."""
    first, last = days_with_events[0], days_with_events[-1]
    event_days = set(days_with_events)
    period_days = [[s + timedelta(days=k) for k in range(n)] for s, n in zip(starts, lengths, strict=True)]

    def covered(unit: Period, days: list[date]) -> bool:
        return all(first <= unit.start_of(d) and unit.add(unit.start_of(d), 1) - timedelta(days=1) <= last
                   for d in days)

    return ([all(d in event_days for d in days) for days in period_days],
            [covered(Period.week, days) for days in period_days],
            [covered(Period.month, days) for days in period_days])


# ----------------------------------------------------------------------------------------- kpi command
@dataclass
class KpiResult(AnalysisResult):
    """The KPI table per period (``shortvid kpi``)."""

    kind = "kpi"
    periods: pl.DataFrame = field(default_factory=pl.DataFrame)
    first_day: date | None = None
    last_day: date | None = None
    warnings: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "data_days": {"first": self.first_day, "last": self.last_day},
            "periods": self.periods.to_dicts(),
            "warnings": self.warnings,
        }

    def to_frame(self) -> pl.DataFrame:
        """One row per period (and breakdown value)."""
        return self.periods


def run(source: EventSource, options: KpiOptions) -> KpiResult:
    """KPIs of every calendar ``period`` of the data, optionally per value of the ``by`` columns.

    With ``by``, the groups of a period with fewer than ``min_group_size`` active users are pooled
    into one row of that period (``suppressed`` true).
    """
    period, by, min_group_size = options.period, options.by, options.min_group_size
    columns = breakdown_columns(source, by)
    frames = period_kpis(source, period, breakdowns=[tuple(columns)], min_group_size=min_group_size)
    return KpiResult(
        params={"source": source.describe(), "period": period.value, "by": columns,
                "min_group_size": min_group_size, "confidence": CONFIDENCE},
        periods=frames.breakdowns[0],
        first_day=frames.days[0],
        last_day=frames.days[-1],
        warnings=empty_kpi_warnings(source, frames.breakdowns[0]),
    )


def compute_table(source: EventSource, *args: Any, **values: Any) -> KpiResult:
    """:func:`run` with the options given as :class:`KpiOptions` fields: ``compute_table(source, "week",
    ["platform"])`` (:func:`..render.kpi.kpi_table` draws the result)."""
    return run(source, KpiOptions(*args, **values))
