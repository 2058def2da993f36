"""The world all users share: creators on two platforms, their videos, and the products the videos show.

Drawn first, from ``SeedSequence(seed, spawn_key=(0,))``: creators with Pareto (heavy-tailed, KOL)
popularity and an independent random effect on purchase, videos per creator, products with
log-normal prices. Also the experiment's variant of a user, a hash of the seed and the user id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .parameters import CREATOR_EFFECT_SD, CREATOR_PARETO_ALPHA, PLATFORM_BEHAVIOUR, VIDEO_SECONDS, platform_array


@dataclass
class World:
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
    def build(cls, users: int, days: int, rng: np.random.Generator) -> World:
        n_creators = max(100, users // 20)
        platform = (rng.random(n_creators) >= PLATFORM_BEHAVIOUR["douyin"]["user_share"]).astype(np.int8)
        platform[:2] = (0, 1)  # both platforms always have creators
        # KOL effect: a few creators get much of the traffic
        popularity = rng.pareto(CREATOR_PARETO_ALPHA, n_creators) + 1.0
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
        median = platform_array("price_median")[product_platform]
        log_sd = platform_array("price_log_sd")[product_platform]
        # Prices end in .9 like real shop prices: e.g. 68.9.
        price = np.maximum(np.round(median * np.exp(rng.normal(0.0, 1.0, n_products) * log_sd)), 2.0) - 0.1
        bestseller = rng.lognormal(0.0, 1.0, n_products)
        video_platform = platform[video_creator]
        video_product = np.empty(n_video_total, dtype=np.int64)
        u = rng.random(n_video_total)
        for p in range(2):
            products = np.flatnonzero(product_platform == p)
            video_product[video_platform == p] = products[pick(np.cumsum(bestseller[products]),
                                                                u[video_platform == p])]
        creators = [np.flatnonzero(platform == p) for p in range(2)]
        return cls(
            creator_platform=platform, creator_share=share, creator_quality=quality, creator_effect=effect,
            creator_video_start=video_start, creator_videos=n_videos, video_duration=duration,
            video_product=video_product, product_price=price, platform_creators=creators,
            cum_recommend=[np.cumsum(popularity[c]) for c in creators],
            cum_search=[np.cumsum(np.sqrt(popularity[c])) for c in creators],
        )


def pick(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
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
