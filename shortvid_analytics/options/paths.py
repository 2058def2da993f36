"""The options of ``paths`` (``shortvid paths``, :func:`..paths.run`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..errors import OptionError
from ..eventspec import EventSpec
from ..periods import format_window
from . import MAX_STEPS
from .declare import Options, option
from .shared import min_group_size_option, parse_event_window, selector_option

if TYPE_CHECKING:
    from ..source import EventSource

#: How far a path reaches from its anchor without ``--window`` or ``--session``.
DEFAULT_WINDOW = timedelta(hours=24)


def check_steps(steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise OptionError(f"{steps}: expected a whole number from 1 to {MAX_STEPS}", option="steps")
    return steps


def check_top(top: int) -> int:
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise OptionError(f"{top}: expected a positive whole number", option="top")
    return top


@dataclass(frozen=True)
class PathsOptions(Options):
    """The options of one paths analysis; the definitions are in docs/paths.md."""

    start: EventSpec | None = selector_option(None, "Paths after this event selector.", show_default=False)
    end: EventSpec | None = selector_option(None, "Paths before this event; with --start: the conversion event.",
                                            show_default=False)
    steps: int = option(5, kind="int", parse=check_steps,
                        help=f"Steps per path, the anchor included (1..{MAX_STEPS}).")
    top: int = option(20, kind="int", parse=check_top, help="Sequences to list.")
    min_group_size: int = min_group_size_option()
    collapse_repeats: bool = option(False, kind="bool",
                                    help="Consecutive equal events are one step (video_view×3).")
    session: bool = option(False, kind="bool", help="One path per session, bounded by the session.")
    window: timedelta | None = option(None, parse=parse_event_window, show_default=False,
                                      help="How far a path reaches from its anchor (default 24h; not with --session).")

    def check(self) -> None:
        if self.start is None and self.end is None:
            raise OptionError("paths needs --start EVENT (paths after it) or --end EVENT (paths before it)")
        if self.session and self.window is not None:
            raise OptionError("--window and --session exclude each other: with --session the session bounds each "
                              "path")

    @property
    def horizon(self) -> timedelta | None:
        """How far a path reaches from its anchor; ``None`` with ``session`` (the session bounds it)."""
        if self.session:
            return None
        return DEFAULT_WINDOW if self.window is None else self.window

    def params(self, source: EventSource) -> dict[str, Any]:
        """The ``params`` part of the JSON document."""
        horizon = self.horizon
        return {
            "source": source.describe(),
            "start": str(self.start) if self.start else None,
            "end": str(self.end) if self.end else None,
            "steps": self.steps,
            "top": self.top,
            "collapse_repeats": self.collapse_repeats,
            "session": self.session,
            "window": format_window(horizon) if horizon else None,
            "window_s": horizon.total_seconds() if horizon else None,
            "min_group_size": self.min_group_size,
        }
