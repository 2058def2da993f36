"""``engagement`` and ``kpi``: the KPIs of the product README in report form.

Both use the KPI definitions of :mod:`...kpi` (labels, units, intervals): ``engagement`` ranks
groups (``shortvid engagement``), ``kpi`` shows KPIs per period (``shortvid kpi``).
"""

from __future__ import annotations

from typing import Any

from ... import engagement as engagement_lib
from ... import kpi as kpi_lib
from ...kpi import KPIS
from ...options.engagement import EngagementOptions
from ...options.kpi import KpiOptions
from ...render.charts import PALETTE
from ..content import Doc, Figure, Paragraph, SectionOutput, Table, label, prose
from ..figures import embed, new_axes, percent_axis, report_style
from ..spec import Section, options_from, params_of
from .base import SectionContext, SectionType, cli_args, group_cells

KPI_BY_NAME = {k.name: k for k in KPIS}
_FORMATS = {"count": "int", "ratio": "pct2", "money": "n2", "seconds": "n1", "per_mille_views": "n2"}
#: The KPIs shown in group and period tables (the JSON has them all).
SHOWN = ("views", "viewers", "engagement_rate", "completion_rate", "ctr", "user_conversion_rate", "orders",
         "gmv", "aov", "gpm", "refund_rate")


def fmt(name: str) -> str:
    """Display format of a KPI by its unit."""
    return _FORMATS[KPI_BY_NAME[name].unit] if name in KPI_BY_NAME else "n2"


def definitions() -> str:
    """The KPI definitions as a Markdown table (from :data:`...kpi.KPIS`, the single source)."""
    rows = "\n".join(f"| {k.label} | {k.definition} |" for k in KPIS)
    return ("| KPI | definition |\n|---|---|\n" + rows + "\n\nRates carry 95% intervals: Wilson score "
            "intervals for proportions, exact Poisson intervals for counts per view. See `docs/kpi.md`.")


def _kpi_cells(doc: Doc, base: str, names: tuple[str, ...]) -> list:
    return [doc.cell(f"{base}/{name}", fmt(name)) for name in names]


def interval(doc: Doc, base: str, name: str) -> dict[str, Any]:
    """Spans ``v``, ``lo``, ``hi``: a rate at ``base/name`` and its 95% interval."""
    return {"v": doc.span(f"{base}/{name}", "pct2"), "lo": doc.span(f"{base}/{name}_ci_low", "pct2"),
            "hi": doc.span(f"{base}/{name}_ci_high", "pct2")}


# ------------------------------------------------------------------------------------ engagement
ENGAGEMENT_PARAMS = params_of(EngagementOptions)


def run_engagement(ctx: SectionContext, section: Section) -> SectionOutput:
    """Run ``engagement``; ranked group table, a bar chart of the sort KPI and a reading."""
    p = section.params
    result = engagement_lib.run(ctx.source(section), options_from(EngagementOptions, p,
                                                                  min_group_size=ctx.min_group_size)).to_dict()
    doc = Doc({"engagement": result})
    out = SectionOutput(results=doc.results, commands={
        "engagement": ctx.command(section, "engagement", *cli_args(section, ENGAGEMENT_PARAMS),
                                  *ctx.suppression_args())})
    groups, by, sort = result["groups"], result["params"]["by"], result["params"]["sort"]
    ranked = [g for g in groups if not g["suppressed"]]
    if ranked:
        out.blocks.append(_engagement_reading(doc, ranked, by, sort, result["params"]["rank_by_lower_bound"]))
    rows = [[doc.cell(f"/engagement/groups/{i}/rank", "int")]
            + group_cells(doc, f"/engagement/groups/{i}", g, by, ctx.min_group_size)
            + _kpi_cells(doc, f"/engagement/groups/{i}", SHOWN) for i, g in enumerate(groups)]
    pooled = (f" The last row pools the {result['groups_suppressed']:,} groups with fewer than {ctx.min_group_size:,} "
              f"users (not ranked)." if result["groups_suppressed"] else "")
    out.blocks.append(Table(
        f"KPIs by {', '.join(by)}: the top {len(ranked)} of {result['groups_eligible']:,} groups"
        + (f" with at least {result['params']['min_views']:,} views" if result["params"]["min_views"] else "")
        + f", ranked by {sort}" + (" (lower 95% bound)" if result["params"]["rank_by_lower_bound"] else "") + "."
        + pooled,
        ["#", *by, *(KPI_BY_NAME[n].label for n in SHOWN)], rows,
        note="Rates are shares (engagement rate: interactions per view); GMV and AOV in the export's currency; "
             "GPM = GMV per 1,000 views."))
    if ranked:
        out.blocks.append(_groups_figure(ranked, by, "user_conversion_rate"))
    return out


def _engagement_reading(doc: Doc, groups: list[dict], by: list[str], sort: str, lower: bool) -> Paragraph:
    base = "/engagement/groups/0"
    name = " / ".join(f"{{g{i}}}" for i in range(len(by)))
    values = {f"g{i}": doc.span(f"{base}/{col}", "text") for i, col in enumerate(by)}
    text = ("Ranked by " + KPI_BY_NAME[sort].label.lower() + (" (the lower end of its 95% interval)" if lower else "")
            + ", the top " + " / ".join(by) + " is " + name + " with {value} over {views} views; its user "
            "conversion rate is {v} (95% CI {lo} to {hi}).")
    if len(groups) > 1:
        text += " Differences between groups are associations: groups differ in audience, content and products."
    return prose(text, value=doc.span(f"{base}/{sort}", fmt(sort)), views=doc.span(f"{base}/views", "int"),
                 **values, **interval(doc, base, "user_conversion_rate"))


