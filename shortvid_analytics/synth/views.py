"""The second stage: each session's views (traffic source, creator, video; a user sees a video at most
once) and the engagement with each view, drawn before and independently of the purchase."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from .parameters import (
    COMPLETION_DURATION_SLOPE,
    DEDUPE_ROUNDS,
    ENGAGEMENT_SLOPES,
    FOLLOW,
    PLATFORM_BEHAVIOUR,
    PLATFORMS,
    RECOMMEND,
    SOURCE_SWITCH_ROUND,
    TRAFFIC_SOURCES,
    platform_array,
)
from .users import UserStage


class ViewStage(UserStage):
    """Adds the views (``v_*`` arrays, in time order) and their engagement flags and watch times."""

    def _draw_videos(self, idx: np.ndarray) -> None:
        """Creator and video of the views ``idx``, a video uniformly among the creator's."""
        world, rng = self.run.world, self.rng_views
        creator = self._draw_creators(self.plat[self.v_user[idx]], self.v_source[idx], self.v_user[idx],
                                      rng.random(len(idx)))
        offset = (rng.random(len(idx)) * world.creator_videos[creator]).astype(np.int64)
        self.v_creator[idx] = creator
        self.v_video[idx] = world.creator_video_start[creator] + np.minimum(offset, world.creator_videos[creator] - 1)

    def _views(self) -> None:
        """Every session's views, with their traffic source; a user sees a video at most once."""
        rng = self.rng_views
        v_session = np.repeat(np.arange(len(self.s_user)), self.s_views)
        self.v_user = self.s_user[v_session]
        plat = self.plat[self.v_user]
        mix = np.cumsum([[PLATFORM_BEHAVIOUR[p]["traffic_mix"][t] for t in TRAFFIC_SOURCES] for p in PLATFORMS],
                        axis=1)
        source = np.minimum((rng.random(len(v_session))[:, None] >= mix[plat]).sum(axis=1), 3).astype(np.int8)
        source[(source == FOLLOW) & (self.n_follow[self.v_user] == 0)] = RECOMMEND
        self.v_source = source
        self.v_creator = np.empty(len(v_session), np.int64)
        self.v_video = np.empty(len(v_session), np.int64)
        self._draw_videos(np.arange(len(v_session)))
        # Views are in time order (user, day, session, position); later repeats of a (user, video)
        # pair are redrawn, after a few rounds as recommend traffic, and dropped if still repeated.
        key = self.v_user.astype(np.int64) * len(self.run.world.video_duration)
        for round_ in range(DEDUPE_ROUNDS):
            repeated = np.flatnonzero(repeats_earlier(key + self.v_video))
            if len(repeated) == 0:
                break
            if round_ >= SOURCE_SWITCH_ROUND:
                self.v_source[repeated] = RECOMMEND
            self._draw_videos(repeated)
        keep = ~repeats_earlier(key + self.v_video)
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

    def _engagement(self) -> None:
        """Completion, watch time, likes, comments and shares of each view."""
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

        self.v_completed = draw("completed", platform_array("completion_intercept")[plat],
                                COMPLETION_DURATION_SLOPE * np.log(duration / 25.0))
        partial = np.round(duration * rng.beta(1.3, 2.6, n), 3)
        self.v_watch = np.where(self.v_completed, duration, np.clip(partial, 0.3, duration - 0.5))
        completed = self.v_completed.astype(np.float64)
        self.v_liked = draw("liked", platform_array("like_intercept")[plat],
                            ENGAGEMENT_SLOPES["liked"]["completed"] * completed)
        self.v_commented = draw("commented", platform_array("comment_intercept")[plat],
                                ENGAGEMENT_SLOPES["commented"]["completed"] * completed)
        self.v_shared = draw("shared", platform_array("share_intercept")[plat],
                             ENGAGEMENT_SLOPES["shared"]["completed"] * completed)


def repeats_earlier(key: np.ndarray) -> np.ndarray:
    """True where ``key`` equals the key of an earlier position."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    flags = np.zeros(len(key), bool)
    flags[order[1:][sorted_key[1:] == sorted_key[:-1]]] = True
    return flags
