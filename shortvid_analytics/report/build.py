"""Building a report: run each section of a validated spec, then render HTML, PDF or JSON.

The HTML is one self-contained file (inline CSS, figures as ``data:`` URIs, the report's JSON in a
``<script type="application/json" id="report-data">`` block). The PDF is WeasyPrint's rendering of
that same HTML. With a fixed ``as_of`` the HTML and JSON are byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .. import sql
from ..config import Config
from ..errors import OptionError, ShortvidError, first_line
from ..periods import naive_utc
from ..privacy import identifier_key, refusal
from ..resources import data_dir
from ..results import AnalysisResult, to_jsonable
from . import provenance
from .content import Figure, Paragraph, SectionOutput, Table, markdown
from .sections import SECTION_TYPES, SectionContext
from .spec import ReportSpec, Section

FORMATS = ("html", "pdf", "json")


@dataclass
class BuiltSection:
    """A section after it ran: its number, output and the queries it executed."""

    section: Section
    output: SectionOutput
    queries: list[tuple[str, str]]

    @property
    def number(self) -> int:
        return self.section.index

    @property
    def anchor(self) -> str:
        return f"sec-{self.section.index}"

    @property
    def intro_html(self) -> Markup:
        return markdown(self.section.intro) if self.section.intro else Markup("")

    def readings(self) -> list[str]:
        """The plain text of the section's readings (for the JSON)."""
        return [b.html.striptags() for b in self.output.blocks if isinstance(b, Paragraph) and b.role == "reading"]


@dataclass
class Report(AnalysisResult):
    """A built report: its spec, sections and provenance; ``to_dict()`` is the report's JSON."""

    kind = "report"
    spec: ReportSpec | None = None
    sections: list[BuiltSection] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    as_of: datetime | None = None
    #: the events source's warnings (rows left out), for stderr; not part of the report's JSON
    warnings: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        assert self.spec is not None
        return {
            "title": self.spec.title,
            "subtitle": self.spec.subtitle,
            "authors": self.spec.authors,
            "abstract": self.spec.abstract,
            "sections": [
                {
                    "number": s.number,
                    "type": s.section.type,
                    "title": s.section.title,
                    "parameters": s.section.params,
                    "results": s.output.results,
                    "commands": s.output.commands,
                    "readings": s.readings(),
                    "tables": [{"number": t.number, "caption": t.caption} for t in s.output.tables],
                    "figures": [{"number": f.number, "caption": f.caption} for f in s.output.figures],
                    "queries": sorted({name for name, _ in s.queries}),
                }
                for s in self.sections
            ],
            "provenance": self.provenance,
        }

    def to_frame(self) -> pl.DataFrame:
        """One row per section: number, type, title, counts of tables and figures."""
        return pl.DataFrame(
            [{"number": s.number, "type": s.section.type, "title": s.section.title,
              "tables": len(s.output.tables), "figures": len(s.output.figures)} for s in self.sections],
            schema={"number": pl.Int64, "type": pl.String, "title": pl.String, "tables": pl.Int64,
                    "figures": pl.Int64},
        )


def check_inputs(spec: ReportSpec, assignments: Path | None) -> None:
    """Checks that need no analysis: an assignments file wherever a section needs one."""
    for section in spec.sections:
        if not SECTION_TYPES[section.type].needs_assignments:
            continue
        own = section.params.get("assignments")
        path = spec.base_dir / own if own else assignments
        if path is None:
            raise OptionError(f"spec {spec.path}: {section.label}: needs experiment assignments; "
                              f"pass --assignments PATH or set key 'assignments'")
        if not path.is_file():
            where = f"spec {spec.path}: {section.label}: key 'assignments'" if own else "--assignments"
            raise OptionError(f"{where}: {path}: no such file")


def build_report(
    events: str,
    spec: ReportSpec,
    config: Config | None = None,
    as_of: datetime | None = None,
    assignments: Path | None = None,
) -> Report:
    """Run every section of ``spec`` over ``events`` and collect provenance.

    ``as_of`` (UTC) is the report's generation time; default now, to the second.
    """
    check_inputs(spec, assignments)
    as_of = naive_utc(as_of or datetime.now(UTC).replace(microsecond=0))
    truth = provenance.find_truth(events)
    ctx = SectionContext(events=events, config=config or Config(), spec=spec, as_of=as_of,
                         assignments=assignments, truth=truth[1] if truth else None)
    built: list[BuiltSection] = []
    try:
        for section in spec.sections:
            with sql.recording() as queries:
                try:
                    output = SECTION_TYPES[section.type].run(ctx, section)
                    _refuse_identifier_tables(output)
                except ShortvidError as exc:
                    raise type(exc)(f"{section.label}: {exc}") from None
            built.append(BuiltSection(section, output, list(queries)))
        _number_blocks(built)
        base = ctx.source(spec.sections[0])
        with sql.recording() as own_queries:
            prov = provenance.collect(base, as_of, {"path": spec.path, "sha256": spec.sha256}, assignments, truth)
        prov["queries"] = _query_list(ctx.opening_queries, built, own_queries)
        # each date range opens the export again and finds the same rows to leave out: say it once
        source_warnings = list(dict.fromkeys(w for source in ctx._sources.values() for w in source.warnings))
    finally:
        ctx.close()
    params = {"spec": spec.path, "events": events, "assignments": str(assignments) if assignments else None,
              "as_of": as_of.isoformat(), "config": config.path if config else None}
    return Report(params=params, spec=spec, sections=built, provenance=prov, as_of=as_of,
                  warnings=source_warnings)


