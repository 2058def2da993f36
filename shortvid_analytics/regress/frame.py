"""The modelling frame: one row per unit (user, user_video or session), built in DuckDB SQL.

Each unit has its own query, ``queries/regression_frame_<unit>.sql`` (user and session share the columns of
``regression_frame_aggregates.sql``, included as a fragment); the column definitions are
documented in ``docs/regress.md``. The frame is the only thing that enters Python: event-level work
(aggregation per unit, matching purchases to the product shown within the window, follow status)
stays in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import polars as pl

from .. import sql
from ..ab.metrics import load_assignments
from ..errors import InputError, OptionError
from ..files import atomic_path, writer_file
from ..periods import format_window
from ..privacy import pseudonymize_frame
from ..source import EventSource

if TYPE_CHECKING:
    from ..engine import Connection

#: Focal regressors used when neither --features nor --formula is given.
DEFAULT_FEATURES: dict[str, tuple[str, ...]] = {
    "user_video": ("liked", "commented", "shared", "watch_min", "completed", "follows_creator"),
    "user": ("likes", "comments", "shares", "watch_min", "completion_rate", "follows"),
    "session": ("likes", "comments", "shares", "watch_min", "completion_rate", "follows"),
}
#: Categorical columns that become default controls (dummy-coded) when they have two or more levels,
#: with the reference level used when it occurs (else the first level in sort order).
CATEGORICAL_CONTROLS: dict[str, str | None] = {"platform": None, "traffic_source": "recommend"}
CATEGORY_LEVELS = 10_000
_WHAT: dict[str, str] = {
    "user_video": "video_view events with a video_id",
    "user": "video_view events",
    "session": "video_view events with a session_id",
}


@dataclass
class Frame:
    """The modelling frame of one unit and what building it found worth saying."""

    unit: str
    window: timedelta | None
    data: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    experiment: str | None = None

    def to_pandas(self, columns: list[str]) -> pd.DataFrame:
        """``columns`` of the frame for statsmodels; text columns with at most ``CATEGORY_LEVELS`` values
        become categoricals with sorted levels — patsy codes them twice as fast and builds the same
        design matrix as from text."""
        data = self.data.select(columns)
        levels = {c: data[c].drop_nulls().unique() for c, t in data.schema.items() if t == pl.String}
        return data.cast({column: pl.Enum(sorted(values.to_list())) for column, values in levels.items()
                          if values.len() <= CATEGORY_LEVELS}).to_pandas()

    def describe(self) -> dict[str, object]:
        """Unit, window, rows and columns for the JSON ``frame`` section."""
        return {
            "unit": self.unit,
            "window": format_window(self.window) if self.window is not None else None,
            "rows": self.data.height,
            "columns": self.data.columns,
            "experiment": self.experiment,
        }


@dataclass(frozen=True)
class Assignments:
    """Experiment assignments to join to the frame (``experiment_id``, ``user_id``, ``variant``, ``assigned_at``).

    ``experiment`` may be omitted when the file holds one experiment; ``treatment`` is the variant
    that counts as treated.
    """

    path: str
    experiment: str | None = None
    treatment: str = "treatment"



def build_frame(source: EventSource, unit: str, window: timedelta, assignments: Assignments | None = None) -> Frame:
    """Run ``queries/regression_frame_<unit>.sql``; ``window`` is the purchase window of ``user_video``.

    With ``assignments`` the frame gains ``variant`` and ``treated`` (``queries/regression_frame_assignment.sql``).
    """
    source.require_events(["video_view"])
    data = sql.run(source.con, f"regression_frame_{unit}", {"window": window})
    if data.height == 0:
        raise InputError(f"{source.path}: no {unit} rows: the range holds no {_WHAT[unit]}")
    frame = Frame(unit=unit, window=window if unit == "user_video" else None, data=data)
    if unit == "user_video":
        _check_user_video(frame)
    if assignments is not None:
        _attach_assignments(source, frame, assignments)
    return frame


def _attach_assignments(source: EventSource, frame: Frame, assignments: Assignments) -> None:
    loaded = load_assignments(source, assignments.path, assignments.experiment)
    source.con.register("frame", frame.data.with_row_index("frame_row"))
    try:
        data = sql.run(source.con, "regression_frame_assignment",
                       {"treatment": assignments.treatment, "per_user": frame.unit == "user"})
    finally:
        source.con.unregister("frame")
    frame.data = data.drop("frame_row")
    frame.experiment = loaded.experiment
    if loaded.excluded_multi_variant_users:
        frame.warnings.append(f"{loaded.excluded_multi_variant_users:,} users of {loaded.experiment} have several "
                              f"variants; they count as not in the experiment (variant null, treated 0)")
    if frame.data["treated"].sum() == 0:
        frame.warnings.append(f"no unit of the frame is treated: no user of {loaded.experiment} has variant "
                              f"{assignments.treatment!r} at or before the unit's start")


def _check_user_video(frame: Frame) -> None:
    no_product = frame.data["product_id"].null_count()
    if no_product:
        frame.warnings.append(f"{no_product:,} of {frame.data.height:,} (user, video) pairs have no product_id "
                              f"on their views; only purchases naming their video_id can count for them")
    censored = int(frame.data["censored"].sum())
    if censored and frame.window is not None:  # the censored column is user_video's, which has a window
        frame.warnings.append(
            f"{censored:,} of {frame.data.height:,} (user, video) pairs were first viewed less than "
            f"{format_window(frame.window)} before the export's last event; their purchase window is cut "
            f"short (column censored = 1)"
        )


def default_features(frame: Frame) -> list[str]:
    """The unit's default features, plus ``treated`` when the frame has experiment assignments."""
    return [*DEFAULT_FEATURES[frame.unit], *(["treated"] if "treated" in frame.data.columns else [])]


def default_controls(frame: Frame) -> list[str]:
    """Dummy-coded categorical controls (``C(platform)``, ...) for the columns with two or more levels."""
    controls = []
    for column, reference in CATEGORICAL_CONTROLS.items():
        levels = frame.data[column].drop_nulls().unique().to_list()
        if len(levels) < 2:
            continue
        if reference in levels:
            controls.append(f"C({column}, Treatment('{reference}'))")
        else:
            controls.append(f"C({column})")
    return controls


def check_frame_path(path: str | Path) -> None:
    """Raise :class:`OptionError` unless ``path`` names a ``.parquet`` or ``.csv`` file."""
    if Path(path).suffix.lower() not in (".parquet", ".csv"):
        raise OptionError(f"--save-frame {path}: expected a .parquet or .csv file name")


def save_frame(frame: Frame, path: str | Path, key: bytes | None, con: Connection | None = None) -> None:
    """Write the frame atomically: ``.parquet`` (R arrow, pandas, polars) or ``.csv`` (Stata, Excel).

    With ``key`` the identifiers (``user_id``, ``session_id``) are replaced by their keyed pseudonyms
    (:func:`~shortvid_analytics.privacy.pseudonymize_frame`); ``key=None`` writes them raw -- the
    caller decides (``--raw-ids``). Every other column, and so every refit on the file, is unchanged.
    """
    check_frame_path(path)
    data = frame.data if key is None else pseudonymize_frame(frame.data, key, con)
    with atomic_path(path, "--save-frame") as tmp, writer_file(tmp) as handle:
        if Path(path).suffix.lower() == ".parquet":
            data.write_parquet(handle)
        else:
            data.write_csv(handle)
