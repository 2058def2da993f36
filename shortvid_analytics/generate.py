"""``generate``: a realistic synthetic short-video e-commerce export with planted ground truth.

The exact model, every planted number and the file layout are documented in ``docs/generate.md``;
``truth.json`` records them for each run. In short:

- *World* (from ``SeedSequence(seed, spawn_key=(0,))``): creators on two platforms with Pareto
  (heavy-tailed, KOL) popularity, an independent creator random effect on purchase, videos of each
  creator (each showing one product of the same platform), products with log-normal prices.
- *Users*, simulated in chunks of users (each chunk from ``SeedSequence(seed, spawn_key=(1, chunk))``):
  one platform each, a join day, a daily activity propensity decaying with age, sessions of views,
  a fixed set of followed creators, engagement drawn first, then the purchase from the planted
  logistic model on the ``user_video`` unit, then the funnel events, refunds and timestamps.
- *Experiment* ``checkout_v2``: users are assigned at their first event on/after the experiment's
  start day; treatment adds ``treated`` to the purchase logit. The expected lifts are computed from
  the per-view purchase probabilities of both arms over the realised views.

A chunk holds every day of its users, so per-user state (videos already seen, assignment, the
counterfactual sums) never crosses chunks and memory is bounded by the chunk size. Each day's
rows are appended as row groups to that day's Parquet file, kept open while chunks stream through.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.special import expit

from . import __version__
from .errors import OptionError
from .files import sweep_stale, temp_name
from .options import DEFAULT_DAYS, DEFAULT_START

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
_EV = {name: code for code, name in enumerate(EVENT_NAMES)}
_RECOMMEND, _FOLLOW, _SEARCH, _LIVE = range(4)

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
_DEDUPE_ROUNDS = 8
_SOURCE_SWITCH_ROUND = 2  # from this round on, a repeated follow/search/live view is redrawn as recommend

# Session start times: relative weights per UTC hour 0..23 (China time = UTC+8: the evening peak
# 20-23h CST is 12-15h UTC; the night 01-07h CST is 17-23h UTC).
_HOUR_WEIGHTS = np.array([3, 3, 3, 4, 6, 5, 3, 3, 3, 4, 5, 6, 8, 9, 8, 6,
                          3.5, 1.5, 0.7, 0.4, 0.3, 0.4, 0.8, 1.8], dtype=np.float64)

_SECOND = 1_000_000  # microseconds
_DAY = 86_400 * _SECOND
_SESSION_GAP = 300 * _SECOND  # minimum pause between two sessions of a user
_EPOCH = date(1970, 1, 1)

_WRITER_OPTIONS = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
}
_ROWS_PER_FILE = 5_000_000
_CHUNK_USER_DAYS = 600_000  # users per chunk = this / days, clamped to [1000, 50000]

EVENTS_SCHEMA = pa.schema([
    ("event_time", pa.timestamp("us", tz="UTC")),
    ("user_id", pa.int64()),
    ("event_name", pa.string()),
    ("session_id", pa.string()),
    ("video_id", pa.string()),
    ("creator_id", pa.string()),
    ("product_id", pa.string()),
    ("order_id", pa.string()),
    ("revenue", pa.float64()),
    ("watch_time_s", pa.float64()),
    ("platform", pa.string()),
    ("traffic_source", pa.string()),
    ("device", pa.string()),
    ("region", pa.string()),
])
ASSIGNMENTS_SCHEMA = pa.schema([
    ("experiment_id", pa.string()),
    ("user_id", pa.int64()),
    ("variant", pa.string()),
    ("assigned_at", pa.timestamp("us", tz="UTC")),
])
CREATORS_SCHEMA = pa.schema([
    ("creator_id", pa.string()),
    ("platform", pa.string()),
    ("creator_effect", pa.float64()),
    ("popularity_share", pa.float64()),
    ("quality", pa.float64()),
    ("videos", pa.int64()),
])


def _platform_array(key: str) -> np.ndarray:
    return np.array([PLATFORM_BEHAVIOUR[p][key] for p in PLATFORMS], dtype=np.float64)


# ----------------------------------------------------------------------------- public API
@dataclass
class GenerationSummary:
    """What :func:`generate` wrote. ``truth`` is the content of ``truth.json``."""

    out_dir: Path
    events_dir: Path
    assignments_path: Path
    truth_path: Path
    creators_path: Path
    files: list[Path]
    events: int
    users: int
    days: int
    seed: int
    start: date
    seconds: float
    truth: dict[str, Any] = field(repr=False)


def generate(
    out_dir: str | Path,
    users: int = 10_000,
    days: int = DEFAULT_DAYS,
    seed: int = 0,
    start: date = DEFAULT_START,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> GenerationSummary:
    """Write a synthetic export of ``users`` users over ``days`` UTC days from ``start`` into ``out_dir``.

    Writes ``events/dt=YYYY-MM-DD/part-NNNN.parquet`` (canonical columns, partitioned by the UTC
    date of ``event_time``), ``assignments.parquet``, ``creator_effects.parquet`` and ``truth.json``.
    The same arguments give byte-identical files. Everything is written into a temporary folder
    inside ``out_dir`` and moved into place at the end, so a failed run leaves no partial output.
    Refuses to replace existing outputs unless ``overwrite``. ``progress(done, total)`` is called
    after each chunk of users.
    """
    started = time.perf_counter()
    if isinstance(start, datetime):
        start = start.date()
    _check_args(users, days, seed, start)
    out = Path(out_dir)
    _check_out_dir(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    sweep_stale(out)  # the staging folders of killed runs
    staging = out / temp_name("generate")  # a name the next run's sweep recognises if this one is killed
    staging.mkdir(mode=0o700)
    try:
        run = _Run(users=users, days=days, seed=seed, start=start, staging=staging)
        total_events, truth = run.execute(progress)
        _publish(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    events_dir = out / "events"
    files = sorted(events_dir.rglob("*.parquet"))
    return GenerationSummary(
        out_dir=out, events_dir=events_dir, assignments_path=out / "assignments.parquet",
        truth_path=out / "truth.json", creators_path=out / "creator_effects.parquet", files=files,
        events=total_events, users=users, days=days, seed=seed, start=start,
        seconds=time.perf_counter() - started, truth=truth,
    )


_OUTPUTS = ("events", "assignments.parquet", "creator_effects.parquet", "truth.json")


def check_users(users: int) -> None:
    """``--users``: 1 to :data:`MAX_USERS` (``demo`` checks it before announcing the generation)."""
    if isinstance(users, bool) or not isinstance(users, int) or not 1 <= users <= MAX_USERS:
        raise OptionError(f"--users {users}: expected an integer from 1 to {MAX_USERS:,}")


def _check_args(users: int, days: int, seed: int, start: date) -> None:
    check_users(users)
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise OptionError(f"--days {days}: expected an integer from 1 to {MAX_DAYS}")
    if not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise OptionError(f"--seed {seed}: expected an integer from 0 to 2**63-1")
    if not isinstance(start, date) or start.year < 1971 or (start + timedelta(days=days)).year > 9998:
        raise OptionError(f"--start {start}: expected a date between 1971 and 9998")


def _check_out_dir(out: Path, overwrite: bool) -> None:
    """Raise unless ``overwrite`` when ``out`` already holds generated outputs."""
    if out.exists() and not out.is_dir():
        raise OptionError(f"--out {out}: exists and is not a folder")
    existing = []
    for name in _OUTPUTS:
        path = out / name
        if path.is_dir():
            if any(path.iterdir()):
                existing.append(name)
        elif path.exists():
            existing.append(name)
    if existing and not overwrite:
        what = f"{out / existing[0]}" + (" is not empty" if existing[0] == "events" else " exists")
        raise OptionError(f"--out {out}: {what}; pass --overwrite to replace the generated files")


def _publish(staging: Path, out: Path) -> None:
    """Move the staged outputs into ``out``; replaced folders are removed only after the swap."""
    trash = staging / ".replaced"
    trash.mkdir()
    for name in _OUTPUTS:
        target = out / name
        if (staging / name).is_dir():
            if target.exists():
                os.replace(target, trash / name)
            os.replace(staging / name, target)
        else:
            os.replace(staging / name, target)


# ----------------------------------------------------------------------------- the world
@dataclass
class _World:
    """Creators, videos and products; shared by all users."""

    creator_platform: np.ndarray
    creator_share: np.ndarray  # popularity share within the creator's platform (recommend traffic)
    creator_quality: np.ndarray
    creator_effect: np.ndarray
    creator_video_start: np.ndarray  # videos of creator c: start[c] .. start[c] + n_videos[c] - 1
    creator_videos: np.ndarray
    video_duration: np.ndarray  # whole seconds
    video_product: np.ndarray
    product_price: np.ndarray
    platform_creators: list[np.ndarray]
    cum_recommend: list[np.ndarray]
    cum_search: list[np.ndarray]

    @classmethod
    def build(cls, users: int, days: int, rng: np.random.Generator) -> _World:
        n_creators = max(100, users // 20)
        platform = (rng.random(n_creators) >= PLATFORM_BEHAVIOUR["douyin"]["user_share"]).astype(np.int8)
        platform[:2] = (0, 1)  # both platforms always have creators
        popularity = rng.pareto(CREATOR_PARETO_ALPHA, n_creators) + 1.0  # KOL effect: a few creators get much of the traffic
        share = np.empty(n_creators)
        for p in range(2):
            mask = platform == p
            share[mask] = popularity[mask] / popularity[mask].sum()
        quality = rng.normal(0.0, 0.4, n_creators)
        effect = rng.normal(0.0, CREATOR_EFFECT_SD, n_creators)  # independent of everything else
        # Popular creators publish more, so a heavy viewer rarely runs out of unseen videos.
        n_videos = 30 + np.ceil(share * days * 60).astype(np.int64)
        video_start = np.concatenate([[0], np.cumsum(n_videos)[:-1]])
        n_video_total = int(n_videos.sum())
        video_creator = np.repeat(np.arange(n_creators), n_videos)
        duration = np.clip(np.round(rng.lognormal(math.log(25.0), 0.6, n_video_total)), *VIDEO_SECONDS)

        n_products = max(200, n_video_total // 5)
        product_platform = (rng.random(n_products) >= PLATFORM_BEHAVIOUR["douyin"]["user_share"]).astype(np.int8)
        product_platform[:2] = (0, 1)
        median = _platform_array("price_median")[product_platform]
        log_sd = _platform_array("price_log_sd")[product_platform]
        # Prices end in .9 like real shop prices: e.g. 68.9.
        price = np.maximum(np.round(median * np.exp(rng.normal(0.0, 1.0, n_products) * log_sd)), 2.0) - 0.1
        bestseller = rng.lognormal(0.0, 1.0, n_products)
        video_platform = platform[video_creator]
        video_product = np.empty(n_video_total, dtype=np.int64)
        u = rng.random(n_video_total)
        for p in range(2):
            products = np.flatnonzero(product_platform == p)
            video_product[video_platform == p] = products[_pick(np.cumsum(bestseller[products]),
                                                                u[video_platform == p])]
        creators = [np.flatnonzero(platform == p) for p in range(2)]
        return cls(
            creator_platform=platform, creator_share=share, creator_quality=quality, creator_effect=effect,
            creator_video_start=video_start, creator_videos=n_videos, video_duration=duration,
            video_product=video_product, product_price=price, platform_creators=creators,
            cum_recommend=[np.cumsum(popularity[c]) for c in creators],
            cum_search=[np.cumsum(np.sqrt(popularity[c])) for c in creators],
        )


def _pick(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Indices drawn with probability proportional to the weights whose cumulative sum is given."""
    idx = np.searchsorted(cumulative, u * cumulative[-1], side="right")
    return np.minimum(idx, len(cumulative) - 1)


