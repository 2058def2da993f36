"""What every command shares: options, opening the events source, error handling, output."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..config import Config
from ..errors import ShortvidError
from ..render.console import stderr_console, stdout_console

if TYPE_CHECKING:  # imported where used, so that start-up does not load DuckDB and polars
    from ..results import AnalysisResult
    from ..source import EventSource

# Exit codes beyond 0/1/2 are part of the cron contract.
EXIT_INTERNAL = 70


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


@dataclass
class AppState:
    """Global options, stored on the typer context."""

    config: Config
    debug: bool = False


EventsArg = Annotated[
    str,
    typer.Argument(help="Events: a Parquet file, a glob (quote it) or a hive-partitioned folder.",
                   show_default=False),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.")
]
FromOpt = Annotated[
    datetime | None,
    typer.Option("--from", formats=["%Y-%m-%d"], help="First day (inclusive, configured time zone)."),
]
ToOpt = Annotated[
    datetime | None,
    typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (inclusive, configured time zone)."),
]
PeriodOpt = Annotated[str, typer.Option("--period", help="Calendar period: day, week (ISO, from Monday) or month.")]
ActiveEventOpt = Annotated[
    str, typer.Option("--event", help="Event selector that makes a user active, e.g. video_view or "
                                      "purchase[platform=douyin].")
]
MinGroupSizeOpt = Annotated[
    int,
    typer.Option("--min-group-size", help="Suppress groups with fewer than this many distinct users: pooled "
                                          "into one row, left out of rankings (1 = show all; docs/privacy.md)."),
]
ChartOpt = Annotated[
    Path | None, typer.Option("--chart", help="Also draw the result to this .png/.svg/.pdf file (atomically).")
]


def active_users_command(
    compute: Callable[..., AnalysisResult],
    table: Callable[[AnalysisResult], Any],
    draw: Callable[[AnalysisResult, Path], None],
) -> Callable[..., None]:
    """The command of an analysis of the users active per calendar period (``lifecycle``, ``stickiness``):
    ``--event``, ``--period``, ``--chart`` and the output options, then ``compute(source, spec, period=...)``
    shown with ``table`` (and drawn with ``draw`` into ``--chart``). Register it with ``app.command(name,
    help=...)``."""

    def command(
        ctx: typer.Context,
        events: EventsArg,
        event: ActiveEventOpt = "video_view",
        period: PeriodOpt = "week",
        chart: ChartOpt = None,
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = None,
        date_from: FromOpt = None,
        date_to: ToOpt = None,
    ) -> None:
        from ..eventspec import EventSpec
        from ..periods import parse_period
        from ..render.charts import chart_format

        with guarded(ctx):
            if chart is not None:
                chart_format(chart)
            spec, period_value = EventSpec.parse(event), parse_period(period)
            source = open_events(ctx, events, date_from, date_to)
            result = compute(source, spec, period=period_value)
            emit(result, fmt, output, table, inputs=tuple(source.files))
            if chart is not None:
                draw(result, chart)

    return command


def state(ctx: typer.Context) -> AppState:
    """The global options of this invocation."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(config=Config())
    return root.obj


@contextlib.contextmanager
def guarded(ctx: typer.Context) -> Iterator[None]:
    """Turn expected errors into one line on stderr and an exit code; tracebacks only with --debug."""
    debug = state(ctx).debug
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except ShortvidError as exc:
        if debug:
            raise
        for line in str(exc).splitlines() or [type(exc).__name__]:
            stderr_console().print(f"error: {line}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    except Exception as exc:
        if debug:
            raise
        if _is_duckdb_error(exc):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            stderr_console().print(f"error: query failed: {first}", markup=False)
            raise typer.Exit(1) from None
        # a bug: say so in one line, keep the traceback for --debug
        stderr_console().print(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", markup=False
        )
        raise typer.Exit(EXIT_INTERNAL) from None


def _is_duckdb_error(exc: Exception) -> bool:
    """A failed query (bad data reaching DuckDB) rather than a bug; anything else is an internal error."""
    duckdb = sys.modules.get("duckdb")  # no DuckDB error can arise before DuckDB is imported
    return duckdb is not None and isinstance(exc, duckdb.Error)


def open_events(ctx: typer.Context, path: str, date_from: datetime | None = None,
                date_to: datetime | None = None) -> EventSource:
    """Open the events source with the global config and the --from/--to range."""
    from ..source import EventSource

    return EventSource.open(
        path,
        config=state(ctx).config,
        date_from=_as_date(date_from),
        date_to=_as_date(date_to),
    )


def _as_date(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def warn(warnings: list[str]) -> None:
    """Each warning as one ``warning: ...`` line on stderr (whatever the format of the result on stdout)."""
    for warning in warnings:
        stderr_console().print(f"warning: {warning}", markup=False)


def emit(
    result: AnalysisResult,
    fmt: OutputFormat,
    output: Path | None,
    table: Callable[[AnalysisResult], Any],
    inputs: tuple[str, ...] = (),
) -> None:
    """Render ``result``: a rich table on stdout, or JSON/CSV/Parquet to ``output`` or stdout."""
    from ..render.export import refuse_input, write_result, write_text_atomic

    if fmt is OutputFormat.table:
        renderable = table(result)
        if output is not None:
            refuse_input(output, inputs, "--output")
            console = stdout_console()
            with console.capture() as capture:
                console.print(renderable)
            write_text_atomic(output, capture.get())
        else:
            stdout_console().print(renderable)
        return
    write_result(result, fmt.value, output, stdout=sys.stdout, protected=inputs)
