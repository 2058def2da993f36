"""Case-study reports: a TOML spec of sections -> analyses -> HTML (Jinja2), PDF (WeasyPrint) or JSON.

    from shortvid_analytics.report import load_spec, build_report, write_report
    spec = load_spec("examples/douyin_vs_kuaishou.toml")
    report = build_report("data/events", spec, assignments=Path("data/assignments.parquet"))
    write_report(report, Path("report.html"))

See ``docs/report.md`` for the spec format, the section types and the provenance appendix.
"""

from __future__ import annotations

from pathlib import Path

from .build import FORMATS, Report, build_report, output_format, render_html, render_pdf, write_report
from .sections import SECTION_TYPES
from .spec import ReportSpec, SpecError
from .spec import load_spec as _load_spec


def load_spec(path: str | Path) -> ReportSpec:
    """Read and fully validate a report spec (raises :class:`SpecError` naming section and key)."""
    return _load_spec(path, SECTION_TYPES)


__all__ = ["FORMATS", "Report", "ReportSpec", "SECTION_TYPES", "SpecError", "build_report", "load_spec",
           "output_format", "render_html", "render_pdf", "write_report"]
