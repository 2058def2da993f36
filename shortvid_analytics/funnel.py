"""``funnel``: how many users get through a sequence of steps within a conversion window, and how fast.

Product-analytics semantics (PostHog / Amplitude style); the exact definitions are in ``docs/funnel.md``:

- an *attempt* starts at a step-1 event inside the --from/--to range (``unordered``: an event of any step);
  later steps may fall after --to; the window is measured from that entry event and a step exactly
  ``window`` after it still counts;
- each user is counted once, by the attempt that reaches the furthest step (ties: the earliest attempt);
  step times are those of that attempt, each step completed as early as possible;
- ``ordered``: steps in order, other events allowed in between; ``strict``: the user's very next events
  (any event of the user) must be the next steps; ``unordered``: the steps in any order;
- a user's events are taken in time order; simultaneous events in funnel order (events matching step 1
  first, events matching no step last); one event never plays two steps;
- ``exclude``: a user who does an excluded event strictly between the entry and the last completed step of
  the counted attempt is removed from the funnel; ``hold``: every step's event carries the entry's value of
  the property (a missing value matches nothing);
- ``by``: breakdown by the entry event's property value (top ``by_limit`` values by entrants, the rest pooled
  as "other"; values with fewer than ``min_group_size`` entrants pooled as "suppressed", never shown on their
  own); ``trends``: one funnel per entry period (local day or ISO week).

All event-level work runs in DuckDB (``queries/funnel_*.sql``); Python only assembles per-step aggregates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

import polars as pl

from . import sql
from .errors import OptionError
from .eventspec import EventSpec
from .options import FunnelOrder
from .options.funnel import FunnelOptions
from .periods import Period, midnight
from .results import AnalysisResult
from .source import EventSource

#: Lower edges (seconds) of the time-to-convert histogram bins; edges at or beyond the window are dropped and
#: the last bin runs up to the window, inclusive.
HISTOGRAM_EDGES_S: tuple[int, ...] = (
    0, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 259200, 604800, 1209600, 2592000,
)
#: Unordered funnels cost 2^k window counts for k different steps sharing event names.
MAX_OVERLAPPING_UNORDERED = 8
_TEMP_TABLES = ("funnel_best", "funnel_users")
# Time (epoch microseconds) of a step a chain cannot reach: later than any event.
_UNREACHABLE = 2**63 - 1


@dataclass(frozen=True)
class HistogramBin:
    """Users whose time from the previous step lies in ``[from_s, to_s)`` seconds (the last bin includes ``to_s``)."""

    from_s: float
    to_s: float
    users: int


@dataclass(frozen=True)
class TimeToConvert:
    """Seconds from the previous step to this one over the users reaching it (``None`` for step 1 / no users).

    ``median`` and ``p90`` interpolate linearly between order statistics (numpy's default percentile).
    """

    median: float | None = None
    mean: float | None = None
    p90: float | None = None
    histogram: list[HistogramBin] = field(default_factory=list)


@dataclass(frozen=True)
class FunnelStep:
    """One step of a funnel (or of one breakdown value / trend cohort).

    ``users``: users whose counted attempt reached this step. ``conversion_from_start``: users / users at
    step 1. ``conversion_from_previous``: users / users at the previous step. ``dropoff``: users at the
    previous step minus users here. Relative fields are ``None`` for step 1 and when the base is 0.
    """

    step: int
    event: str
    users: int
    conversion_from_start: float | None
    conversion_from_previous: float | None
    dropoff: int | None
    time_to_convert_s: TimeToConvert


@dataclass(frozen=True)
class BreakdownGroup:
    """The funnel of the users whose counted attempt entered with ``--by`` value ``value`` (text; ``None`` =
    missing); ``other`` pools the values beyond ``--by-limit`` (then ``value`` is ``"other"``); ``suppressed``
    pools the ``suppressed_groups`` values with fewer than ``--min-group-size`` entrants (``value`` None)."""

    value: str | None
    other: bool
    steps: list[FunnelStep]
    suppressed: bool = False
    suppressed_groups: int = 0


@dataclass(frozen=True)
class TrendCohort:
    """The funnel of the attempts entering in one period (``period`` label, ``start`` its first local day)."""

    period: str
    start: date
    steps: list[FunnelStep]

    @property
    def conversion(self) -> float | None:
        """Share of the cohort's entrants reaching the last step."""
        return self.steps[-1].conversion_from_start


@dataclass
class FunnelResult(AnalysisResult):
    """A funnel: per-step users, conversion, drop-off and time to convert; optional breakdown and trends."""

    kind = "funnel"
    steps: list[FunnelStep] = field(default_factory=list)
    excluded_users: int = 0
    breakdown: list[BreakdownGroup] | None = None
    trends: list[TrendCohort] | None = None
    trends_period: str | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"steps": [_step_dict(s) for s in self.steps], "excluded_users": self.excluded_users}
        if self.breakdown is not None:
            out["breakdown"] = [
                {"value": g.value, "other": g.other, "suppressed": g.suppressed,
                 "suppressed_groups": g.suppressed_groups, "steps": [_step_dict(s) for s in g.steps]}
                for g in self.breakdown
            ]
        if self.trends is not None:
            out["trends"] = {
                "period": self.trends_period,
                "cohorts": [
                    {"period": c.period, "start": c.start, "entrants": c.steps[0].users,
                     "conversion": c.conversion, "steps": [_step_dict(s) for s in c.steps]}
                    for c in self.trends
                ],
            }
        return out

    def to_frame(self) -> pl.DataFrame:
        """One row per step of every part: ``scope`` total | by | by_other | by_suppressed | trend, ``value`` the
        breakdown value or period label."""
        rows: list[dict[str, Any]] = []
        parts: list[tuple[str, str | None, list[FunnelStep]]] = [("total", None, self.steps)]
        parts += [("by_suppressed" if g.suppressed else "by_other" if g.other else "by", g.value, g.steps)
                  for g in self.breakdown or []]
        parts += [("trend", c.period, c.steps) for c in self.trends or []]
        for scope, value, steps in parts:
            for s in steps:
                ttc = s.time_to_convert_s
                rows.append({
                    "scope": scope, "value": value, "step": s.step, "event": s.event, "users": s.users,
                    "conversion_from_start": s.conversion_from_start,
                    "conversion_from_previous": s.conversion_from_previous, "dropoff": s.dropoff,
                    "time_to_convert_median_s": ttc.median, "time_to_convert_mean_s": ttc.mean,
                    "time_to_convert_p90_s": ttc.p90,
                })
        return pl.DataFrame(rows, schema={
            "scope": pl.String, "value": pl.String, "step": pl.Int64, "event": pl.String, "users": pl.Int64,
            "conversion_from_start": pl.Float64, "conversion_from_previous": pl.Float64, "dropoff": pl.Int64,
            "time_to_convert_median_s": pl.Float64, "time_to_convert_mean_s": pl.Float64,
            "time_to_convert_p90_s": pl.Float64,
        })


