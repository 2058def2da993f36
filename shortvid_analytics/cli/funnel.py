"""``shortvid funnel``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..options.funnel import FunnelOptions
from . import app
from .common import EventsArg, FormatOpt, FromOpt, OutputOpt, ToOpt, emit, guarded, open_events, options_command


@app.command()
@options_command(FunnelOptions)
def funnel(
    ctx: typer.Context,
    events: EventsArg,
    options: FunnelOptions,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write a bar chart to PATH.png or PATH.svg.")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Funnel: users reaching each step within the window, conversion, drop-off and time to convert.

    Users enter with a step-1 event in the date range; each counts once, by the attempt getting furthest.

    Exact definitions: docs/funnel.md.
    """
    from .. import funnel as funnel_lib
    from ..render.charts import chart_format
    from ..render.funnel import funnel_table, write_funnel_chart

    with guarded(ctx):
        if chart is not None:
            chart_format(chart)
        source = open_events(ctx, events, date_from, date_to)
        result = funnel_lib.run(source, options)
        emit(result, fmt, output, funnel_table, inputs=tuple(source.files))
        if chart is not None:
            write_funnel_chart(result, chart)
