"""What every section type shares: the run's context, the section type, and cells of breakdown values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ... import sql
from ...config import Config
from ...privacy import suppressed_label
from ...source import EventSource
from ..content import Cell, Doc, SectionOutput, label
from ..spec import Param, ReportSpec, Section


@dataclass
class SectionContext:
    """What sections share: the events, the spec, the report options, and opened sources per date range."""

    events: str
    config: Config
    spec: ReportSpec
    as_of: datetime
    assignments: Path | None = None
    truth: dict[str, Any] | None = None
    #: (name, SQL) of the queries that opened the sources (view definitions), for provenance.
    opening_queries: list[tuple[str, str]] = field(default_factory=list)
    _sources: dict[tuple[date | None, date | None], EventSource] = field(default_factory=dict)

    def date_range(self, section: Section, ranged: bool = True) -> tuple[date | None, date | None]:
        """The section's ``from``/``to``, else the spec's; ``(None, None)`` when not ``ranged``."""
        if not ranged:
            return (None, None)
        return (section.date_from or self.spec.date_from, section.date_to or self.spec.date_to)

    def source(self, section: Section, ranged: bool = True) -> EventSource:
        """The events restricted to the section's date range (opened once per distinct range).

        ``ranged=False`` gives all events, for analyses whose command has no ``--from/--to``."""
        key = self.date_range(section, ranged)
        if key not in self._sources:
            with sql.recording() as queries:
                self._sources[key] = EventSource.open(self.events, self.config, date_from=key[0], date_to=key[1])
            self.opening_queries += [q for q in queries if q not in self.opening_queries]
        return self._sources[key]

    @property
    def min_group_size(self) -> int:
        """Small-cell threshold of every breakdown in the report (``[privacy] min_group_size``)."""
        return self.config.privacy.min_group_size

    def suppression_args(self) -> list[str]:
        """The ``--min-group-size`` option that makes a command print the section's JSON."""
        return ["--min-group-size", str(self.min_group_size)] if self.min_group_size > 1 else []

    def command(self, section: Section, name: str, *args: Any, ranged: bool = True) -> list[str]:
        """``shortvid`` arguments that print the same JSON: ``name EVENTS [--from] [--to] args --format json``."""
        argv = [*name.split(), self.events]
        date_from, date_to = self.date_range(section, ranged)
        if date_from:
            argv += ["--from", date_from.isoformat()]
        if date_to:
            argv += ["--to", date_to.isoformat()]
        return argv + [str(a) for a in args] + ["--format", "json"]

    def close(self) -> None:
        """Close every opened DuckDB connection."""
        for source in self._sources.values():
            source.con.close()
        self._sources.clear()


@dataclass(frozen=True)
class SectionType:
    """A section type: its spec keys and the function producing its output."""

    name: str
    params: tuple[Param, ...]
    run: Callable[[SectionContext, Section], SectionOutput]
    summary: str
    check: Callable[[dict[str, Any]], None] | None = None
    needs_assignments: bool = False
    #: The CLI command whose options the parameters mirror (None for ``text``).
    command: str | None = None
    #: Markdown definitions for the appendix (default: ``reports/templates/methods/<name>.md``).
    definitions: Callable[[], str] | None = None


def group_name(group: dict[str, Any], key: str, min_group_size: int) -> str:
    """A breakdown value of a result row as text: ``<K users (n groups)`` for the pooled suppressed row."""
    if group.get("suppressed"):
        return suppressed_label(min_group_size, group["suppressed_groups"])
    return str(group[key])


def group_cells(doc: Doc, base: str, group: dict[str, Any], keys: list[str], min_group_size: int) -> list[Cell]:
    """Table cells of a row's breakdown values at ``base/<key>``; the pooled suppressed row shows its
    label in the first key column (its values are null)."""
    if group.get("suppressed"):
        return [label(group_name(group, keys[0], min_group_size))] + [label("") for _ in keys[1:]]
    return [doc.cell(f"{base}/{key}", "text") for key in keys]


def cli_args(section: Section, params: tuple[Param, ...], skip: tuple[str, ...] = ()) -> list[str]:
    """The CLI options equivalent to the section's parameters (defaults left out)."""
    argv: list[str] = []
    for param in params:
        value = section.params[param.name]
        if param.option is None or param.name in skip or value is None or value == param.default:
            continue
        if param.kind == "bool":
            argv += [param.option] if value else []
        elif param.kind == "list":
            argv += [param.option, ",".join(value)]
        elif param.kind == "strs":
            for item in value:
                argv += [param.option, item]
        else:
            argv += [param.option, str(value)]
    return argv
