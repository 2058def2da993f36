"""``attribution``: which creators, videos, traffic sources or platforms the orders and GMV come from.

Definitions (``docs/attribution.md`` has the full text and the JSON schema):

- **Conversions**: events in the date range matching ``conversion`` (default ``purchase``). Each
  carries its ``revenue`` (NULL = 0) and an *order share* 1/m, m = the conversion events with the same
  ``order_id`` (an event without ``order_id`` is an order by itself), so the shares of all conversions
  add up to the KPI order count.
- **Touches** of a conversion: the same user's events matching ``touch`` with
  ``conversion time − window ≤ touch time ≤ conversion time``; with ``same_product`` only those
  carrying the conversion's ``product_id``. The lookback may reach before the date range.
- **Models** give every touch a weight, normalised per conversion so its credits sum to 1:
  ``last``/``first`` (the touches at the latest/earliest touch time share the credit equally),
  ``linear`` (equal), ``time_decay[:half_life]`` (``2^(−Δt/half_life)``, Δt = conversion time −
  touch time, default half-life 7 days). ``platform`` credits the conversion's own ``by`` value.
- A group's **attributed orders** = Σ credit × order share and **attributed GMV** = Σ credit × revenue;
  **GPM** = attributed GMV per 1,000 touches of the group in the date range; **share of total** =
  the group's attributed GMV / all attributed GMV. Conversions without touches (or, for ``platform``,
  without a value of their own) are **unattributed** and reported separately.
- **Suppression**: groups credited by fewer than ``min_group_size`` distinct users are not ranked or
  listed; they are summed in ``suppressed``, so listed + other + suppressed = attributed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from . import sql
from .config import CANONICAL_COLUMNS
from .errors import OptionError
from .options.attribution import AttributionOptions
from .periods import format_window
from .results import AnalysisResult
from .source import EventSource

_TEMP_TABLES = ("attribution_conversions", "attribution_credits")
# Sums of floating-point credits may differ from the whole by rounding only.
_TOLERANCE = 1e-9


@dataclass
class GroupCredit:
    """Credit received by one group (``group`` None: touches without a value of the ``by`` column)."""

    rank: int
    group: str | None
    conversions: int
    attributed_orders: float
    attributed_gmv: float
    touches: int
    gpm: float | None
    share_of_total: float | None
    orders_share_of_total: float | None


@dataclass
class OtherGroups:
    """Groups summed: those beyond the top list (``other``) or the suppressed ones (``suppressed``)."""

    groups: int
    attributed_orders: float
    attributed_gmv: float
    touches: int
    share_of_total: float | None
    orders_share_of_total: float | None


@dataclass
class ConversionTotals:
    conversions: int = 0
    orders: float = 0.0
    gmv: float = 0.0


@dataclass
class AttributionResult(AnalysisResult):
    """Credited orders and GMV per group, with the unattributed remainder."""

    kind = "attribution"
    groups: list[GroupCredit] = field(default_factory=list)
    other: OtherGroups | None = None
    suppressed: OtherGroups | None = None
    totals: ConversionTotals = field(default_factory=ConversionTotals)
    attributed: ConversionTotals = field(default_factory=ConversionTotals)
    unattributed: ConversionTotals = field(default_factory=ConversionTotals)
    notes: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "groups": [vars(g) for g in self.groups],
            "other": vars(self.other) if self.other else None,
            "suppressed": vars(self.suppressed) if self.suppressed else None,
            "totals": vars(self.totals),
            "attributed": vars(self.attributed),
            "unattributed": vars(self.unattributed),
            "notes": self.notes,
        }

    def to_frame(self) -> pl.DataFrame:
        """One row per listed group."""
        schema = {"rank": pl.Int64, "group": pl.String, "conversions": pl.Int64, "attributed_orders": pl.Float64,
                  "attributed_gmv": pl.Float64, "touches": pl.Int64, "gpm": pl.Float64,
                  "share_of_total": pl.Float64, "orders_share_of_total": pl.Float64}
        return pl.DataFrame([vars(g) for g in self.groups], schema=schema)


def run(source: EventSource, options: AttributionOptions) -> AttributionResult:
    """Credit each conversion's order and revenue to the ``by`` groups of its touches (see module doc).

    ``top`` groups (by attributed GMV) are listed, the rest summed in ``other``; ``None`` lists all.
    Groups credited by fewer than ``min_group_size`` distinct users are summed in ``suppressed``.
    """
    touch_spec, conversion_spec, lookback, parsed = options.touch, options.conversion, options.window, options.model
    by, same_product, top, min_group_size = options.by, options.same_product, options.top, options.min_group_size
    conversion_spec.validate(source, "conversion event")
    touch_spec.validate(source, "touch event")
    _require_dimension(source, by)
    if same_product:
        _require_dimension(source, "product_id", "--same-product needs")

    binder = sql.Params()
    context = {
        "conversion": conversion_spec.selection(binder, source.columns),
        "touch": touch_spec.selection(binder, source.columns),
        # columns an analysis does not use stay out of the queries (each would be read for every event)
        "by": by, "own_group": parsed.name == "platform", "same_product": same_product,
    }
    values = binder.values | {
        "window_seconds": lookback.total_seconds(),
        "model": parsed.name,
        "half_life_seconds": parsed.half_life.total_seconds() if parsed.half_life else None,
        "top": top,
        "min_group_size": min_group_size,
    }
    group_frame, totals_row = _run_queries(source.con, values, context, parsed.name == "platform")
    totals = ConversionTotals(int(totals_row["conversions"]), float(totals_row["orders"]), float(totals_row["gmv"]))
    attributed = ConversionTotals(int(totals_row["attributed_conversions"]), float(totals_row["attributed_orders"]),
                                  float(totals_row["attributed_gmv"]))
    unattributed = ConversionTotals(int(totals_row["unattributed_conversions"]),
                                    float(totals_row["unattributed_orders"]), float(totals_row["unattributed_gmv"]))
    groups, other, suppressed = _groups(group_frame, attributed)
    _check_totals(totals_row, group_frame, totals, attributed, unattributed)

    notes = []
    if totals.conversions == 0:
        notes.append(f"no event matches {conversion_spec} in the date range: nothing to attribute")
    elif unattributed.conversions:
        reason = (f"no {by} of their own" if parsed.name == "platform"
                  else f"no {touch_spec} touch within {format_window(lookback)} before them"
                  + (" on the same product" if same_product else ""))
        notes.append(f"{unattributed.conversions:,} conversion(s) ({unattributed.orders:,.2f} orders, "
                     f"GMV {unattributed.gmv:,.2f}) had {reason}: unattributed")
    return AttributionResult(
        params=options.params(source),
        groups=groups,
        other=other,
        suppressed=suppressed,
        totals=totals,
        attributed=attributed,
        unattributed=unattributed,
        notes=notes,
    )


def attribution(source: EventSource, *args: Any, **values: Any) -> AttributionResult:
    """:func:`run` with the options given as :class:`AttributionOptions` fields: ``attribution(source,
    model="linear", window="7d")``; text or typed values."""
    return run(source, AttributionOptions(*args, **values))


def _run_queries(con: Any, values: dict[str, Any], context: dict[str, Any],
                 own_group: bool) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The conversions and credits into their temporary tables, then the groups and the totals (dropping the
    tables after)."""
    try:
        sql.run(con, "attribution_conversions", values, context)
        sql.run(con, "attribution_platform_credits" if own_group else "attribution_touch_credits", values, context)
        group_frame = sql.run(con, "attribution_groups", values, context)
        return group_frame, sql.run(con, "attribution_totals", values).row(0, named=True)
    finally:
        for table in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _require_dimension(source: EventSource, column: str, what: str = "--by") -> None:
    """Refuse ``column`` unless the export really has it (not an absent canonical column)."""
    if column in CANONICAL_COLUMNS:
        present = source.config.source_column(column) in source.raw_columns
    else:
        present = column in source.columns and column != "local_time"
    if not present:
        available = [c for c in source.columns
                     if c != "local_time" and (c not in CANONICAL_COLUMNS
                                               or source.config.source_column(c) in source.raw_columns)]
        raise OptionError(f"{what} {column!r}: {source.path} has no such column; "
                          f"columns present: {', '.join(available)}")


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _groups(frame: pl.DataFrame,
            attributed: ConversionTotals) -> tuple[list[GroupCredit], OtherGroups | None, OtherGroups | None]:
    groups: list[GroupCredit] = []
    pooled: dict[str, OtherGroups] = {}
    for row in frame.iter_rows(named=True):
        orders, gmv, touches = float(row["attributed_orders"]), float(row["attributed_gmv"]), int(row["touches"])
        if row["part"] != "ranked":
            pooled[row["part"]] = OtherGroups(int(row["groups"]), orders, gmv, touches,
                                              _share(gmv, attributed.gmv), _share(orders, attributed.orders))
            continue
        groups.append(GroupCredit(
            rank=int(row["group_rank"]), group=row["group_value"], conversions=int(row["conversions"]),
            attributed_orders=orders, attributed_gmv=gmv, touches=touches,
            gpm=1000 * gmv / touches if touches else None,
            share_of_total=_share(gmv, attributed.gmv), orders_share_of_total=_share(orders, attributed.orders),
        ))
    return groups, pooled.get("other"), pooled.get("suppressed")


def _check_totals(row: dict[str, Any], frame: pl.DataFrame, totals: ConversionTotals,
                  attributed: ConversionTotals, unattributed: ConversionTotals) -> None:
    """The credits must add up exactly (to rounding) to the conversions that had touches."""
    checks = {
        "credits per conversion sum to 1": (1.0 + float(row["credit_sum_error"]), 1.0),
        "group orders = orders of credited conversions": (float(frame["attributed_orders"].sum() or 0.0),
                                                           attributed.orders),
        "group GMV = GMV of credited conversions": (float(frame["attributed_gmv"].sum() or 0.0), attributed.gmv),
        "attributed + unattributed orders = orders": (attributed.orders + unattributed.orders, totals.orders),
        "attributed + unattributed GMV = GMV": (attributed.gmv + unattributed.gmv, totals.gmv),
        "order shares = distinct orders": (totals.orders, float(row["orders_kpi"])),
    }
    for what, (got, expected) in checks.items():
        if not math.isclose(got, expected, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE):
            raise RuntimeError(f"attribution check failed: {what} ({got!r} vs {expected!r})")
