"""``shortvid ab EVENTS ...`` (analyse an experiment) and ``shortvid ab power ...`` (plan one).

``ab`` is a typer sub-app whose group class routes any first argument that is not a subcommand
name to the ``analyze`` subcommand, so ``shortvid ab EVENTS --assignments ...`` and
``shortvid ab power --baseline ...`` both work (``shortvid ab analyze EVENTS ...`` too).

The analysis modules are imported inside the commands: scipy/statsmodels take a second to import
and every other command would pay for it at start-up.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from typer._click import Context as ClickContext  # the context type typer's command hooks are declared with
from typer.core import TyperGroup

from ..options import TERMINAL_MIN_GROUP_SIZE
from ..periods import parse_window
from . import app
from .common import EventsArg, FormatOpt, FromOpt, MinGroupSizeOpt, OutputOpt, ToOpt, emit, guarded, open_events

_DEFAULT_COMMAND = "analyze"


class _DefaultToAnalyze(TyperGroup):
    """A group that treats ``ab EVENTS ...`` as ``ab analyze EVENTS ...``, and ``ab --help`` as the analysis'
    help (its options are what people look for; ``ab power --help`` plans)."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands:
            args = [_DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


ab_app = typer.Typer(
    cls=_DefaultToAnalyze,
    no_args_is_help=True,
    help="A/B experiments: `ab EVENTS --assignments A.parquet --metric ...` analyses, `ab power` plans.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(ab_app, name="ab")


AlphaOpt = Annotated[float, typer.Option("--alpha", help="Significance level (two-sided).")]


class MethodChoice(str, Enum):
    frequentist = "frequentist"
    bayesian = "bayesian"
    sequential = "sequential"


class CorrectionChoice(str, Enum):
    holm = "holm"
    bh = "bh"
    none = "none"


@ab_app.command(_DEFAULT_COMMAND, epilog="Plan an experiment (users per variant, MDE): shortvid ab power --help.")
def analyze(
    ctx: typer.Context,
    events: EventsArg,
    assignments: Annotated[Path, typer.Option("--assignments", help="Assignments Parquet: experiment_id, user_id, "
                                                                     "variant, assigned_at.", show_default=False)],
    metric: Annotated[list[str], typer.Option("--metric", "-m", help="Metric (repeatable): conversion:EVENT, "
                                              "count:EVENT, sum:COLUMN:EVENT, ratio:EVENT/EVENT, revenue_per_user, "
                                              "ctr, aov.", show_default=False)],
    experiment: Annotated[str | None, typer.Option("--experiment", "-e", help="Experiment id (optional when the "
                                                   "file holds one experiment).")] = None,
    control: Annotated[str, typer.Option("--control", help="Control variant.")] = "control",
    window: Annotated[str | None, typer.Option("--window", help="Count events up to this long after assignment, "
                                               "e.g. 7d (default: all).")] = None,
    split: Annotated[str | None, typer.Option("--split", help="Expected traffic split for the SRM check: 50,50 "
                                              "(control first) or control=50,treatment=50 (default equal).")] = None,
    alpha: AlphaOpt = 0.05,
    cuped_days: Annotated[int | None, typer.Option("--cuped-days", help="CUPED: use the metric in this many days "
                                                   "before assignment as covariate.")] = None,
    method: Annotated[MethodChoice, typer.Option("--method", help="Statistics engine.")] = MethodChoice.frequentist,
    correction: Annotated[CorrectionChoice, typer.Option("--correction", help="Multiple-testing correction across "
                                                         "metrics x variants.")] = CorrectionChoice.holm,
    by: Annotated[str | None, typer.Option("--by", help="Break results down by this column (assignments first, "
                                           "else the user's first event after assignment).")] = None,
    min_group_size: MinGroupSizeOpt = TERMINAL_MIN_GROUP_SIZE,
    sequential_tuning: Annotated[float | None, typer.Option("--sequential-tuning", help="Mixture-SPRT tuning "
                                                            "parameter: the total users where intervals are "
                                                            "tightest (default 5000, as GrowthBook).")] = None,
    cap: Annotated[float | None, typer.Option("--cap", help="Cap mean metrics' per-user values at this quantile "
                                              "of all users pooled (winsorisation), e.g. 0.99.")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write a forest plot of the lift intervals "
                                               "(.png, .svg or .pdf).")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
) -> None:
    """Analyse an experiment: SRM check, lift with CI and p-value (or chance to win) per metric x variant."""
    with guarded(ctx):
        from .. import ab as ab_lib
        from ..files import protect
        from ..render.ab import ab_table, write_forest_plot
        from ..render.charts import chart_format

        if chart is not None:
            chart_format(chart)  # fail before the work, not after
        protect(assignments, "the assignments file")
        source = open_events(ctx, events, date_from, date_to)
        result = ab_lib.analyze(
            source, assignments, metric, experiment=experiment, control=control,
            window=parse_window(window) if window else None, split=split, alpha=alpha, cuped_days=cuped_days,
            method=method.value, correction=correction.value, by=by, sequential_tuning=sequential_tuning, cap=cap,
            min_group_size=min_group_size,
        )
        if chart is not None:
            write_forest_plot(result, chart)
        emit(result, fmt, output, ab_table, inputs=(*source.files, str(assignments)))


@ab_app.command("power")
def power(
    ctx: typer.Context,
    baseline: Annotated[float, typer.Option("--baseline", help="Control conversion rate (or mean, with --sd).",
                                            show_default=False)],
    mde: Annotated[float | None, typer.Option("--mde", help="Relative lift to detect (0.05 = +5%): gives users "
                                              "per variant.")] = None,
    users: Annotated[int | None, typer.Option("--users", help="Users per variant: gives the minimum detectable "
                                              "relative lift.")] = None,
    alpha: AlphaOpt = 0.05,
    power_: Annotated[float, typer.Option("--power", help="Probability of detecting the effect.")] = 0.8,
    variants: Annotated[int, typer.Option("--variants", help="Number of variants including control.")] = 2,
    sd: Annotated[float | None, typer.Option("--sd", help="Per-user standard deviation: plan a mean metric.")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Sample size per variant for a relative MDE, or the MDE for a number of users per variant."""
    with guarded(ctx):
        from .. import ab as ab_lib
        from ..render.ab import power_table

        result = ab_lib.power(baseline, mde=mde, users=users, alpha=alpha, power=power_, variants=variants, sd=sd)
        emit(result, fmt, output, power_table)
