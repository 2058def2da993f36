"""``shortvid attribution``."""

from __future__ import annotations

import typer

from ..options.attribution import AttributionOptions
from . import app
from .common import EventsArg, FormatOpt, FromOpt, OutputOpt, ToOpt, emit, guarded, open_events, options_command


@app.command()
@options_command(AttributionOptions)
def attribution(
    ctx: typer.Context,
    events: EventsArg,
    options: AttributionOptions,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Credit each conversion's order and GMV to the creators / videos / sources of its touches.
    See docs/attribution.md."""
    from .. import attribution as attribution_lib
    from ..render.attribution import attribution_table

    with guarded(ctx):
        source = open_events(ctx, events, date_from, date_to)
        result = attribution_lib.run(source, options)
        emit(result, fmt, output, attribution_table, inputs=tuple(source.files))
