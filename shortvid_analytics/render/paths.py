"""Rendering of :class:`PathsResult`: rich tables and a Sankey-style flow chart of the top paths."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..paths import PATH_END, PATH_START, PathsResult
from ..privacy import suppressed_label
from .blocks import Unclipped, unclipped
from .charts import CATEGORY_CMAP, new_figure, save_figure, styled
from .console import fmt_number, fmt_pct

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn, not with the command
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch

_NODE_WIDTH = 0.12
_GAP = 0.02  # vertical gap between nodes, as a share of the tallest column


def paths_table(result: PathsResult) -> Group:
    """Summary line, top paths, transition matrix and step matrix."""
    p, totals = result.params, result.totals
    anchor = f"after {p['start']}" if result.direction == "forward" else f"before {p['end']}"
    horizon = "per session" if p["session"] else f"within {p['window']}"
    summary = (f"{fmt_number(totals.paths)} paths of {fmt_number(totals.users)} users {anchor}, {horizon}, "
               f"up to {p['steps']} steps{' (repeats collapsed)' if p['collapse_repeats'] else ''}; "
               f"{fmt_number(totals.sequences)} distinct sequences")
    if totals.conversion_rate is not None:
        summary += f"; {fmt_pct(totals.conversion_rate)} of paths reach {p['end']}"

    top = Table(title=f"Top {len(result.top_paths)} paths", title_justify="left")
    top.add_column("#", justify="right")
    top.add_column("path")
    for name in ("paths", "users", "share"):
        top.add_column(name, justify="right")
    converts = totals.conversion_rate is not None
    if converts:
        top.add_column(f"→ {p['end']}", justify="right")
    for row in result.top_paths:
        cells = [str(row.rank), row.label, fmt_number(row.paths), fmt_number(row.users), fmt_pct(row.share)]
        if converts:
            cells.append(fmt_pct(row.conversion_rate))
        top.add_row(*cells)
    pooled = [(f"other ({fmt_number(result.other_sequences)} sequences)", result.other_paths),
              (suppressed_label(result.params["min_group_size"], result.suppressed_sequences), result.suppressed_paths)]
    for label, count in pooled:
        if count:
            top.add_row("", label, fmt_number(count), "", fmt_pct(count / totals.paths), *([""] if converts else []))

    # A path is a sentence of event names: it wraps at its spaces rather than splitting the table.
    parts: list[RenderableType] = [Text(summary), unclipped(top, keys=2, wrap={1}), _transition_table(result),
                           _step_table(result)]
    parts += [Text(f"note: {n}", style="cyan") for n in result.notes]
    return Group(*parts)


def _transition_table(result: PathsResult) -> Unclipped:
    """P(next | current): one row per current state, one column per next state; rows sum to 100%.
    Pooled small cells are the last column, the pooled rows of small states the last row."""
    froms = _ordered_states({t.from_state for t in result.transitions}, first=PATH_START)
    tos = _ordered_states({t.to_state for t in result.transitions}, last=PATH_END)
    probability = {(t.from_state, t.to_state): t.probability for t in result.transitions}
    pooled = f"<{result.params['min_group_size']} users"
    table = Table(title="Transition matrix P(next | current)", title_justify="left")
    table.add_column("current \\ next")
    for to in tos:
        table.add_column(pooled if to is None else to, justify="right")
    for frm in froms:
        table.add_row(pooled if frm is None else frm,
                      *(fmt_pct(probability[(frm, to)], 1) if (frm, to) in probability else "" for to in tos))
    return unclipped(table)


def _step_table(result: PathsResult) -> Unclipped:
    """Share of paths at each event per step; every step column sums to 100%. The pooled small cells
    of each step are the last row."""
    filler = PATH_END if result.direction == "forward" else PATH_START
    share = {(c.step, c.event): c.share for c in result.step_matrix}
    events = _ordered_states({c.event for c in result.step_matrix}, last=filler)
    table = Table(title="Step matrix (share of paths at each step)", title_justify="left")
    table.add_column("event \\ step")
    for step in result.steps:
        table.add_column(str(step), justify="right")
    for event in events:
        table.add_row(f"<{result.params['min_group_size']} users" if event is None else event,
                      *(fmt_pct(share[(s, event)], 1) if (s, event) in share else "" for s in result.steps))
    return unclipped(table)


def _ordered_states(states: set[str | None], first: str | None = None, last: str | None = None) -> list[str | None]:
    """Event names alphabetically, with the framing states at the edges and the pooled state (None) last."""
    middle = sorted(s for s in states if s not in (first, last, None))
    edges = [([s] if s is not None and s in states else []) for s in (first, last)]
    return edges[0] + middle + edges[1] + ([None] if None in states else [])


Node = tuple[int, str]  # (column, event)


def _flows(result: PathsResult) -> tuple[int, dict[Node, int], dict[tuple[Node, Node], int]]:
    """The longest top path's length, the paths through each node and along each edge between nodes."""
    forward = result.direction == "forward"
    longest = max((len(p.events) for p in result.top_paths), default=0)
    node_value: dict[Node, int] = defaultdict(int)
    flow_value: dict[tuple[Node, Node], int] = defaultdict(int)
    for path in result.top_paths:
        # Backward paths end at the end event: align them on the right.
        offset = 0 if forward else longest - len(path.events)
        nodes = [(offset + i, event) for i, event in enumerate(path.events)]
        for node in nodes:
            node_value[node] += path.paths
        for a, b in zip(nodes, nodes[1:]):
            flow_value[(a, b)] += path.paths
    return longest, node_value, flow_value


