"""Statistics of A/B experiments as small pure functions of per-variant sums (no I/O).

Everything here works on the sufficient statistics of one metric in one variant (:class:`Sums`):
the number of users ``n``, the sums of the per-user values and of their squares, and the
cross-products needed by ratio metrics (numerator × denominator) and CUPED (metric × pre-period
covariate). Whichever engine produced the sums, the numbers are the same.

The formulas follow GrowthBook's stats engine ``gbstats`` (0.8.0) so that the results can be
checked against it on identical inputs (``tests/reference/gbstats_fixtures.json``):

- per-user variance: ``p(1-p)`` for proportions (population form, as gbstats), the sample
  variance (``n-1``) for means, the delta-method variance for ratios;
- relative lift ``(m_b - m_a) / m_a`` with the delta-method variance
  ``v_b/(m_a² n_b) + v_a m_b²/(m_a⁴ n_a)`` (unadjusted means in the variance, as gbstats);
- frequentist relative CI with Student's t on the Welch–Satterthwaite degrees of freedom;
- Bayesian: Gaussian approximation of the relative lift with a flat (improper) prior, so the
  posterior is ``N(lift, var_lift)``; chance to win, credible interval and expected loss follow;
- sequential: the always-valid mixture-SPRT interval of Waudby-Smith et al. (2023, eq. 9) with
  GrowthBook's tuning parameter (default 5000, the total sample size at which the interval is
  tightest);
- CUPED: ``theta = cov(post, pre) / var(pre)`` from the two variants pooled, adjusted mean
  ``mean(post) - theta·mean(pre)``.

The absolute difference is tested with Welch's t (means, ratios) or a Wald z (proportions, unpooled
variance), as in ``scipy.stats.ttest_ind(equal_var=False)`` and
``statsmodels.stats.proportion.test_proportions_2indep(method="wald")``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower

MetricType = Literal["proportion", "mean", "ratio"]
Method = Literal["frequentist", "bayesian", "sequential"]
Correction = Literal["holm", "bh", "none"]

#: GrowthBook's default for the mixture-SPRT tuning parameter (a total sample size).
DEFAULT_SEQUENTIAL_TUNING = 5000.0
SRM_WARNING_P = 0.001
_MULTIPLETESTS_METHOD = {"holm": "holm", "bh": "fdr_bh"}


@dataclass(frozen=True)
class Sums:
    """Sufficient statistics of one metric in one variant, summed over its users.

    ``sum``/``sum_squares`` are of the per-user metric value (the numerator for ratio metrics);
    ``den_*`` of the per-user denominator of a ratio metric; ``pre_*`` of the per-user CUPED
    covariate (the same metric in the days before assignment; ``pre_sum is None`` when unused).
    """

    n: int
    sum: float
    sum_squares: float
    den_sum: float = 0.0
    den_sum_squares: float = 0.0
    num_den_products: float = 0.0
    pre_sum: float | None = None
    pre_sum_squares: float = 0.0
    post_pre_products: float = 0.0

    def __add__(self, other: Sums) -> Sums:
        pre = None if self.pre_sum is None or other.pre_sum is None else self.pre_sum + other.pre_sum
        return Sums(
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_squares=self.sum_squares + other.sum_squares,
            den_sum=self.den_sum + other.den_sum,
            den_sum_squares=self.den_sum_squares + other.den_sum_squares,
            num_den_products=self.num_den_products + other.num_den_products,
            pre_sum=pre,
            pre_sum_squares=self.pre_sum_squares + other.pre_sum_squares,
            post_pre_products=self.post_pre_products + other.post_pre_products,
        )


# ---------------------------------------------------------------------------------- moments
def sample_variance(n: int, total: float, sum_squares: float) -> float:
    """Unbiased sample variance ``(Σx² - (Σx)²/n) / (n-1)``; 0 when ``n <= 1``."""
    if n <= 1:
        return 0.0
    return (sum_squares - total * total / n) / (n - 1)


def sample_covariance(n: int, sum_x: float, sum_y: float, sum_xy: float) -> float:
    """Unbiased sample covariance ``(Σxy - Σx Σy / n) / (n-1)``; 0 when ``n <= 1``."""
    if n <= 1:
        return 0.0
    return (sum_xy - sum_x * sum_y / n) / (n - 1)


def _moment_variance(kind: MetricType, n: int, total: float, sum_squares: float) -> float:
    # Proportions use p(1-p) (as gbstats' ProportionStatistic), means the sample variance.
    if kind == "proportion":
        p = total / n if n else 0.0
        return p * (1.0 - p)
    return sample_variance(n, total, sum_squares)


def metric_mean(kind: MetricType, s: Sums) -> float:
    """The variant's metric value: ``Σy/n`` (proportion, mean) or ``Σy/Σx`` (ratio); 0 when empty."""
    if kind == "ratio":
        return s.sum / s.den_sum if s.den_sum else 0.0
    return s.sum / s.n if s.n else 0.0


