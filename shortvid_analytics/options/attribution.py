"""The options of ``attribution`` (``shortvid attribution``, :func:`..attribution.run`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..errors import OptionError
from ..eventspec import EventSpec
from ..periods import format_window, parse_window
from .declare import Options, option
from .shared import min_group_size_option, parse_event_window, selector_option

if TYPE_CHECKING:
    from ..source import EventSource

MODELS = ("last", "first", "linear", "time_decay", "platform")
DEFAULT_HALF_LIFE = timedelta(days=7)


@dataclass(frozen=True)
class AttributionModel:
    """A parsed ``--model``: its name and, for ``time_decay``, the half-life."""

    name: str
    half_life: timedelta | None = None

    @classmethod
    def parse(cls, text: str | AttributionModel) -> AttributionModel:
        """``last``, ``first``, ``linear``, ``time_decay``, ``time_decay:12h`` or ``platform``."""
        if isinstance(text, AttributionModel):
            return text
        name, colon, argument = text.strip().partition(":")
        name = name.strip().lower()
        if name not in MODELS:
            raise OptionError(f"{text!r}: expected one of last, first, linear, time_decay[:half_life], platform",
                              option="model")
        if name != "time_decay":
            if colon:
                raise OptionError(f"{text!r}: only time_decay takes a parameter (time_decay:12h)", option="model")
            return cls(name)
        if not colon:
            return cls(name, DEFAULT_HALF_LIFE)
        try:
            return cls(name, parse_window(argument))
        except OptionError:
            raise OptionError(f"{text!r}: half-life {argument.strip()!r} is not a positive duration such as 12h, "
                              "3d or 1w", option="model") from None

    def __str__(self) -> str:
        return f"time_decay:{format_window(self.half_life)}" if self.half_life else self.name


def check_top(top: int) -> int | None:
    """Groups to list; 0 lists all (``None``)."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise OptionError(f"{top}: expected a positive whole number, or 0 to list all", option="top")
    return top or None


@dataclass(frozen=True)
class AttributionOptions(Options):
    """The options of one attribution; the definitions are in docs/attribution.md."""

    touch: EventSpec = selector_option("video_view", "Touch events (selector; any-of with |).")
    conversion: EventSpec = selector_option("purchase", "Conversion events (selector).")
    window: timedelta = option("7d", parse=parse_event_window, help="Lookback before each conversion, e.g. 7d.")
    model: AttributionModel = option("last", parse=AttributionModel.parse,
                                     help="last | first | linear | time_decay[:half_life] | platform.")
    by: str = option("creator_id",
                     help="Credit groups: creator_id, video_id, traffic_source, platform or another column.")
    same_product: bool = option(False, kind="bool", help="Only touches carrying the conversion's product_id.")
    top: int | None = option(20, kind="int", parse=check_top, help="Groups to list (0: all); the rest are summed.")
    min_group_size: int = min_group_size_option()

    def check(self) -> None:
        if self.same_product and self.model.name == "platform":
            raise OptionError("--same-product has no meaning with --model platform (no touches are matched)")

    def params(self, source: EventSource) -> dict[str, Any]:
        """The ``params`` part of the JSON document."""
        half_life = self.model.half_life
        return {
            "source": source.describe(),
            "touch": str(self.touch),
            "conversion": str(self.conversion),
            "window": format_window(self.window),
            "window_s": self.window.total_seconds(),
            "model": self.model.name,
            "half_life": format_window(half_life) if half_life else None,
            "half_life_s": half_life.total_seconds() if half_life else None,
            "by": self.by,
            "same_product": self.same_product,
            "top": self.top,
            "min_group_size": self.min_group_size,
        }
