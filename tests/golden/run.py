"""Run the golden cases (``tests/golden/cases.py``); ``python -m tests.golden.run --update`` rewrites the outputs.

Outputs are compared as bytes, with the exceptions stated in ``tests/golden/README.md``: the text of SQL
statements inside a report's provenance is replaced by its placeholder, because the SQL's layout is
what the query templates own (``tests/sql/snapshots/`` freezes it instead), the package versions of the environment; validate's ``as_of`` is the wall clock.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from typer.testing import CliRunner

from shortvid_analytics.cli import app
from tests.golden.cases import CASES

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = Path(__file__).resolve().parent / "outputs"


# validate stamps the wall clock it ran at (it has no --as-of)
_VOLATILE = re.compile(r'("as_of": )"[^"]*"')


def _masked(key: str, value: Any) -> Any:
    if key == "sql" and isinstance(value, str):
        return "<sql>"
    if key == "versions" and isinstance(value, dict):
        return "<versions>"
    return _without_sql(value)


def _without_sql(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _masked(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_sql(v) for v in value]
    return value


def _events_digest(folder: Path) -> str:
    frame = pl.read_parquet(sorted(folder.glob("events/**/*.parquet")), hive_partitioning=False)
    frame = frame.sort(frame.columns)
    return hashlib.sha256(frame.write_csv().encode()).hexdigest()


def run_case(name: str) -> str:
    """The output text of one case, as stored in ``outputs/NAME.json``."""
    args, written = CASES[name]
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as out:
        argv = [a.replace("OUT", out) if a.startswith("OUT") else a for a in args]
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            result = runner.invoke(app, argv, catch_exceptions=False, env={"COLUMNS": "100", "NO_COLOR": "1"})
        finally:
            os.chdir(cwd)
        if result.exit_code != 0:
            raise AssertionError(f"{name}: exit {result.exit_code}: {result.output}")
        if written is None:
            return _VOLATILE.sub(r'\1"<now>"', result.stdout)
        text = (Path(out) / written).read_text(encoding="utf-8")
        if name == "report":
            text = json.dumps(_without_sql(json.loads(text)), indent=2, ensure_ascii=False) + "\n"
        if name == "generate":
            text += f"events sha256 {_events_digest(Path(out))}\n"
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--update", action="store_true", help="rewrite tests/golden/outputs")
    parser.add_argument("names", nargs="*", default=sorted(CASES))
    options = parser.parse_args()
    OUTPUTS.mkdir(exist_ok=True)
    for name in options.names:
        text = run_case(name)
        path = OUTPUTS / f"{name}.json"
        if options.update:
            path.write_text(text, encoding="utf-8")
        elif path.read_text(encoding="utf-8") != text:
            print(f"{name}: differs")


if __name__ == "__main__":
    main()
