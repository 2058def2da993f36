"""What every command shares: options, opening the events source, error handling, output."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ..config import Config
from ..errors import OptionError, ShortvidError, first_line
from ..options.declare import REQUIRED, OptionSpec, declared, flag_of
from ..options.shared import MIN_GROUP_SIZE_HELP
from ..render.console import file_console, stderr_console, stdout_console

if TYPE_CHECKING:  # imported where used, so that start-up does not load DuckDB and polars
    from ..results import AnalysisResult
    from ..source import EventSource

# Exit codes beyond 0/1/2 are part of the cron contract.
EXIT_INTERNAL = 70


class OutputFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"
    csv = "csv"
    parquet = "parquet"


#: The format each ``-o`` file extension stands for (``.txt``: the table as plain text).
EXTENSION_FORMATS: dict[str, OutputFormat] = {
    ".txt": OutputFormat.table, ".md": OutputFormat.markdown, ".json": OutputFormat.json,
    ".csv": OutputFormat.csv, ".parquet": OutputFormat.parquet,
}


def output_format(fmt: OutputFormat | None, output: Path | None) -> OutputFormat:
    """``-f``, else the format of ``-o``'s extension, else the table; a ``-f`` that contradicts the extension
    is an error (``-o kpi.csv -f json`` would write JSON into a .csv file)."""
    implied = EXTENSION_FORMATS.get(output.suffix.lower()) if output is not None else None
    if output is not None and implied is None and fmt is None and output.suffix:
        known = ", ".join(EXTENSION_FORMATS)
        raise OptionError(f"-o {output}: cannot tell the format from {output.suffix!r}; use {known} or pass -f")
    if fmt is not None and implied is not None and output is not None and fmt is not implied:
        raise OptionError(f"-f {fmt.value} contradicts -o {output} (a {output.suffix} file is {implied.value}); "
                          "drop one of them")
    return fmt or implied or OutputFormat.table


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
FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option("--format", "-f", show_default=False,
                 help="Output format (default: from the -o extension .txt .md .json .csv .parquet, else table)."),
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.")
]
FromOpt = Annotated[
    datetime | None,
    typer.Option("--from", formats=["%Y-%m-%d"], metavar="YYYY-MM-DD",
                 help="First day (inclusive, configured time zone)."),
]
ToOpt = Annotated[
    datetime | None,
    typer.Option("--to", formats=["%Y-%m-%d"], metavar="YYYY-MM-DD",
                 help="Last day (inclusive, configured time zone)."),
]
MinGroupSizeOpt = Annotated[int, typer.Option("--min-group-size", help=MIN_GROUP_SIZE_HELP)]
ChartOpt = Annotated[
    Path | None, typer.Option("--chart", help="Also draw the result to this .png/.svg/.pdf file (atomically).")
]


def active_users_command(
    options_class: type,
    analysis: Callable[[], tuple[Callable[..., AnalysisResult], Callable[[AnalysisResult], Any],
                                 Callable[[AnalysisResult, Path], None]]],
) -> Callable[..., None]:
    """The command of an analysis of the users active per calendar period (``lifecycle``, ``stickiness``):
    the fields of ``options_class`` (``--event``, ``--period``), ``--chart`` and the output options, then
    ``run(source, options)`` shown with ``table`` (and drawn with ``draw`` into ``--chart``), where
    ``analysis()`` imports and returns ``(run, table, draw)`` when the command runs. Register it with
    ``app.command(name, help=...)``."""

    @options_command(options_class)
    def command(
        ctx: typer.Context,
        events: EventsArg,
        options: Any,
        chart: ChartOpt = None,
        fmt: FormatOpt = None,
        output: OutputOpt = None,
        date_from: FromOpt = None,
        date_to: ToOpt = None,
    ) -> None:
        from ..render.charts import chart_format

        run, table, draw = analysis()
        with guarded(ctx):
            if chart is not None:
                chart_format(chart)
            source = open_events(ctx, events, date_from, date_to)
            result = run(source, options)
            emit(result, fmt, output, table, inputs=tuple(source.files))
            if chart is not None:
                draw(result, chart)

    return command


#: The type the command line reads for each :attr:`OptionSpec.kind` (``list`` is one comma-separated string).
_CLI_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "datetime": datetime,
                               "list": str, "strs": str}


def options_command(options_class: type) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command whose options are the fields of ``options_class`` (an options dataclass, ``options/``).

    The decorated function declares a parameter ``options`` where those fields go in the command's
    signature (and ``--help``), beside the arguments and CLI-only options it declares itself; it is called
    with ``options`` set to the dataclass built from the given values, parsed and checked before any work
    (an error names the flag). Fields with ``cli=False`` stay at their defaults.
    """
    fields = [(f, spec) for f, spec in declared(options_class) if spec.cli]

    def decorate(body: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(body, eval_str=True)
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            if parameter.name == "options":
                parameters += [_cli_parameter(f, spec) for f, spec in fields]
            else:
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        def command(**values: Any) -> None:
            given = {f.name: _plain(values.pop(f.name)) for f, _ in fields}
            with guarded(values["ctx"]):
                options = options_class(**{name: value for name, value in given.items() if value is not None})
            body(**values, options=options)

        command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        command.__name__, command.__qualname__, command.__doc__ = body.__name__, body.__qualname__, body.__doc__
        command.__module__ = body.__module__
        return command

    return decorate


def _cli_parameter(field: dataclasses.Field[Any], spec: OptionSpec) -> inspect.Parameter:
    """The typer parameter of one option field: its flag, help, metavar, choices and default."""
    value_type: Any = _CLI_TYPES[spec.kind]
    if spec.choices:
        value_type = _choice_type(field.name, spec.choices)
    if spec.kind == "strs":
        value_type = list[value_type]
    default = None if spec.kind == "strs" and field.default is not REQUIRED else field.default
    if default is None:
        value_type = value_type | None
    decls = [flag_of(field.name, spec), *([spec.short] if spec.short else [])]
    info = typer.Option(*decls, help=spec.help, metavar=spec.metavar, show_default=spec.show_default,
                        formats=list(spec.formats) if spec.formats else None)
    return inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[value_type, info],
                             default=inspect.Parameter.empty if default is REQUIRED else default)


