"""The ``shortvid`` command line: a thin layer of option parsing over the library functions.

Each command lives in its own module in this package and registers itself on :data:`app`.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from ..config import Config
from ..errors import OptionError, ShortvidError
from ..render.console import stderr_console
from .common import AppState

class Engine(str, Enum):
    duckdb = "duckdb"
    spark = "spark"


app = typer.Typer(
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
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks on errors.")] = False,
    engine: Annotated[
        Engine | None,
        typer.Option("--engine", help="Query engine: duckdb (in-process, default) or spark (same SQL on "
                                      "Apache Spark; needs the [spark] extra and Java 17+)."),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option("--spark-master", help="Spark master URL, e.g. spark://host:7077 (default: local mode, "
                                            "or [engine] spark_master). Implies --engine spark.",
                     metavar="URL"),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Analytics for short-video e-commerce event exports (Parquet), computed in DuckDB (or Spark)."""
    try:
        ctx.obj = AppState(config=_with_engine(Config.load(config), engine, spark_master), debug=debug)
    except ShortvidError as exc:
        if debug:
            raise
        stderr_console().print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.exit_code) from None


def _with_engine(config: Config, engine: Engine | None, spark_master: str | None) -> Config:
    """The config with the --engine / --spark-master flags applied (flags win over the file)."""
    name = engine.value if engine is not None else ("spark" if spark_master else config.engine.name)
    if spark_master and name != "spark":
        raise OptionError(f"--spark-master {spark_master} needs --engine spark")
    settings = replace(config.engine, name=name, spark_master=spark_master or config.engine.spark_master)
    return config.with_overrides(engine=settings)


# Command modules register themselves on `app` when imported.
from . import anonymize as _anonymize  # noqa: E402,F401
from . import funnel as _funnel  # noqa: E402,F401
from . import generate as _generate  # noqa: E402,F401
from . import validate as _validate  # noqa: E402,F401
from . import abtest as _abtest  # noqa: E402,F401
from . import retention as _retention  # noqa: E402,F401
from . import lifecycle as _lifecycle  # noqa: E402,F401
from . import stickiness as _stickiness  # noqa: E402,F401
from . import paths as _paths  # noqa: E402,F401
from . import attribution as _attribution  # noqa: E402,F401
from . import engagement as _engagement  # noqa: E402,F401
from . import kpi as _kpi  # noqa: E402,F401
from . import digest as _digest  # noqa: E402,F401
from . import regress as _regress  # noqa: E402,F401
from . import report as _report  # noqa: E402,F401
from . import demo as _demo  # noqa: E402,F401


def main() -> None:
    """Console-script entry point."""
    app(prog_name="shortvid")