def metric_variance(kind: MetricType, s: Sums) -> float:
    """Per-user variance of the metric (``n`` × the variance of the variant's estimate).

    Proportion ``p(1-p)``; mean: sample variance; ratio ``R = Σy/Σx``: delta method
    ``(v_y - 2 R c_xy + R² v_x) / x̄²`` with sample (co)variances of the per-user values.
    """
    if kind != "ratio":
        return _moment_variance(kind, s.n, s.sum, s.sum_squares)
    if s.n <= 1 or s.den_sum == 0:
        return 0.0
    mean_y, mean_x = s.sum / s.n, s.den_sum / s.n
    var_y = sample_variance(s.n, s.sum, s.sum_squares)
    var_x = sample_variance(s.n, s.den_sum, s.den_sum_squares)
    cov = sample_covariance(s.n, s.sum, s.den_sum, s.num_den_products)
    return var_y / mean_x**2 - 2 * cov * mean_y / mean_x**3 + mean_y**2 * var_x / mean_x**4


# ---------------------------------------------------------------------------------- CUPED
@dataclass(frozen=True)
class Arm:
    """What the tests need from one variant: users, (CUPED-adjusted) mean and per-user variance.

    ``unadjusted_mean`` is the plain metric value; relative lifts are expressed against the
    control's unadjusted mean.
    """

    n: int
    mean: float
    unadjusted_mean: float
    variance: float


def cuped_theta(kind: MetricType, a: Sums, b: Sums) -> float:
    """CUPED coefficient ``cov(post, pre) / var(pre)`` on the two variants pooled (as gbstats).

    Returns 0 (no adjustment) when the pooled metric or covariate has no variance.
    """
    if a.pre_sum is None or b.pre_sum is None:
        raise ValueError("CUPED needs pre-period sums in both variants")
    joint = a + b
    pre_sum = a.pre_sum + b.pre_sum
    var_post = _moment_variance(kind, joint.n, joint.sum, joint.sum_squares)
    var_pre = _moment_variance(kind, joint.n, pre_sum, joint.pre_sum_squares)
    if var_pre <= 0 or var_post <= 0:
        return 0.0
    return sample_covariance(joint.n, joint.sum, pre_sum, joint.post_pre_products) / var_pre


def arm(kind: MetricType, s: Sums, theta: float = 0.0) -> Arm:
    """The test inputs of one variant; with ``theta != 0`` the CUPED-adjusted mean and variance."""
    mean = metric_mean(kind, s)
    variance = metric_variance(kind, s)
    if theta == 0.0:
        return Arm(n=s.n, mean=mean, unadjusted_mean=mean, variance=variance)
    assert s.pre_sum is not None
    var_pre = _moment_variance(kind, s.n, s.pre_sum, s.pre_sum_squares)
    cov = sample_covariance(s.n, s.sum, s.pre_sum, s.post_pre_products)
    adjusted_variance = variance + theta**2 * var_pre - 2 * theta * cov if s.n > 1 else 0.0
    return Arm(n=s.n, mean=mean - theta * s.pre_sum / s.n, unadjusted_mean=mean, variance=adjusted_variance)


# ---------------------------------------------------------------------------------- effects
@dataclass(frozen=True)
class Effect:
    """A point estimate with the variance of its sampling distribution."""

    estimate: float
    variance: float

    @property
    def se(self) -> float:
        return math.sqrt(self.variance) if self.variance > 0 else 0.0


def absolute_effect(a: Arm, b: Arm) -> Effect:
    """``m_b - m_a`` with variance ``v_a/n_a + v_b/n_b``."""
    return Effect(b.mean - a.mean, a.variance / a.n + b.variance / b.n)


def relative_effect(a: Arm, b: Arm) -> Effect | None:
    """``(m_b - m_a) / m_a`` with the delta-method variance of gbstats; None unless ``m_a > 0``.

    The variance uses the unadjusted means: ``v_b/(m_a² n_b) + v_a m_b²/(m_a⁴ n_a)``.
    """
    ma, mb = a.unadjusted_mean, b.unadjusted_mean
    if ma <= 0:
        return None
    variance = b.variance / (ma**2 * b.n) + a.variance * mb**2 / (ma**4 * a.n)
    return Effect((b.mean - a.mean) / ma, variance)


