"""The bare scan: read some columns of an events folder in DuckDB and aggregate them trivially.

This is the physical floor of any command that needs those columns: it decompresses and touches every
value (``max(hash(column))``) and does nothing else. ``benchmarks/run.py`` divides each command's time
by the time of the scan of the columns that command reads.

    python benchmarks/scan.py EVENTS_DIR user_id,event_name,event_time [--threads N] [--memory-limit SIZE]

It uses the connection settings every command gets from ``engine.connect`` (``preserve_insertion_order``
off, the same ``threads`` and ``memory_limit``), so the comparison is between equal engines.
"""

from __future__ import annotations

import argparse
import glob
import os

import duckdb


def scan(events: str, columns: list[str], threads: int | None = None,
         memory_limit: str | None = None) -> tuple[int, ...]:
    """``count(*)`` and ``max(hash(c))`` of each column over every Parquet file under ``events``."""
    files = sorted(glob.glob(os.path.join(events, "**", "*.parquet"), recursive=True))
    con = duckdb.connect(":memory:")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET parquet_metadata_cache = true")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = $limit", {"limit": memory_limit})
    aggregates = ", ".join(f"max(hash({_quote(c)}))" for c in columns)
    return con.execute(
        f"SELECT count(*), {aggregates} FROM read_parquet($files, hive_partitioning = true)", {"files": files}
    ).fetchall()[0]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events")
    parser.add_argument("columns", help="comma-separated column names")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--memory-limit")
    args = parser.parse_args()
    print(scan(args.events, args.columns.split(","), args.threads, args.memory_limit))


if __name__ == "__main__":
    main()