def _groups_figure(groups: list[dict], by: list[str], kpi: str) -> Figure:
    """Horizontal bars of one rate per group with its 95% interval."""
    shown = groups[:15]
    names = [" / ".join(str(g[c]) for c in by) for g in shown][::-1]
    values = [g[kpi] or 0 for g in shown][::-1]
    lows = [max(0.0, (g[kpi] or 0) - (g[f"{kpi}_ci_low"] or 0)) for g in shown][::-1]
    highs = [max(0.0, (g[f"{kpi}_ci_high"] or 0) - (g[kpi] or 0)) for g in shown][::-1]
    with report_style():
        fig, ax = new_axes(height_in=0.24 * len(shown) + 1.0)
        ax.barh(names, values, xerr=[lows, highs], color=PALETTE[0], ecolor="#555555", capsize=2)
        ax.set_xlabel(KPI_BY_NAME[kpi].label.lower())
        percent_axis(ax, "x", 1)
        ax.grid(axis="y", visible=False)
        return embed(fig, f"{KPI_BY_NAME[kpi].label} by {' / '.join(by)} with 95% intervals.",
                     f"bar chart of {kpi} per group")


# ------------------------------------------------------------------------------------------- kpi
KPI_PARAMS = params_of(KpiOptions)


def run_kpi(ctx: SectionContext, section: Section) -> SectionOutput:
    """Run ``kpi``; the KPI table per period (and breakdown value) and a reading of the last complete one."""
    p = section.params
    result = kpi_lib.run(ctx.source(section), options_from(KpiOptions, p, min_group_size=ctx.min_group_size)).to_dict()
    doc = Doc({"kpi": result})
    out = SectionOutput(results=doc.results, commands={
        "kpi": ctx.command(section, "kpi", *cli_args(section, KPI_PARAMS), *ctx.suppression_args())})
    by = result["params"]["by"]
    complete = [i for i, row in enumerate(result["periods"]) if row["complete"]]
    if complete and not by:
        out.blocks.append(_last_period_reading(doc, result, complete[-1]))
    out.blocks.append(_kpi_table(doc, result, ctx.min_group_size))
    return out


def _last_period_reading(doc: Doc, result: dict, index: int) -> Paragraph:
    """The KPIs of one (the last complete) period in a sentence."""
    base = f"/kpi/periods/{index}"
    return prose(
        "In the last complete " + result["params"]["period"] + " ({period}), {dau} users were active on an "
        "average day; {viewers} viewers made {views} video views, and {conv} of viewers bought "
        "(95% CI {lo} to {hi}) for a GMV of {gmv}.",
        period=doc.span(f"{base}/period", "text"), dau=doc.span(f"{base}/dau", "n0"),
        viewers=doc.span(f"{base}/viewers", "int"), views=doc.span(f"{base}/views", "int"),
        conv=doc.span(f"{base}/user_conversion_rate", "pct2"),
        lo=doc.span(f"{base}/user_conversion_rate_ci_low", "pct2"),
        hi=doc.span(f"{base}/user_conversion_rate_ci_high", "pct2"), gmv=doc.span(f"{base}/gmv", "n2"))


def _kpi_table(doc: Doc, result: dict, min_group_size: int) -> Table:
    """One column per period when there are few and no breakdown, else one row per period (and value)."""
    by = result["params"]["by"]
    periods = result["periods"]
    caption = f"KPIs per {result['params']['period']}" + (f" and {', '.join(by)}" if by else "") + "."
    note = ("DAU: mean daily active users over the days of the period in the data. Periods not fully covered by "
            "the data are marked incomplete in the JSON (complete = false).")
    if not by and len(periods) <= 8:  # few periods: one column per period, one row per KPI
        rows = [[label("DAU")] + [doc.cell(f"/kpi/periods/{i}/dau", "n0") for i in range(len(periods))]]
        rows += [[label(KPI_BY_NAME[name].label)] + [doc.cell(f"/kpi/periods/{i}/{name}", fmt(name))
                                                 for i in range(len(periods))] for name in SHOWN]
        return Table(caption, ["KPI", *(row["period"] for row in periods)], rows, note=note)
    rows = [[doc.cell(f"/kpi/periods/{i}/period", "text")]
            + (group_cells(doc, f"/kpi/periods/{i}", row, by, min_group_size) if by else [])
            + [doc.cell(f"/kpi/periods/{i}/dau", "n0")] + _kpi_cells(doc, f"/kpi/periods/{i}", SHOWN)
            for i, row in enumerate(periods)]
    if by:
        note += (f" Per period, the {', '.join(by)} values with fewer than {min_group_size:,} active users are "
                 f"pooled into one row (\"<{min_group_size} users\").")
    return Table(caption, ["period", *by, "DAU", *(KPI_BY_NAME[n].label for n in SHOWN)], rows, note=note)


SECTIONS = (SectionType(name="engagement", params=ENGAGEMENT_PARAMS, run=run_engagement,
                         summary="engagement KPIs by group (shortvid engagement)", command="engagement",
                         check=lambda p: options_from(EngagementOptions, p) and None, definitions=definitions),
            SectionType(name="kpi", params=KPI_PARAMS, run=run_kpi, summary="KPIs per period (shortvid kpi)",
                        command="kpi", definitions=definitions))
