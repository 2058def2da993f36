"""Rendering of :class:`DigestResult`: Markdown, self-contained HTML with PNG charts, and the files.

Everything is rendered from ``result.to_dict()`` -- the JSON document -- so the three files show the
same numbers by construction. Output is deterministic: no timestamps besides ``generated_at``, and the
PNG charts are drawn in the document style of ``render/charts.py``, whose bytes depend on the data only.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from ..digest import DigestResult
from ..kpi_definitions import KPI_BY_NAME
from ..privacy import suppressed_label
from .charts import COMPARED, HIGHLIGHT, PALETTE, chart_style, figure_bytes, new_figure, style_axes
from .export import write_bytes_atomic
from .templates import environment

#: KPIs drawn as weekly trends, and shown per breakdown value in the tables.
TREND_KPIS: tuple[str, ...] = ("gmv", "net_gmv", "orders", "dau", "user_conversion_rate", "engagement_rate")
BREAKDOWN_KPIS: tuple[str, ...] = ("views", "engagement_rate", "orders", "gmv", "net_gmv",
                                   "user_conversion_rate", "refund_rate", "dau")


def file_names(label: str) -> dict[str, str]:
    """Names of the digest files of week ``label`` (``digest-2026-W47.json``/``.md``/``.html``)."""
    return {ext: f"digest-{label}.{ext}" for ext in ("json", "md", "html")}


def render_digest(result: DigestResult) -> dict[str, bytes]:
    """The three documents (keyed ``json``, ``md``, ``html``), rendered in memory before any is written."""
    doc = result.to_dict()
    context = _context(doc)
    charts = {"trends": figure_bytes(_trend_figure(doc), "png")}
    if doc["by"]:
        charts["breakdown"] = figure_bytes(_breakdown_figure(doc), "png")
    html = environment().get_template("digest.html.j2").render(
        **context, charts={k: base64.b64encode(v).decode("ascii") for k, v in charts.items()})
    return {
        "json": (result.to_json() + "\n").encode("utf-8"),
        "md": environment(markdown=True).get_template("digest.md.j2").render(**context).encode("utf-8"),
        "html": html.encode("utf-8"),
    }


def write_digest(result: DigestResult, out_dir: Path) -> list[Path]:
    """Write the digest files into ``out_dir``, each atomically; return their paths."""
    documents = render_digest(result)
    paths = []
    for ext, name in file_names(result.week["label"]).items():
        path = out_dir / name
        write_bytes_atomic(path, documents[ext])
        paths.append(path)
    return paths


def _context(doc: dict[str, Any]) -> dict[str, Any]:
    """Template variables: the JSON document plus lookups the templates cannot build themselves."""
    breakdown = doc["by"]
    rows = []
    if breakdown:
        for group in breakdown["groups"]:
            rows.append({"key": _group_name(doc, group, breakdown["column"]),
                         "kpis": {entry["kpi"]: entry for entry in group["kpis"]}})
    suppressed = {column: suppressed_label(doc["params"]["min_group_size"], lists["suppressed"]["suppressed_groups"])
                  for column, lists in doc["movers"].items() if lists["suppressed"]}
    flagged = [k for k in doc["kpis"] if k["anomaly"]]
    partial = any(k["partial"] for k in doc["kpis"])
    return {"d": doc, "breakdown_rows": rows, "breakdown_kpis": BREAKDOWN_KPIS, "flagged": flagged,
            "partial": partial, "suppressed_movers": suppressed,
            "labels": {name: kpi.label for name, kpi in KPI_BY_NAME.items()}}


def _group_name(doc: dict[str, Any], group: dict[str, Any], column: str) -> str:
    """A breakdown value as shown: ``(none)`` for null, ``<5 users (3 groups)`` for the pooled row."""
    if group["suppressed"]:
        return suppressed_label(doc["params"]["min_group_size"], group["suppressed_groups"])
    return "(none)" if group[column] is None else str(group[column])


class _Ticks(Formatter):
    """Axis labels of a KPI with just enough decimals to tell neighbouring ticks apart."""

    def __init__(self, name: str) -> None:
        self.scale = 100.0 if KPI_BY_NAME[name].unit == "ratio" else 1.0
        self.decimals = 0

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        steps = np.abs(np.diff(np.asarray(values, dtype=float))) * self.scale
        step = float(steps.min()) if steps.size else 1.0
        self.decimals = max(0, math.ceil(-math.log10(step))) if step > 0 else 0
        return [self(value, i) for i, value in enumerate(values)]

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x * self.scale:,.{self.decimals}f}" + ("%" if self.scale == 100.0 else "")


def _trend_figure(doc: dict[str, Any]) -> Figure:
    """Small multiples of the trend KPIs over the history weeks; the digest week in red."""
    history = doc["history"]
    labels = [h["period"][5:] for h in history]
    current = doc["week"]["label"]
    with chart_style(document=True):
        figure = new_figure(7.2, 4.0, layout=None)
        axes = figure.subplots(2, 3, gridspec_kw={"left": 0.1, "right": 0.98, "top": 0.93, "bottom": 0.12,
                                                  "wspace": 0.45, "hspace": 0.55})
        for ax, name in zip(axes.flat, TREND_KPIS):
            style_axes(ax)
            values = [h[name] if h[name] is not None else float("nan") for h in history]
            ax.plot(range(len(values)), values, color=PALETTE[0], marker="o", markersize=3, linewidth=1.2)
            for i, h in enumerate(history):
                if h["period"] == current:
                    ax.plot([i], [values[i]], color=HIGHLIGHT, marker="o", markersize=5)
                if not h["complete"]:
                    ax.plot([i], [values[i]], color="white", marker="o", markersize=2)
            ax.set_title(KPI_BY_NAME[name].label)
            ax.set_xticks(range(len(labels)), labels, rotation=90)
            ax.yaxis.set_major_formatter(_Ticks(name))
    return figure


def _breakdown_figure(doc: dict[str, Any]) -> Figure:
    """GMV of each breakdown value, this week against the previous week."""
    column = doc["by"]["column"]
    groups = doc["by"]["groups"]
    names = [_group_name(doc, g, column) for g in groups]
    gmv = [next(e for e in g["kpis"] if e["kpi"] == "gmv") for g in groups]
    current = [e["value"] or 0.0 for e in gmv]
    previous = [e["previous"] or 0.0 for e in gmv]
    with chart_style(document=True):
        figure = new_figure(7.2, 0.5 + 0.45 * max(len(groups), 1), layout=None)
        ax = figure.subplots()
        style_axes(ax)
        positions = range(len(groups))
        ax.barh([p + 0.2 for p in positions], previous, height=0.4, color=COMPARED, label=doc["week"]["previous"])
        ax.barh([p - 0.2 for p in positions], current, height=0.4, color=HIGHLIGHT, label=doc["week"]["label"])
        ax.set_yticks(list(positions), names)
        ax.invert_yaxis()
        ax.set_title(f"GMV by {column}")
        ax.xaxis.set_major_formatter(_Ticks("gmv"))
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        figure.subplots_adjust(left=0.14, right=0.84, bottom=0.3 / figure.get_figheight() + 0.05, top=0.85)
    return figure
