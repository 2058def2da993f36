"""The canonical runs whose SQL is frozen: snapshot name -> the arguments after ``shortvid sql``."""

from __future__ import annotations

EVENTS = "examples/data/events"
FUNNEL = [EVENTS, "--steps", "video_view,product_click,purchase", "--window", "24h", "--by", "platform"]

CASES: dict[str, list[str]] = {
    "funnel_ordered_by": ["funnel", *FUNNEL],
    "funnel_strict_by": ["funnel", *FUNNEL, "--order", "strict"],
    "funnel_unordered_by": ["funnel", *FUNNEL, "--order", "unordered"],
    "kpi_week_by": ["kpi", EVENTS, "--period", "week", "--by", "platform"],
    "retention_week": ["retention", EVENTS, "--start", "video_view", "--return", "purchase", "--period", "week",
                       "--periods", "4"],
    "paths": ["paths", EVENTS, "--start", "video_view", "--steps", "3"],
    "ab": ["ab", EVENTS, "--assignments", "examples/data/assignments.parquet", "--metric", "conversion:purchase"],
}
