"""``text``: free Markdown (introduction, discussion, limitations)."""

from __future__ import annotations

from ..content import Paragraph, SectionOutput, markdown
from ..spec import Param, Section
from .base import SectionContext, SectionType


def run(ctx: SectionContext, section: Section) -> SectionOutput:
    """The section's Markdown as HTML; no analysis."""
    return SectionOutput(blocks=[Paragraph(markdown(section.params["text"]), role="text")])


SECTION = SectionType(
    name="text",
    params=(Param("text", "str", required=True, cli=None, help="Markdown text"),),
    run=run,
    summary="free Markdown text",
)
