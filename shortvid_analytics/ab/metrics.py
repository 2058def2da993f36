"""Experiment metrics: the metric grammar and the SQL that turns events into per-variant sums.

Metric grammar (``--metric``, repeatable):

=====================================  ==========  =================================================
``conversion:SELECTOR``                proportion  1 if the user did a matching event, else 0
``count:SELECTOR``                     mean        number of matching events per user
``sum:COLUMN:SELECTOR``                mean        sum of a numeric column over matching events
``revenue_per_user``                   mean        sum of ``revenue`` over ``purchase`` (= GMV/user)
``ratio:SELECTOR/SELECTOR``            ratio       matching events / matching events
``ctr``                                ratio       ``product_click`` / ``video_view`` events
``aov``                                ratio       purchase ``revenue`` / orders (distinct
                                                   ``order_id``; a purchase without one counts once)
=====================================  ==========  =================================================

SELECTOR is the shared event grammar (:mod:`shortvid_analytics.eventspec`), e.g.
``purchase[platform=douyin]``. The named metrics take an optional filter applied to all their
events: ``revenue_per_user[platform=douyin]``, ``ctr[traffic_source=recommend]``.

Every metric is a per-user value over the user's events at or after their ``assigned_at`` (and
before ``assigned_at + window`` when a window is set); users with no such events count as 0
(ratio metrics: 0/0 contributes nothing to either sum). The CUPED covariate is the same value over
the ``cuped_days`` days before ``assigned_at``. One SQL pass over the events joined to the
assignments computes every per-user value; a second aggregation gives, per variant (and segment),
the sums that :mod:`.stats` works on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import duckdb

from .. import sql
from ..errors import InputError, OptionError, first_line
from ..eventspec import EventSpec, split_top_level
from ..source import _INTEGER_TYPES, TIME_FIRST, TIME_LAST, EventSource, _micros_text, resolve_files
from .stats import MetricType, Sums

if TYPE_CHECKING:
    import polars as pl

Aggregate = Literal["has", "count", "sum", "orders"]

_NUMERIC_PREFIXES = ("DOUBLE", "FLOAT", "DECIMAL", "REAL")
REQUIRED_ASSIGNMENT_COLUMNS = ("experiment_id", "user_id", "variant", "assigned_at")
_NAMED = re.compile(r"^(?P<name>revenue_per_user|ctr|aov)\s*(?P<filters>\[.*\])?$", re.DOTALL)
_GRAMMAR_HELP = ("expected conversion:EVENT, count:EVENT, sum:COLUMN:EVENT, ratio:EVENT/EVENT, revenue_per_user, "
                 "ctr or aov (EVENT may carry filters, e.g. purchase[platform=douyin])")


@dataclass(frozen=True)
class Component:
    """A per-user value: ``has`` (0/1), ``count`` of events, ``sum`` of ``column``, or ``orders``."""

    aggregate: Aggregate
    spec: EventSpec
    column: str | None = None


@dataclass(frozen=True)
class MetricDef:
    """A parsed ``--metric``: its type and the per-user numerator (and denominator for ratios)."""

    name: str
    type: MetricType
    numerator: Component
    denominator: Component | None = None

    @property
    def components(self) -> tuple[Component, ...]:
        return (self.numerator,) if self.denominator is None else (self.numerator, self.denominator)

    def validate(self, source: EventSource) -> None:
        """Check that the events occur and the columns exist and are numeric where summed."""
        for component in self.components:
            component.spec.validate(source, f"event in metric {self.name!r}")
            if component.column is not None:
                typ = source.require_column(component.column, f"column in metric {self.name!r}").upper()
                if not (typ in _INTEGER_TYPES or typ.startswith(_NUMERIC_PREFIXES)):
                    raise OptionError(f"metric {self.name!r}: column {component.column!r} has type {typ}; "
                                      f"expected a number")
            if component.aggregate == "orders":
                source.require_column("order_id", f"column of metric {self.name!r}")


def parse_metric(text: str) -> MetricDef:
    """Parse one ``--metric`` (see the module docstring for the grammar)."""
    raw = text.strip()
    named = _NAMED.match(raw)
    if named:
        filters = named.group("filters") or ""

        def spec(event: str) -> EventSpec:
            return EventSpec.parse(event + filters)

        name = named.group("name")
        if name == "revenue_per_user":
            return MetricDef(raw, "mean", Component("sum", spec("purchase"), "revenue"))
        if name == "ctr":
            return MetricDef(raw, "ratio", Component("count", spec("product_click")),
                             Component("count", spec("video_view")))
        return MetricDef(raw, "ratio", Component("sum", spec("purchase"), "revenue"),
                         Component("orders", spec("purchase")))
    kind, sep, rest = raw.partition(":")
    if not sep or not rest.strip():
        raise OptionError(f"metric {text!r}: {_GRAMMAR_HELP}")
    kind = kind.strip().lower()
    if kind == "conversion":
        return MetricDef(raw, "proportion", Component("has", EventSpec.parse(rest)))
    if kind == "count":
        return MetricDef(raw, "mean", Component("count", EventSpec.parse(rest)))
    if kind == "sum":
        column, sep, selector = rest.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column.strip()):
            raise OptionError(f"metric {text!r}: expected sum:COLUMN:EVENT, e.g. sum:revenue:purchase")
        return MetricDef(raw, "mean", Component("sum", EventSpec.parse(selector), column.strip()))
    if kind == "ratio":
        parts = split_top_level(rest, "/")
        if len(parts) != 2:
            raise OptionError(f"metric {text!r}: expected ratio:EVENT/EVENT, e.g. ratio:product_click/video_view")
        return MetricDef(raw, "ratio", Component("count", EventSpec.parse(parts[0])),
                         Component("count", EventSpec.parse(parts[1])))
    raise OptionError(f"metric {text!r}: unknown metric kind {kind!r}; {_GRAMMAR_HELP}")


# ---------------------------------------------------------------------------------- assignments
@dataclass
class Assignments:
    """The experiment's assignments as loaded into the connection (temp table ``ab_assigned``).

    ``users`` counts the analysable users per variant (assigned to exactly one variant);
    ``incomplete_rows`` are rows of the experiment with a null user_id, variant or assigned_at.
    """

    experiment: str
    users: dict[str, int]
    excluded_multi_variant_users: int
    incomplete_rows: int
    columns: dict[str, str]
    first_needed: datetime | None
    last_needed: datetime | None


def load_assignments(
    source: EventSource,
    path: str | Path,
    experiment: str | None,
    *,
    segment_column: str | None = None,
    window: timedelta | None = None,
    pre_period: timedelta | None = None,
) -> Assignments:
    """Read the assignments Parquet, check it, and create ``ab_assigned`` (one row per user).

    With a date range on ``source``, only users first assigned inside it are kept (and the metrics
    read only events inside it). ``segment_column`` is taken from the assignments when they have it.
    Raises :class:`InputError` for missing/mistyped columns and :class:`OptionError` for an unknown
    experiment.
    """
    con = source.con
    columns = _open_assignments(source, path)
    _check_assignments(source, path, columns)
    assigned_at = assigned_at_expr(source, path, columns["assigned_at"].upper())
    join_key = _join_key_expr(path, columns["user_id"].upper(), source.columns["user_id"].upper())

    experiments = sql.run(con, "ab_experiments", context={"assigned_at": assigned_at})
    experiment = _chosen_experiment(path, experiments["experiment_id"].to_list(), experiment)
    incomplete = int(experiments.filter(experiments["experiment_id"] == experiment)["incomplete_rows"].item())

    segment = "CAST(NULL AS VARCHAR)"
    if segment_column is not None and segment_column in columns:
        segment = f"min(CAST({sql.quote_ident(segment_column)} AS VARCHAR))"
    assigned_from, assigned_to = source.utc_range()
    sql.execute(con, "ab_assigned",
                {"experiment": experiment, "pre_period": pre_period or timedelta(0), "window": window,
                 "assigned_from": assigned_from, "assigned_to": assigned_to},
                {"assigned_at": assigned_at, "join_key": join_key, "segment": segment})
    summary = sql.run(con, "ab_assignment_summary")
    users = {row["variant"]: int(row["users"]) for row in summary.iter_rows(named=True) if row["variant"] is not None}
    # the users of more than one variant are the row without a variant
    excluded = sum(int(row["users"]) for row in summary.iter_rows(named=True) if row["variant"] is None)
    eligible = summary.filter(summary["variant"].is_not_null())
    return Assignments(
        experiment=experiment,
        users=dict(sorted(users.items())),
        excluded_multi_variant_users=excluded,
        incomplete_rows=incomplete,
        columns=columns,
        # the needed-time columns are Datetime, so their extremes are datetimes
        first_needed=cast("datetime | None", eligible["first_needed"].min() if eligible.height else None),
        last_needed=cast("datetime | None",
                         eligible["last_needed"].max() if eligible.height and window is not None else None),
    )


def _open_assignments(source: EventSource, path: str | Path) -> dict[str, str]:
    """Create the ``ab_assignments_raw`` view of the Parquet files at ``path``; their columns and types,
    which must include the required ones."""
    con = source.con
    files, hive = resolve_files(path)
    con.execute("SET VARIABLE shortvid_ab_files = $files::VARCHAR[]", {"files": files})
    try:
        sql.execute(con, "ab_assignments_view", context={"hive": hive})
        columns = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM ab_assignments_raw").fetchall()}
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot read as Parquet: {first_line(exc)}") from None
    missing = [c for c in REQUIRED_ASSIGNMENT_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"{path}: assignments lack required column(s) {', '.join(missing)}; columns present: "
                         f"{', '.join(columns)}; expected {', '.join(REQUIRED_ASSIGNMENT_COLUMNS)}")
    return columns


def _chosen_experiment(path: str | Path, known: list[str], experiment: str | None) -> str:
    """``experiment`` if the assignments hold it; when not given, the only experiment they hold."""
    if experiment is None:
        if len(known) != 1:
            raise OptionError(f"{path} holds {len(known)} experiments; choose one with --experiment: "
                              f"{_listing(known)}")
        return known[0]
    if experiment not in known:
        raise OptionError(f"experiment {experiment!r} not found in {path}; experiments present: {_listing(known)}")
    return experiment


def _check_assignments(source: EventSource, path: str | Path, columns: dict[str, str]) -> None:
    """Refuse assignments without rows, with a required column NULL in every row or with an ``assigned_at``
    outside the years event times may take (source.TIME_FIRST .. TIME_LAST): each would otherwise surface
    later as a misleading "0 experiments" or "variant not found"."""
    converted = source.utc_timestamp_sql(sql.quote_ident("assigned_at"), columns["assigned_at"].upper())
    row = sql.run(source.con, "ab_assignment_checks",
                  context={"assigned_at": converted or "CAST(NULL AS TIMESTAMP)"}).row(0, named=True)
    rows = int(row["rows"])
    if not rows:
        raise InputError(f"{path}: no assignments (the file has no rows)")
    for column in REQUIRED_ASSIGNMENT_COLUMNS:
        if not row[column]:
            raise InputError(f"{path}: column {column!r} is NULL in all {rows:,} row(s) of the assignments")
    first, last = row["first_assigned"], row["last_assigned"]
    low, high = _us(TIME_FIRST), _us(TIME_LAST)
    if first is not None and (first < low or last > high):
        count = source.con.execute(
            f"SELECT count(*) FROM ab_assignments_raw WHERE epoch_us({converted}) < {low} "
            f"OR epoch_us({converted}) > {high}").fetchall()[0][0]
        example = _micros_text(first if first < low else last)
        raise InputError(f"{path}: column 'assigned_at' has {count:,} value(s) outside {TIME_FIRST:%Y-%m-%d} .. "
                         f"{TIME_LAST:%Y-%m-%d} (e.g. {example}); such times are a sentinel, not assignments")


def _us(moment: datetime) -> int:
    return (moment - TIME_FIRST) // timedelta(microseconds=1)


def _listing(names: list[str], limit: int = 20) -> str:
    if not names:
        return "(none)"
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def assigned_at_expr(source: EventSource, path: str | Path, typ: str) -> str:
    """``assigned_at`` (of DuckDB type ``typ``) as a naive UTC timestamp, converted as the events'
    ``event_time`` is (:meth:`EventSource.utc_timestamp_sql`: tz-naive values are read in
    ``[time] source_timezone``, default UTC)."""
    converted = source.utc_timestamp_sql(sql.quote_ident("assigned_at"), typ)
    if converted is None:
        raise InputError(f"{path}: column 'assigned_at' has type {typ}; expected a timestamp (UTC or tz-aware)")
    return converted


def _join_key_expr(path: str | Path, assign_type: str, events_type: str) -> str:
    """The assignments' user_id cast to the events' user_id type (the cast runs on the small side)."""
    col = sql.quote_ident("user_id")
    if not (assign_type in _INTEGER_TYPES or assign_type == "VARCHAR"):
        raise InputError(f"{path}: column 'user_id' has type {assign_type}; expected VARCHAR or an integer")
    if assign_type == events_type:
        return col
    if events_type in _INTEGER_TYPES:
        # ids that are not integers cannot match any event: those users keep all-zero metrics
        return f"TRY_CAST({col} AS {events_type})"
    return f"CAST({col} AS VARCHAR)"


# ---------------------------------------------------------------------------------- sums
#: segment -> variant -> one Sums per metric (segment None = all users).
VariantSums = dict[str | None, dict[str, list[Sums]]]


def variant_sums(
    source: EventSource,
    metrics: list[MetricDef],
    *,
    cuped: bool = False,
    segment_column: str | None = None,
    segment_from_events: bool = False,
    first_needed: datetime | None = None,
    last_needed: datetime | None = None,
    cap: float | None = None,
) -> tuple[VariantSums, dict[int, float | None]]:
    """Per-variant (and per-segment) sums of every metric, in one pass over the events.

    Needs ``ab_assigned`` (:func:`load_assignments`). With ``cuped`` the pre-period covariate sums
    are included for proportion and mean metrics. ``segment_from_events``: the segment of a user
    is the ``segment_column`` value of their first event at/after assignment (ties: smallest value).
    ``cap`` (a quantile in (0, 1)) caps each mean metric's per-user value, and its CUPED covariate,
    at that quantile of the values of all analysed users pooled over variants (percentile capping,
    as GrowthBook); the second element of the result maps the index of each capped metric to its
    cap value.
    """
    params = sql.Params()
    components = list(dict.fromkeys(component for metric in metrics for component in metric.components))
    values, event_filter, segment = _user_values(source, components, params, cuped=cuped,
                                                 segment_column=segment_column if segment_from_events else None)
    per_user_columns = [f"c{i}_post" for i in range(len(components))] + (
        [f"c{i}_pre" for i in range(len(components))] if cuped else [])
    capped = [j for j, metric in enumerate(metrics) if cap is not None and metric.type == "mean"]
    sums, cap_values = _metric_sums(metrics, components, params, cuped=cuped, cap=cap, capped=capped)

    if segment_column is not None:
        segment_select = "segment, GROUPING(segment) AS overall"
        group_by = "GROUPING SETS ((variant), (variant, segment))"
    else:
        segment_select = "CAST(NULL AS VARCHAR) AS segment, 1 AS overall"
        group_by = "variant"
    fragments = {
        "user_values": ",\n        ".join(values),
        "event_filter": f"({event_filter})",
        "user_columns": ",\n        ".join(f"CAST(coalesce(p.{c}, 0) AS DOUBLE) AS {c}" for c in per_user_columns),
        "segment": segment,
        "segment_select": segment_select,
        "sums": ",\n    ".join(sums),
        "group_by": group_by,
        "cap_values": ", ".join(["count(*) AS analysed_users", *cap_values]),
    }
    frame = sql.run(source.con, "ab_variant_sums",
                    {**params.values, "time_from": first_needed, "time_to": last_needed}, fragments)
    return _read_sums(frame, metrics, cuped=cuped, capped=capped)


def _read_sums(frame: pl.DataFrame, metrics: list[MetricDef], *, cuped: bool,
               capped: list[int]) -> tuple[VariantSums, dict[int, float | None]]:
    """The sums by segment and variant (a NULL segment value is ``(none)``), and the cap values."""
    out: VariantSums = {}
    caps: dict[int, float | None] = {}
    for row in frame.iter_rows(named=True):
        key = None if row["overall"] else (row["segment"] if row["segment"] is not None else "(none)")
        per_metric = [_row_sums(row, j, metric, cuped) for j, metric in enumerate(metrics)]
        out.setdefault(key, {})[row["variant"]] = per_metric
        caps.update({j: row[f"m{j}_cap"] for j in capped})
    return out, caps


def _user_values(source: EventSource, components: list[Component], params: sql.Params, *, cuped: bool,
                 segment_column: str | None) -> tuple[list[str], str, str]:
    """Each user's value of every component after assignment (and before, for CUPED), the filter of
    the events read, and the segment expression: ``segment_column`` of the first event after
    assignment when given (then every event counts), else the assignments' segment."""
    values: list[str] = []
    predicates: list[str] = []
    for i, component in enumerate(components):
        predicate = component.spec.predicate(params, source.columns, alias="e")
        predicates.append(predicate)
        values.append(f"{_aggregate(component, predicate, 'e.event_time >= u.assigned_at')} AS c{i}_post")
        if cuped:
            values.append(f"{_aggregate(component, predicate, 'e.event_time < u.assigned_at')} AS c{i}_pre")
    if segment_column is None:
        return values, " OR ".join(predicates), "u.segment"
    col = f"CAST(e.{sql.quote_ident(segment_column)} AS VARCHAR)"
    values.append(f"arg_min({col}, CASE WHEN e.event_time >= u.assigned_at THEN (e.event_time, {col}) END)"
                  f" AS event_segment")
    return values, "TRUE", "p.event_segment"  # the first event of any kind decides the segment


