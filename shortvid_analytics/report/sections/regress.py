"""``regression``: engagement-to-purchase models (``shortvid regress``), read as associations."""

from __future__ import annotations

from typing import Any

from ...regress import build_frame, regress
from ...regress.spec import from_options
from ...regress.tables import label as term_label
from ...render.regress import coefficient_figure
from ..content import Cell, Doc, Paragraph, SectionOutput, Table, label, prose
from ..figures import embed, report_style
from ..spec import Param, Section
from .base import SectionContext, SectionType, cli_args

PARAMS = (
    Param("unit", "str", "user_video", "row of the frame", choices=("user", "user_video", "session")),
    Param("outcome", "str", "purchased", "outcome", choices=("purchased", "revenue", "orders")),
    Param("model", "strs", ["logit"], "models (repeatable --model)"),
    Param("features", "list", None, "focal terms (default: the unit's features)"),
    Param("controls", "list", None, "control terms (default: platform and traffic-source dummies)"),
    Param("formula", "str", None, "a full formula (grammar in docs/regress.md)"),
    Param("cluster", "str", None, "cluster-robust standard errors by this column"),
    Param("robust", "str", None, "HC0|HC1|HC2|HC3", choices=("HC0", "HC1", "HC2", "HC3")),
    Param("by", "str", None, "fit per level plus a pooled interaction model"),
    Param("window", "str", "24h", "user_video: purchase window after the view"),
)


def _run_spec(p: dict[str, Any]):
    return from_options(unit=p["unit"], window=p["window"], models=p["model"], outcome=p["outcome"],
                        features=p["features"], controls=p["controls"], formula=p["formula"],
                        cluster=p["cluster"], robust=p["robust"], by=p["by"], spec_file=None, assignments=None,
                        experiment=None)


def run(ctx: SectionContext, section: Section) -> SectionOutput:
    """Build the frame and fit the models as ``shortvid regress`` does; table, coefficient plot, reading."""
    source = ctx.source(section)
    spec = _run_spec(section.params)
    result_obj = regress(build_frame(source, spec.unit, spec.window, None), spec, source.describe(),
                         min_group_size=ctx.min_group_size)
    result = result_obj.to_dict()
    doc = Doc({"regression": result})
    out = SectionOutput(results=doc.results,
                        commands={"regression": ctx.command(section, "regress", *cli_args(section, PARAMS),
                                                            *ctx.suppression_args())})
    out.blocks += reading(doc, result, ctx.truth)
    out.blocks.append(coefficients_table(doc, result))
    with report_style():
        out.blocks.append(embed(coefficient_figure(result_obj), "Estimates (log-odds for logit) with 95% "
                                "confidence intervals, one colour per model.", "coefficient plot", max_height=6))
    for note in result["warnings"] + result["notes"]:
        out.blocks.append(Paragraph(prose("Note: " + note).html, role="note"))
    return out


def reading(doc: Doc, result: dict, truth: dict | None) -> list[Paragraph]:
    """Per model: the features with p < 0.05 and the rest; the interaction test; the caveat."""
    paragraphs = [_interaction_reading(doc, m, model) if model["interaction_test"] is not None
                  else _model_reading(doc, m, model) for m, model in enumerate(result["models"])]
    models = result["models"]
    clustered = models and models[0].get("cluster")
    paragraphs.append(prose(
        "These are associations in observational data, not effects: users who like, share or follow may "
        "already be more inclined to buy, so the estimates do not say what would happen if engagement were "
        "raised." + (" Standard errors are clustered by " + str(models[0]["cluster"]) + "." if clustered else "")))
    planted = ((truth or {}).get("purchase_model") or {}).get("coefficients") or {}
    if planted and result["params"]["unit"] == "user_video":
        named = ", ".join(f"{k} {v:+.2f}" for k, v in planted.items() if k != "intercept")
        paragraphs.append(Paragraph(prose("Planted truth (synthetic data, truth.json): the generator's purchase "
                                          "logit has " + named + ", plus a creator random effect.").html,
                                    role="note"))
    return paragraphs


