"""Apache Spark as the query engine: the DuckDB-dialect SQL of ``queries/`` run on a SparkSession.

``SparkConnection`` offers the small part of the DuckDB connection API this package uses
(``execute(sql, params).fetchall()``, ``sql(sql, params=...).pl()``), so ``sql.run``/``sql.execute``,
the event source and the analyses run unchanged on either engine. Each statement is parsed with
sqlglot in the DuckDB dialect, rewritten where the two engines differ (:func:`to_spark`) and run
with ``SparkSession.sql(query, args=...)``: bound ``$name`` parameters become Spark's named
parameter markers ``:name``; values are never pasted into SQL text.

Statements that Spark runs differently:

- ``SET VARIABLE x = <expr of $params>``: remembered; ``getvariable('x')`` in later statements is
  replaced by that expression and its parameters (Spark has no session variables in views).
- ``read_parquet(getvariable('files'), hive_partitioning = ..., union_by_name = ...)``: Spark reads
  the files itself (``mergeSchema``; ``basePath`` = their common folder above ``key=value`` folders,
  so hive partitions become columns) and the call is replaced by a temporary view of them.
- ``CREATE [TEMP] VIEW`` / ``CREATE TEMP TABLE ... AS``: a temporary view of the query (tables are
  cached and computed at once, like DuckDB's); ``DROP TABLE/VIEW``: drops the temporary view.
- ``DESCRIBE <query>``: the Spark schema under DuckDB's type names, so type checks written
  against DuckDB types (``BIGINT``, ``VARCHAR``, ``TIMESTAMP``...) hold on both engines.

Types follow DuckDB: a DuckDB ``TIMESTAMP`` (naive) is Spark's ``TIMESTAMP_NTZ`` and DuckDB's
``TIMESTAMPTZ`` is Spark's ``TIMESTAMP_LTZ``; the session time zone is UTC.

Expression rewrites (DuckDB → Spark), beyond what sqlglot's transpiler does, each a small named rule in
:data:`REWRITES`:

- ``timezone(tz, x)``: for a naive ``x`` (the default; event times are naive UTC) the instant of
  that wall-clock time in ``tz`` (``to_utc_timestamp``); for an aware ``x`` (a ``timezone(...)`` of
  a naive value or a ``CAST(... AS TIMESTAMPTZ)``) its naive wall-clock time in ``tz``
  (``from_utc_timestamp``). The SQL writes tz-aware columns as ``CAST(col AS TIMESTAMPTZ)`` to say so.
- ``date_trunc``, ``make_timestamp``: cast back to ``TIMESTAMP_NTZ`` (Spark returns ``TIMESTAMP_LTZ``).
- ``fsum`` (DuckDB's compensated sum) → ``sum``: Spark has no compensated sum, so float sums can
  differ from DuckDB's in the last bits (about 1e-15 relative on the example data).
- ``CAST($p AS INTERVAL)`` with a ``timedelta`` bound → ``$p`` (already a day-time interval).
- ``list[i]`` (1-based, NULL when out of range) → ``try_element_at(list, i)``; ``list_position``
  → ``nullif(array_position(...), 0)`` (NULL when absent, as in DuckDB).
- ``epoch_us(t)`` / ``epoch(t)`` → ``unix_micros(t)`` (/ 1e6: DuckDB's epoch keeps the fraction);
  ``GROUPING(a, b, ...)`` (a bit mask, ``a`` highest) → ``grouping(a) * 2^(n-1) + ... + grouping(z)``.
- ``INTERVAL (e) SECOND`` → ``(INTERVAL '1' SECOND * e)``; ``row_number() OVER ()`` (an arbitrary
  row id) → ``monotonically_increasing_id() + 1`` (unique, not consecutive); ``USING SAMPLE
  reservoir(n ROWS)`` → ``LIMIT n``; ``OVER (w ROWS ...)`` on a named window ``w`` → its
  PARTITION BY / ORDER BY written out.
- ``a / b`` → ``CAST(a AS DOUBLE) / CAST(b AS DOUBLE)`` (DuckDB's ``/`` is always a DOUBLE division).
- ``quantile_cont(x, q)`` → ``percentile(x, q)`` (both exact with linear interpolation).
- ``l[a:b]`` → ``slice(l, a, b - a + 1)``; ``list(v ORDER BY k)`` → the ``v`` of the sorted
  ``collect_list(struct(k, v))``; ``range(a, b)`` → Spark's ``range`` table; ``CAST(log(...) AS
  INTEGER)`` rounds as DuckDB does; ``AS NOT MATERIALIZED`` is dropped.
- a row ``(a, b)`` → ``STRUCT(a, b)``.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import sqlglot
from sqlglot import exp

from .config import Config
from .errors import OptionError, first_line
from .files import is_uri
from .periods import naive_utc

#: Python packages the engine needs (the ``[spark]`` extra).
REQUIRED_MODULES = ("pyspark", "sqlglot")

_SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # naive Python datetimes bound as parameters and the type name TIMESTAMP mean TIMESTAMP_NTZ
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
_LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_MEBIBYTES_PER_UNIT = {"": 2.0**-20, "k": 2.0**-10, "m": 1.0, "g": 2.0**10, "t": 2.0**20}
_HIVE_FOLDER = re.compile(r"^[^=/]+=[^/]*$")
#: What CREATE and DROP make or remove, both kept on Spark as temporary views.
_VIEW_KINDS = ("VIEW", "TABLE")

_base_session: Any = None


class SparkQueryError(duckdb.Error):
    """A statement failed on Spark. A subclass of ``duckdb.Error`` so that every caller handling
    engine failures (bad Parquet, failed query) treats both engines alike."""


def spark_available() -> str | None:
    """``None`` when pyspark and sqlglot import, else the reason the Spark engine cannot run."""
    for module in REQUIRED_MODULES:
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install 'shortvid-analytics[spark]')"
    return None


def connect(config: Config) -> SparkConnection:
    """A new Spark session (own temporary views, shared SparkContext) for one event source.

    Local mode ``local[threads or *]`` unless ``[engine] spark_master`` names a cluster.
    """
    missing = spark_available()
    if missing:
        raise OptionError(f"--engine spark: {missing}")
    return SparkConnection(_base(config).newSession())


def _base(config: Config) -> Any:
    """The process's SparkSession, started on first use (a JVM start takes several seconds); the
    settings of the first connection hold for the whole process (one CLI run has one config)."""
    global _base_session
    if _base_session is not None:
        return _base_session
    from pyspark.sql import SparkSession

    engine = config.engine
    master = engine.spark_master or f"local[{engine.threads or '*'}]"
    builder = SparkSession.builder.appName("shortvid").master(master)
    conf = dict(_SESSION_CONF)
    # only temporary views are made: keep Spark from creating ./spark-warehouse in the working folder
    conf["spark.sql.warehouse.dir"] = os.path.join(tempfile.gettempdir(), "shortvid-spark-warehouse")
    log_config = Path(__file__).with_name("spark_log4j2.properties")
    conf["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={log_config.as_uri()}"
    if master.startswith("local"):
        conf.update(_LOCAL_CONF)
        # Spark's default of 200 shuffle partitions is made for clusters; locally a few per core
        conf["spark.sql.shuffle.partitions"] = str(2 * (engine.threads or os.cpu_count() or 1))
    if engine.memory_limit:
        conf["spark.driver.memory"] = _spark_memory(engine.memory_limit)
    if engine.temp_directory:
        conf["spark.local.dir"] = engine.temp_directory
    for key, value in conf.items():
        builder = builder.config(key, value)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # pyspark raises a bare runtime error when the JVM does not start
            raise OptionError(f"cannot start Spark ({master}): {first_line(exc)}; "
                              f"Spark needs Java 17 or newer (JAVA_HOME)") from None
    session.sparkContext.setLogLevel("FATAL")  # pyspark resets the level of an interactive-looking driver
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        # pyspark logs each failed query as JSON on stderr; it reaches the user as a one-line error
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    _base_session = session
    return session


def _spark_memory(limit: str) -> str:
    """DuckDB-style ``2GB`` / ``512MiB`` as a JVM size (``2g``, ``512m``)."""
    match = _MEMORY.match(limit)
    if not match:
        raise OptionError(f"[engine] memory_limit = {limit!r}; expected a size such as '2GB'")
    mebibytes = float(match.group(1)) * _MEBIBYTES_PER_UNIT[match.group(2).lower()]
    return f"{max(1, int(mebibytes))}m"


@dataclass
class SparkResult:
    """The rows of one statement, in the shape of a DuckDB result (``fetchall``, ``pl``)."""

    frame: pl.DataFrame

    def pl(self) -> pl.DataFrame:
        """The rows as a polars DataFrame (timestamps naive, as DuckDB returns them)."""
        return self.frame

    def fetchall(self) -> list[tuple[Any, ...]]:
        """The rows as tuples."""
        return self.frame.rows()


@dataclass
class _Variable:
    expression: exp.Expr
    args: dict[str, Any]


@dataclass
class SparkConnection:
    """A SparkSession that runs DuckDB-dialect statements (see the module documentation)."""

    session: Any
    variables: dict[str, _Variable] = field(default_factory=dict)
    _sources: int = 0

    def sql(self, text: str, params: dict[str, Any] | None = None) -> SparkResult:
        """Run one statement; the result of a query."""
        return self.execute(text, params)

    def execute(self, text: str, params: dict[str, Any] | None = None) -> SparkResult:
        """Run one statement with bound ``$name`` parameters."""
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        try:
            return self._execute(text, dict(params or {}))
        except PySparkException as exc:
            raise SparkQueryError(first_line(exc)) from None
        except Py4JJavaError as exc:  # JVM errors pyspark does not translate (e.g. unreadable files)
            raise SparkQueryError(first_line(exc.java_exception.toString())) from None

    def query_progress(self) -> float:
        """-1: unknown (DuckDB's answer when it cannot tell); Spark shows progress in its web UI."""
        return -1.0

    def close(self) -> None:
        """Drop this session's temporary views (and the cached tables among them)."""
        for table in self.session.catalog.listTables():
            if table.isTemporary:
                self.session.catalog.dropTempView(table.name)

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """Make an in-memory polars frame queryable as ``name`` (a temporary view)."""
        # Spark has no unsigned integers (polars row indexes are UInt32)
        signed = [pl.col(c).cast(pl.Int64) for c, t in frame.schema.items() if t.is_unsigned_integer()]
        table = (frame.with_columns(signed) if signed else frame).to_arrow()
        self.session.createDataFrame(table).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        """Drop the view made by :meth:`register`."""
        self.session.catalog.dropTempView(name)

    def _execute(self, text: str, params: dict[str, Any]) -> SparkResult:
        statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
        if len(statements) != 1:
            raise SparkQueryError(f"expected one SQL statement, got {len(statements)}")
        statement = statements[0]
        if isinstance(statement, exp.Set):
            self._set_variables(statement, params)
        elif isinstance(statement, exp.Describe):
            return self._describe(statement, params)
        elif isinstance(statement, exp.Create) and statement.args.get("kind") in _VIEW_KINDS:
            self._create_view(statement, params)
        elif isinstance(statement, exp.Drop) and statement.args.get("kind") in _VIEW_KINDS:
            for table in statement.args.get("tables") or []:
                self.session.catalog.dropTempView(table.name)  # uncaches a cached table too
        elif isinstance(statement, exp.Copy):
            raise OptionError("--engine spark does not write files (COPY ... TO); this command runs on "
                              "--engine duckdb only")
        else:
            return SparkResult(_to_polars(self._frame(statement, params)))
        return SparkResult(pl.DataFrame())

    def _set_variables(self, statement: exp.Set, params: dict[str, Any]) -> None:
        for item in statement.expressions:
            if item.args.get("kind") != "VARIABLE":
                raise SparkQueryError(f"unsupported on Spark: {item.sql('duckdb')}")
            self._set_variable(item.this.this.name, item.this.expression, params)

    def _describe(self, statement: exp.Describe, params: dict[str, Any]) -> SparkResult:
        """The schema under DuckDB's type names, in the shape of DuckDB's ``DESCRIBE``."""
        schema = self._frame(statement.this, params).schema
        return SparkResult(pl.DataFrame(
            {"column_name": [f.name for f in schema.fields],
             "column_type": [duckdb_type(f.dataType) for f in schema.fields]},
        ))

    def _create_view(self, statement: exp.Create, params: dict[str, Any]) -> None:
        """A temporary view of the query; a table is cached and computed at once, like DuckDB's."""
        frame = self._frame(statement.expression, params)
        if statement.args["kind"] == "TABLE":
            frame = frame.cache()
            frame.count()
        frame.createOrReplaceTempView(statement.this.name)

    def _set_variable(self, name: str, value: exp.Expr, params: dict[str, Any]) -> None:
        prefix = f"v_{name}_"
        renamed: dict[str, Any] = {}

        def rename(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Placeholder) and node.name in params:
                renamed[prefix + node.name] = params[node.name]
                return exp.Placeholder(this=prefix + node.name)
            return node

        self.variables[name] = _Variable(value.transform(rename), renamed)

    def _frame(self, tree: exp.Expr, params: dict[str, Any]) -> Any:
        """The Spark DataFrame of a query (lazy)."""
        args = dict(params)
        tree = tree.transform(lambda node: self._resolve(node, args))
        used = {p.name for p in tree.find_all(exp.Placeholder)}
        text = to_spark(tree, args)
        bound = {k: _spark_value(v) for k, v in args.items() if k in used}
        return self.session.sql(text, args=bound or None)

    def _resolve(self, node: exp.Expr, args: dict[str, Any]) -> exp.Expr:
        """Session variables and Parquet reads, which need this connection's state."""
        if _is_call(node, "getvariable"):
            name = node.expressions[0].name
            if name not in self.variables:
                raise SparkQueryError(f"session variable {name!r} is not set")
            variable = self.variables[name]
            args.update(variable.args)
            return variable.expression.copy()
        if isinstance(node, exp.ReadParquet):
            return self._read_parquet(node, args)
        return node

    def _read_parquet(self, node: exp.ReadParquet, args: dict[str, Any]) -> exp.Expr:
        files_node, *options = node.expressions
        files_node = files_node.transform(lambda n: self._resolve(n, args))
        files = _evaluate(files_node, args)
        files = [files] if isinstance(files, str) else list(files)
        flags = {o.this.name.lower(): o.expression for o in options if isinstance(o, exp.EQ)}
        hive = isinstance(flags.get("hive_partitioning"), exp.Boolean) and flags["hive_partitioning"].this
        reader = self.session.read.option("mergeSchema", "true")
        if hive and not any(is_uri(f) for f in files):
            # a URI is a folder Spark lists itself, finding its partitions; local files need their root
            reader = reader.option("basePath", _base_path(files))
        self._sources += 1
        view = f"shortvid_parquet_{self._sources}"
        reader.parquet(*files).createOrReplaceTempView(view)
        return exp.to_identifier(view)


def to_spark(tree: exp.Expr | str, args: dict[str, Any] | None = None) -> str:
    """Spark SQL for a DuckDB-dialect statement (the rewrites listed in the module documentation).

    ``args`` are the values that will be bound, which tell an interval parameter from text.
    """
    if isinstance(tree, str):
        tree = sqlglot.parse_one(tree, read="duckdb")
    return _rewrite_tree(tree.copy(), args or {}).sql(dialect="spark")


def _rewrite_tree(node: exp.Expr, args: dict[str, Any]) -> exp.Expr:
    """Rewrite children first, so that a rewrite sees its arguments in their Spark form."""
    for key, child in list(node.args.items()):
        if isinstance(child, exp.Expression):
            node.set(key, _rewrite_tree(child, args))
        elif isinstance(child, list):
            node.set(key, [_rewrite_tree(c, args) if isinstance(c, exp.Expression) else c for c in child])
    return _rewrite(node, args)


#: A rewrite rule: the Spark form of a node for one DuckDB→Spark difference, or ``None`` when the node is
#: not its case. ``args`` are the values to be bound (to tell an interval parameter from text).
Rule = Callable[[exp.Expr, dict[str, Any]], exp.Expr | None]


def _rewrite(node: exp.Expr, args: dict[str, Any]) -> exp.Expr:
    """The first rule of :data:`REWRITES` that handles ``node``; the node itself when none does."""
    for rule in REWRITES:
        rewritten = rule(node, args)
        if rewritten is not None:
            return rewritten
    return node


def timezone_call(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``timezone(tz, x)``: DuckDB converts by the type of ``x``; Spark has one function per direction."""
    if not _is_call(node, "timezone"):
        return None
    zone, value = node.expressions
    return _convert_zone(zone, value)


def compensated_sum(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``fsum`` (DuckDB's compensated sum): Spark has only ``sum``."""
    return exp.Sum(this=node.expressions[0]) if _is_call(node, "fsum", "sumkahan", "kahan_sum") else None


def naive_truncation(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``date_trunc``, ``make_timestamp``: Spark returns ``TIMESTAMP_LTZ`` where DuckDB's is naive."""
    truncation = isinstance(node, (exp.TimestampTrunc, exp.DateTrunc, exp.UnixToTime))
    return exp.cast(node, exp.DataType.Type.TIMESTAMPNTZ) if truncation and not isinstance(node.parent, exp.Cast) \
        else None


def timestamp_type_names(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """DuckDB's ``TIMESTAMPTZ`` is Spark's ``TIMESTAMP_LTZ``, its naive ``TIMESTAMP`` is ``TIMESTAMP_NTZ``."""
    if not isinstance(node, exp.DataType):
        return None
    if node.this == exp.DataType.Type.TIMESTAMPTZ:
        return exp.DataType.build("TIMESTAMPLTZ")
    if node.this == exp.DataType.Type.TIMESTAMP:
        return exp.DataType.build("TIMESTAMPNTZ")
    return None


def bound_interval(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``CAST($p AS INTERVAL)`` with a ``timedelta`` bound: Spark binds it as a day-time interval already
    and cannot cast one to ``INTERVAL``."""
    if (isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.INTERVAL
            and isinstance(node.this, exp.Placeholder) and isinstance(args.get(node.this.name), timedelta)):
        return node.this
    return None


def list_position(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``list_position``: NULL when absent in DuckDB, where Spark's ``array_position`` gives 0."""
    if not _is_call(node, "list_position"):
        return None
    haystack, needle = node.expressions
    return exp.func("nullif", exp.func("array_position", haystack, needle), exp.Literal.number(0))


def list_slice(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``l[a:b]``: DuckDB's elements a..b (1-based, inclusive) are Spark's ``slice(l, a, b - a + 1)``;
    ``b`` must not count from the end."""
    if not (isinstance(node, exp.Bracket) and len(node.expressions) == 1
            and isinstance(node.expressions[0], exp.Slice)):
        return None
    first, last = node.expressions[0].this, node.expressions[0].expression
    length = exp.Add(this=exp.Sub(this=last, expression=first.copy()), expression=exp.Literal.number(1))
    return exp.Anonymous(this="slice", expressions=[node.this, _int(first), _int(length)])


def list_index(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``list[i]``: 1-based and NULL out of range in DuckDB, as Spark's ``try_element_at``."""
    if not (isinstance(node, exp.Bracket) and len(node.expressions) == 1 and _is_list_index(node.expressions[0])):
        return None
    index = node.expressions[0]
    if isinstance(index, exp.Literal) and index.is_int:
        # sqlglot's parser made a constant subscript 0-based; others stay as written (1-based)
        index = exp.Literal.number(int(index.name) + 1)
    return exp.Anonymous(this="try_element_at", expressions=[node.this, _int(index)])


def epoch_micros(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``epoch_us(t)``: Spark's ``unix_micros``."""
    return _unix_micros(node.expressions[0]) if _is_call(node, "epoch_us") else None


def epoch_seconds(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``epoch(t)``: seconds as DOUBLE in DuckDB, the fraction kept, where Spark's ``unix_seconds`` drops it."""
    if not isinstance(node, exp.TimeToUnix):
        return None
    return exp.Div(this=_unix_micros(node.this), expression=exp.Literal.number("1e6"))


def double_division(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``a / b``: DuckDB divides as DOUBLE whatever the operands; Spark keeps DECIMALs (``x / 1000000.0``)."""
    if not isinstance(node, exp.Div) or node.args.get("typed"):
        return None
    return exp.Div(this=exp.cast(node.this, exp.DataType.Type.DOUBLE),
                   expression=exp.cast(node.expression, exp.DataType.Type.DOUBLE))


def computed_interval(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``INTERVAL (e) SECOND``: Spark takes only constants there, so a one-unit interval times ``e``."""
    if not (isinstance(node, exp.Interval) and not isinstance(node.this, exp.Literal) and node.unit is not None):
        return None
    unit = exp.Interval(this=exp.Literal.string("1"), unit=node.unit.copy())
    return exp.Paren(this=exp.Mul(this=unit, expression=node.this))


def row_id(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``row_number() OVER ()``: DuckDB numbers rows in no particular order (an id); Spark requires an
    order and would move every row to one task, so a unique (not consecutive) id from each task."""
    if not (isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber)
            and not any(node.args.get(k) for k in ("partition_by", "order", "alias"))):
        return None
    return exp.Add(this=exp.Anonymous(this="monotonically_increasing_id"), expression=exp.Literal.number(1))


def framed_named_windows(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``OVER (w ROWS ...)`` on a named window ``w``: Spark cannot add a frame to a named window, so its
    PARTITION BY / ORDER BY are written out. Edits the select in place and returns ``None``, so that
    the later rules still see the select (its sample)."""
    if isinstance(node, exp.Select) and node.args.get("windows"):
        _inline_framed_windows(node)
    return None


def reservoir_sample(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``USING SAMPLE reservoir(n ROWS)``: Spark's n-row sample is a LIMIT (the first n rows found)."""
    if not (isinstance(node, exp.Select) and isinstance(node.args.get("sample"), exp.TableSample)):
        return None
    size = node.args["sample"].args.get("size")
    node.set("sample", None)
    return node.limit(size) if size is not None else node


def materialized_cte(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``AS [NOT] MATERIALIZED``: Spark plans CTEs itself and has no such hint."""
    if not (isinstance(node, exp.CTE) and node.args.get("materialized") is not None):
        return None
    node.set("materialized", None)
    return node


def ordered_list(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``list(v ORDER BY k)``: Spark's ``collect_list`` keeps no order (see :func:`_ordered_list`)."""
    return _ordered_list(node.this) if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order) else None


def range_table(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``range(a, b)`` / ``generate_series`` as a table: Spark's ``range`` table, end exclusive."""
    if not (isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries)):
        return None
    series = node.this
    end = series.args["end"] if series.args.get("is_end_exclusive") else exp.Add(
        this=series.args["end"], expression=exp.Literal.number(1))
    node.set("this", exp.Anonymous(this="range", expressions=[series.args["start"], end]))
    return node


def rounded_log_cast(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``CAST(log(...) AS INTEGER)``: DuckDB rounds a DOUBLE cast to an integer, Spark truncates
    (``log2(8)`` may be 2.9999...)."""
    if not (isinstance(node, exp.Cast) and isinstance(node.this, exp.Log)
            and node.to.this in exp.DataType.INTEGER_TYPES):
        return None
    return exp.cast(exp.Anonymous(this="round", expressions=[node.this]), node.to)


def exact_quantile(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``quantile_cont(x, q)``: Spark's exact ``percentile``, also interpolating linearly."""
    if not (isinstance(node, exp.PercentileCont) and node.expression is not None):
        return None
    return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])


def grouping_mask(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """``GROUPING(a, b, ...)``: DuckDB's bit mask (``a`` highest); Spark's ``grouping_id(...)`` must list
    every grouping column in GROUP BY order, so the bits of one-column ``grouping`` are added up."""
    if not (isinstance(node, exp.Grouping) and len(node.expressions) > 1):
        return None
    last = len(node.expressions) - 1
    bits = [exp.Mul(this=exp.Grouping(expressions=[column]), expression=exp.Literal.number(2 ** (last - i)))
            for i, column in enumerate(node.expressions)]
    total: exp.Expr = bits[0]
    for bit in bits[1:]:
        total = exp.Add(this=total, expression=bit)
    return exp.Paren(this=total)


def row_value(node: exp.Expr, args: dict[str, Any]) -> exp.Expr | None:
    """A row ``(a, b)``: Spark's ``STRUCT(a, b)`` (not where a parenthesised list is a list: IN, VALUES...)."""
    if not isinstance(node, exp.Tuple) or isinstance(node.parent, _TUPLE_CONTEXTS):
        return None
    return exp.Struct(expressions=node.expressions)


#: The DuckDB→Spark expression rewrites beyond sqlglot's transpiler, tried in this order on every node
#: (children first); the first that handles a node gives its Spark form.
REWRITES: tuple[Rule, ...] = (
    timezone_call, compensated_sum, naive_truncation, timestamp_type_names, bound_interval, list_position,
    list_slice, list_index, epoch_micros, epoch_seconds, double_division, computed_interval, row_id,
    framed_named_windows, reservoir_sample, materialized_cte, ordered_list, range_table, rounded_log_cast,
    exact_quantile, grouping_mask, row_value,
)


# where a parenthesised list is not a row value
_TUPLE_CONTEXTS = (exp.In, exp.Values, exp.GroupingSets, exp.Cube, exp.Rollup, exp.Group)


def _convert_zone(zone: exp.Expr, value: exp.Expr) -> exp.Expr:
    """DuckDB's ``timezone(zone, value)`` for Spark (see the module documentation)."""
    utc = isinstance(zone, exp.Literal) and zone.is_string and zone.name == "UTC"
    if _is_aware(value):
        if utc:
            return exp.cast(value, exp.DataType.Type.TIMESTAMPNTZ)
        shifted = exp.Anonymous(this="from_utc_timestamp", expressions=[value, zone])
        return exp.cast(shifted, exp.DataType.Type.TIMESTAMPNTZ)
    if utc:
        return exp.cast(value, exp.DataType.Type.TIMESTAMPLTZ)
    return exp.Anonymous(this="to_utc_timestamp", expressions=[value, zone])


def _is_aware(value: exp.Expr) -> bool:
    """Whether an (already rewritten) expression is a tz-aware timestamp: an instant."""
    if isinstance(value, exp.Cast):  # TryCast included
        return value.to.this == exp.DataType.Type.TIMESTAMPLTZ
    return _is_call(value, "to_utc_timestamp")


def _inline_framed_windows(select: exp.Select) -> None:
    """``OVER (w ROWS BETWEEN ...)``: Spark cannot add a frame to a named window; spell it out."""
    named = {w.this.name: w for w in select.args["windows"]}
    for window in select.find_all(exp.Window):
        alias = window.args.get("alias")
        if alias is None or window.args.get("spec") is None or alias.name not in named:
            continue
        definition = named[alias.name]
        for key in ("partition_by", "order"):
            if definition.args.get(key):
                window.set(key, definition.args[key].copy() if key == "order"
                           else [p.copy() for p in definition.args[key]])
        window.set("alias", None)


def _ordered_list(order: exp.Order) -> exp.Expr:
    """DuckDB's ``list(v ORDER BY k1, k2)``: Spark's collect_list has no order, so collect
    (k1, k2, v) rows, sort them and keep v."""
    keys = [o.this for o in order.expressions]
    if any(o.args.get("desc") for o in order.expressions):
        raise SparkQueryError(f"unsupported on Spark: {order.sql('duckdb')} (descending list order)")
    fields = [exp.alias_(k, f"k{i}") for i, k in enumerate(keys)] + [exp.alias_(order.this, "v")]
    rows = exp.func("array_sort", exp.func("collect_list", exp.Struct(expressions=fields)))
    pick = exp.Lambda(this=exp.Dot(this=exp.to_identifier("x"), expression=exp.to_identifier("v")),
                      expressions=[exp.to_identifier("x")])
    return exp.Anonymous(this="transform", expressions=[rows, pick])


def _is_list_index(index: exp.Expr) -> bool:
    """A DuckDB list subscript (1-based), not a map key or struct field (a string) nor a slice."""
    return not (isinstance(index, exp.Literal) and index.is_string) and not isinstance(index, exp.Slice)


def _int(value: exp.Expr) -> exp.Expr:
    """Spark's list positions are INT (DuckDB takes any integer)."""
    if isinstance(value, exp.Literal):
        return value
    return exp.cast(value, exp.DataType.Type.INT)


def _unix_micros(value: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this="unix_micros", expressions=[exp.cast(value, exp.DataType.Type.TIMESTAMPLTZ)])


def _is_call(node: exp.Expr, *names: str) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).lower() in names


def _evaluate(node: exp.Expr, args: dict[str, Any]) -> Any:
    """The Python value of a constant expression of parameters (the file list of a Parquet read)."""
    if isinstance(node, exp.Cast):
        return _evaluate(node.this, args)
    if isinstance(node, exp.Placeholder):
        return args[node.name]
    if isinstance(node, exp.Literal) and node.is_string:
        return node.name
    if isinstance(node, exp.Array):
        return [_evaluate(e, args) for e in node.expressions]
    raise SparkQueryError(f"unsupported Parquet path on Spark: {node.sql('duckdb')}")


def _base_path(files: list[str]) -> str:
    """The folder above the files' ``key=value`` (hive partition) folders."""
    base = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files])
    while _HIVE_FOLDER.match(os.path.basename(base)):
        base = os.path.dirname(base)
    return base


def _spark_value(value: Any) -> Any:
    # tz-aware datetimes are bound as the naive UTC time, as DuckDB compares them with naive columns
    return naive_utc(value) if isinstance(value, datetime) else value


def _to_polars(frame: Any) -> pl.DataFrame:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        table = frame.toArrow()
    out = pl.from_arrow(table)
    assert isinstance(out, pl.DataFrame)
    # TIMESTAMP_LTZ arrives tagged UTC; DuckDB gives naive UTC datetimes for our timestamps
    naive = [pl.col(c).dt.replace_time_zone(None) for c, t in out.schema.items()
             if isinstance(t, pl.Datetime) and t.time_zone is not None]
    return out.with_columns(naive) if naive else out


_SIMPLE_TYPES = {
    "LongType": "BIGINT", "IntegerType": "INTEGER", "ShortType": "SMALLINT", "ByteType": "TINYINT",
    "StringType": "VARCHAR", "CharType": "VARCHAR", "VarcharType": "VARCHAR", "DoubleType": "DOUBLE",
    "FloatType": "FLOAT", "BooleanType": "BOOLEAN", "DateType": "DATE", "TimestampNTZType": "TIMESTAMP",
    "TimestampType": "TIMESTAMP WITH TIME ZONE", "BinaryType": "BLOB", "NullType": "NULL",
}


def duckdb_type(data_type: Any) -> str:
    """DuckDB's name for a Spark data type (``LongType`` → ``BIGINT``)."""
    name = type(data_type).__name__
    if name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[name]
    if name == "DecimalType":
        return f"DECIMAL({data_type.precision},{data_type.scale})"
    if name == "ArrayType":
        return f"{duckdb_type(data_type.elementType)}[]"
    return data_type.simpleString().upper()
