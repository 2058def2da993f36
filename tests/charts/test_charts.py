"""Charts (``render/charts.py``): every ``--chart`` writes PNG, SVG and PDF with the same bytes run after run,
refuses other suffixes in one line before any work, and draws what the result says; no other module of
the package saves figures or lists chart formats."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shortvid_analytics.cli import app
from shortvid_analytics.errors import OptionError
from shortvid_analytics.render import charts
from tests.ab.test_metrics import write_assignments
from tests.conftest import T0, at, events_frame
from tests.locations import PACKAGE

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<svg", "pdf": b"%PDF-"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> tuple[Path, Path]:
    """60 users over three days on two platforms: views, clicks, likes, purchases, and an A/B assignment."""
    folder = tmp_path_factory.mktemp("charts")
    rows: list[tuple] = []
    for i in range(60):
        user, day = f"u{i}", i % 3
        base = {"platform": "douyin" if i % 2 else "kuaishou", "session_id": f"s{i}", "video_id": f"v{i % 6}",
                "creator_id": f"c{i % 4}", "traffic_source": "recommend" if i % 3 else "search"}
        rows.append((user, "video_view", at(days=day), base | {"watch_time_s": 10.0 + i % 30}))
        if i % 2 == 0:
            rows.append((user, "video_view", at(days=day + 1), base | {"watch_time_s": 5.0 + i % 7}))
        if i % 3:
            rows.append((user, "product_click", at(5, days=day), base | {"product_id": f"p{i % 5}"}))
        if i % 4 == 0:
            rows.append((user, "like", at(2, days=day), base))
        if i % 5 in (0, 1) or i % 7 == 0:
            rows.append((user, "purchase", at(10, days=day), base | {"product_id": f"p{i % 5}", "order_id": f"o{i}",
                                                                       "revenue": 10.0 + i % 7}))
    events = folder / "events.parquet"
    events_frame(rows).write_parquet(events)
    assignments = write_assignments(folder / "assign.parquet",
                                    [("exp", f"u{i}", ("control", "treatment")[i % 2], T0) for i in range(60)])
    return events, assignments


def command(name: str, events: Path, assignments: Path) -> list[str]:
    """The arguments of a small run of each command that has ``--chart``."""
    return {
        "funnel": ["funnel", events, "--steps", "video_view,product_click,purchase", "--by", "platform"],
        "retention": ["retention", events, "--start", "video_view", "--period", "day", "--periods", "3"],
        "paths": ["paths", events, "--start", "video_view", "--steps", "3"],
        "ab": ["ab", events, "--assignments", assignments, "--experiment", "exp", "--metric", "conversion:purchase"],
        "regress": ["regress", events, "--unit", "user", "--model", "ols", "--outcome", "revenue"],
        "lifecycle": ["lifecycle", events, "--period", "day"],
        "stickiness": ["stickiness", events],
    }[name]


COMMANDS = ("funnel", "retention", "paths", "ab", "regress", "lifecycle", "stickiness")


#: Draws the charts of the given command lines in one interpreter.
_RUN_ALL = ("import json, sys\nfrom typer.testing import CliRunner\nfrom shortvid_analytics.cli import app\n"
            "for args in json.loads(sys.argv[1]):\n    result = CliRunner().invoke(app, args)\n"
            "    if result.exit_code:\n        sys.exit(f'{args}: {result.stderr}')")


def _again(name: str) -> str:
    """The format drawn a second time for command ``name``: each format for some commands, in turn."""
    return charts.CHART_FORMATS[COMMANDS.index(name) % len(charts.CHART_FORMATS)]


@pytest.fixture(scope="module")
def drawn(shop, tmp_path_factory) -> dict[tuple[str, str], tuple[Path, Path | None]]:
    """Every command's chart in every format, drawn here; one format per command drawn again meanwhile by
    another interpreter with another string-hash seed (so no chart may depend on set order or randomness)."""
    folder = tmp_path_factory.mktemp("drawn")
    again = {name: folder / f"{name}-again.{_again(name)}" for name in COMMANDS}
    other = subprocess.Popen(
        [sys.executable, "-c", _RUN_ALL,
         json.dumps([[*map(str, command(name, *shop)), "--chart", str(path)] for name, path in again.items()])],
        cwd=PACKAGE.parent, env={**os.environ, "PYTHONHASHSEED": "12345"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    runner = CliRunner()
    files = {}
    for name in COMMANDS:
        for fmt in charts.CHART_FORMATS:
            path = folder / f"{name}.{fmt}"
            result = runner.invoke(app, [*map(str, command(name, *shop)), "--chart", str(path)])
            assert result.exit_code == 0, (name, fmt, result.stderr)
            files[(name, fmt)] = (path, again[name] if fmt == _again(name) else None)
    _, errors = other.communicate(timeout=120)
    assert other.returncode == 0, errors
    return files


@pytest.mark.parametrize("name", COMMANDS)
def test_every_format_is_written_valid_and_byte_identical_across_runs(drawn, name):
    for fmt in charts.CHART_FORMATS:
        path, again = drawn[(name, fmt)]
        data = path.read_bytes()
        assert MAGIC[fmt] in data[:200], (name, fmt, data[:80])
        if again is not None:
            assert again.read_bytes() == data, (name, fmt)


@pytest.mark.parametrize("name", COMMANDS)
def test_unsupported_suffix_is_one_line_and_writes_nothing(cli, shop, tmp_path, name):
    chart, output = tmp_path / "chart.gif", tmp_path / "out.json"
    result = cli(*command(name, *shop), "--chart", chart, "--format", "json", "--output", output)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: --chart {chart}: expected a file name ending in .png, .svg or .pdf"
    assert list(tmp_path.iterdir()) == []


def test_the_format_comes_from_the_suffix_in_any_case():
    assert [charts.chart_format(f"a/b.{s}") for s in ("png", "SVG", "Pdf")] == ["png", "svg", "pdf"]
    for bad in ("chart", "chart.jpeg", "chart.png.gz"):
        with pytest.raises(OptionError, match=r"expected a file name ending in \.png, \.svg or \.pdf"):
            charts.chart_format(bad)


@charts.styled
def _sample_figure():
    fig = charts.new_figure(4, 3)
    ax = fig.subplots()
    ax.bar(["a", "b"], [3, 5])
    ax.set_title("sample")
    return fig


def test_bytes_ignore_the_users_matplotlib_settings():
    import matplotlib

    plain = {fmt: charts.figure_bytes(_sample_figure(), fmt) for fmt in charts.CHART_FORMATS}
    with matplotlib.rc_context({"font.size": 30, "axes.facecolor": "black", "svg.hashsalt": None,
                                "lines.linewidth": 9}):
        assert {fmt: charts.figure_bytes(_sample_figure(), fmt) for fmt in charts.CHART_FORMATS} == plain
    assert all(volatile not in plain["pdf"] for volatile in (b"/CreationDate", b"/Producer", b"Matplotlib"))
    assert b"<dc:date>" not in plain["svg"] and b"Matplotlib v" not in plain["svg"]
    assert b"Software" not in plain["png"]


def test_a_figure_outside_a_style_is_a_programming_error():
    with pytest.raises(RuntimeError, match="chart_style"):
        charts.new_figure(4, 3)


def test_document_style_wins_over_the_house_style_inside_it():
    from shortvid_analytics.report.figures import report_style

    with report_style():
        fig = _sample_figure()
    assert fig.axes[0].title.get_fontsize() == charts.document_style()["axes.titlesize"]
    assert _sample_figure().axes[0].title.get_fontsize() == charts.HOUSE_STYLE["axes.titlesize"]
    assert b"<text" in charts.figure_bytes(fig, "svg")  # a document keeps SVG text as text


# ----------------------------------------------------------------------------- what the figures show
def _source(events: Path):
    from shortvid_analytics.source import EventSource

    return EventSource.open(events)


def test_funnel_bars_are_the_step_counts(shop):
    from shortvid_analytics.funnel import funnel
    from shortvid_analytics.render.funnel import funnel_figure

    result = funnel(_source(shop[0]), ["video_view", "product_click", "purchase"], "24h", by="platform")
    assert result.breakdown
    (ax,) = funnel_figure(result).axes
    heights = [bar.get_height() for container in ax.containers for bar in container]
    assert heights == [s.users for group in result.breakdown for s in group.steps]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1. video_view", "2. product_click", "3. purchase"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [g.value for g in result.breakdown]


def test_retention_heat_map_is_the_triangle(shop):
    from shortvid_analytics.eventspec import EventSpec
    from shortvid_analytics.periods import Period
    from shortvid_analytics.render.retention import retention_figure
    from shortvid_analytics.retention import retention

    result = retention(_source(shop[0]), EventSpec.parse("video_view"), period=Period.day, periods=3)
    heat_ax = retention_figure(result).axes[0]
    (image,) = heat_ax.get_images()
    shown = image.get_array()
    assert [[None if shown.mask[i, k] else float(shown[i, k]) for k in range(result.periods)]
            for i in range(len(result.total.cohorts))] == [c.rate for c in result.total.cohorts]


def test_stickiness_bars_are_the_pooled_shares(shop):
    from shortvid_analytics.eventspec import EventSpec
    from shortvid_analytics.render.stickiness import stickiness_figure
    from shortvid_analytics.stickiness import stickiness

    result = stickiness(_source(shop[0]), EventSpec.parse("video_view"))
    (ax,) = stickiness_figure(result).axes
    entries = result.overall.to_list()
    assert [(bar.get_x() + bar.get_width() / 2, bar.get_height()) for bar in ax.patches] == \
        [(e["days"], e["share"] or 0) for e in entries]


def test_paths_nodes_carry_the_paths_through_them(shop):
    from shortvid_analytics.paths import paths
    from shortvid_analytics.render.paths import sankey_figure

    result = paths(_source(shop[0]), start="video_view", steps=3)
    (ax,) = sankey_figure(result).axes
    first_column = [t.get_text() for t in ax.texts if t.get_position()[0] < 1]
    assert first_column == [f"video_view ({sum(p.paths for p in result.top_paths)})", "step 1"]


def test_forest_plot_rows_are_the_lift_intervals(shop):
    from shortvid_analytics.ab import analyze
    from shortvid_analytics.render.ab import forest_plot

    result = analyze(_source(shop[0]), shop[1], ["conversion:purchase", "revenue_per_user"], experiment="exp")
    fig = forest_plot(result)
    assert fig is not None
    (ax,) = fig.axes
    comparisons = [c for m in result.metrics for c in m.comparisons if c.ci_low is not None]
    points = [container.lines[0].get_xdata()[0] for container in ax.containers]
    assert points == pytest.approx([100 * c.rel_lift for c in reversed(comparisons)])
    assert [t.get_text() for t in ax.get_yticklabels()] == \
        [f"{m.metric} · {c.variant}" for m in reversed(result.metrics) for c in m.comparisons]


# ----------------------------------------------------------------------------- one owner
def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(PACKAGE.rglob("*.py"))]


def _chart_format_literal(node: ast.AST) -> bool:
    """A tuple, list or set literal naming an image format."""
    if not isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return False
    names = {e.value.lower().lstrip(".") for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return bool(names & {"png", "svg"})


def test_only_render_charts_saves_figures_or_lists_chart_formats():
    owner = PACKAGE / "render" / "charts.py"
    found = []
    for path, tree in _modules():
        if path == owner:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"savefig", "print_png", "print_figure",
                                                                   "rc_context"}:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.attr}")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("matplotlib.backends"):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports a canvas")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Figure":
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} creates a Figure")
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None \
                    and _chart_format_literal(node.value):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} lists chart formats")
    assert found == []
