"""The planted model: every number the generator draws from, recorded in ``truth.json`` (``docs/generate.md``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

#: Bumped whenever a change alters the generated data for the same arguments.
MODEL_VERSION = 1
MAX_USERS = 5_000_000  # ~350M events; the world (≈1.5 videos per user) is held in memory
MAX_DAYS = 366  # one open Parquet writer per day while chunks stream through

PLATFORMS = ("douyin", "kuaishou")
TRAFFIC_SOURCES = ("recommend", "follow", "search", "live")
DEVICES = ("ios", "android")
REGIONS = ("guangdong", "zhejiang", "jiangsu", "shandong", "henan", "sichuan", "hebei", "hubei",
           "beijing", "shanghai", "heilongjiang", "liaoning", "other")
EVENT_NAMES = ("video_view", "video_complete", "like", "comment", "share", "follow", "product_click",
               "add_to_cart", "checkout", "purchase", "refund", "live_enter")
EVENT_CODE = {name: code for code, name in enumerate(EVENT_NAMES)}
RECOMMEND, FOLLOW, SEARCH, LIVE = range(4)

EXPERIMENT_ID = "checkout_v2"
VARIANTS = ("control", "treatment")

# ----------------------------------------------------------------------------- planted parameters
#: Purchase model on the user_video unit: logit P(purchase) = sum(coef * feature) + u_creator.
PURCHASE_COEFFICIENTS: dict[str, float] = {
    "intercept": -6.85,
    "liked": 0.9,
    "commented": 0.6,
    "shared": 0.5,
    "watch_min": 0.4,
    "completed": 0.7,
    "follows_creator": 0.8,
    "platform_kuaishou": 0.1,
    "traffic_follow": 0.25,
    "traffic_search": 0.9,
    "traffic_live": 0.6,
    "treated": 0.15,
}
CREATOR_EFFECT_SD = 0.3
#: Creator popularity ~ Pareto(alpha) on [1, inf): the top 1% of creators get about 0.01**(1 - 1/alpha)
#: = 22% of recommend traffic on their platform.
CREATOR_PARETO_ALPHA = 1.5
PURCHASE_WINDOW_HOURS = 24
QUANTITY_PROBS = (0.80, 0.15, 0.05)  # quantity 1, 2, 3 of a purchase
EXPECTED_QUANTITY = sum((k + 1) * p for k, p in enumerate(QUANTITY_PROBS))

#: Per-platform behaviour (index 0 = douyin, 1 = kuaishou in the arrays below).
PLATFORM_BEHAVIOUR: dict[str, dict[str, Any]] = {
    "douyin": {
        "user_share": 0.6,
        "ios_share": 0.35,
        "traffic_mix": {"recommend": 0.72, "follow": 0.13, "search": 0.10, "live": 0.05},
        "mean_follows": 1.5,
        "completion_intercept": -0.95,
        "like_intercept": -3.9,
        "comment_intercept": -5.9,
        "share_intercept": -5.3,
        "click_rate_non_buyer": 0.026,
        "cart_rate_non_buyer_clicker": 0.30,
        "checkout_rate_non_buyer_cart": 0.35,
        "refund_probability": 0.08,
        "price_median": 69.0,
        "price_log_sd": 0.8,
        "region_weights": (14, 10, 10, 7, 7, 6, 5, 5, 6, 6, 3, 3, 18),
    },
    "kuaishou": {
        "user_share": 0.4,
        "ios_share": 0.20,
        "traffic_mix": {"recommend": 0.51, "follow": 0.33, "search": 0.08, "live": 0.08},
        "mean_follows": 3.0,
        "completion_intercept": -1.25,
        "like_intercept": -3.9,
        "comment_intercept": -5.55,
        "share_intercept": -5.8,
        "click_rate_non_buyer": 0.024,
        "cart_rate_non_buyer_clicker": 0.30,
        "checkout_rate_non_buyer_cart": 0.35,
        "refund_probability": 0.10,
        "price_median": 45.0,
        "price_log_sd": 0.8,
        "region_weights": (8, 5, 5, 10, 11, 7, 9, 6, 3, 2, 8, 7, 19),
    },
}

#: Slopes of the engagement logits (shared by both platforms; intercepts above).
#: completion also gets -0.9 * ln(duration / 25 s): long videos are finished less often.
ENGAGEMENT_SLOPES: dict[str, dict[str, float]] = {
    "completed": {"creator_quality": 0.6, "user_trait": 0.8, "follows_creator": 0.5},
    "liked": {"completed": 1.0, "creator_quality": 0.5, "user_trait": 0.6, "follows_creator": 0.7},
    "commented": {"completed": 0.8, "creator_quality": 0.4, "user_trait": 0.6, "follows_creator": 0.5},
    "shared": {"completed": 0.8, "creator_quality": 0.6, "user_trait": 0.5, "follows_creator": 0.0},
}
COMPLETION_DURATION_SLOPE = -0.9

#: Users: when they join, how often they come back, how much they watch. Drawn per user.
USER_ACTIVITY: dict[str, Any] = {
    "existing_share": 0.4,  # joined before the period
    "existing_age_days": (7, 90),  # their age in days on the first day (uniform, inclusive)
    "propensity_beta": (2.0, 2.2),  # p0: daily activity propensity
    "floor_beta": (1.2, 2.5),  # r: long-run share of p0 kept
    "decay_days_uniform": (2.0, 8.0),  # tau
    "weekend_boost": 1.15,
    "extra_sessions_gamma": (1.5, 0.7),  # shape, scale: mean of Poisson(sessions per active day - 1)
    "views_per_session_scale": 4.0,
    "views_per_session_log_sd": 0.35,
    "engagement_trait_sd": 0.5,
}

# Structural caps that keep every session inside its UTC day (see _session_starts).
MAX_SESSIONS_PER_DAY = 6
MAX_VIEWS_PER_SESSION = 20
MAX_FOLLOWS = 10
VIDEO_SECONDS = (5, 180)
DEDUPE_ROUNDS = 8
SOURCE_SWITCH_ROUND = 2  # from this round on, a repeated follow/search/live view is redrawn as recommend

# Session start times: relative weights per UTC hour 0..23 (China time = UTC+8: the evening peak
# 20-23h CST is 12-15h UTC; the night 01-07h CST is 17-23h UTC).
HOUR_WEIGHTS = np.array([3, 3, 3, 4, 6, 5, 3, 3, 3, 4, 5, 6, 8, 9, 8, 6,
                          3.5, 1.5, 0.7, 0.4, 0.3, 0.4, 0.8, 1.8], dtype=np.float64)

SECOND = 1_000_000  # microseconds
DAY = 86_400 * SECOND
SESSION_GAP = 300 * SECOND  # minimum pause between two sessions of a user
EPOCH = date(1970, 1, 1)
CHUNK_USER_DAYS = 600_000  # users per chunk = this / days, clamped to [1000, 50000]


def platform_array(key: str) -> np.ndarray:
    return np.array([PLATFORM_BEHAVIOUR[p][key] for p in PLATFORMS], dtype=np.float64)
