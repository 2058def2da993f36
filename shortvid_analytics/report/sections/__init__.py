"""Section types of a report: their parameters (mirroring CLI options) and how each one runs.

Each module here defines ``SECTION``, a :class:`SectionType`. Its ``run`` calls the same library
function as the CLI command, keeps the result's JSON document (``result.to_dict()``) under a name,
and builds tables, figures and readings from that document only (see :mod:`..content`).

A report is a shareable output: every breakdown runs with the config's ``[privacy] min_group_size``
(:attr:`SectionContext.min_group_size`), and suppressed groups show as ``<K users (n groups)``
(:func:`group_cells`, :func:`group_name`); see docs/privacy.md.
"""

from __future__ import annotations

from .base import SectionContext, SectionType, cli_args, group_cells, group_name

__all__ = ["SECTION_TYPES", "SectionContext", "SectionType", "cli_args", "group_cells", "group_name"]


def _registry() -> dict[str, SectionType]:
    from . import ab, comparison, data, engagement, funnel, lifecycle, regress, retention, text

    modules = (text, data, comparison, funnel, retention, lifecycle, engagement, regress, ab)
    return {kind.name: kind for m in modules for kind in getattr(m, "SECTIONS", None) or (m.SECTION,)}


SECTION_TYPES: dict[str, SectionType] = _registry()
