"""The ``shortvid`` command line: a thin layer of option parsing over the library functions.

Each command lives in its own module in this package and registers itself on :data:`app` when imported.
A command's module (and with it DuckDB, polars, matplotlib, statsmodels, ...) is imported only when that
command runs or help lists it, so ``shortvid --version`` and every command start quickly.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from typer._click import Command as ClickCommand
from typer._click import Context as ClickContext  # the context type typer's command hooks are declared with
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from .. import __version__, progress
from ..config import Config
from ..errors import OptionError, ShortvidError
from ..options import MAX_COUNT
from ..render.console import stderr_console
from .common import AppState, output_format


@dataclass(frozen=True)
class CommandEntry:
    """A command as the root help lists it, without importing the module that defines it.

    ``example`` is a small complete invocation: the arguments after the command name, with ``EVENTS``,
    ``OUT`` (a new folder), ``ASSIGNMENTS`` and ``SPEC`` standing for files of the user's; the hostile-input
    test matrix runs every registered command through it, so a new command joins the matrix by being
    registered here.
    """

    module: str
    summary: str
    example: str


#: Every command, in the order help lists them: the module of this package that registers it, the one-line
#: summary of the command list (the command's own help is its docstring) and an example invocation.
COMMANDS: dict[str, CommandEntry] = {
    "validate": CommandEntry("validate", "Check an export: rows, time range, events, users, nulls, duplicates.",
                             "EVENTS"),
    "anonymize": CommandEntry("anonymize", "Write a shareable copy: keyed-hash ids, optional time coarsening.",
                              "EVENTS --out OUT"),
    "funnel": CommandEntry("funnel", "Users reaching each step within the window; conversion, drop-off, time.",
                           "EVENTS --steps video_view,product_click,purchase --window 24h"),
    "retention": CommandEntry("retention", "Cohort retention triangle and the overall retention curve.",
                              "EVENTS --start video_view --period day --periods 4"),
    "lifecycle": CommandEntry("lifecycle", "New, returning, resurrecting and dormant users per period.",
                              "EVENTS --period day"),
    "stickiness": CommandEntry("stickiness", "Users by active days per week or month; DAU/MAU stickiness.",
                               "EVENTS"),
    "engagement": CommandEntry("engagement", "Engagement and commerce KPIs per creator, video, product, ...",
                               "EVENTS --by creator_id"),
    "kpi": CommandEntry("kpi", "The KPI table per day, week or month (DAU/WAU/MAU, GMV, conversion, ...).",
                        "EVENTS --period day"),
    "digest": CommandEntry("digest", "Weekly KPI digest for cron: HTML, Markdown and JSON.",
                           "EVENTS --out OUT --allow-partial"),
    "ab": CommandEntry("ab", "A/B experiments: analyse (SRM, lift, CUPED, sequential) or plan (power).",
                       "EVENTS --assignments ASSIGNMENTS --metric conversion:purchase"),
    "regress": CommandEntry("regress", "Regress purchase outcomes on engagement; publication tables.",
                            "EVENTS --unit user --model ols --outcome revenue"),
    "paths": CommandEntry("paths", "Most frequent journeys; transition and step matrices.",
                          "EVENTS --start video_view --steps 3"),
    "attribution": CommandEntry("attribution", "Credit orders and GMV to creators, videos or traffic sources.",
                                "EVENTS --touch video_view --conversion purchase --window 7d"),
    "sql": CommandEntry("sql", "The SQL an analysis command runs, with its parameters; or its EXPLAIN ANALYZE.",
                        "funnel EVENTS --steps video_view,product_click,purchase --window 24h"),
    "report": CommandEntry("report", "Build a case-study report (HTML, PDF, JSON) from a spec.",
                           "EVENTS --spec SPEC --out OUT/report.json"),
    "demo": CommandEntry("demo", "Generate example data and build the example case study.",
                         "--out OUT --users 200"),
    "generate": CommandEntry("generate", "Write a synthetic export with planted ground truth.",
                             "--out OUT --users 50 --days 2"),
}


class ShortvidCommand(TyperCommand):
    """Every command: usage names arguments in capitals, flags show no value type, and an option that takes one
    value may be given once (``--by a --by b`` on a single ``--by`` would silently keep ``b``)."""

    def format_help(self, ctx: ClickContext, formatter: Any) -> None:
        plain_metavars(self.get_params(ctx))
        super().format_help(ctx, formatter)

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        refuse_repeated_options(self, ctx, args)
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: ClickContext) -> list[str]:
        return [self.options_metavar or "[OPTIONS]", *argument_usage(self.get_params(ctx))]

    def invoke(self, ctx: ClickContext) -> Any:
        refuse_huge_integers(self, ctx)
        if "fmt" in ctx.params and "output" in ctx.params:  # before any work: -f against -o's extension
            try:
                ctx.params["fmt"] = output_format(ctx.params["fmt"], ctx.params["output"])
            except OptionError as exc:
                ctx.fail(str(exc))
        return super().invoke(ctx)


def refuse_huge_integers(command: Any, ctx: ClickContext) -> None:
    """A usage error for an integer option beyond int64: click takes any size of integer, and such a value
    would overflow a later conversion (an internal error) or ask for absurd work. Tighter bounds (periods,
    windows) are checked by the library functions."""
    for param in command.get_params(ctx):
        value = ctx.params.get(param.name or "")
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, int) and not isinstance(item, bool) and not -MAX_COUNT <= item <= MAX_COUNT:
                name = param.opts[0] if isinstance(param, TyperOption) else (param.name or "").upper()
                ctx.fail(f"{name} {item}: expected an integer of at most {MAX_COUNT} (int64)")


def plain_metavars(params: list[Any]) -> None:
    """``EVENTS`` for an argument, nothing for a flag (typer shows ``events`` and ``<bool>``)."""
    for param in params:
        if param.metavar is not None:
            continue
        if isinstance(param, TyperArgument):
            param.metavar = (param.name or "").upper()
        elif isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""


def argument_usage(params: list[Any]) -> list[str]:
    """The usage line's arguments: ``EVENTS`` when required, ``[EVENTS]`` when not."""
    pieces = []
    for param in params:
        if isinstance(param, TyperArgument):
            name = param.metavar or (param.name or "").upper()
            name += "..." if param.nargs != 1 else ""
            pieces.append(name if param.required else f"[{name}]")
    return pieces


