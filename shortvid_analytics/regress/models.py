"""Estimating one model on the modelling frame with the statsmodels formula API.

:func:`estimate` fits ``logit``/``probit``/``ols``/``poisson``/``negbin`` with classical,
heteroscedasticity-robust or cluster-robust standard errors and reports what a paper needs:
coefficients, standard errors, z/t, p, 95% CI, odds ratios (logit), incidence-rate ratios
(poisson/negbin), average marginal effects with standard errors, N, clusters, fit statistics and
VIFs. Problems that make estimates meaningless (a term without variance, perfect collinearity,
separation, non-convergence, a singular Hessian) become one-line warnings, never tracebacks; terms
without variance or perfectly collinear with earlier ones are dropped before fitting, as Stata does.
"""

from __future__ import annotations

import builtins
import math
import warnings as pywarnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import patsy.builtins
import statsmodels.formula.api as smf
from patsy import EvalEnvironment, ModelDesc, PatsyError, dmatrix
from scipy.linalg import solve_triangular
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from ..errors import InputError, OptionError, first_line
from . import formulas, grammar
from .margins import average_marginal_effects

_FACTORIES: dict[str, Callable[..., Any]] = {
    "logit": smf.logit,
    "probit": smf.probit,
    "ols": smf.ols,
    "poisson": smf.poisson,
    "negbin": smf.negativebinomial,
}
#: Keyword arguments of ``.fit()`` per model (statsmodels' default optimiser, more iterations).
FIT_OPTIONS: dict[str, dict[str, Any]] = {
    "logit": {"disp": 0, "maxiter": 100},
    "probit": {"disp": 0, "maxiter": 100},
    "ols": {},
    "poisson": {"disp": 0, "maxiter": 100},
    "negbin": {"disp": 0, "maxiter": 200},
}
BINARY_MODELS = ("logit", "probit")


