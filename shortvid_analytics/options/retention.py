"""The options of ``retention`` (``shortvid retention``, the report section, :func:`..retention.run`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from ..errors import OptionError
from ..eventspec import EventSpec
from ..periods import Period
from . import MAX_PERIODS, check_int
from .declare import Options, option
from .shared import min_group_size_option, period_option, selector_option

if TYPE_CHECKING:
    from ..source import EventSource


class RetentionMode(str, Enum):
    """How cohort entries are formed from start events."""

    first_time = "first-time"
    recurring = "recurring"


def parse_mode(text: str) -> RetentionMode:
    """``first-time`` or ``recurring``."""
    try:
        return RetentionMode(text.strip().lower())
    except ValueError:
        raise OptionError(f"{text!r}: expected first-time or recurring", option="mode") from None


def check_periods(periods: int) -> int:
    """A number of periods in 1 .. :data:`MAX_PERIODS` (the triangle has periods x cohorts cells)."""
    return check_int("periods", periods, 1, MAX_PERIODS, "number of periods (k = 0 .. N-1)")


@dataclass(frozen=True)
class RetentionOptions(Options):
    """The options of one retention triangle; the definitions are in docs/retention.md."""

    start: EventSpec = selector_option("video_view", "Start event selector, e.g. video_view or "
                                                     "purchase[platform=douyin].", report_help="start event selector")
    return_event: EventSpec | None = selector_option(
        None, "Return event selector (default: the start selector).", flag="--return", key="return",
        show_default=False)
    period: Period = period_option(report_help="day, week or month")
    periods: int = option(8, kind="int", parse=check_periods, minimum=1, help="Periods per cohort, k = 0 .. N-1.")
    mode: RetentionMode = option("first-time", parse=parse_mode,
                                 help="first-time: cohort of the first start event; recurring: every period with "
                                      "a start event.")
    unbounded: bool = option(False, kind="bool",
                             help="Retained at k = returned in period k or any later one.")
    by: str | None = option(None, help="Break down by this property of the first start event.")
    min_group_size: int = min_group_size_option()

    @property
    def returning(self) -> EventSpec:
        """The return event: the start selector unless another is given."""
        return self.return_event or self.start

    def validate(self, source: EventSource) -> None:
        """Check events and properties against the data (unknown ones raise, listing what exists)."""
        self.start.validate(source, "start event")
        self.returning.validate(source, "return event")
        if self.by is not None:
            source.require_column(self.by, "--by property")

    def params(self, source: EventSource) -> dict[str, Any]:
        """The ``params`` part of the JSON document."""
        return {"source": source.describe(), "start": str(self.start), "return": str(self.returning),
                "period": self.period.value, "periods": self.periods, "mode": self.mode.value,
                "unbounded": self.unbounded, "by": self.by, "min_group_size": self.min_group_size}
