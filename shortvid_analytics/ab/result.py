"""The result of an A/B analysis: per-variant values and comparisons of each metric, per block."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..results import AnalysisResult
from .stats import SRM, Comparison, MetricType


@dataclass
class VariantSummary:
    """One variant's value of one metric: users, mean (ratio: Σnum/Σden) and per-user sd."""

    variant: str
    users: int
    mean: float | None
    sd: float | None
    sum: float
    denominator: float | None = None


@dataclass
class MetricResult:
    """One metric: its per-variant values and each variant's comparison with control."""

    metric: str
    type: MetricType
    cuped: bool
    variants: list[VariantSummary]
    comparisons: list[Comparison]
    cap_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "type": self.type, "cuped": self.cuped, "cap_value": self.cap_value,
                "variants": [vars(v) for v in self.variants], "comparisons": [vars(c) for c in self.comparisons]}


@dataclass
class SuppressedSegments:
    """The ``--by`` segments not analysed because a variant has fewer than ``min_group_size`` users in
    them: how many (``groups``) and their users per variant, summed (no statistics)."""

    groups: int
    users: dict[str, int]


@dataclass
class ABResult(AnalysisResult):
    """Result of ``shortvid ab``: SRM check, per-metric variant values and comparisons with control.

    ``segments`` holds the same analysis per value of the ``--by`` column (empty without it), except
    the segments with fewer than ``min_group_size`` users in some variant, counted in
    ``suppressed_segments``.
    """

    kind = "ab"
    experiment: str = ""
    control: str = "control"
    method: str = "frequentist"
    alpha: float = 0.05
    srm: SRM | None = None
    users: dict[str, int] = field(default_factory=dict)
    excluded_multi_variant_users: int = 0
    incomplete_assignment_rows: int = 0
    metrics: list[MetricResult] = field(default_factory=list)
    segments: list[tuple[str, list[MetricResult]]] = field(default_factory=list)
    suppressed_segments: SuppressedSegments | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        srm = self.srm
        body: dict[str, Any] = {
            "experiment": self.experiment,
            "control": self.control,
            "method": self.method,
            "srm": None if srm is None else {"p_value": srm.p_value, "chi2": srm.chi2, "observed": srm.observed,
                                             "expected_share": srm.expected_share, "warning": srm.warning},
            "users": self.users,
            "excluded_multi_variant_users": self.excluded_multi_variant_users,
            "incomplete_assignment_rows": self.incomplete_assignment_rows,
            "metrics": [m.to_dict() for m in self.metrics],
        }
        if self.params.get("by") is not None:
            body["segments"] = [{"segment": s, "suppressed": False, "suppressed_groups": 0, "users": segment_users(ms),
                                 "metrics": [m.to_dict() for m in ms]} for s, ms in self.segments]
            pooled = self.suppressed_segments
            if pooled is not None:
                body["segments"].append({"segment": None, "suppressed": True, "suppressed_groups": pooled.groups,
                                         "users": pooled.users, "metrics": []})
        body["notes"] = self.notes
        body["warnings"] = self.warnings
        return body

    def blocks(self) -> list[tuple[str | None, list[MetricResult]]]:
        """The overall block (segment None) followed by one block per segment."""
        return [(None, self.metrics), *self.segments]

    def to_frame(self) -> pl.DataFrame:
        """One row per segment × metric × variant; comparison columns are null on the control row.

        The suppressed segments add one row per variant (``suppressed`` true, segment and metric
        null) with their users and no statistics."""
        rows = []
        for segment, metrics in self.blocks():
            for m in metrics:
                by_variant = {c.variant: c for c in m.comparisons}
                for v in m.variants:
                    c = by_variant.get(v.variant)
                    rows.append({
                        "segment": segment, "metric": m.metric, "type": m.type, "variant": v.variant,
                        "users": v.users, "mean": v.mean, "sd": v.sd,
                        **{k: getattr(c, k) if c else None for k in _FRAME_COMPARISON_COLUMNS}, "suppressed": False,
                    })
        if self.suppressed_segments is not None:
            rows += [{"variant": v, "users": n, "suppressed": True} for v, n in self.suppressed_segments.users.items()]
        schema = {"segment": pl.String, "metric": pl.String, "type": pl.String, "variant": pl.String,
                  "users": pl.Int64, "mean": pl.Float64, "sd": pl.Float64,
                  **{k: pl.Boolean if k == "significant" else pl.Float64 for k in _FRAME_COMPARISON_COLUMNS},
                  "suppressed": pl.Boolean}
        return pl.DataFrame([{k: row.get(k) for k in schema} for row in rows], schema=schema)


def segment_users(metrics: list[MetricResult]) -> dict[str, int]:
    """Users per variant of a block (every metric is computed over all of the block's users)."""
    return {v.variant: v.users for v in metrics[0].variants} if metrics else {}


_FRAME_COMPARISON_COLUMNS = ("abs_diff", "abs_ci_low", "abs_ci_high", "rel_lift", "ci_low", "ci_high", "p_value",
                             "p_adjusted", "chance_to_win", "risk", "theta", "variance_reduction", "significant")
