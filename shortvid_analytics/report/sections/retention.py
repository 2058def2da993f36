"""``retention``: cohort triangle and overall curve (``shortvid retention``), optionally by a property."""

from __future__ import annotations

from typing import Any

from ... import retention as retention_lib
from ...options.retention import RetentionOptions
from ...render.retention import retention_figure
from ..content import Doc, Paragraph, SectionOutput, Table, label, prose
from ..figures import embed, report_style
from ..spec import Section, options_from, params_of
from .base import SectionContext, SectionType, cli_args, group_cells, group_name

PARAMS = params_of(RetentionOptions)


def run(ctx: SectionContext, section: Section) -> SectionOutput:
    """Run ``retention``; triangle with the overall curve, breakdown curves, chart and reading."""
    p = section.params
    result_obj = retention_lib.run(ctx.source(section),
                                   options_from(RetentionOptions, p, min_group_size=ctx.min_group_size))
    result = result_obj.to_dict()
    doc = Doc({"retention": result})
    out = SectionOutput(results=doc.results, commands={
        "retention": ctx.command(section, "retention", *cli_args(section, PARAMS), *ctx.suppression_args())})
    out.blocks += reading(doc, result)
    out.blocks.append(triangle_table(doc, result))
    if result["breakdown"]:
        out.blocks.append(breakdown_table(doc, result))
    with report_style():
        out.blocks.append(embed(
            retention_figure(result_obj),
            f"{p['start']} → {result['params']['return']}: retention rate by cohort and {p['period']}s since the "
            f"cohort started (left; darker is higher) and the user-weighted overall curve"
            + (f" by {p['by']}" if p["by"] else "") + " (right).", "retention heat map and curves"))
    return out


def _unit(result: dict) -> str:
    return result["params"]["period"]


def reading(doc: Doc, result: dict) -> list[Paragraph]:
    """Size of the cohorts and the overall curve at k = 1 and at the last period with data."""
    p = result["params"]
    reached = [i for i, point in enumerate(result["overall"]) if point["rate"] is not None]
    if not reached:
        return [prose("No user did {start} in the date range.", start=p["start"])]
    verb = "came back" if p["return"] == p["start"] else f"did {p['return']}"
    unit = _unit(result)
    text = ("Of the {size} users whose first {start} falls in the range (cohorts by " + unit + "), {k0} " + verb +
            " in their first " + unit)
    values: dict[str, Any] = dict(size=doc.span("/retention/size", "int"), start=p["start"],
                                  k0=doc.span(f"/retention/overall/{reached[0]}/rate", "pct1"))
    later = [i for i in reached if i >= 1]
    if later:
        text += (", {k1} in the next one, and {kl} " + str(result["overall"][later[-1]]["period"]) + " " + unit +
                 "s later")
        values |= dict(k1=doc.span(f"/retention/overall/{later[0]}/rate", "pct1"),
                       kl=doc.span(f"/retention/overall/{later[-1]}/rate", "pct1"))
    text += (" (user-weighted over the cohorts that have reached each " + unit +
             "; periods not yet over are left out, never counted as zero).")
    paragraphs = [prose(text, **values)]
    if result["breakdown"] and later:
        k = later[0]
        parts = ", ".join(f"{{v{i}}}: {{r{i}}}" for i in range(len(result["breakdown"])))
        k_min = p["min_group_size"]
        spans = {f"v{i}": group_name(g, "value", k_min) if g["suppressed"]
                 else doc.span(f"/retention/breakdown/{i}/value", "text") for i, g in enumerate(result["breakdown"])}
        spans |= {f"r{i}": doc.span(f"/retention/breakdown/{i}/overall/{k}/rate", "pct1")
                  for i in range(len(result["breakdown"]))}
        paragraphs.append(prose("At k = " + str(k) + " by " + p["by"] + ": " + parts + ".", **spans))
    return paragraphs


def triangle_table(doc: Doc, result: dict) -> Table:
    n = result["params"]["periods"]
    rows = [[doc.cell(f"/retention/cohorts/{c}/label", "text"), doc.cell(f"/retention/cohorts/{c}/size", "int")]
            + [doc.cell(f"/retention/cohorts/{c}/rate/{k}", "pct1") for k in range(n)]
            for c in range(len(result["cohorts"]))]
    rows.append([label("all (weighted)"), doc.cell("/retention/size", "int")]
                + [doc.cell(f"/retention/overall/{k}/rate", "pct1") for k in range(n)])
    p = result["params"]
    return Table(f"Retention triangle: share of each cohort doing {p['return']} in {_unit(result)} k after the "
                 f"cohort {_unit(result)} ({p['mode']}{', unbounded' if p['unbounded'] else ''}).",
                 ["cohort", "users"] + [f"k={k}" for k in range(n)], rows,
                 note="– marks periods not yet over at the end of the data.")


def breakdown_table(doc: Doc, result: dict) -> Table:
    n = result["params"]["periods"]
    k_min = result["params"]["min_group_size"]
    rows = [group_cells(doc, f"/retention/breakdown/{g}", group, ["value"], k_min)
            + [doc.cell(f"/retention/breakdown/{g}/size", "int")]
            + [doc.cell(f"/retention/breakdown/{g}/overall/{k}/rate", "pct1") for k in range(n)]
            for g, group in enumerate(result["breakdown"])]
    by = result["params"]["by"]
    return Table(f"Overall retention curve by {by} (of the first start event).",
                 [by, "users"] + [f"k={k}" for k in range(n)], rows)


SECTION = SectionType(
    name="retention",
    params=PARAMS,
    run=run,
    summary="cohort retention (shortvid retention)",
    command="retention",
)
