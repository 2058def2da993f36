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
import polars as pl

from ..errors import InputError, OptionError
from ..options import TERMINAL_MIN_GROUP_SIZE, check_min_group_size
from ..periods import format_window
from . import formulas, grammar
from .frame import Assignments, Frame, build_frame, check_frame_path, default_controls, default_features, save_frame
from .models import FittedModel, estimate, interaction_test
from .result import RegressionResult
from .spec import ModelSpec, RunSpec, load_spec

__all__ = ["Assignments", "Frame", "ModelSpec", "RegressionResult", "RunSpec", "build_frame", "load_spec",
           "model_terms", "regress", "save_frame", "check_frame_path"]


def regress(frame: Frame, run: RunSpec, source: dict[str, Any] | None = None,
            min_group_size: int = TERMINAL_MIN_GROUP_SIZE) -> RegressionResult:
    """Fit every model of ``run`` on ``frame``; ``source`` is the events source for ``params``.

    ``min_group_size``: with ``by``, the levels whose rows hold fewer distinct users than this are not
    fitted or reported, and the pooled model uses the other levels only (small-cell suppression,
    docs/privacy.md); a note says how many levels were left out.
    """
    check_min_group_size(min_group_size)
    terms = [model_terms(spec, frame) for spec in run.models]
    reads = [_columns_read(spec, formula, frame) for spec, (formula, _) in zip(run.models, terms, strict=True)]
    # only the columns the models read go to pandas (not the text ids of millions of rows)
    data = frame.to_pandas([c for c in frame.data.columns if c in set().union(*reads)])
    models: list[FittedModel] = []
    notes: list[str] = []
    for i, (spec, (formula, controls), read) in enumerate(zip(run.models, terms, reads, strict=True), 1):
        name = spec.name or f"({i})"
        if spec.by:
            reported = _reported_levels(data, frame, spec.by, read, min_group_size, name, notes)
            models += _fit_by(data, spec, formula, controls, name, reported)
        else:
            models.append(estimate(data, formula, spec.model, name=name, cluster=spec.cluster,
                                   robust=spec.robust, controls=controls).report)
    if not models:
        raise InputError(f"--by: every level has fewer than {min_group_size:,} users (--min-group-size, "
                         f"[privacy] min_group_size in reports): no model to report")
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
        "min_group_size": min_group_size,
    }
    return RegressionResult(params=params, models=models, frame=frame.describe(), warnings=list(frame.warnings),
                            notes=notes)


def model_terms(spec: ModelSpec, frame: Frame) -> tuple[str, tuple[str, ...]]:
    """The formula of ``spec`` and its control terms (defaults of the frame's unit where not given),
    both in the canonical text of :mod:`.grammar` (a term outside the grammar is an OptionError)."""
    if spec.formula is not None:
        return grammar.check_formula(spec.formula).text, ()
    features = spec.features if spec.features is not None else tuple(default_features(frame))
    controls = spec.controls if spec.controls is not None else tuple(default_controls(frame))
    # canonical controls: their patsy term names must match those of the fitted formula (roles)
    controls = tuple(grammar.check_terms(c).text for c in controls)
    features = tuple(grammar.check_terms(f).text for f in features)
    return grammar.check_formula(formulas.compose(spec.outcome, (*features, *controls))).text, controls


def _columns_read(spec: ModelSpec, formula: str, frame: Frame) -> set[str]:
    """Frame columns read by ``formula``, ``--cluster`` and ``--by``; raise naming any that do not exist."""
    columns = frame.data.columns
    for option, column in (("--cluster", spec.cluster), ("--by", spec.by)):
        if column is not None and column not in columns:
            raise OptionError(f"{option} {column!r} is not a column of the {frame.unit} frame; columns: "
                              f"{', '.join(columns)}")
    read = set(grammar.check_formula(formula).columns)
    unknown = sorted(read - set(columns))
    if unknown:
        raise OptionError(f"formula {formula!r}: {unknown[0]!r} is not a column of the {frame.unit} frame; "
                          f"columns: {', '.join(columns)}")
    return (read & set(columns)) | {c for c in (spec.cluster, spec.by) if c}


def _reported_levels(data: pd.DataFrame, frame: Frame, column: str, read: set[str], min_group_size: int,
                     name: str, notes: list[str]) -> list[Any]:
    """The levels of ``column`` (sorted) whose model rows -- those with a value in every column the model
    reads, as statsmodels drops the others -- hold at least ``min_group_size`` distinct users; a note
    counts the others (never naming them)."""
    levels = sorted(data[column].dropna().unique().tolist())
    if len(levels) < 2:
        raise OptionError(f"--by {column}: the frame has {len(levels)} level(s) ({', '.join(map(str, levels))}); "
                          f"nothing to compare")
    if min_group_size <= 1:
        return levels
    rows = frame.data.filter(pl.all_horizontal(pl.col(c).is_not_null() for c in read))
    users = dict(rows.group_by(column).agg(pl.col("user_id").n_unique()).iter_rows())
    reported = [level for level in levels if users.get(level, 0) >= min_group_size]
    if len(reported) < len(levels):
        notes.append(f"{name}: {len(levels) - len(reported):,} level(s) of {column} with fewer than "
                     f"{min_group_size:,} users are not reported (small-cell suppression); "
                     + (f"the pooled × {column} model uses the {len(reported):,} reported levels only"
                        if len(reported) >= 2 else f"fewer than two levels remain: no pooled × {column} model"))
    return reported


def _fit_by(data: pd.DataFrame, spec: ModelSpec, formula: str, controls: tuple[str, ...],
            name: str, levels: list[Any]) -> list[FittedModel]:
    """The model within each of ``levels`` of ``spec.by`` plus, with two levels or more, the pooled model
    over them with a Wald test of the interactions."""
    column = spec.by
    assert column is not None
    fits = []
    within = formulas.without_variable(formula, column)
    for level in levels:
        fitted = estimate(data[data[column] == level], within, spec.model, name=f"{name} {column}={level}",
                          cluster=spec.cluster, robust=spec.robust, controls=controls)
        fitted.report.subset = {"column": column, "level": level}
        fits.append(fitted.report)
    if len(levels) < 2:
        return fits
    rows = data[data[column].isin(levels)]
    if isinstance(rows[column].dtype, pd.CategoricalDtype):
        # a suppressed level must not become an (empty) dummy column: its name would appear in the model
        rows = rows.assign(**{column: rows[column].cat.remove_unused_categories()})
    pooled = estimate(rows, formulas.interacted(formula, column), spec.model,
                      name=f"{name} pooled × {column}", cluster=spec.cluster, robust=spec.robust,
                      controls=controls)
    pooled.report.subset = {"column": column, "level": None}
    pooled.report.interaction_test = interaction_test(pooled, column)
    fits.append(pooled.report)
    return fits
