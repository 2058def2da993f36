"""Terminal rendering of :class:`ValidationResult`."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..validate import ValidationResult
from .blocks import unclipped
from .console import fmt_number, fmt_pct


def validation_table(result: ValidationResult) -> Group:
    """Overview, events per name, column null rates, warnings."""
    overview = Table.grid(padding=(0, 2))
    overview.add_row("source", str(result.params["source"]["path"]))
    overview.add_row("files", fmt_number(result.files))
    overview.add_row("rows", fmt_number(result.rows))
    overview.add_row("users", fmt_number(result.users))
    overview.add_row("time range (UTC)", f"{result.first_event_utc} .. {result.last_event_utc}")
    overview.add_row(f"time range ({result.params['source']['timezone']})",
                     f"{result.first_event_local} .. {result.last_event_local}")
    overview.add_row("exact duplicate rows", fmt_number(result.duplicate_rows))
    overview.add_row("events in the future", fmt_number(result.future_events))

    events = Table(title="Events per name", title_justify="left")
    events.add_column("event_name")
    events.add_column("events", justify="right")
    events.add_column("users", justify="right")
    for e in result.events:
        name = e.event_name if e.in_vocabulary else f"{e.event_name} (not in vocabulary)"
        events.add_row(name, fmt_number(e.events), fmt_number(e.users))

    columns = Table(title="Canonical columns", title_justify="left")
    columns.add_column("column")
    columns.add_column("source column")
    columns.add_column("null rate", justify="right")
    for c in result.columns:
        columns.add_row(c.column, c.source_column or "(absent)", fmt_pct(c.null_rate, 1))

    # The overview's values are free text (a source path, time ranges): they wrap rather than split.
    parts: list[RenderableType] = [unclipped(overview, wrap={1}), unclipped(events), unclipped(columns)]
    parts += [Text(f"note: {n}", style="cyan") for n in result.notes]
    parts += [Text(f"warning: {w}", style="yellow") for w in result.warnings]
    if not result.warnings:
        parts.append(Text("no problems found", style="green"))
    return Group(*parts)
