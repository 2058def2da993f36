"""A terminal renderable (tables, groups, notes) as GitHub-flavoured Markdown, for ``-o result.md``.

The terminal renderers build rich objects; this walks them instead of drawing them, so a Markdown file
holds the same cells as the table on screen, whole, with every cell escaped for a Markdown table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text


def markdown_text(renderable: Any) -> str:
    """``renderable`` as Markdown: a table per rich table (its title as a bold line), text as paragraphs."""
    blocks = [block for block in _blocks(renderable) if block]
    return "\n\n".join(blocks) + "\n"


def cell(value: Any) -> str:
    """A value escaped for a Markdown table cell: ``|`` and backslashes escaped, line breaks as ``<br>``, and
    HTML's special characters as entities (a value is data, never markup)."""
    text = _plain(value).replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "<br>".join(text.splitlines()) if "\n" in text or "\r" in text else text


def _blocks(renderable: Any) -> Iterator[str]:
    if isinstance(renderable, Group):
        for part in renderable.renderables:
            yield from _blocks(part)
    elif isinstance(renderable, Table):
        yield _table(renderable)
    elif isinstance(renderable, (str, Text)):
        yield cell(renderable)
    elif hasattr(renderable, "table"):  # render.blocks.Unclipped: Markdown has no width to fit
        yield from _blocks(renderable.table)
    elif hasattr(renderable, "renderable"):  # Panel, Padding, Align: the content without its frame
        yield from _blocks(renderable.renderable)
    elif hasattr(renderable, "renderables"):
        for part in renderable.renderables:
            yield from _blocks(part)
    else:
        raise TypeError(f"no Markdown form for {type(renderable).__name__}")


def _table(table: Table) -> str:
    columns = table.columns
    rows = [[cell(c) for c in column.cells] for column in columns]
    body = [" | ".join(row[i] for row in rows) for i in range(table.row_count)]
    lines = [f"**{cell(table.title)}**", ""] if table.title else []
    if table.show_header and any(_plain(c.header) for c in columns):
        lines.append("| " + " | ".join(cell(c.header) for c in columns) + " |")
    else:  # a grid (key / value rows): Markdown needs a header row, so an empty one
        lines.append("| " + " | ".join(" " for _ in columns) + " |")
    lines.append("|" + "|".join("---:" if c.justify == "right" else "---" for c in columns) + "|")
    lines += [f"| {line} |" for line in body]
    return "\n".join(lines)


def _plain(value: Any) -> str:
    if isinstance(value, Text):
        return value.plain
    if value is None:
        return ""
    return str(value)
