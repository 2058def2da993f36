"""De-identification: keyed pseudonyms (HMAC-SHA256) and detection of personal data in columns.

Pseudonym of an identifier ``x`` under key ``K``: the lower-case hex HMAC-SHA256 of the UTF-8 text
of ``x`` (integers in decimal), ``hmac.new(K, str(x).encode(), sha256).hexdigest()``. The same key
gives the same pseudonym in every run, so exports of different weeks can still be joined; another key
gives unrelated pseudonyms. The key comes from the environment variable ``SHORTVID_PSEUDONYM_KEY`` or
the config's ``[privacy] pseudonym_key`` and never appears in any output.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass

import duckdb

from .config import Config
from .errors import OptionError
from . import sql
from .sql import Params, quote_ident

KEY_ENV = "SHORTVID_PSEUDONYM_KEY"
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)


def pseudonym_key(config: Config, required: bool = True, alternative: str = "") -> bytes | None:
    """The pseudonymisation key (environment first, then config); raise if ``required`` and absent.

    ``alternative`` is appended to the error, e.g. "or pass --raw-ids to export raw identifiers".
    """
    key = os.environ.get(KEY_ENV) or config.privacy.pseudonym_key
    if not key:
        if required:
            hint = f" ({alternative})" if alternative else ""
            raise OptionError(f"no pseudonymisation key: set {KEY_ENV} or [privacy] pseudonym_key in the config{hint}")
        return None
    return key.encode("utf-8")


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


def detect_pii(con: duckdb.DuckDBPyConnection, raw_columns: dict[str, str]) -> list[PiiFinding]:
    """Sample the text and 64-bit integer columns of the raw export; flag those that look personal."""
    findings = []
    for name, typ in raw_columns.items():
        if not (typ == "VARCHAR" or typ in {"BIGINT", "HUGEINT", "UBIGINT"}):
            continue
        values = sql.run(con, "pii_sample", fragments={"column": quote_ident(name)})["value"].to_list()
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
