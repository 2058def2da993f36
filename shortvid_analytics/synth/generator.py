"""One generation: checks the arguments, runs the world and the chunks of users into a staging folder,
and moves the finished files into place.

A chunk holds every day of its users, so per-user state (videos already seen, assignment, the
counterfactual sums) never crosses chunks and memory is bounded by the chunk size. Each day's
rows are appended as row groups to that day's Parquet file, kept open while chunks stream through.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import OptionError
from ..files import sweep_stale, temp_name
from ..options import DEFAULT_DAYS, DEFAULT_START
from .behaviour import Chunk
from .parameters import CHUNK_USER_DAYS, DAY, EPOCH, MAX_DAYS, MAX_USERS, USER_ACTIVITY
from .truth import Tally, truth_document
from .world import World
from .writer import WRITER_OPTIONS, DayWriters, IdFormats, Rows, creators_table


@dataclass
class GenerationSummary:
    """What :func:`generate` wrote. ``truth`` is the content of ``truth.json``."""

    out_dir: Path
    events_dir: Path
    assignments_path: Path
    truth_path: Path
    creators_path: Path
    files: list[Path]
    events: int
    users: int
    days: int
    seed: int
    start: date
    seconds: float
    truth: dict[str, Any] = field(repr=False)


def generate(
    out_dir: str | Path,
    users: int = 10_000,
    days: int = DEFAULT_DAYS,
    seed: int = 0,
    start: date = DEFAULT_START,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> GenerationSummary:
    """Write a synthetic export of ``users`` users over ``days`` UTC days from ``start`` into ``out_dir``.

    Writes ``events/dt=YYYY-MM-DD/part-NNNN.parquet`` (canonical columns, partitioned by the UTC
    date of ``event_time``), ``assignments.parquet``, ``creator_effects.parquet`` and ``truth.json``.
    The same arguments give byte-identical files. Everything is written into a temporary folder
    inside ``out_dir`` and moved into place at the end, so a failed run leaves no partial output.
    Refuses to replace existing outputs unless ``overwrite``. ``progress(done, total)`` is called
    after each chunk of users.
    """
    started = time.perf_counter()
    if isinstance(start, datetime):
        start = start.date()
    _check_args(users, days, seed, start)
    out = Path(out_dir)
    _check_out_dir(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    sweep_stale(out)  # the staging folders of killed runs
    staging = out / temp_name("generate")  # a name the next run's sweep recognises if this one is killed
    staging.mkdir(mode=0o700)
    try:
        run = Run(users=users, days=days, seed=seed, start=start, staging=staging)
        total_events, truth = run.execute(progress)
        _publish(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    events_dir = out / "events"
    files = sorted(events_dir.rglob("*.parquet"))
    return GenerationSummary(
        out_dir=out, events_dir=events_dir, assignments_path=out / "assignments.parquet",
        truth_path=out / "truth.json", creators_path=out / "creator_effects.parquet", files=files,
        events=total_events, users=users, days=days, seed=seed, start=start,
        seconds=time.perf_counter() - started, truth=truth,
    )


_OUTPUTS = ("events", "assignments.parquet", "creator_effects.parquet", "truth.json")


def check_users(users: int) -> None:
    """``--users``: 1 to :data:`MAX_USERS` (``demo`` checks it before announcing the generation)."""
    if isinstance(users, bool) or not isinstance(users, int) or not 1 <= users <= MAX_USERS:
        raise OptionError(f"--users {users}: expected an integer from 1 to {MAX_USERS:,}")


def _check_args(users: int, days: int, seed: int, start: date) -> None:
    check_users(users)
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise OptionError(f"--days {days}: expected an integer from 1 to {MAX_DAYS}")
    if not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise OptionError(f"--seed {seed}: expected an integer from 0 to 2**63-1")
    if not isinstance(start, date) or start.year < 1971 or (start + timedelta(days=days)).year > 9998:
        raise OptionError(f"--start {start}: expected a date between 1971 and 9998")


def _check_out_dir(out: Path, overwrite: bool) -> None:
    """Raise unless ``overwrite`` when ``out`` already holds generated outputs."""
    if out.exists() and not out.is_dir():
        raise OptionError(f"--out {out}: exists and is not a folder")
    existing = []
    for name in _OUTPUTS:
        path = out / name
        if path.is_dir():
            if any(path.iterdir()):
                existing.append(name)
        elif path.exists():
            existing.append(name)
    if existing and not overwrite:
        what = f"{out / existing[0]}" + (" is not empty" if existing[0] == "events" else " exists")
        raise OptionError(f"--out {out}: {what}; pass --overwrite to replace the generated files")


def _publish(staging: Path, out: Path) -> None:
    """Move the staged outputs into ``out``; replaced folders are removed only after the swap."""
    trash = staging / ".replaced"
    trash.mkdir()
    for name in _OUTPUTS:
        target = out / name
        if (staging / name).is_dir():
            if target.exists():
                os.replace(target, trash / name)
            os.replace(staging / name, target)
        else:
            os.replace(staging / name, target)


class Run:
    """One generation: the world, the chunk loop, the writers and the truth document."""

    def __init__(self, users: int, days: int, seed: int, start: date, staging: Path) -> None:
        self.users, self.days, self.seed, self.start, self.staging = users, days, seed, start, staging
        self.world = World.build(users, days, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,))))
        self.start_us = (start - EPOCH).days * DAY
        self.end_us = self.start_us + days * DAY
        self.experiment_day = days // 2
        self.chunk_users = int(np.clip(CHUNK_USER_DAYS // days, 1_000, 50_000))
        self.session_base = 0
        self.order_base = 0
        self.sums = Tally()
        self.ids = IdFormats(self.world)
        weekday = np.array([(start + timedelta(days=d)).weekday() for d in range(days)])
        self.day_boost = np.where(weekday >= 5, USER_ACTIVITY["weekend_boost"], 1.0)

    def execute(self, progress: Callable[[int, int], None] | None) -> tuple[int, dict[str, Any]]:
        writers = DayWriters(self.staging / "events", self.start, self.days)
        assignments: list[pa.Table] = []
        n_chunks = -(-self.users // self.chunk_users)
        total = 0
        # Simulation of chunk k+1 overlaps with sorting, formatting and compressing chunk k in one
        # writer thread (Arrow and numpy release the GIL); at most one chunk waits, so memory stays bounded.
        pending: Future[int] | None = None
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                for chunk in range(n_chunks):
                    lo = chunk * self.chunk_users
                    hi = min(self.users, lo + self.chunk_users)
                    rows, assigned = Chunk(self, chunk, lo, hi).simulate()
                    assignments.append(assigned)
                    if pending is not None:
                        total += pending.result()
                    pending = pool.submit(self._write_rows, writers, rows)
                    if progress is not None:
                        progress(chunk + 1, n_chunks)
                if pending is not None:
                    total += pending.result()
        finally:
            writers.close()
        pq.write_table(pa.concat_tables(assignments), self.staging / "assignments.parquet", **WRITER_OPTIONS)
        pq.write_table(creators_table(self.world, self.ids), self.staging / "creator_effects.parquet", **WRITER_OPTIONS)
        truth = truth_document(self, total)
        (self.staging / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
        return total, truth

    def _write_rows(self, writers: DayWriters, rows: Rows) -> int:
        return writers.write(*rows.to_table(self.ids, self.start_us))
