"""Scale benchmark: every command against the bare DuckDB scan of its columns, and pandas peers.

Usage (from the repository root)::

    python benchmarks/run.py --smoke                          # 1M events, 1 run each: about a minute
    python benchmarks/run.py --sizes 10M,100M --runs 3 --write-results

Datasets are generated once with ``shortvid generate`` (seed 1, 28 days) into ``benchmarks/data/<size>/``
(git-ignored) and reused. Each case is its own process, run ``--runs`` times, the cases interleaved
round-robin so that a change in machine load hits them alike. Reported per case: the median wall time,
the median CPU time (user + system), the ratio of the median wall time to that of the bare scan
(``benchmarks/scan.py``) of the columns the command reads, and the peak RSS of the process (from
``wait4``'s rusage). A pandas peer is also compared with the shortvid command it mirrors (speed-up).
``--write-results`` rewrites ``benchmarks/RESULTS.md`` (the measured part; the analysis below the
marker line is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "RESULTS.md"
#: Users generated per dataset size: the generator writes about 70.4 events per user over 28 days
#: (docs/generate.md: 15,000 users -> 1.06M events, 1.4M users -> 98.4M events).
USERS = {"1M": 14_200, "10M": 142_000, "100M": 1_420_000}
DAYS = 28
SEED = 1
#: Sizes the pandas peers run at: they hold every event in memory, 100M would not fit.
PANDAS_SIZES = ("1M", "10M")
#: RESULTS.md above this line is rewritten by --write-results, the text below it is kept.
MARKER = "<!-- measured table above, written by benchmarks/run.py; analysis below is hand-written -->"

FUNNEL_STEPS = "video_view,product_click,add_to_cart,purchase"
BASIC = ("user_id", "event_name", "event_time")
KPI_COLUMNS = (*BASIC, "watch_time_s", "order_id", "revenue")


@dataclass(frozen=True)
class Case:
    """One timed process.

    ``argv`` follows ``python``; ``{events}``, ``{data}`` and ``{scratch}`` are filled in per dataset.
    ``columns``: the event columns it reads (it is compared with the bare scan of them); ``peer_of``: the
    name of the shortvid case a pandas peer mirrors.
    """

    name: str
    argv: tuple[str, ...]
    columns: tuple[str, ...]
    sizes: tuple[str, ...] = tuple(USERS)
    peer_of: str | None = None


def shortvid(*args: str) -> tuple[str, ...]:
    """argv of a shortvid command (the worktree's code, engine flags filled in by :func:`command_line`)."""
    return ("-m", "shortvid_analytics.cli", "{engine}", *args)


def cases() -> list[Case]:
    """The command cases; the bare scans are derived from their column sets by :func:`scan_case`."""
    out = [
        Case("funnel 4 steps 24h ordered",
             shortvid("funnel", "{events}", "--steps", FUNNEL_STEPS, "--window", "24h", "-f", "json"), BASIC),
        Case("funnel --by platform",
             shortvid("funnel", "{events}", "--steps", FUNNEL_STEPS, "--window", "24h", "--by", "platform",
                      "-f", "json"), (*BASIC, "platform")),
        Case("retention weekly 8",
             shortvid("retention", "{events}", "--start", "video_view", "--return", "purchase", "--period", "week",
                      "--periods", "8", "-f", "json"), BASIC),
        Case("engagement by creator",
             shortvid("engagement", "{events}", "--by", "creator_id", "--top", "20", "-f", "json"),
             (*KPI_COLUMNS, "creator_id")),
        Case("kpi weekly", shortvid("kpi", "{events}", "--period", "week", "-f", "json"), KPI_COLUMNS),
        Case("digest last week",
             shortvid("digest", "{events}", "--week", "last", "--out", "{scratch}/digest",
                      "--as-of", "2026-11-02T06:00:00"),
             (*KPI_COLUMNS, "platform", "creator_id", "product_id")),
        Case("ab checkout_v2 (conversion, revenue/user)",
             shortvid("ab", "analyze", "{events}", "--assignments", "{data}/assignments.parquet",
                      "--experiment", "checkout_v2", "--metric", "conversion:purchase", "--metric",
                      "revenue_per_user", "-f", "json"), (*BASIC, "revenue")),
        Case("paths video_view -> purchase",
             shortvid("paths", "{events}", "--start", "video_view", "--end", "purchase", "-f", "json"), BASIC),
        Case("attribution last touch by creator",
             shortvid("attribution", "{events}", "--model", "last", "--by", "creator_id", "-f", "json"),
             (*BASIC, "creator_id", "product_id", "order_id", "revenue")),
        Case("pandas funnel (merge_asof)", (str(HERE / "pandas_peers.py"), "funnel", "{events}"), BASIC,
             PANDAS_SIZES, peer_of="funnel 4 steps 24h ordered"),
        Case("pandas retention (groupby)", (str(HERE / "pandas_peers.py"), "retention", "{events}"), BASIC,
             PANDAS_SIZES, peer_of="retention weekly 8"),
    ]
    if (ROOT / "shortvid_analytics" / "cli" / "regress.py").exists():
        out.insert(7, Case(
            "regress frame user_video (--save-frame)",
            shortvid("regress", "{events}", "--unit", "user_video", "--outcome", "purchased", "--model", "logit",
                     "--save-frame", "{scratch}/frame.parquet", "-f", "json"),
            (*BASIC, "video_id", "creator_id", "watch_time_s", "platform", "traffic_source")))
    return out


def scan_case(columns: tuple[str, ...]) -> Case:
    """The bare scan of ``columns`` (``benchmarks/scan.py``)."""
    return Case(f"scan: {', '.join(columns)}", (str(HERE / "scan.py"), "{events}", ",".join(columns), "{engine}"),
                columns)


def dataset(size: str) -> Path:
    """Folder of the generated dataset ``size``, generating it on first use."""
    out = DATA / size
    if (out / "truth.json").exists():
        return out
    print(f"generating {size} events ({USERS[size]:,} users) into {out} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "shortvid_analytics.cli", "generate", "--users", str(USERS[size]),
                    "--days", str(DAYS), "--seed", str(SEED), "--out", str(out), "--overwrite"],
                   check=True, cwd=ROOT)
    return out


