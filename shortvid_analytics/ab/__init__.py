"""A/B experiment analysis: ``analyze`` (events + assignments -> :class:`ABResult`) and ``power``.

The heavy part (per-user metric values, per-variant sums) runs in SQL (:mod:`.metrics`); the
statistics are pure functions of those sums (:mod:`.stats`); :mod:`.analysis` puts them together per
block and :mod:`.sizing` plans an experiment's size. See ``docs/ab.md``.
"""

from __future__ import annotations

from .analysis import CORRECTIONS, METHODS, analyze, check_cuped_days, parse_split
from .result import ABResult, MetricResult, SuppressedSegments, VariantSummary
from .sizing import PowerResult, power

__all__ = ["CORRECTIONS", "METHODS", "ABResult", "MetricResult", "PowerResult", "SuppressedSegments",
           "VariantSummary", "analyze", "check_cuped_days", "parse_split", "power"]
