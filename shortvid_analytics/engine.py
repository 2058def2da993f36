"""The query engine: which one runs the SQL, and a connection to it with the config's settings.

DuckDB (in memory) is the default; ``[engine] name = "spark"`` runs the same DuckDB-dialect SQL on
Apache Spark (:mod:`.spark`, an optional dependency imported only when chosen). Both connections offer
the two methods the package uses (``execute(sql, params)`` and ``sql(sql, params=...).pl()``), so the
event source, :mod:`.sql` and the analyses never ask which engine they run on, except through
:func:`is_duckdb` where DuckDB's table functions have no Spark equivalent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypeGuard

import duckdb

from . import progress
from .errors import OptionError, first_line

if TYPE_CHECKING:
    from .config import Config
    from .spark import SparkConnection

    #: A query engine connection: DuckDB's, or Spark's (optional dependency, imported on use).
    Connection: TypeAlias = duckdb.DuckDBPyConnection | SparkConnection


def is_duckdb(con: Connection) -> TypeGuard[duckdb.DuckDBPyConnection]:
    """True for a DuckDB connection, False for Spark's (whose SQL lacks DuckDB's table functions)."""
    return isinstance(con, duckdb.DuckDBPyConnection)


def local_duckdb(con: Connection) -> duckdb.DuckDBPyConnection:
    """``con`` if it is DuckDB's, else a new in-memory DuckDB connection: for what DuckDB reads whatever
    the engine (time zone names, the Parquet footers of local files)."""
    return con if is_duckdb(con) else duckdb.connect(":memory:")


def connect(config: Config) -> Connection:
    """A new connection of the configured engine: in-memory DuckDB with the config's engine settings
    and session time zone UTC, or a Spark session (:mod:`.spark`) running the same SQL."""
    if config.engine.name == "spark":
        from . import spark

        return spark.connect(config)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    # every query over the events view binds all the files again (union_by_name): without the cache each
    # re-reads and re-parses every footer, ~0.1 s per query for 100M events in 29 files
    con.execute("SET parquet_metadata_cache = true")
    # DuckDB draws its progress bar on stdout after 2 s, which corrupts JSON/CSV written to stdout; when
    # the CLI shows progress (on stderr, progress.py) DuckDB only tracks it.
    con.execute(f"SET enable_progress_bar = {'true' if progress.enabled() else 'false'}")
    con.execute("SET enable_progress_bar_print = false")
    engine = config.engine
    if engine.memory_limit:
        _set(con, "memory_limit", engine.memory_limit)
    if engine.threads:
        _set(con, "threads", int(engine.threads))
    if engine.temp_directory:
        _set(con, "temp_directory", engine.temp_directory)
    return con


def _set(con: duckdb.DuckDBPyConnection, setting: str, value: object) -> None:
    # SET does not take prepared parameters; the setting name is ours, the value goes through a variable.
    con.execute("SET VARIABLE shortvid_setting = $value", {"value": value})
    try:
        con.execute(f"SET {setting} = getvariable('shortvid_setting')")
    except duckdb.Error as exc:
        flag = f" (--{setting.replace('_', '-')})" if setting in ("memory_limit", "threads") else ""
        raise OptionError(f"engine setting {setting}{flag} = {value!r}: {first_line(exc)}") from None
