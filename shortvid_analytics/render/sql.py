"""The text ``shortvid sql`` prints: each statement with its bound parameters, in execution order."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from ..sql import Statement


def literal(value: Any) -> str:
    """A bound value as an SQL literal a reader can paste (the statement itself carries ``$name``)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, timedelta):
        return f"INTERVAL '{value.total_seconds():g} seconds'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def statement_text(number: int, statement: Statement) -> str:
    """One statement: a header naming its query file, its parameters (``$name = value``), its SQL, and in
    explain mode its plan with timings."""
    lines = [f"-- [{number}] {statement.name} (queries/{statement.name}.sql)"]
    lines += [f"--   ${name} = {literal(value)}" for name, value in sorted(statement.params.items())]
    body = statement.sql.strip()
    lines.append(body if body.endswith(";") else body + ";")
    if statement.plan is not None:
        lines += ["", "/* EXPLAIN ANALYZE", statement.plan.rstrip(), "*/"]
    return "\n".join(lines) + "\n"


def statements_text(statements: list[Statement]) -> str:
    """All statements, one after another, separated by a blank line."""
    return "\n".join(statement_text(i, s) for i, s in enumerate(statements, 1))
