"""The event process of one chunk of users, stage by stage (:mod:`.users`, :mod:`.views`,
:mod:`.purchases`, :mod:`.timing`), and the event rows it ends in.

Users are simulated in chunks (each from ``SeedSequence(seed, spawn_key=(1, chunk))``): one platform
each, a join day, a daily activity propensity decaying with age, sessions of views, a fixed set of
followed creators, engagement drawn first, then the purchase from the planted logistic model on the
``user_video`` unit, then the funnel events, refunds and timestamps.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .parameters import EVENT_CODE, EVENT_NAMES, EXPERIMENT_ID, LIVE, SECOND, VARIANTS
from .timing import TimingStage
from .writer import ASSIGNMENTS_SCHEMA, Rows


class Chunk(TimingStage):
    """Simulate users ``lo .. hi-1`` over every day; returns their events, day index and assignments."""

    def simulate(self) -> tuple[Rows, pa.Table]:
        """Run the stages in order; the chunk's event rows and its assignments table."""
        self._users()
        self._sessions()
        self._views()
        self._engagement()
        self._treatment()
        self._purchases()
        self._times()
        self._assignment()
        return self._events()

    def _events(self) -> tuple[Rows, pa.Table]:
        """The event rows of every view and follow, counted into the run's tally."""
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
            cols["name"].append(np.full(k, EVENT_CODE[name], np.int8))
            cols["session"].append(session_no[self.v_session[idx]] if name != "refund" else np.full(k, -1))
            cols["video"].append(self.v_video[idx] if with_video else np.full(k, -1))
            cols["creator"].append(self.v_creator[idx])
            cols["product"].append(product[idx] if with_video else np.full(k, -1))
            cols["order"].append(order_no[idx] if order else np.full(k, -1))
            cols["revenue"].append(self.v_revenue[idx] if revenue else np.full(k, np.nan))
            cols["watch"].append(self.v_watch[idx] if watch else np.full(k, np.nan))
            cols["source"].append(self.v_source[idx])

        every = np.ones(len(self.v_user), bool)
        add(self.v_source == LIVE, self.v_start, "live_enter", with_video=False)
        add(every, self.v_time, "video_view", watch=True)
        add(self.v_completed, self.v_time + np.round(self.v_watch * SECOND).astype(np.int64), "video_complete")
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
        for key, values in (("t", first_start[fu] + 2 * SECOND * rank), ("user", fu),
                            ("name", np.full(k, EVENT_CODE["follow"], np.int8)), ("session", first_session[fu]),
                            ("video", none), ("creator", self.follow_creator[shown]), ("product", none),
                            ("order", none),
                            ("revenue", np.full(k, np.nan)), ("watch", np.full(k, np.nan)),
                            ("source", np.full(k, -1, np.int8))):
            cols[key].append(values)

        c = {key: np.concatenate(parts) for key, parts in cols.items()}
        self._count(c)
        rows = Rows(columns=c, user_ids=self.user_ids, platform=self.plat, device=self.device, region=self.region)
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
            sums.add_platform(name, np.bincount(plat[c["name"] == EVENT_CODE[name]], minlength=2))
        is_purchase = c["name"] == EVENT_CODE["purchase"]
        sums.add_platform("gmv", np.bincount(plat[is_purchase], weights=c["revenue"][is_purchase], minlength=2))
        sums.add_platform("users", np.bincount(self.plat, minlength=2))
        active = np.bincount(c["user"], minlength=self.n) > 0
        sums.add_platform("active_users", np.bincount(self.plat[active], minlength=2))
