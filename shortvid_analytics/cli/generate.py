"""``shortvid generate``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ..options import DEFAULT_DAYS, DEFAULT_START
from ..render.console import fmt_number, fmt_pct, stderr_console, stdout_console
from . import app
from .common import guarded

# typer shows and parses --start as a datetime; the first day's midnight is its default.
_DEFAULT_START_TIME = datetime.combine(DEFAULT_START, datetime.min.time())

def _progress(done: int, total: int) -> None:
    if total > 1 and sys.stderr.isatty():
        stderr_console().print(f"chunk {done}/{total}", end="\r" if done < total else "\n", markup=False)


@app.command()
def generate(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Output folder (events/, assignments.parquet, truth.json).",
                                      show_default=False)],
    users: Annotated[int, typer.Option("--users", help="Number of users (each on one platform).")] = 10_000,
    days: Annotated[int, typer.Option("--days", help="Number of UTC days.")] = DEFAULT_DAYS,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same arguments give identical files.")] = 0,
    start: Annotated[
        datetime, typer.Option("--start", formats=["%Y-%m-%d"], help="First day (UTC).")
    ] = _DEFAULT_START_TIME,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the generated files if OUT already has them.")
    ] = False,
) -> None:
    """Write a synthetic short-video e-commerce export with planted ground truth (see docs/generate.md).

    Events go to OUT/events/dt=YYYY-MM-DD/part-NNNN.parquet (hive-partitioned by UTC date), the
    checkout_v2 experiment to OUT/assignments.parquet, the planted parameters to OUT/truth.json.
    """
    from .. import synth

    with guarded(ctx):
        summary = synth.generate(out, users=users, days=days, seed=seed, start=start,
                                 overwrite=overwrite, progress=_progress)
    experiment = summary.truth["experiment"]
    console = stdout_console()
    console.print(
        f"wrote {fmt_number(summary.events)} events in {len(summary.files)} files to {summary.events_dir} "
        f"({fmt_number(users)} users x {days} days from {summary.start}, seed {seed}) "
        f"in {summary.seconds:.1f} s", markup=False, soft_wrap=True)
    console.print(f"assignments: {summary.assignments_path} "
                  f"({fmt_number(experiment['assigned_users'])} users in {experiment['id']})",
                  markup=False, soft_wrap=True)
    lifts = [f"{name} {fmt_pct(experiment[key], 1)}" for name, key in
             (("conversion", "conversion_lift"), ("revenue per user", "revenue_per_user_lift"))
             if experiment[key] is not None]
    console.print(f"truth: {summary.truth_path}"
                  + (f" (expected lift: {', '.join(lifts)})" if lifts else ""), markup=False, soft_wrap=True)