def welch_dof(a: Arm, b: Arm) -> float:
    """Welch–Satterthwaite degrees of freedom of ``m_b - m_a``."""
    va, vb = a.variance / a.n, b.variance / b.n
    denominator = va**2 / (a.n - 1) + vb**2 / (b.n - 1)
    return (va + vb) ** 2 / denominator if denominator > 0 else math.inf


def t_interval(effect: Effect, dof: float, alpha: float) -> tuple[float, float]:
    """Two-sided ``1-alpha`` interval ``estimate ± t_{1-alpha/2, dof} · se`` (normal when dof=inf)."""
    q = stats.norm.ppf(1 - alpha / 2) if math.isinf(dof) else stats.t.ppf(1 - alpha / 2, dof)
    return effect.estimate - q * effect.se, effect.estimate + q * effect.se


def t_p_value(effect: Effect, dof: float) -> float:
    """Two-sided p-value of ``estimate / se`` against t(dof) (standard normal when dof=inf)."""
    z = abs(effect.estimate) / effect.se
    return float(2 * (stats.norm.sf(z) if math.isinf(dof) else stats.t.sf(z, dof)))


def sequential_rho(alpha: float, tuning: float = DEFAULT_SEQUENTIAL_TUNING) -> float:
    """Mixing spread ρ of the normal mixture that makes the interval tightest at ``n = tuning``.

    Waudby-Smith et al. (2023), eq. 161, as in gbstats: ``ρ² = (-2 ln α + ln(1 - 2 ln α)) / tuning``.
    """
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)


def sequential_interval(effect: Effect, n_total: int, alpha: float,
                        tuning: float = DEFAULT_SEQUENTIAL_TUNING) -> tuple[float, float]:
    """Always-valid ``1-alpha`` interval (mixture SPRT), valid under continuous monitoring.

    Half-width ``σ̂ √(2(Nρ²+1) ln(√(Nρ²+1)/α) / (Nρ)²)`` with ``σ̂² = N · variance`` and
    ``N = n_a + n_b`` (Waudby-Smith et al. 2023, eq. 9, as gbstats).
    """
    rho2 = sequential_rho(alpha, tuning) ** 2
    n = n_total
    s2 = effect.variance * n
    half = math.sqrt(s2) * math.sqrt(2 * (n * rho2 + 1) * math.log(math.sqrt(n * rho2 + 1) / alpha) / (n**2 * rho2))
    return effect.estimate - half, effect.estimate + half


def sequential_p_value(effect: Effect, n_total: int, alpha: float,
                       tuning: float = DEFAULT_SEQUENTIAL_TUNING) -> float:
    """Always-valid p-value ``min(1, 1/E)`` of the mixture-SPRT e-value (gbstats, paper eq. 155).

    It is below ``alpha`` exactly when :func:`sequential_interval` excludes 0.
    """
    rho2 = sequential_rho(alpha, tuning) ** 2
    st2 = effect.estimate**2 * n_total / effect.variance
    tr2p1 = n_total * rho2 + 1
    log_e = rho2 * st2 / (2 * tr2p1) - 0.5 * math.log(tr2p1)
    return 1.0 if log_e <= 0 else math.exp(-log_e)


@dataclass(frozen=True)
class Posterior:
    """Flat-prior Gaussian posterior summary of an effect (gbstats' Bayesian engine)."""

    chance_to_win: float
    interval: tuple[float, float]
    risk: float
    risk_control: float


def gaussian_posterior(effect: Effect, alpha: float) -> Posterior:
    """Posterior ``N(estimate, variance)`` of the effect under a flat prior.

    chance to win ``P(δ > 0)``; equal-tailed ``1-alpha`` credible interval; expected loss of
    shipping the variant ``risk = E[max(-δ, 0)]`` and of keeping control ``E[max(δ, 0)]``.
    """
    mu, sigma = effect.estimate, effect.se
    dist = stats.norm(mu, sigma)
    # Partial expectations of a normal: E[max(δ,0)] = σφ(z) + μΦ(z), E[max(-δ,0)] = σφ(z) - μΦ(-z)
    # with z = μ/σ (equal to gbstats' truncated-normal form; the tests check both).
    z = mu / sigma
    loss_control = sigma * stats.norm.pdf(z) + mu * stats.norm.cdf(z)
    loss_variant = sigma * stats.norm.pdf(z) - mu * stats.norm.cdf(-z)
    return Posterior(
        chance_to_win=float(dist.sf(0.0)),
        interval=(float(dist.ppf(alpha / 2)), float(dist.ppf(1 - alpha / 2))),
        risk=float(loss_variant),
        risk_control=float(loss_control),
    )


