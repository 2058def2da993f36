"""The publication table: several models side by side, as Markdown, LaTeX (booktabs) or HTML.

Layout (as in stargazer/esttab): one column per model; per term a row with the estimate and its
significance stars and a row with the standard error in parentheses; a row per control term
("Yes" where the model includes it); then N, clusters, standard-error type, log-likelihood,
(pseudo) R², AIC, BIC and, for pooled ``--by`` models, the Wald test of the interactions. Estimates
are the model's coefficients (log-odds for logit, probit index, levels for ols, log rates for
poisson/negbin). Stars: one per threshold the p-value is below (default 0.10, 0.05, 0.01).
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import OptionError
from .models import FittedModel
from .result import RegressionResult

FORMATS: dict[str, str] = {".md": "markdown", ".markdown": "markdown", ".tex": "latex", ".html": "html",
                           ".htm": "html"}
_CATEGORY = re.compile(r"^C\((?P<var>[^,()]+)(?:,.*)?\)\[T\.(?P<level>.*)\]$")
_TERM_OF_CONTROL = re.compile(r"^C\((?P<var>[^,()]+)(?:,.*)?\)(\[.*\])?$")


def table_format(path: str | Path) -> str:
    """``markdown``, ``latex`` or ``html`` from the file name; raise :class:`OptionError` otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise OptionError(f"--table {path}: expected a file name ending in {', '.join(FORMATS)}")
    return FORMATS[suffix]


def stars(p_value: float | None, thresholds: tuple[float, ...]) -> str:
    """One ``*`` per threshold that ``p_value`` is strictly below."""
    if p_value is None or not math.isfinite(p_value):
        return ""
    return "*" * sum(p_value < t for t in thresholds)


def label(term: str, labels: dict[str, str] | None = None) -> str:
    """Readable row label: the user's label, else ``C(platform)[T.kuaishou]`` → ``platform: kuaishou``."""
    if labels and term in labels:
        return labels[term]
    parts = []
    for factor in term.split(":"):
        match = _CATEGORY.match(factor)
        parts.append(f"{match['var'].strip()}: {match['level']}" if match else factor)
    return " × ".join(parts)


@dataclass
class Cell:
    """One table cell: its text and whether it holds a number (for math mode in LaTeX)."""

    text: str = ""
    stars: str = ""
    numeric: bool = False


@dataclass
class Grid:
    """The format-neutral table: header, coefficient rows (pairs), control rows, statistics, footnote."""

    header: list[str]
    coefficients: list[tuple[str, list[Cell], list[Cell]]]
    controls: list[tuple[str, list[Cell]]]
    statistics: list[tuple[str, list[Cell]]]
    note: str


def publication_table(result: RegressionResult, fmt: str, digits: int = 3) -> str:
    """The table of every model in ``result`` as ``markdown``, ``latex`` or ``html`` text."""
    grid = build_grid(result, digits)
    return {"markdown": _markdown, "latex": _latex, "html": _html}[fmt](grid)


def build_grid(result: RegressionResult, digits: int = 3) -> Grid:
    """Lay out the models of ``result`` (format-neutral)."""
    models = result.models
    thresholds = tuple(result.params.get("stars") or (0.10, 0.05, 0.01))
    labels = result.params.get("labels") or {}
    terms, control_terms = _row_terms(models)
    coefficient_rows = [(label(term, labels), *_coefficient_cells(models, term, thresholds, digits)) for term in terms]
    control_rows = [
        (labels.get(name, name), [Cell("Yes" if _has_control(m, name) else "No") for m in models])
        for name in control_terms
    ]
    symbols = ", ".join(f"{'*' * (i + 1)} p<{t:g}" for i, t in enumerate(thresholds))
    note = f"Standard errors in parentheses. {symbols}."
    return Grid(header=[m.name for m in models], coefficients=coefficient_rows, controls=control_rows,
                statistics=_statistics(models, digits), note=note)


