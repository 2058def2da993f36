"""The fourth stage: timestamps (view spans, session durations, session starts inside the UTC day) and
the experiment's assignment at each user's first event on/after its start day."""

from __future__ import annotations

import numpy as np

from .parameters import DAY, HOUR_WEIGHTS, LIVE, SECOND, SESSION_GAP
from .purchases import PurchaseStage


class TimingStage(PurchaseStage):
    """Adds every event's time and each user's assignment, and adds the arms' sums to the run's tally."""

    def _times(self) -> None:
        """The time of every event: view spans, session durations, session starts inside the UTC day."""
        rng = self.rng_time
        n = len(self.v_user)
        sec = float(SECOND)
        watch = np.round(self.v_watch * sec).astype(np.int64)
        live = (self.v_source == LIVE).astype(np.int64) * SECOND
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
        preamble = np.where(self.s_first, 2 * SECOND * self.n_follow[self.s_user], 0)
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

        Sessions of a user-day are laid out back to back with ``SESSION_GAP`` between them, shifted
        by sorted points drawn from the diurnal profile and scaled to the day's free time; the caps
        on sessions, views and view spans keep the busy time well under 24 h.
        """
        rng = self.rng_time
        n_ud = self.n_user_days
        busy = np.bincount(self.s_ud, weights=duration + SESSION_GAP, minlength=n_ud).astype(np.int64)
        free = DAY - busy  # the last session needs no gap after it, a 5-minute margin remains
        hour_cdf = np.concatenate([[0.0], np.cumsum(HOUR_WEIGHTS) / HOUR_WEIGHTS.sum()])
        u = rng.random(len(duration))
        order = np.lexsort((u, self.s_ud))  # sessions are grouped by user-day: sort u within groups
        bin_ = np.minimum(np.searchsorted(hour_cdf, u[order], side="right") - 1, 23)
        fraction = (bin_ + (u[order] - hour_cdf[bin_]) / (hour_cdf[bin_ + 1] - hour_cdf[bin_])) / 24.0
        point = np.floor(fraction * free[self.s_ud]).astype(np.int64)
        before = np.cumsum(duration + SESSION_GAP) - (duration + SESSION_GAP)
        group_first = np.searchsorted(self.s_ud, self.s_ud)
        offset = point + before - before[group_first]
        return self.run.start_us + self.s_day.astype(np.int64) * DAY + offset

    def _assignment(self) -> None:
        """Each user's assignment at the first event on/after the start day (a session start, or a refund)."""
        run = self.run
        exp_start = run.start_us + run.experiment_day * DAY
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
