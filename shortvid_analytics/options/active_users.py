"""The options of ``lifecycle`` and ``stickiness``: the users active per calendar period (``shortvid lifecycle``,
``shortvid stickiness``, their report sections, :func:`..lifecycle.run`, :func:`..stickiness.run`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from ..eventspec import EventSpec
from ..periods import Period
from .declare import Options
from .shared import period_option, selector_option


@dataclass(frozen=True)
class LifecycleOptions(Options):
    """The options of one lifecycle; the definitions are in docs/lifecycle.md."""

    event: EventSpec = selector_option(
        "video_view", "Event selector that makes a user active, e.g. video_view or purchase[platform=douyin].",
        report_help="event selector that makes a user active")
    period: Period = period_option(report_help="day, week or month")


@dataclass(frozen=True)
class StickinessOptions(LifecycleOptions):
    """The options of one stickiness analysis (weeks or months); the definitions are in docs/stickiness.md."""

    def check(self) -> None:
        if self.period is Period.day:
            raise OptionError("day: stickiness counts active days within a week or a month; expected week or month",
                              option="period")
