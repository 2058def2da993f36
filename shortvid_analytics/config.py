"""The TOML configuration: how a user's export maps onto the canonical event model, and engine settings.

Example (every table and key is optional)::

    timezone = "Asia/Shanghai"        # reporting time zone: day/week/month boundaries

    [columns]                         # canonical name = name in the export
    user_id = "uid"
    event_name = "behavior_type"
    event_time = "timestamp"

    [events]                          # canonical event = the export's names for it
    purchase = ["pay_success", "order_paid"]

    [time]
    epoch_unit = "s"                  # integer timestamps: s | ms | us (inferred from magnitude if absent)
    source_timezone = "UTC"           # zone of tz-naive timestamps in the export

    [data]
    strict = false                    # refuse rows lacking event_time/user_id/event_name (default: drop, warn)

    [engine]
    name = "duckdb"                   # duckdb | spark (needs the [spark] extra and Java 17+)
    spark_master = "spark://host:7077"  # Spark only; default local[threads or *]
    memory_limit = "2GB"
    threads = 2
    temp_directory = "/tmp/shortvid"

    [privacy]
    pseudonym_key = "..."             # HMAC key for pseudonymised ids (the env var SHORTVID_PSEUDONYM_KEY wins)
    min_group_size = 5                # small-cell suppression threshold for reports and digests
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .options import MAX_COUNT

#: Canonical columns: name -> (required, meaning). The order is the order of the `events` view.
CANONICAL_COLUMNS: dict[str, tuple[bool, str]] = {
    "event_time": (True, "when the event happened (UTC)"),
    "user_id": (True, "the actor"),
    "event_name": (True, "event vocabulary name"),
    "session_id": (False, "app session"),
    "video_id": (False, "content item"),
    "creator_id": (False, "creator (KOL)"),
    "product_id": (False, "item"),
    "order_id": (False, "order"),
    "revenue": (False, "order value on purchase, refunded value on refund"),
    "watch_time_s": (False, "seconds watched on video_view"),
    "platform": (False, "e.g. douyin / kuaishou"),
    "traffic_source": (False, "recommend / follow / search / live"),
    "device": (False, "device class"),
    "region": (False, "region"),
}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c for c, (req, _) in CANONICAL_COLUMNS.items() if req)

EVENT_VOCABULARY: tuple[str, ...] = (
    "video_view", "video_complete", "like", "comment", "share", "follow", "product_click",
    "add_to_cart", "checkout", "purchase", "refund", "live_enter",
)

EPOCH_UNITS: tuple[str, ...] = ("s", "ms", "us")

ENGINES: tuple[str, ...] = ("duckdb", "spark")


@dataclass(frozen=True)
class EngineSettings:
    """The query engine and its resource settings; ``None`` leaves the engine's default.

    ``name`` is ``duckdb`` (in-process) or ``spark`` (the same SQL transpiled to Spark SQL, see
    :mod:`shortvid_analytics.spark`); ``spark_master`` is a Spark master URL (default: local mode).
    With Spark, ``threads`` sets the local cores, ``memory_limit`` the driver memory and
    ``temp_directory`` ``spark.local.dir``.
    """

    memory_limit: str | None = None
    threads: int | None = None
    temp_directory: str | None = None
    name: str = "duckdb"
    spark_master: str | None = None


@dataclass(frozen=True)
class PrivacySettings:
    """Pseudonymisation key and the small-cell threshold used by shareable outputs."""

    pseudonym_key: str | None = field(default=None, repr=False)
    min_group_size: int = 5


@dataclass(frozen=True)
class Config:
    """Mapping of an export onto the canonical event model plus engine settings."""

    columns: dict[str, str] = field(default_factory=dict)
    event_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    timezone: str = "UTC"
    source_timezone: str = "UTC"
    epoch_unit: str | None = None
    #: refuse input with rows lacking a required column instead of leaving them out with a warning
    strict: bool = False
    engine: EngineSettings = field(default_factory=EngineSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    path: str | None = None

    @classmethod
    def load(cls, path: str | Path | None) -> Config:
        """Read a TOML config file; ``None`` gives the default (canonical names, UTC)."""
        if path is None:
            return cls()
        p = Path(path)
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"config {p}: file not found") from None
        except IsADirectoryError:
            raise InputError(f"config {p}: is a directory; expected a TOML file") from None
        except UnicodeDecodeError as exc:
            # a Parquet or other binary file lands here too: its magic bytes are not UTF-8
            raise InputError(f"config {p}: not UTF-8 text (byte {exc.start}); expected a TOML file "
                             f"saved as UTF-8") from None
        except OSError as exc:
            raise InputError(f"config {p}: cannot read ({exc.strerror or exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"config {p}: not valid TOML ({exc})") from None
        return cls.from_dict(raw, source=str(p))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "config") -> Config:
        """Build a config from parsed TOML, rejecting unknown keys with a message naming them."""
        known = {"timezone", "columns", "events", "time", "data", "engine", "privacy"}
        _reject_unknown(raw, known, source, "")
        columns = _columns(raw.get("columns", {}), source)
        aliases = _event_aliases(raw.get("events", {}), source)
        time = raw.get("time", {})
        _reject_unknown(time, {"epoch_unit", "source_timezone", "timezone"}, source, "time")
        epoch_unit = time.get("epoch_unit")
        if epoch_unit is not None and epoch_unit not in EPOCH_UNITS:
            raise InputError(
                f"{source}: [time] epoch_unit = {epoch_unit!r}; expected one of {', '.join(EPOCH_UNITS)}"
            )
        data = raw.get("data", {})
        _reject_unknown(data, {"strict"}, source, "data")
        strict = data.get("strict", False)
        if not isinstance(strict, bool):
            raise InputError(f"{source}: [data] strict = {strict!r}; expected true or false")
        return cls(
            columns=columns,
            event_aliases=aliases,
            timezone=str(raw.get("timezone", time.get("timezone", "UTC"))),
            source_timezone=str(time.get("source_timezone", "UTC")),
            epoch_unit=epoch_unit,
            strict=strict,
            engine=_engine_settings(raw.get("engine", {}), source),
            privacy=_privacy_settings(raw.get("privacy", {}), source),
            path=source,
        )

    def source_column(self, canonical: str) -> str:
        """Name of the export's column that holds the canonical column ``canonical``."""
        return self.columns.get(canonical, canonical)

    def with_engine(self, memory_limit: str | None = None, threads: int | None = None, name: str | None = None,
                    spark_master: str | None = None) -> Config:
        """A copy whose engine settings given here (not ``None``) replace the file's (the CLI flags
        ``--memory-limit``, ``--threads``, ``--engine`` and ``--spark-master``)."""
        from dataclasses import replace

        given = {"memory_limit": memory_limit, "threads": threads, "name": name, "spark_master": spark_master}
        changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        return replace(self, engine=replace(self.engine, **changes)) if changes else self


