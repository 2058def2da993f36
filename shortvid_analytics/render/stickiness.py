"""Terminal tables and chart of :class:`StickinessResult`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..stickiness import StickinessResult
from .blocks import unclipped
from .charts import PALETTE, new_figure, save_figure, style_axes, styled
from .console import fmt_number, fmt_pct

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def stickiness_table(result: StickinessResult) -> Group:
    """Share of active users by active days (rows) per period (columns), then DAU/MAU per month."""
    parts: list[RenderableType] = [unclipped(_distribution_table(result)), unclipped(_ratio_table(result))]
    if any(not row.complete for row in result.periods) or any(not m.complete for m in result.dau_mau):
        parts.append(Text("* partly observed: left out of 'overall'; DAU averaged over observed days only",
                          style="dim"))
    return Group(*parts)


def _distribution_table(result: StickinessResult) -> Table:
    p = result.params
    table = Table(title=f"Users of {p['event']} by active days per {p['period']} "
                        f"(time zone {p['source']['timezone']})", title_justify="left")
    table.add_column("active days", justify="right")
    for row in result.periods:
        table.add_column(row.label + ("" if row.complete else " *"), justify="right")
    table.add_column("overall", justify="right", style="bold")
    depth = max(len(row.distribution.users) for row in result.periods)
    shares = [[entry["share"] for entry in row.distribution.to_list()] for row in result.periods]
    overall = [entry["share"] for entry in result.overall.to_list()]
    for d in range(depth):
        table.add_row(str(d + 1), *(_share_cell(column, d) for column in shares), _share_cell(overall, d),
                      end_section=d == depth - 1)
    table.add_row("users", *(fmt_number(row.distribution.total) for row in result.periods),
                  fmt_number(result.overall.total))
    table.add_row("mean days", *(fmt_number(row.distribution.mean_active_days) for row in result.periods),
                  fmt_number(result.overall.mean_active_days))
    return table


def _share_cell(column: list[float | None], days: int) -> str:
    """The share of users active ``days + 1`` days; blank where the period has fewer days."""
    return fmt_pct(column[days], 1) if days < len(column) else ""


def _ratio_table(result: StickinessResult) -> Table:
    table = Table(title="DAU/MAU stickiness per month", title_justify="left")
    for name in ("month", "MAU", "mean DAU", "DAU/MAU", "days observed"):
        table.add_column(name, justify="left" if name == "month" else "right")
    for m in result.dau_mau:
        table.add_row(m.label + ("" if m.complete else " *"), fmt_number(m.mau), fmt_number(m.mean_dau),
                      fmt_pct(m.stickiness, 1), fmt_number(m.days_observed))
    return table


@styled
def stickiness_figure(result: StickinessResult) -> Figure:
    """Bars: share of active users by number of active days, pooled over complete periods."""
    fig = new_figure(7, 4)
    ax = fig.subplots()
    style_axes(ax)
    entries = result.overall.to_list()
    ax.bar([e["days"] for e in entries], [e["share"] or 0 for e in entries], color=PALETTE[0])
    ax.set_xlabel(f"active days per {result.params['period']}")
    ax.set_ylabel("share of active users")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_title(f"Stickiness of {result.params['event']} ({fmt_number(result.overall.total)} user-"
                 f"{result.params['period']}s, complete {result.params['period']}s)", loc="left")
    return fig


def stickiness_chart(result: StickinessResult, path: str | Path) -> None:
    """Write :func:`stickiness_figure` to ``path`` (.png, .svg or .pdf) atomically."""
    save_figure(stickiness_figure(result), path)
