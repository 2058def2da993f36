"""``shortvid stickiness``."""

from __future__ import annotations

import typer

from ..eventspec import EventSpec
from ..periods import parse_period
from ..render.charts import chart_format
from ..render.stickiness import stickiness_chart, stickiness_table
from ..stickiness import stickiness as compute_stickiness
from . import app
from .common import (ActiveEventOpt, ChartOpt, EventsArg, FormatOpt, FromOpt, OutputFormat, OutputOpt, PeriodOpt,
                     ToOpt, emit, guarded, open_events)


@app.command()
def stickiness(
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
    """Users by number of active days per week or month, and DAU/MAU stickiness per month."""
    with guarded(ctx):
        if chart is not None:
            chart_format(chart)
        spec, period_value = EventSpec.parse(event), parse_period(period)
        source = open_events(ctx, events, date_from, date_to)
        result = compute_stickiness(source, spec, period=period_value)
        emit(result, fmt, output, stickiness_table, inputs=tuple(source.files))
        if chart is not None:
            stickiness_chart(result, chart)
