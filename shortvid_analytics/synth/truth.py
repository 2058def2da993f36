"""The planted ground truth: ``truth.json``, what was planted and what was realised, for tests to check against.

Each section of the document is built by its own function; :func:`truth_document` puts them in order.
The realised numbers come from :class:`Tally`, the counters the chunks add to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from .parameters import (
    COMPLETION_DURATION_SLOPE,
    CREATOR_EFFECT_SD,
    CREATOR_PARETO_ALPHA,
    ENGAGEMENT_SLOPES,
    EVENT_NAMES,
    EXPERIMENT_ID,
    MAX_FOLLOWS,
    MAX_SESSIONS_PER_DAY,
    MAX_VIEWS_PER_SESSION,
    MODEL_VERSION,
    PLATFORM_BEHAVIOUR,
    PLATFORMS,
    PURCHASE_COEFFICIENTS,
    PURCHASE_WINDOW_HOURS,
    QUANTITY_PROBS,
    REGIONS,
    USER_ACTIVITY,
    VARIANTS,
    VIDEO_SECONDS,
)

if TYPE_CHECKING:
    from .generator import Run
    from .world import World


@dataclass
class Tally:
    """Counters accumulated over chunks (per platform where a pair)."""

    events_by_name: np.ndarray = field(default_factory=lambda: np.zeros(len(EVENT_NAMES), np.int64))
    by_platform: dict[str, np.ndarray] = field(default_factory=dict)
    expected: np.ndarray = field(default_factory=lambda: np.zeros(4))  # conv0, conv1, rev0, rev1 sums
    assigned: np.ndarray = field(default_factory=lambda: np.zeros(2, np.int64))
    converted: np.ndarray = field(default_factory=lambda: np.zeros(2, np.int64))
    revenue: np.ndarray = field(default_factory=lambda: np.zeros(2))
    user_video_rows: int = 0
    user_video_purchases: int = 0

    def add_platform(self, name: str, values: np.ndarray) -> None:
        self.by_platform[name] = self.by_platform.get(name, np.zeros(2, values.dtype)) + values


def truth_document(run: Run, total_events: int) -> dict[str, Any]:
    """The content of ``truth.json`` for a finished run (non-finite numbers as null)."""
    s = run.sums
    return _json_clean({
        "generator": _generator(run),
        "files": {"events": "events", "assignments": "assignments.parquet",
                  "creator_effects": "creator_effects.parquet"},
        "purchase_model": _purchase_model(s),
        "experiment": _experiment(run),
        "world": _world(run.world),
        "users": {k: list(v) if isinstance(v, tuple) else v for k, v in USER_ACTIVITY.items()}
        | {"caps": {"sessions_per_day": MAX_SESSIONS_PER_DAY, "views_per_session": MAX_VIEWS_PER_SESSION,
                    "follows": MAX_FOLLOWS}},
        "platforms": {name: _platform(s, i, name) for i, name in enumerate(PLATFORMS)},
        "engagement_slopes": ENGAGEMENT_SLOPES | {"completion_log_duration_slope": COMPLETION_DURATION_SLOPE},
        "realised": {"events": total_events,
                     "events_by_name": {n: int(c) for n, c in zip(EVENT_NAMES, s.events_by_name, strict=True)}},
    })


def _generator(run: Run) -> dict[str, Any]:
    """The arguments and version that reproduce the run."""
    return {
        "name": "shortvid generate",
        "package_version": __version__,
        "model_version": MODEL_VERSION,
        "args": {"users": run.users, "days": run.days, "seed": run.seed, "start": run.start.isoformat()},
        "period": {"start_utc": f"{run.start.isoformat()}T00:00:00Z",
                   "end_utc_exclusive": f"{(run.start + timedelta(days=run.days)).isoformat()}T00:00:00Z"},
        "users_per_chunk": run.chunk_users,
    }


def _purchase_model(s: Tally) -> dict[str, Any]:
    """The planted logit of a purchase on the ``user_video`` unit: its features, coefficients and rows."""
    return {
        "unit": "user_video",
        "unit_definition": "one row per (user_id, video_id) with a video_view; a user views a given "
                           "video at most once, so the row is that one view",
        "outcome": "purchased",
        "outcome_definition": "1 if the user has a purchase event with the same video_id within "
                              f"{PURCHASE_WINDOW_HOURS}h after the video_view, else 0",
        "window": f"{PURCHASE_WINDOW_HOURS}h",
        "link": "logit",
        "coefficients": dict(PURCHASE_COEFFICIENTS),
        "features": _FEATURES,
        "reference_categories": {"platform": "douyin", "traffic_source": "recommend"},
        "creator_effect": {
            "distribution": "normal", "mean": 0.0, "sd": CREATOR_EFFECT_SD, "cluster": "creator_id",
            "file": "creator_effects.parquet (column creator_effect, the realised u_creator)",
        },
        "creator_effect_sd": CREATOR_EFFECT_SD,
        "rows": s.user_video_rows,
        "purchases": s.user_video_purchases,
        "quantity_probabilities": dict(zip(("1", "2", "3"), QUANTITY_PROBS, strict=True)),
        "revenue": "product price * quantity",
    }


#: How each feature of the purchase model is read from the events.
_FEATURES = {
    "intercept": "1",
    "liked": "1 if the user has a like event with this video_id",
    "commented": "1 if the user has a comment event with this video_id",
    "shared": "1 if the user has a share event with this video_id",
    "watch_min": "watch_time_s of the video_view / 60",
    "completed": "1 if the user has a video_complete event with this video_id",
    "follows_creator": "1 if the user has a follow event with this view's creator_id "
                       "(always before the view)",
    "platform_kuaishou": "1 if platform = 'kuaishou' (reference: douyin)",
    "traffic_follow": "1 if the view's traffic_source = 'follow' (reference: recommend)",
    "traffic_search": "1 if the view's traffic_source = 'search'",
    "traffic_live": "1 if the view's traffic_source = 'live'",
    "treated": f"1 if the user's {EXPERIMENT_ID} variant is 'treatment' and "
               "event_time of the view >= assigned_at",
}


def _experiment(run: Run) -> dict[str, Any]:
    """The experiment: how users are assigned, the expected lifts over the realised views, the realised arms."""
    s = run.sums
    n_assigned = int(s.assigned.sum())
    conv0, conv1, rev0, rev1 = (float(x) / n_assigned if n_assigned else float("nan") for x in s.expected)
    return {
        "id": EXPERIMENT_ID,
        "variants": list(VARIANTS),
        "split": {"control": 0.5, "treatment": 0.5},
        "start": (run.start + timedelta(days=run.experiment_day)).isoformat(),
        "assignment": "users with an event at or after start (00:00 UTC) are assigned at their "
                      "first such event (assigned_at = its event_time); variant from a hash of "
                      "(seed, user_id)",
        "b_treatment": PURCHASE_COEFFICIENTS["treated"],
        "assigned_users": n_assigned,
        "conversion_lift": conv1 / conv0 - 1 if conv0 else None,
        "revenue_per_user_lift": rev1 / rev0 - 1 if rev0 else None,
        "control_conversion": conv0,
        "control_revenue_per_user": rev0,
        "expected": {
            "definition": "expectation over the purchase draws given the realised views, every "
                          "assigned user counted under each arm",
            "conversion": {"control": conv0, "treatment": conv1},
            "revenue_per_user": {"control": rev0, "treatment": rev1},
        },
        "metrics": {
            "conversion": "share of assigned users with >= 1 purchase at or after assigned_at",
            "revenue_per_user": "sum of purchase revenue at or after assigned_at per assigned user "
                                "(gross: refunds not subtracted)",
        },
        "realised": {
            v: {"users": int(s.assigned[i]), "converted": int(s.converted[i]),
                "revenue": round(float(s.revenue[i]), 2)}
            for i, v in enumerate(VARIANTS)
        },
    }


def _world(w: World) -> dict[str, Any]:
    """The world's sizes and how it was drawn."""
    return {
        "creators": {p: int((w.creator_platform == i).sum()) for i, p in enumerate(PLATFORMS)},
        "videos": int(len(w.video_duration)),
        "products": int(len(w.product_price)),
        "creator_popularity": f"Pareto(alpha={CREATOR_PARETO_ALPHA}) on [1, inf), shares within platform",
        "videos_per_creator": "30 + ceil(popularity_share * days * 60)",
        "video_duration_s": f"round(lognormal(median 25 s, log sd 0.6)) clipped to {list(VIDEO_SECONDS)}",
        "price": "round(median * exp(N(0, price_log_sd))) - 0.1, at least 1.9; median per platform",
    }


def _platform(s: Tally, i: int, name: str) -> dict[str, Any]:
    """One platform: its planted behaviour and its realised counts and rates."""
    b = {k: int(v[i]) if v.dtype.kind == "i" else float(v[i]) for k, v in s.by_platform.items()}
    views = b["video_view"]
    return {
        "planted": {k: v for k, v in PLATFORM_BEHAVIOUR[name].items() if k != "region_weights"}
        | {"region_weights": dict(zip(REGIONS, PLATFORM_BEHAVIOUR[name]["region_weights"], strict=True))},
        "realised": b | {
            "completion_rate": _ratio(b["video_complete"], views),
            "like_rate": _ratio(b["like"], views),
            "comment_rate": _ratio(b["comment"], views),
            "share_rate": _ratio(b["share"], views),
            "click_through_rate": _ratio(b["product_click"], views),
            "view_to_purchase": _ratio(b["purchase"], views),
        },
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _json_clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
