"""Reference numbers from GrowthBook's stats engine ``gbstats`` for ``tests/ab/test_gbstats.py``.

gbstats pins old numpy/pandas, so it runs in its own virtual environment, not the project's::

    python -m venv /tmp/gbvenv && /tmp/gbvenv/bin/pip install gbstats==0.8.0
    /tmp/gbvenv/bin/python tests/reference/gbstats_reference.py   # from the repository root

It writes ``tests/reference/gbstats_fixtures.json``: for each case the per-variant sums (the inputs
of ``shortvid_analytics.ab.stats``) and what gbstats computes from them — frequentist relative
CI and p-value, absolute CI (means/ratios), sequential CI and p-value, Bayesian chance to win,
risk and credible interval, CUPED theta — plus SRM p-values. The inputs are written out in full,
so the test does not depend on any random generator.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import numpy as np
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import FrequentistConfig, SequentialConfig, SequentialTwoSidedTTest, TwoSidedTTest
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
    compute_theta,
)
from gbstats.utils import check_srm

OUT = Path(__file__).resolve().parent / "gbstats_fixtures.json"


def sums_from_values(y, x=None, c=None) -> dict:
    """Per-variant sums (the project's ``Sums`` fields) of per-user arrays."""
    y = np.asarray(y, dtype=float)
    out = {"n": int(len(y)), "sum": float(y.sum()), "sum_squares": float((y * y).sum())}
    if x is not None:
        x = np.asarray(x, dtype=float)
        out.update(den_sum=float(x.sum()), den_sum_squares=float((x * x).sum()),
                   num_den_products=float((x * y).sum()))
    if c is not None:
        c = np.asarray(c, dtype=float)
        out.update(pre_sum=float(c.sum()), pre_sum_squares=float((c * c).sum()),
                   post_pre_products=float((y * c).sum()))
    return out


def gb_statistic(kind: str, s: dict, cuped: bool):
    def base(total, squares):
        if kind == "proportion":
            return ProportionStatistic(n=s["n"], sum=total)
        return SampleMeanStatistic(n=s["n"], sum=total, sum_squares=squares)

    if kind == "ratio":
        return RatioStatistic(
            n=s["n"],
            m_statistic=SampleMeanStatistic(n=s["n"], sum=s["sum"], sum_squares=s["sum_squares"]),
            d_statistic=SampleMeanStatistic(n=s["n"], sum=s["den_sum"], sum_squares=s["den_sum_squares"]),
            m_d_sum_of_products=s["num_den_products"],
        )
    if cuped:
        return RegressionAdjustedStatistic(
            n=s["n"],
            post_statistic=base(s["sum"], s["sum_squares"]),
            pre_statistic=base(s["pre_sum"], s["pre_sum_squares"]),
            post_pre_sum_of_products=s["post_pre_products"],
            theta=0,
        )
    return base(s["sum"], s["sum_squares"])


def run_case(name: str, kind: str, a: dict, b: dict, cuped: bool = False, alpha: float = 0.05,
             tuning: float = 5000.0) -> dict:
    def stats():
        return gb_statistic(kind, a, cuped), gb_statistic(kind, b, cuped)

    out: dict = {"name": name, "kind": kind, "cuped": cuped, "alpha": alpha, "tuning": tuning,
                 "control": a, "treatment": b}
    if cuped:
        sa, sb = stats()
        out["theta"] = compute_theta(sa, sb)
    freq = TwoSidedTTest(*stats(), FrequentistConfig(alpha=alpha)).compute_result()
    out["frequentist_relative"] = {"expected": freq.expected, "ci": list(freq.ci), "p_value": freq.p_value,
                                   "error": freq.error_message}
    if kind != "proportion":
        # gbstats tests proportions with t as well; the project uses z there (statsmodels reference).
        absolute = TwoSidedTTest(*stats(), FrequentistConfig(alpha=alpha, difference_type="absolute")).compute_result()
        out["frequentist_absolute"] = {"expected": absolute.expected, "ci": list(absolute.ci),
                                       "p_value": absolute.p_value, "error": absolute.error_message}
    seq = SequentialTwoSidedTTest(*stats(), SequentialConfig(alpha=alpha, sequential_tuning_parameter=tuning))
    seq_result = seq.compute_result()
    out["sequential_relative"] = {"expected": seq_result.expected, "ci": list(seq_result.ci),
                                  "p_value": seq_result.p_value, "error": seq_result.error_message}
    seq_abs = SequentialTwoSidedTTest(*stats(), SequentialConfig(alpha=alpha, sequential_tuning_parameter=tuning,
                                                                 difference_type="absolute")).compute_result()
    out["sequential_absolute"] = {"expected": seq_abs.expected, "ci": list(seq_abs.ci), "p_value": seq_abs.p_value}
    bayes = EffectBayesianABTest(*stats(), EffectBayesianConfig(alpha=alpha)).compute_result()
    out["bayesian_relative"] = {"expected": bayes.expected, "ci": list(bayes.ci),
                                "chance_to_win": bayes.chance_to_win, "risk": list(bayes.risk),
                                "error": bayes.error_message}
    return out


def main() -> None:
    rng = np.random.default_rng(20261102)
    cases = []
    # Proportions: small, typical, large, negative effect.
    for name, (na, ca, nb, cb) in {
        "proportion_small": (500, 25, 510, 40),
        "proportion_typical": (10_000, 300, 10_050, 345),
        "proportion_large": (1_000_000, 31_234, 1_001_234, 30_876),
        "proportion_negative": (4_000, 800, 4_100, 700),
    }.items():
        cases.append(run_case(name, "proportion",
                              {"n": na, "sum": float(ca), "sum_squares": float(ca)},
                              {"n": nb, "sum": float(cb), "sum_squares": float(cb)}))
    # Means: revenue-like (zero-inflated lognormal) and counts.
    for name, n, lift in (("mean_revenue", 3000, 0.08), ("mean_revenue_null", 800, 0.0)):
        ya = (rng.random(n) < 0.1) * rng.lognormal(3, 1, n)
        yb = (rng.random(n + 37) < 0.1) * rng.lognormal(3 + np.log1p(lift), 1, n + 37)
        cases.append(run_case(name, "mean", sums_from_values(ya), sums_from_values(yb)))
    ya, yb = rng.poisson(4.0, 2500), rng.poisson(4.2, 2480)
    cases.append(run_case("mean_counts", "mean", sums_from_values(ya), sums_from_values(yb)))
    cases.append(run_case("mean_counts_alpha10", "mean", sums_from_values(ya), sums_from_values(yb), alpha=0.1,
                          tuning=1000.0))
    # Ratios: CTR-like (clicks / views) and AOV-like (revenue / orders).
    va, vb = rng.poisson(10, 2000) + 1, rng.poisson(10, 2100) + 1
    cases.append(run_case("ratio_ctr", "ratio", sums_from_values(rng.binomial(va, 0.05), va),
                          sums_from_values(rng.binomial(vb, 0.056), vb)))
    oa, ob = rng.poisson(1.5, 1500) + 1, rng.poisson(1.5, 1520) + 1
    cases.append(run_case("ratio_aov", "ratio", sums_from_values(oa * rng.gamma(4, 10, 1500), oa),
                          sums_from_values(ob * rng.gamma(4, 10.5, 1520), ob)))
    # CUPED: means with a correlated pre-period covariate, and proportions.
    for name, n, rho in (("cuped_mean", 4000, 0.7), ("cuped_mean_weak", 1200, 0.2)):
        ca, cb = rng.normal(10, 3, n), rng.normal(10, 3, n + 11)
        ya = 10 + rho * (ca - 10) + rng.normal(0, 3 * np.sqrt(1 - rho**2), n)
        yb = 10.3 + rho * (cb - 10) + rng.normal(0, 3 * np.sqrt(1 - rho**2), n + 11)
        cases.append(run_case(name, "mean", sums_from_values(ya, c=ca), sums_from_values(yb, c=cb), cuped=True))
    ca, cb = rng.random(6000) < 0.2, rng.random(6020) < 0.2
    ya = np.where(ca, rng.random(6000) < 0.5, rng.random(6000) < 0.05)
    yb = np.where(cb, rng.random(6020) < 0.55, rng.random(6020) < 0.06)
    cases.append(run_case("cuped_proportion", "proportion", sums_from_values(ya, c=ca), sums_from_values(yb, c=cb),
                          cuped=True))
    srm = [
        {"users": users, "weights": weights, "p_value": float(check_srm(users, weights))}
        for users, weights in (([5000, 5000], [0.5, 0.5]), ([5000, 5210], [0.5, 0.5]),
                               ([1000, 2100], [1 / 3, 2 / 3]), ([3300, 3350, 3190], [1 / 3, 1 / 3, 1 / 3]))
    ]
    OUT.write_text(json.dumps({"gbstats_version": importlib.metadata.version("gbstats"), "cases": cases,
                               "srm": srm}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases and {len(srm)} SRM checks to {OUT}")


if __name__ == "__main__":
    main()
