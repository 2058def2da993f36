"""The SQL of the canonical runs equals the committed snapshots byte for byte, so that a change to the
generated SQL shows up in review as a diff of ``tests/sql/snapshots/*.sql``."""

from __future__ import annotations

import pytest

from tests.sql.snapshots.cases import CASES
from tests.sql.snapshots.update import FOLDER, rendered


@pytest.mark.parametrize("name", list(CASES))
def test_sql_snapshot(name):
    path = FOLDER / f"{name}.sql"
    expected = path.read_text(encoding="utf-8") if path.exists() else None
    assert rendered(name) == expected, (
        f"the SQL of `shortvid sql {' '.join(CASES[name])}` differs from tests/sql/snapshots/{name}.sql; "
        "if the change is intended, run `python -m tests.sql.snapshots.update` and review the diff")
