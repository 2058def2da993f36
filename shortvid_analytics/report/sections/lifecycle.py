"""``lifecycle``: new, returning, resurrecting and dormant users per period (``shortvid lifecycle``)."""

from __future__ import annotations

from ... import lifecycle as lifecycle_lib
from ...options.active_users import LifecycleOptions
from ...render.lifecycle import lifecycle_figure
from ..content import Doc, Paragraph, SectionOutput, Table, prose
from ..figures import embed, report_style
from ..spec import Section, options_from, params_of
from .base import SectionContext, SectionType, cli_args

PARAMS = params_of(LifecycleOptions)
_COLUMNS = ("new", "returning", "resurrecting", "dormant", "active")


def run(ctx: SectionContext, section: Section) -> SectionOutput:
    """Run ``lifecycle``; per-period table, stacked-bar chart and a reading of the last complete period."""
    p = section.params
    result_obj = lifecycle_lib.run(ctx.source(section), options_from(LifecycleOptions, p))
    result = result_obj.to_dict()
    doc = Doc({"lifecycle": result})
    out = SectionOutput(results=doc.results,
                        commands={"lifecycle": ctx.command(section, "lifecycle", *cli_args(section, PARAMS))})
    out.blocks += reading(doc, result)
    rows = [[doc.cell(f"/lifecycle/periods/{i}/label", "text")]
            + [doc.cell(f"/lifecycle/periods/{i}/{c}", "int") for c in _COLUMNS]
            + [doc.cell(f"/lifecycle/periods/{i}/quick_ratio", "n2")]
            for i in range(len(result["periods"]))]
    out.blocks.append(Table(
        f"Users doing {result['params']['event']} per {result['params']['period']}, by lifecycle status.",
        ["period", *_COLUMNS, "quick ratio"], rows,
        note="dormant: active in the previous period but not in this one (negative). Quick ratio = "
             "(new + resurrecting) / dormant. The last period may be incomplete."))
    with report_style():
        out.blocks.append(embed(lifecycle_figure(result_obj), "Lifecycle composition of active users per period "
                                "(dormant users below zero).", "stacked bars of lifecycle statuses"))
    return out


def reading(doc: Doc, result: dict) -> list[Paragraph]:
    """The last complete period's composition."""
    complete = [i for i, row in enumerate(result["periods"]) if row["complete"]]
    if not complete:
        return []
    i = complete[-1]
    base = f"/lifecycle/periods/{i}"
    unit = result["params"]["period"]
    return [prose("In the last complete " + unit + " ({label}), {active} users were active: {new} new, {returning} "
                  "returning from the previous " + unit + " and {resurrecting} back after a gap. The dormant count is "
                  "{dormant}: users active the " + unit + " before who were not active in this one.",
                  label=doc.span(f"{base}/label", "text"), active=doc.span(f"{base}/active", "int"),
                  new=doc.span(f"{base}/new", "int"), returning=doc.span(f"{base}/returning", "int"),
                  resurrecting=doc.span(f"{base}/resurrecting", "int"),
                  dormant=doc.span(f"{base}/dormant", "int"))]


SECTION = SectionType(
    name="lifecycle",
    params=PARAMS,
    run=run,
    summary="user lifecycle (shortvid lifecycle)",
    command="lifecycle",
)
