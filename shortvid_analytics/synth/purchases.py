"""The third stage: the experiment's treatment of each view, then the planted purchase model, the funnel
around it, revenue and refunds."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from .parameters import (
    DAY,
    EXPECTED_QUANTITY,
    FOLLOW,
    LIVE,
    PURCHASE_COEFFICIENTS,
    QUANTITY_PROBS,
    SEARCH,
    platform_array,
)
from .views import ViewStage
from .world import variant_of


class PurchaseStage(ViewStage):
    """Adds each user's variant, the treated views, the purchase funnel flags, revenue and refunds, and
    each user's expected conversion and revenue under both arms."""

    def _treatment(self) -> None:
        """Each user's variant, and which views are treated (on/after the start day, in treatment)."""
        self.user_ids = np.arange(self.lo, self.lo + self.n, dtype=np.int64) + 1
        self.variant = variant_of(self.user_ids, self.run.seed)
        # Sessions never straddle midnight and assigned_at is the user's first event on/after the
        # start day, so a view is at/after assigned_at exactly when its day is >= the start day.
        self.v_post = self.v_day >= self.run.experiment_day
        self.v_treated = self.v_post & (self.variant[self.v_user] == 1)

    def _purchases(self) -> None:
        """The planted purchase logit of each view, the funnel around the purchase, revenue and refunds."""
        rng, world, b = self.rng_buy, self.run.world, PURCHASE_COEFFICIENTS
        plat = self.plat[self.v_user]
        eta = (b["intercept"] + b["liked"] * self.v_liked + b["commented"] * self.v_commented
               + b["shared"] * self.v_shared + b["watch_min"] * (self.v_watch / 60.0)
               + b["completed"] * self.v_completed + b["follows_creator"] * self.v_follows
               + b["platform_kuaishou"] * (plat == 1) + b["traffic_follow"] * (self.v_source == FOLLOW)
               + b["traffic_search"] * (self.v_source == SEARCH) + b["traffic_live"] * (self.v_source == LIVE)
               + world.creator_effect[self.v_creator])
        n = len(eta)
        self.v_purchase = rng.random(n) < expit(eta + b["treated"] * self.v_treated)
        # Non-buyers drop off after the click, the cart or the checkout.
        click = self.v_purchase | (rng.random(n) < platform_array("click_rate_non_buyer")[plat])
        cart = self.v_purchase | (click & (rng.random(n) < platform_array("cart_rate_non_buyer_clicker")[plat]))
        checkout = self.v_purchase | (cart & (rng.random(n) < platform_array("checkout_rate_non_buyer_cart")[plat]))
        self.v_click, self.v_cart, self.v_checkout = click, cart, checkout
        quantity = 1 + (rng.random(n)[:, None] >= np.cumsum(QUANTITY_PROBS)[:-1]).sum(axis=1)
        price = world.product_price[world.video_product[self.v_video]]
        self.v_revenue = np.round(price * quantity, 2)
        self.v_refund = self.v_purchase & (rng.random(n) < platform_array("refund_probability")[plat])
        self.v_refund_delay = rng.uniform(1.0, 7.0, n) * DAY

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
