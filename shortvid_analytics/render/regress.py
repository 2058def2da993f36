"""Terminal rendering of :class:`RegressionResult` (rich) and the coefficient plot (matplotlib)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..regress.models import FittedModel
from ..regress.result import RegressionResult
from ..regress.tables import label, stars
from .blocks import Unclipped, unclipped
from .charts import REFERENCE, figure_bytes, new_figure, styled
from .console import fmt_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def regression_table(result: RegressionResult) -> Group:
    """Frame summary, then per model its fit line, coefficient table and warnings."""
    frame = result.frame
    window = f", purchase window {frame['window']}" if frame.get("window") else ""
    parts: list[RenderableType] = [Text(f"frame: unit {frame['unit']}, {fmt_number(frame['rows'])} rows{window}")]
    parts += [Text(f"warning: {w}", style="yellow") for w in result.warnings]
    thresholds = tuple(result.params.get("stars") or (0.10, 0.05, 0.01))
    labels = result.params.get("labels") or {}
    for model in result.models:
        parts.append(_model_table(model, thresholds, labels))
        parts += [Text(f"warning: {w}", style="yellow") for w in model.warnings]
    symbols = ", ".join(f"{'*' * (i + 1)} p<{t:g}" for i, t in enumerate(thresholds))
    parts.append(Text(symbols, style="dim"))
    parts += [Text(f"note: {n}", style="cyan") for n in result.notes]
    return Group(*parts)


def _model_table(model: FittedModel, thresholds: tuple[float, ...], labels: dict[str, str]) -> Unclipped:
    fit = model.fit
    r2 = f"pseudo R² {fmt_number(fit['pseudo_r2'], 4)}" if fit.get("pseudo_r2") is not None else \
        f"R² {fmt_number(fit.get('r2'), 4)}"
    clusters = f", {fmt_number(model.n_clusters)} clusters" if model.n_clusters else ""
    caption = (f"N {fmt_number(model.n)}{clusters}, SE {model.cov_type}, log-lik {fmt_number(fit['llf'], 2)}, "
               f"{r2}, AIC {fmt_number(fit['aic'], 1)}, BIC {fmt_number(fit['bic'], 1)}")
    if model.interaction_test:
        t = model.interaction_test
        caption += (f"\ninteractions = 0: {t.distribution}({t.df}) = {fmt_number(t.statistic, 3)}, "
                    f"p = {t.p_value:.4g}")
    table = Table(title=f"{model.name}: {model.model}\n{model.formula}", title_justify="left",
                  caption=caption, caption_justify="left")
    vif = {v["term"]: v["vif"] for v in model.vif}
    show_or = model.model == "logit"
    show_irr = model.model in ("poisson", "negbin")
    columns = ["term", "estimate", "s.e.", model.statistic, "p", "CI low", "CI high"]
    columns += ["odds ratio"] if show_or else []
    columns += ["IRR"] if show_irr else []
    columns += ["AME", "AME s.e.", "VIF"]
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    for c in model.coefficients:
        row = [
            label(c.term, labels),
            f"{fmt_number(c.estimate, 4)}{stars(c.p_value, thresholds)}",
            fmt_number(c.std_error, 4),
            fmt_number(c.statistic, 2),
            f"{c.p_value:.4f}" if c.p_value == c.p_value else "-",
            fmt_number(c.ci_low, 4),
            fmt_number(c.ci_high, 4),
        ]
        row += [fmt_number(c.odds_ratio, 3)] if show_or else []
        row += [fmt_number(c.irr, 3)] if show_irr else []
        row += [fmt_number(c.ame, 4), fmt_number(c.ame_std_error, 4), fmt_number(vif.get(c.term), 2)]
        table.add_row(*row)
    return unclipped(table)


@styled
def coefficient_figure(result: RegressionResult) -> Figure:
    """Coefficient plot: each model's estimates (not the intercept) with 95% confidence intervals.
    Shared by ``--chart`` and the report's regression section."""
    labels = result.params.get("labels") or {}
    terms: list[str] = []
    for m in result.models:
        terms += [c.term for c in m.coefficients if c.role != "intercept" and c.term != "alpha" and c.term not in terms]
    k = max(len(result.models), 1)
    height = 0.8 / k
    fig = new_figure(7.5, 1.2 + 0.45 * len(terms) * max(1, k / 2))
    ax = fig.subplots()
    for i, m in enumerate(result.models):
        by_term = {c.term: c for c in m.coefficients}
        ys, xs, lo, hi = [], [], [], []
        for j, term in enumerate(terms):
            c = by_term.get(term)
            if c is None:
                continue
            ys.append(j - 0.4 + height * (i + 0.5))
            xs.append(c.estimate)
            lo.append(c.estimate - c.ci_low)
            hi.append(c.ci_high - c.estimate)
        ax.errorbar(xs, ys, xerr=[lo, hi], fmt="o", capsize=2, markersize=4, label=f"{m.name} ({m.model})")
    ax.axvline(0, color=REFERENCE, linewidth=0.8, linestyle="--")
    ax.set_yticks(range(len(terms)), [label(t, labels) for t in terms])
    ax.invert_yaxis()
    ax.set_xlabel("estimate with 95% confidence interval")
    if k > 1:
        ax.legend(fontsize="small", loc="best")
    return fig


def coefficient_chart(result: RegressionResult, fmt: str) -> bytes:
    """:func:`coefficient_figure` as PNG, SVG or PDF bytes (rendered before any file is written)."""
    return figure_bytes(coefficient_figure(result), fmt)
