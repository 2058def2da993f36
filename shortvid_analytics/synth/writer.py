"""The Parquet output: string ids, one file per UTC day (rows ordered by day, user and time), the schemas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .parameters import DAY, DEVICES, EVENT_NAMES, PLATFORMS, REGIONS, TRAFFIC_SOURCES
from .world import World

WRITER_OPTIONS = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
}
_ROWS_PER_FILE = 5_000_000

EVENTS_SCHEMA = pa.schema([
    ("event_time", pa.timestamp("us", tz="UTC")),
    ("user_id", pa.int64()),
    ("event_name", pa.string()),
    ("session_id", pa.string()),
    ("video_id", pa.string()),
    ("creator_id", pa.string()),
    ("product_id", pa.string()),
    ("order_id", pa.string()),
    ("revenue", pa.float64()),
    ("watch_time_s", pa.float64()),
    ("platform", pa.string()),
    ("traffic_source", pa.string()),
    ("device", pa.string()),
    ("region", pa.string()),
])
ASSIGNMENTS_SCHEMA = pa.schema([
    ("experiment_id", pa.string()),
    ("user_id", pa.int64()),
    ("variant", pa.string()),
    ("assigned_at", pa.timestamp("us", tz="UTC")),
])
CREATORS_SCHEMA = pa.schema([
    ("creator_id", pa.string()),
    ("platform", pa.string()),
    ("creator_effect", pa.float64()),
    ("popularity_share", pa.float64()),
    ("quality", pa.float64()),
    ("videos", pa.int64()),
])


class IdFormats:
    """String ids: a letter and a zero-padded 1-based number (``v000123``).

    Video, creator and product ids are formatted once for the whole world and then taken by index.
    """

    def __init__(self, world: World) -> None:
        self.widths = {
            "v": max(6, len(str(len(world.video_duration)))),
            "c": max(5, len(str(len(world.creator_platform)))),
            "p": max(6, len(str(len(world.product_price)))),
            "s": 10,
            "o": 10,
        }
        self.tables = {
            "v": self.format("v", np.arange(len(world.video_duration))),
            "c": self.format("c", np.arange(len(world.creator_platform))),
            "p": self.format("p", np.arange(len(world.product_price))),
        }

    def format(self, prefix: str, index: np.ndarray) -> pa.Array:
        """``prefix`` + (index + 1) zero-padded; negative index -> null."""
        digits = pc.cast(pa.array(index + 1, mask=index < 0), pa.string())
        return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width=self.widths[prefix], padding="0"), "")

    def lookup(self, prefix: str, index: np.ndarray) -> pa.Array:
        """Ids of world objects (``v``, ``c`` or ``p``) by index; negative index -> null."""
        return self.tables[prefix].take(pa.array(index, mask=index < 0))


class DayWriters:
    """One open Parquet file per UTC day; rolls over to the next part file after ``_ROWS_PER_FILE`` rows."""

    def __init__(self, root: Path, start: date, days: int) -> None:
        self.root, self.start = root, start
        self.open: dict[int, tuple[pq.ParquetWriter, int, int]] = {}  # day -> (writer, part, rows)
        self.days = days

    def write(self, table: pa.Table, day_index: np.ndarray) -> int:
        """Append the rows of ``table`` (sorted by ``day_index``) to their days' files; return rows."""
        if len(day_index) and not 0 <= day_index[0] <= day_index[-1] < self.days:
            raise RuntimeError("generated an event outside the period")  # a bug, never bad input
        bounds = np.searchsorted(day_index, np.arange(self.days + 1))
        for day in range(self.days):
            lo, hi = int(bounds[day]), int(bounds[day + 1])
            if hi > lo:
                self._writer(day, hi - lo).write_table(table.slice(lo, hi - lo), row_group_size=hi - lo)
        return table.num_rows

    def _writer(self, day: int, rows: int) -> pq.ParquetWriter:
        writer, part, written = self.open.get(day, (None, -1, 0))
        if writer is None or written >= _ROWS_PER_FILE:
            if writer is not None:
                writer.close()
            part += 1
            folder = self.root / f"dt={(self.start + timedelta(days=day)).isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(folder / f"part-{part:04d}.parquet", EVENTS_SCHEMA, **WRITER_OPTIONS)
            written = 0
        self.open[day] = (writer, part, written + rows)
        return writer

    def close(self) -> None:
        for writer, _part, _rows in self.open.values():
            writer.close()
        self.open.clear()


@dataclass
class Rows:
    """A chunk's events as unsorted numpy columns (indices into users and the world), not yet strings."""

    columns: dict[str, np.ndarray]
    user_ids: np.ndarray
    platform: np.ndarray
    device: np.ndarray
    region: np.ndarray

    def to_table(self, ids: IdFormats, start_us: int) -> tuple[pa.Table, np.ndarray]:
        """The Arrow table ordered by day, user and time, and each row's day index."""
        c = self.columns
        day = (c["t"] - start_us) // DAY
        # Rows ordered by day, user, time: good compression, and each day is one contiguous slice.
        sort_key = (day * len(self.user_ids) + c["user"]) * DAY + (c["t"] - start_us - day * DAY)
        order = np.argsort(sort_key, kind="stable")
        c = {key: v[order] for key, v in c.items()}
        user = c["user"]
        table = pa.table({
            "event_time": pa.array(c["t"], pa.int64()).view(pa.timestamp("us", tz="UTC")),
            "user_id": self.user_ids[user],
            "event_name": pa.array(EVENT_NAMES).take(pa.array(c["name"])),
            "session_id": ids.format("s", c["session"]),
            "video_id": ids.lookup("v", c["video"]),
            "creator_id": ids.lookup("c", c["creator"]),
            "product_id": ids.lookup("p", c["product"]),
            "order_id": ids.format("o", c["order"]),
            "revenue": pa.array(c["revenue"], mask=np.isnan(c["revenue"])),
            "watch_time_s": pa.array(c["watch"], mask=np.isnan(c["watch"])),
            "platform": pa.array(PLATFORMS).take(pa.array(self.platform[user])),
            "traffic_source": pa.array(TRAFFIC_SOURCES).take(pa.array(c["source"], mask=c["source"] < 0)),
            "device": pa.array(DEVICES).take(pa.array(self.device[user])),
            "region": pa.array(REGIONS).take(pa.array(self.region[user])),
        }, schema=EVENTS_SCHEMA)
        return table, day[order]


def creators_table(world: World, ids: IdFormats) -> pa.Table:
    """``creator_effects.parquet``: each creator's platform, planted purchase effect, popularity and quality."""
    return pa.table({
        "creator_id": ids.tables["c"],
        "platform": pa.array(PLATFORMS).take(pa.array(world.creator_platform)),
        "creator_effect": world.creator_effect,
        "popularity_share": world.creator_share,
        "quality": world.creator_quality,
        "videos": world.creator_videos,
    }, schema=CREATORS_SCHEMA)
