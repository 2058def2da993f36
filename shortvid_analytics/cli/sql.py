"""``shortvid sql COMMAND ARGS...``: the SQL that an analysis command runs, statement by statement."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Annotated, Any

import typer

from . import app
from .common import guarded, state

#: The commands whose SQL can be shown: every analysis that reads the events and prints a result.
ANALYSES = ("funnel", "retention", "lifecycle", "stickiness", "engagement", "kpi", "paths", "attribution",
            "ab", "regress", "validate")
#: Options of the analysed command that would write files; under ``sql`` nothing is written but the SQL.
_WRITING = ("--chart",)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                               "allow_interspersed_args": False})
def sql(
    ctx: typer.Context,
    command: Annotated[str, typer.Argument(help=f"The command: {', '.join(ANALYSES)}.", show_default=False)],
    explain: Annotated[bool, typer.Option("--explain", help="Run each statement under EXPLAIN ANALYZE and "
                                                            "print its plan with timings.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the SQL to this file "
                                                                       "(atomically) instead of stdout.")] = None,
) -> None:
    """Print the SQL that COMMAND runs with the arguments after it, statement by statement in execution order,
    each with its bound parameters: `shortvid sql funnel EVENTS --steps a,b --window 1d`.

    COMMAND runs as usual (each statement's answer decides what the next one is) and its result is not
    shown; --explain also prints each statement's EXPLAIN ANALYZE plan with timings. Options after COMMAND
    are COMMAND's own, except -o/--output and --explain, which are this command's wherever they stand.
    """
    from .. import sql as sql_lib
    from ..files import write_text_atomic
    from ..render.sql import statements_text

    args, output, explain = _own_options(ctx, list(ctx.args), output, explain)
    if command not in ANALYSES:
        ctx.fail(f"COMMAND {command!r}: expected one of {', '.join(ANALYSES)}")
    writing = [a for a in args if a.split("=", 1)[0] in _WRITING]
    if writing:
        ctx.fail(f"{writing[0].split('=', 1)[0]}: shortvid sql writes nothing but the SQL; leave it out")
    if explain and state(ctx).config.engine.name != "duckdb":
        ctx.fail("--explain needs the duckdb engine (Spark has no EXPLAIN ANALYZE)")
    mode = sql_lib.Mode.explain if explain else sql_lib.Mode.run
    with sql_lib.tracing(mode) as statements, contextlib.redirect_stdout(io.StringIO()):
        _invoke(ctx, command, args)
    text = statements_text(statements)
    with guarded(ctx):
        if output is None:
            typer.echo(text, nl=False)
        else:
            write_text_atomic(output, text, "--output")


def _own_options(ctx: typer.Context, args: list[str], output: Path | None,
                 explain: bool) -> tuple[list[str], Path | None, bool]:
    """``-o FILE`` and ``--explain`` taken out of the analysed command's arguments (``--`` ends the search)."""
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--":
            rest += [arg, *items]
            break
        if arg == "--explain":
            explain = True
        elif arg in ("-o", "--output"):
            value = next(items, None)
            if value is None:
                ctx.fail(f"{arg} needs a file")
            output = Path(value)
        elif arg.startswith("--output="):
            output = Path(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    return rest, output, explain


def _invoke(ctx: typer.Context, command: str, args: list[str]) -> Any:
    """Run ``command`` with ``args`` as the command line would, under this command's context (its global
    options and config)."""
    root = ctx.find_root()
    inner = root.command.get_command(root, command)  # type: ignore[attr-defined]
    with inner.make_context(command, args, parent=root) as inner_ctx:
        return inner.invoke(inner_ctx)
