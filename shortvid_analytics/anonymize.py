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

The input is only read. The Parquet file and ``manifest.json`` are written to temporary files and
renamed into place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from . import sql
from .config import CANONICAL_COLUMNS
from .errors import OptionError
from .privacy import hmac_sql, key_id, pseudonym_key
from .render.export import atomic_path, write_text_atomic
from .results import AnalysisResult
from .source import EventSource
from .sql import Params, quote_ident

TIME_RESOLUTIONS = ("minute", "hour", "day")
_PSEUDONYMISED = ("user_id", "order_id", "session_id")
_KEPT_CANONICAL = ("event_name", "video_id", "product_id", "watch_time_s", "platform", "traffic_source",
                   "device", "region")
OUTPUT_FILE = "events.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass
class ColumnTransformation:
    column: str
    transformation: str


@dataclass
class AnonymizeResult(AnalysisResult):
    """The manifest of an anonymised copy."""

    kind = "anonymize"
    rows: int = 0
    output: str = ""
    key_id: str = ""
    columns: list[ColumnTransformation] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "output": self.output,
            "key_id": self.key_id,
            "columns": [vars(c) for c in self.columns],
            "dropped_columns": self.dropped_columns,
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
) -> AnonymizeResult:
    """Write ``out_dir/events.parquet`` and ``out_dir/manifest.json``; return the manifest."""
    key = pseudonym_key(source.config)
    if time_resolution is not None and time_resolution not in TIME_RESOLUTIONS:
        raise OptionError(f"--time-resolution {time_resolution!r}: expected one of {', '.join(TIME_RESOLUTIONS)}")
    out = Path(out_dir)
    inputs = {Path(f).resolve() for f in source.files}
    if (out / OUTPUT_FILE).resolve() in inputs:
        raise OptionError(f"--out {out}: would overwrite the input {out / OUTPUT_FILE}")
    property_columns = [c for c in source.columns if c not in CANONICAL_COLUMNS and c != "local_time"]
    for name in keep:
        if name not in property_columns:
            raise OptionError(f"--keep {name!r} is not a non-canonical column of {source.path}; "
                              f"candidates: {', '.join(property_columns) or '(none)'}")

    params = Params()
    select: list[str] = []
    transformations: list[ColumnTransformation] = []
    dropped: list[str] = []

    time_expr = "event_time" if time_resolution is None else f"date_trunc('{time_resolution}', event_time)"
    select.append(f"timezone('UTC', {time_expr}) AS event_time")
    transformations.append(ColumnTransformation(
        "event_time", "kept (UTC)" if time_resolution is None else f"truncated to the {time_resolution} (UTC)"))
    hashed = _PSEUDONYMISED + (("creator_id",) if hash_creators else ())
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
    for name in property_columns:
        if name not in keep:
            dropped.append(name)
            continue
        select.append(quote_ident(name))
        transformations.append(ColumnTransformation(name, "kept (listed with --keep)"))

    target = out / OUTPUT_FILE
    with atomic_path(target) as tmp:
        sql.execute(source.con, "anonymize_copy", {**params.values, "target": str(tmp)},
                {"select_list": ",\n    ".join(select)})
        rows = int(source.con.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(tmp)}).fetchall()[0][0])

    result = AnonymizeResult(
        params={
            "source": source.describe(),
            "out": str(out),
            "time_resolution": time_resolution,
            "keep": list(keep),
            "hash_creators": hash_creators,
            "round_revenue": round_revenue,
        },
        rows=rows,
        output=OUTPUT_FILE,
        key_id=key_id(key),
        columns=transformations,
        dropped_columns=dropped,
    )
    write_text_atomic(out / MANIFEST_FILE, json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return result
