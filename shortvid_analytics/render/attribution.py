"""Terminal rendering of :class:`AttributionResult`."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..attribution import AttributionResult
from ..privacy import suppressed_label
from .blocks import unclipped
from .console import fmt_number, fmt_pct


def attribution_table(result: AttributionResult) -> Group:
    """Model line, one row per credited group, other groups, attributed / unattributed / total rows."""
    p = result.params
    model = f"time_decay (half-life {p['half_life']})" if p["half_life"] else p["model"]
    if p["model"] == "platform":
        header = f"{p['conversion']} credited to its own {p['by']} (model platform)"
    else:
        header = (f"{p['conversion']} credited to {p['touch']} touches within {p['window']} before it"
                  f"{' on the same product' if p['same_product'] else ''}, by {p['by']}, model {model}")

    table = Table(title="Attributed orders and GMV", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column(p["by"])
    for name in ("conversions", "orders", "GMV", "touches", "GPM", "share of GMV", "share of orders"):
        table.add_column(name, justify="right")
    for g in result.groups:
        table.add_row(str(g.rank), "(none)" if g.group is None else g.group, fmt_number(g.conversions),
                      fmt_number(g.attributed_orders), fmt_number(g.attributed_gmv), fmt_number(g.touches),
                      fmt_number(g.gpm), fmt_pct(g.share_of_total), fmt_pct(g.orders_share_of_total))
    pooled = [(f"other ({fmt_number(result.other.groups)} groups)", result.other)] if result.other else []
    if result.suppressed:
        pooled.append((suppressed_label(p["min_group_size"], result.suppressed.groups), result.suppressed))
    for label, o in pooled:
        table.add_row("", label, "", fmt_number(o.attributed_orders),
                      fmt_number(o.attributed_gmv), fmt_number(o.touches), "", fmt_pct(o.share_of_total),
                      fmt_pct(o.orders_share_of_total))
    table.add_section()
    for label, part in (("attributed", result.attributed), ("unattributed", result.unattributed),
                        ("all conversions", result.totals)):
        table.add_row("", label, fmt_number(part.conversions), fmt_number(part.orders), fmt_number(part.gmv),
                      "", "", "", "")

    parts: list[RenderableType] = [Text(header), unclipped(table, keys=2)]
    parts += [Text(f"note: {n}", style="cyan") for n in result.notes]
    return Group(*parts)
