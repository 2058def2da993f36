"""Terminal rendering of KPI values and of :class:`KpiResult`; the number formats every KPI renderer uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..kpi import KpiResult
from ..kpi_definitions import KPI_BY_NAME
from ..privacy import SUPPRESSED, SUPPRESSED_GROUPS, suppressed_label
from .blocks import unclipped
from .console import fmt_number, fmt_pct

#: KPIs shown in terminal tables of periods (JSON/CSV carry all of them, with intervals).
PERIOD_TABLE_KPIS: tuple[str, ...] = (
    "views", "engagement_rate", "orders", "gmv", "user_conversion_rate", "refund_rate", "dau", "mau",
    "stickiness",
)
#: Column headings of terminal tables, short enough for 120 columns (full labels: ``Kpi.label``).
SHORT_LABELS: dict[str, str] = {
    "engagement_rate": "Eng. rate", "completion_rate": "Compl.", "mean_watch_time_s": "Watch s",
    "ctr": "CTR", "user_conversion_rate": "Conv.", "refund_rate": "Refund", "stickiness": "Sticky",
    "refund_revenue": "Refunded", "refunded_orders": "Ref. orders", "clicks": "Clicks",
}


def fmt_kpi(name: str, value: Any) -> str:
    """A KPI value in its unit: counts whole (means of counts to 0.1), money to 2 decimals, ratios in %."""
    unit = KPI_BY_NAME[name].unit
    if value is None:
        return "-"
    if unit == "ratio":
        return fmt_pct(value)
    if unit == "count":
        # counts are whole; a mean of counts (DAU, a trailing mean) keeps one decimal
        if isinstance(value, int) or float(value).is_integer():
            return fmt_number(int(value))
        return fmt_number(float(value), 1)
    if unit == "seconds":
        return fmt_number(float(value), 1)
    return fmt_number(float(value), 2)


def fmt_change(name: str, change: float | None) -> str:
    """A signed difference in the KPI's unit; ratios in percentage points (``+0.52 pp``)."""
    if change is None:
        return "-"
    if KPI_BY_NAME[name].unit == "ratio":
        return f"{100 * change:+.2f} pp"
    return ("+" if change > 0 else "") + fmt_kpi(name, change)


def fmt_change_pct(change_pct: float | None) -> str:
    """A signed relative change in percent (``+3.4%``); ``-`` when undefined."""
    if change_pct is None:
        return "-"
    return f"{100 * change_pct:+.1f}%"


def fmt_interval(name: str, low: float | None, high: float | None) -> str:
    """``[low, high]`` in the KPI's unit, ``-`` when undefined."""
    if low is None or high is None:
        return "-"
    return f"[{fmt_kpi(name, low)}, {fmt_kpi(name, high)}]"


def compact_table(title: str) -> Table:
    """A table with light borders, so that wide KPI tables fit a terminal."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def add_key_columns(table: Table, names: Sequence[str]) -> None:
    """Left-aligned columns for periods and breakdown values; never squeezed away."""
    for name in names:
        table.add_column(name, no_wrap=True, min_width=min(len(name), 8))


def key_text(value: Any) -> str:
    """A breakdown value as shown in tables: ``(none)`` for null."""
    return "(none)" if value is None else str(value)


def key_cells(row: dict[str, Any], names: Sequence[str], min_group_size: int) -> list[str]:
    """The breakdown values of a row; for the pooled row of suppressed groups ``<K users (n groups)``."""
    if row.get(SUPPRESSED):
        return [suppressed_label(min_group_size, row[SUPPRESSED_GROUPS]), *([""] * (len(names) - 1))]
    return [key_text(row[c]) for c in names]


def add_kpi_columns(table: Table, names: Sequence[str]) -> None:
    """Right-aligned columns headed by the KPIs' short labels."""
    for name in names:
        table.add_column(SHORT_LABELS.get(name, KPI_BY_NAME[name].label), justify="right", no_wrap=True)


def kpi_table(result: KpiResult) -> Group:
    """One row per period (and breakdown value); partial periods marked with ``*``."""
    by = list(result.params["by"])
    table = compact_table(f"KPIs per {result.params['period']}")
    add_key_columns(table, ["period", *by])
    add_kpi_columns(table, PERIOD_TABLE_KPIS)
    for row in result.periods.iter_rows(named=True):
        label = row["period"] + ("" if row["complete"] else "*")
        keys = key_cells(row, by, result.params["min_group_size"])
        table.add_row(label, *keys, *(fmt_kpi(n, row[n]) for n in PERIOD_TABLE_KPIS))
    parts: list[Any] = [unclipped(table, keys=1 + len(by))]
    if not result.periods["complete"].all():
        parts.append(Text("* partial period: not every day of it has events in the data", style="yellow"))
    return Group(*parts)
