"""The publication table: stars for known p-values, SE in parentheses, fit rows, and the three formats."""

from __future__ import annotations

import pytest

from shortvid_analytics.errors import OptionError
from shortvid_analytics.regress.models import Coefficient, FittedModel, WaldTest
from shortvid_analytics.regress.result import RegressionResult
from shortvid_analytics.regress.tables import label, publication_table, stars, table_format


def coefficient(term: str, estimate: float, se: float, p: float, role: str = "feature") -> Coefficient:
    return Coefficient(term=term, estimate=estimate, std_error=se, statistic=estimate / se, p_value=p,
                       ci_low=estimate - 1.96 * se, ci_high=estimate + 1.96 * se, role=role)


def model(name: str, kind: str, coefficients: list[Coefficient], **fit) -> FittedModel:
    return FittedModel(name=name, model=kind, formula="y ~ x", outcome="purchased", n=12345,
                       n_clusters=fit.pop("n_clusters", None), cov_type=fit.pop("cov_type", "nonrobust"),
                       cluster=None, statistic="z", coefficients=coefficients,
                       fit={"llf": -1234.56, "pseudo_r2": None, "aic": 2480.1, "bic": 2500.9} | fit)


@pytest.fixture
def result() -> RegressionResult:
    first = model("(1)", "logit", [
        coefficient("Intercept", -2.5, 0.2, 1e-12, "intercept"),
        coefficient("liked", 0.81234, 0.1, 0.0004),                 # ***
        coefficient("shared", 0.2, 0.1, 0.04),                      # **
        coefficient("watch_min", -0.15, 0.09, 0.0999),              # *
        coefficient("C(platform)[T.kuaishou]", 0.3, 0.2, 0.2, "control"),
    ], pseudo_r2=0.0512, n_clusters=30, cov_type="cluster(creator_id)")
    second = model("(2) LPM", "ols", [
        coefficient("Intercept", 0.05, 0.01, 1e-6, "intercept"),
        coefficient("liked", 0.1, 0.1, 0.1),                        # exactly 0.10: no star
        coefficient("liked:C(platform)[T.kuaishou]", 0.02, 0.01, 0.011, "interaction"),  # **
    ], r2=0.0301)
    second.interaction_test = WaldTest(terms=["liked:C(platform)[T.kuaishou]"], statistic=4.0, df=1,
                                       p_value=0.0456, distribution="chi2")
    return RegressionResult(params={"stars": [0.10, 0.05, 0.01], "labels": {"shared": "Shared the video"}},
                            models=[first, second])


@pytest.mark.parametrize(("p", "expected"), [(0.5, ""), (0.1, ""), (0.0999, "*"), (0.05, "*"), (0.049, "**"),
                                             (0.01, "**"), (0.0099, "***"), (0.0, "***"), (None, ""),
                                             (float("nan"), "")])
def test_stars_count_the_thresholds_strictly_below(p, expected):
    assert stars(p, (0.10, 0.05, 0.01)) == expected


def test_custom_thresholds():
    assert stars(0.04, (0.05, 0.01, 0.001)) == "*" and stars(0.0005, (0.05, 0.01, 0.001)) == "***"


def test_labels():
    assert label("C(platform)[T.kuaishou]") == "platform: kuaishou"
    assert label("C(traffic_source, Treatment('recommend'))[T.live]") == "traffic_source: live"
    assert label("liked:C(platform)[T.kuaishou]") == "liked × platform: kuaishou"
    assert label("np.log1p(likes)") == "np.log1p(likes)"
    assert label("liked", {"liked": "Liked"}) == "Liked"


def test_markdown_table(result):
    text = publication_table(result, "markdown")
    assert text.splitlines()[:15] == [
        "|  | (1) | (2) LPM |",
        "|---|---:|---:|",
        r"| liked | 0.812\*\*\* | 0.100 |",
        "|  | (0.100) | (0.100) |",
        r"| Shared the video | 0.200\*\* |  |",
        "|  | (0.100) |  |",
        r"| watch_min | -0.150\* |  |",
        "|  | (0.090) |  |",
        r"| liked × platform: kuaishou |  | 0.020\*\* |",
        "|  |  | (0.010) |",
        r"| Intercept | -2.500\*\*\* | 0.050\*\*\* |",
        "|  | (0.200) | (0.010) |",
        "| platform | Yes | No |",
        "| Model | logit | ols |",
        "| Outcome | purchased | purchased |",
    ]
    assert "| Observations | 12,345 | 12,345 |" in text
    assert "| Clusters | 30 |  |" in text
    assert "| Standard errors | cluster(creator_id) | nonrobust |" in text
    assert "| Log-likelihood | -1,234.6 | -1,234.6 |" in text
    assert "| Pseudo R² | 0.051 |  |" in text and "| R² |  | 0.030 |" in text
    assert "| Interactions = 0 (p) |  | 4.00 (0.046) |" in text
    assert text.rstrip().endswith(r"Standard errors in parentheses. \* p<0.1, \*\* p<0.05, \*\*\* p<0.01.")


def test_latex_table_uses_booktabs(result):
    text = publication_table(result, "latex")
    lines = text.splitlines()
    assert lines[1] == r"\begin{tabular}{lcc}" and lines[2] == r"\toprule"
    assert r"\midrule" in lines and lines[-3] == r"\bottomrule" and lines[-1] == r"\end{tabular}"
    assert r"liked & $0.812^{***}$ & $0.100$ \\" in lines
    assert r" & $(0.100)$ & $(0.100)$ \\" in lines
    assert r"watch\_min & $-0.150^{*}$ &  \\" in lines
    assert r"liked $\times$ platform: kuaishou &  & $0.020^{**}$ \\" in lines
    assert r"Observations & $12{,}345$ & $12{,}345$ \\" in lines
    assert r"Pseudo R$^2$ & $0.051$ &  \\" in lines
    assert r"Standard errors & cluster(creator\_id) & nonrobust \\" in lines


def test_html_table(result):
    text = publication_table(result, "html")
    assert '<table class="regression">' in text and text.rstrip().endswith("</table>")
    assert '<tr class="estimate"><th scope="row">liked</th><td>0.812<sup>***</sup></td><td>0.100</td></tr>' in text
    assert '<tr class="std-error"><th scope="row"></th><td>(0.100)</td><td>(0.100)</td></tr>' in text
    assert "<th scope=\"col\">(2) LPM</th>" in text


def test_table_format_from_file_name():
    assert [table_format(p) for p in ("a.md", "b.TEX", "c.html")] == ["markdown", "latex", "html"]
    with pytest.raises(OptionError, match="--table out.pdf"):
        table_format("out.pdf")