def _hash64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 (wrapping arithmetic)."""
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def variant_of(user_ids: np.ndarray, seed: int) -> np.ndarray:
    """1 for ``treatment``, 0 for ``control``: the lowest bit of splitmix64(user_id XOR splitmix64(seed))."""
    salt = _hash64(np.array([seed], dtype=np.uint64))[0]
    return (_hash64(user_ids.astype(np.uint64) ^ salt) & np.uint64(1)).astype(np.int8)


# ----------------------------------------------------------------------------- a run
@dataclass
class _Sums:
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


class _Run:
    """One generation: the world, the chunk loop, the writers and the truth document."""

    def __init__(self, users: int, days: int, seed: int, start: date, staging: Path) -> None:
        self.users, self.days, self.seed, self.start, self.staging = users, days, seed, start, staging
        self.world = _World.build(users, days, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,))))
        self.start_us = (start - _EPOCH).days * _DAY
        self.end_us = self.start_us + days * _DAY
        self.experiment_day = days // 2
        self.chunk_users = int(np.clip(_CHUNK_USER_DAYS // days, 1_000, 50_000))
        self.session_base = 0
        self.order_base = 0
        self.sums = _Sums()
        self.ids = _IdFormats(self.world)
        weekday = np.array([(start + timedelta(days=d)).weekday() for d in range(days)])
        self.day_boost = np.where(weekday >= 5, USER_ACTIVITY["weekend_boost"], 1.0)

    def execute(self, progress: Callable[[int, int], None] | None) -> tuple[int, dict[str, Any]]:
        writers = _DayWriters(self.staging / "events", self.start, self.days)
        assignments: list[pa.Table] = []
        n_chunks = -(-self.users // self.chunk_users)
        total = 0
        # Simulation of chunk k+1 overlaps with sorting, formatting and compressing chunk k in one
        # writer thread (Arrow and numpy release the GIL); at most one chunk waits, so memory stays bounded.
        pending: Future[int] | None = None
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                for chunk in range(n_chunks):
                    lo = chunk * self.chunk_users
                    hi = min(self.users, lo + self.chunk_users)
                    rows, assigned = _Chunk(self, chunk, lo, hi).simulate()
                    assignments.append(assigned)
                    if pending is not None:
                        total += pending.result()
                    pending = pool.submit(self._write_rows, writers, rows)
                    if progress is not None:
                        progress(chunk + 1, n_chunks)
                if pending is not None:
                    total += pending.result()
        finally:
            writers.close()
        pq.write_table(pa.concat_tables(assignments), self.staging / "assignments.parquet", **_WRITER_OPTIONS)
        pq.write_table(self._creators_table(), self.staging / "creator_effects.parquet", **_WRITER_OPTIONS)
        truth = self._truth(total)
        (self.staging / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
        return total, truth

    def _write_rows(self, writers: _DayWriters, rows: _Rows) -> int:
        return writers.write(*rows.to_table(self.ids, self.start_us))

    def _creators_table(self) -> pa.Table:
        w = self.world
        return pa.table({
            "creator_id": self.ids.tables["c"],
            "platform": pa.array(PLATFORMS).take(pa.array(w.creator_platform)),
            "creator_effect": w.creator_effect,
            "popularity_share": w.creator_share,
            "quality": w.creator_quality,
            "videos": w.creator_videos,
        }, schema=CREATORS_SCHEMA)

    def _truth(self, total_events: int) -> dict[str, Any]:
        s = self.sums
        n_assigned = int(s.assigned.sum())
        conv0, conv1, rev0, rev1 = (float(x) / n_assigned if n_assigned else float("nan") for x in s.expected)
        exp_start = self.start + timedelta(days=self.experiment_day)
        w = self.world
        platforms = {}
        for i, name in enumerate(PLATFORMS):
            b = {k: int(v[i]) if v.dtype.kind == "i" else float(v[i]) for k, v in s.by_platform.items()}
            views = b["video_view"]
            platforms[name] = {
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
        return _json_clean({
            "generator": {
                "name": "shortvid generate",
                "package_version": __version__,
                "model_version": MODEL_VERSION,
                "args": {"users": self.users, "days": self.days, "seed": self.seed, "start": self.start.isoformat()},
                "period": {"start_utc": f"{self.start.isoformat()}T00:00:00Z",
                           "end_utc_exclusive": f"{(self.start + timedelta(days=self.days)).isoformat()}T00:00:00Z"},
                "users_per_chunk": self.chunk_users,
            },
            "files": {"events": "events", "assignments": "assignments.parquet",
                      "creator_effects": "creator_effects.parquet"},
            "purchase_model": {
                "unit": "user_video",
                "unit_definition": "one row per (user_id, video_id) with a video_view; a user views a given "
                                   "video at most once, so the row is that one view",
                "outcome": "purchased",
                "outcome_definition": "1 if the user has a purchase event with the same video_id within "
                                      f"{PURCHASE_WINDOW_HOURS}h after the video_view, else 0",
                "window": f"{PURCHASE_WINDOW_HOURS}h",
                "link": "logit",
                "coefficients": dict(PURCHASE_COEFFICIENTS),
                "features": {
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
                },
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
            },
            "experiment": {
                "id": EXPERIMENT_ID,
                "variants": list(VARIANTS),
                "split": {"control": 0.5, "treatment": 0.5},
                "start": exp_start.isoformat(),
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
            },
            "world": {
                "creators": {p: int((w.creator_platform == i).sum()) for i, p in enumerate(PLATFORMS)},
                "videos": int(len(w.video_duration)),
                "products": int(len(w.product_price)),
                "creator_popularity": f"Pareto(alpha={CREATOR_PARETO_ALPHA}) on [1, inf), shares within platform",
                "videos_per_creator": "30 + ceil(popularity_share * days * 60)",
                "video_duration_s": f"round(lognormal(median 25 s, log sd 0.6)) clipped to {list(VIDEO_SECONDS)}",
                "price": "round(median * exp(N(0, price_log_sd))) - 0.1, at least 1.9; median per platform",
            },
            "users": {k: list(v) if isinstance(v, tuple) else v for k, v in USER_ACTIVITY.items()}
            | {"caps": {"sessions_per_day": MAX_SESSIONS_PER_DAY, "views_per_session": MAX_VIEWS_PER_SESSION,
                        "follows": MAX_FOLLOWS}},
            "platforms": platforms,
            "engagement_slopes": ENGAGEMENT_SLOPES | {"completion_log_duration_slope": COMPLETION_DURATION_SLOPE},
            "realised": {"events": total_events,
                         "events_by_name": {n: int(c) for n, c in zip(EVENT_NAMES, s.events_by_name, strict=True)}},
        })


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


# ----------------------------------------------------------------------------- ids and writers
class _IdFormats:
    """String ids: a letter and a zero-padded 1-based number (``v000123``).

    Video, creator and product ids are formatted once for the whole world and then taken by index.
    """

    def __init__(self, world: _World) -> None:
        self.widths = {
            "v": max(6, len(str(len(world.video_duration)))),
            "c": max(5, len(str(len(world.creator_platform)))),
            "p": max(6, len(str(len(world.product_price)))),
            "s": 10,
            "o": 10,
        }
        self.tables = {
            "v": self.format("v", np.arange(len(world.video_duration))),
            "c": self.format("c", np.arange(len(world.creator_platform))),
            "p": self.format("p", np.arange(len(world.product_price))),
        }

    def format(self, prefix: str, index: np.ndarray) -> pa.Array:
        """``prefix`` + (index + 1) zero-padded; negative index -> null."""
        digits = pc.cast(pa.array(index + 1, mask=index < 0), pa.string())
        return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width=self.widths[prefix], padding="0"), "")

    def lookup(self, prefix: str, index: np.ndarray) -> pa.Array:
        """Ids of world objects (``v``, ``c`` or ``p``) by index; negative index -> null."""
        return self.tables[prefix].take(pa.array(index, mask=index < 0))


class _DayWriters:
    """One open Parquet file per UTC day; rolls over to the next part file after ``_ROWS_PER_FILE`` rows."""

    def __init__(self, root: Path, start: date, days: int) -> None:
        self.root, self.start = root, start
        self.open: dict[int, tuple[pq.ParquetWriter, int, int]] = {}  # day -> (writer, part, rows)
        self.days = days

    def write(self, table: pa.Table, day_index: np.ndarray) -> int:
        """Append the rows of ``table`` (sorted by ``day_index``) to their days' files; return rows."""
        if len(day_index) and not 0 <= day_index[0] <= day_index[-1] < self.days:
            raise RuntimeError("generated an event outside the period")  # a bug, never bad input
        bounds = np.searchsorted(day_index, np.arange(self.days + 1))
        for day in range(self.days):
            lo, hi = int(bounds[day]), int(bounds[day + 1])
            if hi > lo:
                self._writer(day, hi - lo).write_table(table.slice(lo, hi - lo), row_group_size=hi - lo)
        return table.num_rows

    def _writer(self, day: int, rows: int) -> pq.ParquetWriter:
        writer, part, written = self.open.get(day, (None, -1, 0))
        if writer is None or written >= _ROWS_PER_FILE:
            if writer is not None:
                writer.close()
            part += 1
            folder = self.root / f"dt={(self.start + timedelta(days=day)).isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(folder / f"part-{part:04d}.parquet", EVENTS_SCHEMA, **_WRITER_OPTIONS)
            written = 0
        self.open[day] = (writer, part, written + rows)
        return writer

    def close(self) -> None:
        for writer, _part, _rows in self.open.values():
            writer.close()
        self.open.clear()


