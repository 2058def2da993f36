"""De-identification: small-cell suppression, keyed pseudonyms (HMAC-SHA256), detection of personal data.

Small-cell suppression (``--min-group-size K``, docs/privacy.md): a group of a breakdown with fewer
than ``K`` distinct users is never shown on its own. It is left out of every ranking and top list
and pooled, with the other small groups of the same table, into one row flagged ``suppressed``
whose additive columns (counts, sums) are the sums over the pooled groups, so that the shown rows
plus the pooled row add up to the total. :func:`pool_small_groups` does this for every command
whose groups reach Python as a frame; the commands that rank groups inside the engine (funnel,
attribution, paths) apply the same rule, ``users < $min_group_size``, where they rank.

Pseudonym of an identifier ``x`` under key ``K``: the lower-case hex HMAC-SHA256 of the UTF-8 text
of ``x`` (integers in decimal), ``hmac.new(K, str(x).encode(), sha256).hexdigest()``. The same key
gives the same pseudonym in every run, so exports of different weeks can still be joined; another key
gives unrelated pseudonyms. The key comes from the environment variable ``SHORTVID_PSEUDONYM_KEY`` or
the config's ``[privacy] pseudonym_key`` and never appears in any output.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from . import sql
from .config import Config
from .errors import OptionError
from .options import check_min_group_size as check_min_group_size  # where ab imports it from
from .sql import Params, quote_ident

if TYPE_CHECKING:
    from .engine import Connection

KEY_ENV = "SHORTVID_PSEUDONYM_KEY"
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)
#: Columns added by :func:`pool_small_groups`: the row is the pooled row; how many groups it pools.
SUPPRESSED = "suppressed"
SUPPRESSED_GROUPS = "suppressed_groups"
#: Identifier columns: a row-level export replaces them with their pseudonyms, and no table of a shareable
#: output (report, digest) may be keyed by one.
IDENTIFIER_COLUMNS: tuple[str, ...] = ("user_id", "order_id", "session_id")


# ------------------------------------------------------------------------------- small-cell suppression

def suppressed_label(min_group_size: int, groups: int) -> str:
    """How a table shows the pooled row in place of a group name: ``<5 users (12 groups)``."""
    return f"<{min_group_size} users ({groups:,} group{'' if groups == 1 else 's'})"


def pool_small_groups(
    frame: pl.DataFrame,
    users: str,
    min_group_size: int,
    sums: Sequence[str],
    within: Sequence[str] = (),
    same: Sequence[str] = (),
) -> pl.DataFrame:
    """Replace the rows with fewer than ``min_group_size`` distinct users by one pooled row per ``within``.

    ``frame`` has one row per group (per ``within`` partition, e.g. per period); ``users`` names its
    count of distinct users. Rows with ``users >= min_group_size`` are kept as they are, with
    ``suppressed = False`` and ``suppressed_groups = 0``. The others become, per partition, one row
    with ``suppressed = True``, ``suppressed_groups`` = how many rows it pools, the ``sums`` columns
    summed over them (a count of distinct users is summed too: a user in two pooled groups counts
    twice, as the groups' own rows would), the ``within`` and ``same`` columns (equal within a
    partition) kept, and every other column null -- so the group keys never appear. The pooled rows
    come last; their sums do not depend on the order of ``frame``'s rows. ``min_group_size = 1``
    pools nothing.
    """
    flags = [pl.lit(False).alias(SUPPRESSED), pl.lit(0, dtype=pl.Int64).alias(SUPPRESSED_GROUPS)]
    if min_group_size <= 1:
        return frame.with_columns(flags)
    small = pl.col(users) < min_group_size
    shown = frame.filter(small.not_()).with_columns(flags)
    # sorted, so that floating-point sums do not depend on the order in which the engine returned the groups
    pooled_rows = frame.filter(small).sort(frame.columns, nulls_last=True)
    if pooled_rows.is_empty():
        return shown
    aggregates = [*(pl.col(c).sum() for c in sums), *(pl.col(c).first() for c in same),
                  pl.len().cast(pl.Int64).alias(SUPPRESSED_GROUPS)]
    pooled = (pooled_rows.group_by(list(within), maintain_order=True).agg(aggregates) if within
              else pooled_rows.select(aggregates))
    pooled = pooled.with_columns(
        pl.lit(True).alias(SUPPRESSED),
        *(pl.lit(None, dtype=dtype).alias(c) for c, dtype in frame.schema.items() if c not in pooled.columns),
    )
    return pl.concat([shown, pooled.select(shown.columns).cast(shown.schema)])


def pseudonym_key(config: Config, required: bool = True, alternative: str = "") -> bytes | None:
    """The pseudonymisation key (environment first, then config); raise if ``required`` and absent.

    ``alternative`` is appended to the error, e.g. "or pass --raw-ids to export raw identifiers".
    """
    env = os.environ.get(KEY_ENV)
    if env and not env.strip():
        # only blanks: a key anyone can guess, so pseudonyms anyone can reverse (an empty value counts as unset)
        raise OptionError(f"{KEY_ENV} is blank (only spaces); set it to a long random secret or unset it")
    key = env or config.privacy.pseudonym_key
    if not key:
        if required:
            hint = f" ({alternative})" if alternative else ""
            raise OptionError(f"no pseudonymisation key: set {KEY_ENV} or [privacy] pseudonym_key in the config{hint}")
        return None
    return key.encode("utf-8")


def shareable_config(config: Config) -> dict[str, object]:
    """The config as a dict for outputs (report provenance): the pseudonymisation key is replaced by its
    public :func:`key_id` (``pseudonym_key_id``), so the key itself never appears in any output."""
    shown = dataclasses.asdict(config)
    key = shown["privacy"].pop("pseudonym_key")
    shown["privacy"]["pseudonym_key_id"] = key_id(key.encode("utf-8")) if key else None
    return shown


def pseudonymize(value: object, key: bytes) -> str:
    """Pseudonym of one identifier (the Python twin of :func:`hmac_sql`, for tests and look-ups)."""
    return hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A short public fingerprint of the key, so co-authors can check they used the same one."""
    return pseudonymize("shortvid-key-id", key)[:12]


