"""``shortvid attribution``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..options import TERMINAL_MIN_GROUP_SIZE
from . import app
from .common import EventsArg, FormatOpt, FromOpt, MinGroupSizeOpt, OutputOpt, ToOpt, emit, guarded, open_events


@app.command()
def attribution(
    ctx: typer.Context,
    events: EventsArg,
    touch: Annotated[str, typer.Option("--touch", help="Touch events (selector; any-of with |).")] = "video_view",
    conversion: Annotated[str, typer.Option("--conversion", help="Conversion events (selector).")] = "purchase",
    window: Annotated[str, typer.Option("--window", help="Lookback before each conversion, e.g. 7d.")] = "7d",
    model: Annotated[str, typer.Option(
        "--model", help="last | first | linear | time_decay[:half_life] | platform.")] = "last",
    by: Annotated[str, typer.Option(
        "--by", help="Credit groups: creator_id, video_id, traffic_source, platform or another column.")
    ] = "creator_id",
    same_product: Annotated[bool, typer.Option(
        "--same-product", help="Only touches carrying the conversion's product_id.")] = False,
    top: Annotated[int, typer.Option("--top", help="Groups to list (0: all); the rest are summed.")] = 20,
    min_group_size: MinGroupSizeOpt = TERMINAL_MIN_GROUP_SIZE,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Credit each conversion's order and GMV to the creators / videos / sources of its touches.
    See docs/attribution.md."""
    from ..attribution import attribution as compute_attribution
    from ..render.attribution import attribution_table

    with guarded(ctx):
        source = open_events(ctx, events, date_from, date_to)
        result = compute_attribution(source, touch=touch, conversion=conversion, window=window, model=model,
                                     by=by, same_product=same_product, top=top or None,
                                     min_group_size=min_group_size)
        emit(result, fmt, output, attribution_table, inputs=tuple(source.files))