def _step_dict(step: FunnelStep) -> dict[str, Any]:
    ttc = step.time_to_convert_s
    return {
        "step": step.step,
        "event": step.event,
        "users": step.users,
        "conversion_from_start": step.conversion_from_start,
        "conversion_from_previous": step.conversion_from_previous,
        "dropoff": step.dropoff,
        "time_to_convert_s": {
            "median": ttc.median,
            "mean": ttc.mean,
            "p90": ttc.p90,
            "histogram": [{"from_s": b.from_s, "to_s": b.to_s, "users": b.users} for b in ttc.histogram],
        },
    }


def run(source: EventSource, options: FunnelOptions) -> FunnelResult:
    """Compute a funnel over ``source`` (entries inside its --from/--to range); see docs/funnel.md."""
    options.validate(source)
    query = _FunnelQuery(options, source)
    try:
        aggregates = query.run()
    finally:
        for table in _TEMP_TABLES:
            source.con.execute(f"DROP TABLE IF EXISTS {table}").fetchall()
    return _assemble(options, source, aggregates)


class _FunnelQuery:
    """The parameters and SQL fragments of one funnel, and the statements that compute it."""

    def __init__(self, options: FunnelOptions, source: EventSource) -> None:
        self.options = options
        self.source = source
        self.n = len(options.steps)
        predicates = sql.Params(prefix="p")
        columns = source.columns
        self.step_predicates = [spec.predicate(predicates, columns) for spec in options.steps]
        # the names of steps 2..n as one IN list, a filter DuckDB can push into the Parquet scan (an OR of the
        # steps' predicates it cannot)
        later_names = sorted({name for spec in options.steps[1:] for name in spec.names})
        self.later_steps_filter = (f"event_name IN ({', '.join(predicates.bind(n) for n in later_names)}) AND ("
                                   + " OR ".join(f"({p})" for p in self.step_predicates[1:]) + ")")
        step_mask = " + ".join(
            f"CASE WHEN {predicate} THEN {1 << j} ELSE 0 END" for j, predicate in enumerate(self.step_predicates)
        )
        exclusion = " OR ".join(spec.predicate(predicates, columns) for spec in options.exclude) or "FALSE"
        self.event_fragments = {
            "step_mask": f"({step_mask})",
            "hold_value": sql.quote_ident(options.hold) if options.hold else "CAST(NULL AS VARCHAR)",
            "by_value": sql.quote_ident(options.by) if options.by else "CAST(NULL AS VARCHAR)",
            "cohort": options.trends.trunc_sql("local_time") if options.trends else "CAST(NULL AS TIMESTAMP)",
            "exclusion": f"({exclusion})",
        }
        self.events_sql = self._events_sql("TRUE")
        window_us = options.window // timedelta(microseconds=1)
        bins = sql.Params(prefix="bin")
        self.bin_lower = self._bin_lower(bins)
        self.params: dict[str, Any] = {
            **predicates.values,
            **bins.values,
            "n_steps": self.n,
            "window_us": window_us,
            "unreachable": _UNREACHABLE,
            "last_bit": 1 << (self.n - 1),
            "has_hold": options.hold is not None,
            **_range_params(source, options.window),
            "has_by": options.by is not None,
            "by_limit": options.by_limit,
            "min_group_size": options.min_group_size,
            "has_trends": options.trends is not None,
        }

    def run(self) -> pl.DataFrame:
        """Fill the temporary tables and return the per-segment, per-step aggregates."""
        con = self.source.con
        taus = [f"tau_{m}" for m in range(2, self.n + 1)]
        sql.execute(con, "funnel_best", self.params, {
            "funnel_events": self.events_sql,
            "attempts": self._attempts_sql(),
            "tau_fields": ", ".join(f"{tau} := {tau}" for tau in taus),
            "tau_list": "[" + ", ".join(["attempt.t"] + [f"attempt.{tau}" for tau in taus]) + "]",
        })
        if self.options.order is FunnelOrder.unordered:
            sql.execute(con, "funnel_unordered_times", self.params, {
                "funnel_events": self.events_sql,
                "running_counts": self._subset_counts("so_far"),
                "matching": self._matching(),
            })
        sql.execute(con, "funnel_users", self.params, {"funnel_events": self.events_sql})
        return sql.run(con, "funnel_steps", self.params, {"bin_lower": self.bin_lower})

    def _events_sql(self, event_filter: str) -> str:
        """funnel_events.sql keeping only the events that satisfy ``event_filter`` (a predicate over the events
        view; written in terms of its columns so that DuckDB can push it into the Parquet scan)."""
        return sql.render("funnel_events", {**self.event_fragments, "event_filter": event_filter})

    def _attempts_sql(self) -> str:
        """The attempts query of the chosen order (columns: see funnel_best.sql)."""
        taus_after_first = [f"tau_{m}" for m in range(2, self.n + 1)]
        no_taus = ", ".join(f"CAST(NULL AS BIGINT) AS {tau}" for tau in taus_after_first)
        if self.options.order is FunnelOrder.ordered:
            return self._ordered_sparse_sql() if self._steps_disjoint() else self._ordered_sql()
        if self.options.order is FunnelOrder.strict:
            return self._strict_sql()
        return sql.render("funnel_unordered", {
            "window_counts": self._subset_counts("ahead"), "matching": self._matching(), "no_taus": no_taus,
            "user_partition": self._user_partition(),
        })

    def _user_partition(self) -> str:
        return "user_id, hold_value" if self.options.hold else "user_id"

    def _canonical_order(self, with_hold: bool) -> str:
        """ORDER BY keys of the canonical order; the --hold / --by keys only when given (a constant key would
        only slow the sort)."""
        keys = ["t", "step_rank", "mask"]
        if with_hold and self.options.hold:
            keys.append("hold_value NULLS LAST")
        if self.options.by:
            keys.append("by_value NULLS LAST")
        return ", ".join(keys)

    def _reached(self, times: list[str]) -> str:
        """tau_2 .. tau_n from the given step-time expressions, NULL beyond the level: attempts reaching the same
        level then compare on the steps they reached only."""
        return ", ".join(f"CASE WHEN level >= {m} THEN {time} END AS tau_{m}" for m, time in enumerate(times, 2))

    def _passes_data(self) -> dict[str, Any]:
        """What the macro ordered_passes (queries/_macros.sql) needs besides the lowest step."""
        return {"n": self.n, "user_partition": self._user_partition(),
                "canonical_order": self._canonical_order(with_hold=False)}

    def _level(self, time: str) -> str:
        """The last step whose chain time lies within the window of an entry at ``time`` (chain times increase);
        2 when none from step 3 on does."""
        whens = " ".join(f"WHEN tau_{m} <= {time} + $window_us THEN {m}" for m in range(self.n, 2, -1))
        return f"CASE {whens} ELSE 2 END" if whens else "2"

    def _ordered_sql(self) -> str:
        n = self.n
        level = " ".join(f"WHEN tau_{m} <= t + $window_us THEN {m}" for m in range(n, 1, -1))
        return sql.render("funnel_ordered", {
            **self._passes_data(), "level": f"CASE {level} ELSE 1 END",
            "reached_taus": self._reached([f"tau_{m}" for m in range(2, n + 1)]),
        })

    def _steps_disjoint(self) -> bool:
        """True when no two steps name a common event, so that no event can play two steps."""
        names = [name for spec in self.options.steps for name in set(spec.names)]
        return len(names) == len(set(names))

    def _ordered_sparse_sql(self) -> str:
        n = self.n
        later = range(3, n + 1)
        return sql.render("funnel_ordered_sparse", {
            "entry_events": self._events_sql(self.step_predicates[0]),
            "later_events": self._events_sql(self.later_steps_filter),
            **self._passes_data(),
            "group_taus": "".join(f", tau_{m}" for m in later),
            "level": self._level("last_entry"),
            "first_reaching": "".join(
                f",\n        min(entry) FILTER (WHERE t >= tau_{m} - $window_us) AS first_entry_{m}" for m in later
            ),
            "counted_entry": ("CASE level " + "".join(f"WHEN {m} THEN first_entry_{m} " for m in later)
                              + "ELSE first_entry END") if later else "first_entry",
            "reached_taus": self._reached([f"tau_{m}" for m in range(2, n + 1)]),
        })

    def _strict_sql(self) -> str:
        n = self.n
        following = ",\n        ".join(
            f"lead(mask, {j}) OVER next_events AS mask_{j}, lead(t, {j}) OVER next_events AS t_{j}, "
            f"lead(hold_value, {j}) OVER next_events AS hold_{j}"
            for j in range(1, n)
        )
        plays = [
            f"coalesce(mask_{j} & {1 << j} <> 0 AND t_{j} <= t + $window_us "
            f"AND (NOT $has_hold OR hold_{j} = hold_value), FALSE)"
            for j in range(1, n)
        ]
        level = " ".join(f"WHEN NOT {ok} THEN {j}" for j, ok in enumerate(plays, start=1))
        return sql.render("funnel_strict", {
            "following_events": following, "level": f"CASE {level} ELSE {n} END",
            "canonical_order": self._canonical_order(with_hold=True),
            "reached_taus": self._reached([f"t_{j}" for j in range(1, n)]),
        })

    def _step_groups(self) -> list[list[int]]:
        """Steps (0-based) grouped so that steps of different groups share no event name: a maximum matching
        of steps to events is the sum of the groups' matchings, and Hall's theorem needs only subsets within
        a group."""
        groups: list[tuple[set[str], list[int]]] = []
        for j, spec in enumerate(self.options.steps):
            names = set(spec.names)
            touching = [g for g in groups if g[0] & names]
            merged = (names.union(*(g[0] for g in touching)), sorted([j] + [i for g in touching for i in g[1]]))
            groups = [g for g in groups if not g[0] & names] + [merged]
        return sorted((g[1] for g in groups), key=lambda steps: steps[0])

    def _subsets(self) -> list[tuple[list[int], int]]:
        """The step subsets Hall's theorem needs, per group, as bit masks.

        Only subsets holding all or none of the steps with identical selectors matter (adding the other copies
        of a selector leaves the events matching the subset unchanged and tightens the bound), so subsets are
        taken over the group's distinct selectors.
        """
        out = []
        for group in self._step_groups():
            copies: dict[EventSpec, int] = defaultdict(int)
            for j in group:
                copies[self.options.steps[j]] |= 1 << j
            if len(copies) > MAX_OVERLAPPING_UNORDERED:
                raise OptionError(
                    f"--order unordered: at most {MAX_OVERLAPPING_UNORDERED} different steps may share event names; "
                    f"these share some: {', '.join(str(spec) for spec in copies)}"
                )
            for size in range(1, len(copies) + 1):
                for chosen in combinations(copies.values(), size):
                    out.append((group, sum(chosen)))
        return out

    def _subset_counts(self, window: str) -> str:
        """Columns c_<mask>: events matching a step of the subset, counted over the named window."""
        return ",\n        ".join(
            f"sum(CASE WHEN mask & {bits} <> 0 THEN 1 ELSE 0 END) OVER {window} AS c_{bits}"
            for _group, bits in self._subsets()
        )

    def _matching(self) -> str:
        """Maximum number of steps given distinct events (Hall: per group, min over subsets S of
        |group| - |S| + c_S, the empty subset giving |group|)."""
        by_group: dict[tuple[int, ...], list[str]] = defaultdict(list)
        for group, bits in self._subsets():
            by_group[tuple(group)].append(f"{len(group) - bin(bits).count('1')} + c_{bits}")
        return " + ".join(
            f"least({len(group)}, {', '.join(terms)})" for group, terms in by_group.items()
        )

    def _bin_lower(self, bins: sql.Params) -> str:
        window_s = self.options.window.total_seconds()
        edges = [e for e in HISTOGRAM_EDGES_S if e < window_s]
        cases = " ".join(f"WHEN seconds >= {bins.bind(float(e))} THEN {bins.bind(float(e))}" for e in reversed(edges))
        return f"CASE {cases} END"