def _interaction_reading(doc: Doc, m: int, model: dict) -> Paragraph:
    """A pooled ``--by`` model: whether its Wald test shows the associations differ between levels."""
    test = model["interaction_test"]
    return prose(
        "A joint Wald test that every association is the same at each level of " + str(model["subset"]
        ["column"]) + " (" + str(test["df"]) + " interaction terms) gives " + test["distribution"] +
        " = {stat}, p {p}" + (": the data show that the associations differ." if test["p_value"] < 0.05
                               else ": the data do not show that they differ."),
        stat=doc.span(f"/regression/models/{m}/interaction_test/statistic", "n2"),
        p=doc.span(f"/regression/models/{m}/interaction_test/p_value", "peq"))


def _model_reading(doc: Doc, m: int, model: dict) -> Paragraph:
    """One model: each feature with p < 0.05 with its estimate and interval, then the others by name."""
    features = [(i, c) for i, c in enumerate(model["coefficients"]) if c["role"] == "feature"]
    strong = [(i, c) for i, c in features if c["p_value"] is not None and c["p_value"] < 0.05]
    weak = [c for _, c in features if c not in [s for _, s in strong]]
    base = f"/regression/models/{m}/coefficients"
    spans: dict[str, Any] = {"n": doc.span(f"/regression/models/{m}/n", "int")}
    parts = []
    for k, (i, c) in enumerate(strong):
        spans |= {f"e{k}": doc.span(f"{base}/{i}/estimate", "n3"), f"l{k}": doc.span(f"{base}/{i}/ci_low", "n3"),
                  f"h{k}": doc.span(f"{base}/{i}/ci_high", "n3"), f"p{k}": doc.span(f"{base}/{i}/p_value", "peq")}
        part = term_label(c["term"]) + f" (coefficient {{e{k}}}, 95% CI {{l{k}}} to {{h{k}}}, p {{p{k}}}"
        if c.get("odds_ratio") is not None:
            spans[f"o{k}"] = doc.span(f"{base}/{i}/odds_ratio", "n2")
            part += f", odds ratio {{o{k}}}"
        parts.append(part + ")")
    text = model["name"] + " (" + model["model"] + ", {n} rows): "
    text += (model["outcome"] + " is associated with " + "; ".join(parts) + "." if parts else
             "no feature is associated with the outcome at p < 0.05.")
    if weak:
        text += " Not distinguishable from zero: " + ", ".join(term_label(c["term"]) for c in weak) + "."
    return prose(text, **spans)


def coefficients_table(doc: Doc, result: dict) -> Table:
    """Models side by side: estimate and standard error per term, then N, clusters and fit."""
    models = result["models"]
    terms: list[str] = []
    for model in models:
        terms += [c["term"] for c in model["coefficients"] if c["term"] not in terms]
    rows = [[label(term_label(term)), *_term_cells(doc, models, term)] for term in terms]
    for name, ptr, fmt in (("N", "n", "int"), ("clusters", "n_clusters", "int"), ("pseudo R²", "fit/pseudo_r2", "n3"),
                           ("AIC", "fit/aic", "n1")):
        rows.append([label(name)] + [cell for m in range(len(models))
                                     for cell in (doc.cell(f"/regression/models/{m}/{ptr}", fmt), label(""))])
    letters = [chr(ord("A") + m) for m in range(len(models))]
    columns = ["term"] + [f"{letter} {h}" for letter in letters for h in ("est.", "SE")]
    names = "; ".join(f"{letter}: {m['name']} ({m['model']})" for letter, m in zip(letters, models, strict=True))
    return Table(f"Models of {models[0]['outcome']} per {result['params']['unit']}, estimates and standard errors "
                 f"({models[0]['cov_type']}). {names}.", columns, rows,
                 note="Logit estimates are log-odds; the odds ratio is exp(estimate). Full output with p-values, "
                      "intervals and marginal effects is in the JSON.")


def _term_cells(doc: Doc, models: list[dict], term: str) -> list[Cell]:
    """Each model's estimate and standard error of ``term`` (empty cells where the model lacks it)."""
    cells: list[Cell] = []
    for m, model in enumerate(models):
        index = next((i for i, c in enumerate(model["coefficients"]) if c["term"] == term), None)
        if index is None:
            cells += [label(""), label("")]
        else:
            base = f"/regression/models/{m}/coefficients/{index}"
            cells += [doc.cell(f"{base}/estimate", "n3"), doc.cell(f"{base}/std_error", "n3")]
    return cells


SECTION = SectionType(
    name="regression",
    params=PARAMS,
    run=run,
    summary="regression of purchase on engagement (shortvid regress)",
    check=lambda p: _run_spec(p) and None,
    command="regress",
)
