"""``shortvid engagement``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..kpi_definitions import INTERVAL_KEYS, SORT_KEYS
from ..options import TERMINAL_MIN_GROUP_SIZE
from . import app
from .common import EventsArg, FormatOpt, FromOpt, MinGroupSizeOpt, OutputOpt, ToOpt, emit, guarded, open_events, warn


@app.command()
def engagement(
    ctx: typer.Context,
    events: EventsArg,
    by: Annotated[
        list[str],
        typer.Option("--by", help="Group by this column (repeatable): video_id, creator_id, product_id, "
                                  "platform, traffic_source or any other dimension of the export."),
    ],
    top: Annotated[int, typer.Option("--top", help="Show this many groups.")] = 20,
    min_views: Annotated[int, typer.Option("--min-views", help="Only groups with at least this many views.")] = 0,
    sort: Annotated[str, typer.Option("--sort", help=f"Rank by this KPI (largest first): {', '.join(SORT_KEYS)}.")]
    = "views",
    rank_by_lower_bound: Annotated[
        bool,
        typer.Option("--rank-by-lower-bound",
                     help=f"Rank by the lower end of the 95% interval ({', '.join(INTERVAL_KEYS)}).")
    ] = False,
    min_group_size: MinGroupSizeOpt = TERMINAL_MIN_GROUP_SIZE,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Engagement and commerce KPIs per video, creator, product, platform or traffic source, with 95% intervals.

    Each event counts for the group on its own row (a purchase: the creator, video and product it carries).

    Definitions: docs/engagement.md and docs/kpi.md.
    """
    from ..engagement import engagement as engagement_kpis
    from ..render.engagement import engagement_table

    with guarded(ctx):
        source = open_events(ctx, events, date_from, date_to)
        result = engagement_kpis(source, by, top=top, min_views=min_views, sort=sort,
                                 rank_by_lower_bound=rank_by_lower_bound, min_group_size=min_group_size)
        emit(result, fmt, output, engagement_table, inputs=tuple(source.files))
        warn(result.warnings)
