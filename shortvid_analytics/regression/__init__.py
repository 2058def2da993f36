"""Engagement-to-purchase regressions: modelling frame in SQL, estimation with statsmodels, publication tables.

- :mod:`.frame` builds the frame (one row per user, (user, video) pair or session) in DuckDB;
- :mod:`.spec` holds what to fit (command line or TOML spec file);
- :mod:`.formulas` composes and rewrites model formulas;
- :mod:`.models` estimates one model and reports it;
- :mod:`.tables` writes the side-by-side publication table (Markdown, LaTeX booktabs, HTML).

:func:`regress` is what the ``shortvid regress`` command calls.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pandas as pd

from ..errors import OptionError
from ..periods import format_window
from . import formulas
from .frame import Assignments, Frame, build_frame, default_controls, default_features, save_frame
from .models import FittedModel, estimate, interaction_test
from .result import RegressionResult
from .spec import ModelSpec, RunSpec, load_spec

__all__ = ["Assignments", "Frame", "ModelSpec", "RegressionResult", "RunSpec", "build_frame", "load_spec", "model_terms",
           "regress", "save_frame"]


def regress(frame: Frame, run: RunSpec, source: dict[str, Any] | None = None) -> RegressionResult:
    """Fit every model of ``run`` on ``frame``; ``source`` is the events source for ``params``."""
    data = frame.to_pandas()
    models: list[FittedModel] = []
    for i, spec in enumerate(run.models, 1):
        formula, controls = model_terms(spec, frame)
        name = spec.name or f"({i})"
        if spec.by:
            models += _fit_by(data, spec, formula, controls, name)
        else:
            models.append(estimate(data, formula, spec.model, name=name, cluster=spec.cluster,
                                   robust=spec.robust, controls=controls).report)
    params: dict[str, Any] = {
        "source": source,
        "unit": run.unit,
        "window": format_window(run.window),
        "assignments": run.assignments,
        "experiment": frame.experiment,
        "spec": run.source,
        "stars": list(run.stars),
        "labels": run.labels,
        "models": [asdict(spec) for spec in run.models],
    }
    return RegressionResult(params=params, models=models, frame=frame.describe(), warnings=list(frame.warnings))


def model_terms(spec: ModelSpec, frame: Frame) -> tuple[str, tuple[str, ...]]:
    """The formula of ``spec`` and its control terms (defaults of the frame's unit where not given)."""
    if spec.formula is not None:
        return spec.formula, ()
    features = spec.features if spec.features is not None else tuple(default_features(frame))
    controls = spec.controls if spec.controls is not None else tuple(default_controls(frame))
    return formulas.compose(spec.outcome, (*features, *controls)), tuple(controls)


def _fit_by(data: pd.DataFrame, spec: ModelSpec, formula: str, controls: tuple[str, ...],
            name: str) -> list[FittedModel]:
    """The model within each level of ``spec.by`` plus the pooled model with a Wald test of the interactions."""
    column = spec.by
    assert column is not None
    if column not in data.columns:
        raise OptionError(f"--by {column!r} is not a column of the frame; columns: {', '.join(data.columns)}")
    levels = sorted(data[column].dropna().unique().tolist())
    if len(levels) < 2:
        raise OptionError(f"--by {column}: the frame has {len(levels)} level(s) ({', '.join(map(str, levels))}); "
                          f"nothing to compare")
    fits = []
    within = formulas.without_variable(formula, column)
    for level in levels:
        fitted = estimate(data[data[column] == level], within, spec.model, name=f"{name} {column}={level}",
                          cluster=spec.cluster, robust=spec.robust, controls=controls)
        fitted.report.subset = {"column": column, "level": level}
        fits.append(fitted.report)
    pooled = estimate(data[data[column].notna()], formulas.interacted(formula, column), spec.model,
                      name=f"{name} pooled × {column}", cluster=spec.cluster, robust=spec.robust,
                      controls=controls)
    pooled.report.subset = {"column": column, "level": None}
    pooled.report.interaction_test = interaction_test(pooled, column)
    fits.append(pooled.report)
    return fits