def _row_terms(models: list[FittedModel]) -> tuple[list[str], list[str]]:
    """The coefficient rows' terms, in order of first appearance (the intercept and ancillary parameters
    such as negbin's alpha last, as in most journals), and the controls' names."""
    terms: list[str] = []
    control_terms: list[str] = []
    for m in models:
        for c in m.coefficients:
            bucket = control_terms if c.role == "control" else terms
            key = _control_name(c.term) if c.role == "control" else c.term
            if key not in bucket:
                bucket.append(key)
    terms.sort(key=lambda t: (t == "Intercept" or t == "alpha", t == "alpha"))
    return terms, control_terms


def _coefficient_cells(models: list[FittedModel], term: str, thresholds: tuple[float, ...],
                       digits: int) -> tuple[list[Cell], list[Cell]]:
    """The estimates (with stars) and standard errors of ``term``, empty where a model lacks it."""
    estimates, errors = [], []
    for m in models:
        c = next((c for c in m.coefficients if c.term == term), None)
        estimates.append(Cell(_num(c.estimate, digits), stars(c.p_value, thresholds), True) if c else Cell())
        errors.append(Cell(f"({_num(c.std_error, digits)})", "", True) if c else Cell())
    return estimates, errors


def _statistics(models: list[FittedModel], digits: int) -> list[tuple[str, list[Cell]]]:
    """The rows below the coefficients; clusters, R² kinds and the interaction test only when a model has them."""

    def fit(key: str, decimals: int) -> list[Cell]:
        return [Cell(_num(m.fit.get(key), decimals), numeric=True) for m in models]

    statistics = [
        ("Model", [Cell(m.model) for m in models]),
        ("Outcome", [Cell(m.outcome) for m in models]),
        ("Observations", [Cell(f"{m.n:,}", numeric=True) for m in models]),
    ]
    if any(m.n_clusters for m in models):
        statistics.append(("Clusters", [Cell(f"{m.n_clusters:,}" if m.n_clusters else "", numeric=True)
                                        for m in models]))
    statistics += [("Standard errors", [Cell(m.cov_type) for m in models]), ("Log-likelihood", fit("llf", 1))]
    statistics += [(name, fit(key, digits)) for name, key in (("Pseudo R²", "pseudo_r2"), ("R²", "r2"))
                   if any(m.fit.get(key) is not None for m in models)]
    statistics += [("AIC", fit("aic", 1)), ("BIC", fit("bic", 1))]
    if any(m.interaction_test for m in models):
        statistics.append(("Interactions = 0 (p)", [_wald_cell(m, digits) for m in models]))
    return statistics


def _control_name(term: str) -> str:
    """The control a column belongs to: ``C(traffic_source, Treatment('recommend'))[T.live]`` → ``traffic_source``."""
    match = _TERM_OF_CONTROL.match(term)
    return match["var"].strip() if match else term


def _has_control(model: FittedModel, name: str) -> bool:
    return any(c.role == "control" and _control_name(c.term) == name for c in model.coefficients)


def _wald_cell(model: FittedModel, digits: int) -> Cell:
    test = model.interaction_test
    if test is None:
        return Cell()
    return Cell(f"{_num(test.statistic, 2)} ({_num(test.p_value, digits)})", numeric=True)


def _num(value: float | None, digits: int) -> str:
    if value is None or not math.isfinite(value):
        return ""
    if value != 0 and abs(value) < 10 ** -digits:
        return f"{value:.{max(digits - 1, 1)}e}"
    return f"{value:,.{digits}f}"


