"""Start-up benchmark: whole ``shortvid`` processes that only draw help (targets: ``shortvid --help`` <= 0.3 s,
``shortvid <command> --help`` <= 0.5 s on 2 cores).

Usage (from the repository root)::

    python benchmarks/startup.py --runs 15 --write-results

Each case is a new process of the installed ``shortvid`` console script (its ``python -m`` form when the
script is not next to this interpreter), run ``--runs`` times with the cases interleaved, as in
``benchmarks/run.py``; the median and the slowest wall time are reported with the median CPU time.
``--write-results`` writes ``benchmarks/results-startup.jsonl`` and the section of ``benchmarks/RESULTS.md``
between the start-up markers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the scale benchmark's harness (benchmarks/ is a folder of scripts, not a package)
_spec = importlib.util.spec_from_file_location("benchmark_run", HERE / "run.py")
run = sys.modules["benchmark_run"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)
RESULTS, Timing, run_once = run.RESULTS, run.Timing, run.run_once
ROWS = HERE / "results-startup.jsonl"
BEGIN = "<!-- start-up table, written by benchmarks/startup.py -->"
END = "<!-- end of the start-up table -->"
#: The budget of each kind of case, in seconds of wall time (median).
TARGETS = {"root": 0.3, "command": 0.5}


def program() -> list[str]:
    script = Path(sys.executable).parent / "shortvid"
    found = str(script) if script.exists() else shutil.which("shortvid")
    return [found] if found else [sys.executable, "-m", "shortvid_analytics.cli"]


def cases() -> dict[str, tuple[str, list[str]]]:
    """Case name -> (kind, arguments)."""
    from shortvid_analytics.cli import COMMANDS  # only the registry: it imports no command

    out = {"shortvid --version": ("root", ["--version"]), "shortvid --help": ("root", ["--help"])}
    out.update({f"shortvid {name} --help": ("command", [name, "--help"]) for name in COMMANDS})
    out["shortvid ab power --help"] = ("command", ["ab", "power", "--help"])
    return out


def measure(runs: int) -> list[dict]:
    timings = {name: Timing(name) for name in cases()}
    prog = program()
    for _ in range(runs):
        for name, (_, args) in cases().items():
            run_once([*prog, *args], timings[name])
    load = [round(x, 1) for x in os.getloadavg()[:1]]
    rows = []
    for name, (kind, _) in cases().items():
        t = timings[name]
        rows.append({"case": name, "kind": kind, "runs": runs, "wall_s": round(t.wall, 3),
                     "wall_max_s": round(max(t.walls), 3), "cpu_s": round(statistics.median(t.cpus), 3),
                     "target_s": TARGETS[kind], "met": t.wall <= TARGETS[kind], "failures": t.failures,
                     "load": load})
    return rows


def write_results(rows: list[dict], results: Path = RESULTS) -> None:
    ROWS.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    lines = [BEGIN, "", "## Start-up", "",
             f"`python benchmarks/startup.py --runs {rows[0]['runs']} --write-results` (installed console script, "
             f"1-minute load average {rows[0]['load'][0]}). Wall time of whole processes that draw help only.", "",
             "| case | runs | median wall s | slowest s | CPU s | target s | met |", "|---|---|---|---|---|---|---|"]
    lines += [f"| `{r['case']}` | {r['runs']} | {r['wall_s']:.3f} | {r['wall_max_s']:.3f} | {r['cpu_s']:.3f} "
              f"| {r['target_s']} | {'yes' if r['met'] else 'NO'} |" for r in rows]
    lines += ["", END]
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    if BEGIN in text:
        text = text.split(BEGIN, 1)[0] + "\n".join(lines) + text.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    results.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    rows = measure(args.runs)
    for r in rows:
        print(f"{r['case']:32} {r['wall_s']:.3f} s (max {r['wall_max_s']:.3f}, CPU {r['cpu_s']:.3f}) "
              f"target {r['target_s']} {'ok' if r['met'] else 'MISSED'}")
    if args.write_results:
        write_results(rows)
    return rows


if __name__ == "__main__":
    main()