def event_count(data: Path) -> int:
    """Rows in the dataset's events (from the Parquet footers)."""
    import duckdb

    return duckdb.sql(f"SELECT sum(num_rows) FROM parquet_file_metadata('{data}/events/**/*.parquet')").fetchall()[0][0]


def command_line(case: Case, data: Path, scratch: Path, engine: dict[str, str | None]) -> list[str]:
    """The full argv of ``case`` on ``data``; ``{engine}`` becomes the --threads/--memory-limit flags."""
    flags = [f for k, v in engine.items() if v for f in (f"--{k}", v)]
    out = [sys.executable]
    for arg in case.argv:
        out += flags if arg == "{engine}" else [arg.format(events=data / "events", data=data, scratch=scratch)]
    return out


@dataclass
class Timing:
    """The runs of one case."""

    case: Case
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    peaks_gib: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def run_once(argv: list[str], timing: Timing) -> str | None:
    """Run one process; record wall time, CPU time and peak RSS; return its error line if it failed."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timing.walls.append(wall)
        timing.cpus.append(usage.ru_utime + usage.ru_stime)
        timing.peaks_gib.append(usage.ru_maxrss / 2**20)  # ru_maxrss is in KiB on Linux
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            return None
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
        timing.failures.append(f"exit {code}: {lines[-1] if lines else ''}")
        return timing.failures[-1]


def bench_size(size: str, runs: int, engine: dict[str, str | None], only: list[str]) -> list[dict]:
    """Time every case of ``size`` (with the bare scans of their columns); one result row per case."""
    data = dataset(size)
    events = event_count(data)
    selected = [c for c in cases() if size in c.sizes and (not only or any(o in c.name for o in only))]
    scans = {c.columns: scan_case(c.columns) for c in selected}
    timings = {c.name: Timing(c) for c in [*scans.values(), *selected]}
    with tempfile.TemporaryDirectory(prefix="shortvid-bench-") as tmp:
        for run in range(runs):
            for timing in timings.values():
                failure = run_once(command_line(timing.case, data, Path(tmp), engine), timing)
                print(f"[{size} {run + 1}/{runs}] {timing.case.name}: {timing.walls[-1]:.2f} s wall, "
                      f"{timing.cpus[-1]:.2f} s CPU, {timing.peaks_gib[-1]:.2f} GiB"
                      + (f"  FAILED {failure}" if failure else ""), file=sys.stderr, flush=True)
    rows = []
    for timing in timings.values():
        case = timing.case
        scan = timings[scan_case(case.columns).name]
        row: dict = {
            "size": size, "events": events, "case": case.name, "runs": len(timing.walls),
            "wall_s": round(timing.wall, 2), "cpu_s": round(timing.cpu, 2),
            "x_scan": None if timing is scan else round(timing.wall / scan.wall, 2),
            "peak_rss_gib": round(max(timing.peaks_gib), 2), "failures": timing.failures,
        }
        if case.peer_of in timings:
            row["peer_of"] = case.peer_of
            row["speedup"] = round(timing.wall / timings[case.peer_of].wall, 1)
            row["speedup_cpu"] = round(timing.cpu / timings[case.peer_of].cpu, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def machine() -> list[str]:
    """Lines describing the machine and the software versions."""
    import duckdb
    import pandas

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {ram:.0f} GiB; {platform.platform()}",
        f"- Python {platform.python_version()}, DuckDB {duckdb.__version__}, pandas {pandas.__version__}",
    ]


def write_results(rows: list[dict], args: argparse.Namespace, load: tuple[tuple[float, ...], ...]) -> None:
    """Rewrite the measured part of RESULTS.md."""
    engine = " ".join(f"--{k} {v}" for k, v in vars(args).items() if k in ("threads", "memory_limit") and v)
    lines = [
        "# Benchmark results",
        "",
        *machine(),
        f"- load average (1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in load[0])}, "
        f"at end {'/'.join(f'{x:.1f}' for x in load[1])}: the machine is shared, wall times are noisy; "
        "CPU time (user + system) is the steadier measure",
        f"- command: `python benchmarks/run.py --sizes {args.sizes} --runs {args.runs}"
        f"{' ' + engine if engine else ''} --write-results`",
        "",
        "Whole processes (start-up included). *wall*, *CPU*: medians over the runs; *x scan*: median wall time /",
        "median wall time of the bare scan of the columns the command reads (`benchmarks/scan.py`); *peak RSS*:",
        "the largest over the runs; pandas rows: *speed-up* = pandas wall time / shortvid wall time (CPU in",
        "brackets).",
        "",
        "| events | case | runs | wall s | CPU s | x scan | peak RSS GiB | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        notes = []
        if "speedup" in r:
            notes.append(f"{r['speedup']}x slower than shortvid ({r['speedup_cpu']}x CPU)")
        if r["failures"]:
            notes.append(f"FAILED: {r['failures'][0]}")
        x_scan = "" if r["x_scan"] is None else f"{r['x_scan']:.2f}"
        lines.append(f"| {r['events'] / 1e6:.1f}M | {r['case']} | {r['runs']} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} "
                     f"| {x_scan} | {r['peak_rss_gib']:.2f} | {'; '.join(notes)} |")
    kept = ""
    if RESULTS.exists() and MARKER in RESULTS.read_text(encoding="utf-8"):
        kept = RESULTS.read_text(encoding="utf-8").split(MARKER, 1)[1]
    RESULTS.write_text("\n".join(lines) + "\n\n" + MARKER + (kept or "\n"), encoding="utf-8")


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark; return the result rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10M", help="comma-separated: 1M, 10M, 100M")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="1M events, one run of every case")
    parser.add_argument("--only", default="", help="comma-separated substrings of case names")
    parser.add_argument("--threads", help="passed to every command and scan")
    parser.add_argument("--memory-limit", help="passed to every command and scan, e.g. 1.5GB")
    parser.add_argument("--write-results", action="store_true", help="rewrite benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.runs = "1M", 1
    engine = {"threads": args.threads, "memory-limit": args.memory_limit}
    only = [o for o in args.only.split(",") if o]
    load_start = os.getloadavg()
    rows = [row for size in args.sizes.split(",") for row in bench_size(size, args.runs, engine, only)]
    if args.write_results:
        write_results(rows, args, (load_start, os.getloadavg()))
    return rows


if __name__ == "__main__":
    main()
