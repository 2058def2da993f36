"""Reports: spec validation, numbers in the HTML equal the CLI's JSON, reproducibility, PDF, demo."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shortvid_analytics.cli import app
from shortvid_analytics.report.content import resolve
from tests.locations import EXAMPLES

AS_OF = "2026-12-01T00:00:00"


def run_cli(*args: Any):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------------------------------ data
@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A small synthetic export with planted truth (1,000 users, 28 days: under a second)."""
    from shortvid_analytics.generate import generate

    out = tmp_path_factory.mktemp("report") / "data"
    generate(out, users=1000, days=28, seed=3)
    return out


@pytest.fixture(scope="module")
def small_events(generated) -> Path:
    return generated / "events"


def write_spec(folder: Path, text: str) -> Path:
    path = folder / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


BASIC_SPEC = '''
title = "Basic 报告"
authors = ["A. Researcher"]
abstract = "A *short* abstract."

[[sections]]
type = "text"
title = "Introduction"
text = "Short-video commerce (短视频电商).\\n\\n# Background\\n\\nSome text."

[[sections]]
type = "data"
title = "Data"
'''


# ------------------------------------------------------------------------------------ HTML parsing
class _Shown(HTMLParser):
    """Collects (section, pointer, format, text) of every element carrying a data-ptr, and the JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.stack: list[dict[str, Any]] = []
        self.values: list[tuple[str, str, str, str]] = []
        self.json_text: list[str] = []
        self.in_json = False
        self.section_titles: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "data-section" in a:
            self.section = a["data-section"]
        if tag == "script" and a.get("id") == "report-data":
            self.in_json = True
        if "data-ptr" in a:
            self.stack.append({"ptr": a["data-ptr"], "fmt": a["data-fmt"], "text": [], "tag": tag})

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_json = False
        if self.stack and self.stack[-1]["tag"] == tag:
            item = self.stack.pop()
            self.values.append((self.section, item["ptr"], item["fmt"], "".join(item["text"])))

    def handle_data(self, data):
        if self.in_json:
            self.json_text.append(data)
        for item in self.stack:
            item["text"].append(data)


def shown(html: str) -> tuple[list[tuple[str, str, str, str]], dict[str, Any]]:
    parser = _Shown()
    parser.feed(html)
    return parser.values, json.loads("".join(parser.json_text).replace("<\\/", "</"))


def pdf_text(reader, until: str | None = None) -> str:
    """Text of the pages up to and including the first holding ``until`` (all without it).

    pypdf does not apply WeasyPrint's embedded encoding CMap, so each glyph comes out as its two-byte
    code: the high byte is a NUL for Latin text, which we drop."""
    pages = []
    for page in reader.pages:
        pages.append(page.extract_text().replace("\x00", ""))
        if until is not None and until in pages[-1] and len(pages) > 1:
            break
    return "\n".join(pages)


def matches(text: str, value: Any, fmt: str) -> bool:
    """Does the displayed ``text`` show ``value`` in format ``fmt``? (independent of the report code)"""
    if value is None:
        return text == "–"
    if fmt == "text":
        return text == str(value)
    if fmt in ("p", "peq"):
        if text == "< 0.001":
            return value < 0.001
        return abs(float(text.removeprefix("= ") if fmt == "peq" else text) - value) <= 0.0005 + 1e-12
    digits = int(re.sub(r"\D", "", fmt) or 0)
    number = float(text.replace(",", "").rstrip("%"))
    if fmt == "int":
        return number == round(value)
    if "pct" in fmt:
        return abs(number / 100 - value) <= 0.5 * 10 ** -(digits + 2) + 1e-12
    return abs(number - value) <= 0.5 * 10 ** -digits + 1e-9


def assert_numbers_match_cli(html: str) -> int:
    """Every section result equals its CLI command's JSON, and every shown number matches it."""
    values, report = shown(html)
    cli_json: dict[str, dict[str, Any]] = {}
    for section in report["sections"]:
        for name, argv in section["commands"].items():
            result = run_cli(*argv)
            assert result.exit_code == 0, result.stderr
            doc = json.loads(result.stdout)
            assert doc == section["results"][name], f"section {section['number']} {name}"
            cli_json.setdefault(str(section["number"]), {})[name] = doc
    checked = 0
    for sec, ptr, fmt, text in values:
        value = resolve(cli_json[sec], ptr)
        assert matches(text.strip(), value, fmt), f"section {sec} {ptr}: shown {text!r}, JSON {value!r} ({fmt})"
        checked += 1
    return checked


# ------------------------------------------------------------------------------------------ tests
EXAMPLE_SPEC = EXAMPLES / "douyin_vs_kuaishou.toml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Any]:
    """``shortvid demo`` once, run without --out in an empty working directory: generated data (800 users,
    seed 42) and the example case study (examples/douyin_vs_kuaishou.toml) in HTML, PDF and JSON, from one
    build, in ./shortvid-demo/, with every path printed absolute."""
    cwd = tmp_path_factory.mktemp("demo")
    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = run_cli("demo", "--users", 800, "--as-of", AS_OF)
    finally:
        os.chdir(before)
    assert result.exit_code == 0, result.stderr
    folder = cwd / "shortvid-demo"
    assert sorted(p.name for p in cwd.iterdir()) == ["shortvid-demo"]
    for name in ("report.html", "report.pdf", "report.json"):
        assert str(folder / name) in result.stdout
    return folder, result


