"""``engagement``: engagement and commerce KPIs per video, creator, product, platform or traffic source.

Every KPI and its 95% interval is defined once in :mod:`shortvid_analytics.kpi`; this module groups,
filters and ranks. An event belongs to the group of its own breakdown columns: a purchase counts
for the video/creator/product/platform/traffic source written on the purchase event itself, a view
for those on the view. Groups whose breakdown value is null form their own group (key ``null``).
With ``min_group_size`` > 1 the groups with fewer distinct users are pooled into one unranked row
(:func:`shortvid_analytics.privacy.pool_small_groups`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from . import sql
from .errors import OptionError
from .kpi import (
    COMMERCE_SUMS,
    CONFIDENCE,
    EVENT_SUMS,
    INGREDIENTS,
    KPIS,
    breakdown_columns,
    create_kpi_events,
    derive,
    empty_kpi_warnings,
    kpi_columns,
)
from .options.engagement import EngagementOptions
from .privacy import SUPPRESSED, SUPPRESSED_GROUPS, pool_small_groups
from .results import AnalysisResult
from .source import EventSource


@dataclass
class EngagementResult(AnalysisResult):
    """The top groups by the chosen metric; ``groups`` has one row per group in rank order, then the
    pooled row of the suppressed groups (rank null, ``suppressed`` true) when there is one."""

    kind = "engagement"
    groups: pl.DataFrame = field(default_factory=pl.DataFrame)
    groups_total: int = 0
    groups_eligible: int = 0
    groups_suppressed: int = 0
    warnings: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "groups_total": self.groups_total,
            "groups_eligible": self.groups_eligible,
            "groups_suppressed": self.groups_suppressed,
            "groups": self.groups.to_dicts(),
            "warnings": self.warnings,
        }

    def to_frame(self) -> pl.DataFrame:
        """One row per shown group (rank, breakdown values, every KPI with its interval), then the pooled row."""
        return self.groups


def run(source: EventSource, options: EngagementOptions) -> EngagementResult:
    """KPIs per group of the ``by`` columns; the ``top`` groups with at least ``min_views`` views.

    Groups are ranked by ``sort`` (largest first) or, with ``rank_by_lower_bound``, by the lower end of
    its 95% interval, so that a small group is not ranked above a large one by luck. Ties are broken
    by more views, then by the breakdown values in ascending order; groups whose sort value is
    undefined (e.g. a rate without views) come last. Groups with fewer than ``min_group_size``
    distinct users (``active_users``; null when ``min_group_size`` is 1, as counting them doubles the cost
    of the scan) are neither ranked nor counted as eligible: they are pooled into one row after the
    ranked ones.
    """
    by, top, min_views, sort = options.by, options.top, options.min_views, options.sort
    rank_by_lower_bound, min_group_size = options.rank_by_lower_bound, options.min_group_size
    columns = breakdown_columns(source, by)
    if not columns:
        raise OptionError("--by: give at least one column to group by, e.g. --by creator_id")
    create_kpi_events(source)
    raw = sql.run(source.con, "engagement", context={
        "columns": columns, "event_sums": EVENT_SUMS, "commerce_sums": COMMERCE_SUMS,
        "count_active": min_group_size > 1,
    })
    pooled = pool_small_groups(raw, "active_users", min_group_size, sums=[*INGREDIENTS, "active_users"])
    derived = derive(pooled).select(*columns, *kpi_columns(KPIS), "active_users", SUPPRESSED, SUPPRESSED_GROUPS)
    groups = derived.filter(pl.col(SUPPRESSED).not_())
    suppressed = derived.filter(pl.col(SUPPRESSED))
    eligible = groups.filter(pl.col("views") >= min_views)
    key = f"{sort}_ci_low" if rank_by_lower_bound else sort
    ranked = eligible.sort(
        [key, "views", *columns],
        descending=[True, True, *([False] * len(columns))],
        nulls_last=True,
    ).head(top)
    ranked = ranked.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))
    ranked = pl.concat([ranked, suppressed.select(pl.lit(None, dtype=pl.Int64).alias("rank"), pl.all())])
    n_suppressed = int(suppressed[SUPPRESSED_GROUPS].sum())
    return EngagementResult(
        params={
            "source": source.describe(),
            "by": columns,
            "top": top,
            "min_views": min_views,
            "sort": sort,
            "rank_by_lower_bound": rank_by_lower_bound,
            "min_group_size": min_group_size,
            "confidence": CONFIDENCE,
        },
        groups=ranked,
        groups_total=groups.height + n_suppressed,
        groups_eligible=eligible.height,
        groups_suppressed=n_suppressed,
        warnings=empty_kpi_warnings(source, raw),
    )


def engagement(source: EventSource, *args: Any, **values: Any) -> EngagementResult:
    """:func:`run` with the options given as :class:`EngagementOptions` fields: ``engagement(source,
    ["creator_id"], top=10)``."""
    return run(source, EngagementOptions(*args, **values))