# ---------------------------------------------------------------------------------- comparison
@dataclass
class Comparison:
    """One variant against control for one metric.

    ``abs_*`` is on the metric scale, ``rel_lift``/``ci_*`` on the relative scale (0.05 = +5%).
    ``p_value`` is Welch's t / Wald z on the absolute difference (frequentist) or the always-valid
    p-value (sequential); None in Bayesian mode. ``risk``/``risk_control`` are relative expected
    losses (Bayesian). ``theta``/``variance_reduction`` are set with CUPED.
    """

    variant: str
    abs_diff: float | None = None
    abs_ci_low: float | None = None
    abs_ci_high: float | None = None
    rel_lift: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    chance_to_win: float | None = None
    risk: float | None = None
    risk_control: float | None = None
    theta: float | None = None
    variance_reduction: float | None = None
    significant: bool | None = None
    note: str | None = None


def compare(
    kind: MetricType,
    control: Sums,
    treatment: Sums,
    *,
    variant: str = "treatment",
    method: Method = "frequentist",
    alpha: float = 0.05,
    cuped: bool = False,
    tuning: float = DEFAULT_SEQUENTIAL_TUNING,
) -> Comparison:
    """Compare ``treatment`` with ``control`` for one metric (see the module docstring)."""
    out = Comparison(variant=variant)
    if control.n < 2 or treatment.n < 2:
        out.note = "fewer than 2 users in a variant"
        return out
    theta = cuped_theta(kind, control, treatment) if cuped else 0.0
    a, b = arm(kind, control, theta), arm(kind, treatment, theta)
    absolute = absolute_effect(a, b)
    out.abs_diff = absolute.estimate
    if cuped:
        plain = absolute_effect(arm(kind, control), arm(kind, treatment))
        out.theta = theta
        out.variance_reduction = 1 - absolute.variance / plain.variance if plain.variance > 0 else None
    if absolute.variance <= 0:
        out.note = "no variance in either variant"
        return out
    relative = relative_effect(a, b)
    if relative is None:
        out.note = "control mean is not positive: relative lift undefined"
    else:
        out.rel_lift = relative.estimate
    if method == "frequentist":
        dof = welch_dof(a, b)
        _frequentist(out, absolute, relative, math.inf if kind == "proportion" else dof, dof, alpha)
    elif method == "sequential":
        _sequential(out, absolute, relative, a.n + b.n, alpha, tuning)
    else:
        _bayesian(out, absolute, relative, alpha)
    return out


def _frequentist(out: Comparison, absolute: Effect, relative: Effect | None, absolute_dof: float, dof: float,
                 alpha: float) -> None:
    """Welch t intervals and p-value (a proportion's absolute effect on the normal, ``absolute_dof`` inf)."""
    out.abs_ci_low, out.abs_ci_high = t_interval(absolute, absolute_dof, alpha)
    out.p_value = t_p_value(absolute, absolute_dof)
    if relative is not None:
        out.ci_low, out.ci_high = t_interval(relative, dof, alpha)


def _sequential(out: Comparison, absolute: Effect, relative: Effect | None, n_total: int, alpha: float,
                tuning: float) -> None:
    """Always-valid intervals; the p-value of the relative lift when it is defined, else of the difference."""
    out.abs_ci_low, out.abs_ci_high = sequential_interval(absolute, n_total, alpha, tuning)
    if relative is not None:
        out.ci_low, out.ci_high = sequential_interval(relative, n_total, alpha, tuning)
    out.p_value = sequential_p_value(relative if relative is not None else absolute, n_total, alpha, tuning)


def _bayesian(out: Comparison, absolute: Effect, relative: Effect | None, alpha: float) -> None:
    """Gaussian posteriors: credible intervals, chance to win and risk (of the relative lift when defined)."""
    out.abs_ci_low, out.abs_ci_high = gaussian_posterior(absolute, alpha).interval
    posterior = gaussian_posterior(relative if relative is not None else absolute, alpha)
    out.chance_to_win = posterior.chance_to_win
    if relative is not None:
        out.ci_low, out.ci_high = posterior.interval
        out.risk, out.risk_control = posterior.risk, posterior.risk_control


