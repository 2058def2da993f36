"""Options of every analysis: bounds and defaults shared by all, and one options dataclass per analysis.

An option is declared once, as a field of its analysis' frozen options dataclass (``options/funnel.py``
and its neighbours, built with :func:`.declare.option`): the field parses text to the typed value, and its
metadata says how the CLI (``cli/common.py`` :func:`options_command`) and the report spec
(``report/spec.py`` :func:`params_of`) offer it. The library takes the dataclass.

Only the standard library (and other light modules of the package) is imported here: the CLI reads these
modules to draw ``--help``, which must not load DuckDB, polars or statsmodels.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import Enum
from typing import Any

from ..errors import OptionError

#: ``--min-group-size`` in the terminal: 1 shows every group (shareable outputs use the config's value).
TERMINAL_MIN_GROUP_SIZE = 1

#: ``funnel --by-limit``: breakdown values kept (most entrants first), the rest pooled as 'other'.
DEFAULT_BY_LIMIT = 10

#: ``paths --steps``: the longest path, its anchor included.
MAX_STEPS = 50

#: The longest window (``--window``, ``--cuped-days``, lookbacks): ten years. Longer windows mean nothing
#: for short-video events and would overflow date arithmetic (a window is added to --to).
MAX_WINDOW = timedelta(days=3653)

#: ``retention --periods``: periods per cohort. The triangle has periods x cohorts cells, so an absurd value
#: is refused before any work starts.
MAX_PERIODS = 10_000

#: Sizes and counts (``--top``, ``--min-views``, ``--users``, ``min_group_size``, ...) must fit an int64: the
#: engine's integer type.
MAX_COUNT = 2**63 - 1

#: ``--from``/``--to`` outside these days are clamped to them: no export has events that far out, and the
#: margin keeps date arithmetic (a day either side plus at most :data:`MAX_WINDOW`) inside Python's calendar.
EARLIEST_DAY = date(100, 1, 1)
LATEST_DAY = date(9899, 12, 31)

#: ``generate``: the first UTC day and the number of days of a synthetic export.
DEFAULT_START = date(2026, 10, 5)  # a Monday
DEFAULT_DAYS = 28


class FunnelOrder(str, Enum):
    """How the steps must follow each other."""

    ordered = "ordered"
    strict = "strict"
    unordered = "unordered"


def check_int(name: str, value: Any, minimum: int = 0, maximum: int = MAX_COUNT, what: str = "number") -> int:
    """``value`` as an exact integer in ``minimum .. maximum``, else :class:`OptionError` naming ``name``
    (``what`` says what it counts: "number of periods").

    A bool is refused although Python counts it as an int (``threads = true`` is a mistake, not 1)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{value!r}: expected a whole {what}", option=name)
    if value < minimum:
        wanted = {0: f"0 or a positive {what}", 1: f"a positive {what}"}.get(minimum, f"a {what} of at least {minimum}")
        raise OptionError(f"{value}: expected {wanted}", option=name)
    if value > maximum:
        raise OptionError(f"{value}: expected a {what} of at most {maximum}", option=name)
    return value


def check_min_group_size(value: int, option: str = "min_group_size") -> int:
    """``value`` when it is a valid threshold (an integer >= 1; 1 = no suppression), else OptionError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(f"{value!r}: expected a whole number of users >= 1 (1 = no suppression)", option=option)
    return value
