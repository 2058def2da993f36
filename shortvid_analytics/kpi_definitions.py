"""The KPI definitions shared by ``engagement``, ``kpi`` and ``digest``: names, labels, units, formulas in words,
intervals and the base events and columns each KPI needs (docs/kpi.md).

Only the standard library is imported here: the CLI lists KPI names in ``--help`` from this module without
loading the engine (the computation lives in :mod:`shortvid_analytics.kpi`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kpi:
    """One KPI: its output name, label, unit and definition.

    ``unit`` is ``count`` (events, users or orders), ``money`` (revenue units of the export),
    ``ratio`` (a fraction, shown as a percentage), ``seconds`` or ``per_mille_views`` (money per 1,000
    views). ``interval`` names the 95% interval of a ratio: ``wilson`` (Wilson score interval of a
    proportion ``numerator / denominator``) or ``poisson`` (exact Poisson interval of a count per
    exposure); the interval columns are ``<name>_ci_low`` and ``<name>_ci_high``.

    ``events`` and ``columns`` are the KPI's base: the events it counts (``a|b``: any of them) and the
    canonical columns it sums; without one of them in the data the KPI is empty (0 or undefined), which
    :func:`empty_kpi_warnings` says.
    """

    name: str
    label: str
    unit: str
    definition: str
    interval: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    events: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()


#: Every KPI of ``engagement`` (per group) and ``kpi``/``digest`` (per period), in output order.
KPIS: tuple[Kpi, ...] = (
    Kpi("views", "Views", "count", "number of video_view events", events=("video_view",)),
    Kpi("viewers", "Viewers", "count", "distinct users with a video_view", events=("video_view",)),
    Kpi("likes", "Likes", "count", "number of like events", events=("like",)),
    Kpi("comments", "Comments", "count", "number of comment events", events=("comment",)),
    Kpi("shares", "Shares", "count", "number of share events", events=("share",)),
    Kpi("completes", "Completes", "count", "number of video_complete events", events=("video_complete",)),
    Kpi("clicks", "Product clicks", "count", "number of product_click events", events=("product_click",)),
    Kpi("engagement_rate", "Engagement rate", "ratio", "(likes + comments + shares) / views",
        "poisson", "engagements", "views", events=("video_view", "like|comment|share")),
    Kpi("completion_rate", "Completion rate", "ratio", "video_complete / video_view", "wilson", "completes",
        "views", events=("video_view", "video_complete")),
    Kpi("mean_watch_time_s", "Mean watch time (s)", "seconds",
        "mean watch_time_s over video_view events that carry one", events=("video_view",),
        columns=("watch_time_s",)),
    Kpi("ctr", "Click-through rate", "ratio", "product_click / video_view", "wilson", "clicks", "views",
        events=("video_view", "product_click")),
    Kpi("purchasers", "Purchasers", "count", "distinct users with a purchase", events=("purchase",)),
    Kpi("orders", "Orders", "count",
        "distinct order_id of purchase events, plus each purchase without an order_id", events=("purchase",)),
    Kpi("gmv", "GMV", "money", "sum of revenue over purchase events", events=("purchase",), columns=("revenue",)),
    Kpi("refund_revenue", "Refunded revenue", "money", "sum of revenue over refund events", events=("refund",),
        columns=("revenue",)),
    Kpi("net_gmv", "Net GMV", "money", "GMV - refunded revenue", events=("purchase",), columns=("revenue",)),
    Kpi("aov", "AOV", "money", "GMV / orders", events=("purchase",), columns=("revenue",)),
    Kpi("gpm", "GPM", "per_mille_views", "GMV per 1,000 views", events=("video_view", "purchase"),
        columns=("revenue",)),
    Kpi("user_conversion_rate", "User conversion rate", "ratio", "purchasers / viewers", "wilson",
        "purchasers", "viewers", events=("video_view", "purchase")),
    Kpi("refunded_orders", "Refunded orders", "count",
        "distinct order_id of refund events, plus each refund without an order_id", events=("refund",)),
    Kpi("refund_rate", "Refund rate", "ratio", "refunded orders / orders", "wilson", "refunded_orders",
        "orders", events=("purchase", "refund")),
)

#: Active-user KPIs of a calendar period (``kpi`` and ``digest`` only).
ACTIVITY_KPIS: tuple[Kpi, ...] = (
    Kpi("active_users", "Active users", "count", "distinct users with any event in the period"),
    Kpi("dau", "DAU", "count", "mean over the period's days of the day's distinct active users"),
    Kpi("wau", "WAU", "count", "mean over the period's days of the distinct active users of the day's ISO week"),
    Kpi("mau", "MAU", "count", "mean over the period's days of the distinct active users of the day's month"),
    Kpi("stickiness", "Stickiness (DAU/MAU)", "ratio", "dau / mau"),
)

KPI_BY_NAME: dict[str, Kpi] = {k.name: k for k in KPIS + ACTIVITY_KPIS}

#: ``engagement --sort``: every KPI of a group; sorting is always largest first.
SORT_KEYS: tuple[str, ...] = tuple(k.name for k in KPIS)
#: ``engagement --rank-by-lower-bound``: the KPIs that carry an interval.
INTERVAL_KEYS: tuple[str, ...] = tuple(k.name for k in KPIS if k.interval)
