"""``anonymize``: a shareable, de-identified copy of an export, written out-of-core by DuckDB.

What happens to each column of the canonical view (the output uses canonical names, so it needs no
config to be read back):

- ``user_id``, ``order_id``, ``session_id`` (and ``creator_id`` with ``hash_creators``): keyed
  pseudonyms (see :mod:`privacy`); the same key gives the same pseudonyms in every run.
- ``event_time``: kept (UTC, tz-aware), or truncated to the start of its minute/hour/day (UTC).
- ``revenue``: kept, or rounded to ``round_revenue`` decimal places (negative: tens, hundreds...).
- other canonical columns (event_name, video_id, product_id, watch_time_s, platform,
  traffic_source, device, region): kept.
- other columns of the export: dropped unless named in ``keep``. Text columns may hold free text
  or identifiers, and numeric ones raw timestamps or ids (which would undo time coarsening), so
  nothing unknown is shared by default.

With ``assignments`` (an experiment assignments file, as ``shortvid ab`` reads) the copy gains
``assignments.parquet``: ``user_id`` pseudonymised with the same key (so it still joins the events),
``assigned_at`` as tz-aware UTC, truncated like ``event_time``; ``experiment_id`` and ``variant`` kept;
other columns dropped unless named in ``keep``.

The input is only read. The Parquet files and ``manifest.json`` are written to temporary files and
renamed into place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from . import sql
from .ab.metrics import REQUIRED_ASSIGNMENT_COLUMNS, assigned_at_expr
from .config import CANONICAL_COLUMNS
from .errors import InputError, OptionError, first_line
from .files import atomic_path, check_destination, protect, write_text_atomic
from .options import check_int
from .privacy import IDENTIFIER_COLUMNS, hmac_sql, key_id, pseudonym_key
from .results import AnalysisResult
from .source import EventSource, resolve_files
from .sql import Params, quote_ident

TIME_RESOLUTIONS = ("minute", "hour", "day")
_KEPT_CANONICAL = ("event_name", "video_id", "product_id", "watch_time_s", "platform", "traffic_source",
                   "device", "region")
OUTPUT_FILE = "events.parquet"
ASSIGNMENTS_FILE = "assignments.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass
class ColumnTransformation:
    column: str
    transformation: str


@dataclass
class AssignmentsCopy:
    """What the copy of the experiment assignments holds (``assignments`` of the manifest)."""

    rows: int
    output: str
    columns: list[ColumnTransformation]
    dropped_columns: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "output": self.output, "columns": [vars(c) for c in self.columns],
                "dropped_columns": self.dropped_columns}


@dataclass
class AnonymizeResult(AnalysisResult):
    """The manifest of an anonymised copy."""

    kind = "anonymize"
    rows: int = 0
    output: str = ""
    key_id: str = ""
    columns: list[ColumnTransformation] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    assignments: AssignmentsCopy | None = None

    def body(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "output": self.output,
            "key_id": self.key_id,
            "columns": [vars(c) for c in self.columns],
            "dropped_columns": self.dropped_columns,
            "assignments": self.assignments.to_dict() if self.assignments else None,
        }

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([vars(c) for c in self.columns],
                            schema={"column": pl.String, "transformation": pl.String})


def anonymize(
    source: EventSource,
    out_dir: str | Path,
    time_resolution: str | None = None,
    keep: tuple[str, ...] = (),
    hash_creators: bool = False,
    round_revenue: int | None = None,
    assignments: str | Path | None = None,
) -> AnonymizeResult:
    """Write ``out_dir/events.parquet`` (the events of the source's date range), with ``assignments``
    also ``out_dir/assignments.parquet``, and ``out_dir/manifest.json``; return the manifest."""
    key = pseudonym_key(source.config)
    assert key is not None  # a required key is never None: its absence raises
    if round_revenue is not None:
        # DuckDB's round() takes an INTEGER number of places; beyond ±20 places nothing changes anyway
        check_int("--round-revenue", round_revenue, -20, 20, "number of decimal places")
    if time_resolution is not None and time_resolution not in TIME_RESOLUTIONS:
        raise OptionError(f"--time-resolution {time_resolution!r}: expected one of {', '.join(TIME_RESOLUTIONS)}")
    out = Path(out_dir)
    assignment_files, hive = resolve_files(assignments) if assignments is not None else ([], False)
    protect(assignments, "the assignments")
    for name in (OUTPUT_FILE, ASSIGNMENTS_FILE, MANIFEST_FILE):  # before the work, not at the first write
        check_destination(out / name, "--out", [*source.files, *assignment_files])
    property_columns = [c for c in source.columns if c not in CANONICAL_COLUMNS and c != "local_time"]
    assignment_columns = _assignment_columns(source, assignments, assignment_files, hive)
    extra_assignment_columns = [c for c in assignment_columns if c not in REQUIRED_ASSIGNMENT_COLUMNS]
    _check_keep(keep, property_columns, extra_assignment_columns, source, assignments)

    params = Params()
    select, transformations = _canonical_select(params, key, time_resolution=time_resolution,
                                                hash_creators=hash_creators, round_revenue=round_revenue)
    dropped: list[str] = []
    select += _kept(property_columns, keep, transformations, dropped)

    target = out / OUTPUT_FILE
    with atomic_path(target, "--out") as tmp:
        sql.execute(source.con, "anonymize_copy", {**params.values, "target": str(tmp)},
                {"select_list": ",\n    ".join(select)})
        rows = _rows(source, tmp)
    copied = None
    if assignments is not None:
        copied = _copy_assignments(source, assignment_files, hive, assignment_columns, out / ASSIGNMENTS_FILE,
                                   key, time_resolution, keep)

    result = AnonymizeResult(
        params={
            "source": source.describe(),
            "out": str(out),
            "time_resolution": time_resolution,
            "keep": list(keep),
            "hash_creators": hash_creators,
            "round_revenue": round_revenue,
            "assignments": str(assignments) if assignments is not None else None,
        },
        rows=rows,
        output=OUTPUT_FILE,
        key_id=key_id(key),
        columns=transformations,
        dropped_columns=dropped,
        assignments=copied,
    )
    write_text_atomic(out / MANIFEST_FILE, json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n",
                      "--out")
    return result


def _check_keep(keep: tuple[str, ...], property_columns: list[str], extra_assignment_columns: list[str],
                source: EventSource, assignments: str | Path | None) -> None:
    """Every ``--keep`` column must be a non-canonical column of the events or the assignments."""
    for name in keep:
        if name not in property_columns and name not in extra_assignment_columns:
            candidates = [*property_columns, *extra_assignment_columns]
            raise OptionError(f"--keep {name!r} is not a non-canonical column of {source.path}"
                              f"{' or of ' + str(assignments) if assignments is not None else ''}; "
                              f"candidates: {', '.join(candidates) or '(none)'}")


def _canonical_select(params: Params, key: bytes, *, time_resolution: str | None, hash_creators: bool,
                      round_revenue: int | None) -> tuple[list[str], list[ColumnTransformation]]:
    """The select items of the canonical columns (times truncated, identifiers pseudonymised, revenue
    rounded as asked) and what was done to each."""
    select: list[str] = []
    transformations: list[ColumnTransformation] = []
    time_expr = "event_time" if time_resolution is None else f"date_trunc('{time_resolution}', event_time)"
    select.append(f"timezone('UTC', {time_expr}) AS event_time")
    transformations.append(ColumnTransformation(
        "event_time", "kept (UTC)" if time_resolution is None else f"truncated to the {time_resolution} (UTC)"))
    hashed = IDENTIFIER_COLUMNS + (("creator_id",) if hash_creators else ())
    for name in hashed:
        select.append(f"{hmac_sql(name, key, params)} AS {name}")
        transformations.append(ColumnTransformation(name, "HMAC-SHA256 pseudonym (hex)"))
    if not hash_creators:
        select.append("creator_id")
        transformations.append(ColumnTransformation("creator_id", "kept"))
    if round_revenue is None:
        select.append("revenue")
        transformations.append(ColumnTransformation("revenue", "kept"))
    else:
        select.append(f"round(revenue, {params.bind(int(round_revenue))}) AS revenue")
        transformations.append(ColumnTransformation("revenue", f"rounded to {round_revenue} decimal place(s)"))
    for name in _KEPT_CANONICAL:
        select.append(name)
        transformations.append(ColumnTransformation(name, "kept"))
    return select, transformations


def _kept(columns: list[str], keep: tuple[str, ...], transformations: list[ColumnTransformation],
          dropped: list[str]) -> list[str]:
    """Select items of the ``columns`` listed in ``keep``; the others are recorded as dropped."""
    select = []
    for name in columns:
        if name not in keep:
            dropped.append(name)
            continue
        select.append(quote_ident(name))
        transformations.append(ColumnTransformation(name, "kept (listed with --keep)"))
    return select


def _rows(source: EventSource, path: Path) -> int:
    return int(source.con.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(path)}).fetchall()[0][0])


def _assignment_columns(source: EventSource, assignments: str | Path | None, files: list[str],
                        hive: bool) -> dict[str, str]:
    """Column name -> type of the assignments file (empty without one); checks the required columns."""
    if assignments is None:
        return {}
    try:
        described = source.con.execute(
            f"DESCRIBE SELECT * FROM read_parquet($files, hive_partitioning = {'true' if hive else 'false'}, "
            f"union_by_name = true)", {"files": files}).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"{assignments}: cannot read as Parquet: {first_line(exc)}") from None
    columns = {row[0]: str(row[1]) for row in described}
    missing = [c for c in REQUIRED_ASSIGNMENT_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"{assignments}: assignments lack required column(s) {', '.join(missing)}; columns "
                         f"present: {', '.join(columns)}; expected {', '.join(REQUIRED_ASSIGNMENT_COLUMNS)}")
    return columns


def _copy_assignments(source: EventSource, files: list[str], hive: bool, columns: dict[str, str], target: Path,
                      key: bytes, time_resolution: str | None, keep: tuple[str, ...]) -> AssignmentsCopy:
    """Write the pseudonymised assignments (same key as the events) and describe them."""
    params = Params()
    assigned = assigned_at_expr(source, files[0], columns["assigned_at"].upper())
    if time_resolution is not None:
        assigned = f"date_trunc('{time_resolution}', {assigned})"
    select = ["experiment_id", f"{hmac_sql('user_id', key, params)} AS user_id", "variant",
              f"timezone('UTC', {assigned}) AS assigned_at"]
    transformations = [
        ColumnTransformation("experiment_id", "kept"),
        ColumnTransformation("user_id", "HMAC-SHA256 pseudonym (hex), same key as the events"),
        ColumnTransformation("variant", "kept"),
        ColumnTransformation("assigned_at", "UTC" if time_resolution is None
                             else f"truncated to the {time_resolution} (UTC)"),
    ]
    dropped: list[str] = []
    select += _kept([c for c in columns if c not in REQUIRED_ASSIGNMENT_COLUMNS], keep, transformations, dropped)
    with atomic_path(target, "--out") as tmp:
        sql.execute(source.con, "anonymize_assignments", {**params.values, "files": files, "target": str(tmp)},
                    {"select_list": ",\n    ".join(select), "hive": hive})
        rows = _rows(source, tmp)
    return AssignmentsCopy(rows, ASSIGNMENTS_FILE, transformations, dropped)
