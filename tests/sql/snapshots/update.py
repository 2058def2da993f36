"""``python -m tests.sql.snapshots.update`` rewrites the snapshots (``tests/sql/snapshots/*.sql``).

Each snapshot is the output of ``shortvid sql`` for one case of ``cases.py``, run from the repository root
with relative paths, so that the file names in the bound parameters do not depend on the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from shortvid_analytics.cli import app
from tests.locations import REPO
from tests.sql.snapshots.cases import CASES

ROOT = REPO
FOLDER = Path(__file__).resolve().parent


def rendered(name: str) -> str:
    """What ``shortvid sql`` prints for case ``name``."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, ["sql", *CASES[name]], catch_exceptions=False,
                                    env={"COLUMNS": "100", "NO_COLOR": "1"})
    finally:
        os.chdir(cwd)
    if result.exit_code != 0:
        raise AssertionError(f"{name}: exit {result.exit_code}: {result.output}")
    return result.stdout


def main() -> None:
    for name in CASES:
        (FOLDER / f"{name}.sql").write_text(rendered(name), encoding="utf-8")
        print(f"wrote tests/sql/snapshots/{name}.sql")


if __name__ == "__main__":
    main()
