"""``shortvid digest``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ..lock import folder_lock
from ..render.console import stderr_console
from . import app
from .common import EventsArg, FromOpt, ToOpt, guarded, open_events


@app.command()
def digest(
    ctx: typer.Context,
    events: EventsArg,
    out: Annotated[Path, typer.Option("--out", help="Folder for digest-<week>.html/.md/.json (created).")],
    week: Annotated[str, typer.Option("--week", help="ISO week such as 2026-W47, or 'last': the last "
                                                      "complete week of the data.")] = "last",
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                          "%Y-%m-%d"],
                     help="Pin 'generated_at' (UTC unless an offset is given; default: now) for "
                          "byte-identical output."),
    ] = None,
    allow_partial: Annotated[
        bool, typer.Option("--allow-partial", help="Build the digest of a week with missing days too.")
    ] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Breakdown column (default: platform, when the export has it).")
    ] = None,
    top_movers: Annotated[int, typer.Option("--top-movers", help="Creators/products listed per direction.")] = 5,
    min_group_size: Annotated[
        int | None,
        typer.Option("--min-group-size", help="Suppress breakdown values and movers with fewer distinct users "
                                              "(default: \\[privacy] min_group_size of the config, 5).",
                     show_default=False),
    ] = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Weekly KPI digest for cron: the week against the previous one and the trailing weeks, by platform,
    top GMV movers and anomaly flags, written as HTML, Markdown and JSON into --out (docs/digest.md).

    Exit codes: 0 written, 1 bad input, 2 bad option, 3 no or partial data in the week, 75 --out is locked.

    Logs go to stderr, the written paths to stdout.
    """
    from .. import digest as digest_lib
    from ..files import check_destination, protect_events
    from ..render.digest import write_digest

    log = stderr_console()
    with guarded(ctx):
        digest_lib.parse_week_option(week)
        digest_lib.refuse_identifier(by)
        protect_events(events)  # --out inside the input folder is refused before the lock file goes there
        check_destination(out, "--out")
        with folder_lock(out, "digest"):
            source = open_events(ctx, events, date_from, date_to)
            log.print(f"digest: {len(source.files)} file(s) from {source.path}", markup=False)
            result = digest_lib.digest(source, week, as_of=as_of, allow_partial=allow_partial, by=by,
                                  top_movers=top_movers, min_group_size=min_group_size)
            state = "complete" if result.week["complete"] else "PARTIAL"
            log.print(f"digest: week {result.week['label']} ({state}), "
                      f"{len(result.anomalies)} anomaly flag(s)", markup=False)
            paths = write_digest(result, out)
        for path in paths:
            typer.echo(str(path))
