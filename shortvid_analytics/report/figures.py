"""Report figures: the commands' house chart style (``render/charts.py``), embedded as reproducible SVG.

Figures come from the commands' own chart functions (``retention_figure``, ``forest_plot``, ...) or,
for views only a report needs, from :func:`new_axes`; all are built inside :func:`report_style`,
which adds what a document needs on top of the house style: fonts sized for an A4 page, the CJK
fonts installed on the machine, and reproducible SVG.

SVG output is made reproducible by a fixed ``svg.hashsalt`` and ``svg.id`` (matplotlib otherwise
derives element ids from random numbers) and by dropping the date/creator metadata. Text stays
text (``svg.fonttype = none``): selectable in the PDF, drawn by the browser or WeasyPrint with the
same font list as the page (so Chinese labels render wherever a CJK font is installed), and several
times faster for WeasyPrint to lay out than glyphs drawn as paths.
"""

from __future__ import annotations

import base64
import contextlib
import io
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import PercentFormatter

from ..render.charts import PALETTE, new_figure, style_axes, text_safe
from .content import Figure as ReportFigure

#: Fonts tried for Chinese labels, first found wins; Latin text uses DejaVu Sans.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC")
#: Text width of an A4 page with the report's margins, in inches.
TEXT_WIDTH_IN = 6.7


@lru_cache(maxsize=1)
def _font_family() -> tuple[str, ...]:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ("DejaVu Sans",) + tuple(f for f in CJK_FONTS if f in installed)


def style() -> dict[str, Any]:
    """rcParams for report figures (on top of the house style of ``render/charts.py``)."""
    return {
        "svg.hashsalt": "shortvid-report",
        "svg.id": "figure",
        "svg.fonttype": "none",
        "font.family": list(_font_family()),
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.labelsize": 8,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "legend.frameon": False,
        "legend.fontsize": 7.5,
        "xtick.labelsize": 7.5,
        "ytick.labelsize": 7.5,
    }


@contextlib.contextmanager
def report_style() -> Iterator[None]:
    """Build (and save) figures inside this block."""
    with matplotlib.rc_context(style()):
        yield


def new_axes(height_in: float, width_in: float = TEXT_WIDTH_IN) -> tuple[Figure, Axes]:
    """A text-wide house-style figure with one styled axes (call inside :func:`report_style`)."""
    fig = new_figure(width_in, height_in)
    ax = fig.subplots()
    style_axes(ax)
    return fig, ax


def embed(fig: Figure, caption: str, alt: str, max_height: float = 3.2) -> ReportFigure:
    """A report figure from a matplotlib figure.

    Narrowed to the text width when wider and capped in height (the layout is redone, fonts keep
    their size); axes titles are dropped because the numbered caption says what is shown."""
    width, height = fig.get_size_inches()
    if width > TEXT_WIDTH_IN:
        height *= max(TEXT_WIDTH_IN / width, 0.8)
        width = TEXT_WIDTH_IN
    fig.set_size_inches(width, min(height, max_height))
    for ax in fig.axes:
        for loc in ("left", "center", "right"):
            ax.set_title("", loc=loc)
    if not isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        with text_safe(fig):
            fig.tight_layout()  # laid out once (or never) at the old size: redo it at the new one
    return ReportFigure(caption, to_data_uri(fig), alt)


def to_data_uri(fig: Figure) -> str:
    """The figure as an SVG ``data:`` URI (base64), byte-identical for identical content."""
    buffer = io.BytesIO()
    with report_style(), text_safe(fig):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def percent_axis(ax: Axes, axis: str = "y", digits: int = 0) -> None:
    """Label an axis of fractions as percentages."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=digits))
