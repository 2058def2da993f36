"""``platform_comparison``: the groups of one dimension side by side, from ``engagement`` and ``funnel``
with ``by`` that dimension (both commands are listed in the appendix)."""

from __future__ import annotations

from typing import Any

from ...engagement import engagement
from ...eventspec import EventSpec
from ...funnel import funnel
from ...periods import parse_window
from ...render.funnel import funnel_figure
from ..content import Doc, Paragraph, SectionOutput, Table, label, prose
from ..figures import embed, report_style
from ..spec import Param, Section
from .base import SectionContext, SectionType, group_name
from .engagement import KPI_BY_NAME, definitions, fmt, interval

COMPARISON_PARAMS = (
    Param("by", "str", "platform", "the dimension compared", cli=None),
    Param("steps", "list", ["video_view", "product_click", "add_to_cart", "checkout", "purchase"],
          "funnel steps", cli=None, check=lambda steps: [EventSpec.parse(s) for s in steps]),
    Param("window", "str", "24h", "funnel conversion window", cli=None, check=parse_window),
)
COMPARED = ("views", "viewers", "engagement_rate", "completion_rate", "mean_watch_time_s", "ctr",
            "user_conversion_rate", "orders", "gmv", "aov", "gpm", "refund_rate")


def run_comparison(ctx: SectionContext, section: Section) -> SectionOutput:
    """KPIs (``engagement --by``) and the funnel (``funnel --by``) of each value side by side."""
    p = section.params
    source = ctx.source(section)
    k = ctx.min_group_size
    kpis = engagement(source, [p["by"]], top=1000, sort="views", min_group_size=k).to_dict()
    funnel_obj = funnel(source, p["steps"], window=p["window"], by=p["by"], min_group_size=k)
    doc = Doc({"engagement": kpis, "funnel": funnel_obj.to_dict()})
    out = SectionOutput(results=doc.results, commands={
        "engagement": ctx.command(section, "engagement", "--by", p["by"], "--top", 1000, *ctx.suppression_args()),
        "funnel": ctx.command(section, "funnel", "--steps", ",".join(p["steps"]), "--window", p["window"],
                              "--by", p["by"], *ctx.suppression_args()),
    })
    groups = kpis["groups"]
    out.blocks += _comparison_reading(doc, groups, p["by"], k)
    rows = [[label(KPI_BY_NAME[name].label)] + [doc.cell(f"/engagement/groups/{g}/{name}", fmt(name))
                                            for g in range(len(groups))] for name in COMPARED]
    out.blocks.append(Table(f"Key KPIs by {p['by']} (whole period).",
                            ["KPI", *(group_name(g, p["by"], k) for g in groups)], rows))
    funnel_groups = doc.results["funnel"].get("breakdown") or []
    steps = doc.results["funnel"]["steps"]
    rows = [[doc.cell(f"/funnel/steps/{i}/event", "text")]
            + [doc.cell(f"/funnel/breakdown/{g}/steps/{i}/conversion_from_start", "pct2")
               for g in range(len(funnel_groups))] for i in range(len(steps))]
    out.blocks.append(Table(f"Funnel conversion from the first step by {p['by']} ({p['window']} window).",
                            ["step", *(group_name(g, "value", k) for g in funnel_groups)], rows))
    with report_style():
        out.blocks.append(embed(funnel_figure(funnel_obj), f"Users reaching each funnel step by {p['by']}, "
                                "labelled with the conversion from the first step.", "grouped funnel bars"))
    return out


def _comparison_reading(doc: Doc, groups: list[dict], by: str, min_group_size: int) -> list[Paragraph]:
    if len(groups) < 2:
        return []
    parts = "; ".join(f"{{g{i}}}: {{v{i}}} (95% CI {{lo{i}}} to {{hi{i}}})" for i in range(len(groups)))
    values: dict[str, Any] = {}
    for i in range(len(groups)):
        base = f"/engagement/groups/{i}"
        iv = interval(doc, base, "user_conversion_rate")
        name = (group_name(groups[i], by, min_group_size) if groups[i]["suppressed"]
                else doc.span(f"{base}/{by}", "text"))
        values |= {f"g{i}": name, f"v{i}": iv["v"], f"lo{i}": iv["lo"], f"hi{i}": iv["hi"]}
    return [prose("Share of viewers who bought (user conversion rate) by " + by + ": " + parts + ". Where the "
                  "intervals overlap, the data do not separate the groups; either way this is a comparison of "
                  "audiences, not an effect of the " + by + ".", **values)]


SECTION = SectionType(name="platform_comparison", params=COMPARISON_PARAMS, run=run_comparison,
                      summary="side-by-side comparison (engagement and funnel by one dimension)",
                      definitions=definitions)
