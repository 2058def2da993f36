"""``shortvid report``: a case-study report (HTML, PDF or JSON) from a TOML spec."""

from __future__ import annotations

import os
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import OptionError
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
    from ..report import build_report, load_spec, output_format, write_report

    with guarded(ctx):
        report_spec = load_spec(spec)
        formats = [output_format(path, fmt.value if fmt else None) for path in out]
        for path in out:
            protect_inputs(path, [spec, assignments, *([Path(events)] if os.path.isfile(events) else [])])
        built = build_report(events, report_spec, config=state(ctx).config, as_of=as_of, assignments=assignments)
        warn(built.warnings)
        for path, fmt_name in zip(out, formats, strict=True):
            write_report(built, path, fmt_name)
            stderr_console().print(f"wrote {path} ({fmt_name}, {len(built.sections)} sections)", markup=False)


def protect_inputs(out: Path, inputs: list[Path | None]) -> None:
    """Refuse an output path that is one of the inputs."""
    target = os.path.realpath(out)
    for path in inputs:
        if path is not None and os.path.realpath(path) == target:
            raise OptionError(f"--out {out} is one of the inputs; refusing to overwrite it")
