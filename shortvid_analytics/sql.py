"""Loading and running the SQL in ``queries/``.

Values always travel as bound parameters (``$name``). The only text ever inserted into a query file
is a *fragment* built by this package from quoted identifiers and ``$param`` placeholders (e.g. the
predicate of a step filter ``purchase[platform=douyin]``); a query file marks where with
``{{ fragment_name }}``. Fragments never contain user-supplied literals.

A connection is DuckDB's, or a :class:`~shortvid_analytics.spark.SparkConnection` that runs the
same DuckDB-dialect SQL on Apache Spark (transpiled with sqlglot) behind the same two methods
(``execute(sql, params)`` and ``sql(sql, params=...).pl()``); :mod:`.engine` opens either.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import progress
from .resources import data_dir

if TYPE_CHECKING:
    import polars as pl

    from .engine import Connection

_FRAGMENT = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .\-]*$")
# Set inside `recording()`: every query rendered is appended as (name, SQL text). The report's
# provenance appendix uses it to show the exact SQL behind each section.
_RECORDER: ContextVar[list[tuple[str, str]] | None] = ContextVar("shortvid_sql_recorder", default=None)


def queries_dir() -> Path:
    """The folder holding the ``*.sql`` files."""
    return data_dir("_queries", "queries")


@cache
def load_query(name: str) -> str:
    """Text of ``queries/<name>.sql``."""
    return (queries_dir() / f"{name}.sql").read_text(encoding="utf-8")


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB/standard SQL (double quotes, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def same_keys(left: str, right: str, keys: Iterable[str]) -> str:
    """Join condition ``left.k IS NOT DISTINCT FROM right.k AND ...`` over the (quoted) ``keys``: rows of two
    aggregates of the same groups match, a missing key value included."""
    return " AND ".join(f"{left}.{k} IS NOT DISTINCT FROM {right}.{k}" for k in keys)


def is_plain_identifier(name: str) -> bool:
    """True for names safe to show and to use as column names (letters, digits, _ . - and spaces)."""
    return bool(_IDENTIFIER.match(name))


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


def render(name: str, fragments: dict[str, str] | None = None) -> str:
    """The SQL of query ``name`` with its ``{{ fragment }}`` markers replaced."""
    text = load_query(name)
    fragments = fragments or {}

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in fragments:
            raise KeyError(f"query {name}.sql needs fragment {key!r}")
        return fragments[key]

    sql = _FRAGMENT.sub(substitute, text)
    recorder = _RECORDER.get()
    if recorder is not None:
        recorder.append((name, sql))
    return sql


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[str, str]]]:
    """Collect ``(query name, rendered SQL)`` of every query rendered inside the ``with`` block."""
    queries: list[tuple[str, str]] = []
    token = _RECORDER.set(queries)
    try:
        yield queries
    finally:
        _RECORDER.reset(token)


def _bound(sql_text: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The ``params`` whose ``$name`` occurs in the SQL code (line comments skipped: DuckDB rejects unused ones)."""
    code = re.sub(r"--[^\n]*", "", sql_text)
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", code))
    return {k: v for k, v in (params or {}).items() if k in used}


def execute(
    con: Connection,
    name: str,
    params: dict[str, Any] | None = None,
    fragments: dict[str, str] | None = None,
) -> None:
    """Run statement ``name`` (DDL, COPY) that returns no rows."""
    text = render(name, fragments)
    with progress.query(con, name):
        con.execute(text, _bound(text, params)).fetchall()


def run(
    con: Connection,
    name: str,
    params: dict[str, Any] | None = None,
    fragments: dict[str, str] | None = None,
) -> pl.DataFrame:
    """Run query ``name`` with bound ``params`` and return its result as a polars DataFrame."""
    text = render(name, fragments)
    with progress.query(con, name):
        return con.sql(text, params=_bound(text, params) or None).pl()
