"""Terminal tables and the forest plot of :class:`ABResult`, and the table of :class:`PowerResult`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..ab import ABResult, MetricResult, PowerResult
from ..ab.stats import Comparison
from ..errors import OptionError
from ..privacy import suppressed_label
from .blocks import Unclipped, unclipped
from .charts import GAIN, LOSS, NEUTRAL, chart_format, new_figure, save_figure, styled
from .console import fmt_number, fmt_pct

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def ab_table(result: ABResult) -> Group:
    """SRM banner, one table per block (all users, then each segment), notes and warnings."""
    parts: list[RenderableType] = [_header(result), _srm_banner(result)]
    for segment, metrics in result.blocks():
        title = Text("All users" if segment is None else f"{result.params.get('by')} = {segment}")
        parts.append(_metrics_table(result, title, metrics))
    pooled = result.suppressed_segments
    if pooled is not None:
        users = ", ".join(f"{v} {n:,}" for v, n in pooled.users.items())
        parts.append(Text(f"{result.params.get('by')} = "
                          f"{suppressed_label(result.params['min_group_size'], pooled.groups)} in a variant: "
                          f"users {users}; not analysed (small-cell suppression)"))
    parts += [Text(f"note: {label}: {c.note}", style="cyan") for label, c in _labelled(result) if c.note]
    parts += [Text(f"note: {n}", style="cyan") for n in result.notes]
    parts += [Text(f"warning: {w}", style="yellow") for w in result.warnings]
    return Group(*parts)


def _header(result: ABResult) -> Unclipped:
    grid = Table.grid(padding=(0, 2))
    grid.add_row("experiment", Text(result.experiment))
    grid.add_row("method", f"{result.method}, alpha {result.alpha:g}"
                 + (f", correction {result.params['correction']}" if result.method != "bayesian" else ""))
    grid.add_row("users", Text(", ".join(f"{v} {n:,}" for v, n in result.users.items())))
    if result.excluded_multi_variant_users:
        grid.add_row("excluded", f"{result.excluded_multi_variant_users:,} user(s) in more than one variant")
    if result.params.get("window"):
        grid.add_row("window", f"{result.params['window']} after assignment")
    if result.params.get("cuped_days"):
        grid.add_row("CUPED", f"covariate: the metric in the {result.params['cuped_days']} days before assignment")
    return unclipped(grid, wrap={1})


def _srm_banner(result: ABResult) -> RenderableType:
    srm = result.srm
    if srm is None:
        return Text("")
    shares = ", ".join(f"{v} {fmt_pct(s, 1)}" for v, s in srm.expected_share.items())  # plain Text below
    if srm.warning:
        return Panel(Text(f"SAMPLE RATIO MISMATCH: p = {srm.p_value:.2g} against expected {shares}. "
                          f"The assignment is likely broken; do not trust the effects below.", style="bold"),
                     style="bold red", title="SRM")
    return Text(f"sample ratio check: p = {srm.p_value:.3f} against expected {shares} (ok)", style="dim")


def _labelled(result: ABResult) -> list[tuple[str, Comparison]]:
    """Every comparison with a label ``metric · variant[ · segment]``."""
    return [(f"{m.metric} · {c.variant}" + ("" if segment is None else f" · {segment}"), c)
            for segment, metrics in result.blocks() for m in metrics for c in m.comparisons]


def _metrics_table(result: ABResult, title: Text, metrics: list[MetricResult]) -> Unclipped:
    bayesian = result.method == "bayesian"
    level = f"{100 * (1 - result.alpha):g}%"
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("variant")
    for name in ("users", "mean", "abs diff", "lift", f"{level} {'CrI' if bayesian else 'CI'}"):
        table.add_column(name, justify="right")
    if bayesian:
        table.add_column("chance to win", justify="right")
        table.add_column("risk", justify="right")
    else:
        table.add_column("p-value", justify="right")
        table.add_column("p adj.", justify="right")
    for m in metrics:
        by_variant = {c.variant: c for c in m.comparisons}
        for i, v in enumerate(m.variants):
            c = by_variant.get(v.variant)
            # Metric and variant names are user text: Text() keeps "[country=US]" from reading as markup.
            label = Text(m.metric + (" (CUPED)" if m.cuped else "")) if i == 0 else Text("")
            cells: list[RenderableType] = [label, Text(v.variant), fmt_number(v.users), _fmt_mean(m.type, v.mean)]
            if c is None:
                table.add_row(*cells)
                continue
            cells += [_fmt_diff(m.type, c.abs_diff), _fmt_lift(c.rel_lift), _fmt_ci(c)]
            if bayesian:
                cells += [fmt_pct(c.chance_to_win, 1), fmt_pct(c.risk, 3)]
            else:
                cells += [_fmt_p(c.p_value), _fmt_p(c.p_adjusted)]
            table.add_row(*cells, style=_style(c))
        table.add_section()
    return unclipped(table, keys=2)


def _style(c: Comparison) -> str | None:
    if not c.significant or c.abs_diff is None:
        return None
    return "green" if c.abs_diff > 0 else "red"


def _fmt_mean(kind: str, value: float | None) -> str:
    return fmt_pct(value, 2) if kind == "proportion" else fmt_number(value, 4)


def _fmt_diff(kind: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{100 * value:+.2f} pp" if kind == "proportion" else f"{value:+,.4f}"


def _fmt_lift(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.2f}%"


def _fmt_ci(c: Comparison) -> str:
    if c.ci_low is None or c.ci_high is None:
        return "-"
    return f"[{_fmt_lift(c.ci_low)}, {_fmt_lift(c.ci_high)}]"


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "-"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def power_table(result: PowerResult) -> Unclipped:
    """The planning numbers of ``ab power``."""
    grid = Table.grid(padding=(0, 2))
    baseline = fmt_pct(result.baseline, 3) if result.metric_type == "proportion" else fmt_number(result.baseline, 4)
    grid.add_row("metric", result.metric_type + (f" (sd {fmt_number(result.sd, 4)})" if result.sd else ""))
    grid.add_row("baseline", baseline)
    mde = f"{fmt_pct(result.mde, 2)} relative"
    if result.mde_absolute is not None:
        absolute = (f"{100 * result.mde_absolute:.3f} pp" if result.metric_type == "proportion"
                    else fmt_number(result.mde_absolute, 4))
        mde += f" ({absolute} absolute)"
    grid.add_row("minimum detectable effect", Text(mde, style="bold" if result.solved_for == "mde" else ""))
    grid.add_row("alpha (two-sided) / power", f"{result.alpha:g} / {result.power:g}")
    grid.add_row("users per variant", Text(fmt_number(result.users_per_variant),
                                           style="bold" if result.solved_for == "users" else ""))
    grid.add_row(f"total users ({result.variants} variants)", fmt_number(result.total_users))
    return unclipped(grid, wrap={1})


@styled
def forest_plot(result: ABResult) -> Figure | None:
    """Forest plot of the relative-lift intervals (one row per block × metric × variant); ``None`` when
    no comparison has an interval. Shared by ``--chart`` and the report's ``ab`` section."""
    rows = [(label, c) for label, c in _labelled(result) if c.ci_low is not None and c.ci_high is not None]
    if not rows:
        return None
    fig = new_figure(8, 0.45 * max(len(rows), 2) + 1.2)
    ax = fig.subplots()
    for y, (_label, c) in enumerate(reversed(rows)):
        assert c.rel_lift is not None and c.ci_low is not None and c.ci_high is not None
        colour = GAIN if c.significant and c.rel_lift > 0 else LOSS if c.significant else NEUTRAL
        ax.errorbar(100 * c.rel_lift, y, xerr=[[100 * (c.rel_lift - c.ci_low)], [100 * (c.ci_high - c.rel_lift)]],
                    fmt="o", color=colour, capsize=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(rows)), [label for label, _ in reversed(rows)])
    interval = "credible" if result.method == "bayesian" else "always-valid" if result.method == "sequential" else \
        "confidence"
    ax.set_xlabel(f"relative lift vs {result.control} (%), {100 * (1 - result.alpha):g}% {interval} interval")
    ax.set_title(f"Experiment {result.experiment}")
    ax.grid(axis="x", alpha=0.3)
    return fig


def write_forest_plot(result: ABResult, path: str | Path) -> None:
    """Write :func:`forest_plot` to ``path`` (.png, .svg or .pdf), atomically."""
    chart_format(path)
    fig = forest_plot(result)
    if fig is None:
        raise OptionError(f"--chart {path}: no comparison has a relative-lift interval to plot")
    save_figure(fig, path)
