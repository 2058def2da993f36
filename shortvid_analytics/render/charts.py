"""Charts: every figure of the package, in one house style, written as PNG, SVG or PDF with reproducible bytes.

This module is the only one that knows chart formats, creates figures and calls ``savefig``:

- the house style is a fixed set of rcParams laid over matplotlib's built-in defaults (never over the
  user's ``matplotlibrc``), so the bytes of a chart depend on the data only. :data:`HOUSE_STYLE` is for a
  stand-alone ``--chart`` file; :func:`document_style` sizes the text for figures embedded in a document
  (the report's A4 page, the digest's e-mail) and keeps SVG text as text;
- a figure is drawn inside a style (:func:`styled`, :func:`chart_style`) and remembers it: matplotlib
  creates tick labels while it saves, so :func:`figure_bytes` saves inside the style the figure was drawn in;
- :func:`figure_bytes` pins what would make two runs differ: no creation date or software version in
  the metadata (PNG ``Software``, PDF ``CreationDate``/``Producer``/``Creator``, SVG ``Date``/``Creator``),
  a fixed ``svg.hashsalt`` and ``svg.id`` (SVG element ids are random otherwise) and a fixed :data:`DPI`;
- :func:`save_figure` writes atomically through :mod:`shortvid_analytics.files`.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot): no global state, no GUI
backend, safe in cron jobs and report builds. matplotlib is imported only when a figure is drawn: it
would otherwise add about half a second to every command's start-up.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from ..errors import OptionError
from ..files import write_bytes_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The formats a chart file may have, named by its suffix.
CHART_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
#: Resolution of raster output (PNG), in dots per inch.
DPI = 150
#: Qualitative colours for series (Tableau 10), in order of use.
PALETTE: tuple[str, ...] = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                            "#ff9da7", "#9c755f", "#bab0ac")
#: Colours with a meaning: a significant gain or loss, no significant difference, the period or value in
#: focus, the one it is compared with, and reference lines (zero, no effect).
GAIN, LOSS, NEUTRAL = "#2e7d32", "#c62828", "#455a64"
HIGHLIGHT, COMPARED, REFERENCE = "#c0392b", "#bbbbbb", "#808080"
HEATMAP_CMAP = "Blues"
#: Colour map for many categories (the events of a path chart).
CATEGORY_CMAP = "tab20"
GRID_COLOUR = "#e0e0e0"
#: The chart font; every figure uses it, so text is measured the same wherever the chart is drawn.
FONT = "DejaVu Sans"
#: Fonts tried, in order, for characters the chart font lacks (Chinese event names, creators, platforms).
#: None ships with matplotlib; Debian/Ubuntu: ``apt-get install fonts-noto-cjk`` (docs/digest.md).
FALLBACK_FONTS: tuple[str, ...] = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                                   "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN", "Microsoft YaHei",
                                   "PingFang SC", "Arial Unicode MS")
#: rcParams of a stand-alone chart, over matplotlib's defaults.
HOUSE_STYLE: Mapping[str, Any] = {
    "font.family": [FONT], "font.size": 9.0, "axes.titlesize": 10.0, "axes.labelsize": 9.0,
    "xtick.labelsize": 8.0, "ytick.labelsize": 8.0, "legend.fontsize": 8.0,
    "axes.prop_cycle": f"cycler(color={list(PALETTE)!r})", "image.cmap": HEATMAP_CMAP,
    "figure.facecolor": "white", "savefig.facecolor": "white",
    "path.simplify": True, "svg.hashsalt": "shortvid", "svg.id": "chart",
}
#: What a figure inside a document changes: smaller text, no legend frames, SVG text kept as text
#: (selectable in the PDF, drawn by the browser or WeasyPrint with the page's fonts, and much faster for
#: WeasyPrint to lay out than glyphs drawn as paths).
_DOCUMENT_CHANGES: Mapping[str, Any] = {
    "font.size": 8.0, "axes.titlesize": 9.0, "axes.labelsize": 8.0, "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5, "legend.fontsize": 7.5, "legend.frameon": False, "svg.fonttype": "none",
}
_reported_missing: set[str] = set()
_ACTIVE_STYLE: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "shortvid_chart_style", default=None)
_FIGURE_STYLE: weakref.WeakKeyDictionary[Figure, Mapping[str, Any]] = weakref.WeakKeyDictionary()
_P = ParamSpec("_P")
_R = TypeVar("_R")


def chart_format(path: str | Path) -> str:
    """The image format named by the suffix of ``path``; raises :class:`OptionError` when unsupported."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in CHART_FORMATS:
        endings = ", ".join(f".{fmt}" for fmt in CHART_FORMATS[:-1]) + f" or .{CHART_FORMATS[-1]}"
        raise OptionError(f"--chart {path}: expected a file name ending in {endings}")
    return suffix


