"""The options of ``digest`` (``shortvid digest``, :func:`..digest.run`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import OptionError
from ..periods import parse_iso_week
from . import check_min_group_size
from .declare import Options, option


def check_week(text: str) -> str:
    """``last`` or an ISO week such as ``2026-W47`` (kept as written: the digest echoes it)."""
    if text.strip().lower() != "last":
        parse_iso_week(text)
    return text


def check_breakdown(by: str) -> str:
    """A breakdown column that is no identifier: a digest is shared, whatever ``--min-group-size`` says."""
    from ..privacy import identifier_key, refusal  # DuckDB and polars: only when a digest is built

    if identifier_key([by]) is not None:
        raise OptionError(f"{by}: {refusal(by)}", option="by")
    return by


def check_top_movers(top_movers: int) -> int:
    if isinstance(top_movers, bool) or not isinstance(top_movers, int) or top_movers < 1:
        raise OptionError(f"{top_movers}: expected a positive number", option="top_movers")
    return top_movers


@dataclass(frozen=True)
class DigestOptions(Options):
    """The options of one weekly digest; the definitions are in docs/digest.md."""

    week: str = option("last", parse=check_week,
                       help="ISO week such as 2026-W47, or 'last': the last complete week of the data.")
    as_of: datetime | None = option(
        None, kind="datetime", formats=("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"),
        help="Pin 'generated_at' (UTC unless an offset is given; default: now) for byte-identical output.")
    allow_partial: bool = option(False, kind="bool", help="Build the digest of a week with missing days too.")
    by: str | None = option(None, parse=check_breakdown,
                            help="Breakdown column (default: platform, when the export has it).")
    top_movers: int = option(5, kind="int", parse=check_top_movers, help="Creators/products listed per direction.")
    min_group_size: int | None = option(
        None, kind="int", parse=check_min_group_size, show_default=False,
        help="Suppress breakdown values and movers with fewer distinct users (default: \\[privacy] min_group_size "
             "of the config, 5).")