def test_demo_refuses_a_non_empty_folder_unless_forced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run_cli("demo", "--out", tmp_path, "--users", 50)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: --out {tmp_path} is not empty; pass --force to replace its contents, or choose another folder"]
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    result = run_cli("demo", "--out", tmp_path / "notes.txt")
    assert result.exit_code == 2 and "is a file, not a folder" in result.stderr


@pytest.fixture(scope="module")
def example(demo) -> dict[str, Path]:
    folder, _ = demo
    return {"a.html": folder / "report.html", "r.json": folder / "report.json", "r.pdf": folder / "report.pdf",
            "data": folder / "data"}


def test_example_numbers_equal_the_cli_json(example):
    html = example["a.html"].read_text(encoding="utf-8")
    assert assert_numbers_match_cli(html) >= 80
    _, report = shown(html)
    assert [s["type"] for s in report["sections"]][:2] == ["text", "data"]
    assert {"ab"} <= {s["type"] for s in report["sections"]}


REPRO_SPEC = BASIC_SPEC + """
[[sections]]
type = "funnel"
title = "Funnel"
steps = "video_view,product_click,add_to_cart,purchase"
by = "platform"

[[sections]]
type = "retention"
title = "Retention"
return = "purchase"
periods = 3

[[sections]]
type = "engagement"
title = "Platforms"
by = "platform"

[[sections]]
type = "ab"
title = "Experiment"
metric = ["conversion:purchase", "revenue_per_user"]
"""


def test_html_is_byte_identical_across_builds(generated, tmp_path):
    spec = write_spec(tmp_path, REPRO_SPEC)
    for name in ("a.html", "b.html"):
        result = run_cli("report", generated / "events", "--spec", spec, "--out", tmp_path / name, "--as-of", AS_OF,
                         "--assignments", generated / "assignments.parquet")
        assert result.exit_code == 0, result.stderr
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def test_example_html_is_self_contained_with_numbered_tables(example):
    html = example["a.html"].read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:|//|file:)', html)
    assert "data:image/svg+xml;base64," in html
    assert re.search(r'<h2 id="sec-1"><span class="secno">1</span> Introduction</h2>', html)
    _, report = shown(html)
    numbers = [t["number"] for s in report["sections"] for t in s["tables"]]
    assert numbers == list(range(1, len(numbers) + 1))  # tables numbered in order across sections
    for number in numbers:
        assert f'id="table-{number}"' in html and f"Table {number}." in html


def test_json_output_equals_embedded_json(example):
    _, embedded = shown(example["a.html"].read_text(encoding="utf-8"))
    assert json.loads(example["r.json"].read_text(encoding="utf-8")) == embedded
    assert embedded["kind"] == "report" and embedded["params"]["as_of"] == AS_OF


def test_provenance_lists_inputs_seeds_versions_and_sql(example):
    import hashlib

    prov = json.loads(example["r.json"].read_text())["provenance"]
    files = prov["inputs"]["events"]["files"]
    assert len(files) == 28  # one per day
    for entry in files:
        assert entry["sha256"] == hashlib.sha256(Path(entry["path"]).read_bytes()).hexdigest()
        assert entry["bytes"] == Path(entry["path"]).stat().st_size
    assert sum(f["rows"] for f in files) == prov["inputs"]["events"]["rows"] > 0
    (assignments,) = prov["inputs"]["assignments"]["files"]
    assert assignments["sha256"] == hashlib.sha256((example["data"] / "assignments.parquet").read_bytes()).hexdigest()
    assert prov["seeds"]["seed"] == 42 and prov["seeds"]["users"] == 800
    assert prov["spec"]["sha256"] == hashlib.sha256(EXAMPLE_SPEC.read_bytes()).hexdigest()
    assert prov["generated_at"] == AS_OF
    assert {"duckdb", "polars", "statsmodels", "matplotlib", "weasyprint"} <= set(prov["versions"])
    by_name = {q["name"]: q for q in prov["queries"]}
    assert by_name["validate_summary"]["sql"].startswith("-- One pass")
    assert "source" in by_name["events_view"]["used_by"]
    numbers = {s["type"]: s["number"] for s in json.loads(example["r.json"].read_text())["sections"]}
    assert numbers["data"] in by_name["validate_summary"]["used_by"]
    assert numbers["ab"] in by_name["ab_variant_sums"]["used_by"]


