"""Option choices, defaults and bounds that the command signatures and the library share.

Only the standard library is imported here: the CLI reads this module to draw ``--help``, which must not
load DuckDB, polars or statsmodels (``shortvid CMD --help`` stays well under half a second).
"""

from __future__ import annotations

from datetime import date
from enum import Enum

#: ``--min-group-size`` in the terminal: 1 shows every group (shareable outputs use the config's value).
TERMINAL_MIN_GROUP_SIZE = 1

#: ``funnel --by-limit``: breakdown values kept (most entrants first), the rest pooled as 'other'.
DEFAULT_BY_LIMIT = 10

#: ``paths --steps``: the longest path, its anchor included.
MAX_STEPS = 50

#: ``generate``: the first UTC day and the number of days of a synthetic export.
DEFAULT_START = date(2026, 10, 5)  # a Monday
DEFAULT_DAYS = 28


class FunnelOrder(str, Enum):
    """How the steps must follow each other."""

    ordered = "ordered"
    strict = "strict"
    unordered = "unordered"
