"""``shortvid paths``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..options import MAX_STEPS, TERMINAL_MIN_GROUP_SIZE
from . import app
from .common import EventsArg, FormatOpt, FromOpt, MinGroupSizeOpt, OutputOpt, ToOpt, emit, guarded, open_events


@app.command()
def paths(
    ctx: typer.Context,
    events: EventsArg,
    start: Annotated[str | None, typer.Option("--start", help="Paths after this event selector.",
                                              show_default=False)] = None,
    end: Annotated[str | None, typer.Option(
        "--end", help="Paths before this event; with --start: the conversion event.", show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", help=f"Steps per path, the anchor included (1..{MAX_STEPS}).")] = 5,
    top: Annotated[int, typer.Option("--top", help="Sequences to list.")] = 20,
    min_group_size: MinGroupSizeOpt = TERMINAL_MIN_GROUP_SIZE,
    collapse_repeats: Annotated[bool, typer.Option(
        "--collapse-repeats", help="Consecutive equal events are one step (video_view×3).")] = False,
    session: Annotated[bool, typer.Option("--session", help="One path per session, bounded by the session.")] = False,
    window: Annotated[str | None, typer.Option(
        "--window", help="How far a path reaches from its anchor (default 24h; not with --session).",
        show_default=False)] = None,
    chart: Annotated[Path | None, typer.Option(
        "--chart", help="Also draw a Sankey-style flow of the top paths to this .png/.svg/.pdf file.",
        show_default=False)] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Most frequent event sequences after a start event or before an end event, with conversion,
    a transition matrix and a step matrix. See docs/paths.md."""
    from ..paths import paths as compute_paths
    from ..render.charts import chart_format
    from ..render.paths import paths_table, write_sankey

    with guarded(ctx):
        source = open_events(ctx, events, date_from, date_to)
        if chart is not None:
            chart_format(chart)  # fail before the work, not after
        result = compute_paths(source, start=start, end=end, steps=steps, top=top,
                               collapse_repeats=collapse_repeats, session=session, window=window,
                               min_group_size=min_group_size)
        if chart is not None:
            write_sankey(result, chart)
        emit(result, fmt, output, paths_table, inputs=tuple(source.files))
