"""The options of ``kpi`` (``shortvid kpi``, the report's ``kpi`` section, :func:`..kpi.run`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..periods import Period
from .declare import Options, option
from .shared import min_group_size_option, period_option


@dataclass(frozen=True)
class KpiOptions(Options):
    """The options of one KPI table; the definitions are in docs/kpi.md."""

    period: Period = period_option(help="day, week (ISO, Monday) or month.", report_help="day, week or month")
    by: tuple[str, ...] = option((), kind="strs", parse=tuple,
                                 help="Also break down by this column (repeatable), e.g. platform.",
                                 report_help="also break down by this column (repeatable --by)")
    min_group_size: int = min_group_size_option()