@styled
def sankey_figure(result: PathsResult) -> Figure:
    """A Sankey-style flow of the top paths: one column per step, one node per event in a step, ribbons
    as wide as the number of paths that go from one node to the next."""
    forward = result.direction == "forward"
    longest, node_value, flow_value = _flows(result)
    fig = new_figure(max(6.0, 2.4 * max(longest, 1)), 6.0)
    ax = fig.subplots()
    ax.set_axis_off()
    anchor = f"after {result.params['start']}" if forward else f"before {result.params['end']}"
    ax.set_title(f"Top {len(result.top_paths)} paths {anchor} ({fmt_number(result.totals.paths)} paths in all)",
                 loc="left", fontsize=11)
    if not node_value:
        ax.text(0.5, 0.5, "no paths", ha="center", va="center")
        return fig

    columns: dict[int, list[str]] = defaultdict(list)
    for (col, event), _value in sorted(node_value.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        columns[col].append(event)
    tallest = max(sum(node_value[(c, e)] for e in events) for c, events in columns.items())
    tallest_count = max(len(events) for events in columns.values())
    scale = (1.0 - _GAP * (tallest_count - 1)) / tallest  # height of one path
    colour = _colours({e for _c, e in node_value})
    bottom = _draw_nodes(ax, columns, node_value, scale, colour)
    _draw_ribbons(ax, flow_value, node_value, bottom, scale, colour)
    for col in columns:
        step = col + 1 if forward else col - longest
        ax.text(col + _NODE_WIDTH / 2, -0.03, f"step {step}", ha="center", va="top", fontsize=8, color="grey")
    ax.set_xlim(-0.1, max(columns) + 1.0)
    ax.set_ylim(-0.07, 1.02)
    return fig


def _colours(events: set[str]) -> dict[str, object]:
    from matplotlib import colormaps

    cmap = colormaps[CATEGORY_CMAP]
    return {e: cmap(i % cmap.N) for i, e in enumerate(sorted(events))}


def _draw_nodes(ax: Axes, columns: dict[int, list[str]], node_value: dict[Node, int], scale: float,
                colour: dict[str, object]) -> dict[Node, float]:
    """Stack each column's nodes from the top, labelled with their paths; return each node's bottom."""
    from matplotlib.patches import Rectangle

    bottom: dict[Node, float] = {}
    for col, names in columns.items():
        y = 1.0
        for event in names:
            height = node_value[(col, event)] * scale
            y -= height
            bottom[(col, event)] = y
            ax.add_patch(Rectangle((col, y), _NODE_WIDTH, height, color=colour[event], lw=0))
            ax.text(col + _NODE_WIDTH + 0.03, y + height / 2, f"{event} ({fmt_number(node_value[(col, event)])})",
                    va="center", fontsize=8)
            y -= _GAP
    return bottom


def _draw_ribbons(ax: Axes, flow_value: dict[tuple[Node, Node], int], node_value: dict[Node, int],
                  bottom: dict[Node, float], scale: float, colour: dict[str, object]) -> None:
    """A ribbon per edge, leaving from the top of the source node and arriving at the top of the target."""
    out_used: dict[Node, float] = defaultdict(float)
    in_used: dict[Node, float] = defaultdict(float)
    ordered_flows = sorted(flow_value.items(), key=lambda kv: (-bottom[kv[0][0]], -bottom[kv[0][1]]))
    for (a, b), value in ordered_flows:
        height = value * scale
        y0 = bottom[a] + node_value[a] * scale - out_used[a] - height
        y1 = bottom[b] + node_value[b] * scale - in_used[b] - height
        out_used[a] += height
        in_used[b] += height
        ax.add_patch(_ribbon(a[0] + _NODE_WIDTH, b[0], y0, y1, height, colour[a[1]]))


def _ribbon(x0: float, x1: float, y0: float, y1: float, height: float, colour: object) -> PathPatch:
    """A band of constant ``height`` from (x0, y0) to (x1, y1) along cubic Bézier edges."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    mid = (x0 + x1) / 2
    vertices = [(x0, y0), (mid, y0), (mid, y1), (x1, y1),
                (x1, y1 + height), (mid, y1 + height), (mid, y0 + height), (x0, y0 + height), (x0, y0)]
    codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4,
             MplPath.LINETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.CLOSEPOLY]
    return PathPatch(MplPath(vertices, codes), facecolor=colour, alpha=0.45, lw=0)


def write_sankey(result: PathsResult, path: str | Path) -> None:
    """Draw :func:`sankey_figure` to ``path`` (.png, .svg or .pdf) atomically."""
    save_figure(sankey_figure(result), path)
