"""The pure statistics of ``ab.stats`` against hand-worked cases, scipy/statsmodels and simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy import stats as sps
from statsmodels.stats import proportion as smp  # module import: pytest would collect test_* names
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from shortvid_analytics.ab import stats as S


def sums(y, x=None, c=None) -> S.Sums:
    """Sufficient statistics of per-user arrays (an independent route to the sums the SQL produces)."""
    y = np.asarray(y, dtype=float)
    fields = {"n": len(y), "sum": y.sum(), "sum_squares": (y * y).sum()}
    if x is not None:
        x = np.asarray(x, dtype=float)
        fields |= {"den_sum": x.sum(), "den_sum_squares": (x * x).sum(), "num_den_products": (x * y).sum()}
    if c is not None:
        c = np.asarray(c, dtype=float)
        fields |= {"pre_sum": c.sum(), "pre_sum_squares": (c * c).sum(), "post_pre_products": (y * c).sum()}
    return S.Sums(**{k: (float(v) if k != "n" else int(v)) for k, v in fields.items()})


def conversions(n: int, k: int) -> S.Sums:
    return S.Sums(n=n, sum=float(k), sum_squares=float(k))


# ------------------------------------------------------------------ hand-worked cases
def test_proportion_hand_case_and_statsmodels_wald():
    # 100/1000 vs 120/1000: diff 0.02, var = 0.09/1000 + 0.1056/1000, z = 0.02/sqrt(0.0001956).
    c = S.compare("proportion", conversions(1000, 100), conversions(1000, 120))
    se = math.sqrt(0.09 / 1000 + 0.1056 / 1000)
    assert c.abs_diff == pytest.approx(0.02, abs=1e-15)
    assert c.rel_lift == pytest.approx(0.2, abs=1e-15)
    assert c.p_value == pytest.approx(2 * sps.norm.sf(0.02 / se), rel=1e-12)
    ref = smp.test_proportions_2indep(120, 1000, 100, 1000, method="wald", compare="diff")
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    low, high = smp.confint_proportions_2indep(120, 1000, 100, 1000, method="wald", compare="diff")
    assert (c.abs_ci_low, c.abs_ci_high) == (pytest.approx(low, rel=1e-10), pytest.approx(high, rel=1e-10))


def test_welch_t_matches_scipy_on_raw_values():
    a = [1.0, 2.0, 3.0, 4.0]
    b = [2.0, 3.0, 4.0, 5.0, 6.0]
    c = S.compare("mean", sums(a), sums(b))
    ref = sps.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert c.abs_diff == pytest.approx(1.5, abs=1e-15)
    assert c.rel_lift == pytest.approx(0.6, abs=1e-15)  # (4 - 2.5) / 2.5
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert (c.abs_ci_low, c.abs_ci_high) == (pytest.approx(ci.low, rel=1e-12), pytest.approx(ci.high, rel=1e-12))
    assert S.welch_dof(S.arm("mean", sums(a)), S.arm("mean", sums(b))) == pytest.approx(ref.df, rel=1e-12)


@given(st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=40),
       st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=40))
@settings(max_examples=60, deadline=None)
def test_welch_property_against_scipy(a, b):
    if np.var(a) < 1e-6 or np.var(b) < 1e-6:
        return
    c = S.compare("mean", sums(a), sums(b))
    ref = sps.ttest_ind(b, a, equal_var=False)
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
    assert c.abs_ci_high == pytest.approx(ref.confidence_interval(0.95).high, rel=1e-6, abs=1e-9)


def test_ratio_delta_method_variance_matches_matrix_form():
    rng = np.random.default_rng(1)
    x = rng.poisson(8, 500) + 1
    y = rng.binomial(x, 0.1)
    s = sums(y, x)
    # Delta method with the gradient of ȳ/x̄ and numpy's covariance matrix of (y, x).
    g = np.array([1 / x.mean(), -y.mean() / x.mean() ** 2])
    assert S.metric_variance("ratio", s) == pytest.approx(g @ np.cov(np.vstack([y, x])) @ g, rel=1e-10)
    assert S.metric_mean("ratio", s) == pytest.approx(y.sum() / x.sum(), rel=1e-14)


def test_srm_matches_scipy_chisquare_and_hand_case():
    assert S.srm_test({"control": 5000, "treatment": 5000}, {"control": 1, "treatment": 1}).p_value == 1.0
    srm = S.srm_test({"a": 1000, "b": 2100}, {"a": 1, "b": 2})
    expected = np.array([1, 2]) / 3 * 3100
    assert srm.p_value == pytest.approx(sps.chisquare([1000, 2100], expected).pvalue, rel=1e-12)
    # hand: chi2 = (1000 - 1033.33)^2 / 1033.33 + (2100 - 2066.67)^2 / 2066.67 = 1.6129...
    assert srm.chi2 == pytest.approx((1000 - 3100 / 3) ** 2 / (3100 / 3) + (2100 - 6200 / 3) ** 2 / (6200 / 3))
    assert S.srm_test({"a": 5000, "b": 5400}, {"a": 1, "b": 1}).warning


def test_bayesian_posterior_against_truncnorm_and_integration():
    effect = S.Effect(estimate=0.02, variance=0.015**2)
    post = S.gaussian_posterior(effect, alpha=0.05)
    dist = sps.norm(0.02, 0.015)
    assert post.chance_to_win == pytest.approx(dist.sf(0), rel=1e-12)
    assert post.interval == (pytest.approx(dist.ppf(0.025)), pytest.approx(dist.ppf(0.975)))
    loss_variant = integrate.quad(lambda d: -d * dist.pdf(d), -np.inf, 0)[0]
    loss_control = integrate.quad(lambda d: d * dist.pdf(d), 0, np.inf)[0]
    assert post.risk == pytest.approx(loss_variant, rel=1e-8)
    assert post.risk_control == pytest.approx(loss_control, rel=1e-8)
    # gbstats' form: P(δ<0) · |E[δ | δ<0]| with scipy's truncated normal.
    truncated = sps.truncnorm(-np.inf, (0 - 0.02) / 0.015, loc=0.02, scale=0.015).mean()
    assert post.risk == pytest.approx(-dist.cdf(0) * truncated, rel=1e-10)


@given(st.floats(-0.5, 0.5), st.floats(1e-4, 0.3), st.integers(10, 10**7), st.sampled_from([0.01, 0.05, 0.1]),
       st.floats(100, 1e6))
@settings(max_examples=200, deadline=None)
def test_sequential_interval_and_p_value_agree(estimate, se, n, alpha, tuning):
    effect = S.Effect(estimate, se**2)
    low, high = S.sequential_interval(effect, n, alpha, tuning)
    p = S.sequential_p_value(effect, n, alpha, tuning)
    margin = min(abs(low), abs(high)) / (high - low)
    if margin > 1e-9:  # away from the boundary the two must agree exactly
        assert (p < alpha) == (low > 0 or high < 0)
    # always wider than the fixed-horizon normal interval
    z_low, z_high = S.t_interval(effect, math.inf, alpha)
    assert low < z_low and high > z_high


def test_corrections_match_statsmodels_and_keep_missing():
    p = [0.01, None, 0.04, 0.03]
    assert S.adjust_p_values(p, "holm") == [pytest.approx(0.03), None, pytest.approx(0.06), pytest.approx(0.06)]
    bh = multipletests([0.01, 0.04, 0.03], method="fdr_bh")[1]
    assert S.adjust_p_values(p, "bh") == [pytest.approx(bh[0]), None, pytest.approx(bh[1]), pytest.approx(bh[2])]
    assert S.adjust_p_values(p, "none") == p


def test_degenerate_inputs_give_notes_not_numbers():
    zero = S.compare("proportion", conversions(1000, 0), conversions(1000, 5))
    assert zero.rel_lift is None and zero.ci_low is None and zero.abs_diff == pytest.approx(0.005)
    assert "relative lift undefined" in zero.note
    flat = S.compare("mean", S.Sums(n=10, sum=10.0, sum_squares=10.0), S.Sums(n=10, sum=10.0, sum_squares=10.0))
    assert flat.p_value is None and flat.note == "no variance in either variant"
    tiny = S.compare("mean", S.Sums(n=1, sum=1.0, sum_squares=1.0), S.Sums(n=5, sum=5.0, sum_squares=6.0))
    assert tiny.abs_diff is None and "fewer than 2" in tiny.note


# ------------------------------------------------------------------ power
def test_power_proportions_against_closed_form_and_simulation():
    n = S.users_per_variant(0.03, 0.05)
    p1, p2 = 0.03, 0.0315
    closed = (sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p2 - p1) ** 2
    assert abs(n - math.ceil(closed)) <= 1  # statsmodels adds the negligible far tail
    assert S.minimum_detectable_effect(0.03, n) == pytest.approx(0.05, rel=2e-4)
    # Simulated power of the z test at n users per variant (counts drawn directly: summary statistics).
    rng = np.random.default_rng(7)
    ka, kb = rng.binomial(n, p1, 2000), rng.binomial(n, p2, 2000)
    pa, pb = ka / n, kb / n
    z = (pb - pa) / np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / n)
    assert np.mean(np.abs(z) > sps.norm.ppf(0.975)) == pytest.approx(0.8, abs=0.03)


def test_power_means_against_statsmodels_t_and_normal_formula():
    n = S.users_per_variant(50.0, 0.02, sd=40.0)  # d = 1 / 40
    assert n == math.ceil(TTestIndPower().solve_power(effect_size=1 / 40, alpha=0.05, power=0.8))
    normal = 2 * (sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) ** 2 * 40**2 / 1.0**2
    assert n == pytest.approx(normal, rel=1e-3)
    assert S.minimum_detectable_effect(50.0, n, sd=40.0) == pytest.approx(0.02, rel=1e-3)
    assert NormalIndPower().power(S._proportion_effect_size(0.1, 0.12), nobs1=S.users_per_variant(0.1, 0.2),
                                  alpha=0.05) >= 0.8


def test_power_unreachable_mde_is_none():
    assert S.minimum_detectable_effect(0.5, 3) is None


# ------------------------------------------------------------------ simulations from summary statistics
def test_aa_false_positive_rate_near_alpha():
    rng = np.random.default_rng(11)
    # Proportions: 1000 A/A experiments, counts drawn directly.
    n = 5000
    ka, kb = rng.binomial(n, 0.05, 1000), rng.binomial(n, 0.05, 1000)
    p = [S.compare("proportion", conversions(n, a), conversions(n, b)).p_value for a, b in zip(ka, kb, strict=True)]
    assert 0.03 <= np.mean(np.array(p) < 0.05) <= 0.07
    # Skewed means (zero-inflated lognormal revenue): 300 experiments of 1000 users per arm.
    rates, covered = [], []
    for _ in range(300):
        ya = (rng.random(1000) < 0.3) * rng.lognormal(3, 1, 1000)
        yb = (rng.random(1000) < 0.3) * rng.lognormal(3, 1, 1000)
        c = S.compare("mean", sums(ya), sums(yb))
        rates.append(c.p_value < 0.05)
        covered.append(c.ci_low <= 0 <= c.ci_high)
    assert 0.02 <= np.mean(rates) <= 0.09
    assert 0.91 <= np.mean(covered) <= 0.98


def test_sequential_stays_valid_under_peeking_where_fixed_horizon_does_not():
    rng = np.random.default_rng(5)
    experiments, looks, per_look = 300, 20, 250
    y = rng.normal(10, 3, size=(experiments, 2, looks * per_look))
    cum_sum = y.reshape(experiments, 2, looks, per_look).sum(axis=3).cumsum(axis=2)
    cum_sq = (y**2).reshape(experiments, 2, looks, per_look).sum(axis=3).cumsum(axis=2)
    seq_reject = fixed_reject = 0
    for e in range(experiments):
        seq_any = fixed_any = False
        for k in range(looks):
            n = (k + 1) * per_look
            a = S.Sums(n=n, sum=cum_sum[e, 0, k], sum_squares=cum_sq[e, 0, k])
            b = S.Sums(n=n, sum=cum_sum[e, 1, k], sum_squares=cum_sq[e, 1, k])
            seq_any |= S.compare("mean", a, b, method="sequential").p_value < 0.05
            fixed_any |= S.compare("mean", a, b).p_value < 0.05
        seq_reject += seq_any
        fixed_reject += fixed_any
    assert seq_reject / experiments <= 0.05
    assert fixed_reject / experiments > 0.12  # peeking inflates the fixed-horizon error rate


def test_cuped_is_unbiased_and_reduces_variance():
    rng = np.random.default_rng(3)
    delta, rho, n = 0.3, 0.8, 1000
    plain, adjusted, reductions, covered = [], [], [], []
    for _ in range(300):
        ca, cb = rng.normal(10, 3, n), rng.normal(10, 3, n)
        ya = 10 + rho * (ca - 10) + rng.normal(0, 3 * math.sqrt(1 - rho**2), n)
        yb = 10 + delta + rho * (cb - 10) + rng.normal(0, 3 * math.sqrt(1 - rho**2), n)
        c = S.compare("mean", sums(ya, c=ca), sums(yb, c=cb), cuped=True)
        plain.append(yb.mean() - ya.mean())
        adjusted.append(c.abs_diff)
        reductions.append(c.variance_reduction)
        covered.append(c.ci_low <= delta / 10 <= c.ci_high)
    adjusted_arr = np.array(adjusted)
    assert abs(adjusted_arr.mean() - delta) < 3 * adjusted_arr.std() / math.sqrt(len(adjusted))
    assert np.var(adjusted) / np.var(plain) == pytest.approx(1 - rho**2, rel=0.25)
    assert np.mean(reductions) == pytest.approx(rho**2, abs=0.03)
    assert 0.91 <= np.mean(covered) <= 0.98


def test_cuped_theta_is_pooled_regression_slope():
    rng = np.random.default_rng(9)
    ca, cb = rng.normal(5, 2, 300), rng.normal(5, 2, 320)
    ya, yb = 2 + 0.5 * ca + rng.normal(0, 1, 300), 2.2 + 0.5 * cb + rng.normal(0, 1, 320)
    theta = S.cuped_theta("mean", sums(ya, c=ca), sums(yb, c=cb))
    pooled_c, pooled_y = np.concatenate([ca, cb]), np.concatenate([ya, yb])
    assert theta == pytest.approx(np.cov(pooled_y, pooled_c)[0, 1] / np.var(pooled_c, ddof=1), rel=1e-12)
