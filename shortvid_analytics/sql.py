"""Rendering and running the SQL in ``queries/``.

Each file in ``queries/`` is a Jinja2 template of one statement (or of a part of one that another template
renders with :func:`partial`); shared pieces are macros in ``queries/_macros.sql`` (the predicate of an
event selector, key lists, joins on group keys). Python hands a template *data*: step numbers, flags,
column names and the names of bound parameters; loops and optional clauses live in the template, so a file
reads as the query it renders. Values always travel as bound parameters (``$name``), never as text;
identifiers go through the ``ident`` filter, which quotes them. Where an expression depends on what
only Python knows (a column's type, the time zone's rules) the template receives it as a piece of SQL
text built from quoted identifiers and placeholders, never from user-supplied literals.

Every statement of a query file runs through :func:`run` or :func:`execute`, the one execution seam.
Inside :func:`tracing` each is recorded as it executes, with its bound parameters (and, in explain mode,
its plan with timings from ``EXPLAIN ANALYZE``): ``shortvid sql`` prints that record.

A connection is DuckDB's, or a :class:`~shortvid_analytics.spark.SparkConnection` that runs the
same DuckDB-dialect SQL on Apache Spark (transpiled with sqlglot) behind the same two methods
(``execute(sql, params)`` and ``sql(sql, params=...).pl()``); :mod:`.engine` opens either.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import progress
from .resources import data_dir

if TYPE_CHECKING:
    import polars as pl
    from jinja2.sandbox import SandboxedEnvironment

    from .engine import Connection

# Set inside `recording()`: every template rendered is appended as (name, SQL text). The report's
# provenance appendix uses it to show the exact SQL behind each section.
_RECORDER: ContextVar[list[tuple[str, str]] | None] = ContextVar("shortvid_sql_recorder", default=None)


class Mode(str, Enum):
    """What :func:`tracing` records of each statement."""

    run = "run"  # the statement and its parameters
    explain = "explain"  # also its plan with timings, from a run under EXPLAIN ANALYZE


@dataclass(frozen=True)
class Statement:
    """One statement as it was (or would be) executed: its query file, SQL text and bound parameters."""

    name: str
    sql: str
    params: dict[str, Any]
    plan: str | None = None  # the EXPLAIN ANALYZE output, in explain mode


@dataclass
class _Trace:
    mode: Mode
    statements: list[Statement] = field(default_factory=list)


_TRACE: ContextVar[_Trace | None] = ContextVar("shortvid_sql_trace", default=None)


def queries_dir() -> Path:
    """The folder holding the ``*.sql`` files."""
    return data_dir("_queries", "queries")


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB/standard SQL (double quotes, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Params:
    """Collects bound parameter values and hands out their ``$name`` placeholders."""

    values: dict[str, Any] = field(default_factory=dict)
    prefix: str = "p"

    def bind(self, value: Any) -> str:
        """Register ``value`` and return the placeholder to write into SQL."""
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"${name}"


@cache
def environment() -> SandboxedEnvironment:
    """The Jinja2 environment of ``queries/``: no autoescaping (the output is SQL, not HTML), undefined names
    are errors, block tags leave no blank lines; sandboxed, because templates only ever need data. Imported
    here: selectors (and so the CLI's option parsing) import this module, and ``--help`` stays light."""
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(queries_dir())),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["ident"] = quote_ident
    env.filters["quote"] = quote_ident
    env.globals["partial"] = render
    return env


def macro(name: str) -> Callable[..., str]:
    """The macro ``name`` of ``queries/_macros.sql``, for Python that hands a piece of SQL to code that is
    not a template (``EventSpec.predicate``)."""
    template_macro = getattr(environment().get_template("_macros.sql").module, name)
    return lambda *args, **kwargs: str(template_macro(*args, **kwargs))


def render(name: str, context: Mapping[str, Any] | None = None, /, **more: Any) -> str:
    """The SQL of template ``queries/<name>.sql`` rendered with ``context``.

    Templates call it as ``partial(name, ...)`` for a piece of a statement that has its own file (a CTE pass
    repeated per step): each piece rendered is recorded under its own name, as a whole statement is."""
    sql = environment().get_template(f"{name}.sql").render({**(context or {}), **more})
    recorder = _RECORDER.get()
    if recorder is not None:
        recorder.append((name, sql))
    return sql


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[str, str]]]:
    """Collect ``(query name, rendered SQL)`` of every template rendered inside the ``with`` block."""
    queries: list[tuple[str, str]] = []
    token = _RECORDER.set(queries)
    try:
        yield queries
    finally:
        _RECORDER.reset(token)


@contextlib.contextmanager
def tracing(mode: Mode = Mode.run) -> Iterator[list[Statement]]:
    """Collect every statement executed (or, in plan mode, not executed) inside the ``with`` block, in order,
    with its bound parameters."""
    trace = _Trace(mode)
    token = _TRACE.set(trace)
    try:
        yield trace.statements
    finally:
        _TRACE.reset(token)


def _bound(sql_text: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``params`` whose ``$name`` occurs in the SQL code (line comments skipped: DuckDB rejects unused ones)."""
    code = re.sub(r"--[^\n]*", "", sql_text)
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", code))
    return {k: v for k, v in (params or {}).items() if k in used}


def execute(
    con: Connection,
    name: str,
    params: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """Run statement ``name`` (DDL, COPY, or a query whose few rows are read as tuples); its rows."""
    text = render(name, context)
    bound = _bound(text, params)
    _trace(con, name, text, bound)
    with progress.query(con, name):
        return con.execute(text, bound).fetchall()


def run(
    con: Connection,
    name: str,
    params: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """Run query ``name`` with bound ``params`` and return its result as a polars DataFrame."""
    text = render(name, context)
    bound = _bound(text, params)
    _trace(con, name, text, bound)
    with progress.query(con, name):
        return con.sql(text, params=bound or None).pl()


def _trace(con: Connection, name: str, text: str, bound: dict[str, Any]) -> None:
    """Record the statement when tracing; in explain mode, with the plan and timings of a run under
    ``EXPLAIN ANALYZE`` (the statement then runs once more, for its result)."""
    trace = _TRACE.get()
    if trace is None:
        return
    plan = None
    if trace.mode is Mode.explain:
        rows = con.execute(f"EXPLAIN ANALYZE {text}", bound).fetchall()
        plan = "\n".join(str(row[-1]) for row in rows)
    trace.statements.append(Statement(name, text, dict(bound), plan))
