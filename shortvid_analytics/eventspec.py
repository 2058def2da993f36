"""The event-selector grammar shared by funnel steps, retention events, paths and attribution.

A selector names one event or several alternatives, optionally with property filters::

    purchase
    add_to_cart|checkout                      any of several events
    purchase[platform=douyin]                 equality
    video_view[traffic_source!=live]          inequality (NULL counts as "not equal")
    purchase[platform in (douyin, kuaishou)]  membership; also "not in (...)"
    purchase[platform=douyin, revenue!=0]     several filters: all must hold

Event and property names may use the letters of any script (``购买``, ``直播间[平台=抖音]``); a name
with other characters, and any value, may be quoted: ``"直播间"[平台 = "抖音"]``, ``"live room"``,
``purchase[note="a, b"]`` (a backslash escapes a quote inside quotes).

Values are compared in the column's own type (``category_id=42`` against an integer column). A list
of selectors is comma-separated; commas inside ``[...]`` belong to the selector.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import OptionError
from .sql import Params, macro

_OPERATOR = re.compile(r"\s*(!=|=|not\s+in(?=[\s(])|in(?=[\s(]))\s*", re.IGNORECASE)
_QUOTES = "\"'"


def is_bare_name(text: str) -> bool:
    """Whether ``text`` can be written without quotes: letters and digits of any script (Chinese
    included), combining marks, and ``_ . : -``."""
    return bool(text) and all(_name_char(ch) for ch in text)


def quote_name(text: str) -> str:
    """``text`` as written in a selector: bare when it can be, else in double quotes."""
    if is_bare_name(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote_value(value: str) -> str:
    """A filter value as written in a selector: quoted when it holds a separator, bracket or quote."""
    if value and value == value.strip() and not any(ch in value for ch in ",()[]|\"'\\"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _name_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_.:-" or unicodedata.category(ch).startswith("M")


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """The quoted string starting at ``text[i]`` (a quote) and the index after its closing quote;
    a backslash escapes the next character."""
    quote, out, j = text[i], [], i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text):
            out.append(text[j + 1])
            j += 2
            continue
        if ch == quote:
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    raise OptionError(f"{text!r}: unterminated quote {quote}")


def _read_name(text: str, i: int, selector: str, what: str) -> tuple[str, int]:
    """A quoted or bare name at ``text[i]`` (after blanks) and the index after it."""
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text) and text[i] in _QUOTES:
        name, j = _read_quoted(text, i)
        if not name.strip():
            raise OptionError(f"event selector {selector!r}: empty quoted {what}")
        return name, j
    j = i
    while j < len(text) and _name_char(text[j]):
        j += 1
    if j == i:
        found = repr(text[i]) if i < len(text) else "the end"
        raise OptionError(f"event selector {selector!r}: expected {what} (letters, digits, _ . : - or a "
                          f"quoted name) at {found}")
    return text[i:j], j


def _unquote(value: str) -> str:
    """A filter value: the text inside quotes (escapes resolved) or the bare text."""
    value = value.strip()
    if value and value[0] in _QUOTES:
        inner, end = _read_quoted(value, 0)
        if value[end:].strip():
            raise OptionError(f"value {value!r}: text after the closing quote")
        return inner
    return value


@dataclass(frozen=True)
class PropertyFilter:
    """``property op value(s)``; ``op`` is one of ``=``, ``!=``, ``in``, ``not in``."""

    prop: str
    op: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        prop = quote_name(self.prop)
        values = [_quote_value(v) for v in self.values]
        if self.op in ("in", "not in"):
            return f"{prop} {self.op} ({', '.join(values)})"
        return f"{prop}{self.op}{values[0]}"


@dataclass(frozen=True)
class EventSpec:
    """One selector: any of ``names``, with every filter in ``filters`` holding."""

    names: tuple[str, ...]
    filters: tuple[PropertyFilter, ...] = ()

    @classmethod
    def parse(cls, text: str) -> EventSpec:
        """Parse one selector such as ``purchase[platform=douyin]`` or ``"直播间"[平台 = "抖音"]``."""
        raw = text.strip()
        if not raw:
            raise OptionError(f"event selector {text!r}: expected event[|event...][prop=value, ...]")
        names: list[str] = []
        i = 0
        while True:
            name, i = _read_name(raw, i, text, "an event name")
            names.append(name)
            while i < len(raw) and raw[i].isspace():
                i += 1
            if i < len(raw) and raw[i] == "|":
                i += 1
                continue
            break
        filters: list[PropertyFilter] = []
        if i < len(raw):
            if raw[i] != "[" or not raw.endswith("]"):
                raise OptionError(f"event selector {text!r}: unexpected {raw[i:]!r} after the event name; "
                                  f"expected event[|event...][prop=value, ...]")
            body = raw[i + 1:-1]
            split_top_level(raw[i:], ",")  # the brackets must balance (outside quotes)
            for part in split_top_level(body, ","):
                filters.append(_parse_filter(part, text))
            if not filters:
                raise OptionError(f"event selector {text!r}: empty filter brackets")
        return cls(names=tuple(names), filters=tuple(filters))

    def __str__(self) -> str:
        label = "|".join(quote_name(n) for n in self.names)
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

    def selection(self, params: Params, column_types: dict[str, str]) -> dict[str, Any]:
        """This selector as data for the ``selector`` macro of ``queries/_macros.sql``: the placeholders of
        its event names and, per filter, the column, the operator and the placeholders of its values (each
        value bound via ``params``, converted to the column's type)."""
        names = [params.bind(n) for n in self.names]
        filters = [{"column": flt.prop, "op": flt.op,
                    "placeholders": [params.bind(_coerce(v, column_types.get(flt.prop, "VARCHAR"), flt.prop))
                                     for v in flt.values]}
                   for flt in self.filters]
        return {"names": names, "filters": filters}

    def predicate(self, params: Params, column_types: dict[str, str], alias: str = "") -> str:
        """SQL boolean expression selecting this selector's events (the ``selector`` macro); values are bound
        via ``params``."""
        return macro("selector")(self.selection(params, column_types), alias)


def parse_list(text: str) -> list[EventSpec]:
    """Parse a comma-separated list of selectors (commas inside brackets do not split)."""
    parts = split_top_level(text, ",")
    if not parts:
        raise OptionError(f"event list {text!r} is empty")
    return [EventSpec.parse(p) for p in parts]


#: How a character changes the bracket depth outside quotes.
_NESTING = {"[": 1, "(": 1, "]": -1, ")": -1}


def _after_quoted(ch: str, quote: str, escaped: bool) -> tuple[str | None, bool]:
    """Inside a quote: the quote still open after ``ch``, and whether the next character is escaped."""
    if escaped:
        return quote, False
    if ch == "\\":
        return quote, True
    return (None if ch == quote else quote), False


def split_top_level(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside brackets, parentheses and quotes; blank parts are dropped."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    quote: str | None = None
    escaped = False
    for ch in text:
        if quote is not None:  # inside quotes nothing separates or nests
            current.append(ch)
            quote, escaped = _after_quoted(ch, quote, escaped)
            continue
        if ch in _QUOTES:
            quote = ch
        depth += _NESTING.get(ch, 0)
        if depth < 0:
            raise OptionError(f"{text!r}: unbalanced brackets")
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quote is not None:
        raise OptionError(f"{text!r}: unterminated quote {quote}")
    if depth != 0:
        raise OptionError(f"{text!r}: unbalanced brackets")
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _parse_filter(part: str, selector: str) -> PropertyFilter:
    shape = (f"event selector {selector!r}: filter {part.strip()!r} must be prop=value, prop!=value, "
             f"prop in (a, b) or prop not in (a, b)")
    try:
        prop, i = _read_name(part, 0, selector, "a property name")
    except OptionError:
        raise OptionError(shape) from None
    match = _OPERATOR.match(part, i)
    if not match or not part[match.end():].strip():
        raise OptionError(shape)
    op = re.sub(r"\s+", " ", match.group(1).lower())
    value = part[match.end():].strip()
    if op in ("in", "not in"):
        if not (value.startswith("(") and value.endswith(")")):
            raise OptionError(f"event selector {selector!r}: {op} needs a list in parentheses, e.g. (a, b)")
        values = tuple(_unquote(v) for v in split_top_level(value[1:-1], ","))
        if not values:
            raise OptionError(f"event selector {selector!r}: empty list after {op}")
    else:
        values = (_unquote(value),)
    return PropertyFilter(prop=prop, op=op, values=values)


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
