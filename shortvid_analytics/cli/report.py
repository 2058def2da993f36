"""``shortvid report``: a case-study report (HTML, PDF or JSON) from a TOML spec."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..render.console import stderr_console
from . import app
from .common import EventsArg, guarded, state, warn


class ReportFormat(str, Enum):
    html = "html"
    pdf = "pdf"
    json = "json"


AsOfOpt = Annotated[
    datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
                 help="Generation time (UTC) written into the report; pin it for byte-identical HTML/JSON."),
]
AssignmentsOpt = Annotated[
    Path | None,
    typer.Option("--assignments", help="Experiment assignments Parquet (for `ab` sections)."),
]


@app.command()
def report(
    ctx: typer.Context,
    events: EventsArg,
    spec: Annotated[Path, typer.Option("--spec", help="Report spec (TOML): title, authors, sections.")],
    out: Annotated[list[Path], typer.Option("--out", "-o", help="Output file: .html, .pdf or .json; repeat it "
                                            "to write several formats from one build.")],
    fmt: Annotated[
        ReportFormat | None,
        typer.Option("--format", "-f", help="Output format (default: from the --out suffix)."),
    ] = None,
    as_of: AsOfOpt = None,
    assignments: AssignmentsOpt = None,
) -> None:
    """Build a case-study report: each spec section runs its analysis and shows tables, figures and a
    plain-language reading; an appendix lists definitions, inputs (SHA-256), versions and the SQL.

    The spec is validated completely before any analysis runs. HTML is one self-contained file;
    PDF is the same HTML rendered by WeasyPrint; JSON holds every number of the report.
    """
    # Imported here: matplotlib, Jinja2 and the sections would slow every other command's start-up.
    from ..files import check_destination, protect, protect_events
    from ..report import build_report, load_spec, output_format, write_report

    with guarded(ctx):
        protect(spec, "the report spec")
        protect(assignments, "the assignments file")
        protect_events(events)  # the sections open it later; refuse an --out over it before any work
        report_spec = load_spec(spec)
        formats = [output_format(path, fmt.value if fmt else None) for path in out]
        for path in out:
            check_destination(path, "--out")
        built = build_report(events, report_spec, config=state(ctx).config, as_of=as_of, assignments=assignments)
        warn(built.warnings)
        for path, fmt_name in zip(out, formats, strict=True):
            write_report(built, path, fmt_name, option="--out")
            stderr_console().print(f"wrote {path} ({fmt_name}, {len(built.sections)} sections)", markup=False)