def _choice_type(name: str, choices: tuple[str, ...]) -> Any:
    """The Enum through which typer offers ``choices`` (each member's value is the choice's text)."""
    return Enum(f"{name}_choice", {choice: choice for choice in choices}, type=str)


def _plain(value: Any) -> Any:
    """A value as typed on the command line (a choice as its text), as the options dataclass parses it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def shown_error(exc: ShortvidError, ctx: typer.Context) -> str:
    """The error's message, an option named by the library shown as this command's flag (``--by-limit``)."""
    if not isinstance(exc, OptionError) or not exc.option:
        return str(exc)
    flags = {param.name: param.opts[0] for param in ctx.command.params if param.opts[0].startswith("-")}
    return exc.shown_as(flags.get(exc.option, exc.option))


def state(ctx: typer.Context) -> AppState:
    """The global options of this invocation."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(config=Config())
    return root.obj


@contextlib.contextmanager
def guarded(ctx: typer.Context) -> Iterator[None]:
    """Turn expected errors into one line on stderr and an exit code; tracebacks only with --debug.

    Also the output guard of the command: the config and everything the command reads (events, specs,
    assignments) are inputs that no write inside the block may replace (:mod:`..files`).
    """
    from ..files import guarding, protect

    debug = state(ctx).debug
    try:
        with guarding():
            config_path = state(ctx).config.path
            if config_path is not None and Path(config_path).is_file():
                protect(config_path, "the config file")
            yield
    except (typer.Exit, typer.Abort):
        raise
    except ShortvidError as exc:
        if debug:
            raise
        # several problems found at once still make one line: scripts and cron logs read one error per run
        problems = [line.strip() for line in shown_error(exc, ctx).splitlines() if line.strip()] or [type(exc).__name__]
        stderr_console().print(f"error: {'; '.join(problems)}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    except Exception as exc:
        if debug:
            raise
        line, code = _unexpected_error(exc)
        stderr_console().print(line, markup=False)
        raise typer.Exit(code) from None


def _unexpected_error(exc: Exception) -> tuple[str, int]:
    """The line and exit code of an error that is not a :class:`ShortvidError`."""
    if isinstance(exc, OSError):
        # the file system (a folder in the way, permission, no space): the user's to fix, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        return f"error: {where}{exc.strerror or exc}", 1
    if _is_duckdb_error(exc):
        return f"error: query failed: {first_line(exc)}", 1
    # a bug: say so in one line, keep the traceback for --debug
    return f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", EXIT_INTERNAL


def _is_duckdb_error(exc: Exception) -> bool:
    """A failed query (bad data reaching DuckDB) rather than a bug; anything else is an internal error."""
    duckdb = sys.modules.get("duckdb")  # no DuckDB error can arise before DuckDB is imported
    return duckdb is not None and isinstance(exc, duckdb.Error)


def open_events(ctx: typer.Context, path: str, date_from: datetime | None = None,
                date_to: datetime | None = None, announce: bool = True) -> EventSource:
    """Open the events source with the global config and the --from/--to range; its warnings (rows left
    out) go to stderr unless ``announce`` is false (a command that reports them in its result).

    Then the command's ``-o``/``--chart`` are checked against the inputs, so that a destination that would
    overwrite one is refused before the analysis runs, not after (the write refuses it too).
    """
    from ..files import check_destination
    from ..source import EventSource

    source = EventSource.open(
        path,
        config=state(ctx).config,
        date_from=_as_date(date_from),
        date_to=_as_date(date_to),
    )
    for param, option in (("output", "--output"), ("chart", "--chart")):
        destination = ctx.params.get(param)
        if isinstance(destination, (str, Path)):
            check_destination(destination, option)
    if announce:
        warn(source.warnings)
    return source


def _as_date(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def warn(warnings: list[str]) -> None:
    """Each warning as one ``warning: ...`` line on stderr (whatever the format of the result on stdout)."""
    for warning in warnings:
        stderr_console().print(f"warning: {warning}", markup=False)


ResultT = TypeVar("ResultT", bound="AnalysisResult")  # emit's table renderer takes the result's own type


def emit(
    result: ResultT,
    fmt: OutputFormat | None,
    output: Path | None,
    table: Callable[[ResultT], Any],
    inputs: tuple[str, ...] = (),
) -> None:
    """Render ``result``: a rich table on stdout; the table as text or Markdown, or JSON/CSV/Parquet, to
    ``output`` or stdout (the format from ``-f`` or ``output``'s extension)."""
    from ..render.export import check_destination, write_result, write_text_atomic

    chosen = output_format(fmt, output)
    if chosen is OutputFormat.table and output is None:
        stdout_console().print(table(result))
        return
    if chosen in (OutputFormat.table, OutputFormat.markdown):
        if output is None:
            sys.stdout.write(table_text(table(result), chosen))
            return
        check_destination(output, "--output", inputs)
        write_text_atomic(output, table_text(table(result), chosen), "--output")
        return
    write_result(result, chosen.value, output, stdout=sys.stdout, protected=inputs)


def table_text(renderable: Any, fmt: OutputFormat) -> str:
    """The terminal table as plain text (no colour codes) or as Markdown."""
    if fmt is OutputFormat.markdown:
        from ..render.markdown import markdown_text

        return markdown_text(renderable)
    console = file_console()
    with console.capture() as capture:
        console.print(renderable)
    # rich pads every line to the console width; a file keeps the text only
    return "".join(line.rstrip() + "\n" for line in capture.get().splitlines())