def refuse_repeated_options(command: Any, ctx: ClickContext, args: list[str]) -> None:
    """A usage error naming a single-valued option given more than once."""
    _, _, order = command.make_parser(ctx).parse_args(args=list(args))
    seen: set[str] = set()
    for param in order:
        if not isinstance(param, TyperOption) or param.multiple or param.count or param.is_flag:
            continue
        if param.name in seen:
            ctx.fail(f"{param.opts[0]} was given more than once; it takes one value")
        seen.add(param.name or "")


class _LazyCommands(TyperGroup):
    """The root group: imports a command's module the first time the command is looked up; lists commands
    from :data:`COMMANDS` without importing them; accepts the global options after the command too."""

    _listing = False

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: ClickContext, cmd_name: str) -> ClickCommand | None:
        if self._listing and cmd_name in COMMANDS:
            return TyperCommand(cmd_name, short_help=COMMANDS[cmd_name].summary)
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"{__name__}.{COMMANDS[cmd_name].module}")
            self.commands.update(_registered_commands())
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: ClickContext, formatter: Any) -> None:
        plain_metavars(self.get_params(ctx))
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        args = hoist_global_options(self, ctx, args)
        refuse_repeated_options(self, ctx, args)
        rest = super().parse_args(ctx, args)
        refuse_huge_integers(self, ctx)
        return rest

    def resolve_command(self, ctx: ClickContext, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name not in COMMANDS and not name.startswith("-"):
            import difflib  # only for a mistyped command

            close = difflib.get_close_matches(name, list(COMMANDS), n=3)
            hint = (f" Did you mean {', '.join(repr(c) for c in close)}?" if close
                    else f" Commands: {', '.join(COMMANDS)}.")
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        """Click's usage errors as one ``error:`` line on stderr (exit 2), not a framed box."""
        if not standalone_mode:  # the caller handles the exceptions
            return super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        except typer.Abort:
            stderr_console().print("aborted", markup=False)
            sys.exit(1)
        except typer.TyperException as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # its help is already printed
                stderr_console().print(f"error: {usage_message(exc)}", markup=False)
            sys.exit(getattr(exc, "exit_code", 2))
        sys.exit(code or 0)


def usage_message(exc: Exception) -> str:
    """A usage error in one line, with where to read the help."""
    message = " ".join(str(getattr(exc, "format_message", lambda: exc)()).split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return message


def hoist_global_options(group: Any, ctx: ClickContext, args: list[str]) -> list[str]:
    """``shortvid kpi E --config c.toml`` as ``shortvid --config c.toml kpi E``: the global options are
    accepted after the command too (no command has options of the same names)."""
    takes_value = {opt: not p.is_flag for p in group.params if isinstance(p, TyperOption) for opt in p.opts}
    command_at = _command_position(args, takes_value)
    if command_at is None:
        return args
    head, tail, hoisted = list(args[:command_at + 1]), [], []
    rest = iter(args[command_at + 1:])
    for arg in rest:
        if arg == "--":
            tail.extend([arg, *rest])
            break
        name = arg.split("=", 1)[0]
        if name in takes_value and arg.startswith("--") or arg in takes_value:
            hoisted.append(arg)
            if takes_value[name] and "=" not in arg:
                hoisted.append(next(rest, ""))
            continue
        tail.append(arg)
    return [*head[:command_at], *hoisted, head[command_at], *tail]


def _command_position(args: list[str], takes_value: dict[str, bool]) -> int | None:
    """Index of the command name in ``args`` (after the global options that precede it)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-"):
            return i
        if arg == "--":
            return None
        i += 2 if takes_value.get(arg, False) else 1
    return None


def _registered_commands() -> dict[str, ClickCommand]:
    """Click commands for everything registered on :data:`app` so far (as typer would build them)."""
    out: dict[str, ClickCommand] = {}
    for info in app.registered_commands:
        info.cls = ShortvidCommand if info.cls in (None, TyperCommand) else info.cls
        command = typer.main.get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                                   rich_markup_mode=app.rich_markup_mode)
        command.short_help = COMMANDS[command.name or ""].summary
        out[command.name or ""] = command
    for group_info in app.registered_groups:
        for info in group_info.typer_instance.registered_commands if group_info.typer_instance else ():
            info.cls = ShortvidCommand if info.cls in (None, TyperCommand) else info.cls
        group = typer.main.get_group_from_info(group_info, pretty_exceptions_short=app.pretty_exceptions_short,
                                               suggest_commands=app.suggest_commands,
                                               rich_markup_mode=app.rich_markup_mode)
        group.short_help = COMMANDS[group.name or ""].summary
        out[group.name or ""] = group
    return out


class Engine(str, Enum):
    """Values of ``--engine`` (``config.ENGINES``)."""

    duckdb = "duckdb"
    spark = "spark"


app = typer.Typer(
    cls=_LazyCommands,
    name="shortvid",
    help="Funnels, retention, engagement, A/B tests and regressions over short-video e-commerce events.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shortvid-analytics {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML config: column mapping, event aliases, time zone, engine."),
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option("--memory-limit", show_default=False,
                     help="DuckDB memory limit, e.g. 2GB or 1.5GiB (overrides \\[engine] memory_limit; work beyond "
                          "it spills to the temp directory)."),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option("--threads", min=1, show_default=False,
                     help="DuckDB worker threads (overrides \\[engine] threads; default: all cores)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks on errors.")] = False,
    engine: Annotated[
        Engine | None,
        typer.Option("--engine", help="Query engine: duckdb (in-process, default) or spark (same SQL on "
                                      "Apache Spark; needs the \\[spark] extra and Java 17+)."),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option("--spark-master", help="Spark master URL, e.g. spark://host:7077 (default: local mode, "
                                            "or \\[engine] spark_master). Implies --engine spark.",
                     metavar="URL"),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Analytics for short-video e-commerce event exports (Parquet), computed in DuckDB (or Spark)."""
    progress.enable(sys.stderr.isatty())
    try:
        loaded = Config.load(config)
        ctx.obj = AppState(config=loaded.with_engine(memory_limit=memory_limit, threads=threads,
                                                     name=_engine_name(loaded, engine, spark_master),
                                                     spark_master=spark_master),
                           debug=debug)
    except ShortvidError as exc:
        if debug:
            raise
        stderr_console().print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.exit_code) from None


def _engine_name(config: Config, engine: Engine | None, spark_master: str | None) -> str:
    """The engine chosen by --engine / --spark-master (flags win over the file)."""
    name = engine.value if engine is not None else ("spark" if spark_master else config.engine.name)
    if spark_master and name != "spark":
        raise OptionError(f"--spark-master {spark_master} needs --engine spark")
    return name


def main() -> None:
    """Console-script entry point."""
    app(prog_name="shortvid")