def hmac_sql(column_sql: str, key: bytes, params: Params) -> str:
    """SQL computing the pseudonym of ``column_sql`` in the engine, the key bound as two parameters.

    HMAC(K, m) = SHA256((K' xor opad) || SHA256((K' xor ipad) || m)), K' = K zero-padded to 64 bytes
    (hashed first when longer), per RFC 2104.
    """
    padded = (hashlib.sha256(key).digest() if len(key) > _BLOCK else key).ljust(_BLOCK, b"\0")
    ipad = params.bind(bytes(b ^ 0x36 for b in padded))
    opad = params.bind(bytes(b ^ 0x5C for b in padded))
    return (f"CASE WHEN {column_sql} IS NULL THEN NULL ELSE "
            f"sha256({opad} || unhex(sha256({ipad} || encode(CAST({column_sql} AS VARCHAR))))) END")


def identifier_key(columns: Sequence[str | None]) -> str | None:
    """The first of ``columns`` that is an identifier (:data:`IDENTIFIER_COLUMNS`), else None.

    A table keyed by one would list individual users (or their sessions, orders): shareable outputs
    refuse it (see docs/privacy.md).
    """
    return next((c for c in columns if c in IDENTIFIER_COLUMNS), None)


def refusal(column: str) -> str:
    """The message refusing a shareable table keyed by the identifier ``column``."""
    return f"its table would be keyed by {column}; reports never show raw user identifiers (docs/privacy.md)"


def pseudonymize_frame(frame: pl.DataFrame, key: bytes, con: Connection | None = None) -> pl.DataFrame:
    """``frame`` with every identifier column of :data:`IDENTIFIER_COLUMNS` replaced by its pseudonym.

    The hashing runs in DuckDB (:func:`hmac_sql`; on ``con``, else on a new in-memory connection);
    column order and the other columns are unchanged.
    """
    targets = [c for c in frame.columns if c in IDENTIFIER_COLUMNS]
    if not targets:
        return frame
    con = con if con is not None else duckdb.connect()
    params = Params()
    select = ", ".join(
        f"{hmac_sql(quote_ident(c), key, params)} AS {quote_ident(c)}" if c in targets else quote_ident(c)
        for c in frame.columns
    )
    con.register("pseudonymize_input", frame)
    try:
        return con.sql(f"SELECT {select} FROM pseudonymize_input", params=params.values).pl()
    finally:
        con.unregister("pseudonymize_input")


# ------------------------------------------------------------------------------------- PII detection

_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "e-mail address": re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$"),
    "Chinese mobile number": re.compile(r"^(?:\+?86[\s\-]?)?1[3-9]\d{9}$"),
    "IP address": re.compile(
        r"^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$"
        r"|^(?=.*:)[0-9A-Fa-f:]{2,39}$"
    ),
    # Other phone numbers only when written as such (leading + or separators): a bare run of digits
    # is more often an id or a Unix timestamp.
    "phone number": re.compile(r"^(?=.*[+\s\-()])\+?[\d\s\-()]{8,20}$"),
}
#: Share of sampled non-null values that must look like personal data for a column to be flagged.
PII_MIN_SHARE = 0.5


@dataclass(frozen=True)
class PiiFinding:
    """A column whose sampled values look like personal data of ``kind``."""

    column: str
    kind: str
    share: float
    sampled: int


def is_chinese_national_id(text: str) -> bool:
    """18-character resident ID with a valid ISO 7064 MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dXx]", text):
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _CN_ID_WEIGHTS))
    return _CN_ID_CHECK[total % 11] == text[17].upper()


def classify(value: str) -> str | None:
    """The kind of personal data ``value`` looks like, or None."""
    text = value.strip()
    if is_chinese_national_id(text):
        return "national ID number"
    for kind, pattern in _PATTERNS.items():
        if pattern.match(text):
            if kind == "phone number" and not 9 <= sum(ch.isdigit() for ch in text) <= 15:
                continue
            return kind
    return None


def detect_pii(con: Connection, raw_columns: dict[str, str]) -> list[PiiFinding]:
    """Sample the text and 64-bit integer columns of the raw export; flag those that look personal."""
    findings = []
    for name, typ in raw_columns.items():
        if not (typ == "VARCHAR" or typ in {"BIGINT", "HUGEINT", "UBIGINT"}):
            continue
        values = sql.run(con, "pii_sample", context={"column": name})["value"].to_list()
        if not values:
            continue
        kinds: dict[str, int] = {}
        for v in values:
            kind = classify(v)
            if kind:
                kinds[kind] = kinds.get(kind, 0) + 1
        if kinds:
            kind, hits = max(kinds.items(), key=lambda kv: kv[1])
            if hits / len(values) >= PII_MIN_SHARE:
                findings.append(PiiFinding(name, kind, hits / len(values), len(values)))
    return findings
