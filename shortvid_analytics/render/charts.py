"""Charts: matplotlib figures in one house style, written atomically as PNG, SVG or PDF.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot): no global state, no GUI
backend, safe in cron jobs and report builds. matplotlib is imported only when a figure is drawn: it
would otherwise add about half a second to every command's start-up.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from functools import cache
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
#: Fonts tried, in order, for characters the chart font lacks (Chinese event names, creators, platforms).
#: None ships with matplotlib; Debian/Ubuntu: ``apt-get install fonts-noto-cjk`` (docs/digest.md).
FALLBACK_FONTS: tuple[str, ...] = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                                   "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN", "Microsoft YaHei",
                                   "PingFang SC", "Arial Unicode MS")
_reported_missing: set[str] = set()


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
    with text_safe(fig):
        fig.savefig(buffer, format=fmt, metadata=metadata)
    write_bytes_atomic(path, buffer.getvalue())


@contextlib.contextmanager
def text_safe(fig: Figure) -> Iterator[None]:
    """Draw ``fig`` (``savefig``/``print_png`` inside the block) with labels taken literally and no font noise.

    Labels are data: ``$`` in an event name is not mathtext (an unbalanced one would fail the draw). A label
    with characters the chart font lacks is given an installed fallback font that has them; when none has
    them, one ``warning:`` line per process says so (matplotlib would print a warning per glyph and draw
    empty boxes), and matplotlib's own glyph warnings and font-lookup log lines are kept off stderr.
    """
    import logging

    missing: set[str] = set()
    for text in _texts(fig):
        text.set_parse_math(False)
        missing |= _fit_font(text)
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
            warnings.filterwarnings("ignore", message=r"findfont:")
            yield
    finally:
        logger.setLevel(level)
    _report_missing(missing)


def _texts(fig: Figure) -> list:
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_text()]


def _fit_font(text) -> set[str]:
    """Give ``text`` a fallback font for the characters its font lacks; return those no font has."""
    from matplotlib import font_manager

    props = text.get_fontproperties()
    chars = {ch for ch in text.get_text() if not ch.isspace()}
    lacking = {ch for ch in chars if ord(ch) not in _charmap(font_manager.findfont(props))}
    if not lacking:
        return set()
    for family in FALLBACK_FONTS:
        path = _font_path(family)
        if path is not None and all(ord(ch) in _charmap(path) for ch in lacking):
            text.set_fontfamily([*props.get_family(), family])
            return set()
    return lacking


@cache
def _font_path(family: str) -> str | None:
    from matplotlib import font_manager

    try:
        return font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    except ValueError:
        return None


@cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(path).get_charmap())


def _report_missing(missing: set[str]) -> None:
    new = missing - _reported_missing
    if not new or _reported_missing:
        _reported_missing.update(missing)
        return
    _reported_missing.update(missing)
    from .console import stderr_console

    shown = "".join(sorted(new)[:8]) + ("…" if len(new) > 8 else "")
    stderr_console().print(
        f"warning: chart labels have characters no installed font can draw ({shown}); they show as empty "
        f"boxes. Install a CJK font such as Noto Sans CJK (Debian/Ubuntu: apt-get install fonts-noto-cjk)",
        markup=False)
