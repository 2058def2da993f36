"""The event-selector grammar shared by funnel steps, retention events, paths and attribution.

A selector names one event or several alternatives, optionally with property filters::

    purchase
    add_to_cart|checkout                      any of several events
    purchase[platform=douyin]                 equality
    video_view[traffic_source!=live]          inequality (NULL counts as "not equal")
    purchase[platform in (douyin, kuaishou)]  membership; also "not in (...)"
    purchase[platform=douyin, revenue!=0]     several filters: all must hold

Values are compared in the column's own type (``category_id=42`` against an integer column). A list
of selectors is comma-separated; commas inside ``[...]`` belong to the selector.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import OptionError
from .sql import Params, quote_ident

_FILTER = re.compile(
    r"^\s*(?P<prop>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>!=|=|\bnot\s+in\b|\bin\b)\s*(?P<value>.+?)\s*$",
    re.IGNORECASE,
)
_EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:\-]+$")


@dataclass(frozen=True)
class PropertyFilter:
    """``property op value(s)``; ``op`` is one of ``=``, ``!=``, ``in``, ``not in``."""

    prop: str
    op: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        if self.op in ("in", "not in"):
            return f"{self.prop} {self.op} ({', '.join(self.values)})"
        return f"{self.prop}{self.op}{self.values[0]}"


@dataclass(frozen=True)
class EventSpec:
    """One selector: any of ``names``, with every filter in ``filters`` holding."""

    names: tuple[str, ...]
    filters: tuple[PropertyFilter, ...] = ()

    @classmethod
    def parse(cls, text: str) -> EventSpec:
        """Parse one selector such as ``purchase[platform=douyin]``."""
        raw = text.strip()
        match = re.fullmatch(r"(?P<names>[^\[\]]+?)\s*(\[(?P<filters>.*)\])?", raw, re.DOTALL)
        if not raw or not match:
            raise OptionError(f"event selector {text!r}: expected event[|event...][prop=value, ...]")
        names = tuple(n.strip() for n in match.group("names").split("|"))
        for name in names:
            if not _EVENT_NAME.match(name):
                raise OptionError(f"event selector {text!r}: {name!r} is not an event name")
        filters: list[PropertyFilter] = []
        if match.group("filters") is not None:
            for part in split_top_level(match.group("filters"), ","):
                filters.append(_parse_filter(part, text))
            if not filters:
                raise OptionError(f"event selector {text!r}: empty filter brackets")
        return cls(names=names, filters=tuple(filters))

    def __str__(self) -> str:
        label = "|".join(self.names)
        if self.filters:
            label += "[" + ", ".join(str(f) for f in self.filters) + "]"
        return label

    @property
    def properties(self) -> tuple[str, ...]:
        """Property columns the filters read."""
        return tuple(f.prop for f in self.filters)

    def validate(self, source: Any, what: str = "event") -> None:
        """Check that the events occur and the filtered properties exist in ``source``."""
        source.require_events(self.names, what)
        for prop in self.properties:
            source.require_column(prop, f"property in {what} {str(self)!r}")

    def predicate(self, params: Params, column_types: dict[str, str], alias: str = "") -> str:
        """SQL boolean expression selecting this selector's events; values are bound via ``params``."""
        prefix = f"{alias}." if alias else ""
        names = ", ".join(params.bind(n) for n in self.names)
        clauses = [f"{prefix}event_name IN ({names})"]
        for flt in self.filters:
            col = prefix + quote_ident(flt.prop)
            typ = column_types.get(flt.prop, "VARCHAR")
            values = [params.bind(_coerce(v, typ, flt.prop)) for v in flt.values]
            if flt.op == "=":
                clauses.append(f"{col} = {values[0]}")
            elif flt.op == "!=":
                clauses.append(f"({col} IS NULL OR {col} <> {values[0]})")
            elif flt.op == "in":
                clauses.append(f"{col} IN ({', '.join(values)})")
            else:
                clauses.append(f"({col} IS NULL OR {col} NOT IN ({', '.join(values)}))")
        return "(" + " AND ".join(clauses) + ")"


def parse_list(text: str) -> list[EventSpec]:
    """Parse a comma-separated list of selectors (commas inside brackets do not split)."""
    parts = split_top_level(text, ",")
    if not parts:
        raise OptionError(f"event list {text!r} is empty")
    return [EventSpec.parse(p) for p in parts]


def split_top_level(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside brackets and parentheses; blank parts are dropped."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
            if depth < 0:
                raise OptionError(f"{text!r}: unbalanced brackets")
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise OptionError(f"{text!r}: unbalanced brackets")
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _parse_filter(part: str, selector: str) -> PropertyFilter:
    match = _FILTER.match(part)
    if not match:
        raise OptionError(
            f"event selector {selector!r}: filter {part.strip()!r} must be prop=value, prop!=value, "
            f"prop in (a, b) or prop not in (a, b)"
        )
    op = re.sub(r"\s+", " ", match.group("op").lower())
    value = match.group("value")
    if op in ("in", "not in"):
        if not (value.startswith("(") and value.endswith(")")):
            raise OptionError(f"event selector {selector!r}: {op} needs a list in parentheses, e.g. (a, b)")
        values = tuple(v.strip().strip("'\"") for v in split_top_level(value[1:-1], ","))
        if not values:
            raise OptionError(f"event selector {selector!r}: empty list after {op}")
    else:
        values = (value.strip("'\""),)
    return PropertyFilter(prop=match.group("prop"), op=op, values=values)


def _coerce(value: str, column_type: str, prop: str) -> Any:
    """Convert a filter value to the Python type matching the column, for a typed comparison."""
    typ = column_type.upper()
    try:
        if typ in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                   "UINTEGER", "UBIGINT"}:
            return int(value)
        if typ.startswith(("DOUBLE", "FLOAT", "DECIMAL", "REAL")):
            return float(value)
        if typ == "BOOLEAN":
            lowered = value.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return lowered in ("true", "1")
        if typ == "DATE":
            return date.fromisoformat(value)
        if typ.startswith("TIMESTAMP"):
            return datetime.fromisoformat(value)
    except ValueError:
        raise OptionError(f"filter value {value!r} for property {prop!r} does not fit its type {typ}") from None
    return value
