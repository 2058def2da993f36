"""The analysis of one experiment: checks the options, reads the assignments, compares every variant
with control per metric in each block (all users; each ``--by`` segment), and says what to trust."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ..errors import OptionError
from ..options import MAX_WINDOW, TERMINAL_MIN_GROUP_SIZE, check_int
from ..periods import check_window, format_window
from ..privacy import check_min_group_size
from ..source import EventSource
from . import stats
from .metrics import Assignments, MetricDef, load_assignments, parse_metric, variant_sums
from .result import ABResult, MetricResult, SuppressedSegments, VariantSummary
from .stats import Correction, Method, MetricType, Sums

METHODS: tuple[str, ...] = ("frequentist", "bayesian", "sequential")
CORRECTIONS: tuple[str, ...] = ("holm", "bh", "none")


def parse_split(text: str | None, variants: list[str], control: str) -> dict[str, float]:
    """Expected traffic shares: ``50,50`` (control first, then the other variants alphabetically) or
    ``control=50,treatment=50``; default equal. Normalised to sum 1."""
    order = [control, *sorted(v for v in variants if v != control)]
    if not text:
        return {v: 1 / len(order) for v in order}
    weights = _split_weights(text, order)
    if set(weights) != set(order):
        raise OptionError(f"--split {text!r}: name every variant once: {', '.join(order)}")
    if any(not math.isfinite(w) or w <= 0 for w in weights.values()):
        raise OptionError(f"--split {text!r}: shares must be positive")
    total = sum(weights.values())
    return {v: weights[v] / total for v in order}


def _split_weights(text: str, order: list[str]) -> dict[str, float]:
    """The shares of ``--split`` by variant, named (``control=50``) or in ``order``."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        if all("=" in p for p in parts):
            return {k.strip(): float(w) for k, w in (p.split("=", 1) for p in parts)}
        weights = dict(zip(order, (float(p) for p in parts), strict=False))
    except ValueError:
        raise OptionError(f"--split {text!r}: expected numbers such as 50,50 or control=50,treatment=50") from None
    if len(parts) != len(order):
        raise OptionError(f"--split {text!r}: {len(parts)} share(s) for {len(order)} variants ({', '.join(order)})")
    return weights


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
    tuning = stats.DEFAULT_SEQUENTIAL_TUNING if sequential_tuning is None else sequential_tuning
    _check_options(metrics, alpha=alpha, method=method, correction=correction, cuped_days=cuped_days,
                   window=window, cap=cap, tuning=tuning, min_group_size=min_group_size)
    defs: list[MetricDef] = [parse_metric(m) for m in metrics]
    for d in defs:
        d.validate(source)
    info = load_assignments(source, assignments, experiment, segment_column=by, window=window,
                            pre_period=timedelta(days=cuped_days) if cuped_days else None)
    segment_from_events = _segments_from_events(source, info, by)
    shares = parse_split(split, _checked_variants(info, control), control)
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
            "sequential_tuning": tuning,
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
    settings = _Settings(method=method, alpha=alpha, correction=correction, cuped=cuped, tuning=tuning)
    result.metrics = _analyse_block(defs, sums.get(None, {}), ordered, control, settings)
    segments = {segment: per_variant for segment, per_variant in sums.items() if segment is not None}
    _analyse_segments(result, segments, defs, settings, by=by, min_group_size=min_group_size)
    _record_caps(result, defs, caps, cap)
    _annotate(result, defs, info, cuped, by, segment_from_events)
    return result


def _check_options(metrics: list[str], *, alpha: float, method: str, correction: str, cuped_days: int | None,
                   window: timedelta | None, cap: float | None, tuning: float, min_group_size: int) -> None:
    """Refuse an option out of its range, naming it, before any data is read."""
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
    if not tuning > 0:
        raise OptionError(f"--sequential-tuning {tuning}: expected a positive number")
    check_min_group_size(min_group_size)


def _segments_from_events(source: EventSource, info: Assignments, by: str | None) -> bool:
    """Whether the ``--by`` segment is read from the events (the assignments lack the column), which
    then must have it."""
    if by is None or by in info.columns:
        return False
    source.require_column(by, "--by column (neither in the assignments nor in the events)")
    return True


def _checked_variants(info: Assignments, control: str) -> list[str]:
    """The experiment's variants, which must hold ``control`` and at least one other."""
    variants = list(info.users)
    if control not in info.users:
        raise OptionError(f"control variant {control!r} not found in experiment {info.experiment!r}; "
                          f"variants: {', '.join(variants) or '(none)'}; choose one with --control")
    if len(variants) < 2:
        raise OptionError(f"experiment {info.experiment!r} has only the variant {control!r}; nothing to compare")
    return variants


def _analyse_segments(result: ABResult, segments: dict[str, dict[str, list[Sums]]], defs: list[MetricDef],
                      settings: _Settings, *, by: str | None, min_group_size: int) -> None:
    """One block per segment, except the small ones, whose users are pooled in ``suppressed_segments``."""
    ordered = list(result.users)
    small = _small_segments(segments, ordered, min_group_size)
    if small:
        result.suppressed_segments = SuppressedSegments(
            groups=len(small), users={v: sum(_block_users(segments[s], v) for s in small) for v in ordered})
        result.notes.append(f"{len(small):,} {by} segment(s) with fewer than {min_group_size:,} users in a variant "
                            f"are not analysed on their own (small-cell suppression); their users are counted in "
                            f"the pooled segment entry")
    result.segments = [(segment, _analyse_block(defs, per_variant, ordered, result.control, settings))
                       for segment, per_variant in segments.items() if segment not in small]


def _small_segments(segments: dict[str, dict[str, list[Sums]]], ordered: list[str], min_group_size: int) -> list[str]:
    """The segments with fewer than ``min_group_size`` users in some variant (none when it is 1)."""
    # a variant may have no user in a segment: K = 1 ("no suppression") still shows it, as it always did
    if min_group_size <= 1:
        return []
    return [segment for segment, per_variant in segments.items()
            if min(_block_users(per_variant, v) for v in ordered) < min_group_size]


def _record_caps(result: ABResult, defs: list[MetricDef], caps: dict[int, float | None], cap: float | None) -> None:
    """Each capped metric's cap value, in every block, and a note naming them."""
    for block in (result.metrics, *(ms for _, ms in result.segments)):
        for j, metric_result in enumerate(block):
            metric_result.cap_value = caps.get(j)
    if caps:
        capped = ", ".join(f"{defs[j].name} at {value:.6g}" for j, value in caps.items())
        result.notes.append(f"per-user values capped at the pooled {cap:g} quantile: {capped}")


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
