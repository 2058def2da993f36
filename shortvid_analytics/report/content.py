"""What a report section shows: tables, figures and readings whose numbers point into the JSON.

Every number a section displays is taken from the JSON document of the analysis (the same document
``shortvid <command> --format json`` prints) through a JSON pointer such as ``/funnel/steps/2/users``
(the first segment names the result within the section). The HTML keeps the pointer and the format
in ``data-ptr``/``data-fmt`` attributes, so a reader (or a test) can check each shown number
against the JSON, and no number is computed twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

#: Number formats: ``int`` 12,345; ``n2`` 1,234.57; ``pct1`` 4.8%; ``spct1`` +4.8% (signed, for
#: changes); ``p`` a p-value (``< 0.001`` below 0.001, else 3 decimals); ``peq`` the same for prose,
#: with its relation (``= 0.009``, ``< 0.001``); ``text`` the value as text.
STYLES = ("int", "n0", "n1", "n2", "n3", "n4", "pct0", "pct1", "pct2", "spct1", "spct2", "p", "peq", "text")
MISSING = "–"


def format_value(value: Any, style: str) -> str:
    """Format ``value`` in ``style`` (see :data:`STYLES`); ``None``/NaN show as an en dash."""
    if style not in STYLES:
        raise ValueError(f"unknown number format {style!r}")
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if style == "text":
        return str(value)
    if style == "int":
        return f"{round(value):,}"
    if style.startswith("n"):
        return f"{value:,.{int(style[1:])}f}"
    if style.startswith("pct"):
        return f"{100 * value:.{int(style[3:])}f}%"
    if style.startswith("spct"):
        return f"{100 * value:+.{int(style[4:])}f}%"
    if value < 0.001:
        return "< 0.001"
    return f"= {value:.3f}" if style == "peq" else f"{value:.3f}"


@dataclass
class Cell:
    """One table cell: its text and, for values from the JSON, the pointer and the format."""

    text: str
    ptr: str | None = None
    fmt: str | None = None
    numeric: bool = False


@dataclass
class Table:
    """A numbered table with a caption; ``note`` is shown under it (units, definitions)."""

    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""
    number: int = 0

    @property
    def wide(self) -> bool:
        """Many columns: printed in a smaller font so it is never clipped."""
        return len(self.columns) > 6

    @property
    def narrow(self) -> bool:
        """Few columns: as wide as its content rather than the page."""
        return len(self.columns) <= 3

    @property
    def numeric_columns(self) -> list[bool]:
        """Per column: True when every cell that is not empty holds a number (right-aligned)."""
        return [all(row[i].numeric for row in self.rows if row[i].text) and any(row[i].text for row in self.rows)
                for i in range(len(self.columns))]


@dataclass
class Figure:
    """A numbered figure: an embedded image (``data:`` URI) and its caption."""

    caption: str
    data_uri: str
    alt: str
    number: int = 0


@dataclass
class Paragraph:
    """Prose (already safe HTML): a reading of the results or a note."""

    html: Markup
    role: str = "reading"


Block = Table | Figure | Paragraph


@dataclass
class SectionOutput:
    """Everything a section contributes: JSON results, blocks in display order and CLI equivalents.

    ``commands`` maps each result name to the ``shortvid`` arguments that print the same JSON.
    """

    results: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    commands: dict[str, list[str]] = field(default_factory=dict)

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


class Doc:
    """The JSON results of one section and helpers that show a value together with its pointer."""

    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results

    def get(self, ptr: str) -> Any:
        """The value at JSON pointer ``ptr`` (``/name/key/0/key``)."""
        return resolve(self.results, ptr)

    def cell(self, ptr: str, fmt: str) -> Cell:
        """A table cell showing the value at ``ptr``."""
        return Cell(format_value(self.get(ptr), fmt), ptr, fmt, numeric=fmt != "text")

    def span(self, ptr: str, fmt: str) -> Markup:
        """Inline HTML showing the value at ``ptr`` (for readings)."""
        return Markup('<span class="v" data-ptr="{}" data-fmt="{}">{}</span>').format(
            ptr, fmt, format_value(self.get(ptr), fmt))


def label(text: Any) -> Cell:
    """A table cell with fixed text (a row or column label not taken from the JSON)."""
    return Cell(str(text))


def prose(template: str, **values: Any) -> Paragraph:
    """A reading paragraph: ``template`` is plain text with ``{name}`` slots for :meth:`Doc.span` values."""
    return Paragraph(Markup(escape(template)).format(**values))


def resolve(document: Any, ptr: str) -> Any:
    """Follow a JSON pointer (RFC 6901) into ``document``."""
    node = document
    for raw in ptr.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def markdown(text: str, shift: int = 2) -> Markup:
    """Render Markdown (CommonMark + tables; raw HTML is escaped) with headings moved down ``shift``
    levels, so that ``#`` inside a section is a sub-heading of that section."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + shift)}"
    return Markup(md.renderer.render(tokens, md.options, {}))
