"""``shortvid regress``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..options import TERMINAL_MIN_GROUP_SIZE
from . import app
from .common import EventsArg, FormatOpt, FromOpt, MinGroupSizeOpt, OutputOpt, ToOpt, emit, guarded, open_events, state

if TYPE_CHECKING:
    from ..engine import Connection
    from ..regress import Frame, RegressionResult


@app.command()
def regress(
    ctx: typer.Context,
    events: EventsArg,
    unit: Annotated[str, typer.Option("--unit", help="Row of the frame: user | user_video | session.")] = "user_video",
    outcome: Annotated[str, typer.Option("--outcome", help="purchased (0/1) | revenue | orders.")] = "purchased",
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="logit | probit | ols | poisson | negbin; repeat to fit several side by side."),
    ] = None,
    features: Annotated[
        list[str] | None,
        typer.Option("--features", help="Focal terms, comma-separated or repeated (default: the unit's features)."),
    ] = None,
    controls: Annotated[
        list[str] | None,
        typer.Option("--controls", help="Control terms (default: platform and traffic-source dummies; 'none')."),
    ] = None,
    formula: Annotated[
        str | None,
        typer.Option("--formula",
                     help="A full formula (grammar in docs/regress.md); replaces outcome/features/controls."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="Cluster-robust standard errors by this column (creator_id, user_id)."),
    ] = None,
    robust: Annotated[
        str | None, typer.Option("--robust", help="Heteroscedasticity-robust standard errors: HC0|HC1|HC2|HC3.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Fit per level of this column (platform) plus a pooled interaction model."),
    ] = None,
    min_group_size: MinGroupSizeOpt = TERMINAL_MIN_GROUP_SIZE,
    assignments: Annotated[
        Path | None, typer.Option("--assignments", help="Experiment assignments Parquet: adds variant and treated.")
    ] = None,
    experiment: Annotated[
        str | None, typer.Option("--experiment", help="Experiment id in --assignments (needed if it holds several).")
    ] = None,
    window: Annotated[
        str,
        typer.Option("--window", help="user_video: a purchase counts within this time after the first view."),
    ] = "24h",
    save_frame_path: Annotated[
        Path | None, typer.Option("--save-frame", help="Write the modelling frame (.parquet or .csv); user_id and "
                                                       "session_id become keyed pseudonyms (docs/privacy.md).")
    ] = None,
    raw_ids: Annotated[
        bool, typer.Option("--raw-ids", help="--save-frame writes the raw user_id/session_id (no key needed).")
    ] = False,
    table: Annotated[
        Path | None, typer.Option("--table", help="Write the publication table (.md, .tex or .html).")
    ] = None,
    spec: Annotated[
        Path | None, typer.Option("--spec", help="TOML file with several models (see docs/regress.md).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write a coefficient plot (.png, .svg or .pdf).")
    ] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Regress purchase outcomes on engagement: frame built in DuckDB, models fitted with statsmodels.

    Reports coefficients, standard errors, z/t, p, 95% CIs, odds ratios, average marginal effects,
    N, clusters, fit statistics, VIFs and warnings; writes a side-by-side publication table.
    """
    from .. import regress as regress_lib
    from ..files import protect, refuse_input
    from ..options import check_min_group_size
    from ..privacy import pseudonym_key
    from ..regress import Assignments, build_frame, check_frame_path
    from ..regress.spec import from_options
    from ..regress.tables import table_format
    from ..render.charts import chart_format
    from ..render.regress import regression_table

    with guarded(ctx):
        run = from_options(unit=unit, window=window, models=model or [], outcome=outcome, features=features,
                           controls=controls, formula=formula, cluster=cluster, robust=robust, by=by,
                           spec_file=spec, assignments=assignments, experiment=experiment)
        check_min_group_size(min_group_size)  # before the frame is built
        if save_frame_path is not None:
            check_frame_path(save_frame_path)
        table_fmt = table_format(table) if table else None
        chart_fmt = chart_format(chart) if chart else None
        protect(spec, "the regression spec")
        protect(run.assignments, "the assignments file")
        source = open_events(ctx, events, date_from, date_to)
        inputs = (*source.files, *([run.assignments] if run.assignments else []))
        for option, path in (("--save-frame", save_frame_path), ("--table", table), ("--chart", chart)):
            if path is not None:
                refuse_input(path, inputs, option)
        key = None  # --raw-ids: the user asked for the raw identifiers explicitly
        if save_frame_path is not None and not raw_ids:
            key = pseudonym_key(state(ctx).config,
                                alternative="or pass --raw-ids to write raw identifiers into --save-frame")
        frame = build_frame(source, run.unit, run.window,
                            Assignments(run.assignments, run.experiment) if run.assignments else None)
        result = regress_lib.regress(frame, run, source.describe(), min_group_size=min_group_size)
        _write_files(result, frame, source.con, key, save_frame_path,
                     (table, table_fmt) if table and table_fmt else None,
                     (chart, chart_fmt) if chart and chart_fmt else None)
        emit(result, fmt, output, regression_table, inputs=inputs)


def _write_files(result: RegressionResult, frame: Frame, con: Connection, key: bytes | None,
                 save_frame_path: Path | None, table: tuple[Path, str] | None, chart: tuple[Path, str] | None) -> None:
    """--save-frame, --table and --chart (each a path and its format); every output is rendered before the
    first is written, so that a failing one leaves none behind."""
    from ..files import write_bytes_atomic, write_text_atomic
    from ..regress import save_frame
    from ..regress.tables import publication_table
    from ..render.regress import coefficient_chart

    table_text = publication_table(result, table[1]) if table else None
    chart_bytes = coefficient_chart(result, chart[1]) if chart else None
    if save_frame_path is not None:
        save_frame(frame, save_frame_path, key, con)
    if table is not None and table_text is not None:
        write_text_atomic(table[0], table_text, "--table")
    if chart is not None and chart_bytes is not None:
        write_bytes_atomic(chart[0], chart_bytes, "--chart")
