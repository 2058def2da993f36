"""Terminal table and chart of :class:`RetentionResult`.

The triangle is shaded like a heat map: a cell's background darkens with its rate, relative to the
largest rate of periods k >= 1 (period 0 is often near 100% and would wash the rest out; it is
clamped at full colour). Incomplete periods are left blank.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..privacy import suppressed_label
from ..retention import RetentionResult, Triangle
from .blocks import Unclipped, unclipped
from .charts import HEATMAP_CMAP, PALETTE, new_figure, save_figure, style_axes, styled
from .console import fmt_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_LIGHT = (239, 243, 255)
_DARK = (8, 69, 148)


def retention_table(result: RetentionResult) -> Group:
    """The triangle (all entries), and with a breakdown the overall curve per value."""
    p = result.params
    mode = f"{p['mode']}{', unbounded' if p['unbounded'] else ''}"
    adjective = {"day": "daily", "week": "weekly", "month": "monthly"}[p["period"]]
    header = Text(f"{p['start']} -> {p['return']}   {adjective} cohorts ({mode})   "
                  f"{fmt_number(result.total.size)} entries   time zone {p['source']['timezone']}")
    parts: list[RenderableType] = [header, _triangle_table(result, result.total, "Retention by cohort")]
    if result.breakdown is not None:
        parts.append(_breakdown_table(result))
    parts.append(Text("columns: k periods after the cohort period; blank: period not over yet (unknown, not 0); "
                      "overall: user-weighted mean of the cohorts that reached period k", style="dim"))
    return Group(*parts)


def _table(title: str, first: str, labels: list[str], periods: int) -> Table:
    """Rates in % without the sign, so that a dozen periods fit in 120 columns."""
    table = Table(title=f"{title} (% retained)", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column(first, no_wrap=True, min_width=max([len(first), *map(len, labels)]))
    table.add_column("size", justify="right", no_wrap=True)
    for k in range(periods):
        table.add_column(str(k), justify="right", no_wrap=True)
    return table


def _triangle_table(result: RetentionResult, tri: Triangle, title: str) -> Unclipped:
    scale = _scale(tri)
    table = _table(title, "cohort", [c.label for c in tri.cohorts], result.periods)
    for index, c in enumerate(tri.cohorts):
        table.add_row(c.label, fmt_number(c.size), *(_cell(r, scale) for r in c.rate),
                      end_section=index == len(tri.cohorts) - 1)
    table.add_row(Text("overall", style="bold"), "", *(_cell(pt.rate, scale) for pt in tri.overall))
    table.add_row(Text("users", style="dim"), "", *(Text(fmt_number(pt.users), style="dim") for pt in tri.overall))
    return unclipped(table)


def _group_names(result: RetentionResult) -> list[tuple[str, Triangle]]:
    """Breakdown rows as shown: ``(null)`` for a missing value, ``<K users (n groups)`` for the pooled row."""
    return [(suppressed_label(result.params["min_group_size"], result.suppressed_groups) if suppressed
             else "(null)" if value is None else value, tri) for value, suppressed, tri in result.groups()]


def _breakdown_table(result: RetentionResult) -> Unclipped:
    rows = _group_names(result)
    table = _table(f"Overall retention by {result.by}", str(result.by), [n for n, _ in rows], result.periods)
    scale = max((_scale(tri) for _, tri in rows), default=1.0)
    for name, tri in rows:
        table.add_row(name, fmt_number(tri.size), *(_cell(pt.rate, scale) for pt in tri.overall))
    return unclipped(table)


def _scale(tri: Triangle) -> float:
    """The rate shown at full colour: the largest rate beyond period 0 (1.0 when there is none)."""
    rates = [r for c in tri.cohorts for r in c.rate[1:] if r is not None]
    return max(rates) if rates and max(rates) > 0 else 1.0


def _cell(rate: float | None, scale: float) -> Text:
    if rate is None:
        return Text("")
    level = min(rate / scale, 1.0)
    rgb = tuple(round(lo + (hi - lo) * level) for lo, hi in zip(_LIGHT, _DARK, strict=True))
    foreground = "white" if level > 0.5 else "black"
    return Text(f"{100 * rate:.1f}", style=Style(color=foreground, bgcolor=f"rgb({rgb[0]},{rgb[1]},{rgb[2]})"))


@styled
def retention_figure(result: RetentionResult) -> Figure:
    """Heat map of the triangle (left) and retention curves (right): overall, and per breakdown value."""
    fig = new_figure(12, max(3.5, 0.32 * len(result.total.cohorts) + 1.8))
    heat_ax, curve_ax = fig.subplots(1, 2, width_ratios=[3, 2])
    _draw_heat_map(fig, heat_ax, result)
    _draw_curves(curve_ax, result)
    return fig


def _draw_heat_map(fig: Figure, ax: Axes, result: RetentionResult) -> None:
    """The triangle as a heat map, each cell labelled with its rate while there are few enough cells."""
    import numpy as np  # imported with matplotlib, only when a chart is drawn (see charts.py)

    tri = result.total
    rates = np.array([[math.nan if r is None else r for r in c.rate] for c in tri.cohorts], dtype=float)
    image = ax.imshow(np.ma.masked_invalid(rates), cmap=HEATMAP_CMAP, vmin=0, vmax=_scale(tri), aspect="auto")
    ax.set_xticks(range(result.periods))
    ax.set_yticks(range(len(tri.cohorts)), labels=[c.label for c in tri.cohorts])
    ax.set_xlabel(f"{result.period.value}s since cohort start (k)")
    ax.set_title(f"{result.params['start']} → {result.params['return']}: retention by cohort", loc="left")
    if rates.size <= 400:
        for (i, k), value in np.ndenumerate(rates):
            if not math.isnan(value):
                ax.text(k, i, f"{100 * value:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if value > 0.6 * _scale(tri) else "black")
    fig.colorbar(image, ax=ax, label="retention rate", shrink=0.8)


def _draw_curves(ax: Axes, result: RetentionResult) -> None:
    """The overall curve, and one per breakdown value while the palette lasts."""
    from matplotlib.ticker import MaxNLocator

    style_axes(ax)
    curves = [("overall", result.total)]
    if result.breakdown is not None:
        curves += _group_names(result)[: len(PALETTE) - 1]
    for index, (name, curve) in enumerate(curves):
        points = [(pt.period, pt.rate) for pt in curve.overall if pt.rate is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", color=PALETTE[index], label=str(name), linewidth=2.2 if index == 0 else 1.4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"{result.period.value}s since cohort start (k)")
    ax.set_ylabel("retention rate")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_title("Overall curve (user-weighted)" + (f" by {result.by}" if result.by else ""), loc="left")
    if ax.get_legend_handles_labels()[0]:  # no curve has a rate yet: no legend (and no warning)
        ax.legend(frameon=False, fontsize=8)


def retention_chart(result: RetentionResult, path: str | Path) -> None:
    """Write :func:`retention_figure` to ``path`` (.png, .svg or .pdf) atomically."""
    save_figure(retention_figure(result), path)
