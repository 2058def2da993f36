"""``shortvid kpi``."""

from __future__ import annotations

import typer

from ..options.kpi import KpiOptions
from . import app
from .common import EventsArg, FormatOpt, FromOpt, OutputOpt, ToOpt, emit, guarded, open_events, options_command, warn


@app.command()
@options_command(KpiOptions)
def kpi(
    ctx: typer.Context,
    events: EventsArg,
    options: KpiOptions,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """The KPI table per day, week or month: views, engagement, conversion, orders, GMV, AOV, GPM,
    refund rate, DAU/WAU/MAU and stickiness. Definitions: docs/kpi.md."""
    from .. import kpi as kpi_lib
    from ..render.kpi import kpi_table

    with guarded(ctx):
        source = open_events(ctx, events, date_from, date_to)
        result = kpi_lib.run(source, options)
        emit(result, fmt, output, kpi_table, inputs=tuple(source.files))
        warn(result.warnings)
