"""No number or label is ever cut: every command that prints a table, run over the example data
at COLUMNS=80 and 200, shows each cell and each number of its JSON whole, within the width."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from shortvid_analytics.cli import app
from shortvid_analytics.render import blocks
from shortvid_analytics.render.ab import _fmt_lift, _fmt_mean, _fmt_p
from shortvid_analytics.render.blocks import Unclipped, unclipped
from shortvid_analytics.render.console import fmt_number, fmt_pct
from shortvid_analytics.render.engagement import TABLE_KPIS
from shortvid_analytics.render.kpi import PERIOD_TABLE_KPIS, fmt_kpi
from tests.locations import EXAMPLE_DATA

DATA = EXAMPLE_DATA
EVENTS = str(DATA / "events")
ASSIGNMENTS = str(DATA / "assignments.parquet")
WIDTHS = (80, 200)

#: One realistic run per table command; the wide ones (``WIDE``) cannot fit 80 columns in one block.
COMMANDS: dict[str, tuple[str, ...]] = {
    "kpi": ("kpi", EVENTS, "--period", "day"),
    "kpi_by": ("kpi", EVENTS, "--period", "week", "--by", "platform"),
    "engagement": ("engagement", EVENTS, "--by", "creator_id"),
    "funnel": ("funnel", EVENTS, "--steps", "video_view,product_click,add_to_cart,purchase", "--by", "platform",
               "--trends", "week"),
    "retention": ("retention", EVENTS, "--start", "video_view", "--return", "video_view", "--period", "day",
                  "--periods", "14", "--by", "platform"),
    "ab": ("ab", EVENTS, "--assignments", ASSIGNMENTS, "--experiment", "checkout_v2", "--metric",
           "conversion:purchase", "--metric", "revenue_per_user", "--by", "platform"),
    "ab_power": ("ab", "power", "--baseline", "0.03", "--mde", "0.05"),
    "regress": ("regress", EVENTS, "--unit", "user"),
    "lifecycle": ("lifecycle", EVENTS, "--period", "day"),
    "stickiness": ("stickiness", EVENTS, "--period", "week"),
    "paths": ("paths", EVENTS, "--start", "video_view", "--end", "purchase", "--steps", "5", "--top", "5"),
    "attribution": ("attribution", EVENTS, "--touch", "video_view", "--conversion", "purchase", "--top", "5"),
    "validate": ("validate", EVENTS),
    "anonymize": ("anonymize", EVENTS, "--assignments", ASSIGNMENTS),
}
WIDE = ("kpi", "kpi_by", "engagement", "funnel", "retention", "ab", "regress", "lifecycle", "paths",
        "attribution")


def _invoke(args: tuple[str, ...], width: int, tmp: Path) -> str:
    env = {"COLUMNS": str(width)}
    if args[0] == "anonymize":
        args = (*args, "--out", str(tmp / f"anon-{width}"))
        env["SHORTVID_PSEUDONYM_KEY"] = "a test key of the width checks"
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, int], tuple[str, list[Unclipped]]]:
    """``run(name, width)``: the command's table output and the tables it handed to the console (each
    command runs once per width for the whole module)."""
    tmp = tmp_path_factory.mktemp("width")

    @cache
    def _run(name: str, width: int) -> tuple[str, list[Unclipped]]:
        made: list[Unclipped] = []
        original = blocks.Unclipped.__init__

        def recording(self: Unclipped, *args: object, **kwargs: object) -> None:
            original(self, *args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(blocks.Unclipped, "__init__", recording)
            text = _invoke(COMMANDS[name], width, tmp)
        return text, made

    return _run


@pytest.fixture(scope="module")
def doc() -> Callable[[str], dict]:
    """``doc(name)``: the command's ``-f json`` document."""
    return cache(lambda name: json.loads(_invoke((*COMMANDS[name], "-f", "json"), 200, Path("."))))


def _plain(cell: object) -> str:
    if isinstance(cell, Text):
        return cell.plain
    return Text.from_markup(cell).plain if isinstance(cell, str) else ""


def _cells(table: Unclipped) -> Iterator[tuple[str, bool]]:
    """Every header and cell of a table as plain text, and whether it is free text (may wrap)."""
    for index, column in enumerate(table.table.columns):
        for cell in (column.header, *column.cells):
            yield _plain(cell), index in table.wrap


def assert_whole(text: str, values: list[str]) -> None:
    missing = [v for v in values if v not in text]
    assert not missing, f"not shown whole: {missing[:10]}\n{text}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_cell_whole_within_the_width(run, name, width):
    text, tables = run(name, width)
    assert tables, "the command printed no table through unclipped()"
    assert "…" not in text
    longest = max(text.splitlines(), key=len)
    assert len(longest) <= width, longest
    rigid = [cell for t in tables for cell, wraps in _cells(t) if cell and not wraps]
    words = [word for t in tables for cell, wraps in _cells(t) if wraps for word in cell.split()]
    assert_whole(text, rigid + words)
    # blocks are what keeps a wide table whole at 80 columns; at 200 every table fits as it is
    assert ("(continued)" in text) == (width == 80 and name in WIDE)


