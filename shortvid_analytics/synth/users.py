"""The first stage of a chunk's event process: its users' traits, followed creators, active days and sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .parameters import (
    FOLLOW,
    MAX_FOLLOWS,
    MAX_SESSIONS_PER_DAY,
    MAX_VIEWS_PER_SESSION,
    PLATFORM_BEHAVIOUR,
    PLATFORMS,
    RECOMMEND,
    REGIONS,
    SEARCH,
    USER_ACTIVITY,
    platform_array,
)
from .world import pick

if TYPE_CHECKING:
    from .generator import Run


class UserStage:
    """Users ``lo .. hi-1`` of one chunk: platform, device, region, activity over the days, the sessions
    of each active day and the creators each user follows.

    Each stage draws from its own child stream of ``SeedSequence(seed, spawn_key=(1, chunk))``, so
    changing one stage does not shift the others.
    """

    def __init__(self, run: Run, chunk: int, lo: int, hi: int) -> None:
        self.run, self.lo, self.n = run, lo, hi - lo
        streams = np.random.SeedSequence(run.seed, spawn_key=(1, chunk)).spawn(5)
        self.rng_users, self.rng_views, self.rng_engage, self.rng_buy, self.rng_time = (
            np.random.default_rng(s) for s in streams)

    def _users(self) -> None:
        """Traits of each user, their join day and decaying activity, and the creators they follow."""
        rng, n = self.rng_users, self.n
        self.plat = (rng.random(n) >= PLATFORM_BEHAVIOUR["douyin"]["user_share"]).astype(np.int8)
        self.device = (rng.random(n) >= platform_array("ios_share")[self.plat]).astype(np.int8)
        region_cdf = np.cumsum([PLATFORM_BEHAVIOUR[p]["region_weights"] for p in PLATFORMS], axis=1)
        region_cdf = region_cdf / region_cdf[:, -1:]
        self.region = np.minimum((rng.random(n)[:, None] >= region_cdf[self.plat]).sum(axis=1),
                                 len(REGIONS) - 1).astype(np.int8)
        # Users who joined before the period are already past their first days: their activity
        # starts decayed. The others join on a uniform day of the period and are active that day.
        existing = rng.random(n) < USER_ACTIVITY["existing_share"]
        self.join = np.where(existing, 0, rng.integers(0, self.run.days, n))
        a = USER_ACTIVITY
        youngest, oldest = a["existing_age_days"]
        self.age0 = np.where(existing, rng.integers(youngest, oldest, n, endpoint=True), 0)
        self.propensity = rng.beta(a["propensity_beta"][0], a["propensity_beta"][1], n)
        self.floor = rng.beta(a["floor_beta"][0], a["floor_beta"][1], n)
        self.decay_days = rng.uniform(a["decay_days_uniform"][0], a["decay_days_uniform"][1], n)
        self.extra_sessions = rng.gamma(a["extra_sessions_gamma"][0], a["extra_sessions_gamma"][1], n)
        self.views_mean = a["views_per_session_scale"] * rng.lognormal(0.0, a["views_per_session_log_sd"], n)
        self.trait = rng.normal(0.0, a["engagement_trait_sd"], n)
        # Followed creators: a small set per user, skewed to popular creators of the user's platform.
        n_follow = np.minimum(rng.poisson(platform_array("mean_follows")[self.plat]), MAX_FOLLOWS)
        f_user = np.repeat(np.arange(n), n_follow)
        f_creator = self._draw_creators(self.plat[f_user], np.zeros(len(f_user), np.int8), f_user,
                                        rng.random(len(f_user)))
        n_creators = len(self.run.world.creator_platform)
        pairs = np.unique(f_user.astype(np.int64) * n_creators + f_creator)
        self.follow_user, self.follow_creator = pairs // n_creators, pairs % n_creators
        self.n_follow = np.bincount(self.follow_user, minlength=n)
        self.follow_start = np.concatenate([[0], np.cumsum(self.n_follow)[:-1]])

    def _sessions(self) -> None:
        """The active days of each user and the sessions (with their number of views) of each."""
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

    def _draw_creators(self, plat: np.ndarray, source: np.ndarray, user: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A creator per draw: by popularity for recommend traffic, by its square root for search, one of the
        user's followed creators for follow traffic."""
        world = self.run.world
        creator = np.empty(len(u), dtype=np.int64)
        for p in range(2):
            for kind, cum in ((RECOMMEND, world.cum_recommend[p]), (SEARCH, world.cum_search[p])):
                mask = (plat == p) & ((source == SEARCH) if kind == SEARCH else (source != SEARCH))
                creator[mask] = world.platform_creators[p][pick(cum, u[mask])]
        follow = source == FOLLOW
        if follow.any():
            fu = user[follow]
            k = np.minimum((u[follow] * self.n_follow[fu]).astype(np.int64), self.n_follow[fu] - 1)
            creator[follow] = self.follow_creator[self.follow_start[fu] + k]
        return creator
