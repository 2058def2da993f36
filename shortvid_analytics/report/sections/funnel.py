"""``funnel``: step conversion and drop-off (``shortvid funnel``), optionally by a property."""

from __future__ import annotations

from ... import funnel as funnel_lib
from ...options.funnel import FunnelOptions
from ...render.funnel import funnel_figure
from ..content import Doc, Paragraph, SectionOutput, Table, prose
from ..figures import embed, report_style
from ..spec import Section, options_from, params_of
from .base import SectionContext, SectionType, cli_args, group_cells, group_name

PARAMS = params_of(FunnelOptions)


def run(ctx: SectionContext, section: Section) -> SectionOutput:
    """Run ``funnel`` with the section's parameters; steps table, breakdown table, chart, reading."""
    p = section.params
    result_obj = funnel_lib.run(ctx.source(section),
                                options_from(FunnelOptions, p, min_group_size=ctx.min_group_size))
    result = result_obj.to_dict()
    doc = Doc({"funnel": result})
    out = SectionOutput(results=doc.results, commands={
        "funnel": ctx.command(section, "funnel", *cli_args(section, PARAMS), *ctx.suppression_args())})
    steps = result["steps"]
    out.blocks += reading(doc, steps, p["window"])
    out.blocks.append(steps_table(doc, "/funnel/steps", steps, p["window"], p["order"]))
    groups = result.get("breakdown") or []
    if groups:
        out.blocks += breakdown_reading(doc, groups, p["by"], ctx.min_group_size)
        out.blocks.append(breakdown_table(doc, groups, steps, p["by"], ctx.min_group_size))
    with report_style():
        caption = "Users reaching each step, labelled with the conversion from the first step" + (
            f", by {p['by']}." if groups else ".")
        out.blocks.append(embed(funnel_figure(result_obj), caption, "bar chart of users per funnel step"))
    if result.get("trends"):
        out.blocks.append(trends_table(doc, result["trends"]))
    return out


def reading(doc: Doc, steps: list[dict], window: str) -> list[Paragraph]:
    """Overall conversion and the step with the largest relative loss."""
    last = len(steps) - 1
    paragraphs = [prose(
        "Of the {entrants} users who did {first}, {final} ({rate}) completed every step through {last} within "
        "{window} of entering (each user counted once, by their furthest attempt).",
        entrants=doc.span("/funnel/steps/0/users", "int"), first=doc.span("/funnel/steps/0/event", "text"),
        final=doc.span(f"/funnel/steps/{last}/users", "int"),
        rate=doc.span(f"/funnel/steps/{last}/conversion_from_start", "pct2"),
        last=doc.span(f"/funnel/steps/{last}/event", "text"), window=window,
    )]
    rates = [(s["conversion_from_previous"], i) for i, s in enumerate(steps)
             if i and s["conversion_from_previous"] is not None]
    if rates:
        _, worst = min(rates)
        paragraphs.append(prose(
            "The largest relative loss is between {a} and {b}: {rate} of the users who reached {a} continued "
            "({drop} dropped off).",
            a=doc.span(f"/funnel/steps/{worst - 1}/event", "text"), b=doc.span(f"/funnel/steps/{worst}/event", "text"),
            rate=doc.span(f"/funnel/steps/{worst}/conversion_from_previous", "pct1"),
            drop=doc.span(f"/funnel/steps/{worst}/dropoff", "int"),
        ))
    return paragraphs


def steps_table(doc: Doc, base: str, steps: list[dict], window: str, order: str) -> Table:
    rows = [[doc.cell(f"{base}/{i}/step", "int"), doc.cell(f"{base}/{i}/event", "text"),
             doc.cell(f"{base}/{i}/users", "int"), doc.cell(f"{base}/{i}/conversion_from_start", "pct2"),
             doc.cell(f"{base}/{i}/conversion_from_previous", "pct1"), doc.cell(f"{base}/{i}/dropoff", "int"),
             doc.cell(f"{base}/{i}/time_to_convert_s/median", "n0")]
            for i in range(len(steps))]
    return Table(f"Funnel steps ({order} order, {window} window from the first step).",
                 ["step", "event", "users", "from start", "from previous", "drop-off", "median s to step"], rows,
                 note="Conversion is the share of entering users reaching the step; time to step is measured "
                      "from the previous step, in seconds.")


def breakdown_reading(doc: Doc, groups: list[dict], by: str, min_group_size: int) -> list[Paragraph]:
    last = len(groups[0]["steps"]) - 1
    parts = ", ".join(
        f"{{v{i}}}: {{r{i}}}" for i in range(len(groups)))
    values = {f"v{i}": group_name(g, "value", min_group_size) if g["suppressed"]
              else doc.span(f"/funnel/breakdown/{i}/value", "text") for i, g in enumerate(groups)}
    values |= {f"r{i}": doc.span(f"/funnel/breakdown/{i}/steps/{last}/conversion_from_start", "pct2")
               for i in range(len(groups))}
    return [prose(f"By {by} of the first step, conversion from the first to the last step was " + parts +
                  ". These are observed rates, not effects of the " + by + ": the groups also differ in their "
                  "audiences and content.", **values)]


def breakdown_table(doc: Doc, groups: list[dict], steps: list[dict], by: str, min_group_size: int) -> Table:
    columns = [by, "entrants"] + [f"→ {s['event']}" for s in steps[1:]]
    rows = []
    for g, group in enumerate(groups):
        base = f"/funnel/breakdown/{g}/steps"
        rows.append(group_cells(doc, f"/funnel/breakdown/{g}", group, ["value"], min_group_size)
                    + [doc.cell(f"{base}/0/users", "int")]
                    + [doc.cell(f"{base}/{i}/conversion_from_start", "pct2") for i in range(1, len(steps))])
    return Table(f"Conversion from start by {by} (value of the first step).", columns, rows)


def trends_table(doc: Doc, trends: dict) -> Table:
    rows = [[doc.cell(f"/funnel/trends/cohorts/{i}/period", "text"),
             doc.cell(f"/funnel/trends/cohorts/{i}/entrants", "int"),
             doc.cell(f"/funnel/trends/cohorts/{i}/conversion", "pct2")]
            for i in range(len(trends["cohorts"]))]
    return Table(f"Conversion by entry {trends['period']}.", ["cohort", "entrants", "conversion"], rows)


SECTION = SectionType(
    name="funnel",
    params=PARAMS,
    run=run,
    summary="funnel conversion (shortvid funnel)",
    check=lambda p: options_from(FunnelOptions, p) and None,
    command="funnel",
)
