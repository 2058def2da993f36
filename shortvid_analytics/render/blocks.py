"""Tables that never cut a cell: too wide for the console, they are split into blocks of columns.

rich fits a wide table by shrinking its columns, and a shrunk column cuts its numbers and labels to
``9,…``. :class:`Unclipped` decides the layout at render time, for the width it is given (a terminal,
or the console that writes ``-o`` files), so the same renderable is right everywhere:

1. the table fits at its natural width: it is printed unchanged;
2. it fits once its free-text columns (``wrap``) wrap at spaces: those columns get the width left over;
3. otherwise its columns are split into blocks that each fit, like pandas prints a wide frame, and
   every block repeats the ``keys`` leading columns (period, group, step) so that each row can be read
   on its own. The title heads the first block and the caption ends the last one.

Only a single column that is wider than the console on its own is beyond all three; its text is then
folded onto the next line, never replaced by an ellipsis.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

# Measuring at this width gives every cell its natural (one-line) width.
_UNBOUNDED = 1_000_000


class Unclipped:
    """``table`` laid out so that no cell is cut; ``keys`` leading columns are repeated in every block
    and the columns at the positions ``wrap`` hold free text that may wrap at spaces."""

    def __init__(self, table: Table, keys: int = 1, wrap: Collection[int] = ()) -> None:
        self.table = table
        self.keys = min(keys, len(table.columns))
        self.wrap = frozenset(wrap)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        layout = _Layout(self.table, self.wrap, console, options)
        blocks = layout.blocks(self.keys)
        for number, block in enumerate(blocks):
            table = layout.table([*range(self.keys), *block])
            if number:
                table.title = _continued(self.table.title)
            if number < len(blocks) - 1:
                table.caption = None
            yield table


def unclipped(table: Table, keys: int = 1, wrap: Collection[int] = ()) -> Unclipped:
    """:class:`Unclipped` -- the one way table renderers hand a table to the console."""
    return Unclipped(table, keys, wrap)


class _Layout:
    """The widths of ``table``'s columns on one console, and tables of a subset of them that fit."""

    def __init__(self, table: Table, wrap: frozenset[int], console: Console, options: ConsoleOptions) -> None:
        self.source = table
        self.wrap = wrap
        self.console = console
        self.width = options.max_width
        self.unbounded = options.update_width(_UNBOUNDED)
        ranges = [self._content_range(i, c) for i, c in enumerate(table.columns)]
        self.minimum = [low for low, _ in ranges]
        self.natural = [high for _, high in ranges]

    def _content_range(self, index: int, column: Column) -> tuple[int, int]:
        """Narrowest and natural width of a column's text: a rigid column is as narrow as its widest
        cell, a free-text one as its longest word."""
        cells: list[RenderableType] = [column.header, *column.cells]
        if self.source.show_footer:
            cells.append(column.footer)
        sizes = [Measurement.get(self.console, self.unbounded, cell) for cell in cells]
        natural = max(max(size.maximum for size in sizes), column.min_width or 0)
        if index not in self.wrap:
            return natural, natural
        return max(size.minimum for size in sizes), natural

    def _total(self, indexes: Sequence[int], widths: Sequence[int]) -> int:
        """Width of the table of these columns at these text widths, padding and borders included."""
        fixed = self._subset(indexes, {i: w for i, w in zip(indexes, widths, strict=True)}, no_wrap=True)
        return Measurement.get(self.console, self.unbounded, fixed).maximum

    def fits(self, indexes: Sequence[int]) -> bool:
        return self._total(indexes, [self.minimum[i] for i in indexes]) <= self.width

    def blocks(self, keys: int) -> list[list[int]]:
        """The non-key columns in consecutive groups, each as many as fit beside the key columns."""
        blocks: list[list[int]] = []
        current: list[int] = []
        for index in range(keys, len(self.source.columns)):
            if current and not self.fits([*range(keys), *current, index]):
                blocks.append(current)
                current = []
            current.append(index)
        return [*blocks, current] if current or not blocks else blocks

    def table(self, indexes: Sequence[int]) -> Table:
        """The table of these columns: natural widths when they fit, free text narrowed when that is
        enough, rich's own folding as the last resort (text moves to the next line, nothing is lost)."""
        if self._total(indexes, [self.natural[i] for i in indexes]) <= self.width:
            return self._subset(indexes, {}, no_wrap=True)
        if not self.fits(indexes):
            return self._subset(indexes, {}, no_wrap=False)
        return self._subset(indexes, self._narrowed(indexes), no_wrap=True)

    def _narrowed(self, indexes: Sequence[int]) -> dict[int, int]:
        """Widths of the free-text columns: each its longest word, then the room left, left to right."""
        spare = self.width - self._total(indexes, [self.minimum[i] for i in indexes])
        widths = {}
        for index in (i for i in indexes if i in self.wrap):
            extra = min(spare, self.natural[index] - self.minimum[index])
            widths[index] = self.minimum[index] + extra
            spare -= extra
        return widths

    def _subset(self, indexes: Iterable[int], widths: dict[int, int], no_wrap: bool) -> Table:
        """A copy of the table with only these columns; ``widths`` fixes some text widths. Free-text
        columns always wrap at spaces; with ``no_wrap`` the others never do."""
        table = copy.copy(self.source)
        table.columns = [
            replace(self.source.columns[index], _index=position, width=widths.get(index), overflow="fold",
                    no_wrap=no_wrap and index not in self.wrap)
            for position, index in enumerate(indexes)
        ]
        return table


def _continued(title: str | Text | None) -> str | Text | None:
    """The title of a second or later block: the first line of the table's title, marked as continued."""
    if title is None:
        return None
    if isinstance(title, Text):
        return Text.assemble(title.split("\n")[0], " (continued)")
    return f"{title.splitlines()[0]} (continued)" if title else title