def test_demo_builds_html_pdf_and_json(demo):
    folder, result = demo
    html, pdf, data = folder / "report.html", folder / "report.pdf", folder / "report.json"
    for path in (html, pdf, data):
        assert str(path) in result.stdout
    report = json.loads(data.read_text(encoding="utf-8"))
    assert report["title"] in html.read_text(encoding="utf-8")
    events = report["sections"][1]["results"]["validate"]["rows"]
    truth = json.loads((folder / "data" / "truth.json").read_text())
    assert truth["generator"]["args"]["users"] == 800
    assert f"data: {events:,} events" in result.stdout


def test_pdf_has_pages_and_section_titles(example):
    from pypdf import PdfReader

    reader = PdfReader(example["r.pdf"])
    assert 10 <= len(reader.pages) <= 60  # about a third analyses, the rest the SQL of the appendix
    report = json.loads(example["r.json"].read_text())
    body = pdf_text(reader, until="Methods and provenance")
    for section in report["sections"]:
        assert body.count(section["title"]) >= 2, section["title"]  # contents and heading
    assert f"Page 1 of {len(reader.pages)}" in body


def test_ab_reading_words_significant_and_null_results_differently():
    from shortvid_analytics.report.content import Doc
    from shortvid_analytics.report.sections.ab import effect_reading

    def reading(significant: bool, lift: float, p: float) -> str:
        comp = {"variant": "treatment", "rel_lift": lift, "ci_low": lift - 0.036, "ci_high": lift + 0.037,
                "p_value": p, "p_adjusted": None, "significant": significant, "chance_to_win": None}
        result = {"method": "frequentist", "control": "control", "experiment": "x",
                  "metrics": [{"metric": "conversion:purchase", "comparisons": [comp]}]}
        doc = Doc({"ab": result})
        html = effect_reading(doc, "/ab/metrics/0", result["metrics"][0], 0, result, "95%").html
        return re.sub(r"<[^>]+>", "", str(html))

    assert reading(True, 0.048, 0.009) == ("Compared with control, treatment raised purchase conversion by +4.8% "
                                           "(95% CI +1.2% to +8.5%), p = 0.009.")
    assert reading(True, -0.048, 0.0001).startswith("Compared with control, treatment lowered purchase conversion")
    null = reading(False, 0.02, 0.31)
    assert "changed purchase conversion by +2.0%" in null and "consistent with no effect" in null


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('type = "funel"\ntitle = "Oops"',
         "section 3 (funel \"Oops\"): key 'type': 'funel' is not a section type"),
        ('type = "data"\ntitle = "D"\nwindow = "24h"',
         "section 3 (data \"D\"): unknown key 'window'"),
        ('type = "text"\ntitle = "T"\ntext = 3',
         "section 3 (text \"T\"): key 'text': 3 is int; expected a string"),
        ('type = "text"\ntitle = "T"',
         "section 3 (text \"T\"): key 'text' is required"),
        ('type = "data"\ntitle = "D"\nfrom = "yesterday"',
         "section 3 (data \"D\"): key 'from': 'yesterday'; expected a date"),
    ],
)
def test_bad_spec_fails_before_any_analysis(tmp_path, section, message):
    spec = write_spec(tmp_path, BASIC_SPEC + "\n[[sections]]\n" + section + "\n")
    # The events path does not exist: an error about it would mean analysis started.
    result = run_cli("report", tmp_path / "missing.parquet", "--spec", spec, "--out", tmp_path / "r.html")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "r.html").exists()


def test_analysis_errors_name_the_section(small_events, tmp_path):
    spec = write_spec(tmp_path, BASIC_SPEC.replace('type = "data"\ntitle = "Data"',
                                                   'type = "data"\ntitle = "Data"\nfrom = "2027-01-01"'))
    result = run_cli("report", tmp_path / "nothing", "--spec", spec, "--out", tmp_path / "r.html")
    assert result.exit_code == 1
    assert "section 2 (data \"Data\")" in result.stderr and "no such file" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_unknown_output_suffix_and_overwriting_inputs_are_refused(small_events, tmp_path):
    spec = write_spec(tmp_path, BASIC_SPEC)
    result = run_cli("report", small_events, "--spec", spec, "--out", tmp_path / "r.docx")
    assert result.exit_code == 2 and "cannot tell the format" in result.stderr
    result = run_cli("report", small_events, "--spec", spec, "--out", spec, "--format", "html")
    assert result.exit_code == 2 and "refusing to write over an input" in result.stderr


def test_section_parameters_mirror_the_cli_options():
    """Every spec key that names a CLI option is an option of that command (a contract, not a copy)."""
    import typer

    from shortvid_analytics.report import SECTION_TYPES

    root = typer.main.get_command(app)
    checked = 0
    for kind in SECTION_TYPES.values():
        if kind.command is None:
            continue
        command = root.get_command(typer.Context(root), kind.command)  # loads the command's module
        if hasattr(command, "commands"):  # `ab` routes EVENTS to its `analyze` subcommand
            command = command.commands["analyze"]
        options = {opt for param in command.params for opt in param.opts}
        for param in kind.params:
            if param.option is not None:
                assert param.option in options, f"{kind.name}.{param.name}: {param.option} not an option of {command.name}"
                checked += 1
    assert checked >= 0


