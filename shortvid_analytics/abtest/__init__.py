"""A/B experiment analysis: ``analyze`` (events + assignments -> :class:`ABResult`) and ``power``.

The heavy part (per-user metric values, per-variant sums) runs in SQL (:mod:`.metrics`); the
statistics are pure functions of those sums (:mod:`.stats`). See ``docs/ab.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import OptionError
from ..options import MAX_WINDOW, TERMINAL_MIN_GROUP_SIZE, check_int
from ..periods import check_window, format_window
from ..privacy import check_min_group_size
from ..results import AnalysisResult
from ..source import EventSource
from . import stats
from .metrics import Assignments, MetricDef, load_assignments, parse_metric, variant_sums
from .stats import SRM, Comparison, Correction, Method, MetricType, Sums

METHODS: tuple[str, ...] = ("frequentist", "bayesian", "sequential")
CORRECTIONS: tuple[str, ...] = ("holm", "bh", "none")


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


def parse_split(text: str | None, variants: list[str], control: str) -> dict[str, float]:
    """Expected traffic shares: ``50,50`` (control first, then the other variants alphabetically) or
    ``control=50,treatment=50``; default equal. Normalised to sum 1."""
    order = [control, *sorted(v for v in variants if v != control)]
    if not text:
        return {v: 1 / len(order) for v in order}
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        if all("=" in p for p in parts):
            weights = {k.strip(): float(w) for k, w in (p.split("=", 1) for p in parts)}
        else:
            weights = dict(zip(order, (float(p) for p in parts), strict=False))
            if len(parts) != len(order):
                raise OptionError(f"--split {text!r}: {len(parts)} share(s) for {len(order)} variants "
                                  f"({', '.join(order)})")
    except ValueError:
        raise OptionError(f"--split {text!r}: expected numbers such as 50,50 or control=50,treatment=50") from None
    if set(weights) != set(order):
        raise OptionError(f"--split {text!r}: name every variant once: {', '.join(order)}")
    if any(not math.isfinite(w) or w <= 0 for w in weights.values()):
        raise OptionError(f"--split {text!r}: shares must be positive")
    total = sum(weights.values())
    return {v: weights[v] / total for v in order}


def check_cuped_days(days: int) -> int:
    """``--cuped-days``: a whole number of days, at most :data:`MAX_WINDOW` (ten years)."""
    return check_int("--cuped-days", days, 1, MAX_WINDOW.days, "number of days")


def analyze(
    source: EventSource,
    assignments: str | Path,
    metrics: list[str],
    *,
    experiment: str | None = None,
    control: str = "control",
    window: timedelta | None = None,
    split: str | None = None,
    alpha: float = 0.05,
    cuped_days: int | None = None,
    method: Method = "frequentist",
    correction: Correction = "holm",
    by: str | None = None,
    sequential_tuning: float | None = None,
    cap: float | None = None,
    min_group_size: int = TERMINAL_MIN_GROUP_SIZE,
) -> ABResult:
    """Analyse experiment ``experiment`` of ``assignments`` on the events of ``source``.

    ``metrics`` use the grammar of :mod:`.metrics`; ``window`` bounds the time after assignment
    counted; ``cuped_days`` enables CUPED with that many days before assignment as covariate;
    ``by`` breaks results down by a column of the assignments or (first event after assignment)
    of the events. Corrections apply within each block (all users; each segment) across
    metrics × variants. ``sequential_tuning`` defaults to GrowthBook's 5000. ``cap`` (e.g. 0.99)
    caps mean metrics' per-user values at that quantile of all analysed users (pooled over variants).
    ``min_group_size``: a ``by`` segment with fewer users than this in any variant is not analysed
    (small-cell suppression, docs/privacy.md); its users are summed in ``suppressed_segments``. The
    all-users block and the other segments do not change (each segment is its own correction block).
    """
    if sequential_tuning is None:
        sequential_tuning = stats.DEFAULT_SEQUENTIAL_TUNING
    if not metrics:
        raise OptionError("give at least one --metric, e.g. --metric conversion:purchase")
    if not 0 < alpha < 1:
        raise OptionError(f"--alpha {alpha}: expected a number between 0 and 1")
    if method not in METHODS:
        raise OptionError(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    if correction not in CORRECTIONS:
        raise OptionError(f"--correction {correction!r}: expected one of {', '.join(CORRECTIONS)}")
    if cuped_days is not None:
        check_cuped_days(cuped_days)
    if window is not None:
        check_window(window, "--window")
    if cap is not None and not 0 < cap < 1:
        raise OptionError(f"--cap {cap}: expected a quantile between 0 and 1, e.g. 0.99")
    if not sequential_tuning > 0:
        raise OptionError(f"--sequential-tuning {sequential_tuning}: expected a positive number")
    check_min_group_size(min_group_size)
    defs: list[MetricDef] = [parse_metric(m) for m in metrics]
    for d in defs:
        d.validate(source)
    info = load_assignments(source, assignments, experiment, segment_column=by, window=window,
                            pre_period=timedelta(days=cuped_days) if cuped_days else None)
    segment_from_events = by is not None and by not in info.columns
    if segment_from_events:
        source.require_column(by, "--by column (neither in the assignments nor in the events)")
    variants = list(info.users)
    if control not in info.users:
        raise OptionError(f"control variant {control!r} not found in experiment {info.experiment!r}; "
                          f"variants: {', '.join(variants) or '(none)'}; choose one with --control")
    if len(variants) < 2:
        raise OptionError(f"experiment {info.experiment!r} has only the variant {control!r}; nothing to compare")
    shares = parse_split(split, variants, control)
    ordered = list(shares)

    cuped = cuped_days is not None
    sums, caps = variant_sums(source, defs, cuped=cuped, segment_column=by, segment_from_events=segment_from_events,
                              first_needed=info.first_needed, last_needed=info.last_needed, cap=cap)
    result = ABResult(
        params={
            "source": source.describe(),
            "assignments": str(assignments),
            "experiment": info.experiment,
            "metrics": [d.name for d in defs],
            "control": control,
            "window": format_window(window) if window else None,
            "split": shares,
            "alpha": alpha,
            "cuped_days": cuped_days,
            "method": method,
            "correction": correction,
            "by": by,
            "segment_source": None if by is None else ("events" if segment_from_events else "assignments"),
            "sequential_tuning": sequential_tuning,
            "cap": cap,
            "min_group_size": min_group_size,
        },
        experiment=info.experiment,
        control=control,
        method=method,
        alpha=alpha,
        srm=stats.srm_test({v: info.users[v] for v in ordered}, shares),
        users={v: info.users[v] for v in ordered},
        excluded_multi_variant_users=info.excluded_multi_variant_users,
        incomplete_assignment_rows=info.incomplete_rows,
    )
    settings = _Settings(method=method, alpha=alpha, correction=correction, cuped=cuped, tuning=sequential_tuning)
    result.metrics = _analyse_block(defs, sums.get(None, {}), ordered, control, settings)
    segments = {segment: per_variant for segment, per_variant in sums.items() if segment is not None}
    # a variant may have no user in a segment: K = 1 ("no suppression") still shows it, as it always did
    small = [segment for segment, per_variant in segments.items()
             if min_group_size > 1 and min(_block_users(per_variant, v) for v in ordered) < min_group_size]
    if small:
        result.suppressed_segments = SuppressedSegments(
            groups=len(small), users={v: sum(_block_users(segments[s], v) for s in small) for v in ordered})
        result.notes.append(f"{len(small):,} {by} segment(s) with fewer than {min_group_size:,} users in a variant "
                            f"are not analysed on their own (small-cell suppression); their users are counted in "
                            f"the pooled segment entry")
    result.segments = [(segment, _analyse_block(defs, per_variant, ordered, control, settings))
                       for segment, per_variant in segments.items() if segment not in small]
    for block in (result.metrics, *(ms for _, ms in result.segments)):
        for j, metric_result in enumerate(block):
            metric_result.cap_value = caps.get(j)
    if caps:
        capped = ", ".join(f"{defs[j].name} at {value:.6g}" for j, value in caps.items())
        result.notes.append(f"per-user values capped at the pooled {cap:g} quantile: {capped}")
    _annotate(result, defs, info, cuped, by, segment_from_events)
    return result


@dataclass(frozen=True)
class _Settings:
    method: Method
    alpha: float
    correction: Correction
    cuped: bool
    tuning: float


def _analyse_block(defs: list[MetricDef], per_variant: dict[str, list[Sums]], ordered: list[str], control: str,
                   settings: _Settings) -> list[MetricResult]:
    empty = [Sums(n=0, sum=0.0, sum_squares=0.0) for _ in defs]
    out: list[MetricResult] = []
    for j, d in enumerate(defs):
        by_variant = {v: per_variant.get(v, empty)[j] for v in ordered}
        cuped = settings.cuped and d.type != "ratio"
        summaries = [_summary(d.type, v, s) for v, s in by_variant.items()]
        comparisons = [
            stats.compare(d.type, by_variant[control], by_variant[v], variant=v, method=settings.method,
                          alpha=settings.alpha, cuped=cuped, tuning=settings.tuning)
            for v in ordered if v != control
        ]
        out.append(MetricResult(metric=d.name, type=d.type, cuped=cuped, variants=summaries, comparisons=comparisons))
    comparisons = [c for m in out for c in m.comparisons]
    correction = settings.correction if settings.method != "bayesian" else "none"
    adjusted = stats.adjust_p_values([c.p_value for c in comparisons], correction)
    for c, p in zip(comparisons, adjusted, strict=True):
        c.p_adjusted = p
        c.significant = stats.is_significant(c, settings.method, settings.alpha)
    return out


def _block_users(per_variant: dict[str, list[Sums]], variant: str) -> int:
    """Users of ``variant`` in a block (0 when the variant has none in it)."""
    sums = per_variant.get(variant)
    return sums[0].n if sums else 0


def _summary(kind: MetricType, variant: str, s: Sums) -> VariantSummary:
    if s.n == 0:
        return VariantSummary(variant=variant, users=0, mean=None, sd=None, sum=0.0,
                              denominator=0.0 if kind == "ratio" else None)
    variance = stats.metric_variance(kind, s)
    return VariantSummary(
        variant=variant,
        users=s.n,
        mean=stats.metric_mean(kind, s) if kind != "ratio" or s.den_sum else None,
        sd=math.sqrt(variance) if variance > 0 else 0.0,
        sum=s.sum,
        denominator=s.den_sum if kind == "ratio" else None,
    )


def _annotate(result: ABResult, defs: list[MetricDef], info: Assignments, cuped: bool, by: str | None,
              from_events: bool) -> None:
    srm = result.srm
    if srm is not None and srm.warning:
        observed = ", ".join(f"{v} {n:,}" for v, n in srm.observed.items())
        result.warnings.append(f"sample ratio mismatch: p = {srm.p_value:.2g} < {stats.SRM_WARNING_P} "
                               f"(users {observed}); the assignment is likely broken, do not trust the effects")
    if info.excluded_multi_variant_users:
        result.notes.append(f"{info.excluded_multi_variant_users:,} user(s) assigned to more than one variant "
                            f"were excluded")
    if info.incomplete_rows:
        result.warnings.append(f"{info.incomplete_rows:,} assignment row(s) lack user_id, variant or assigned_at "
                               f"and were ignored")
    if cuped and any(d.type == "ratio" for d in defs):
        names = ", ".join(d.name for d in defs if d.type == "ratio")
        result.notes.append(f"CUPED is not applied to ratio metrics ({names}), as in gbstats 0.8")
    if by is not None and from_events:
        result.notes.append(f"segment = {by} of each user's first event at/after assignment; a segment defined "
                            f"after assignment can be affected by the treatment")
    if result.method == "sequential":
        result.notes.append(f"always-valid intervals (mixture SPRT), tuning parameter "
                            f"{result.params['sequential_tuning']:g}")


# ---------------------------------------------------------------------------------- power
@dataclass
class PowerResult(AnalysisResult):
    """Result of ``shortvid ab power``: users per variant for an MDE, or the MDE for a number of users."""

    kind = "ab_power"
    metric_type: str = "proportion"
    baseline: float = 0.0
    mde: float | None = None
    mde_absolute: float | None = None
    users_per_variant: int | None = None
    total_users: int | None = None
    variants: int = 2
    alpha: float = 0.05
    power: float = 0.8
    sd: float | None = None
    solved_for: str = "users"

    def body(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("solved_for", "metric_type", "baseline", "sd", "mde", "mde_absolute",
                                               "alpha", "power", "variants", "users_per_variant", "total_users")}

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([self.body()])


def power(
    baseline: float,
    *,
    mde: float | None = None,
    users: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    sd: float | None = None,
) -> PowerResult:
    """Users per variant to detect relative lift ``mde``, or the relative MDE with ``users`` per variant.

    Proportions when ``sd`` is None (``baseline`` is a rate in (0, 1)), else means with per-user
    standard deviation ``sd``. Two-sided test at ``alpha``; no correction for several variants
    (pass a Bonferroni ``alpha`` for that).
    """
    if (mde is None) == (users is None):
        raise OptionError("give exactly one of --mde (to get users per variant) or --users (to get the MDE)")
    if not 0 < alpha < 1:
        raise OptionError(f"--alpha {alpha}: expected a number between 0 and 1")
    if not 0 < power < 1:
        raise OptionError(f"--power {power}: expected a number between 0 and 1")
    if variants < 2:
        raise OptionError(f"--variants {variants}: expected at least 2 (control and one treatment)")
    if sd is None and not 0 < baseline < 1:
        raise OptionError(f"--baseline {baseline}: expected a conversion rate between 0 and 1 (or give --sd for "
                          f"a mean metric)")
    if sd is not None and (sd <= 0 or baseline == 0):
        raise OptionError(f"--sd {sd} / --baseline {baseline}: expected sd > 0 and a non-zero baseline mean")
    result = PowerResult(
        params={"baseline": baseline, "mde": mde, "users": users, "alpha": alpha, "power": power,
                "variants": variants, "sd": sd},
        metric_type="proportion" if sd is None else "mean",
        baseline=baseline, variants=variants, alpha=alpha, power=power, sd=sd,
    )
    if mde is not None:
        if mde <= 0 or (sd is None and baseline * (1 + mde) >= 1):
            raise OptionError(f"--mde {mde}: expected a positive relative lift (0.05 = +5%) keeping the rate below 1")
        result.solved_for = "users"
        result.mde = mde
        result.users_per_variant = stats.users_per_variant(baseline, mde, alpha, power, sd)
    else:
        assert users is not None
        if users < 2:
            raise OptionError(f"--users {users}: expected at least 2 users per variant")
        result.solved_for = "mde"
        result.users_per_variant = users
        result.mde = stats.minimum_detectable_effect(baseline, users, alpha, power, sd)
        if result.mde is None:
            raise OptionError(f"--users {users}: too few users per variant to reach power {power} at any lift")
    result.mde_absolute = baseline * result.mde
    result.total_users = result.users_per_variant * variants
    return result
