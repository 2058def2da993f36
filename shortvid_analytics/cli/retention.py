"""``shortvid retention``."""

from __future__ import annotations

import typer

from ..options.retention import RetentionOptions
from . import app
from .common import (
    ChartOpt,
    EventsArg,
    FormatOpt,
    FromOpt,
    OutputOpt,
    ToOpt,
    emit,
    guarded,
    open_events,
    options_command,
)


@app.command()
@options_command(RetentionOptions)
def retention(
    ctx: typer.Context,
    events: EventsArg,
    options: RetentionOptions,
    chart: ChartOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Cohort retention triangle: of the users who did the start event, who did the return event later.

    Cohorts are calendar days, ISO weeks or months of the first start event (or of every start
    event with --mode recurring) in the configured time zone; periods not yet over are blank/null.
    """
    from .. import retention as retention_lib
    from ..render.charts import chart_format
    from ..render.retention import retention_chart, retention_table

    with guarded(ctx):
        if chart is not None:
            chart_format(chart)
        source = open_events(ctx, events, date_from, date_to)
        result = retention_lib.run(source, options)
        emit(result, fmt, output, retention_table, inputs=tuple(source.files))
        if chart is not None:
            retention_chart(result, chart)