class _Refused:
    """Stands in for a name patsy would otherwise resolve to a Python or patsy built-in."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NameError(f"{self.name!r} is not available in formulas")


#: The names a formula evaluated by patsy resolves: the grammar's transforms (``np`` holds only
#: log, log1p and sqrt) and patsy's C, I, Treatment, center, scale/standardize. Every other Python
#: and patsy built-in is shadowed by a :class:`_Refused`, so that a formula that somehow bypassed
#: :mod:`.grammar` still reaches no ``__import__``, ``open`` or ``eval`` (patsy evaluates factors
#: with the interpreter's built-ins in scope, and adds all of its own after this namespace).
FORMULA_NAMESPACE: dict[str, Any] = {
    **{name: _Refused(name) for name in (*dir(builtins), *patsy.builtins.__all__)},
    "np": SimpleNamespace(log=np.log, log1p=np.log1p, sqrt=np.sqrt),
    **{name: getattr(patsy.builtins, name) for name in ("C", "I", "Treatment", "center", "scale", "standardize")},
}
VIF_WARN = 10.0
#: Fitted probabilities this close to 0 or 1 count as perfect predictions (separation).
_PERFECT = 1e-10
#: A design column whose residual sum of squares on the earlier columns is below this share of its
#: own sum of squares is treated as a linear combination of them.
_COLLINEAR_TOL = 1e-10


@dataclass
class Coefficient:
    """One design column of a fitted model (``term`` is statsmodels' column name)."""

    term: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    odds_ratio: float | None = None
    irr: float | None = None
    ame: float | None = None
    ame_std_error: float | None = None
    role: str = "feature"


@dataclass
class WaldTest:
    """Joint test that the listed coefficients are all zero (chi2, or F for t-based models)."""

    terms: list[str]
    statistic: float
    df: int
    p_value: float
    distribution: str


@dataclass
class FittedModel:
    """Everything reported about one estimated model (the JSON ``models[i]`` object)."""

    name: str
    model: str
    formula: str
    outcome: str
    n: int
    n_clusters: int | None
    cov_type: str
    cluster: str | None
    statistic: str
    coefficients: list[Coefficient]
    fit: dict[str, Any]
    vif: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    subset: dict[str, Any] | None = None
    interaction_test: WaldTest | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form; ``statistic`` names the test statistic of every coefficient (``z`` or ``t``)."""
        return asdict(self)


@dataclass
class Fitted:
    """The report of a model together with the statsmodels result it was read from (for Wald tests)."""

    report: FittedModel
    result: Any


def estimate(
    data: pd.DataFrame,
    formula: str,
    model: str,
    *,
    name: str,
    cluster: str | None = None,
    robust: str | None = None,
    controls: tuple[str, ...] = (),
) -> Fitted:
    """Fit ``formula`` with statsmodels' ``model`` on ``data`` (rows with missing values are dropped).

    Standard errors: cluster-robust by column ``cluster`` (a column of ``data``), else
    heteroscedasticity-robust ``robust`` (HC0-HC3 for ols; HC0 or HC1 for the maximum-likelihood
    models, see :func:`covariance`), else classical. ``controls`` are the terms reported with role ``control``.
    """
    formula = _checked(formula, data)  # the reported formula is the fitted, canonical one
    notes: list[str] = []
    if cluster is not None:
        missing = int(data[cluster].isna().sum())
        if missing:
            notes.append(f"{missing:,} rows without {cluster} dropped (cluster-robust standard errors need it)")
            data = data[data[cluster].notna()]
    sm_model = _build(model, formula, data)
    degenerate = _degenerate_terms(sm_model)
    if degenerate:
        for term, reason in degenerate.items():
            notes.append(f"term {term} {reason}; dropped from the model")
        formula = _checked(formulas.drop_terms(formula, degenerate), data)
        sm_model = _build(model, formula, data)
    outcome = sm_model.endog_names
    _check_variance(sm_model.endog, outcome)

    cov_type, cov_kwds, n_clusters, label = covariance(sm_model, data, model, cluster, robust)
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        result = sm_model.fit(cov_type=cov_type, cov_kwds=cov_kwds, **FIT_OPTIONS[model])
    notes += _fit_warnings(result, model, caught)
    if model in BINARY_MODELS:
        notes += _separation_warnings(sm_model, result, outcome)

    has_interactions = any(formulas.is_interaction(n) for n in _columns(sm_model))
    ame = _marginal_effects(result, model, has_interactions, notes)
    roles = _roles(sm_model, controls)
    vif = _vif(sm_model)
    high = [f"{v['term']} ({v['vif']:.1f})" for v in vif if v["vif"] is not None and v["vif"] > VIF_WARN]
    if high:
        notes.append(f"collinearity: VIF above {VIF_WARN:g} for {', '.join(high)}")

    report = FittedModel(
        name=name,
        model=model,
        formula=formula,
        outcome=outcome,
        n=int(result.nobs),
        n_clusters=n_clusters,
        cov_type=label,
        cluster=cluster,
        statistic="t" if result.use_t else "z",
        coefficients=_coefficients(result, model, ame, roles),
        fit=_fit_statistics(result, model),
        vif=vif,
        warnings=notes,
    )
    return Fitted(report=report, result=result)


def covariance(
    sm_model: Any, data: pd.DataFrame, model: str, cluster: str | None, robust: str | None
) -> tuple[str, dict[str, Any] | None, int | None, str]:
    """statsmodels ``cov_type``/``cov_kwds``, the number of clusters and the reported label.

    statsmodels computes HC1-HC3 only for OLS; for the maximum-likelihood models it silently returns
    HC0 for all four. HC1 for them is HC0 scaled by n/(n - k) (as R's ``sandwich::vcovHC(type =
    "HC1")``), obtained from statsmodels' cluster estimator with one cluster per row, whose small-sample
    correction G/(G - 1) * (n - 1)/(n - k) is exactly n/(n - k) when G = n.
    """
    if cluster is not None:
        groups = pd.factorize(data.loc[sm_model.data.row_labels, cluster])[0]
        return "cluster", {"groups": groups}, int(groups.max()) + 1, f"cluster({cluster})"
    if robust is None:
        return "nonrobust", None, None, "nonrobust"
    if model == "ols" or robust == "HC0":
        return robust, None, None, robust
    return "cluster", {"groups": np.arange(sm_model.exog.shape[0])}, None, robust


def interaction_test(fitted: Fitted, column: str) -> WaldTest | None:
    """Wald test that every interaction with ``C(column)`` is zero (do the effects differ by level?)."""
    names = list(fitted.result.params.index)
    terms = [n for n in names if formulas.is_interaction(n) and f"C({column})" in n]
    if not terms:
        return None
    restriction = np.zeros((len(terms), len(names)))
    for row, term in enumerate(terms):
        restriction[row, names.index(term)] = 1.0
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        test = fitted.result.wald_test(restriction, scalar=True)
    return WaldTest(terms=terms, statistic=float(test.statistic), df=len(terms), p_value=float(test.pvalue),
                    distribution="F" if fitted.result.use_t else "chi2")


def _build(model: str, formula: str, data: pd.DataFrame) -> Any:
    # the last gate before patsy: only a formula the grammar accepts, over the columns of the data
    formula = _checked(formula, data)
    env = EvalEnvironment([FORMULA_NAMESPACE])
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            if model != "ols":
                # statsmodels refuses an outcome outside the model's domain with a cryptic message
                lhs = formulas.parse(formula).lhs_termlist
                outcome = dmatrix(ModelDesc([], lhs), data, eval_env=env, NA_action="drop")
                _check_domain(np.asarray(outcome)[:, 0], model, lhs[0].name())
            sm_model = _FACTORIES[model](formula, data=data, missing="drop", eval_env=env)
    except (PatsyError, NameError, KeyError, ValueError, TypeError) as exc:
        raise OptionError(f"formula {formula!r}: {first_line(exc)}; frame columns: {', '.join(data.columns)}") from None
    if sm_model.exog.shape[0] == 0:
        raise InputError(f"formula {formula!r}: no rows left once rows with missing values are dropped")
    return sm_model


def _checked(formula: str, data: pd.DataFrame) -> str:
    """The canonical text of ``formula`` (:mod:`.grammar`); every column it reads must be in ``data``."""
    checked = grammar.check_formula(formula)
    unknown = sorted(checked.columns - set(data.columns))
    if unknown:
        raise OptionError(f"formula {formula!r}: {unknown[0]!r} is not a column; frame columns: "
                          f"{', '.join(data.columns)}")
    return checked.text


def _degenerate_terms(sm_model: Any) -> dict[str, str]:
    """Terms (patsy names) with a design column that is constant or a linear combination of earlier ones.

    Columns are taken in order; a column is kept when its squared residual on the kept ones (from an
    incremental Cholesky factor of X'X, O(k³) overall) exceeds ``_COLLINEAR_TOL`` times its own sum
    of squares, so of a collinear set the later column is named.
    """
    exog = np.asarray(sm_model.exog, dtype=float)
    names = _columns(sm_model)
    column_term = _column_terms(sm_model)
    gram = exog.T @ exog
    factor = np.zeros_like(gram)  # rows/columns 0..m-1: Cholesky factor of the kept columns' Gram matrix
    kept: list[int] = []
    found: dict[str, str] = {}
    for j, name in enumerate(names):
        column = exog[:, j]
        if name != "Intercept" and np.ptp(column) == 0:
            found.setdefault(column_term[j], f"has no variance (every row is {column[0]:g})")
            continue
        m = len(kept)
        projection = solve_triangular(factor[:m, :m], gram[kept, j], lower=True) if m else np.zeros(0)
        residual = gram[j, j] - projection @ projection
        if residual <= _COLLINEAR_TOL * gram[j, j]:
            found.setdefault(column_term[j], f"is a linear combination of other terms ({name}: perfect collinearity)")
            continue
        factor[m, :m] = projection
        factor[m, m] = np.sqrt(residual)
        kept.append(j)
    return found


def _columns(sm_model: Any) -> list[str]:
    """Names of the design columns (``exog_names`` also lists ancillary parameters such as negbin's alpha)."""
    return list(sm_model.data.model_spec.column_names)


def _column_terms(sm_model: Any) -> list[str]:
    """The patsy term name of each design column."""
    out = [""] * sm_model.exog.shape[1]
    for term, columns in sm_model.data.model_spec.term_slices.items():
        for j in range(columns.start, columns.stop):
            out[j] = term.name()
    return out


def _roles(sm_model: Any, controls: tuple[str, ...]) -> list[str]:
    control_terms = set(formulas.term_names(" + ".join(controls))) if controls else set()
    roles = []
    for name, term in zip(_columns(sm_model), _column_terms(sm_model), strict=True):
        if name == "Intercept":
            roles.append("intercept")
        elif term in control_terms:
            roles.append("control")
        elif formulas.is_interaction(name):
            roles.append("interaction")
        else:
            roles.append("feature")
    return roles


def _check_domain(values: np.ndarray, model: str, outcome: str) -> None:
    if model in BINARY_MODELS and not np.isin(values, (0.0, 1.0)).all():
        raise OptionError(f"--model {model} needs a 0/1 outcome; {outcome} takes other values "
                          f"(use --outcome purchased, or --model ols|poisson|negbin)")
    if model in ("poisson", "negbin") and (values < 0).any():
        raise OptionError(f"--model {model} needs a non-negative outcome; {outcome} has negative values")


def _check_variance(endog: np.ndarray, outcome: str) -> None:
    values = np.asarray(endog, dtype=float)
    if np.ptp(values) == 0:
        raise InputError(f"outcome {outcome} is {values[0]:g} in all {values.size:,} rows: nothing to estimate")


def _fit_warnings(result: Any, model: str, caught: list[pywarnings.WarningMessage]) -> list[str]:
    """Non-convergence and a singular Hessian, from the optimiser's report and the warnings it raised."""
    notes: list[str] = []
    retvals = getattr(result, "mle_retvals", None) or {}
    if not retvals.get("converged", True) or any(issubclass(w.category, ConvergenceWarning) for w in caught):
        notes.append(f"{model} did not converge ({FIT_OPTIONS[model].get('maxiter')} iterations at most); "
                     f"estimates and standard errors are unreliable")
    if not np.isfinite(np.asarray(result.cov_params())).all():
        notes.append("the Hessian is not invertible: standard errors are unavailable (see the other warnings)")
    return notes


def _separation_warnings(sm_model: Any, result: Any, outcome: str) -> list[str]:
    """Name the 0/1 columns that predict the outcome perfectly and count perfectly predicted rows."""
    y = np.asarray(sm_model.endog, dtype=float)
    exog = np.asarray(sm_model.exog, dtype=float)
    notes = []
    for j, name in enumerate(_columns(sm_model)):
        column = exog[:, j]
        if name == "Intercept" or not np.isin(column, (0.0, 1.0)).all():
            continue
        for level in (1.0, 0.0):
            rows = y[column == level]
            if 0 < rows.size < y.size and np.ptp(rows) == 0:
                notes.append(f"separation: {name} = {level:g} predicts {outcome} = {rows[0]:g} in all {rows.size:,} "
                             f"such rows; its estimate and standard error are not meaningful")
    fitted = np.asarray(result.predict(), dtype=float)
    perfect = int(((fitted < _PERFECT) | (fitted > 1 - _PERFECT)).sum())
    if perfect == y.size:
        notes.append(f"complete separation: the model predicts all {perfect:,} rows perfectly; "
                     f"the estimates are not meaningful")
    elif perfect:
        notes.append(f"quasi-complete separation: {perfect:,} rows are predicted with probability 0 or 1")
    return notes


def _marginal_effects(result: Any, model: str, has_interactions: bool,
                      notes: list[str]) -> dict[str, tuple[float, float]]:
    """Average marginal effects by design column: the numbers of statsmodels'
    ``get_margeff(at="overall", method="dydx", dummy=True)``, computed in bounded memory (:mod:`.margins`)."""
    if model == "ols":
        # a linear model's marginal effect of a column is its coefficient
        return {t: (float(result.params[t]), float(result.bse[t])) for t in result.params.index if t != "Intercept"}
    if has_interactions:
        notes.append("average marginal effects omitted: with interaction terms the effect of a variable "
                     "is not the effect of one design column")
        return {}
    cov = np.asarray(result.cov_params(), dtype=float)
    if not np.isfinite(cov).all():
        return {}
    return average_marginal_effects(model, np.asarray(result.model.exog, dtype=float),
                                    np.asarray(result.params, dtype=float), cov, _columns(result.model))


def _coefficients(result: Any, model: str, ame: dict[str, tuple[float, float]], roles: list[str]) -> list[Coefficient]:
    ci = np.asarray(result.conf_int(alpha=0.05))
    out = []
    role_of = dict(zip(_columns(result.model), roles, strict=True))
    for i, term in enumerate(result.params.index):
        estimate = float(result.params.iloc[i])
        effect = ame.get(term)
        out.append(Coefficient(
            term=str(term),
            estimate=estimate,
            std_error=float(result.bse.iloc[i]),
            statistic=float(result.tvalues.iloc[i]),
            p_value=float(result.pvalues.iloc[i]),
            ci_low=float(ci[i, 0]),
            ci_high=float(ci[i, 1]),
            odds_ratio=_exp(estimate) if model == "logit" else None,
            irr=_exp(estimate) if model in ("poisson", "negbin") and term != "alpha" else None,
            ame=effect[0] if effect else None,
            ame_std_error=effect[1] if effect else None,
            role=role_of.get(term, "ancillary"),
        ))
    return out


def _fit_statistics(result: Any, model: str) -> dict[str, Any]:
    retvals = getattr(result, "mle_retvals", None) or {}
    fit: dict[str, Any] = {
        "llf": float(result.llf),
        "pseudo_r2": None,
        "aic": float(result.aic),
        "bic": float(result.bic),
        "df_model": float(result.df_model),
        "df_resid": float(result.df_resid),
    }
    if model == "ols":
        fit |= {"r2": float(result.rsquared), "adj_r2": float(result.rsquared_adj),
                "f_statistic": _float(result.fvalue), "f_p_value": _float(result.f_pvalue)}
    else:
        fit |= {"pseudo_r2": float(result.prsquared), "llnull": float(result.llnull),
                "lr_statistic": float(result.llr), "lr_p_value": float(result.llr_pvalue),
                "converged": bool(retvals.get("converged", True)), "iterations": retvals.get("iterations")}
    return fit


def _vif(sm_model: Any) -> list[dict[str, Any]]:
    """Variance inflation factor of every non-constant design column (None when undefined).

    Equal to statsmodels' ``variance_inflation_factor(exog, j)``, which standardises the columns and
    returns 1 / (1 - R²_j) of the regression of column j on the others: that is the j-th diagonal
    element of the inverse correlation matrix of the non-constant columns. One k×k inverse instead of
    k least-squares fits over all rows (minutes for a frame of millions of rows); tests check the
    identity against statsmodels.
    """
    exog = np.asarray(sm_model.exog, dtype=float)
    names = _columns(sm_model)
    varying = [j for j in range(exog.shape[1]) if np.std(exog[:, j]) > 1e-10]
    if len(varying) < 2:
        return [{"term": names[j], "vif": 1.0} for j in varying]
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            diagonal = np.diag(np.linalg.inv(np.corrcoef(exog[:, varying], rowvar=False)))
        except np.linalg.LinAlgError:
            diagonal = np.full(len(varying), np.nan)
    return [{"term": names[j], "vif": _float(v)} for j, v in zip(varying, diagonal, strict=True)]


def _exp(value: float) -> float | None:
    try:
        return math.exp(value)
    except OverflowError:
        return None


def _float(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
