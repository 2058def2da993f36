"""``shortvid retention``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..options import TERMINAL_MIN_GROUP_SIZE
from . import app
from .common import (
    ChartOpt,
    EventsArg,
    FormatOpt,
    FromOpt,
    MinGroupSizeOpt,
    OutputOpt,
    PeriodOpt,
    ToOpt,
    emit,
    guarded,
    open_events,
)


@app.command()
def retention(
    ctx: typer.Context,
    events: EventsArg,
    start: Annotated[str, typer.Option("--start", help="Start event selector, e.g. video_view or "
                                                       "purchase[platform=douyin].")] = "video_view",
    return_: Annotated[str | None, typer.Option("--return", help="Return event selector (default: the start "
                                                                 "selector).", show_default=False)] = None,
    period: PeriodOpt = "week",
    periods: Annotated[int, typer.Option("--periods", help="Periods per cohort, k = 0 .. N-1.")] = 8,
    mode: Annotated[str, typer.Option("--mode", help="first-time: cohort of the first start event; "
                                                     "recurring: every period with a start event.")] = "first-time",
    unbounded: Annotated[bool, typer.Option("--unbounded", help="Retained at k = returned in period k or "
                                                                "any later one.")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Break down by this property of the first start "
                                                        "event.")] = None,
    min_group_size: MinGroupSizeOpt = TERMINAL_MIN_GROUP_SIZE,
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
    from ..eventspec import EventSpec
    from ..periods import parse_period
    from ..render.charts import chart_format
    from ..render.retention import retention_chart, retention_table
    from ..retention import check_periods, parse_mode
    from ..retention import retention as compute_retention

    with guarded(ctx):
        if chart is not None:
            chart_format(chart)
        start_spec = EventSpec.parse(start)
        return_spec = EventSpec.parse(return_) if return_ is not None else None
        period_value, mode_value = parse_period(period), parse_mode(mode)
        check_periods(periods)
        source = open_events(ctx, events, date_from, date_to)
        result = compute_retention(source, start_spec, return_spec, period=period_value, periods=periods,
                                   mode=mode_value, unbounded=unbounded, by=by,
                                   min_group_size=min_group_size)
        emit(result, fmt, output, retention_table, inputs=tuple(source.files))
        if chart is not None:
            retention_chart(result, chart)
