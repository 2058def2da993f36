"""Case-study reports built from the real datasets (examples/real_data.toml on the raw Taobao
export through its mapping config; examples/real_data_ab.toml on Cookie Cats). Each section's numbers
are the JSON of the corresponding command, run separately."""

from __future__ import annotations

import json

from tests.locations import REPO

ROOT = REPO


def _json(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _without_source(doc: dict) -> dict:
    """The numbers: params differ legitimately (source path; reports default to small-cell suppression)."""
    return {k: v for k, v in doc.items() if k != "params"}


def test_taobao_report_sections_equal_commands(cli, realdata, tmp_path):
    raw = realdata / "taobao_userbehavior" / "raw_columns.parquet"
    config = ROOT / "examples" / "taobao.toml"
    out = tmp_path / "taobao.json"
    result = cli("--config", config, "report", raw, "--spec", ROOT / "examples" / "real_data.toml",
                 "--out", out, "--out", tmp_path / "taobao.html", "--as-of", "2026-11-26")
    assert result.exit_code == 0, result.stderr
    report = json.loads(out.read_text())
    sections = {s["title"]: s for s in report["sections"]}
    funnel = sections["From product click to purchase"]["results"]["funnel"]
    direct = _json(cli("--config", config, "funnel", raw, "--steps", "product_click,add_to_cart,purchase",
                       "--window", "24h", "--from", "2017-11-25", "--to", "2017-12-03", "--format", "json"))
    assert _without_source(funnel) == _without_source(direct)
    kpi = sections["Day by day"]["results"]["kpi"]
    direct = _json(cli("--config", config, "kpi", raw, "--period", "day", "--from", "2017-11-25",
                       "--to", "2017-12-03", "--format", "json"))
    assert _without_source(kpi) == _without_source(direct)
    assert (tmp_path / "taobao.html").read_text(encoding="utf-8").count("<h2") >= 8


def test_cookie_cats_report_equals_ab_command(cli, realdata, tmp_path):
    folder = realdata / "cookie_cats"
    out = tmp_path / "cc.json"
    result = cli("report", folder / "events.parquet", "--spec", ROOT / "examples" / "real_data_ab.toml",
                 "--assignments", folder / "assignments.parquet", "--out", out, "--as-of", "2026-11-26")
    assert result.exit_code == 0, result.stderr
    section = json.loads(out.read_text())["sections"][0]["results"]["ab"]
    direct = _json(cli("ab", folder / "events.parquet", "--assignments", folder / "assignments.parquet",
                       "--experiment", "cookie_cats_gate_30_vs_40", "--control", "gate_30",
                       "--metric", "conversion:retained_d1", "--metric", "conversion:retained_d7",
                       "--metric", "sum:rounds:session_summary", "--cap", "0.99", "--format", "json"))
    assert section["metrics"] == direct["metrics"] and section["srm"] == direct["srm"]
    assert section["metrics"][2]["cap_value"] is not None
