"""``digest``: the weekly KPI digest a cron job builds unattended.

For one ISO week it compares every KPI of :mod:`shortvid_analytics.kpi` (the numbers are exactly the
week rows of ``shortvid kpi --period week``) with the previous week and with the mean of the
trailing 4 complete weeks, flags values outside the usual range of the trailing 8 complete weeks,
breaks the week down by platform and lists the creators and products whose GMV moved most. All of
it comes from one scan of the events. Rendering and files: :mod:`shortvid_analytics.render.digest`.

A week is *complete* when each of its 7 local days has at least one event; ``last`` is the ISO week
of the last event day when that day is a Sunday, otherwise the week before it.

A digest is a shareable output: breakdown values and movers with fewer than ``min_group_size``
distinct users (default: the config's ``[privacy] min_group_size``, 5) are suppressed -- pooled into
one row, never listed (see docs/privacy.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeGuard

import numpy as np
import polars as pl

from .errors import ShortvidError
from .kpi import ACTIVITY_KPIS, CONFIDENCE, KPIS, Kpi, breakdown_columns, period_kpis
from .options import check_min_group_size
from .options.digest import DigestOptions
from .periods import Period, parse_iso_week
from .privacy import SUPPRESSED, SUPPRESSED_GROUPS, pool_small_groups
from .results import AnalysisResult
from .source import EventSource

#: KPIs of the digest, in order: every KPI of the kpi table.
DIGEST_KPIS: tuple[Kpi, ...] = KPIS + ACTIVITY_KPIS
#: Weeks in the trailing mean the week is compared with.
TRAILING_MEAN_WEEKS = 4
#: Weeks whose values define the usual range of a KPI, and how many of them must exist.
BASELINE_WEEKS = 8
MIN_BASELINE_WEEKS = 4
#: A value further than this many robust standard deviations from the baseline median is flagged.
ANOMALY_SDS = 3.0
#: Columns whose GMV movers the digest lists, when the export has them.
MOVER_COLUMNS: tuple[str, ...] = ("creator_id", "product_id")
#: KPIs that also depend on whole ISO weeks / months around the week (see docs/kpi.md), and the flag of
#: a kpi row saying whether those lie inside the data; every other KPI needs the week itself complete.
UNIT_FLAGS: dict[str, str] = {"wau": "weeks_complete", "mau": "months_complete", "stickiness": "months_complete"}


class IncompleteWeek(ShortvidError):
    """The requested week has no events, or not on every day (exit code 3, the cron contract)."""

    exit_code = 3


def parse_week_option(text: str) -> str | date:
    """``last`` or the Monday of an ISO week such as ``2026-W47``; raises :class:`OptionError`."""
    if text.strip().lower() == "last":
        return "last"
    return parse_iso_week(text)


def digest(source: EventSource, *args: Any, **values: Any) -> DigestResult:
    """:func:`run` with the options given as :class:`DigestOptions` fields: ``digest(source, "2026-W47",
    by="platform")``."""
    return run(source, DigestOptions(*args, **values))


def last_complete_week(days: Sequence[date]) -> date:
    """Monday of the week of the last event day if that day is a Sunday, else of the week before."""
    last = max(days)
    monday = Period.week.start_of(last)
    return monday if last.weekday() == 6 else monday - timedelta(weeks=1)


@dataclass
class DigestResult(AnalysisResult):
    """The digest of one week; ``kpis`` is the headline table, one entry per KPI."""

    kind = "digest"
    generated_at: str = ""
    week: dict[str, Any] = field(default_factory=dict)
    kpis: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    breakdown: dict[str, Any] = field(default_factory=dict)
    movers: dict[str, Any] = field(default_factory=dict)
    history: pl.DataFrame = field(default_factory=pl.DataFrame)

    def body(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at,
            "week": self.week,
            "rules": {
                "complete_week": "every one of the 7 local days has at least one event",
                "trailing_mean_weeks": TRAILING_MEAN_WEEKS,
                "baseline_weeks": BASELINE_WEEKS,
                "min_baseline_weeks": MIN_BASELINE_WEEKS,
                "anomaly": f"value outside baseline median +/- {ANOMALY_SDS:g} x 1.4826 x MAD",
            },
            "kpis": self.kpis,
            "anomalies": self.anomalies,
            "by": self.breakdown,
            "movers": self.movers,
            "history": self.history.to_dicts(),
        }

    def to_frame(self) -> pl.DataFrame:
        """The headline table: one row per KPI (baseline fields flattened)."""
        return pl.DataFrame([{k: v for k, v in row.items() if k != "baseline"} | _prefixed(row["baseline"])
                             for row in self.kpis], infer_schema_length=None)


def _prefixed(baseline: dict[str, Any]) -> dict[str, Any]:
    return {f"baseline_{k}": v for k, v in baseline.items()}


def run(source: EventSource, options: DigestOptions) -> DigestResult:
    """The digest of ``week`` (``2026-W47`` or ``last``), broken down by ``by``.

    ``by`` defaults to ``platform`` when the export has that column. ``min_group_size`` (default: the
    config's ``[privacy] min_group_size``) suppresses breakdown values and movers with fewer users. Raises
    :class:`IncompleteWeek` when the week has no events or misses a day, unless ``allow_partial``. ``as_of``
    is the only wall-clock value of the result (``generated_at``, default: now, UTC); pin it for
    byte-identical output.
    """
    week, as_of, allow_partial, by = options.week, options.as_of, options.allow_partial, options.by
    top_movers, min_group_size = options.top_movers, options.min_group_size
    choice = parse_week_option(week)
    by, min_group_size = _checked_options(source, by, min_group_size)
    breakdown = breakdown_columns(source, [by], option="--by") if by else []
    movers = [c for c in MOVER_COLUMNS if _has_column(source, c)]
    frames = period_kpis(source, Period.week, breakdowns=[(), tuple(breakdown)] if breakdown else [()],
                         gmv_by=movers, min_group_size=min_group_size)
    start = choice if isinstance(choice, date) else last_complete_week(frames.days)
    label = Period.week.label(start)
    present = _days_present(frames.days, start, label, allow_partial)

    totals = frames.breakdowns[0]
    weeks = {row["period_start"]: row for row in totals.iter_rows(named=True)}
    kpis = [_compare(kpi, start, weeks) for kpi in DIGEST_KPIS]
    stamp = _utc(as_of) if as_of else datetime.now(UTC)
    return DigestResult(
        params={
            "source": source.describe(),
            "week": week,
            "by": by,
            "top_movers": top_movers,
            "allow_partial": allow_partial,
            "min_group_size": min_group_size,
            "as_of": stamp.strftime("%Y-%m-%dT%H:%M:%SZ") if as_of else None,
            "confidence": CONFIDENCE,
        },
        generated_at=stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        week=_week_info(start, label, present, frames.days),
        kpis=kpis,
        anomalies=[k["kpi"] for k in kpis if k["anomaly"]],
        breakdown=_breakdown(frames.breakdowns[1], breakdown[0], start) if breakdown else {},
        movers={column: _movers(frames.gmv_by[column], column, start, top_movers, min_group_size)
                for column in movers},
        history=_history(totals, start),
    )


def _checked_options(source: EventSource, by: str | None, min_group_size: int | None) -> tuple[str | None, int]:
    """``by`` (default ``platform`` when the export has it) and ``min_group_size`` (default: the config's)."""
    if min_group_size is None:
        min_group_size = source.config.privacy.min_group_size
    check_min_group_size(min_group_size)
    if by is None and _has_column(source, "platform"):
        by = "platform"
    return by, min_group_size


def _days_present(days: list[date], start: date, label: str, allow_partial: bool) -> list[date]:
    """The days of the week starting ``start`` that have events; a week missing one is refused unless
    ``allow_partial``."""
    event_days = set(days)
    present = [start + timedelta(days=k) for k in range(7) if start + timedelta(days=k) in event_days]
    if len(present) < 7 and not allow_partial:
        span = f"data covers {days[0]} .. {days[-1]}"
        what = ("has no events" if not present else
                f"is partial: events on {len(present)} of 7 days ({', '.join(d.isoformat() for d in present)})")
        raise IncompleteWeek(f"week {label} {what}; {span}; pass --allow-partial to build the digest anyway")
    return present


def _history(totals: pl.DataFrame, start: date) -> pl.DataFrame:
    """The KPI rows of the baseline weeks up to the digest's week."""
    history_starts = [start - timedelta(weeks=k) for k in range(BASELINE_WEEKS, -1, -1)]
    return totals.filter(pl.col("period_start").is_in(history_starts)).select(
        "period", "period_start", "complete", "weeks_complete", "months_complete", *(k.name for k in DIGEST_KPIS))


def _week_info(start: date, label: str, present: list[date], days: list[date]) -> dict[str, Any]:
    return {
        "label": label,
        "start": start,
        "end": start + timedelta(days=6),
        "previous": Period.week.label(start - timedelta(weeks=1)),
        "complete": len(present) == 7,
        "days_with_events": len(present),
        "data_first_day": days[0],
        "data_last_day": days[-1],
    }


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time is taken as UTC already (not as the machine's local time)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _has_column(source: EventSource, name: str) -> bool:
    return source.config.source_column(name) in source.raw_columns


def _change(value: Any, previous: Any) -> tuple[float | None, float | None]:
    """``value - previous`` and the relative change; None where undefined (missing, or from 0)."""
    if value is None or previous is None:
        return None, None
    change = float(value) - float(previous)
    return change, (change / abs(float(previous)) if previous else None)


def _compare(kpi: Kpi, start: date, weeks: dict[date, dict[str, Any]]) -> dict[str, Any]:
    """One headline row: the week's value against last week, the trailing mean and the baseline range.

    ``partial``: the value comes from incomplete data (the week misses days, or for WAU/MAU/stickiness a
    week or month around it is not entirely in the data); it is not flagged, and such weeks are left out
    of the trailing mean and the baseline.
    """
    def value_of(k: int) -> Any:
        row = weeks.get(start - timedelta(weeks=k))
        return row[kpi.name] if row is not None else None

    def whole(row: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        return row is not None and row["complete"] and row.get(UNIT_FLAGS.get(kpi.name, "complete"), True)

    def complete_values(n: int) -> list[float]:
        rows = [weeks.get(start - timedelta(weeks=k)) for k in range(1, n + 1)]
        return [float(r[kpi.name]) for r in rows if whole(r) and r[kpi.name] is not None]

    value, previous = value_of(0), value_of(1)
    partial = not whole(weeks.get(start))
    change, change_pct = _change(value, previous)
    trailing = complete_values(TRAILING_MEAN_WEEKS)
    trailing_mean = float(np.mean(trailing)) if trailing else None
    change_4w, change_pct_4w = _change(value, trailing_mean)
    baseline = _baseline(complete_values(BASELINE_WEEKS))
    anomaly = None
    if value is not None and not partial and baseline["median"] is not None:
        anomaly = "high" if value > baseline["upper"] else "low" if value < baseline["lower"] else None
    return {
        "kpi": kpi.name, "label": kpi.label, "unit": kpi.unit,
        "value": value, "partial": partial, "previous": previous, "change": change, "change_pct": change_pct,
        "trailing_4w_mean": trailing_mean, "trailing_4w_weeks": len(trailing),
        "change_vs_trailing_4w": change_4w, "change_pct_vs_trailing_4w": change_pct_4w,
        "anomaly": anomaly, "baseline": baseline,
    }


def _baseline(values: list[float]) -> dict[str, Any]:
    """Median and MAD-based robust SD (1.4826 x MAD) of the baseline weeks and the ±3 SD band."""
    if len(values) < MIN_BASELINE_WEEKS:
        return {"weeks": len(values), "median": None, "robust_sd": None, "lower": None, "upper": None}
    from scipy.stats import median_abs_deviation  # slow to import; only the digest needs it

    median = float(np.median(values))
    robust_sd = float(median_abs_deviation(values, scale="normal"))
    return {"weeks": len(values), "median": median, "robust_sd": robust_sd,
            "lower": median - ANOMALY_SDS * robust_sd, "upper": median + ANOMALY_SDS * robust_sd}


def _breakdown(rows: pl.DataFrame, column: str, start: date) -> dict[str, Any]:
    """Per value of ``column``: every KPI of the week against the previous week.

    The pooled row of the week's suppressed values comes last (``column`` null, ``suppressed`` true)
    and is compared with the previous week's pooled row; a value shown this week but suppressed in
    the previous one has no previous values.
    """
    previous_start = start - timedelta(weeks=1)
    groups = []
    week = rows.filter(pl.col("period_start") == start)
    keys: list[tuple[bool, Any]] = [(False, k) for k in week.filter(pl.col(SUPPRESSED).not_())[column].to_list()]
    keys.sort(key=lambda k: (k[1] is None, "" if k[1] is None else str(k[1])))
    keys += [(True, None)] * int(week[SUPPRESSED].sum())
    for suppressed, key in keys:
        mine = rows.filter(pl.col(SUPPRESSED) == suppressed, pl.col(column).eq_missing(key))
        current = mine.filter(pl.col("period_start") == start).row(0, named=True)
        before = mine.filter(pl.col("period_start") == previous_start)
        prior = before.row(0, named=True) if before.height else None
        entries = []
        for kpi in DIGEST_KPIS:
            value, previous = current[kpi.name], prior[kpi.name] if prior else None
            change, change_pct = _change(value, previous)
            entries.append({"kpi": kpi.name, "value": value, "previous": previous, "change": change,
                            "change_pct": change_pct})
        groups.append({column: key, "suppressed": suppressed, "suppressed_groups": current[SUPPRESSED_GROUPS],
                       "kpis": entries})
    return {"column": column, "groups": groups}


def _movers(rows: pl.DataFrame, column: str, start: date, top: int,
            min_group_size: int) -> dict[str, Any]:
    """The ``top`` values of ``column`` with the largest GMV rise and fall against the previous week.

    A value is suppressed when, in a week where it has purchases or refunds, fewer than
    ``min_group_size`` distinct users made them; suppressed values are not ranked but summed in
    ``suppressed`` (null when there are none).
    """
    money = ["gmv", "net_gmv", "orders"]
    current = rows.filter(pl.col("period_start") == start).select(column, *money, "active_users")
    previous = rows.filter(pl.col("period_start") == start - timedelta(weeks=1)).select(
        column, *(pl.col(m).alias(f"previous_{m}") for m in [*money, "active_users"]))
    both = current.join(previous, on=column, how="full", coalesce=True)
    both = both.with_columns(pl.min_horizontal("active_users", "previous_active_users").alias("users"))
    both = both.drop("active_users", "previous_active_users").fill_null(0)
    both = pool_small_groups(both, "users", min_group_size,
                             sums=[*money, *(f"previous_{m}" for m in money)]).drop("users")

    def move(row: dict[str, Any]) -> dict[str, Any]:
        return row | dict(zip(("gmv_change", "gmv_change_pct"), _change(row["gmv"], row["previous_gmv"])))

    moves = [move(row) for row in both.filter(pl.col(SUPPRESSED).not_()).drop(SUPPRESSED, SUPPRESSED_GROUPS)
             .to_dicts()]
    pooled = [move(row) for row in both.filter(pl.col(SUPPRESSED)).drop(SUPPRESSED, column).to_dicts()]
    up = sorted((m for m in moves if m["gmv_change"] > 0), key=lambda m: (-m["gmv_change"], m[column]))
    down = sorted((m for m in moves if m["gmv_change"] < 0), key=lambda m: (m["gmv_change"], m[column]))
    return {"up": up[:top], "down": down[:top], "suppressed": pooled[0] if pooled else None}