def _metric_sums(metrics: list[MetricDef], components: list[Component], params: sql.Params, *, cuped: bool,
                 cap: float | None, capped: list[int]) -> tuple[list[str], list[str]]:
    """The per-variant sums of every metric (moments, and the cross products its variance needs), and
    the pooled quantiles that cap the ``capped`` metrics."""
    sums: list[str] = []
    cap_values: list[str] = []
    for j, metric in enumerate(metrics):
        num = f"c{components.index(metric.numerator)}_post"
        pre = f"c{components.index(metric.numerator)}_pre"
        if j in capped:
            quantile = params.bind(cap)
            cap_values.append(f"quantile_cont({num}, {quantile}) AS m{j}_cap")
            sums.append(f"max(caps.m{j}_cap) AS m{j}_cap")
            num = f"least({num}, caps.m{j}_cap)"
            if cuped:
                cap_values.append(f"quantile_cont({pre}, {quantile}) AS m{j}_pre_cap")
                pre = f"least({pre}, caps.m{j}_pre_cap)"
        sums += _moment_sums(f"m{j}", num)
        if metric.denominator is not None:
            den = f"c{components.index(metric.denominator)}_post"
            sums += _moment_sums(f"m{j}_den", den)
            sums.append(f"fsum({num} * {den}) AS m{j}_num_den_products")
        elif cuped:
            sums += _moment_sums(f"m{j}_pre", pre)
            sums.append(f"fsum({num} * {pre}) AS m{j}_post_pre_products")
    return sums, cap_values


