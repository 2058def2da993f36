"""The options of ``funnel`` (``shortvid funnel``, the report's ``funnel`` section, :func:`..funnel.run`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..errors import OptionError
from ..eventspec import EventSpec, parse_list
from ..periods import Period, format_window, parse_period
from . import DEFAULT_BY_LIMIT, FunnelOrder
from .declare import REQUIRED, Options, option
from .shared import min_group_size_option, parse_event_window

if TYPE_CHECKING:
    from ..source import EventSource

#: Step or exclusion selectors: a comma-separated string, or a sequence of selector strings / parsed specs.
Selectors = str | list[str | EventSpec] | tuple[str | EventSpec, ...]


def parse_selectors(selectors: Selectors) -> tuple[EventSpec, ...]:
    """Selectors from one comma-separated string or a sequence of selector strings / parsed specs."""
    if isinstance(selectors, str):
        return tuple(parse_list(selectors))
    return tuple(s if isinstance(s, EventSpec) else EventSpec.parse(s) for s in selectors)


def parse_steps(steps: Selectors) -> tuple[EventSpec, ...]:
    """At least two step selectors."""
    specs = parse_selectors(steps)
    if len(specs) < 2:
        raise OptionError(f"a funnel needs at least 2 steps, got {len(specs)}", option="steps")
    return specs


def parse_order(order: str) -> FunnelOrder:
    try:
        return FunnelOrder(order)
    except ValueError:
        raise OptionError(f"{order!r}: expected ordered, strict or unordered", option="order") from None


def check_by_limit(by_limit: int) -> int:
    if isinstance(by_limit, bool) or not isinstance(by_limit, int) or by_limit < 0:
        raise OptionError(f"{by_limit}: must be 0 (every value) or more", option="by_limit")
    return by_limit


def parse_trends(trends: str | Period) -> Period:
    period = trends if isinstance(trends, Period) else parse_period(trends)
    if period not in (Period.day, Period.week):
        raise OptionError(f"{period.value}: expected day or week", option="trends")
    return period


@dataclass(frozen=True)
class FunnelOptions(Options):
    """The options of one funnel; the definitions are in docs/funnel.md."""

    steps: tuple[EventSpec, ...] = option(
        REQUIRED, kind="list", parse=parse_steps, show_default=False,
        help="Comma-separated steps, e.g. video_view,product_click,add_to_cart|checkout,purchase[platform=douyin].",
        report_help="step selectors, e.g. video_view,product_click,purchase")
    window: timedelta = option("24h", parse=parse_event_window,
                               help="Conversion window from the step-1 event: 30m, 24h, 7d, ...")
    order: FunnelOrder = option(
        "ordered", parse=parse_order, choices=tuple(o.value for o in FunnelOrder),
        help="ordered: steps in order, other events allowed between; strict: no other event between; "
             "unordered: steps in any order.")
    exclude: tuple[EventSpec, ...] = option(
        (), kind="strs", parse=parse_selectors,
        help="Remove users doing this event between step 1 and their last step (repeatable).")
    by: str | None = option(None, help="Break down by this property of the step-1 event.")
    by_limit: int = option(DEFAULT_BY_LIMIT, kind="int", parse=check_by_limit, minimum=0,
                           help="Breakdown values kept (most entrants first); the rest pooled as 'other'. "
                                "0 keeps all.")
    min_group_size: int = min_group_size_option()
    hold: str | None = option(None, help="Property that must keep the step-1 value on every step, e.g. product_id.")
    trends: Period | None = option(None, parse=parse_trends, choices=("day", "week"),
                                   help="Also compute the funnel per entry day or week.")

    def check(self) -> None:
        for exclusion in self.exclude:
            if exclusion in self.steps:
                raise OptionError(f"{exclusion}: it is also a step; an exclusion must differ from every step",
                                  option="exclude")

    def validate(self, source: EventSource) -> None:
        """Check events and properties against the data (unknown ones raise, listing what exists)."""
        for spec in self.steps:
            spec.validate(source, "step")
        for spec in self.exclude:
            spec.validate(source, "--exclude event")
        if self.by:
            source.require_column(self.by, "--by property")
        if self.hold:
            source.require_column(self.hold, "--hold property")

    def params(self, source: EventSource) -> dict[str, Any]:
        """The ``params`` part of the JSON document."""
        return {
            "source": source.describe(),
            "steps": [str(s) for s in self.steps],
            "window": format_window(self.window),
            "window_s": self.window.total_seconds(),
            "order": self.order.value,
            "exclude": [str(e) for e in self.exclude],
            "by": self.by,
            "by_limit": self.by_limit if self.by else None,
            "min_group_size": self.min_group_size,
            "hold": self.hold,
            "trends": self.trends.value if self.trends else None,
        }
