"""Folders of non-Python files shipped with the package (SQL queries, report templates).

A wheel carries them inside the package (``_queries``, ``_templates``, see ``pyproject.toml``
``force-include``); an editable install reads them from the repository root (``queries/``,
``reports/templates/``). One lookup rule for all of them.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(packaged: str, repo_relative: str) -> Path:
    """The folder ``<package>/<packaged>`` (wheel) or ``<repo>/<repo_relative>`` (editable install)."""
    for candidate in (_PACKAGE_DIR / packaged, _PACKAGE_DIR.parent / repo_relative):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{repo_relative}/ folder not found next to the package")
