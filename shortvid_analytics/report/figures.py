"""Report figures: one matplotlib style, rendered to SVG that is identical run after run.

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

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.layout_engine import ConstrainedLayoutEngine  # noqa: E402

from .content import Figure as ReportFigure  # noqa: E402

#: Okabe–Ito colours: distinguishable with colour-vision deficiencies and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
#: Fonts tried for Chinese labels, first found wins; Latin text falls back to DejaVu Sans.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC")
#: Text width of an A4 page with the report's margins, in inches.
TEXT_WIDTH_IN = 6.7


@lru_cache(maxsize=1)
def _font_family() -> tuple[str, ...]:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ("DejaVu Sans",) + tuple(f for f in CJK_FONTS if f in installed)


def style() -> dict[str, Any]:
    """rcParams of every report figure."""
    return {
        "svg.hashsalt": "shortvid-report",
        "svg.id": "figure",
        "svg.fonttype": "none",
        "font.family": list(_font_family()),
        "font.size": 8.5,
        "axes.titlesize": 9.5,
        "axes.labelsize": 8.5,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": "#dddddd",
        "grid.linewidth": 0.6,
        "legend.frameon": False,
        "legend.fontsize": 8,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "figure.dpi": 100,
    }


@contextlib.contextmanager
def report_style() -> Iterator[None]:
    """The report's rcParams, for building and saving figures drawn by the commands' chart code."""
    with plt.rc_context(style()):
        yield


@contextlib.contextmanager
def new_figure(height_in: float = 3.0, ncols: int = 1, width_in: float = TEXT_WIDTH_IN) -> Iterator[tuple[Figure, Any]]:
    """A figure in the report style, closed on exit; yields ``(figure, axes)``."""
    with plt.rc_context(style()):
        fig, axes = plt.subplots(1, ncols, figsize=(width_in, height_in), layout="constrained")
        try:
            yield fig, axes
        finally:
            plt.close(fig)


def embed(fig: Figure, caption: str, alt: str, max_height: float = 3.8) -> ReportFigure:
    """A report figure from a matplotlib figure (e.g. one drawn by a command's chart code).

    Narrowed to the text width when wider and capped in height (constrained layout is redone, fonts
    keep their size); axes titles are dropped because the numbered caption says what is shown."""
    width, height = fig.get_size_inches()
    if width > TEXT_WIDTH_IN:
        height *= max(TEXT_WIDTH_IN / width, 0.8)
        width = TEXT_WIDTH_IN
    fig.set_size_inches(width, min(height, max_height))
    for ax in fig.axes:
        for loc in ("left", "center", "right"):
            ax.set_title("", loc=loc)
    if not isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        fig.tight_layout()  # laid out once (or never) at the old size: redo it at the new one
    return ReportFigure(caption, to_data_uri(fig, close=True), alt)


def to_data_uri(fig: Figure, close: bool = False) -> str:
    """The figure as an SVG ``data:`` URI (base64), byte-identical for identical content; ``close``
    releases a pyplot-managed figure afterwards."""
    buffer = io.BytesIO()
    with plt.rc_context(style()):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    if close:
        plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def percent_axis(ax: Any, axis: str = "y", digits: int = 0) -> None:
    """Label an axis of fractions as percentages."""
    from matplotlib.ticker import PercentFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=digits))
