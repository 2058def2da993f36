"""``data``: what the export contains (``shortvid validate``): size, time range, events per name."""

from __future__ import annotations

from datetime import UTC

from ...render.charts import PALETTE
from ...validate import validate
from ..content import Doc, Figure, SectionOutput, Table, label, prose
from ..figures import embed, new_axes, report_style
from ..spec import Section
from .base import SectionContext, SectionType


def run(ctx: SectionContext, section: Section) -> SectionOutput:
    """Run ``validate`` on the section's date range and show its overview and event counts."""
    source = ctx.source(section)
    as_of = ctx.as_of.replace(tzinfo=UTC)
    result = validate(source, as_of=as_of).to_dict()
    doc = Doc({"validate": result})
    out = SectionOutput(results=doc.results,
                        commands={"validate": ctx.command(section, "validate", "--as-of", ctx.as_of.isoformat())})

    overview = [
        ("events (rows)", doc.cell("/validate/rows", "int")),
        ("users", doc.cell("/validate/users", "int")),
        ("Parquet files", doc.cell("/validate/files", "int")),
        ("first event (UTC)", doc.cell("/validate/time_range/first_utc", "text")),
        ("last event (UTC)", doc.cell("/validate/time_range/last_utc", "text")),
        ("exact duplicate rows", doc.cell("/validate/duplicate_rows", "int")),
        (f"events after {ctx.as_of:%Y-%m-%d %H:%M} UTC", doc.cell("/validate/future_events", "int")),
    ]
    out.blocks.append(prose(
        "The export holds {rows} events from {users} users, recorded between {first} and {last} (UTC).",
        rows=doc.span("/validate/rows", "int"), users=doc.span("/validate/users", "int"),
        first=doc.span("/validate/time_range/first_utc", "text"),
        last=doc.span("/validate/time_range/last_utc", "text"),
    ))
    if result["warnings"]:
        out.blocks.append(prose("Data checks raised {n} warning(s): " + "; ".join(result["warnings"]) + ".",
                                n=str(len(result["warnings"]))))
    out.blocks.append(Table("The event export at a glance.", ["", "value"],
                            [[label(name), cell] for name, cell in overview]))
    rows = [[doc.cell(f"/validate/events/{i}/event_name", "text"), doc.cell(f"/validate/events/{i}/events", "int"),
             doc.cell(f"/validate/events/{i}/users", "int")] for i in range(len(result["events"]))]
    out.blocks.append(Table("Events and distinct users per event name.", ["event", "events", "users"], rows))
    if result["events"]:
        out.blocks.append(_events_figure(result["events"]))
    return out


def _events_figure(events: list[dict]) -> Figure:
    ordered = sorted(events, key=lambda e: e["events"])
    with report_style():
        fig, ax = new_axes(height_in=0.22 * len(ordered) + 0.8)
        ax.barh([e["event_name"] for e in ordered], [e["events"] for e in ordered], color=PALETTE[0])
        ax.set_xscale("log")
        ax.set_xlabel("events (log scale)")
        ax.grid(axis="y", visible=False)
        return embed(fig, "Events per name (logarithmic axis).", "bar chart of event counts per event name")


SECTION = SectionType(
    name="data",
    params=(),
    run=run,
    summary="the export: rows, users, time range, events per name (shortvid validate)",
    command="validate",
)