# ------------------------------------------------------------------------------------------ writers
def _markdown(grid: Grid) -> str:
    def cell(c: Cell) -> str:
        return (c.text + c.stars.replace("*", r"\*")).replace("|", r"\|")

    def row(first: str, cells: list[str]) -> str:
        return "| " + " | ".join([first.replace("|", r"\|"), *cells]) + " |"

    lines = [row("", grid.header), "|" + "---|" + "---:|" * len(grid.header)]
    for name, estimates, errors in grid.coefficients:
        lines.append(row(name, [cell(c) for c in estimates]))
        lines.append(row("", [cell(c) for c in errors]))
    for name, cells in (*grid.controls, *grid.statistics):
        lines.append(row(name, [cell(c) for c in cells]))
    return "\n".join(lines) + f"\n\n{grid.note.replace('*', chr(92) + '*')}\n"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "×": r"$\times$", "²": r"$^2$"}


def _tex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _latex(grid: Grid) -> str:
    def cell(c: Cell) -> str:
        if not c.text:
            return ""
        if c.numeric:
            sup = f"^{{{c.stars}}}" if c.stars else ""
            return f"${c.text.replace(',', '{,}')}{sup}$"
        return _tex(c.text)

    def row(first: str, cells: list[str]) -> str:
        return " & ".join([_tex(first), *cells]) + r" \\"

    k = len(grid.header)
    lines = [
        "% shortvid regress: publication table; needs \\usepackage{booktabs} in the preamble",
        f"\\begin{{tabular}}{{l{'c' * k}}}",
        r"\toprule",
        " & ".join(["", *(_tex(h) for h in grid.header)]) + r" \\",
        r"\midrule",
    ]
    for name, estimates, errors in grid.coefficients:
        lines.append(row(name, [cell(c) for c in estimates]))
        lines.append(row("", [cell(c) for c in errors]))
    if grid.controls:
        lines.append(r"\midrule")
        lines += [row(name, [cell(c) for c in cells]) for name, cells in grid.controls]
    lines.append(r"\midrule")
    lines += [row(name, [cell(c) for c in cells]) for name, cells in grid.statistics]
    lines.append(r"\bottomrule")
    note = _tex(grid.note).replace("p<", "$p<$")
    lines.append(f"\\multicolumn{{{k + 1}}}{{l}}{{\\footnotesize {note}}} \\\\")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


def _html(grid: Grid) -> str:
    def cell(c: Cell) -> str:
        return html.escape(c.text) + (f"<sup>{c.stars}</sup>" if c.stars else "")

    def row(first: str, cells: list[str], cls: str = "") -> str:
        attr = f' class="{cls}"' if cls else ""
        tds = "".join(f"<td>{c}</td>" for c in cells)
        return f"<tr{attr}><th scope=\"row\">{html.escape(first)}</th>{tds}</tr>"

    head = "".join(f"<th scope=\"col\">{html.escape(h)}</th>" for h in grid.header)
    body = []
    for name, estimates, errors in grid.coefficients:
        body.append(row(name, [cell(c) for c in estimates], "estimate"))
        body.append(row("", [cell(c) for c in errors], "std-error"))
    body += [row(name, [cell(c) for c in cells], "control") for name, cells in grid.controls]
    stats = [row(name, [cell(c) for c in cells], "statistic") for name, cells in grid.statistics]
    style = (
        "<style>table.regression{border-collapse:collapse}"
        "table.regression thead{border-top:2px solid;border-bottom:1px solid}"
        "table.regression tfoot tr.statistic:first-child{border-top:1px solid}"
        "table.regression tfoot tr:last-child{border-bottom:2px solid}"
        "table.regression td{text-align:center;padding:0 0.8em}"
        "table.regression th[scope=row]{text-align:left;font-weight:normal}</style>"
    )
    return (
        f"{style}\n<table class=\"regression\">\n<thead><tr><th></th>{head}</tr></thead>\n"
        f"<tbody>\n{chr(10).join(body)}\n</tbody>\n<tfoot>\n{chr(10).join(stats)}\n</tfoot>\n"
        f"<caption style=\"caption-side:bottom;text-align:left\">{html.escape(grid.note)}</caption>\n"
        f"</table>\n"
    )