def adjust_p_values(p_values: list[float | None], correction: Correction) -> list[float | None]:
    """Holm or Benjamini–Hochberg adjusted p-values (statsmodels ``multipletests``); None stays None."""
    present = [i for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = list(p_values)
    if correction == "none" or not present:
        return adjusted
    values = np.array([p_values[i] for i in present], dtype=float)
    _, corrected, _, _ = multipletests(values, method=_MULTIPLETESTS_METHOD[correction])
    for i, value in zip(present, corrected, strict=True):
        adjusted[i] = float(value)
    return adjusted


def is_significant(c: Comparison, method: Method, alpha: float) -> bool | None:
    """Adjusted (else raw) p < alpha; Bayesian: chance to win outside [alpha, 1-alpha]. None if unknown."""
    if method == "bayesian":
        return None if c.chance_to_win is None else (c.chance_to_win > 1 - alpha or c.chance_to_win < alpha)
    p = c.p_adjusted if c.p_adjusted is not None else c.p_value
    return None if p is None else p < alpha


# ---------------------------------------------------------------------------------- SRM
@dataclass(frozen=True)
class SRM:
    """Sample-ratio-mismatch test: chi-square goodness of fit of users per variant."""

    p_value: float
    chi2: float
    observed: dict[str, int]
    expected_share: dict[str, float]

    @property
    def warning(self) -> bool:
        return self.p_value < SRM_WARNING_P


def srm_test(observed: dict[str, int], expected_share: dict[str, float]) -> SRM:
    """Chi-square goodness of fit of ``observed`` users against shares (normalised to sum 1)."""
    names = list(observed)
    total_share = sum(expected_share[v] for v in names)
    shares = {v: expected_share[v] / total_share for v in names}
    total = sum(observed.values())
    if total == 0 or len(names) < 2:
        return SRM(p_value=1.0, chi2=0.0, observed=dict(observed), expected_share=shares)
    f_obs = np.array([observed[v] for v in names], dtype=float)
    f_exp = np.array([shares[v] * total for v in names])
    chi2, p = stats.chisquare(f_obs, f_exp)
    return SRM(p_value=float(p), chi2=float(chi2), observed=dict(observed), expected_share=shares)


# ---------------------------------------------------------------------------------- power
def _proportion_effect_size(p1: float, p2: float) -> float:
    # Standardised so that NormalIndPower's n = (z_a + z_b)² (p1q1 + p2q2) / (p2 - p1)²: the
    # unpooled Wald z test used above.
    return (p2 - p1) / math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)


def users_per_variant(baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8,
                      sd: float | None = None) -> int:
    """Users per variant to detect a relative lift ``mde`` with a two-sided test at ``alpha``.

    Proportions (``sd`` None): baseline rate ``p1``, ``p2 = p1 (1 + mde)``, unpooled z test
    (``statsmodels NormalIndPower``). Means: per-user ``sd``, two-sample t test
    (``TTestIndPower``) with effect size ``baseline·mde/sd``. Rounded up.
    """
    if sd is None:
        es = _proportion_effect_size(baseline, baseline * (1 + mde))
        n = NormalIndPower().solve_power(effect_size=es, alpha=alpha, power=power, ratio=1.0)
    else:
        n = TTestIndPower().solve_power(effect_size=baseline * mde / sd, alpha=alpha, power=power, ratio=1.0)
    return int(math.ceil(float(np.asarray(n).item()) - 1e-9))


def minimum_detectable_effect(baseline: float, users: int, alpha: float = 0.05, power: float = 0.8,
                              sd: float | None = None) -> float | None:
    """Smallest relative lift detectable with ``users`` per variant (inverse of :func:`users_per_variant`).

    None when no lift up to a rate of 1 is detectable (proportions).
    """
    if sd is not None:
        es = TTestIndPower().solve_power(nobs1=users, alpha=alpha, power=power, ratio=1.0)
        return float(np.asarray(es).item()) * sd / baseline
    analysis = NormalIndPower()

    def gap(p2: float) -> float:
        return analysis.power(_proportion_effect_size(baseline, p2), nobs1=users, alpha=alpha, ratio=1.0) - power

    high = 1 - 1e-12
    if gap(high) < 0:
        return None
    return optimize.brentq(gap, baseline + 1e-15, high, xtol=1e-15, rtol=1e-13) / baseline - 1
