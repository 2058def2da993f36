"""``shortvid lifecycle``."""

from __future__ import annotations

import typer

from ..eventspec import EventSpec
from ..lifecycle import lifecycle as compute_lifecycle
from ..periods import parse_period
from ..render.charts import chart_format
from ..render.lifecycle import lifecycle_chart, lifecycle_table
from . import app
from .common import (ActiveEventOpt, ChartOpt, EventsArg, FormatOpt, FromOpt, OutputFormat, OutputOpt, PeriodOpt,
                     ToOpt, emit, guarded, open_events)


@app.command()
def lifecycle(
    ctx: typer.Context,
    events: EventsArg,
    event: ActiveEventOpt = "video_view",
    period: PeriodOpt = "week",
    chart: ChartOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """New, returning, resurrecting and dormant (negative) users per period.

    History before --from is read (a user active before the range is never new); nothing after --to.
    """
    with guarded(ctx):
        if chart is not None:
            chart_format(chart)
        spec, period_value = EventSpec.parse(event), parse_period(period)
        source = open_events(ctx, events, date_from, date_to)
        result = compute_lifecycle(source, spec, period=period_value)
        emit(result, fmt, output, lifecycle_table, inputs=tuple(source.files))
        if chart is not None:
            lifecycle_chart(result, chart)
