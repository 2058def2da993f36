"""The event source: Parquet exports opened in DuckDB as views with canonical column names.

``EventSource.open(path)`` accepts one Parquet file, a glob (``exports/*.parquet``) or a folder
(read recursively, hive partitions such as ``dt=2026-11-01/`` become columns). It creates:

- ``events_all``: every usable row (rows lacking event_time, user_id or event_name are left out with a
  warning, or refused under ``[data] strict``), canonical columns (see :data:`config.CANONICAL_COLUMNS`), all other
  export columns kept under their own names as properties, plus ``local_time`` = ``event_time``
  in the configured reporting time zone (naive timestamp, used for day/week/month boundaries);
- ``events``: ``events_all`` restricted to the optional date range (inclusive local dates).

``event_time`` is always a naive ``TIMESTAMP`` in UTC. tz-aware input is converted; tz-naive input
(and text without a zone) is read in ``[time] source_timezone`` (default UTC), a repeated DST hour as its
first occurrence; integers are Unix epochs in ``[time] epoch_unit`` (inferred from magnitude when absent).

Before the views exist one aggregate query checks the data (:meth:`EventSource._check_data`) and refuses,
naming each problem (file, column, value and count; the CLI prints them as one line): no rows, a required
column NULL in every row, times outside 1970..2200, non-finite or negative revenue. The rules and their
reasons: docs/data.md.
"""

from __future__ import annotations

import glob as globlib
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, SupportsInt, cast
from zoneinfo import ZoneInfo

import duckdb

from . import engine, sql
from .config import CANONICAL_COLUMNS, REQUIRED_COLUMNS, Config
from .engine import is_duckdb, local_duckdb
from .errors import InputError, OptionError, first_line
from .files import is_uri, protect_events
from .options import EARLIEST_DAY, LATEST_DAY
from .periods import naive_utc
from .sql import quote_ident

if TYPE_CHECKING:
    from .engine import Connection

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT"}
_NUMERIC_CANONICAL = {"revenue", "watch_time_s"}
# Largest |epoch| seen as seconds / milliseconds before the next finer unit is assumed.
_EPOCH_SECONDS_MAX = 1e11
_EPOCH_MILLIS_MAX = 1e14
#: Microseconds per epoch unit.
_EPOCH_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1}
#: The span an event time must fall in (naive UTC, inclusive): earlier or later is an epoch read in the wrong
#: unit or a sentinel such as 9999-12-31, and would overflow the date arithmetic of the analyses.
TIME_FIRST = datetime(1970, 1, 1)
TIME_LAST = datetime(2200, 12, 31, 23, 59, 59, 999999)
_TIME_FIRST_US = 0
_TIME_LAST_US = int((TIME_LAST - TIME_FIRST) / timedelta(microseconds=1))
#: Text that ends in a zone after its time of day: Z, +08, +08:00, -0500 or a name (UTC, Asia/Shanghai).
#: No backslashes: the pattern is an SQL literal that Spark's parser would unescape.
_TEXT_ZONE = r":[0-9]{2}([.][0-9]*)?[ ]*([zZ]|[+-][0-9]{1,2}(:?[0-9]{2})?|[A-Za-z][A-Za-z0-9_/+-]*)[ ]*$"
#: The columns every row needs; a row lacking one is dropped with a warning, or refused under [data] strict.
_ROW_REQUIRED = ("event_time", "user_id", "event_name")
_CHECK_FIELDS = ("rows", "null_event_time", "null_user_id", "null_event_name", "incomplete", "first_time",
                 "last_time", "unparsed_time", "unparsed_example", "nonfinite_revenue", "nonfinite_example",
                 "negative_revenue", "lowest_revenue", "negative_event")


def resolve_files(path: str | Path) -> tuple[list[str], bool]:
    """Parquet files named by ``path`` (file, glob or folder) and whether to read hive partitions."""
    text = str(path)
    if is_uri(text):
        # a data-lake location (hdfs://, s3a://, file://...) that the engine lists itself (Spark)
        return [text], True
    # a path that exists is literal even when it holds glob characters (a folder named "a[1]"); only the
    # part this function adds to a folder is a pattern, so the folder's own name is escaped
    if os.path.isfile(text):
        files, hive = [text], False
    elif os.path.isdir(text):
        files = sorted(globlib.glob(os.path.join(globlib.escape(text), "**", "*.parquet"), recursive=True))
        hive = True
    elif any(ch in text for ch in "*?["):
        files = sorted(f for f in globlib.glob(text, recursive=True) if os.path.isfile(f))
        hive = True
    else:
        raise InputError(f"{text}: no such file or folder")
    if not files:
        raise InputError(f"{text}: matches no Parquet files")
    return files, hive


