"""Jinja2 templates of ``reports/templates/`` with the number formats of the terminal tables."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from ..resources import data_dir
from .kpi import fmt_change, fmt_change_pct, fmt_kpi
from .markdown import cell


@lru_cache(maxsize=2)
def environment(markdown: bool = False) -> jinja2.Environment:
    """Templates from the package (``_templates``) or the repo (``reports/templates``).

    ``*.html.j2`` templates are auto-escaped; with ``markdown`` (for ``*.md.j2``) every ``{{ ... }}`` is
    escaped as a Markdown table cell instead (:func:`.markdown.cell`: ``|``, line breaks, HTML), so an event
    name or property value cannot break a table or inject markup. Missing variables raise instead of
    printing nothing. Filters: ``kpi(name)``, ``change(name)``, ``change_pct``.
    """
    env = jinja2.Environment(
        finalize=cell if markdown else None,
        loader=jinja2.FileSystemLoader(str(data_dir("_templates", "reports/templates"))),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["kpi"] = lambda value, name: fmt_kpi(name, value)
    env.filters["change"] = lambda value, name: fmt_change(name, value)
    env.filters["change_pct"] = fmt_change_pct
    return env
