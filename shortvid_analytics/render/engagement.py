"""Terminal rendering of :class:`EngagementResult`."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from ..engagement import EngagementResult
from ..kpi_definitions import KPI_BY_NAME
from .blocks import unclipped
from .kpi import add_key_columns, add_kpi_columns, compact_table, fmt_interval, fmt_kpi, key_cells

#: KPIs shown in the terminal (JSON/CSV carry all of them, with intervals); the sort metric is added.
TABLE_KPIS: tuple[str, ...] = (
    "views", "viewers", "engagement_rate", "ctr", "orders", "gmv", "gpm", "user_conversion_rate", "refund_rate",
)


def engagement_table(result: EngagementResult) -> Group:
    """Rank, breakdown values, the main KPIs and the 95% interval of the sort metric."""
    params = result.params
    sort = params["sort"]
    names = list(TABLE_KPIS) + ([sort] if sort not in TABLE_KPIS else [])
    by = list(params["by"])
    order = "lower 95% bound of " if params["rank_by_lower_bound"] else ""
    shown = result.groups.height - (1 if result.groups_suppressed else 0)
    table = compact_table(f"Top {shown} by {order}{KPI_BY_NAME[sort].label}")
    table.add_column("#", justify="right", no_wrap=True)
    add_key_columns(table, by)
    add_kpi_columns(table, names)
    interval = KPI_BY_NAME[sort].interval is not None
    if interval:
        table.add_column("95% CI", justify="right", no_wrap=True)
    for row in result.groups.iter_rows(named=True):
        rank = "" if row["rank"] is None else str(row["rank"])
        cells = [rank, *key_cells(row, by, params["min_group_size"])]
        cells += [fmt_kpi(n, row[n]) for n in names]
        if interval:
            cells.append(fmt_interval(sort, row[f"{sort}_ci_low"], row[f"{sort}_ci_high"]))
        table.add_row(*cells)
    note = (f"{result.groups_eligible:,} of {result.groups_total:,} groups have at least "
            f"{params['min_views']:,} views")
    if result.groups_suppressed:
        note += (f"; {result.groups_suppressed:,} group(s) with fewer than {params['min_group_size']:,} users "
                 f"are suppressed: pooled in the last row, not ranked")
    return Group(unclipped(table, keys=1 + len(by)), Text(note))
