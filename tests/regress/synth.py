"""Small synthetic event tables with a planted logistic purchase model on the user_video unit.

Creators belong to one platform and carry a random effect on the log-odds (planted creator-level
correlation); each creator has videos, each video shows one product. Users follow creators before
the data starts. Every user views distinct videos; per view the engagement flags, watch time and
traffic source are drawn, and a purchase of the video's product follows 10 minutes after the view with probability
``1 / (1 + exp(-(b0 + b.x + u_creator)))``; a buyer places further orders (negative binomial number).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from tests.conftest import T0, events_frame

#: Planted log-odds coefficients (the reference levels are douyin and recommend).
TRUTH: dict[str, float] = {
    "Intercept": -2.0,
    "liked": 0.8,
    "commented": 0.6,
    "shared": 0.5,
    "watch_min": 0.3,
    "completed": 0.4,
    "follows_creator": 0.7,
    "kuaishou": -0.3,
    "follow": 0.3,
    "search": 0.5,
    "live": 0.6,
}
SOURCES = ("recommend", "follow", "search", "live")


def planted_events(users: int = 600, views_per_user: int = 6, creators: int = 30, videos_per_creator: int = 4,
                   creator_sd: float = 1.0, seed: int = 7, truth: dict[str, float] | None = None) -> pl.DataFrame:
    """Events (canonical columns) of ``users`` users with the planted model; deterministic for ``seed``."""
    beta = truth or TRUTH
    rng = np.random.default_rng(seed)
    creator_platform = np.where(np.arange(creators) % 2 == 0, "douyin", "kuaishou")
    creator_effect = rng.normal(0.0, creator_sd, creators)
    n_videos = creators * videos_per_creator
    video_creator = np.repeat(np.arange(creators), videos_per_creator)

    user = np.repeat(np.arange(users), views_per_user)
    video = np.concatenate([rng.choice(n_videos, views_per_user, replace=False) for _ in range(users)])
    n = user.size
    creator = video_creator[video]
    platform = creator_platform[creator]
    source = rng.choice(len(SOURCES), n, p=[0.6, 0.15, 0.15, 0.1])
    liked = rng.random(n) < 0.25
    commented = rng.random(n) < 0.12
    shared = rng.random(n) < 0.1
    watch_s = rng.exponential(40.0, n)
    completed = rng.random(n) < 0.2 + 0.5 * (watch_s > 45)
    follows_matrix = rng.random((users, creators)) < 0.2  # user follows creator since before the data starts
    follows = follows_matrix[user, creator]
    minute = rng.integers(0, 3 * 24 * 60, n)  # views spread over three days

    eta = (beta["Intercept"] + beta["liked"] * liked + beta["commented"] * commented + beta["shared"] * shared
           + beta["watch_min"] * watch_s / 60 + beta["completed"] * completed + beta["follows_creator"] * follows
           + beta["kuaishou"] * (platform == "kuaishou") + creator_effect[creator]
           + np.select([source == 1, source == 2, source == 3], [beta["follow"], beta["search"], beta["live"]], 0.0))
    bought = rng.random(n) < 1 / (1 + np.exp(-eta))
    revenue = np.round(rng.lognormal(4.0, 0.5, n), 2)
    repeats = rng.negative_binomial(1, 0.5, n)  # further orders of a buyer: overdispersed counts

    rows: list[tuple] = []
    for i in range(n):
        t = T0 + timedelta(minutes=int(minute[i]))
        u, v, c = f"u{user[i]:04d}", f"v{video[i]:04d}", f"c{creator[i]:03d}"
        base = {"video_id": v, "creator_id": c, "session_id": f"s{user[i]}-{minute[i] // 240}",
                "platform": str(platform[i])}
        rows.append((u, "video_view", t, base | {"product_id": f"p{video[i]:04d}", "watch_time_s": float(watch_s[i]),
                                                "traffic_source": SOURCES[source[i]]}))
        for flag, name in ((liked, "like"), (commented, "comment"), (shared, "share"), (completed, "video_complete")):
            if flag[i]:
                rows.append((u, name, t + timedelta(seconds=20), base))
        for k in range(1 + repeats[i] if bought[i] else 0):
            rows.append((u, "purchase", t + timedelta(minutes=10 * (k + 1)),
                         {"product_id": f"p{video[i]:04d}", "order_id": f"o{i}-{k}", "revenue": float(revenue[i]),
                          "platform": str(platform[i]), "session_id": base["session_id"]}))
    for uu, cc in zip(*np.nonzero(follows_matrix), strict=True):
        rows.append((f"u{uu:04d}", "follow", T0 - timedelta(days=1), {"creator_id": f"c{cc:03d}"}))
    return events_frame(rows)