# ----------------------------------------------------------------------------- one chunk of users
class _Chunk:
    """Simulate users ``lo .. hi-1`` over every day; returns their events, day index and assignments.

    The stages draw from separate child streams, so changing one stage does not shift the others.
    """

    def __init__(self, run: _Run, chunk: int, lo: int, hi: int) -> None:
        self.run, self.lo, self.n = run, lo, hi - lo
        streams = np.random.SeedSequence(run.seed, spawn_key=(1, chunk)).spawn(5)
        self.rng_users, self.rng_views, self.rng_engage, self.rng_buy, self.rng_time = (
            np.random.default_rng(s) for s in streams)

    def simulate(self) -> tuple[_Rows, pa.Table]:
        self._users()
        self._sessions()
        self._views()
        self._engagement()
        self._treatment()
        self._purchases()
        self._times()
        self._assignment()
        return self._events()

    # -- users: traits, follows, active days, sessions
    def _users(self) -> None:
        rng, n = self.rng_users, self.n
        self.plat = (rng.random(n) >= PLATFORM_BEHAVIOUR["douyin"]["user_share"]).astype(np.int8)
        self.device = (rng.random(n) >= _platform_array("ios_share")[self.plat]).astype(np.int8)
        region_cdf = np.cumsum([PLATFORM_BEHAVIOUR[p]["region_weights"] for p in PLATFORMS], axis=1)
        region_cdf = region_cdf / region_cdf[:, -1:]
        self.region = np.minimum((rng.random(n)[:, None] >= region_cdf[self.plat]).sum(axis=1),
                                 len(REGIONS) - 1).astype(np.int8)
        # Users who joined before the period are already past their first days: their activity
        # starts decayed. The others join on a uniform day of the period and are active that day.
        existing = rng.random(n) < USER_ACTIVITY["existing_share"]
        self.join = np.where(existing, 0, rng.integers(0, self.run.days, n))
        self.age0 = np.where(existing, rng.integers(*USER_ACTIVITY["existing_age_days"], n, endpoint=True), 0)
        a = USER_ACTIVITY
        self.propensity = rng.beta(*a["propensity_beta"], n)
        self.floor = rng.beta(*a["floor_beta"], n)
        self.decay_days = rng.uniform(*a["decay_days_uniform"], n)
        self.extra_sessions = rng.gamma(*a["extra_sessions_gamma"], n)
        self.views_mean = a["views_per_session_scale"] * rng.lognormal(0.0, a["views_per_session_log_sd"], n)
        self.trait = rng.normal(0.0, a["engagement_trait_sd"], n)
        # Followed creators: a small set per user, skewed to popular creators of the user's platform.
        n_follow = np.minimum(rng.poisson(_platform_array("mean_follows")[self.plat]), MAX_FOLLOWS)
        f_user = np.repeat(np.arange(n), n_follow)
        f_creator = self._draw_creators(self.plat[f_user], np.zeros(len(f_user), np.int8), f_user,
                                        rng.random(len(f_user)))
        n_creators = len(self.run.world.creator_platform)
        pairs = np.unique(f_user.astype(np.int64) * n_creators + f_creator)
        self.follow_user, self.follow_creator = pairs // n_creators, pairs % n_creators
        self.n_follow = np.bincount(self.follow_user, minlength=n)
        self.follow_start = np.concatenate([[0], np.cumsum(self.n_follow)[:-1]])

    def _sessions(self) -> None:
        rng, n, days = self.rng_users, self.n, self.run.days
        age = np.arange(days)[None, :] - self.join[:, None] + self.age0[:, None]
        with np.errstate(over="ignore"):
            decay = np.exp(-np.maximum(age, 0) / self.decay_days[:, None])
        prob = self.propensity[:, None] * (self.floor[:, None] + (1 - self.floor[:, None]) * decay)
        prob = prob * self.run.day_boost[None, :]
        active = (age == 0) | ((age > 0) & (rng.random((n, days)) < prob))
        ud_user, ud_day = np.nonzero(active)  # sorted by user, then day
        n_sess = 1 + np.minimum(rng.poisson(self.extra_sessions[ud_user]), MAX_SESSIONS_PER_DAY - 1)
        s_ud = np.repeat(np.arange(len(ud_user)), n_sess)
        rank = np.arange(len(s_ud)) - np.repeat(np.cumsum(n_sess) - n_sess, n_sess)
        self.s_ud, self.s_user, self.s_day = s_ud, ud_user[s_ud], ud_day[s_ud]
        self.n_user_days = len(ud_user)
        first_day = np.full(n, -1, np.int64)
        users, first = np.unique(ud_user, return_index=True)
        first_day[users] = ud_day[first]
        self.s_first = (rank == 0) & (self.s_day == first_day[self.s_user])
        dispersion = rng.gamma(2.0, 0.5, len(s_ud))
        self.s_views = 1 + np.minimum(rng.poisson(self.views_mean[self.s_user] * dispersion),
                                      MAX_VIEWS_PER_SESSION - 1)

    # -- views: traffic source, creator, video; a user sees a video at most once
    def _draw_creators(self, plat: np.ndarray, source: np.ndarray, user: np.ndarray, u: np.ndarray) -> np.ndarray:
        world = self.run.world
        creator = np.empty(len(u), dtype=np.int64)
        for p in range(2):
            for kind, cum in ((_RECOMMEND, world.cum_recommend[p]), (_SEARCH, world.cum_search[p])):
                mask = (plat == p) & ((source == _SEARCH) if kind == _SEARCH else (source != _SEARCH))
                creator[mask] = world.platform_creators[p][_pick(cum, u[mask])]
        follow = source == _FOLLOW
        if follow.any():
            fu = user[follow]
            k = np.minimum((u[follow] * self.n_follow[fu]).astype(np.int64), self.n_follow[fu] - 1)
            creator[follow] = self.follow_creator[self.follow_start[fu] + k]
        return creator

    def _draw_videos(self, idx: np.ndarray) -> None:
        world, rng = self.run.world, self.rng_views
        creator = self._draw_creators(self.plat[self.v_user[idx]], self.v_source[idx], self.v_user[idx],
                                      rng.random(len(idx)))
        offset = (rng.random(len(idx)) * world.creator_videos[creator]).astype(np.int64)
        self.v_creator[idx] = creator
        self.v_video[idx] = world.creator_video_start[creator] + np.minimum(offset, world.creator_videos[creator] - 1)

    def _views(self) -> None:
        rng = self.rng_views
        v_session = np.repeat(np.arange(len(self.s_user)), self.s_views)
        self.v_user = self.s_user[v_session]
        plat = self.plat[self.v_user]
        mix = np.cumsum([[PLATFORM_BEHAVIOUR[p]["traffic_mix"][t] for t in TRAFFIC_SOURCES] for p in PLATFORMS],
                        axis=1)
        source = np.minimum((rng.random(len(v_session))[:, None] >= mix[plat]).sum(axis=1), 3).astype(np.int8)
        source[(source == _FOLLOW) & (self.n_follow[self.v_user] == 0)] = _RECOMMEND
        self.v_source = source
        self.v_creator = np.empty(len(v_session), np.int64)
        self.v_video = np.empty(len(v_session), np.int64)
        self._draw_videos(np.arange(len(v_session)))
        # Views are in time order (user, day, session, position); later repeats of a (user, video)
        # pair are redrawn, after a few rounds as recommend traffic, and dropped if still repeated.
        key = self.v_user.astype(np.int64) * len(self.run.world.video_duration)
        for round_ in range(_DEDUPE_ROUNDS):
            repeated = np.flatnonzero(_repeated(key + self.v_video))
            if len(repeated) == 0:
                break
            if round_ >= _SOURCE_SWITCH_ROUND:
                self.v_source[repeated] = _RECOMMEND
            self._draw_videos(repeated)
        keep = ~_repeated(key + self.v_video)
        self.v_session = v_session[keep]
        for name in ("v_user", "v_source", "v_creator", "v_video"):
            setattr(self, name, getattr(self, name)[keep])
        # Sessions left without any event are dropped (their user-day keeps its other sessions).
        has_views = np.bincount(self.v_session, minlength=len(self.s_user)) > 0
        keep_s = has_views | (self.s_first & (self.n_follow[self.s_user] > 0))
        new_index = np.cumsum(keep_s) - 1
        self.v_session = new_index[self.v_session]
        for name in ("s_ud", "s_user", "s_day", "s_first"):
            setattr(self, name, getattr(self, name)[keep_s])
        self.v_day = self.s_day[self.v_session]

    # -- engagement, drawn before and independently of the purchase
    def _engagement(self) -> None:
        rng, world = self.rng_engage, self.run.world
        n = len(self.v_user)
        plat = self.plat[self.v_user]
        quality = world.creator_quality[self.v_creator]
        trait = self.trait[self.v_user]
        n_creators = len(world.creator_platform)
        follow_keys = self.follow_user * n_creators + self.follow_creator  # sorted
        view_keys = self.v_user.astype(np.int64) * n_creators + self.v_creator
        pos = np.minimum(np.searchsorted(follow_keys, view_keys), max(len(follow_keys) - 1, 0))
        self.v_follows = (follow_keys[pos] == view_keys) if len(follow_keys) else np.zeros(n, bool)
        follows = self.v_follows.astype(np.float64)
        duration = world.video_duration[self.v_video]

        def draw(event: str, intercept: np.ndarray, extra: np.ndarray | float = 0.0) -> np.ndarray:
            slope = ENGAGEMENT_SLOPES[event]
            logit = (intercept + slope["creator_quality"] * quality + slope["user_trait"] * trait
                     + slope["follows_creator"] * follows + extra)
            return rng.random(n) < expit(logit)

        self.v_completed = draw("completed", _platform_array("completion_intercept")[plat],
                                COMPLETION_DURATION_SLOPE * np.log(duration / 25.0))
        partial = np.round(duration * rng.beta(1.3, 2.6, n), 3)
        self.v_watch = np.where(self.v_completed, duration, np.clip(partial, 0.3, duration - 0.5))
        completed = self.v_completed.astype(np.float64)
        for event, key in (("liked", "like_intercept"), ("commented", "comment_intercept"),
                           ("shared", "share_intercept")):
            setattr(self, f"v_{event}",
                    draw(event, _platform_array(key)[plat], ENGAGEMENT_SLOPES[event]["completed"] * completed))

    # -- experiment: the variant and which views are treated
    def _treatment(self) -> None:
        self.user_ids = np.arange(self.lo, self.lo + self.n, dtype=np.int64) + 1
        self.variant = variant_of(self.user_ids, self.run.seed)
        # Sessions never straddle midnight and assigned_at is the user's first event on/after the
        # start day, so a view is at/after assigned_at exactly when its day is >= the start day.
        self.v_post = self.v_day >= self.run.experiment_day
        self.v_treated = self.v_post & (self.variant[self.v_user] == 1)

    # -- the planted purchase model, the funnel around it, revenue and refunds
    def _purchases(self) -> None:
        rng, world, b = self.rng_buy, self.run.world, PURCHASE_COEFFICIENTS
        plat = self.plat[self.v_user]
        eta = (b["intercept"] + b["liked"] * self.v_liked + b["commented"] * self.v_commented
               + b["shared"] * self.v_shared + b["watch_min"] * (self.v_watch / 60.0)
               + b["completed"] * self.v_completed + b["follows_creator"] * self.v_follows
               + b["platform_kuaishou"] * (plat == 1) + b["traffic_follow"] * (self.v_source == _FOLLOW)
               + b["traffic_search"] * (self.v_source == _SEARCH) + b["traffic_live"] * (self.v_source == _LIVE)
               + world.creator_effect[self.v_creator])
        n = len(eta)
        self.v_purchase = rng.random(n) < expit(eta + b["treated"] * self.v_treated)
        # Non-buyers drop off after the click, the cart or the checkout.
        click = self.v_purchase | (rng.random(n) < _platform_array("click_rate_non_buyer")[plat])
        cart = self.v_purchase | (click & (rng.random(n) < _platform_array("cart_rate_non_buyer_clicker")[plat]))
        checkout = self.v_purchase | (cart & (rng.random(n) < _platform_array("checkout_rate_non_buyer_cart")[plat]))
        self.v_click, self.v_cart, self.v_checkout = click, cart, checkout
        quantity = 1 + (rng.random(n)[:, None] >= np.cumsum(QUANTITY_PROBS)[:-1]).sum(axis=1)
        price = world.product_price[world.video_product[self.v_video]]
        self.v_revenue = np.round(price * quantity, 2)
        self.v_refund = self.v_purchase & (rng.random(n) < _platform_array("refund_probability")[plat])
        self.v_refund_delay = rng.uniform(1.0, 7.0, n) * _DAY

        # Per user, both arms: P(>= 1 purchase) and expected revenue over the views on/after the start day.
        post = self.v_post
        users = self.v_user[post]
        expected_revenue = price[post] * EXPECTED_QUANTITY
        self.user_expected = np.empty((4, self.n))
        for arm in (0, 1):
            p = expit(eta[post] + b["treated"] * arm)
            self.user_expected[arm] = -np.expm1(np.bincount(users, weights=np.log1p(-p), minlength=self.n))
            self.user_expected[2 + arm] = np.bincount(users, weights=p * expected_revenue, minlength=self.n)
        self.run.sums.user_video_rows += n
        self.run.sums.user_video_purchases += int(self.v_purchase.sum())

    # -- timestamps: view spans, session durations, session starts inside the UTC day
    def _times(self) -> None:
        rng = self.rng_time
        n = len(self.v_user)
        sec = float(_SECOND)
        watch = np.round(self.v_watch * sec).astype(np.int64)
        live = (self.v_source == _LIVE).astype(np.int64) * _SECOND
        self.o_click = np.round(rng.uniform(0.2, 0.95, n) * watch).astype(np.int64)
        self.o_cart = self.o_click + np.round(rng.uniform(5, 60, n) * sec).astype(np.int64)
        self.o_checkout = self.o_cart + np.round(rng.uniform(10, 90, n) * sec).astype(np.int64)
        self.o_purchase = self.o_checkout + np.round(rng.uniform(5, 60, n) * sec).astype(np.int64)
        self.o_engage = np.round(rng.uniform(0.05, 1.0, (n, 3)) * watch[:, None]).astype(np.int64) + 1
        gap = np.round(rng.uniform(1, 12, n) * sec).astype(np.int64)
        last = np.where(self.v_purchase, self.o_purchase,
                        np.where(self.v_checkout, self.o_checkout,
                                 np.where(self.v_cart, self.o_cart, np.where(self.v_click, self.o_click, 0))))
        span = live + np.maximum(watch, last) + gap
        n_s = len(self.s_user)
        preamble = np.where(self.s_first, 2 * _SECOND * self.n_follow[self.s_user], 0)
        excl = np.cumsum(span) - span  # span-sum of earlier views
        first_view = np.searchsorted(self.v_session, np.arange(n_s))
        base = excl[np.minimum(first_view, max(n - 1, 0))] if n else np.zeros(n_s, np.int64)
        self.view_offset = excl - base[self.v_session] + preamble[self.v_session]
        duration = preamble + np.bincount(self.v_session, weights=span, minlength=n_s).astype(np.int64)
        self.s_start = self._session_starts(duration)
        self.v_start = self.s_start[self.v_session] + self.view_offset  # live_enter, or the view itself
        self.v_time = self.v_start + live
        self.t_purchase = self.v_time + self.o_purchase
        self.t_refund = self.t_purchase + np.round(self.v_refund_delay).astype(np.int64)
        # Refunds after the end of the period are not in the export.
        self.v_refund &= self.t_refund < self.run.end_us

    def _session_starts(self, duration: np.ndarray) -> np.ndarray:
        """Absolute session starts (µs): in generation order, non-overlapping, inside the UTC day.

        Sessions of a user-day are laid out back to back with ``_SESSION_GAP`` between them, shifted
        by sorted points drawn from the diurnal profile and scaled to the day's free time; the caps
        on sessions, views and view spans keep the busy time well under 24 h.
        """
        rng = self.rng_time
        n_ud = self.n_user_days
        busy = np.bincount(self.s_ud, weights=duration + _SESSION_GAP, minlength=n_ud).astype(np.int64)
        free = _DAY - busy  # the last session needs no gap after it, a 5-minute margin remains
        hour_cdf = np.concatenate([[0.0], np.cumsum(_HOUR_WEIGHTS) / _HOUR_WEIGHTS.sum()])
        u = rng.random(len(duration))
        order = np.lexsort((u, self.s_ud))  # sessions are grouped by user-day: sort u within groups
        bin_ = np.minimum(np.searchsorted(hour_cdf, u[order], side="right") - 1, 23)
        fraction = (bin_ + (u[order] - hour_cdf[bin_]) / (hour_cdf[bin_ + 1] - hour_cdf[bin_])) / 24.0
        point = np.floor(fraction * free[self.s_ud]).astype(np.int64)
        before = np.cumsum(duration + _SESSION_GAP) - (duration + _SESSION_GAP)
        group_first = np.searchsorted(self.s_ud, self.s_ud)
        offset = point + before - before[group_first]
        return self.run.start_us + self.s_day.astype(np.int64) * _DAY + offset

    # -- assignment: the first event on/after the start day (a session start, or a refund)
    def _assignment(self) -> None:
        run = self.run
        exp_start = run.start_us + run.experiment_day * _DAY
        never = np.iinfo(np.int64).max
        assigned_at = np.full(self.n, never, np.int64)
        post_sessions = self.s_day >= run.experiment_day
        # sessions are in time order per user, so the first post session per user is the earliest
        users, first = np.unique(self.s_user[post_sessions], return_index=True)
        assigned_at[users] = self.s_start[post_sessions][first]
        late_refund = self.v_refund & (self.t_refund >= exp_start)
        np.minimum.at(assigned_at, self.v_user[late_refund], self.t_refund[late_refund])
        self.assigned_at = assigned_at
        assigned = assigned_at < never

        post = self.v_post
        users = self.v_user[post]
        bought = np.bincount(users, weights=self.v_purchase[post], minlength=self.n) > 0
        revenue = np.bincount(users, weights=np.where(self.v_purchase[post], self.v_revenue[post], 0.0),
                              minlength=self.n)
        sums = run.sums
        sums.expected += self.user_expected[:, assigned].sum(axis=1)
        for arm in (0, 1):
            in_arm = assigned & (self.variant == arm)
            sums.assigned[arm] += int(in_arm.sum())
            sums.converted[arm] += int((bought & in_arm).sum())
            sums.revenue[arm] += float(revenue[in_arm].sum())

    # -- event rows
    def _events(self) -> tuple[_Rows, pa.Table]:
        run, world = self.run, self.run.world
        n_s = len(self.s_user)
        session_no = run.session_base + np.arange(n_s, dtype=np.int64)
        run.session_base += n_s
        purchase_idx = np.flatnonzero(self.v_purchase)
        order_no = np.full(len(self.v_user), -1, np.int64)
        order_no[purchase_idx] = run.order_base + np.arange(len(purchase_idx))
        run.order_base += len(purchase_idx)
        product = world.video_product[self.v_video]
        cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                             ("t", "user", "name", "session", "video", "creator", "product",
                                              "order", "revenue", "watch", "source")}

        def add(mask: np.ndarray, t: np.ndarray, name: str, *, with_video: bool = True, order: bool = False,
                revenue: bool = False, watch: bool = False) -> None:
            idx = np.flatnonzero(mask)
            k = len(idx)
            cols["t"].append(t[idx])
            cols["user"].append(self.v_user[idx])
            cols["name"].append(np.full(k, _EV[name], np.int8))
            cols["session"].append(session_no[self.v_session[idx]] if name != "refund" else np.full(k, -1))
            cols["video"].append(self.v_video[idx] if with_video else np.full(k, -1))
            cols["creator"].append(self.v_creator[idx])
            cols["product"].append(product[idx] if with_video else np.full(k, -1))
            cols["order"].append(order_no[idx] if order else np.full(k, -1))
            cols["revenue"].append(self.v_revenue[idx] if revenue else np.full(k, np.nan))
            cols["watch"].append(self.v_watch[idx] if watch else np.full(k, np.nan))
            cols["source"].append(self.v_source[idx])

        every = np.ones(len(self.v_user), bool)
        add(self.v_source == _LIVE, self.v_start, "live_enter", with_video=False)
        add(every, self.v_time, "video_view", watch=True)
        add(self.v_completed, self.v_time + np.round(self.v_watch * _SECOND).astype(np.int64), "video_complete")
        for j, (flag, name) in enumerate(((self.v_liked, "like"), (self.v_commented, "comment"),
                                          (self.v_shared, "share"))):
            add(flag, self.v_time + self.o_engage[:, j], name)
        add(self.v_click, self.v_time + self.o_click, "product_click")
        add(self.v_cart, self.v_time + self.o_cart, "add_to_cart")
        add(self.v_checkout, self.v_time + self.o_checkout, "checkout")
        add(self.v_purchase, self.t_purchase, "purchase", order=True, revenue=True)
        add(self.v_refund, self.t_refund, "refund", order=True, revenue=True)

        # follow events open the user's first session, 2 s apart, before any view
        first_start = np.zeros(self.n, np.int64)
        first_session = np.full(self.n, -1, np.int64)
        first_start[self.s_user[self.s_first]] = self.s_start[self.s_first]
        first_session[self.s_user[self.s_first]] = session_no[self.s_first]
        rank = np.arange(len(self.follow_user)) - self.follow_start[self.follow_user]
        shown = first_session[self.follow_user] >= 0  # users never active in the period show no follows
        fu, rank = self.follow_user[shown], rank[shown]
        k = len(fu)
        none = np.full(k, -1, np.int64)
        for key, values in (("t", first_start[fu] + 2 * _SECOND * rank), ("user", fu),
                            ("name", np.full(k, _EV["follow"], np.int8)), ("session", first_session[fu]),
                            ("video", none), ("creator", self.follow_creator[shown]), ("product", none),
                            ("order", none),
                            ("revenue", np.full(k, np.nan)), ("watch", np.full(k, np.nan)),
                            ("source", np.full(k, -1, np.int8))):
            cols[key].append(values)

        c = {key: np.concatenate(parts) for key, parts in cols.items()}
        self._count(c)
        rows = _Rows(columns=c, user_ids=self.user_ids, platform=self.plat, device=self.device, region=self.region)
        return rows, self._assignments_table()

    def _assignments_table(self) -> pa.Table:
        assigned = np.flatnonzero(self.assigned_at < np.iinfo(np.int64).max)
        at = self.assigned_at[assigned]
        return pa.table({
            "experiment_id": pa.array([EXPERIMENT_ID] * len(assigned), pa.string()),
            "user_id": self.user_ids[assigned],
            "variant": pa.array(VARIANTS).take(pa.array(self.variant[assigned])),
            "assigned_at": pa.array(at, pa.int64()).view(pa.timestamp("us", tz="UTC")),
        }, schema=ASSIGNMENTS_SCHEMA)

    def _count(self, c: dict[str, np.ndarray]) -> None:
        sums = self.run.sums
        sums.events_by_name += np.bincount(c["name"], minlength=len(EVENT_NAMES))
        plat = self.plat[c["user"]]
        for name in EVENT_NAMES:
            sums.add_platform(name, np.bincount(plat[c["name"] == _EV[name]], minlength=2))
        is_purchase = c["name"] == _EV["purchase"]
        sums.add_platform("gmv", np.bincount(plat[is_purchase], weights=c["revenue"][is_purchase], minlength=2))
        sums.add_platform("users", np.bincount(self.plat, minlength=2))
        active = np.bincount(c["user"], minlength=self.n) > 0
        sums.add_platform("active_users", np.bincount(self.plat[active], minlength=2))


