"""Charts: matplotlib figures in one house style, written atomically as PNG, SVG or PDF.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot): no global state, no GUI
backend, safe in cron jobs and report builds. matplotlib is imported only when a figure is drawn: it
would otherwise add about half a second to every command's start-up.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OptionError
from .export import write_bytes_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CHART_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
#: Qualitative colours for series (Tableau 10), in order of use.
PALETTE: tuple[str, ...] = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                            "#ff9da7", "#9c755f", "#bab0ac")
HEATMAP_CMAP = "Blues"


def chart_format(path: str | Path) -> str:
    """The image format named by the suffix of ``path``; raises :class:`OptionError` when unsupported."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in CHART_FORMATS:
        raise OptionError(f"--chart {path}: expected a file name ending in .png, .svg or .pdf")
    return suffix


def new_figure(width: float, height: float) -> Figure:
    """An empty figure in the house style (size in inches)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=120, layout="constrained")
    fig.set_facecolor("white")
    return fig


def style_axes(ax: Axes) -> None:
    """Light grid, no top/right spines."""
    ax.grid(True, color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def save_figure(fig: Figure, path: str | Path) -> None:
    """Write ``fig`` to ``path`` atomically, in the format named by its suffix."""
    fmt = chart_format(path)
    buffer = io.BytesIO()
    # No creation date: the same result gives the same bytes (reproducible reports).
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt, {})
    fig.savefig(buffer, format=fmt, metadata=metadata)
    write_bytes_atomic(path, buffer.getvalue())
