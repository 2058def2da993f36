"""``ab``: an experiment's effects with intervals (``shortvid ab``), SRM check and forest plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from ...ab import CORRECTIONS, METHODS, ABResult, analyze, check_cuped_days
from ...ab.metrics import parse_metric
from ...ab.stats import DEFAULT_SEQUENTIAL_TUNING
from ...errors import OptionError
from ...periods import parse_window
from ...render.ab import forest_plot
from ..content import Doc, Figure, Paragraph, SectionOutput, Table, label, prose
from ..figures import embed, report_style
from ..spec import Param, Section
from .base import SectionContext, SectionType, cli_args

PARAMS = (
    Param("experiment", "str", None, "experiment id (optional when the assignments hold one)"),
    Param("metric", "strs", required=True, help="metrics (repeatable --metric), e.g. conversion:purchase",
          check=lambda metrics: [parse_metric(m) for m in metrics]),
    Param("control", "str", "control", "control variant"),
    Param("window", "str", None, "count events up to this long after assignment", check=parse_window),
    Param("split", "str", None, "expected traffic split for the SRM check, e.g. 50,50"),
    Param("alpha", "float", 0.05, "significance level (two-sided)"),
    Param("cuped_days", "int", None, "CUPED pre-period in days", minimum=1, check=check_cuped_days),
    Param("method", "str", "frequentist", "statistics engine", choices=METHODS),
    Param("correction", "str", "holm", "multiple-testing correction", choices=CORRECTIONS),
    Param("by", "str", None, "segment column"),
    Param("sequential_tuning", "float", DEFAULT_SEQUENTIAL_TUNING, "mixture-SPRT tuning parameter"),
    Param("cap", "float", None, "cap mean metrics at this pooled quantile, e.g. 0.99"),
    Param("assignments", "str", None, "assignments Parquet (default: the report's --assignments), relative "
          "to the spec file", cli=None),
)


def _check(p: dict[str, Any]) -> None:
    if not 0 < p["alpha"] < 1:
        raise OptionError(f"key 'alpha': {p['alpha']}; expected a number between 0 and 1")
    if p["cap"] is not None and not 0 < p["cap"] < 1:
        raise OptionError(f"key 'cap': {p['cap']}; expected a quantile between 0 and 1, e.g. 0.99")


def assignments_path(ctx: SectionContext, section: Section) -> Path:
    """The section's ``assignments`` (relative to the spec) or the report's ``--assignments``."""
    own = section.params["assignments"]
    if own:
        return ctx.spec.base_dir / own
    if ctx.assignments is None:
        raise OptionError("needs experiment assignments: pass --assignments PATH or set key 'assignments'")
    return ctx.assignments


def run(ctx: SectionContext, section: Section) -> SectionOutput:
    """Run ``ab`` with the section's parameters over all events (experiments ignore date ranges)."""
    p = section.params
    path = assignments_path(ctx, section)
    result_obj = analyze(
        ctx.source(section, ranged=False), path, p["metric"], experiment=p["experiment"], control=p["control"],
        window=parse_window(p["window"]) if p["window"] else None, split=p["split"], alpha=p["alpha"],
        cuped_days=p["cuped_days"], method=p["method"], correction=p["correction"], by=p["by"],
        sequential_tuning=p["sequential_tuning"], cap=p["cap"], min_group_size=ctx.min_group_size,
    )
    result = result_obj.to_dict()
    doc = Doc({"ab": result})
    argv = ctx.command(section, "ab", "--assignments", str(path), *cli_args(section, PARAMS),
                       *ctx.suppression_args(), ranged=False)
    out = SectionOutput(results=doc.results, commands={"ab": argv})
    level = f"{100 * (1 - p['alpha']):g}%"
    out.blocks += srm_reading(doc, result)
    for m, metric in enumerate(result["metrics"]):
        for c in range(len(metric["comparisons"])):
            out.blocks.append(effect_reading(doc, f"/ab/metrics/{m}", metric, c, result, level))
    out.blocks.append(users_table(doc, result))
    out.blocks.append(effects_table(doc, result, level))
    figure = forest_figure(result_obj)
    if figure is not None:
        out.blocks.append(figure)
    out.blocks += truth_note(ctx.truth, result)
    for note in result["warnings"]:
        out.blocks.append(Paragraph(Markup("<strong>Warning:</strong> ") + note, role="banner"))
    return out


def metric_phrase(name: str) -> str:
    """Plain words for a metric name of the ``--metric`` grammar."""
    fixed = {"revenue_per_user": "revenue per user", "aov": "average order value", "ctr": "click-through rate"}
    if name in fixed:
        return fixed[name]
    kind, _, rest = name.partition(":")
    if kind == "conversion":
        return f"{rest} conversion"
    if kind == "count":
        return f"{rest} events per user"
    if kind == "sum":
        return f"sum of {rest.replace(':', ' over ')} per user"
    return name


def srm_reading(doc: Doc, result: dict) -> list[Paragraph]:
    srm = result["srm"]
    if srm is None:
        return []
    verdict = ("a sample-ratio mismatch: the assignment looks broken and the effects below should not be trusted"
               if srm["warning"] else "no sign of a sample-ratio mismatch")
    return [prose("Experiment {exp}: the users per variant against the planned split give p {p} (chi-square), "
                  + verdict + ".",
                  exp=doc.span("/ab/experiment", "text"), p=doc.span("/ab/srm/p_value", "peq"))]


