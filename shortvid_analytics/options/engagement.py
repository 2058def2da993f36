"""The options of ``engagement`` (``shortvid engagement``, the report's ``engagement`` section,
:func:`..engagement.run`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from ..kpi_definitions import INTERVAL_KEYS, SORT_KEYS
from . import check_int
from .declare import REQUIRED, Options, option
from .shared import min_group_size_option


def check_top(top: int) -> int:
    return check_int("top", top, 1, what="number of groups to show")


def check_min_views(min_views: int) -> int:
    return check_int("min_views", min_views, 0, what="number of views")


def check_sort(sort: str) -> str:
    if sort not in SORT_KEYS:
        raise OptionError(f"{sort!r}: expected one of {', '.join(SORT_KEYS)}", option="sort")
    return sort


@dataclass(frozen=True)
class EngagementOptions(Options):
    """The options of one engagement ranking; the definitions are in docs/engagement.md."""

    by: tuple[str, ...] = option(REQUIRED, kind="strs", parse=tuple, show_default=False,
                                 help="Group by this column (repeatable): video_id, creator_id, product_id, "
                                      "platform, traffic_source or any other dimension of the export.",
                                 report_help="group columns (repeatable --by)")
    top: int = option(20, kind="int", parse=check_top, minimum=1, help="Show this many groups.")
    min_views: int = option(0, kind="int", parse=check_min_views, minimum=0,
                            help="Only groups with at least this many views.")
    sort: str = option("views", parse=check_sort, help=f"Rank by this KPI (largest first): {', '.join(SORT_KEYS)}.",
                       report_help="rank by this KPI")
    rank_by_lower_bound: bool = option(
        False, kind="bool", help=f"Rank by the lower end of the 95% interval ({', '.join(INTERVAL_KEYS)}).")
    min_group_size: int = min_group_size_option()

    def check(self) -> None:
        if self.rank_by_lower_bound and self.sort not in INTERVAL_KEYS:
            raise OptionError(f"--rank-by-lower-bound: {self.sort} has no interval; sort by one of "
                              f"{', '.join(INTERVAL_KEYS)}")