def _aggregate(component: Component, predicate: str, window: str) -> str:
    when = f"{window} AND {predicate}"
    if component.aggregate == "has":
        return f"max(CASE WHEN {when} THEN 1 ELSE 0 END)"
    if component.aggregate == "count":
        return f"sum(CASE WHEN {when} THEN 1 ELSE 0 END)"
    if component.aggregate == "sum":
        return f"fsum(CASE WHEN {when} THEN e.{sql.quote_ident(component.column or '')} END)"
    return (f"(count(DISTINCT CASE WHEN {when} THEN e.order_id END)"
            f" + sum(CASE WHEN {when} AND e.order_id IS NULL THEN 1 ELSE 0 END))")


# Sums of DOUBLE values use fsum (DuckDB's compensated Kahan-Babuska sum): a plain parallel sum
# depends on thread scheduling in its last bits, and so would every statistic printed from it. A
# Spark translation maps fsum to sum.
def _moment_sums(prefix: str, column: str) -> list[str]:
    return [f"fsum({column}) AS {prefix}_sum", f"fsum({column} * {column}) AS {prefix}_sum_squares"]


def _row_sums(row: dict, j: int, metric: MetricDef, cuped: bool) -> Sums:
    n = int(row["users"])
    fields: dict = {"n": n, "sum": row[f"m{j}_sum"] or 0.0, "sum_squares": row[f"m{j}_sum_squares"] or 0.0}
    if metric.denominator is not None:
        fields.update(den_sum=row[f"m{j}_den_sum"] or 0.0, den_sum_squares=row[f"m{j}_den_sum_squares"] or 0.0,
                      num_den_products=row[f"m{j}_num_den_products"] or 0.0)
    elif cuped:
        fields.update(pre_sum=row[f"m{j}_pre_sum"] or 0.0, pre_sum_squares=row[f"m{j}_pre_sum_squares"] or 0.0,
                      post_pre_products=row[f"m{j}_post_pre_products"] or 0.0)
    return Sums(**fields)
