"""The result of ``shortvid regress``: the fitted models, the frame they were fitted on, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..results import AnalysisResult
from .models import FittedModel

_COEFFICIENT_SCHEMA = {
    "model_name": pl.String, "model": pl.String, "formula": pl.String, "subset_level": pl.String,
    "n": pl.Int64, "n_clusters": pl.Int64, "cov_type": pl.String, "term": pl.String, "role": pl.String,
    "estimate": pl.Float64, "std_error": pl.Float64, "statistic": pl.Float64, "p_value": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "odds_ratio": pl.Float64, "irr": pl.Float64,
    "ame": pl.Float64, "ame_std_error": pl.Float64,
}


@dataclass
class RegressionResult(AnalysisResult):
    """Models side by side; ``frame`` describes the modelling frame (unit, window, rows, columns);
    ``notes`` e.g. the ``--by`` levels left out by small-cell suppression."""

    kind = "regression"
    models: list[FittedModel] = field(default_factory=list)
    frame: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "frame": self.frame,
            "models": [m.to_dict() for m in self.models],
            "warnings": self.warnings,
            "notes": self.notes,
        }

    def to_frame(self) -> pl.DataFrame:
        """One row per (model, coefficient): what ``--format csv|parquet`` writes."""
        rows = []
        for m in self.models:
            level = m.subset["level"] if m.subset else None
            for c in m.coefficients:
                rows.append({
                    "model_name": m.name, "model": m.model, "formula": m.formula,
                    "subset_level": None if level is None else str(level), "n": m.n,
                    "n_clusters": m.n_clusters, "cov_type": m.cov_type, "term": c.term, "role": c.role,
                    "estimate": c.estimate, "std_error": c.std_error, "statistic": c.statistic,
                    "p_value": c.p_value, "ci_low": c.ci_low, "ci_high": c.ci_high, "odds_ratio": c.odds_ratio,
                    "irr": c.irr, "ame": c.ame, "ame_std_error": c.ame_std_error,
                })
        return pl.DataFrame(rows, schema=_COEFFICIENT_SCHEMA)