@cache
def document_style() -> Mapping[str, Any]:
    """rcParams of a figure embedded in a document: the house style with smaller text, and the installed
    fallback fonts named in the font list (an SVG with text as text leaves the glyphs to the viewer)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return {**HOUSE_STYLE, **_DOCUMENT_CHANGES, "font.family": [FONT, *(f for f in FALLBACK_FONTS if f in installed)]}


@contextlib.contextmanager
def chart_style(document: bool = False) -> Iterator[None]:
    """Draw figures inside this block in the house style (``document``: :func:`document_style`).

    Inside a block that already set a style, the outer style stays: a report draws a command's figure
    (which asks for the house style) in the document style."""
    if _ACTIVE_STYLE.get() is not None:
        yield
        return
    with _applied(document_style() if document else HOUSE_STYLE):
        yield


def styled(draw: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run the figure-drawing function ``draw`` inside :func:`chart_style`."""

    @functools.wraps(draw)
    def drawn(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with chart_style():
            return draw(*args, **kwargs)

    return drawn


@contextlib.contextmanager
def _applied(style: Mapping[str, Any]) -> Iterator[None]:
    import matplotlib.style

    token = _ACTIVE_STYLE.set(style)
    try:
        with matplotlib.style.context(["default", dict(style)]):
            yield
    finally:
        _ACTIVE_STYLE.reset(token)


def new_figure(width: float, height: float, layout: Literal["constrained"] | None = "constrained") -> Figure:
    """An empty figure (size in inches) in the style of the enclosing :func:`chart_style` block, laid out
    by matplotlib's constrained layout unless ``layout`` is ``None`` (the caller places the axes)."""
    from matplotlib.figure import Figure

    style = _ACTIVE_STYLE.get()
    if style is None:
        raise RuntimeError("new_figure() is called inside chart_style() or a @styled function")
    fig = Figure(figsize=(width, height), layout=layout)
    _FIGURE_STYLE[fig] = style
    return fig


def style_axes(ax: Axes) -> None:
    """Light grid, no top/right spines."""
    ax.grid(True, color=GRID_COLOUR, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


#: Metadata that would change between runs or matplotlib versions, removed (``None``) from each format.
_NO_VOLATILE_METADATA: Mapping[str, Mapping[str, None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Producer": None, "Creator": None},
}


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """``fig`` as PNG, SVG or PDF bytes: the same figure gives the same bytes."""
    if fmt not in CHART_FORMATS:
        raise ValueError(f"chart format {fmt!r}: expected one of {', '.join(CHART_FORMATS)}")
    buffer = io.BytesIO()
    with _applied(_FIGURE_STYLE.get(fig, HOUSE_STYLE)), text_safe(fig):
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=dict(_NO_VOLATILE_METADATA[fmt]))
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | Path, option: str = "--chart") -> None:
    """Write ``fig`` to ``path`` atomically, in the format named by its suffix."""
    write_bytes_atomic(path, figure_bytes(fig, chart_format(path)), option)


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