def funnel(source: EventSource, *args: Any, **values: Any) -> FunnelResult:
    """:func:`run` with the options given as :class:`FunnelOptions` fields: ``funnel(source, "video_view,purchase",
    "24h", by="platform")``; text or typed values (a ``timedelta`` window, parsed selectors)."""
    return run(source, FunnelOptions(*args, **values))


def _range_params(source: EventSource, window: timedelta) -> dict[str, datetime | None]:
    """The entry range as local midnights, and the scan's generous prefilter: a day before it, the window
    plus a day after it (queries/funnel_events.sql; events outside it can never play a part)."""
    ranges = source.date_range_params()
    date_from, date_to_exclusive = ranges["date_from"], ranges["date_to_exclusive"]
    return {
        "date_from": midnight(date_from) if date_from else None,
        "date_to_exclusive": midnight(date_to_exclusive) if date_to_exclusive else None,
        "scan_from": midnight(date_from) - timedelta(days=1) if date_from else None,
        "scan_to": midnight(date_to_exclusive) + window + timedelta(days=1) if date_to_exclusive else None,
    }


def _step_labels(options: FunnelOptions) -> list[str]:
    """Each step's label: its selector, or ``k of n steps`` when the steps may happen in any order."""
    n = len(options.steps)
    if options.order is FunnelOrder.unordered:
        return [f"{k} of {n} steps" for k in range(1, n + 1)]
    return [str(s) for s in options.steps]


