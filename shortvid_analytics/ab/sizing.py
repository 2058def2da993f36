"""Sample sizing before an experiment: users per variant for a lift, or the lift a number of users can see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from ..errors import OptionError
from ..results import AnalysisResult
from . import stats


@dataclass
class PowerResult(AnalysisResult):
    """Result of ``shortvid ab power``: users per variant for an MDE, or the MDE for a number of users."""

    kind = "ab_power"
    metric_type: str = "proportion"
    baseline: float = 0.0
    mde: float | None = None
    mde_absolute: float | None = None
    users_per_variant: int | None = None
    total_users: int | None = None
    variants: int = 2
    alpha: float = 0.05
    power: float = 0.8
    sd: float | None = None
    solved_for: str = "users"

    def body(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("solved_for", "metric_type", "baseline", "sd", "mde", "mde_absolute",
                                               "alpha", "power", "variants", "users_per_variant", "total_users")}

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([self.body()])


def power(
    baseline: float,
    *,
    mde: float | None = None,
    users: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    sd: float | None = None,
) -> PowerResult:
    """Users per variant to detect relative lift ``mde``, or the relative MDE with ``users`` per variant.

    Proportions when ``sd`` is None (``baseline`` is a rate in (0, 1)), else means with per-user
    standard deviation ``sd``. Two-sided test at ``alpha``; no correction for several variants
    (pass a Bonferroni ``alpha`` for that).
    """
    _check_power_options(baseline, mde=mde, users=users, alpha=alpha, power=power, variants=variants, sd=sd)
    result = PowerResult(
        params={"baseline": baseline, "mde": mde, "users": users, "alpha": alpha, "power": power,
                "variants": variants, "sd": sd},
        metric_type="proportion" if sd is None else "mean",
        baseline=baseline, variants=variants, alpha=alpha, power=power, sd=sd,
    )
    if mde is not None:
        result.solved_for = "users"
        result.mde = mde
        result.users_per_variant = stats.users_per_variant(baseline, mde, alpha, power, sd)
    else:
        assert users is not None
        result.solved_for = "mde"
        result.users_per_variant = users
        result.mde = stats.minimum_detectable_effect(baseline, users, alpha, power, sd)
        if result.mde is None:
            raise OptionError(f"--users {users}: too few users per variant to reach power {power} at any lift")
    result.mde_absolute = baseline * result.mde
    result.total_users = result.users_per_variant * variants
    return result


def _check_power_options(baseline: float, *, mde: float | None, users: int | None, alpha: float, power: float,
                         variants: int, sd: float | None) -> None:
    """Refuse a question that has no answer, naming the option, before solving it."""
    if (mde is None) == (users is None):
        raise OptionError("give exactly one of --mde (to get users per variant) or --users (to get the MDE)")
    _check_test(alpha, power, variants)
    if sd is None and not 0 < baseline < 1:
        raise OptionError(f"--baseline {baseline}: expected a conversion rate between 0 and 1 (or give --sd for "
                          f"a mean metric)")
    if sd is not None and (sd <= 0 or baseline == 0):
        raise OptionError(f"--sd {sd} / --baseline {baseline}: expected sd > 0 and a non-zero baseline mean")
    if mde is not None and (mde <= 0 or (sd is None and baseline * (1 + mde) >= 1)):
        raise OptionError(f"--mde {mde}: expected a positive relative lift (0.05 = +5%) keeping the rate below 1")
    if users is not None and users < 2:
        raise OptionError(f"--users {users}: expected at least 2 users per variant")


def _check_test(alpha: float, power: float, variants: int) -> None:
    """The planned test: its level and power are probabilities, and it compares at least two variants."""
    if not 0 < alpha < 1:
        raise OptionError(f"--alpha {alpha}: expected a number between 0 and 1")
    if not 0 < power < 1:
        raise OptionError(f"--power {power}: expected a number between 0 and 1")
    if variants < 2:
        raise OptionError(f"--variants {variants}: expected at least 2 (control and one treatment)")
