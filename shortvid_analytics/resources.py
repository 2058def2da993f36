"""Folders of data files shipped with the package: SQL queries and report templates.

A wheel carries them inside the package (``_queries``, ``_templates``); an editable install reads
them from the repository (``queries/``, ``reports/templates/``).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(packaged: str, in_repo: str) -> Path:
    """The folder ``packaged`` inside the package, else ``in_repo`` relative to the repository root."""
    for candidate in (_PACKAGE_DIR / packaged, _PACKAGE_DIR.parent / in_repo):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{in_repo}/ folder not found next to the package")
