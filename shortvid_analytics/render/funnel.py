"""Rendering of :class:`FunnelResult`: a terminal table with a bar per step, and a matplotlib chart."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..funnel import BreakdownGroup, FunnelResult, FunnelStep
from ..privacy import suppressed_label
from .blocks import Unclipped, unclipped
from .charts import new_figure, save_figure, styled
from .console import fmt_number, fmt_pct

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BAR_WIDTH = 20


def fmt_duration(seconds: float | None) -> str:
    """A duration in the largest fitting unit: ``42s``, ``3.5m``, ``2.0h``, ``1.5d``; ``-`` when missing."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _bar(share: float | None) -> str:
    cells = round((share or 0.0) * BAR_WIDTH)
    return "█" * cells + "·" * (BAR_WIDTH - cells)


def _steps_table(steps: list[FunnelStep], title: str) -> Unclipped:
    table = Table(title=title, title_justify="left")
    table.add_column("step", justify="right")
    table.add_column("event", no_wrap=True)
    table.add_column("users", justify="right")
    table.add_column("", no_wrap=True)
    table.add_column("from start", justify="right")
    table.add_column("from previous", justify="right")
    table.add_column("drop-off", justify="right")
    table.add_column("median time", justify="right")
    table.add_column("p90 time", justify="right")
    for s in steps:
        ttc = s.time_to_convert_s
        table.add_row(
            str(s.step), s.event, fmt_number(s.users), _bar(s.conversion_from_start),
            fmt_pct(s.conversion_from_start, 1), fmt_pct(s.conversion_from_previous, 1), fmt_number(s.dropoff),
            fmt_duration(ttc.median), fmt_duration(ttc.p90),
        )
    return unclipped(table, keys=2)


def _cohort_table(rows: list[tuple[str, list[FunnelStep]]], first_column: str, title: str) -> Unclipped:
    """One row per breakdown value or trend cohort: entrants, then users and share of entrants per step."""
    table = Table(title=title, title_justify="left")
    table.add_column(first_column)
    table.add_column("entrants", justify="right")
    step_labels = [s.event for s in rows[0][1][1:]] if rows else []
    for k, label in enumerate(step_labels, start=2):
        table.add_column(f"{k}. {label}", justify="right")
    table.add_column("conversion", justify="right")
    for name, steps in rows:
        cells = [f"{fmt_number(s.users)} ({fmt_pct(s.conversion_from_start, 1)})" for s in steps[1:]]
        table.add_row(name, fmt_number(steps[0].users), *cells, fmt_pct(steps[-1].conversion_from_start, 1))
    return unclipped(table)


def funnel_table(result: FunnelResult) -> Group:
    """The funnel, then the breakdown and the trend cohorts when present."""
    p = result.params
    title = f"Funnel ({p['order']}, window {p['window']})"
    if p.get("hold"):
        title += f", holding {p['hold']}"
    parts: list[RenderableType] = [_steps_table(result.steps, title)]
    if result.excluded_users:
        parts.append(Text(f"{fmt_number(result.excluded_users)} user(s) removed by --exclude "
                          f"{', '.join(p['exclude'])}", style="cyan"))
    if result.breakdown is not None:
        rows = [(_group_name(g, p["min_group_size"]), g.steps) for g in result.breakdown]
        parts.append(_cohort_table(rows, str(p["by"]), f"By {p['by']} (value at the entry)"))
    if result.trends is not None:
        rows = [(c.period, c.steps) for c in result.trends]
        parts.append(_cohort_table(rows, result.trends_period or "period", "Trends (per entry period)"))
    if not result.steps[0].users:
        parts.append(Text("no user entered the funnel (no step-1 event in the date range)", style="yellow"))
    return Group(*parts)


def _group_name(group: BreakdownGroup, min_group_size: int) -> str:
    """A breakdown value as shown: ``(missing)``, ``other``, or ``<K users (n groups)`` for the suppressed ones."""
    if group.suppressed:
        return suppressed_label(min_group_size, group.suppressed_groups)
    return "(missing)" if group.value is None else group.value


@styled
def funnel_figure(result: FunnelResult) -> Figure:
    """A bar chart of users per step labelled with the conversion from the start (grouped bars per --by
    value when there is a breakdown). Shared by ``--chart`` and the report's funnel section."""
    series = [("all users", result.steps)]
    if result.breakdown:
        series = [(_group_name(g, result.params["min_group_size"]), g.steps) for g in result.breakdown]
    labels = [f"{s.step}. {s.event}" for s in result.steps]
    width = 0.8 / len(series)
    fig = new_figure(max(6.0, 1.6 * len(labels) + 0.4 * len(series)), 4.5)
    ax = fig.subplots()
    for i, (name, steps) in enumerate(series):
        xs = [k + (i - (len(series) - 1) / 2) * width for k in range(len(steps))]
        bars = ax.bar(xs, [s.users for s in steps], width=width * 0.95, label=name)
        ax.bar_label(bars, labels=[fmt_pct(s.conversion_from_start, 1) for s in steps], fontsize=8,
                     padding=2)
    ax.set_xticks(range(len(labels)), labels, rotation=15, ha="right")
    ax.set_ylabel("users")
    p = result.params
    ax.set_title(f"Funnel ({p['order']}, window {p['window']}); labels: conversion from step 1")
    if result.breakdown:
        ax.legend(title=str(p["by"]), fontsize=8)
    ax.margins(y=0.15)
    return fig


def write_funnel_chart(result: FunnelResult, path: str | Path) -> None:
    """Write :func:`funnel_figure` to ``path`` (.png, .svg or .pdf) atomically."""
    save_figure(funnel_figure(result), path)
