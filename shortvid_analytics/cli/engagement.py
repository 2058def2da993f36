"""``shortvid engagement``."""

from __future__ import annotations

import typer

from ..options.engagement import EngagementOptions
from . import app
from .common import EventsArg, FormatOpt, FromOpt, OutputOpt, ToOpt, emit, guarded, open_events, options_command, warn


@app.command()
@options_command(EngagementOptions)
def engagement(
    ctx: typer.Context,
    events: EventsArg,
    options: EngagementOptions,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Engagement and commerce KPIs per video, creator, product, platform or traffic source, with 95% intervals.

    Each event counts for the group on its own row (a purchase: the creator, video and product it carries).

    Definitions: docs/engagement.md and docs/kpi.md.
    """
    from .. import engagement as engagement_lib
    from ..render.engagement import engagement_table

    with guarded(ctx):
        source = open_events(ctx, events, date_from, date_to)
        result = engagement_lib.run(source, options)
        emit(result, fmt, output, engagement_table, inputs=tuple(source.files))
        warn(result.warnings)
