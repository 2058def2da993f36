"""Time and peak RSS of `shortvid paths` / `shortvid attribution` on a synthetic table made in DuckDB.

    python benchmarks/paths_attribution.py --rows 10000000 --dir /tmp/shortvid_bench

Writes ``DIR/events/dt=YYYY-MM-DD/*.parquet`` (28 days, 80% video_view, 1 user per 100 rows, 10
sessions of 30 minutes per user, 5,000 creators, 1.5% purchases with order_id and revenue) unless it exists, then runs
each command once in a fresh process under ``/usr/bin/time -v`` and prints wall time and peak RSS,
after the floor query of ``PERFORMANCE.md`` as a yardstick for how loaded the machine is.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import duckdb

GENERATE = """
COPY (
    WITH drawn AS (
        SELECT
            i,
            CAST(floor(random() * $users) AS BIGINT) AS user_id,
            CAST(floor(random() * 10) AS BIGINT) AS session_no,
            random() AS r
        FROM range($rows) AS t(i)
    ),
    base AS (
        -- each user has 10 sessions of 30 minutes at hashed times over 28 days
        SELECT
            *,
            TIMESTAMP '2026-11-02'
                + to_microseconds(CAST(hash(user_id, session_no) % (28 * 86400 - 1800) AS BIGINT) * 1000000
                                  + CAST(floor(random() * 1800e6) AS BIGINT)) AS event_time
        FROM drawn
    )
    SELECT
        event_time,
        user_id,
        CASE WHEN r < 0.80 THEN 'video_view' WHEN r < 0.85 THEN 'like' WHEN r < 0.91 THEN 'product_click'
             WHEN r < 0.94 THEN 'add_to_cart' WHEN r < 0.96 THEN 'checkout' WHEN r < 0.975 THEN 'purchase'
             WHEN r < 0.99 THEN 'share' ELSE 'comment' END AS event_name,
        CAST(user_id AS VARCHAR) || '-' || CAST(session_no AS VARCHAR) AS session_id,
        'v' || CAST(hash(i) % 200000 AS VARCHAR) AS video_id,
        'c' || CAST(hash(i) % 5000 AS VARCHAR) AS creator_id,
        'p' || CAST(hash(i + 1) % 10000 AS VARCHAR) AS product_id,
        CASE WHEN r >= 0.96 AND r < 0.975 THEN 'o' || CAST(i AS VARCHAR) END AS order_id,
        CASE WHEN r >= 0.96 AND r < 0.975 THEN round(5 + 200 * random(), 2) END AS revenue,
        CASE WHEN hash(i) % 2 = 0 THEN 'douyin' ELSE 'kuaishou' END AS platform,
        CAST(event_time AS DATE) AS dt
    FROM base
) TO '{out}' (FORMAT parquet, PARTITION_BY (dt), COMPRESSION zstd)
"""

FLOOR = ("import duckdb; duckdb.sql(\"SELECT count(DISTINCT user_id), min(event_time), max(event_time) "
         "FROM read_parquet('{events}/**/*.parquet') WHERE event_name IN ('video_view', 'product_click', "
         "'add_to_cart', 'purchase')\").fetchall()")

RUNS = {
    "floor: DuckDB distinct users, min, max of 4 events (PERFORMANCE.md: 0.32 s unloaded)":
        ["-c", FLOOR],
    "paths --start video_view --end purchase (24h window)":
        ["paths", "{events}", "--start", "video_view", "--end", "purchase", "-f", "json", "-o", "{tmp}/p1.json"],
    "paths --end purchase --collapse-repeats":
        ["paths", "{events}", "--end", "purchase", "--collapse-repeats", "-f", "json", "-o", "{tmp}/p2.json"],
    "paths --start video_view --session --chart":
        ["paths", "{events}", "--start", "video_view", "--session", "--chart", "{tmp}/p3.png", "-f", "json",
         "-o", "{tmp}/p3.json"],
    "attribution --model last --by creator_id (7d)":
        ["attribution", "{events}", "--model", "last", "-f", "json", "-o", "{tmp}/a1.json"],
    "attribution --touch video_view|product_click --model time_decay:1d --by video_id":
        ["attribution", "{events}", "--touch", "video_view|product_click", "--model", "time_decay:1d",
         "--by", "video_id", "-f", "json", "-o", "{tmp}/a2.json"],
    "attribution --model platform --by creator_id":
        ["attribution", "{events}", "--model", "platform", "-f", "json", "-o", "{tmp}/a3.json"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/shortvid_bench"))
    args = parser.parse_args()
    events = args.dir / "events"
    if not events.exists():
        args.dir.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        con.execute(GENERATE.format(out=str(events)), {"rows": args.rows, "users": max(args.rows // 100, 1)})
    for label, argv in RUNS.items():
        argv = [a.format(events=events, tmp=args.dir) for a in argv]
        command = argv if argv[0] == "-c" else ["-m", "shortvid_analytics.cli", *argv]
        proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, *command],
                              capture_output=True, text=True)
        if proc.returncode:
            print(f"{label}: failed: {proc.stderr.strip().splitlines()[-1]}")
            continue
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", proc.stderr).group(1)
        rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
        print(f"{label:80s} {wall:>9s} s  {rss_kib / 1024 ** 2:5.2f} GiB")


if __name__ == "__main__":
    main()
