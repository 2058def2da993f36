"""``shortvid kpi``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..options import TERMINAL_MIN_GROUP_SIZE
from . import app
from .common import EventsArg, FormatOpt, FromOpt, MinGroupSizeOpt, OutputOpt, ToOpt, emit, guarded, open_events, warn


@app.command()
def kpi(
    ctx: typer.Context,
    events: EventsArg,
    period: Annotated[str, typer.Option("--period", help="day, week (ISO, Monday) or month.")] = "week",
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Also break down by this column (repeatable), e.g. platform."),
    ] = None,
    min_group_size: MinGroupSizeOpt = TERMINAL_MIN_GROUP_SIZE,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """The KPI table per day, week or month: views, engagement, conversion, orders, GMV, AOV, GPM,
    refund rate, DAU/WAU/MAU and stickiness. Definitions: docs/kpi.md."""
    from ..kpi import kpi_table as compute_kpis
    from ..periods import parse_period
    from ..render.kpi import kpi_table

    with guarded(ctx):
        chosen = parse_period(period)
        source = open_events(ctx, events, date_from, date_to)
        result = compute_kpis(source, chosen, by or [], min_group_size=min_group_size)
        emit(result, fmt, output, kpi_table, inputs=tuple(source.files))
        warn(result.warnings)
