"""Jinja2 templates of ``reports/templates/`` with the number formats of the terminal tables."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from ..resources import data_dir
from .kpi import fmt_change, fmt_change_pct, fmt_kpi


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Templates from the package (``_templates``) or the repo (``reports/templates``).

    ``*.html.j2`` templates are auto-escaped; missing variables raise instead of printing nothing.
    Filters: ``kpi(name)``, ``change(name)``, ``change_pct``.
    """
    env = jinja2.Environment(
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