def effect_reading(doc: Doc, base: str, metric: dict, c: int, result: dict, level: str) -> Paragraph:
    """One sentence per variant × metric, e.g. "treatment raised purchase conversion by +4.8% (95% CI ...)"."""
    comp = metric["comparisons"][c]
    ptr = f"{base}/comparisons/{c}"
    what = metric_phrase(metric["metric"])
    values = dict(variant=doc.span(f"{ptr}/variant", "text"), lift=doc.span(f"{ptr}/rel_lift", "spct1"),
                  lo=doc.span(f"{ptr}/ci_low", "spct1"), hi=doc.span(f"{ptr}/ci_high", "spct1"),
                  control=doc.span("/ab/control", "text"))
    if result["method"] == "bayesian":
        return prose("Compared with {control}, {variant} changed " + what + " by {lift} (" + level +
                     " credible interval {lo} to {hi}); chance to beat control {ctw}.",
                     ctw=doc.span(f"{ptr}/chance_to_win", "pct1"), **values)
    interval = "always-valid CI" if result["method"] == "sequential" else "CI"
    p_key = "p_adjusted" if comp.get("p_adjusted") is not None else "p_value"
    p_label = "adjusted p" if p_key == "p_adjusted" else "p"
    tail = " (" + level + " " + interval + " {lo} to {hi}), " + p_label + " {p}"
    values["p"] = doc.span(f"{ptr}/{p_key}", "peq")
    if comp["significant"]:
        verb = "raised" if (comp["rel_lift"] or 0) > 0 else "lowered"
        return prose("Compared with {control}, {variant} " + verb + " " + what + " by {lift}" + tail + ".", **values)
    return prose("Compared with {control}, {variant} changed " + what + " by {lift}" + tail +
                 "; the data are consistent with no effect at this level.", **values)


def truth_note(truth: dict[str, Any] | None, result: dict) -> list[Paragraph]:
    """For generated data: the lifts planted in ``truth.json``, to compare with the estimates."""
    planted = (truth or {}).get("experiment") or {}
    if planted.get("id") != result["experiment"]:
        return []
    known = {"conversion:purchase": planted.get("conversion_lift"),
             "revenue_per_user": planted.get("revenue_per_user_lift")}
    parts = [f"{100 * lift:+.1f}% in {metric_phrase(m['metric'])}"
             for m in result["metrics"] if (lift := known.get(m["metric"])) is not None]
    if not parts:
        return []
    return [Paragraph(Markup("Planted truth (synthetic data, <code>truth.json</code>): expected relative lift ")
                      + " and ".join(parts) + ". A 95% interval covers it in about 95 of 100 such experiments.",
                      role="note")]


def users_table(doc: Doc, result: dict) -> Table:
    srm = result["srm"] or {"observed": result["users"], "expected_share": {}}
    rows = [[label(v), doc.cell(f"/ab/users/{v}", "int"),
             doc.cell(f"/ab/srm/expected_share/{v}", "pct1") if v in srm["expected_share"] else label("–")]
            for v in result["users"]]
    return Table("Users per variant and the planned split (sample-ratio check).",
                 ["variant", "users", "planned share"], rows,
                 note=f"Users assigned to more than one variant are excluded "
                      f"({result['excluded_multi_variant_users']:,} here).")


def effects_table(doc: Doc, result: dict, level: str) -> Table:
    bayes = result["method"] == "bayesian"
    columns = ["metric", "variant", "users", "mean", "lift", f"{level} low", f"{level} high",
               "chance to win" if bayes else "p", "" if bayes else "adj. p"]
    rows = []
    for m, metric in enumerate(result["metrics"]):
        fmt = "pct2" if metric["type"] == "proportion" else "n3"
        by_variant = {c["variant"]: i for i, c in enumerate(metric["comparisons"])}
        for v, variant in enumerate(metric["variants"]):
            base = f"/ab/metrics/{m}"
            row = [label(metric["metric"]) if v == 0 else label(""), doc.cell(f"{base}/variants/{v}/variant", "text"),
                   doc.cell(f"{base}/variants/{v}/users", "int"), doc.cell(f"{base}/variants/{v}/mean", fmt)]
            c = by_variant.get(variant["variant"])
            if c is None:
                row += [label("")] * 5
            else:
                ptr = f"{base}/comparisons/{c}"
                row += [doc.cell(f"{ptr}/rel_lift", "spct2"), doc.cell(f"{ptr}/ci_low", "spct2"),
                        doc.cell(f"{ptr}/ci_high", "spct2")]
                row += ([doc.cell(f"{ptr}/chance_to_win", "pct1"), label("")] if bayes else
                        [doc.cell(f"{ptr}/p_value", "p"), doc.cell(f"{ptr}/p_adjusted", "p")])
            rows.append(row)
    return Table(f"Effects relative to {result['control']}: mean per variant, relative lift and its {level} interval.",
                 [c for c in columns if c or not bayes], [r[:len(columns) - (1 if bayes else 0)] for r in rows],
                 note=f"Method: {result['method']}; correction: {result['params']['correction']} across metrics × "
                      f"variants. Proportions are shown as percentages.")


def forest_figure(result_obj: ABResult) -> Figure | None:
    """The command's forest plot of the lift intervals (None when no interval exists)."""
    with report_style():
        fig = forest_plot(result_obj)
        if fig is None:
            return None
        return embed(fig, "Relative lift of each variant against control with its interval; filled green/red "
                          "marks a significant gain/loss.", "forest plot of relative lifts")


SECTION = SectionType(
    name="ab",
    params=PARAMS,
    run=run,
    summary="A/B experiment (shortvid ab)",
    check=_check,
    needs_assignments=True,
    command="ab",
)
