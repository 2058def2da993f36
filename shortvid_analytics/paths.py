"""``paths``: the most frequent event sequences after a start event or before an end event.

Definitions (``docs/paths.md`` has the full text and the JSON schema):

- **Anchor.** Forward mode (``start`` given): each user's first event matching ``start`` among the
  events in the date range; with ``session=True`` each (user, session)'s first such event. Backward
  mode (only ``end`` given): the same with the ``end`` selector. One anchor = one path.
- **Horizon.** The anchor and the same user's (and session's) events on the anchor's side: up to
  ``window`` after it (forward) or before it (backward), edges inclusive; with ``session=True``
  the rest of the session instead. Events outside the date range still count in the horizon.
- **Order.** ``event_time``; at equal times the events matching the anchor selector come first
  (forward) or last (backward), then ``event_name``.
- **Path.** The first ``steps`` steps of the horizon walking away from the anchor (the anchor is
  step 1); with ``collapse_repeats`` a run of consecutive equal event names is one step shown as
  ``video_view×3``, and two paths are the same only if their run lengths are equal too.
- **Conversion** (forward mode with ``end``): a path converted when its horizon, anchor included,
  holds an event matching ``end``, whether or not it is among the first ``steps`` steps.
- **Suppression**: sequences followed by fewer than ``min_group_size`` distinct users are never
  listed; their paths are counted in ``suppressed`` (listed + other + suppressed = all paths). The
  cells of the transition and step matrices with fewer than ``min_group_size`` distinct users are
  pooled per row of the transition matrix (per step of the step matrix) into one cell flagged
  ``suppressed``; a transition-matrix row whose state has fewer users is pooled whole into one row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from . import sql
from .errors import OptionError
from .options.paths import PathsOptions
from .privacy import SUPPRESSED, SUPPRESSED_GROUPS, pool_small_groups
from .results import AnalysisResult
from .source import EventSource

PATH_START = "(path_start)"
PATH_END = "(path_end)"
ARROW = " → "
REPEAT_MARK = "×"
_TEMP_TABLES = ("path_walk", "path_steps", "path_sequences")


@dataclass
class PathRow:
    """One sequence of the top list; ``events``/``repeats`` are in chronological order."""

    rank: int
    events: list[str]
    repeats: list[int]
    paths: int
    users: int
    share: float
    converted_paths: int | None
    converted_users: int | None
    conversion_rate: float | None

    @property
    def label(self) -> str:
        """``video_view×3 → product_click → purchase``."""
        return ARROW.join(step_label(e, r) for e, r in zip(self.events, self.repeats))

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "path": self.label, "events": self.events, "repeats": self.repeats,
                "steps": len(self.events), "paths": self.paths, "users": self.users, "share": self.share,
                "converted_paths": self.converted_paths, "converted_users": self.converted_users,
                "conversion_rate": self.conversion_rate}


@dataclass
class Transition:
    """``count`` transitions from ``from_state`` to ``to_state``; ``probability`` = P(to | from).

    A pooled cell (``suppressed``) sums ``suppressed_groups`` cells of fewer than ``min_group_size``
    users: ``to_state`` is None, and ``from_state`` too when it pools the rows of such states.
    """

    from_state: str | None
    to_state: str | None
    count: int
    probability: float
    suppressed: bool = False
    suppressed_groups: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.from_state, "to": self.to_state, "count": self.count,
                "probability": self.probability, "suppressed": self.suppressed,
                "suppressed_groups": self.suppressed_groups}


@dataclass
class StepCell:
    """``paths`` paths are at ``event`` in ``step``; ``share`` = paths / all paths.

    A pooled cell (``suppressed``, ``event`` None) sums the step's ``suppressed_groups`` cells of
    fewer than ``min_group_size`` users.
    """

    step: int
    event: str | None
    paths: int
    share: float
    suppressed: bool = False
    suppressed_groups: int = 0


@dataclass
class PathTotals:
    paths: int = 0
    users: int = 0
    sequences: int = 0
    converted_paths: int | None = None
    converted_users: int | None = None
    conversion_rate: float | None = None


@dataclass
class PathsResult(AnalysisResult):
    """Top paths, totals, transition matrix and step matrix of one ``paths`` analysis."""

    kind = "paths"
    direction: str = "forward"
    totals: PathTotals = field(default_factory=PathTotals)
    top_paths: list[PathRow] = field(default_factory=list)
    other_paths: int = 0
    other_sequences: int = 0
    suppressed_paths: int = 0
    suppressed_sequences: int = 0
    transitions: list[Transition] = field(default_factory=list)
    step_matrix: list[StepCell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def steps(self) -> list[int]:
        """Step numbers in chronological order (``1..n`` forward, ``-n..-1`` backward)."""
        n = self.params["steps"]
        return list(range(1, n + 1)) if self.direction == "forward" else list(range(-n, 0))

    def body(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "totals": vars(self.totals),
            "top_paths": [p.to_dict() for p in self.top_paths],
            "other": {"paths": self.other_paths, "sequences": self.other_sequences},
            "suppressed": {"paths": self.suppressed_paths, "sequences": self.suppressed_sequences},
            "transition_matrix": [t.to_dict() for t in self.transitions],
            "step_matrix": {"steps": self.steps, "cells": [vars(c) for c in self.step_matrix]},
            "notes": self.notes,
        }

    def to_frame(self) -> pl.DataFrame:
        """One row per top path."""
        schema = {"rank": pl.Int64, "path": pl.String, "steps": pl.Int64, "paths": pl.Int64,
                  "users": pl.Int64, "share": pl.Float64, "converted_paths": pl.Int64,
                  "converted_users": pl.Int64, "conversion_rate": pl.Float64}
        rows = [{k: v for k, v in p.to_dict().items() if k in schema} for p in self.top_paths]
        return pl.DataFrame(rows, schema=schema)


def step_label(event: str, repeats: int) -> str:
    """``video_view`` or, for a collapsed run, ``video_view×3``."""
    return f"{event}{REPEAT_MARK}{repeats}" if repeats > 1 else event


def run(source: EventSource, options: PathsOptions) -> PathsResult:
    """Most frequent paths of up to ``steps`` steps after ``start`` (forward) or before ``end`` (backward).

    ``start`` and ``end`` together: forward paths from ``start`` with conversion to ``end``. ``window``
    (default 24 h) bounds the horizon unless ``session`` is set; it cannot be combined with ``session``.
    Sequences of fewer than ``min_group_size`` distinct users are not listed but counted as suppressed.
    """
    start_spec, end_spec, steps, top = options.start, options.end, options.steps, options.top
    collapse_repeats, session, min_group_size = options.collapse_repeats, options.session, options.min_group_size
    horizon = options.horizon
    forward = start_spec is not None
    anchor_spec = start_spec or end_spec
    assert anchor_spec is not None  # PathsOptions requires start or end
    anchor_spec.validate(source, "start event" if forward else "end event")
    conversion_spec = end_spec if forward else None
    if conversion_spec is not None:
        conversion_spec.validate(source, "end event")
    if session:
        _require_sessions(source)

    binder = sql.Params()
    context = {
        "anchor": anchor_spec.selection(binder, source.columns),
        "conversion": conversion_spec.selection(binder, source.columns) if conversion_spec else None,
        "steps": steps,
        "step_params": [binder.bind(k) for k in range(1, steps + 1)],
    }
    values = binder.values | {
        "forward": forward, "by_session": session, "collapse": collapse_repeats, "steps": steps, "top": top,
        "window_seconds": horizon.total_seconds() if horizon else None,
        "path_start": PATH_START, "path_end": PATH_END, "min_group_size": min_group_size,
    }
    params = options.params(source)
    frames = _run_queries(source.con, values, context, min_group_size)
    totals_row = frames["totals"].row(0, named=True)
    converts = conversion_spec is not None
    totals = _totals(totals_row, converts)
    top_paths = [_path_row(rank, row, steps, forward, totals.paths, converts)
                 for rank, row in enumerate(frames["top"].iter_rows(named=True), start=1)]
    notes = []
    if totals.paths == 0:
        notes.append(f"no event matches {anchor_spec} in the date range: there are no paths")
    cell_users = frames.get("cell_users")
    return PathsResult(
        params=params,
        direction="forward" if forward else "backward",
        totals=totals,
        top_paths=top_paths,
        other_paths=totals.paths - sum(p.paths for p in top_paths) - int(totals_row["suppressed_paths"]),
        other_sequences=totals.sequences - len(top_paths) - int(totals_row["suppressed_sequences"]),
        suppressed_paths=int(totals_row["suppressed_paths"]),
        suppressed_sequences=int(totals_row["suppressed_sequences"]),
        transitions=_transitions(frames["transitions"], cell_users, min_group_size),
        step_matrix=_step_matrix(frames["steps"], totals.paths, steps, forward, cell_users, min_group_size),
        notes=notes,
    )


def _run_queries(con: Any, values: dict[str, Any], context: dict[str, Any],
                 min_group_size: int) -> dict[str, pl.DataFrame]:
    """The path stages into their temporary tables, then the result queries (dropping the tables after)."""
    try:
        sql.run(con, "paths_walk", values, context)
        sql.run(con, "paths_steps", values)
        sql.run(con, "paths_sequences", values, context)
        frames = {
            "totals": sql.run(con, "paths_totals", values, context),
            "top": sql.run(con, "paths_top", values, context),
            "transitions": sql.run(con, "paths_transitions", values),
            "steps": sql.run(con, "paths_step_matrix", values),
        }
        # a second pass over the steps, only when suppressing: the distinct users behind each cell
        if min_group_size > 1:
            frames["cell_users"] = sql.run(con, "paths_cell_users", values)
        return frames
    finally:
        for table in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _totals(row: dict[str, Any], converts: bool) -> PathTotals:
    return PathTotals(
        paths=int(row["paths"]),
        users=int(row["users"]),
        sequences=int(row["sequences"]),
        converted_paths=int(row["converted_paths"]) if converts else None,
        converted_users=int(row["converted_users"]) if converts else None,
        conversion_rate=_ratio(row["converted_paths"], row["paths"]) if converts else None,
    )


def paths(source: EventSource, *args: Any, **values: Any) -> PathsResult:
    """:func:`run` with the options given as :class:`PathsOptions` fields: ``paths(source, start="video_view",
    steps=3)``; text or typed values."""
    return run(source, PathsOptions(*args, **values))


def _require_sessions(source: EventSource) -> None:
    session_column = source.config.source_column("session_id")
    present = session_column in source.raw_columns
    if present:
        present = source.con.execute(
            "SELECT EXISTS (SELECT 1 FROM events_all WHERE session_id IS NOT NULL)").fetchall()[0][0]
    if not present:
        raise OptionError(f"--session needs session ids, but {source.path} has no non-null session_id "
                          f"(column {session_column!r}); use --window instead")


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def _path_row(rank: int, row: dict[str, Any], steps: int, forward: bool, total_paths: int,
              converts: bool) -> PathRow:
    taken = [k for k in range(1, steps + 1) if row[f"event_{k}"] is not None]
    if not forward:  # columns count back from the end event; paths read forward in time
        taken.reverse()
    return PathRow(
        rank=rank,
        events=[row[f"event_{k}"] for k in taken],
        repeats=[int(row[f"repeats_{k}"]) for k in taken],
        paths=int(row["paths"]),
        users=int(row["users"]),
        share=row["paths"] / total_paths,
        converted_paths=int(row["converted_paths"]) if converts else None,
        converted_users=int(row["converted_users"]) if converts else None,
        conversion_rate=row["converted_paths"] / row["paths"] if converts else None,
    )


def _transitions(frame: pl.DataFrame, cell_users: pl.DataFrame | None, min_group_size: int) -> list[Transition]:
    """Counts to P(to | from); each from-state's probabilities sum to 1.

    With ``cell_users`` (``paths_cell_users``), cells of fewer than ``min_group_size`` distinct users
    are pooled per from-state into one cell (``to`` None), and the rows of from-states with fewer
    users -- all of whose cells are small, as a cell's users are users of its from-state -- into one
    row (``from`` None), so that no small state or transition is named.
    """
    cells = frame.select("from_state", "to_state", "transitions")
    if cell_users is None:
        cells = pool_small_groups(cells, "transitions", min_group_size, sums=[])  # only adds the flags
    else:
        users = (cell_users.filter(pl.col("matrix") == "transition").select("from_state", "to_state", "users"))
        state_users = (cell_users.filter(pl.col("matrix") == "state")
                       .select("from_state", pl.col("users").alias("state_users")))
        cells = (cells.join(users, on=["from_state", "to_state"], how="left")
                 .join(state_users, on="from_state", how="left")
                 .with_columns(pl.when(pl.col("state_users") >= min_group_size).then(pl.col("from_state"))
                               .alias("from_state"))
                 .drop("state_users"))
        cells = (pool_small_groups(cells, "users", min_group_size, sums=["transitions", "users"],
                                   within=["from_state"])
                 .sort(["from_state", SUPPRESSED, "to_state"], nulls_last=True))
    row_totals: dict[str | None, int] = {}
    for row in cells.iter_rows(named=True):
        row_totals[row["from_state"]] = row_totals.get(row["from_state"], 0) + int(row["transitions"])
    return [
        Transition(row["from_state"], row["to_state"], int(row["transitions"]),
                   row["transitions"] / row_totals[row["from_state"]], row[SUPPRESSED], row[SUPPRESSED_GROUPS])
        for row in cells.iter_rows(named=True)
    ]


def _step_matrix(frame: pl.DataFrame, total_paths: int, steps: int, forward: bool,
                 cell_users: pl.DataFrame | None, min_group_size: int) -> list[StepCell]:
    """Share of paths at each event per step; paths shorter than the step are in the filler state
    (``(path_end)`` forward, ``(path_start)`` backward), so every step's shares sum to 1.

    With ``cell_users``, the cells of a step with fewer than ``min_group_size`` distinct users (the
    filler included: users with a path shorter than the step) are pooled into one cell (``event`` None).
    """
    if total_paths == 0:
        return []
    filler = PATH_END if forward else PATH_START
    rows: list[tuple[int, str, int]] = []
    for k in range(1, steps + 1):
        step = k if forward else -k
        at_step = frame.filter(pl.col("step") == step)
        rows += [(step, row["event_name"], int(row["paths"])) for row in at_step.iter_rows(named=True)]
        shorter = total_paths - int(at_step["paths"].sum())
        if shorter:
            rows.append((step, filler, shorter))
    cells = pl.DataFrame(rows, schema={"step": pl.Int64, "event": pl.String, "paths": pl.Int64}, orient="row")
    if cell_users is None:
        cells = pool_small_groups(cells, "paths", min_group_size, sums=[])  # only adds the flags
    else:
        lengths = dict(cell_users.filter(pl.col("matrix") == "length").select("step", "users").iter_rows())
        filler_users = [(k if forward else -k, filler, sum(n for length, n in lengths.items() if length < k))
                        for k in range(1, steps + 1)]
        users = pl.concat([
            cell_users.filter(pl.col("matrix") == "step").select("step", pl.col("to_state").alias("event"), "users"),
            pl.DataFrame(filler_users, schema={"step": pl.Int64, "event": pl.String, "users": pl.Int64}, orient="row"),
        ], how="vertical_relaxed")
        cells = pool_small_groups(cells.join(users, on=["step", "event"], how="left"), "users", min_group_size,
                                  sums=["paths", "users"], within=["step"])
        # pooled rows come last overall; a stable sort puts each after its own step's cells
        cells = cells.sort(pl.col("step").abs(), maintain_order=True)
    return [StepCell(row["step"], row["event"], int(row["paths"]), row["paths"] / total_paths, row[SUPPRESSED],
                     row[SUPPRESSED_GROUPS])
            for row in cells.iter_rows(named=True)]
