"""The real Taobao UserBehavior log: the raw export read through `examples/taobao.toml`
(column mapping, event aliases, integer Unix seconds, numeric ids, China time) gives the same numbers
as the canonical file, for every analysis; and key numbers equal an independent polars computation
on the raw file."""

from __future__ import annotations

import json
import re
import shlex
from datetime import timedelta

import polars as pl
import pytest

from tests.locations import REPO

ROOT = REPO
TAOBAO_CONFIG = ROOT / "examples" / "taobao.toml"
CHINA = timedelta(hours=8)  # Asia/Shanghai has had no DST since 1991


@pytest.fixture(scope="module")
def taobao(realdata, tmp_path_factory):
    folder = realdata / "taobao_userbehavior"
    canonical_config = tmp_path_factory.mktemp("cfg") / "china.toml"
    canonical_config.write_text('timezone = "Asia/Shanghai"\n')
    return {
        "raw": ("--config", str(TAOBAO_CONFIG), str(folder / "raw_columns.parquet")),
        "canonical": ("--config", str(canonical_config), str(folder / "events.parquet")),
        "raw_frame": pl.read_parquet(folder / "raw_columns.parquet"),
    }


def run_json(cli, shape: tuple[str, str, str], command: str, *args: str) -> dict:
    config_flag, config, events = shape
    result = cli(config_flag, config, command, events, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    doc["params"].pop("source", None)
    return doc


ID_KEYS = {"category_id", "product_id", "user_id", "value"}


def same_numbers(cli, taobao, command: str, *args: str) -> dict:
    raw = run_json(cli, taobao["raw"], command, *args)
    canonical = run_json(cli, taobao["canonical"], command, *args)
    assert _ids_as_text(raw) == _ids_as_text(canonical)
    return canonical


def _ids_as_text(doc, key: str | None = None):
    """Ids are BIGINT in the raw export and text in the canonical file: compare their text."""
    if isinstance(doc, dict):
        return {k: _ids_as_text(v, k) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_ids_as_text(v, key) for v in doc]
    if key in ID_KEYS and isinstance(doc, int) and not isinstance(doc, bool):
        return str(doc)
    return doc


def china_day(frame: pl.DataFrame) -> pl.Series:
    return (pl.from_epoch(frame["timestamp"], time_unit="s") + CHINA).dt.date()


def test_validate_counts_and_epoch(cli, taobao):
    raw = run_json(cli, taobao["raw"], "validate")
    canonical = run_json(cli, taobao["canonical"], "validate")
    frame = taobao["raw_frame"]
    assert raw["rows"] == canonical["rows"] == frame.height
    assert raw["users"] == canonical["users"] == frame["user_id"].n_unique()
    assert raw["time_range"] == canonical["time_range"]
    counts = {e["event_name"]: e["events"] for e in raw["events"]}
    aliases = {"pv": "product_click", "cart": "add_to_cart", "fav": "like", "buy": "purchase"}
    expected = {aliases[k]: v for k, v in frame["behavior_type"].value_counts().iter_rows()}
    assert counts == expected


def test_kpi_per_china_day(cli, taobao):
    doc = same_numbers(cli, taobao, "kpi", "--period", "day")
    frame = taobao["raw_frame"].with_columns(day=china_day(taobao["raw_frame"]))
    buys = frame.filter(pl.col("behavior_type") == "buy").group_by("day").len()
    expected = {str(d): n for d, n in buys.iter_rows()}
    got = {r["period"]: r["orders"] for r in doc["periods"] if r["orders"]}
    assert got == expected  # orders = purchases (the export has no order_id)


def test_daily_retention_and_lifecycle(cli, taobao):
    doc = same_numbers(cli, taobao, "retention", "--start", "product_click", "--return", "purchase",
                       "--period", "day", "--periods", "4", "--from", "2017-11-25", "--to", "2017-12-03")
    frame = taobao["raw_frame"].with_columns(day=china_day(taobao["raw_frame"]))
    in_range = frame.filter((pl.col("day") >= pl.date(2017, 11, 25)) & (pl.col("day") <= pl.date(2017, 12, 3)))
    first = in_range.filter(pl.col("behavior_type") == "pv").group_by("user_id").agg(cohort=pl.col("day").min())
    cohort = doc["cohorts"][0]
    assert cohort["cohort"] == "2017-11-25"
    members = first.filter(pl.col("cohort") == pl.date(2017, 11, 25))
    assert cohort["size"] == members.height
    buyers_day1 = in_range.filter((pl.col("behavior_type") == "buy") & (pl.col("day") == pl.date(2017, 11, 26)))
    assert cohort["retained"][1] == members.join(buyers_day1.select("user_id").unique(), on="user_id").height
    same_numbers(cli, taobao, "lifecycle", "--event", "product_click", "--period", "day")


def test_engagement_by_category(cli, taobao):
    # every group (ties in the ranking order ids as numbers in one file and as text in the other)
    runs = [run_json(cli, taobao[shape], "engagement", "--by", "category_id", "--top", "100000")
            for shape in ("raw", "canonical")]
    by_category = [{str(g["category_id"]): {k: v for k, v in g.items() if k not in ("rank", "category_id")}
                    for g in doc["groups"]} for doc in runs]
    assert by_category[0] == by_category[1]
    frame = taobao["raw_frame"]
    orders = frame.filter(pl.col("behavior_type") == "buy").group_by("category_id").len()
    assert {str(c): n for c, n in orders.iter_rows()} == {c: g["orders"] for c, g in by_category[0].items() if g["orders"]}
    likes = frame.filter(pl.col("behavior_type") == "fav").group_by("category_id").len()
    assert {str(c): n for c, n in likes.iter_rows()} == {c: g["likes"] for c, g in by_category[0].items() if g["likes"]}


def test_paths(cli, taobao):
    same_numbers(cli, taobao, "paths", "--start", "product_click", "--end", "purchase", "--steps", "4")


def test_funnel_click_cart_purchase(cli, taobao):
    doc = same_numbers(cli, taobao, "funnel", "--steps", "product_click,add_to_cart,purchase", "--window", "24h")
    frame = taobao["raw_frame"]
    # step 1 = every user with a pv; the later steps are checked against a state machine in test_funnel.py
    assert doc["steps"][0]["users"] == frame.filter(pl.col("behavior_type") == "pv")["user_id"].n_unique()
    assert doc["steps"][0]["users"] >= doc["steps"][1]["users"] >= doc["steps"][2]["users"] > 0
    same_numbers(cli, taobao, "funnel", "--steps", "product_click,add_to_cart,purchase", "--window", "24h",
                 "--hold", "product_id", "--trends", "day")


def readme_taobao_commands() -> dict[str, list[str]]:
    """The shell commands of the README's Taobao example (``../shared/realdata/...`` paths), by command."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Bring your own export", 1)[1].split("\n### ", 1)[0]
    block = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)[0]
    commands = [shlex.split(c) for c in block.replace("\\\n", " ").splitlines() if c.strip()]
    return {argv[3]: argv[1:] for argv in commands}


def test_readme_engagement_example_shows_numbers_and_says_what_is_empty(cli, realdata):
    argv = [str(ROOT / a) if a.startswith("examples/") else a.replace("../shared/realdata", str(realdata))
            for a in readme_taobao_commands()["engagement"]]
    result = cli(*argv)
    assert result.exit_code == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if re.match(r"^\s*\d+\s", line)]
    assert rows and all(int(row[-1].replace(",", "")) > 0 for row in rows)  # the clicks ranked by
    assert all(int(row[6]) > 0 for row in rows)  # orders
    warning = result.stderr.strip()
    assert len(warning.splitlines()) == 1 and warning.startswith("warning: some KPIs are empty: ")
    assert "no video_view events (views, " in warning and "no revenue column (gmv, " in warning
    assert "(clicks" not in warning and "(orders" not in warning and "(likes" not in warning
    # the README shows what the command prints
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert warning in readme and all(" ".join(row) in " ".join(readme.split()) for row in rows)
    doc = json.loads(cli(*argv, "--format", "json").stdout)
    assert doc["warnings"] == [warning.removeprefix("warning: ")]
