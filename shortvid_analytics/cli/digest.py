"""``shortvid digest``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..lock import folder_lock
from ..options.digest import DigestOptions
from ..render.console import stderr_console
from . import app
from .common import EventsArg, FromOpt, ToOpt, guarded, open_events, options_command


@app.command()
@options_command(DigestOptions)
def digest(
    ctx: typer.Context,
    events: EventsArg,
    out: Annotated[Path, typer.Option("--out", help="Folder for digest-<week>.html/.md/.json (created).")],
    options: DigestOptions,
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
        protect_events(events)  # --out inside the input folder is refused before the lock file goes there
        check_destination(out, "--out")
        with folder_lock(out, "digest"):
            source = open_events(ctx, events, date_from, date_to)
            log.print(f"digest: {len(source.files)} file(s) from {source.path}", markup=False)
            result = digest_lib.run(source, options)
            state = "complete" if result.week["complete"] else "PARTIAL"
            log.print(f"digest: week {result.week['label']} ({state}), "
                      f"{len(result.anomalies)} anomaly flag(s)", markup=False)
            paths = write_digest(result, out)
        for path in paths:
            typer.echo(str(path))