def _kpi_numbers(d: dict) -> list[str]:
    return [row["period"] for row in d["periods"]] + [
        fmt_kpi(n, row[n]) for row in d["periods"] for n in PERIOD_TABLE_KPIS]


def _engagement_numbers(d: dict) -> list[str]:
    return [g["creator_id"] for g in d["groups"]] + [fmt_kpi(n, g[n]) for g in d["groups"] for n in TABLE_KPIS]


def _funnel_numbers(d: dict) -> list[str]:
    steps = d["steps"] + [s for g in d["breakdown"] for s in g["steps"]]
    return [fmt_number(s["users"]) for s in steps] + [fmt_pct(s["conversion_from_start"], 1) for s in steps] + [
        fmt_number(s["dropoff"]) for s in d["steps"]]


def _retention_numbers(d: dict) -> list[str]:
    cohorts = [c["label"] for c in d["cohorts"]] + [fmt_number(c["size"]) for c in d["cohorts"]]
    rates = [f"{100 * r:.1f}" for c in d["cohorts"] for r in c["rate"] if r is not None]
    return cohorts + rates + [fmt_number(p["users"]) for p in d["overall"]]


def _ab_numbers(d: dict) -> list[str]:
    metrics = d["metrics"] + [m for s in d.get("segments") or [] for m in s["metrics"]]
    out = [_fmt_mean(m["type"], v["mean"]) for m in metrics for v in m["variants"]]
    for c in (c for m in metrics for c in m["comparisons"]):
        out += [_fmt_lift(c["rel_lift"]), f"[{_fmt_lift(c['ci_low'])}, {_fmt_lift(c['ci_high'])}]",
                _fmt_p(c["p_value"]), _fmt_p(c["p_adjusted"])]
    return out


def _regress_numbers(d: dict) -> list[str]:
    """Standard errors and p-values, the columns that were cut, and the interval bounds."""
    coefficients = [c for m in d["models"] for c in m["coefficients"]]
    return [fmt_number(c[k], 4) for c in coefficients for k in ("std_error", "ci_low", "ci_high")] + [
        f"{c['p_value']:.4f}" for c in coefficients]


JSON_NUMBERS = {"kpi": _kpi_numbers, "engagement": _engagement_numbers, "funnel": _funnel_numbers,
                "retention": _retention_numbers, "ab": _ab_numbers, "regress": _regress_numbers}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(JSON_NUMBERS))
def test_numbers_of_the_json_appear_whole(run, doc, name, width):
    values = JSON_NUMBERS[name](doc(name))
    assert len(values) > 20
    assert_whole(run(name, width)[0], values)


def test_regress_file_keeps_standard_errors_and_p_values(doc, tmp_path):
    """Written with -o from an 80-column terminal: the file is 120 columns wide and cuts nothing."""
    out = tmp_path / "models.txt"
    result = CliRunner().invoke(app, [*COMMANDS["regress"], "-o", str(out)], env={"COLUMNS": "80"},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "…" not in text and "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 120
    assert_whole(text, _regress_numbers(doc("regress")))


def _wide_table() -> Table:
    table = Table(title="Wide\nsecond line", caption="the caption")
    table.add_column("period")
    for k in range(12):
        table.add_column(f"metric {k}", justify="right")
    for day in range(3):
        table.add_row(f"2026-10-0{day + 1}", *(f"{1_000_000 * (k + 1) + day:,}" for k in range(12)))
    return table


def _render(renderable: object, width: int) -> str:
    console = Console(width=width, color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def test_blocks_repeat_the_key_columns_and_split_the_title_and_caption():
    text = _render(unclipped(_wide_table()), 60)
    assert "…" not in text and max(map(len, text.splitlines())) <= 60
    assert text.count("2026-10-01") == text.count("(continued)") + 1 > 2
    assert text.count("Wide") == text.count("(continued)") + 1 and "second line" in text.split("(continued)")[0]
    assert text.count("the caption") == 1 and text.rstrip().endswith("the caption")
    assert_whole(text, [f"{1_000_000 * (k + 1) + d:,}" for k in range(12) for d in range(3)])


def test_a_table_that_fits_is_printed_as_rich_prints_it():
    table = _wide_table()
    assert _render(unclipped(table), 200) == _render(table, 200)


def test_free_text_wraps_at_spaces_before_the_table_is_split():
    table = Table()
    for name in ("#", "path", "users"):
        table.add_column(name)
    table.add_row("1", " → ".join(["video_view"] * 8), "12,345")
    text = _render(unclipped(table, keys=1, wrap={1}), 40)
    assert "(continued)" not in text and "…" not in text and "12,345" in text
    assert text.count("video_view") == 8 and max(map(len, text.splitlines())) <= 40


def test_a_cell_wider_than_the_console_is_folded_not_cut():
    table = Table()
    table.add_column("source")
    table.add_row("x" * 50)
    text = _render(unclipped(table), 30)
    assert "…" not in text and text.count("x") == 50
