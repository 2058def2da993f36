"""``shortvid paths``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..options.paths import PathsOptions
from . import app
from .common import EventsArg, FormatOpt, FromOpt, OutputOpt, ToOpt, emit, guarded, open_events, options_command


@app.command()
@options_command(PathsOptions)
def paths(
    ctx: typer.Context,
    events: EventsArg,
    options: PathsOptions,
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
    from .. import paths as paths_lib
    from ..render.charts import chart_format
    from ..render.paths import paths_table, write_sankey

    with guarded(ctx):
        source = open_events(ctx, events, date_from, date_to)
        if chart is not None:
            chart_format(chart)  # fail before the work, not after
        result = paths_lib.run(source, options)
        if chart is not None:
            write_sankey(result, chart)
        emit(result, fmt, output, paths_table, inputs=tuple(source.files))