def check_timezone(con: duckdb.DuckDBPyConnection, tz: str, what: str = "timezone") -> str:
    """Return ``tz`` if DuckDB knows it, else raise naming the setting (for every engine: names
    DuckDB knows are IANA names, which Spark's Java time zone database knows too)."""
    known = con.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = $tz", {"tz": tz}).fetchall()[0]
    if not known or not known[0]:
        raise InputError(f"{what} {tz!r} is not a known IANA time zone (e.g. 'UTC', 'Asia/Shanghai')")
    return tz


@dataclass
class EventSource:
    """An opened event export: a DuckDB connection holding the ``events`` and ``events_all`` views."""

    con: Connection
    path: str
    files: list[str]
    config: Config
    raw_columns: dict[str, str]
    columns: dict[str, str]
    date_from: date | None = None
    date_to: date | None = None
    notes: list[str] = field(default_factory=list)
    #: one line each, for ``warning: ...`` on stderr (rows dropped for a NULL required column)
    warnings: list[str] = field(default_factory=list)
    #: rows of the whole export without each required column (dropped from the views), by canonical name
    dropped: dict[str, int] = field(default_factory=dict)
    hive: bool = False
    _epoch_unit: str | None = None
    _complete: str = "TRUE"
    _event_names: list[str] | None = None
    _found_events: set[str] = field(default_factory=set)
    #: (start, end, offset): the UTC span in which local_time is event_time + offset (see _zone_shift)
    _local_span: tuple[datetime, datetime, timedelta] | None = None
    #: --from/--to as given (``date_from``/``date_to`` are clamped to options.EARLIEST_DAY .. LATEST_DAY)
    requested: tuple[date | None, date | None] = (None, None)

    @classmethod
    def open(
        cls,
        path: str | Path,
        config: Config | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> EventSource:
        """Open an export; raises :class:`InputError` naming every problem found (one line on stderr)."""
        config = config or Config()
        if date_from and date_to and date_from > date_to:
            raise OptionError(f"--from {date_from} is after --to {date_to}")
        # --from 0001-01-01 is a valid way to say "from the start": clamped, it selects the same events and
        # the date arithmetic on the bounds (a day either side, a window after --to) stays in range;
        # messages and params show the days as asked
        requested = (date_from, date_to)
        if date_from is not None:
            date_from = min(max(date_from, EARLIEST_DAY), LATEST_DAY)
        if date_to is not None:
            date_to = max(min(date_to, LATEST_DAY), EARLIEST_DAY)
        files, hive = resolve_files(path)
        protect_events(path, files)  # no write of this run may replace them
        con = engine.connect(config)
        zones = local_duckdb(con)
        check_timezone(zones, config.timezone, "timezone")
        check_timezone(zones, config.source_timezone, "[time] source_timezone")
        con.execute("SET VARIABLE shortvid_files = $files::VARCHAR[]", {"files": files})
        con.execute("SET VARIABLE shortvid_tz = $tz", {"tz": config.timezone})
        con.execute("SET VARIABLE shortvid_source_tz = $tz", {"tz": config.source_timezone})
        try:
            sql.execute(con, "raw_events_view", context={"hive": hive})
            raw_columns = {
                row[0]: row[1] for row in con.execute("DESCRIBE SELECT * FROM raw_events").fetchall()
            }
        except duckdb.Error as exc:
            raise InputError(f"{path}: cannot read as Parquet: {first_line(exc)}") from None
        source = cls(con=con, path=str(path), files=files, config=config, raw_columns=raw_columns,
                     columns={}, date_from=date_from, date_to=date_to, hive=hive, requested=requested)
        problems = source._build_views()
        if problems:
            raise InputError("\n".join(problems))
        return source

    def _build_views(self) -> list[str]:
        """Create ``events_all``/``events``; return the problems found (empty when usable)."""
        problems = self._missing_columns() or self._check_data()
        if problems:
            return problems
        canonical = self._canonical_columns(problems)
        if problems:
            return problems
        mapped_sources = {self.config.source_column(c) for c in CANONICAL_COLUMNS}
        properties = [raw for raw in self.raw_columns
                      if raw not in mapped_sources and raw not in CANONICAL_COLUMNS and raw != "local_time"]
        self._set_aliases()
        sql.execute(self.con, "events_view", context={"canonical": canonical, "properties": properties,
                                                      "complete": self._complete,
                                                      "local_time": self.local_time_sql("canonical.event_time")})
        bounds = []
        if self.date_from:
            bounds.append(self._range_bound("shortvid_from", ">=", self.date_from))
        if self.date_to:
            bounds.append(self._range_bound("shortvid_to", "<", self.date_to + timedelta(days=1)))
        sql.execute(self.con, "events_in_range_view", context={"bounds": bounds})
        self.columns = {
            row[0]: row[1] for row in self.con.execute("DESCRIBE SELECT * FROM events_all").fetchall()
        }
        if (self.date_from or self.date_to) and not self._range_has_events():
            problems.append(self._empty_range_message())
        return problems

    def _missing_columns(self) -> list[str]:
        """A problem for each required column the export lacks."""
        problems = []
        for canonical in REQUIRED_COLUMNS:
            src = self.config.source_column(canonical)
            if src not in self.raw_columns:
                mapped = f" (mapped from {src!r})" if src != canonical else ""
                problems.append(
                    f"{self.path}: missing required column {canonical!r}{mapped}; "
                    f"columns present: {', '.join(self.raw_columns)}"
                )
        return problems

    def _canonical_columns(self, problems: list[str]) -> list[str]:
        """``<expression> AS <canonical name>`` for every canonical column (a typed NULL when the export lacks
        it); a column that cannot be converted adds to ``problems``."""
        select: list[str] = []
        for canonical in CANONICAL_COLUMNS:
            src = self.config.source_column(canonical)
            if src not in self.raw_columns:
                select.append(f"CAST(NULL AS {'DOUBLE' if canonical in _NUMERIC_CANONICAL else 'VARCHAR'})"
                              f" AS {canonical}")
                continue
            expr = self._canonical_expr(canonical, src, problems)
            if expr is not None:
                select.append(f"{expr} AS {canonical}")
        return select

    def _check_data(self) -> list[str]:
        """Refuse what no analysis can use, in one pass over the export (queries/source_checks.sql): no rows,
        a required column NULL in every row, event-time text that does not parse, times outside
        :data:`TIME_FIRST` .. :data:`TIME_LAST`, non-finite or negative revenue. Rows lacking a required
        column are dropped from the views with a warning (refused under ``[data] strict``). Each problem is
        one line naming the file, the column, a value and the number of rows."""
        src = {c: self.config.source_column(c) for c in (*_ROW_REQUIRED, "revenue")}
        col = {c: quote_ident(name) for c, name in src.items()}
        time_type = self.raw_columns[src["event_time"]].upper()
        time_value, unparsed = self._time_probe(col["event_time"], time_type)
        revenue_type = self.raw_columns.get(src["revenue"], "").upper()
        revenue = (f"CAST({col['revenue']} AS DOUBLE)" if src["revenue"] in self.raw_columns
                   and _is_number(revenue_type) else "CAST(NULL AS DOUBLE)")
        row = sql.execute(self.con, "source_checks", context={
            "event_time": time_value, "event_time_raw": src["event_time"], "user_id": src["user_id"],
            "event_name": src["event_name"], "unparsed": unparsed, "revenue": revenue})[0]
        checks = dict(zip(_CHECK_FIELDS, row))
        rows = int(checks["rows"])
        if not rows:
            return [f"{self.path}: no events (the input has no rows)"]
        problems: list[str] = []
        for canonical in _ROW_REQUIRED:
            if checks[f"null_{canonical}"] == rows:
                problems.append(f"{self.path}: column {src[canonical]!r} ({canonical}) is NULL in all {rows:,} "
                                f"row(s); no event can be used")
        if problems:
            return problems
        if checks["unparsed_time"]:
            where, count = self._locate(unparsed)
            problems.append(
                f"{where}: column {src['event_time']!r} (event_time) is text and {count:,} value(s) do not "
                f"parse as timestamps, e.g. {checks['unparsed_example']!r}; expected ISO 8601 such as "
                f"'2026-11-01 12:00:00'"
            )
        elif checks["first_time"] is not None:
            problem = self._check_time_span(src["event_time"], col["event_time"], time_type, time_value,
                                            int(checks["first_time"]), int(checks["last_time"]))
            if problem:
                problems.append(problem)
        problems += self._revenue_problems(checks, src["revenue"], revenue)
        if problems:
            return problems
        if checks["incomplete"]:
            problems.extend(self._incomplete_rows(checks, src, col, rows))
        return problems

    def _revenue_problems(self, checks: dict[str, object], column: str, revenue: str) -> list[str]:
        """Non-finite and negative revenue, each one line naming where and how many."""
        problems = []
        if checks["nonfinite_revenue"]:
            where, count = self._locate(f"isnan({revenue}) OR abs({revenue}) = CAST('Infinity' AS DOUBLE)")
            problems.append(
                f"{where}: column {column!r} (revenue) has {count:,} non-finite value(s) "
                f"(e.g. {checks['nonfinite_example']}); revenue must be a finite amount"
            )
        if checks["negative_revenue"]:
            where, count = self._locate(f"{revenue} < 0 AND {revenue} > CAST('-Infinity' AS DOUBLE)")
            problems.append(
                f"{where}: column {column!r} (revenue) has {count:,} negative value(s) (lowest "
                f"{checks['lowest_revenue']:g}, e.g. on {checks['negative_event']!r}); revenue is an amount >= 0: "
                f"record a refund as a 'refund' event with the refunded amount (README, event model)"
            )
        return problems

    def _incomplete_rows(self, checks: dict[str, object], src: dict[str, str], col: dict[str, str],
                         rows: int) -> list[str]:
        """Rows lacking a required column: refused under ``[data] strict``, else left out of the views."""
        incomplete = _as_count(checks["incomplete"])
        nulls = {c: _as_count(checks[f"null_{c}"]) for c in _ROW_REQUIRED if checks[f"null_{c}"]}
        if self.config.strict:
            problems = []
            for canonical, count in nulls.items():
                where, _count = self._locate(f"{col[canonical]} IS NULL")
                problems.append(f"{where}: column {src[canonical]!r} ({canonical}) is NULL in {count:,} of "
                                f"{rows:,} row(s); [data] strict refuses rows without {canonical}")
            return problems
        if incomplete == rows:
            return [f"{self.path}: every row lacks one of the required columns "
                    f"({', '.join(f'{src[c]!r} NULL in {n:,}' for c, n in nulls.items())}); no event can be used"]
        self.dropped = nulls
        self._complete = " AND ".join(f"{col[c]} IS NOT NULL" for c in _ROW_REQUIRED)
        self.warnings.append(
            f"{self.path}: {incomplete:,} of {rows:,} row(s) left out: NULL "
            f"{', '.join(f'{src[c]!r} ({c}) in {n:,}' for c, n in nulls.items())}; "
            f"set [data] strict = true to refuse such input"
        )
        return []

    def _time_probe(self, col: str, typ: str) -> tuple[str, str]:
        """(an orderable value of the event-time column: the integer epoch itself or the timestamp's epoch
        in microseconds, a typed NULL for an unusable type; SQL that is TRUE for a value that is no time)."""
        if typ in _INTEGER_TYPES:
            return f"CAST({col} AS BIGINT)", "FALSE"
        if _is_tz_aware(typ):
            return f"epoch_us({col})", "FALSE"
        if typ.startswith("TIMESTAMP") or typ == "DATE":
            return f"epoch_us(CAST({col} AS TIMESTAMP))", "FALSE"
        if typ == "VARCHAR":
            return (f"epoch_us(TRY_CAST({col} AS TIMESTAMPTZ))",
                    f"({col} IS NOT NULL AND TRY_CAST({col} AS TIMESTAMPTZ) IS NULL)")
        return "CAST(NULL AS BIGINT)", "FALSE"

    def _check_time_span(self, src: str, col: str, typ: str, value: str, first: int, last: int) -> str | None:
        """A problem when an event time lies outside TIME_FIRST .. TIME_LAST; for an integer epoch, the unit
        (configured, else inferred from magnitude) and the units in which every value would fit."""
        if typ not in _INTEGER_TYPES:
            if first >= _TIME_FIRST_US and last <= _TIME_LAST_US:
                return None
            where, count = self._locate(f"{value} < {_TIME_FIRST_US} OR {value} > {_TIME_LAST_US}")
            example = _micros_text(first if first < _TIME_FIRST_US else last)
            return (f"{where}: column {src!r} (event_time) has {count:,} value(s) outside "
                    f"{TIME_FIRST:%Y-%m-%d} .. {TIME_LAST:%Y-%m-%d} (e.g. {example}); such times are a sentinel "
                    f"or a wrong unit, not events")
        unit = self.config.epoch_unit
        if unit is None:
            largest = max(abs(first), abs(last))
            unit = "s" if largest < _EPOCH_SECONDS_MAX else "ms" if largest < _EPOCH_MILLIS_MAX else "us"
            self.notes.append(
                f"event_time: integer epoch unit inferred as {unit!r} from magnitude (max {largest}); "
                f"set [time] epoch_unit to fix it"
            )
        self._epoch_unit = unit

        def fits(u: str) -> bool:
            return first * _EPOCH_MICROS[u] >= _TIME_FIRST_US and last * _EPOCH_MICROS[u] <= _TIME_LAST_US

        if fits(unit):
            return None
        scale = _EPOCH_MICROS[unit]
        low, high = _TIME_FIRST_US // scale, _TIME_LAST_US // scale
        where, count = self._locate(f"{value} < {low} OR {value} > {high}")
        bad = first if first * scale < _TIME_FIRST_US else last
        read = "[time] epoch_unit" if self.config.epoch_unit else "inferred from magnitude"
        others = [u for u in _EPOCH_MICROS if u != unit and fits(u)]
        hint = (f"read as {others[0]!r} they all fall in {TIME_FIRST.year}..{TIME_LAST.year}: set [time] "
                f"epoch_unit = \"{others[0]}\"" if others
                else f"no [time] epoch_unit ({', '.join(_EPOCH_MICROS)}) puts them all in "
                     f"{TIME_FIRST.year}..{TIME_LAST.year}")
        return (f"{where}: column {src!r} (event_time) holds integer epochs read as {unit!r} ({read}); "
                f"{count:,} value(s) fall outside {TIME_FIRST.year}..{TIME_LAST.year} (e.g. {bad} = "
                f"{_epoch_year(bad * scale)}); {hint}")

    def _locate(self, condition: str) -> tuple[str, int]:
        """(the file holding most rows that meet ``condition``, with how many other files hold some; the number
        of such rows): read only when a check has failed, to name the file in the message."""
        if not is_duckdb(self.con):
            count = self.con.execute(f"SELECT count(*) FROM raw_events WHERE {condition}").fetchall()[0][0]
            return self.path, int(count)
        # read_parquet's filename virtual column: which file each row comes from (raw_events does not keep it)
        found = self.con.execute(
            f"SELECT filename, count(*) AS n FROM read_parquet(getvariable('shortvid_files'), "
            f"hive_partitioning = {'true' if self.hive else 'false'}, union_by_name = true) "
            f"WHERE {condition} GROUP BY filename ORDER BY n DESC, filename").fetchall()
        if not found:
            return self.path, 0
        total = sum(int(n) for _f, n in found)
        others = f" (and {len(found) - 1} other file(s))" if len(found) > 1 else ""
        return f"{found[0][0]}{others}", total

    def _canonical_expr(self, canonical: str, src: str, problems: list[str]) -> str | None:
        col = quote_ident(src)
        typ = self.raw_columns[src].upper()
        if canonical == "event_time":
            return self._event_time_expr(col, src, typ, problems)
        if canonical == "event_name":
            if not self.config.event_aliases:
                return f"CAST({col} AS VARCHAR)"
            # Alias lists travel as session variables; DDL cannot take bound parameters.
            return (f"coalesce(getvariable('shortvid_alias_to')"
                    f"[list_position(getvariable('shortvid_alias_from'), CAST({col} AS VARCHAR))], "
                    f"CAST({col} AS VARCHAR))")
        if canonical in _NUMERIC_CANONICAL:
            if not (typ in _INTEGER_TYPES or typ.startswith(("DOUBLE", "FLOAT", "DECIMAL", "REAL"))):
                problems.append(f"{self.path}: column {src!r} ({canonical}) has type {typ}; expected a number")
                return None
            return f"CAST({col} AS DOUBLE)"
        if canonical == "user_id" and not (typ in _INTEGER_TYPES or typ == "VARCHAR"):
            problems.append(f"{self.path}: column {src!r} (user_id) has type {typ}; expected VARCHAR or an integer")
            return None
        return col

    def utc_timestamp_sql(self, col: str, typ: str) -> str | None:
        """SQL turning column ``col`` (a quoted identifier) of DuckDB type ``typ`` into the naive UTC
        TIMESTAMP: a tz-aware timestamp is converted; a naive timestamp or a DATE is wall-clock time in
        ``[time] source_timezone`` (default UTC). ``None`` for any other type.

        The one conversion of ``event_time`` and of the assignments' ``assigned_at``, so that both
        columns of an export mean the same instants.
        """
        if _is_tz_aware(typ):
            return _utc_wall_time(col)
        if typ.startswith("TIMESTAMP") or typ == "DATE":
            if self.config.source_timezone == "UTC":
                return f"CAST({col} AS TIMESTAMP)"
            return self._zone_shift(f"CAST({col} AS TIMESTAMP)", "shortvid_source_tz", to_local=False)
        return None

    def _event_time_expr(self, col: str, src: str, typ: str, problems: list[str]) -> str | None:
        timestamp = self.utc_timestamp_sql(col, typ)
        if timestamp is not None:
            return timestamp
        if typ in _INTEGER_TYPES:
            unit = self._epoch_unit or self.config.epoch_unit or "s"
            micros = {"s": f"{col} * 1000000", "ms": f"{col} * 1000", "us": col}[unit]
            return f"make_timestamp(CAST({micros} AS BIGINT))"
        if typ == "VARCHAR":
            # (text that does not parse was refused by _check_data) text with a zone names its instant; text
            # without one is wall-clock time in [time] source_timezone, as a naive timestamp column is
            aware = _utc_wall_time(f"CAST({col} AS TIMESTAMPTZ)")
            if self.config.source_timezone == "UTC":
                return aware  # the session zone is UTC, which reads zone-less text as UTC already
            naive = self._zone_shift(f"TRY_CAST({col} AS TIMESTAMP)", "shortvid_source_tz", to_local=False)
            return f"CASE WHEN regexp_matches({col}, '{_TEXT_ZONE}') THEN {aware} ELSE {naive} END"
        problems.append(
            f"{self.path}: column {src!r} (event_time) has type {typ}; expected a timestamp, "
            f"ISO 8601 text or an integer Unix epoch"
        )
        return None

    def local_time_sql(self, utc: str) -> str:
        """SQL converting the naive UTC timestamp expression ``utc`` to the reporting time zone, exactly as
        the views compute ``local_time`` from ``event_time`` (for a query that needs the local time of a
        few aggregated instants rather than of every event)."""
        if self.config.timezone == "UTC":
            return utc
        return self._zone_shift(utc, "shortvid_tz", to_local=True)

    def _range_bound(self, variable: str, op: str, day: date) -> str:
        """``local_time <op> <day 00:00>`` as SQL; compared on ``event_time`` with the UTC instant of that
        midnight when both say the same for every row, which spares converting each row.

        They do when the reporting zone keeps one UTC offset from two days before to two days after the
        instant (``local_time`` is then ``event_time`` + offset nearby, and no offset elsewhere reaches two
        days).
        """
        local = datetime.combine(day, time())
        margin = timedelta(days=2)
        span = self._local_span
        if self.config.timezone == "UTC":
            column, value = "event_time", local
        elif span and span[0] + margin <= local - span[2] < span[1] - margin:
            column, value = "event_time", local - span[2]
        else:
            column, value = "local_time", local
        self.con.execute(f"SET VARIABLE {variable} = $d::TIMESTAMP", {"d": value})
        return f"{column} {op} getvariable('{variable}')"

    def _zone_shift(self, naive: str, zone_variable: str, to_local: bool) -> str:
        """SQL converting the naive timestamp ``naive`` from UTC to wall-clock time in the zone held by the
        session variable ``zone_variable`` (``to_local``), or from that wall-clock time to UTC.

        Over the span of years around today in which the zone keeps one UTC offset (the whole of the data,
        for zones such as Asia/Shanghai) this adds or subtracts the offset; other rows go through ICU. Both
        give the same timestamps; the addition is many times cheaper per row than the ICU lookup.
        """
        zone = f"getvariable('{zone_variable}')"
        if to_local:
            icu = f"timezone({zone}, timezone('UTC', {naive}))"
        elif not is_duckdb(self.con):
            # Spark's to_utc_timestamp (java.time) already takes the earlier offset of a repeated hour
            icu = _utc_wall_time(f"timezone({zone}, {naive})")
        else:
            icu = _first_occurrence(naive, zone)
        if not is_duckdb(self.con):
            return icu  # Spark's conversion is plain Java time arithmetic: no ICU cost to spare
        zone = self.con.execute(f"SELECT getvariable('{zone_variable}')").fetchall()[0][0]
        span = sql.execute(self.con, "timezone_constant_offset",
                           {"tz": zone, "today": datetime.combine(date.today(), time())})
        if not span:
            return icu
        start, end, offset = span[0]
        if to_local:
            self._local_span = span[0]
        if not to_local:  # the span in wall-clock time
            start, end = start + offset, end + offset
        for name, value in (("start", start), ("end", end)):
            self.con.execute(f"SET VARIABLE {zone_variable}_span_{name} = $v::TIMESTAMP", {"v": value})
        self.con.execute(f"SET VARIABLE {zone_variable}_offset = $v::INTERVAL", {"v": offset if to_local else -offset})
        return (f"CASE WHEN {naive} >= getvariable('{zone_variable}_span_start') "
                f"AND {naive} < getvariable('{zone_variable}_span_end') "
                f"THEN {naive} + getvariable('{zone_variable}_offset') ELSE {icu} END")

    def _set_aliases(self) -> None:
        pairs = [(alias, canonical) for canonical, names in self.config.event_aliases.items() for alias in names]
        self.con.execute("SET VARIABLE shortvid_alias_from = $v::VARCHAR[]", {"v": [a for a, _ in pairs]})
        self.con.execute("SET VARIABLE shortvid_alias_to = $v::VARCHAR[]", {"v": [c for _, c in pairs]})

    def _has_rows(self, view: str) -> bool:
        # not EXISTS (...): Spark allows subquery predicates only in filters
        probe = f"SELECT count(*) > 0 FROM (SELECT 1 FROM {view} LIMIT 1) AS probe"
        return self.con.execute(probe).fetchall()[0][0]

    def _range_has_events(self) -> bool:
        """Whether the --from/--to range holds an event.

        The Parquet statistics settle it without reading data when they can (see :meth:`_statistics`): a row
        group whose first or last time lies in the range holds an event in it, and when no row group meets
        the range there is none. Otherwise the range is read up to its first event.
        """
        start, end = self.utc_range()
        stats = self._statistics(start or datetime.min, end or datetime.max)
        if stats is not None:
            _first, _last, in_range, meets_range = stats
            if in_range or not meets_range:
                return in_range
        return self._has_rows("events")

    def _empty_range_message(self) -> str:
        """``no events between A and B (the data covers C .. D)``: the requested local days (an open end
        stands for the data's first or last day) and the local days of the export's first and last event."""
        first, last = self.event_time_bounds()
        asked_from, asked_to = self.requested_range
        if first is None or last is None:
            return (f"no events between {asked_from or 'the start'} and {asked_to or 'the end'} "
                    f"(no event of {self.path} has a time)")
        zone = ZoneInfo(self.config.timezone)
        covers = [moment.replace(tzinfo=UTC).astimezone(zone).date() for moment in (first, last)]
        return (f"no events between {asked_from or covers[0]} and {asked_to or covers[1]} "
                f"(the data covers {covers[0]} .. {covers[1]})")

    # ----------------------------------------------------------------- helpers for analysis modules
    def event_names(self) -> list[str]:
        """Distinct canonical event names in the whole export (sorted)."""
        if self._event_names is None:
            rows = self.con.execute("SELECT DISTINCT event_name FROM events_all WHERE event_name IS NOT NULL")
            self._event_names = sorted(r[0] for r in rows.fetchall())
        return self._event_names

    def require_events(self, names: list[str] | tuple[str, ...], what: str = "event") -> None:
        """Raise :class:`OptionError` naming the unknown event and listing the ones that exist.

        Each name is looked up until its first occurrence (a scan that usually stops at once); the list of
        every event name, which costs a full scan of the column, is read only for the error message.
        """
        for name in dict.fromkeys(names):
            if name in self._found_events or (self._event_names is not None and name in self._event_names):
                continue
            found = self.con.execute("SELECT 1 FROM events_all WHERE event_name = $name LIMIT 1",
                                     {"name": name}).fetchall()
            if not found:
                raise OptionError(
                    f"{what} {name!r} does not occur in {self.path}; events present: "
                    f"{', '.join(self.event_names())}"
                )
            self._found_events.add(name)

    def event_time_bounds(self) -> tuple[datetime | None, datetime | None]:
        """The first and last ``event_time`` of the whole export (naive UTC; ``None`` when no event has one).

        Read from the Parquet footers' statistics when ``event_time`` is the export's timestamp column
        unchanged (a timestamp with time zone, or a naive one read as UTC), every row group has exact
        statistics and the engine is DuckDB; else by a scan of the column.
        """
        stats = self._statistics()
        if stats is not None:
            return stats[0], stats[1]
        return tuple(self.con.execute("SELECT min(event_time), max(event_time) FROM events_all").fetchall()[0])

    def _statistics(self, start: datetime | None = None,
                    end: datetime | None = None) -> tuple[datetime | None, datetime | None, bool, bool] | None:
        """From the Parquet footers' statistics of the event-time column (queries/event_time_statistics.sql):
        the first and last ``event_time`` (naive UTC), whether [``start``, ``end``) (naive UTC) surely holds an
        event and whether any row group meets it. ``None`` when the statistics cannot tell: ``event_time`` is
        not the export's timestamp column unchanged (a timestamp with time zone, or a naive one read as UTC),
        a row group lacks exact statistics, or the engine is not DuckDB.
        """
        column = self.config.source_column("event_time")
        typ = self.raw_columns.get(column, "").upper()
        stats_type = ("TIMESTAMPTZ" if _is_tz_aware(typ)
                      else "TIMESTAMP" if typ == "TIMESTAMP" and self.config.source_timezone == "UTC" else None)
        # parquet_metadata() is DuckDB's; Spark (possibly over hdfs:// or s3a:// paths) scans the column.
        # The footers also count rows the views leave out (a NULL user_id or event_name): then scan too.
        if not stats_type or not is_duckdb(self.con) or self._complete != "TRUE":
            return None
        first, last, usable, in_range, meets_range = sql.execute(
            self.con, "event_time_statistics", {"files": self.files, "column": column, "start": start, "end": end},
            {"stats_type": stats_type})[0]
        if not usable:
            return None
        return (naive_utc(first) if first else None, naive_utc(last) if last else None, bool(in_range),
                bool(meets_range))

    def require_column(self, name: str, what: str = "property") -> str:
        """The DuckDB type of column ``name`` of the events view; raise listing the columns if absent."""
        if name not in self.columns:
            raise OptionError(
                f"{what} {name!r} is not a column of {self.path}; columns: {', '.join(self.columns)}"
            )
        return self.columns[name]

    def date_range_params(self) -> dict[str, date | None]:
        """The date range as bound parameters ``$date_from``/``$date_to_exclusive`` (local dates)."""
        return {
            "date_from": self.date_from,
            "date_to_exclusive": self.date_to + timedelta(days=1) if self.date_to else None,
        }

    def utc_range(self) -> tuple[datetime | None, datetime | None]:
        """The --from/--to range as naive UTC bounds [start, end) of the local dates (None = open)."""
        zone = ZoneInfo(self.config.timezone)

        def utc(day: date) -> datetime:
            return naive_utc(datetime.combine(day, time.min, zone))

        return (utc(self.date_from) if self.date_from else None,
                utc(self.date_to + timedelta(days=1)) if self.date_to else None)

    def describe(self) -> dict[str, object]:
        """Path, files and settings for the ``params``/provenance parts of results."""
        return {
            "path": self.path,
            "files": len(self.files),
            "timezone": self.config.timezone,
            "engine": self.config.engine.name,
            "date_from": _isoformat(self.requested_range[0]) if self.date_from else None,
            "date_to": _isoformat(self.requested_range[1]) if self.date_to else None,
        }

    @property
    def requested_range(self) -> tuple[date | None, date | None]:
        """``--from``/``--to`` as given; the clamped ``date_from``/``date_to`` when built without them."""
        asked_from, asked_to = self.requested
        return (asked_from or self.date_from, asked_to or self.date_to)


def _as_count(value: object) -> int:
    """A COUNT read from the checks query (an int from either engine)."""
    return int(cast(SupportsInt, value))


def _isoformat(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _first_occurrence(naive: str, zone: str) -> str:
    """SQL turning the wall-clock time ``naive`` in ``zone`` (an SQL expression of its IANA name) into the
    naive UTC TIMESTAMP by the rule of Python's zoneinfo with fold=0 (PEP 495) and of java.time: a time that
    occurs twice (the repeated hour when clocks go back) is its first occurrence, a time that never occurs
    (skipped when clocks go forward) is read with the offset in force before the change.

    DuckDB's ``timezone(zone, naive)`` takes the second occurrence of a repeated hour (and agrees for
    skipped ones). The offset in force a day earlier is the earlier offset of any change near ``naive``
    (zones never change twice within two days); when ``naive`` minus that offset shows ``naive`` again
    it is the first occurrence, else the time exists only with the later offset and DuckDB's answer stands.
    """
    day_before = f"({naive} - INTERVAL 1 DAY)"
    earlier_offset = f"(timezone({zone}, timezone('UTC', {day_before})) - {day_before})"
    candidate = f"({naive} - {earlier_offset})"
    return (f"CASE WHEN timezone({zone}, timezone('UTC', {candidate})) = {naive} THEN {candidate} "
            f"ELSE {_utc_wall_time(f'timezone({zone}, {naive})')} END")


def _utc_wall_time(tz_aware: str) -> str:
    """SQL turning a TIMESTAMPTZ expression into the naive UTC TIMESTAMP.

    Epoch arithmetic gives the same value as ``timezone('UTC', x)`` without a per-row ICU time-zone
    lookup, which made that conversion the most expensive step of a scan (about 8x the cost here).
    """
    return f"make_timestamp(epoch_us({tz_aware}))"


def _is_number(typ: str) -> bool:
    return typ in _INTEGER_TYPES or typ.startswith(("DOUBLE", "FLOAT", "DECIMAL", "REAL"))


def _micros_text(micros: int) -> str:
    """An epoch in microseconds as a readable UTC time, or its year when Python's datetime cannot hold it."""
    try:
        return f"{TIME_FIRST + timedelta(microseconds=micros):%Y-%m-%d %H:%M:%S}"
    except OverflowError:
        return _epoch_year(micros)


def _epoch_year(micros: int) -> str:
    """``year N``: the (approximate, Gregorian mean year) calendar year of an epoch in microseconds."""
    return f"year {1970 + math.floor(micros / 1e6 / 31_556_952)}"


def _is_tz_aware(typ: str) -> bool:
    """True for DuckDB's name of a timestamp with time zone."""
    return typ.startswith("TIMESTAMP WITH TIME ZONE") or typ == "TIMESTAMPTZ"


