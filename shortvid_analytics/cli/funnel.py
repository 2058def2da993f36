"""``shortvid funnel``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..options import DEFAULT_BY_LIMIT, TERMINAL_MIN_GROUP_SIZE, FunnelOrder
from . import app
from .common import EventsArg, FormatOpt, FromOpt, MinGroupSizeOpt, OutputOpt, ToOpt, emit, guarded, open_events


class TrendPeriod(str, Enum):
    day = "day"
    week = "week"


@app.command()
def funnel(
    ctx: typer.Context,
    events: EventsArg,
    steps: Annotated[
        str,
        typer.Option("--steps", help="Comma-separated steps, e.g. video_view,product_click,add_to_cart|checkout,"
                                     "purchase[platform=douyin].", show_default=False),
    ],
    window: Annotated[
        str, typer.Option("--window", help="Conversion window from the step-1 event: 30m, 24h, 7d, ...")
    ] = "24h",
    order: Annotated[
        FunnelOrder,
        typer.Option("--order", help="ordered: steps in order, other events allowed between; strict: no other "
                                     "event between; unordered: steps in any order."),
    ] = FunnelOrder.ordered,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Remove users doing this event between step 1 and their last step "
                                       "(repeatable)."),
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Break down by this property of the step-1 event.")] = None,
    by_limit: Annotated[
        int, typer.Option("--by-limit", help="Breakdown values kept (most entrants first); the rest pooled as "
                                             "'other'. 0 keeps all.")
    ] = DEFAULT_BY_LIMIT,
    min_group_size: MinGroupSizeOpt = TERMINAL_MIN_GROUP_SIZE,
    hold: Annotated[
        str | None, typer.Option("--hold", help="Property that must keep the step-1 value on every step, "
                                                "e.g. product_id.")
    ] = None,
    trends: Annotated[
        TrendPeriod | None, typer.Option("--trends", help="Also compute the funnel per entry day or week.")
    ] = None,
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
    from ..funnel import funnel as compute_funnel
    from ..render.charts import chart_format
    from ..render.funnel import funnel_table, write_funnel_chart

    with guarded(ctx):
        if chart is not None:
            chart_format(chart)
        source = open_events(ctx, events, date_from, date_to)
        result = compute_funnel(source, steps, window, order=order, exclude=exclude or [], by=by,
                                by_limit=by_limit, hold=hold, trends=trends.value if trends else None,
                                min_group_size=min_group_size)
        emit(result, fmt, output, funnel_table, inputs=tuple(source.files))
        if chart is not None:
            write_funnel_chart(result, chart)
