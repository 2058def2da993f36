"""Report figures: the house chart style of ``render/charts.py`` in its document variant, embedded as SVG.

Figures come from the commands' own chart functions (``retention_figure``, ``forest_plot``, ...) or,
for views only a report needs, from :func:`new_axes`; all are built inside :func:`report_style`, the
document style of ``render/charts.py`` (text sized for an A4 page, the installed CJK fonts named, SVG
text kept as text). The SVG bytes come from ``render.charts.figure_bytes``: identical for identical content.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..render.charts import chart_style, figure_bytes, new_figure, style_axes
from .content import Figure as ReportFigure

#: Text width of an A4 page with the report's margins, in inches.
TEXT_WIDTH_IN = 6.7


@contextmanager
def report_style() -> Iterator[None]:
    """Build figures inside this block."""
    with chart_style(document=True):
        yield


def new_axes(height_in: float, width_in: float = TEXT_WIDTH_IN) -> tuple[Figure, Axes]:
    """A text-wide house-style figure with one styled axes (call inside :func:`report_style`)."""
    fig = new_figure(width_in, height_in)
    ax = fig.subplots()
    style_axes(ax)
    return fig, ax


def embed(fig: Figure, caption: str, alt: str, max_height: float = 3.2) -> ReportFigure:
    """A report figure from a matplotlib figure.

    Narrowed to the text width when wider and capped in height (the constrained layout of
    ``new_figure`` is redone at the new size, fonts keep their size); axes titles are dropped because the
    numbered caption says what is shown."""
    width, height = fig.get_size_inches()
    if width > TEXT_WIDTH_IN:
        height *= max(TEXT_WIDTH_IN / width, 0.8)
        width = TEXT_WIDTH_IN
    fig.set_size_inches(width, min(height, max_height))
    for ax in fig.axes:
        for loc in ("left", "center", "right"):
            ax.set_title("", loc=loc)
    return ReportFigure(caption, to_data_uri(fig), alt)


def to_data_uri(fig: Figure) -> str:
    """The figure as an SVG ``data:`` URI (base64), byte-identical for identical content."""
    return "data:image/svg+xml;base64," + base64.b64encode(figure_bytes(fig, "svg")).decode("ascii")


def percent_axis(ax: Axes, axis: str = "y", digits: int = 0) -> None:
    """Label an axis of fractions as percentages."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=digits))