def _repeated(key: np.ndarray) -> np.ndarray:
    """True where ``key`` equals the key of an earlier position."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    flags = np.zeros(len(key), bool)
    flags[order[1:][sorted_key[1:] == sorted_key[:-1]]] = True
    return flags


@dataclass
class _Rows:
    """A chunk's events as unsorted numpy columns (indices into users and the world), not yet strings."""

    columns: dict[str, np.ndarray]
    user_ids: np.ndarray
    platform: np.ndarray
    device: np.ndarray
    region: np.ndarray

    def to_table(self, ids: _IdFormats, start_us: int) -> tuple[pa.Table, np.ndarray]:
        """The Arrow table ordered by day, user and time, and each row's day index."""
        c = self.columns
        day = (c["t"] - start_us) // _DAY
        # Rows ordered by day, user, time: good compression, and each day is one contiguous slice.
        sort_key = (day * len(self.user_ids) + c["user"]) * _DAY + (c["t"] - start_us - day * _DAY)
        order = np.argsort(sort_key, kind="stable")
        c = {key: v[order] for key, v in c.items()}
        user = c["user"]
        table = pa.table({
            "event_time": pa.array(c["t"], pa.int64()).view(pa.timestamp("us", tz="UTC")),
            "user_id": self.user_ids[user],
            "event_name": pa.array(EVENT_NAMES).take(pa.array(c["name"])),
            "session_id": ids.format("s", c["session"]),
            "video_id": ids.lookup("v", c["video"]),
            "creator_id": ids.lookup("c", c["creator"]),
            "product_id": ids.lookup("p", c["product"]),
            "order_id": ids.format("o", c["order"]),
            "revenue": pa.array(c["revenue"], mask=np.isnan(c["revenue"])),
            "watch_time_s": pa.array(c["watch"], mask=np.isnan(c["watch"])),
            "platform": pa.array(PLATFORMS).take(pa.array(self.platform[user])),
            "traffic_source": pa.array(TRAFFIC_SOURCES).take(pa.array(c["source"], mask=c["source"] < 0)),
            "device": pa.array(DEVICES).take(pa.array(self.device[user])),
            "region": pa.array(REGIONS).take(pa.array(self.region[user])),
        }, schema=EVENTS_SCHEMA)
        return table, day[order]
