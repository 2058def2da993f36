"""``shortvid anonymize``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..errors import OptionError
from ..render.blocks import Unclipped, unclipped
from . import app
from .common import EventsArg, FormatOpt, FromOpt, OutputOpt, ToOpt, emit, guarded, open_events, state

if TYPE_CHECKING:
    from ..anonymize import AnonymizeResult


def _manifest_table(result: AnonymizeResult) -> Unclipped:
    table = Table(title=f"Anonymised copy: {result.params['out']}/{result.output} "
                        f"({result.rows:,} rows, key id {result.key_id})", title_justify="left")
    table.add_column("column")
    table.add_column("transformation")
    for c in result.columns:
        table.add_row(c.column, c.transformation)
    for name in result.dropped_columns:
        table.add_row(name, "dropped (not listed with --keep)")
    if result.assignments is not None:
        a = result.assignments
        table.add_section()
        for c in a.columns:
            table.add_row(f"{a.output}: {c.column}", c.transformation)
        for name in a.dropped_columns:
            table.add_row(f"{a.output}: {name}", "dropped (not listed with --keep)")
    # A transformation is a sentence: it wraps at spaces.
    return unclipped(table, wrap={1})


@app.command()
def anonymize(
    ctx: typer.Context,
    events: EventsArg,
    out: Annotated[Path, typer.Option("--out", help="Folder for events.parquet and manifest.json.")],
    time_resolution: Annotated[
        str | None, typer.Option("--time-resolution", help="Coarsen event times: minute|hour|day (UTC).")
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option("--keep", help="Keep this non-canonical column (repeatable); others are dropped."),
    ] = None,
    hash_creators: Annotated[bool, typer.Option("--hash-creators", help="Pseudonymise creator_id too.")] = False,
    round_revenue: Annotated[
        int | None, typer.Option("--round-revenue", help="Round revenue to this many decimal places.")
    ] = None,
    assignments: Annotated[
        Path | None, typer.Option("--assignments", help="Also copy these experiment assignments (user_id "
                                                        "pseudonymised with the same key).")
    ] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Write a shareable copy of an export: keyed-hash ids, optional time coarsening, unknown columns dropped.

    The key comes from SHORTVID_PSEUDONYM_KEY or [privacy] pseudonym_key; the same key gives the same
    pseudonyms in every run. The input is never modified.
    """
    from .. import anonymize as anonymize_lib

    with guarded(ctx):
        if state(ctx).config.engine.name != "duckdb":  # checked before a Spark JVM is started
            raise OptionError("anonymize writes one Parquet file with DuckDB; it runs with --engine duckdb only")
        source = open_events(ctx, events, date_from, date_to)
        result = anonymize_lib.anonymize(source, out, time_resolution=time_resolution, keep=tuple(keep or ()),
                                  hash_creators=hash_creators, round_revenue=round_revenue,
                                  assignments=assignments)
        emit(result, fmt, output, _manifest_table, inputs=tuple(source.files))
