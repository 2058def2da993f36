"""``shortvid validate``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from . import app
from .common import EventsArg, FormatOpt, FromOpt, OutputOpt, ToOpt, emit, guarded, open_events


@app.command()
def validate(
    ctx: typer.Context,
    events: EventsArg,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    as_of: Annotated[
        datetime | None, typer.Option("--as-of", help="UTC time after which events count as 'in the future'.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when there are warnings too.")] = False,
) -> None:
    """Check an export: rows, time range, events per name, users, null rates, duplicates, future events.

    Exits 1 with one error line naming every problem when the input is unusable (no files, unreadable
    Parquet, missing or mistyped required column, no rows).
    """
    from .. import validate as validate_lib
    from ..render.validate import validation_table

    with guarded(ctx):
        source = open_events(ctx, events, date_from, date_to, announce=False)
        result = validate_lib.validate(source, as_of=as_of)
        emit(result, fmt, output, validation_table, inputs=tuple(source.files))
    if strict and result.warnings:
        raise typer.Exit(1)