def _refuse_identifier_tables(output: SectionOutput) -> None:
    """No table of a report may be keyed by user (or session, order): raise naming the column."""
    for table in output.tables:
        identifier = identifier_key(table.columns)
        if identifier is not None:
            raise OptionError(refusal(identifier))


def _number_blocks(built: list[BuiltSection]) -> None:
    tables = figures = 0
    for section in built:
        for block in section.output.blocks:
            if isinstance(block, Table):
                tables += 1
                block.number = tables
            elif isinstance(block, Figure):
                figures += 1
                block.number = figures


def _query_list(opening: list[tuple[str, str]], built: list[BuiltSection],
                own: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Each distinct (query, SQL text) once, with who ran it: section numbers, ``source`` or ``provenance``."""
    uses: dict[tuple[str, str], list[Any]] = {}
    runs = [("source", opening)] + [(s.number, s.queries) for s in built] + [("provenance", own)]
    for user, queries in runs:
        for name_sql in queries:
            users = uses.setdefault(name_sql, [])
            if user not in users:
                users.append(user)
    return [{"name": name, "file": f"queries/{name}.sql", "used_by": users, "sql": text.strip()}
            for (name, text), users in uses.items()]


# ------------------------------------------------------------------------------------------ output
def template_env() -> Environment:
    """Jinja environment over the report templates (package data or ``reports/templates``)."""
    env = Environment(
        loader=FileSystemLoader(str(data_dir("_templates", "reports/templates"))),
        autoescape=lambda name: bool(name and name.endswith(".html")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["markdown"] = markdown
    env.filters["thousands"] = lambda v: f"{v:,}" if isinstance(v, int) else v
    env.tests["table"] = lambda b: isinstance(b, Table)
    env.tests["figure"] = lambda b: isinstance(b, Figure)
    env.tests["paragraph"] = lambda b: isinstance(b, Paragraph)
    return env


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document."""
    env = template_env()
    assert report.spec is not None
    used_types = list(dict.fromkeys(s.section.type for s in report.sections))
    definitions = []
    for kind in used_types:
        name = f"methods/{kind}.md"
        own = SECTION_TYPES[kind].definitions
        if own is not None:
            definitions.append((kind, markdown(own(), shift=2)))
        elif name in env.list_templates():
            definitions.append((kind, markdown(env.get_template(name).render(), shift=2)))
    data = json.dumps(report.to_dict(), indent=1, ensure_ascii=False, allow_nan=False)
    return env.get_template("report.html").render(
        report=report,
        spec=report.spec,
        sections=report.sections,
        prov=report.provenance,
        definitions=definitions,
        section_types=SECTION_TYPES,
        generated=report.as_of.strftime("%Y-%m-%d %H:%M UTC") if report.as_of else "",
        # `</` would end the script element early; JSON allows the escaped form.
        report_json=Markup(data.replace("</", "<\\/")),
        json_dumps=lambda v: json.dumps(to_jsonable(v), indent=2, ensure_ascii=False),
    )


def render_pdf(html: str, as_of: datetime | None = None) -> bytes:
    """The HTML rendered to PDF by WeasyPrint (A4; fonts missing glyphs fall back, never fail)."""
    with warnings.catch_warnings():
        # WeasyPrint warns on import when the system lacks HarfBuzz-Subset; it still subsets fonts.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import weasyprint
        except (ImportError, OSError) as exc:  # OSError: the system Pango library is missing
            raise ShortvidError(
                f"PDF output needs WeasyPrint and the Pango library ({first_line(exc)}); "
                f"install them (e.g. apt-get install libpango-1.0-0 libpangoft2-1.0-0) or write .html"
            ) from None

        for noisy in ("weasyprint", "fontTools"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        identifier = (as_of or datetime(1970, 1, 1)).strftime("%Y%m%d%H%M%S").encode()
        return weasyprint.HTML(string=html, base_url=".").write_pdf(pdf_identifier=identifier)


def output_format(out: Path, fmt: str | None = None) -> str:
    """``fmt``, or the format named by the suffix of ``out`` (``.html``/``.htm``, ``.pdf``, ``.json``)."""
    fmt = fmt or {"htm": "html"}.get(out.suffix.lower().lstrip("."), out.suffix.lower().lstrip("."))
    if fmt not in FORMATS:
        raise OptionError(f"--out {out}: cannot tell the format from the suffix; use .html, .pdf or .json "
                          f"or pass --format html|pdf|json")
    return fmt


def write_report(report: Report, out: Path, fmt: str | None = None, option: str | None = None) -> str:
    """Write the report to ``out`` atomically in ``fmt`` (default: from the suffix); return the format.
    ``option`` names ``out`` in the message when it is refused (an input of the run)."""
    from ..files import write_bytes_atomic, write_text_atomic

    fmt = output_format(out, fmt)
    if fmt == "json":
        write_text_atomic(out, report.to_json() + "\n", option)
    elif fmt == "html":
        write_text_atomic(out, render_html(report), option)
    else:
        write_bytes_atomic(out, render_pdf(render_html(report), report.as_of), option)
    return fmt