def _columns(table: Any, source: str) -> dict[str, str]:
    """``[columns]``: canonical column -> the export's name for it."""
    columns = _str_table(table, source, "columns")
    for canonical in columns:
        if canonical not in CANONICAL_COLUMNS:
            raise InputError(
                f"{source}: [columns] {canonical!r} is not a canonical column; "
                f"expected one of {', '.join(CANONICAL_COLUMNS)}"
            )
    return columns


def _event_aliases(events: Any, source: str) -> dict[str, tuple[str, ...]]:
    """``[events]``: canonical event -> the export's names for it (a name may stand for one event only)."""
    if not isinstance(events, dict):
        raise InputError(f"{source}: events = {events!r}; expected a table [events] mapping each canonical "
                         f"event to the export's names for it")
    aliases: dict[str, tuple[str, ...]] = {}
    for canonical, names in events.items():
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InputError(f"{source}: [events] {canonical} must be a list of strings")
        aliases[canonical] = tuple(names)
    seen: dict[str, str] = {}
    for canonical, names in aliases.items():
        for name in names:
            if name in seen and seen[name] != canonical:
                raise InputError(
                    f"{source}: [events] {name!r} is an alias of both {seen[name]!r} and {canonical!r}"
                )
            seen[name] = canonical
    return aliases


def _engine_settings(engine: Any, source: str) -> EngineSettings:
    """``[engine]``: which engine runs the SQL and with what resources."""
    _reject_unknown(engine, {"name", "spark_master", "memory_limit", "threads", "temp_directory"}, source, "engine")
    engine_name = engine.get("name", "duckdb")
    if engine_name not in ENGINES:
        raise InputError(f"{source}: [engine] name = {engine_name!r}; expected one of {', '.join(ENGINES)}")
    spark_master = engine.get("spark_master")
    if spark_master is not None and (not isinstance(spark_master, str) or not spark_master):
        raise InputError(f"{source}: [engine] spark_master must be a Spark master URL such as "
                         f"'spark://host:7077' or 'local[4]'")
    threads = engine.get("threads")
    if threads is not None and not _is_count(threads, 1):
        raise InputError(f"{source}: [engine] threads = {_toml(threads)}; expected a positive integer")
    for key in ("memory_limit", "temp_directory"):
        if key in engine and not isinstance(engine[key], str):
            raise InputError(f"{source}: [engine] {key} = {engine[key]!r}; expected a string")
    return EngineSettings(memory_limit=engine.get("memory_limit"), threads=threads,
                          temp_directory=engine.get("temp_directory"), name=engine_name, spark_master=spark_master)


def _privacy_settings(privacy: Any, source: str) -> PrivacySettings:
    """``[privacy]``: the pseudonym key and the small-cell threshold."""
    _reject_unknown(privacy, {"pseudonym_key", "min_group_size"}, source, "privacy")
    min_group_size = privacy.get("min_group_size", 5)
    if not _is_count(min_group_size, 1):
        raise InputError(f"{source}: [privacy] min_group_size = {_toml(min_group_size)}; expected an integer >= 1")
    key = privacy.get("pseudonym_key")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise InputError(f"{source}: [privacy] pseudonym_key must be a non-empty string")
    return PrivacySettings(pseudonym_key=key, min_group_size=min_group_size)


def _toml(value: Any) -> str:
    """A value as the config file spells it (``true``, not Python's ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _is_count(value: Any, minimum: int) -> bool:
    """An exact integer (TOML's ``true`` is a bool, not 1) from ``minimum`` to :data:`MAX_COUNT`."""
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= MAX_COUNT


def _reject_unknown(table: Any, known: set[str], source: str, section: str) -> None:
    if not isinstance(table, dict):
        raise InputError(f"{source}: [{section}] must be a table")
    unknown = sorted(set(table) - known)
    if unknown:
        where = f"[{section}] " if section else ""
        raise InputError(
            f"{source}: unknown key {where}{unknown[0]!r}; expected one of {', '.join(sorted(known))}"
        )


def _str_table(table: Any, source: str, section: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise InputError(f"{source}: [{section}] must map names to strings")
    return dict(table)
