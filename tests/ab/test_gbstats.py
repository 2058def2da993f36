"""``ab.stats`` equals GrowthBook's gbstats on the same summary statistics.

The reference numbers in ``tests/reference/gbstats_fixtures.json`` come from gbstats (version
recorded in the file, 0.8.0) via ``tests/reference/gbstats_reference.py``, run in a separate virtual
environment because gbstats pins old numpy/pandas (see that script's docstring).
"""

from __future__ import annotations

import json

import pytest

from shortvid_analytics.ab import stats as S
from tests.locations import REPO

FIXTURES = json.loads((REPO / "tests" / "reference" / "gbstats_fixtures.json").read_text(encoding="utf-8"))
CASES = FIXTURES["cases"]
# Closed forms on identical inputs: only rounding differs. The absolute floor covers p-values ~1e-10
# that gbstats computes as 1/exp(x) and we compute as exp(-x).
TOL = {"rel": 1e-9, "abs": 1e-15}


def _compare(case: dict, method: str) -> S.Comparison:
    return S.compare(case["kind"], S.Sums(**case["control"]), S.Sums(**case["treatment"]), method=method,
                     alpha=case["alpha"], cuped=case["cuped"], tuning=case["tuning"])


def test_fixture_provenance():
    assert FIXTURES["gbstats_version"] == "0.8.0"
    assert {c["kind"] for c in CASES} == {"proportion", "mean", "ratio"}
    assert any(c["cuped"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_frequentist_relative_ci(case):
    ref = case["frequentist_relative"]
    c = _compare(case, "frequentist")
    assert ref["error"] is None
    assert c.rel_lift == pytest.approx(ref["expected"], **TOL)
    assert [c.ci_low, c.ci_high] == [pytest.approx(v, **TOL) for v in ref["ci"]]
    if "frequentist_absolute" in case:  # means and ratios: Welch t on the absolute difference
        absolute = case["frequentist_absolute"]
        assert c.abs_diff == pytest.approx(absolute["expected"], **TOL)
        assert [c.abs_ci_low, c.abs_ci_high] == [pytest.approx(v, **TOL) for v in absolute["ci"]]
        assert c.p_value == pytest.approx(absolute["p_value"], **TOL)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_sequential_interval_and_p_value(case):
    c = _compare(case, "sequential")
    ref = case["sequential_relative"]
    assert [c.ci_low, c.ci_high] == [pytest.approx(v, **TOL) for v in ref["ci"]]
    assert c.p_value == pytest.approx(ref["p_value"], **TOL)
    assert [c.abs_ci_low, c.abs_ci_high] == [pytest.approx(v, **TOL) for v in case["sequential_absolute"]["ci"]]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bayesian_chance_to_win_risk_and_interval(case):
    c = _compare(case, "bayesian")
    ref = case["bayesian_relative"]
    assert c.rel_lift == pytest.approx(ref["expected"], **TOL)
    assert c.chance_to_win == pytest.approx(ref["chance_to_win"], **TOL)
    assert [c.ci_low, c.ci_high] == [pytest.approx(v, **TOL) for v in ref["ci"]]
    # gbstats' risk is [loss if control is kept, loss if the variant is shipped]
    assert [c.risk_control, c.risk] == [pytest.approx(v, **TOL) for v in ref["risk"]]


@pytest.mark.parametrize("case", [c for c in CASES if c["cuped"]], ids=[c["name"] for c in CASES if c["cuped"]])
def test_cuped_theta(case):
    assert _compare(case, "frequentist").theta == pytest.approx(case["theta"], **TOL)


@pytest.mark.parametrize("srm", FIXTURES["srm"], ids=lambda s: str(s["users"]))
def test_srm_p_value(srm):
    names = [f"v{i}" for i in range(len(srm["users"]))]
    result = S.srm_test(dict(zip(names, srm["users"], strict=True)), dict(zip(names, srm["weights"], strict=True)))
    assert result.p_value == pytest.approx(srm["p_value"], **TOL)
