"""The ``shortvid`` command line: a thin layer of option parsing over the library functions.

Each command lives in its own module in this package and registers itself on :data:`app` when imported.
A command's module (and with it DuckDB, polars, matplotlib, statsmodels, ...) is imported only when that
command runs or help lists it, so ``shortvid --version`` and every command start quickly.
"""

from __future__ import annotations

import importlib
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from .. import __version__, progress
from ..config import Config
from ..errors import OptionError, ShortvidError
from ..render.console import stderr_console
from .common import AppState

#: Command name -> the module of this package that registers it (in the order help lists them).
COMMAND_MODULES: dict[str, str] = {
    "validate": "validate", "anonymize": "anonymize", "funnel": "funnel", "retention": "retention",
    "lifecycle": "lifecycle", "stickiness": "stickiness", "engagement": "engagement", "kpi": "kpi",
    "digest": "digest", "ab": "abtest", "regress": "regress", "paths": "paths", "attribution": "attribution",
    "report": "report", "demo": "demo", "generate": "generate",
}


class _LazyCommands(TyperGroup):
    """The root group: imports a command's module the first time the command is looked up."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | TyperGroup | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(f"{__name__}.{COMMAND_MODULES[cmd_name]}")
            self.commands.update(_registered_commands())
        return super().get_command(ctx, cmd_name)


def _registered_commands() -> dict[str, TyperCommand | TyperGroup]:
    """Click commands for everything registered on :data:`app` so far (as typer would build them)."""
    out: dict[str, TyperCommand | TyperGroup] = {}
    for info in app.registered_commands:
        command = typer.main.get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                                   rich_markup_mode=app.rich_markup_mode)
        out[command.name or ""] = command
    for group_info in app.registered_groups:
        group = typer.main.get_group_from_info(group_info, pretty_exceptions_short=app.pretty_exceptions_short,
                                               suggest_commands=app.suggest_commands,
                                               rich_markup_mode=app.rich_markup_mode)
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
    add_completion=False,
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
