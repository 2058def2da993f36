"""Terminal table and chart of :class:`LifecycleResult` (PostHog-style stacked bars, dormant below 0)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..lifecycle import STATUSES, LifecycleResult
from .blocks import unclipped
from .charts import new_figure, save_figure, style_axes, styled
from .console import fmt_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

STATUS_COLOURS: dict[str, str] = {"new": "#59a14f", "returning": "#4e79a7", "resurrecting": "#edc948",
                                  "dormant": "#e15759"}


def lifecycle_table(result: LifecycleResult) -> Group:
    """One row per period; incomplete periods are marked with ``*``."""
    p = result.params
    table = Table(title=f"Lifecycle of {p['event']} users per {p['period']} "
                        f"(time zone {p['source']['timezone']})", title_justify="left")
    table.add_column(p["period"])
    for status in STATUSES:
        table.add_column(status, justify="right", style=STATUS_COLOURS[status])
    table.add_column("active", justify="right")
    table.add_column("quick ratio", justify="right")
    for row in result.periods:
        table.add_row(row.label + ("" if row.complete else " *"), fmt_number(row.new), fmt_number(row.returning),
                      fmt_number(row.resurrecting), fmt_number(row.dormant), fmt_number(row.active),
                      fmt_number(row.quick_ratio))
    notes: list[RenderableType] = [unclipped(table)]
    if any(not row.complete for row in result.periods):
        notes.append(Text("* period not over yet: its dormant users may still come back", style="dim"))
    return Group(*notes)


@styled
def lifecycle_figure(result: LifecycleResult) -> Figure:
    """Stacked bars per period: new, returning, resurrecting above zero, dormant below."""
    fig = new_figure(max(6.0, 0.45 * len(result.periods) + 2.5), 4.2)
    ax = fig.subplots()
    style_axes(ax)
    xs = list(range(len(result.periods)))
    bottom = [0] * len(xs)
    for status in ("returning", "resurrecting", "new"):
        heights = [getattr(row, status) for row in result.periods]
        ax.bar(xs, heights, bottom=bottom, color=STATUS_COLOURS[status], label=status)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.bar(xs, [row.dormant for row in result.periods], color=STATUS_COLOURS["dormant"], label="dormant")
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xticks(xs, labels=[row.label + ("" if row.complete else "*") for row in result.periods],
                  rotation=45 if len(xs) > 8 else 0, ha="right" if len(xs) > 8 else "center")
    ax.set_ylabel("users")
    ax.set_title(f"Lifecycle of {result.params['event']} users per {result.params['period']}", loc="left")
    ax.legend(frameon=False, fontsize=8, ncols=4)
    return fig


def lifecycle_chart(result: LifecycleResult, path: str | Path) -> None:
    """Write :func:`lifecycle_figure` to ``path`` (.png, .svg or .pdf) atomically."""
    save_figure(lifecycle_figure(result), path)