def _grouped(aggregates: pl.DataFrame) -> tuple[dict[tuple, dict[int, dict[str, Any]]],
                                                 dict[tuple, dict[int, dict[float, int]]], dict[tuple, int]]:
    """The aggregate rows by (scope, value, cohort): each step's statistics, each step's time-to-convert
    histogram (users per bin start), and the rank of the breakdown value."""
    stats: dict[tuple, dict[int, dict[str, Any]]] = defaultdict(dict)
    histograms: dict[tuple, dict[int, dict[float, int]]] = defaultdict(lambda: defaultdict(dict))
    order_of: dict[tuple, int] = {}
    for row in aggregates.iter_rows(named=True):
        key = (row["scope"], row["value"], row["cohort"])
        if row["is_bin"]:
            if row["bin_from_s"] is not None:
                histograms[key][row["step"]][float(row["bin_from_s"])] = int(row["users"])
        else:
            stats[key][row["step"]] = row
            order_of.setdefault(key, row["value_rank"] if row["value_rank"] is not None else 1 << 62)
    return stats, histograms, order_of


def _assemble(options: FunnelOptions, source: EventSource, aggregates: pl.DataFrame) -> FunnelResult:
    """Turn the aggregate rows of funnel_steps.sql into the result object."""
    n = len(options.steps)
    labels = _step_labels(options)
    window_s = options.window.total_seconds()
    edges = [float(e) for e in HISTOGRAM_EDGES_S if e < window_s]
    uppers = edges[1:] + [window_s]

    stats, histograms, order_of = _grouped(aggregates)

    def steps_of(key: tuple) -> list[FunnelStep]:
        users = [int(stats[key][k]["users"]) if k in stats[key] else 0 for k in range(1, n + 1)]
        out = []
        for k in range(1, n + 1):
            row = stats[key].get(k, {})
            previous = users[k - 2] if k > 1 else None
            ttc = TimeToConvert()
            if k > 1:
                counts = histograms[key][k]
                ttc = TimeToConvert(
                    median=row.get("median_s"), mean=row.get("mean_s"), p90=row.get("p90_s"),
                    histogram=[HistogramBin(lo, hi, counts.get(lo, 0)) for lo, hi in zip(edges, uppers)],
                )
            out.append(FunnelStep(
                step=k,
                event=labels[k - 1],
                users=users[k - 1],
                conversion_from_start=users[k - 1] / users[0] if users[0] else None,
                conversion_from_previous=users[k - 1] / previous if previous else None,
                dropoff=previous - users[k - 1] if previous is not None else None,
                time_to_convert_s=ttc,
            ))
        return out

    excluded = stats[("excluded", None, None)].get(1, {}).get("users", 0)
    result = FunnelResult(
        params=options.params(source),
        steps=steps_of(("total", None, None)),
        excluded_users=int(excluded),
    )
    if options.by:
        keys = sorted((k for k in stats if k[0] == "by"), key=lambda k: order_of[k])
        result.breakdown = [BreakdownGroup(k[1], False, steps_of(k)) for k in keys]
        if ("by_other", None, None) in stats:
            result.breakdown.append(BreakdownGroup("other", True, steps_of(("by_other", None, None))))
        pooled = ("by_suppressed", None, None)
        if pooled in stats:
            result.breakdown.append(BreakdownGroup(None, False, steps_of(pooled), suppressed=True,
                                                   suppressed_groups=int(stats[pooled][1]["groups"])))
    if options.trends:
        result.trends_period = options.trends.value
        result.trends = [
            TrendCohort(options.trends.label(start), start, steps_of(("trend", None, midnight(start))))
            for start in _cohort_starts(options.trends, source, [k[2] for k in stats if k[0] == "trend"])
        ]
    return result


def _cohort_starts(period: Period, source: EventSource, present: list[datetime]) -> list[date]:
    """Every period from the range start (or the first cohort) to the range end (or the last cohort)."""
    starts = sorted(d.date() for d in present)
    first = period.start_of(source.date_from) if source.date_from else (starts[0] if starts else None)
    last = period.start_of(source.date_to) if source.date_to else (starts[-1] if starts else None)
    out: list[date] = []
    while first is not None and last is not None and first <= last:
        out.append(first)
        first = period.add(first, 1)
    return out
