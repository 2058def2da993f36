"""Hostile options, configs and values: every one ends in exit 1 or 2 with one ``error:`` line,
or in a correct result; never exit 70, a traceback or matplotlib noise on stderr."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from shortvid_analytics.errors import OptionError
from shortvid_analytics.eventspec import EventSpec, parse_list
from shortvid_analytics.render import charts
from shortvid_analytics.retention import retention
from shortvid_analytics.source import EventSource
from tests.conftest import at
from tests.digest.test_digest import AS_OF, weekly_events

HUGE = "99999999999999999999"  # beyond int64
INT64_MAX = str(2**63 - 1)


def one_error(result, code: int) -> str:
    """The single ``error:`` line of a refused command (exit ``code``, no traceback); the digest's
    progress lines (``digest: ...``) aside."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("digest: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def shop(write_events) -> Path:
    rows = []
    for i in range(20):
        user = f"u{i}"
        rows.append((user, "video_view", at(i), {"session_id": f"s{i}", "creator_id": "c1", "platform": "douyin"}))
        if i % 2:
            rows.append((user, "purchase", at(i + 5), {"session_id": f"s{i}", "creator_id": "c1",
                                                       "platform": "douyin", "order_id": f"o{i}",
                                                       "revenue": 10.0, "product_id": "p1"}))
    return write_events(rows)


@pytest.fixture
def assignments(tmp_path) -> Path:
    path = tmp_path / "assignments.parquet"
    pl.DataFrame({"experiment_id": ["e"] * 20, "user_id": [f"u{i}" for i in range(20)],
                  "variant": ["control", "treatment"] * 10,
                  "assigned_at": [at(-60)] * 20}).write_parquet(path)
    return path


# ------------------------------------------------------------------------------------------- bounds

@pytest.mark.parametrize("window", [f"{HUGE}d", "3654d", "1000000w"])
@pytest.mark.parametrize("command", [
    ["funnel", "{events}", "--steps", "video_view,purchase", "--window"],
    ["paths", "{events}", "--start", "video_view", "--window"],
    ["attribution", "{events}", "--window"],
    ["regress", "{events}", "--window"],
    ["ab", "analyze", "{events}", "--assignments", "{assignments}", "-m", "conversion:purchase", "--window"],
])
def test_huge_window_is_refused(cli, shop, assignments, command, window):
    args = [a.format(events=shop, assignments=assignments) for a in command]
    line = one_error(cli(*args, window), 2)
    assert window in line and "3653d" in line


def test_ten_years_is_the_longest_window(cli, shop):
    assert cli("funnel", shop, "--steps", "video_view,purchase", "--window", "3653d").exit_code == 0


@pytest.mark.parametrize("days", [HUGE, "3654", "0", "-1"])
def test_cuped_days_out_of_bounds_is_refused(cli, shop, assignments, days):
    line = one_error(cli("ab", "analyze", shop, "--assignments", assignments, "-m", "conversion:purchase",
                         "--cuped-days", days), 2)
    assert "--cuped-days" in line


def test_absurd_periods_are_refused_before_any_work(cli, shop):
    import shortvid_analytics.retention  # noqa: F401  (the first import's cost is not the work measured)

    started = time.perf_counter()
    line = one_error(cli("retention", shop, "--periods", "1000000000"), 2)
    assert time.perf_counter() - started < 1.0
    assert "--periods 1000000000" in line and "10000" in line


def test_absurd_periods_are_refused_by_the_library(shop):
    """The library names the option by its field (the CLI shows it as --periods)."""
    with pytest.raises(OptionError, match="^periods 1000000000: .*10000") as refused:
        retention(EventSource.open(shop), EventSpec.parse("video_view"), periods=10**9)
    assert refused.value.option == "periods"
    with pytest.raises(OptionError, match="^periods True") as refused:
        retention(EventSource.open(shop), EventSpec.parse("video_view"), periods=True)
    assert refused.value.option == "periods"


@pytest.mark.parametrize("option", ["--top", "--min-views"])
def test_engagement_counts_beyond_int64_are_refused(cli, shop, option):
    line = one_error(cli("engagement", shop, "--by", "creator_id", option, HUGE), 2)
    assert option in line and "int64" in line


def test_engagement_top_at_int64_max_lists_everything(cli, shop):
    result = cli("engagement", shop, "--by", "creator_id", "--top", INT64_MAX, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["groups"]) == 1


def test_global_threads_beyond_int64_is_refused(cli, shop):
    assert "--threads" in one_error(cli("--threads", HUGE, "kpi", shop), 2)


@pytest.mark.parametrize("command", [["kpi"], ["funnel", "--steps", "video_view,purchase"], ["lifecycle"],
                                     ["retention"], ["engagement", "--by", "creator_id"], ["validate"]])
def test_dates_at_the_ends_of_the_calendar_select_everything(cli, shop, command):
    name, *rest = command
    plain = cli(name, shop, *rest, "-f", "json")
    wide = cli(name, shop, *rest, "-f", "json", "--from", "0001-01-01", "--to", "9999-12-31")
    assert plain.exit_code == 0 and wide.exit_code == 0, wide.stderr
    assert "error" not in wide.stderr
    body, reference = json.loads(wide.stdout), json.loads(plain.stdout)
    for doc in (body, reference):  # params name the clamped range; the results must be the same
        doc.pop("params", None)
    assert body == reference


# ------------------------------------------------------------------------------------------- config

@pytest.mark.parametrize(("content", "expected"), [
    (b"[engine]\nthreads = true\n", "[engine] threads = true; expected a positive integer"),
    (b"[privacy]\nmin_group_size = true\n", "[privacy] min_group_size = true; expected an integer"),
    (b"[privacy]\nmin_group_size = 99999999999999999999\n", "min_group_size = 99999999999999999999; expected"),
    (b"[privacy]\nmin_group_size = 9223372036854775807\n", None),
    (b'events = "x"\n', "events = 'x'; expected a table"),
    (b"events = 3\n", "events = 3; expected a table"),
    (b"[engine]\nmemory_limit = 2\n", "[engine] memory_limit = 2; expected a string"),
    (b'[privacy]\npseudonym_key = "   "\n', "pseudonym_key must be a non-empty string"),
    (b"# caf\xe9\n", "not UTF-8"),
    (b"PAR1\x15\x04\x15\xa0\x01\x15\x9c\x01L\x15\x02", "not UTF-8"),
])
def test_bad_config_is_one_line(cli, shop, tmp_path, content, expected):
    config = tmp_path / "shortvid.toml"
    config.write_bytes(content)
    result = cli("--config", config, "kpi", shop)
    if expected is None:
        assert result.exit_code == 0, result.stderr
        return
    assert expected in one_error(result, 1)


def test_config_that_is_a_directory_or_parquet(cli, shop, tmp_path):
    assert "is a directory" in one_error(cli("--config", tmp_path, "kpi", shop), 1)
    assert "not UTF-8" in one_error(cli("--config", shop, "kpi", shop), 1)


# ---------------------------------------------------------------------------------- leaks and escapes

@pytest.mark.parametrize("column", ["session_id", "user_id", "order_id"])
def test_digest_refuses_identity_columns_whatever_the_group_size(cli, shop, tmp_path, column):
    out = tmp_path / "digest"
    line = one_error(cli("digest", shop, "--out", out, "--by", column, "--min-group-size", "1",
                         "--as-of", AS_OF, "--allow-partial"), 2)
    assert f"--by {column}" in line and "docs/privacy.md" in line
    assert not out.exists()


@pytest.mark.parametrize("command", ["kpi", "engagement"])
def test_kpi_and_engagement_refuse_session_id(cli, shop, command):
    assert "identity" in one_error(cli(command, shop, "--by", "session_id"), 2)


@pytest.mark.parametrize("key", ["", "   "])
def test_anonymize_refuses_a_blank_key_and_writes_nothing(cli, shop, tmp_path, monkeypatch, key):
    monkeypatch.setenv("SHORTVID_PSEUDONYM_KEY", key)
    out = tmp_path / "share"
    assert "SHORTVID_PSEUDONYM_KEY" in one_error(cli("anonymize", shop, "--out", out), 2)
    assert not out.exists()


SCRIPT, PIPE, NEWLINE = "<script>alert(1)</script>", "a|b", "line1\nline2"


def test_digest_escapes_values_in_markdown_and_html_and_keeps_json_raw(cli, write_events, tmp_path):
    rename = {"douyin": SCRIPT, "kuaishou": PIPE, "c1": NEWLINE, "c2": f"{SCRIPT}|{NEWLINE}"}
    rows = []
    for user, name, when, extra in weekly_events():
        rows.append((user, name, when, {k: rename.get(v, v) for k, v in extra.items()}))
    events = write_events(rows)
    out = tmp_path / "digest"
    result = cli("digest", events, "--out", out, "--as-of", AS_OF, "--min-group-size", "1")
    assert result.exit_code == 0, result.stderr
    html = (out / "digest-2026-W45.html").read_text(encoding="utf-8")
    md = (out / "digest-2026-W45.md").read_text(encoding="utf-8")
    doc = json.loads((out / "digest-2026-W45.json").read_text(encoding="utf-8"))

    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert r"a\|b" in md and "line1<br>line2" in md
    # every row of every Markdown table has as many unescaped cell separators as its header
    for block in re.split(r"\n\n+", md):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if lines:
            counts = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
            assert len(counts) == 1, block

    platforms = {g["platform"] for g in doc["by"]["groups"]}
    assert platforms == {SCRIPT, PIPE}
    creators = {m["creator_id"] for m in doc["movers"]["creator_id"]["up"] + doc["movers"]["creator_id"]["down"]}
    assert creators == {NEWLINE, f"{SCRIPT}|{NEWLINE}"}


# --------------------------------------------------------------------------------------------- Unicode

@pytest.fixture
def chinese(tmp_path) -> Path:
    """12 viewers; the odd ones on 抖音 enter the live room (直播间) on 抖音; every third buys (购买)."""
    rows = []
    t0 = datetime(2026, 11, 2, 10)
    for u in range(12):
        platform = "抖音" if u % 2 else "快手"
        rows.append({"user_id": f"u{u}", "event_name": "观看", "event_time": t0 + timedelta(minutes=u),
                     "平台": platform, "revenue": None})
        rows.append({"user_id": f"u{u}", "event_name": "直播间", "event_time": t0 + timedelta(minutes=u, seconds=30),
                     "平台": platform, "revenue": None})
        if u % 3 == 0:
            rows.append({"user_id": f"u{u}", "event_name": "pay_ok", "event_time": t0 + timedelta(minutes=u + 1),
                         "平台": platform, "revenue": 10.0})
    path = tmp_path / "zh.parquet"
    pl.DataFrame(rows).write_parquet(path)
    return path


@pytest.fixture
def chinese_config(tmp_path) -> Path:
    path = tmp_path / "zh.toml"
    path.write_text('[events]\n"购买" = ["pay_ok"]\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("text", ["购买", "直播间[平台=抖音]", '"直播间"[平台 = "抖音"]', "直播间[平台 in (抖音, 快手)]",
                                  '"live room"|x["a b" not in ("x, y", z)]', 'a[b="q\\"x"]'])
def test_unicode_and_quoted_selectors_parse_and_round_trip(text):
    spec = EventSpec.parse(text)
    assert EventSpec.parse(str(spec)) == spec


def test_quoted_selector_fields():
    spec = EventSpec.parse('"直播间"[平台 = "抖音"]')
    assert spec.names == ("直播间",)
    assert [(f.prop, f.op, f.values) for f in spec.filters] == [("平台", "=", ("抖音",))]
    assert [s.names for s in parse_list('a,"b,c",d[x in (1, 2)]')] == [("a",), ("b,c",), ("d",)]


@pytest.mark.parametrize("text", ["<script>", "a b", 'a["x]', "a[]", "a[平台]", '""'])
def test_malformed_selectors_are_option_errors(text):
    with pytest.raises(OptionError):
        EventSpec.parse(text)


def test_chinese_funnel(cli, chinese, chinese_config):
    result = cli("--config", chinese_config, "funnel", chinese, "--steps", '观看,"直播间"[平台 = "抖音"],购买',
                 "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert [s["users"] for s in json.loads(result.stdout)["steps"]] == [12, 6, 2]
    raw = cli("funnel", chinese, "--steps", "观看,直播间[平台=抖音]", "--by", "平台", "-f", "json")
    assert raw.exit_code == 0, raw.stderr


def test_chinese_column_as_breakdown(cli, chinese, chinese_config):
    result = cli("--config", chinese_config, "engagement", chinese, "--by", "平台", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert {g["平台"] for g in json.loads(result.stdout)["groups"]} == {"抖音", "快手"}
    assert cli("--config", chinese_config, "kpi", chinese, "--by", "平台").exit_code == 0


def test_chinese_chart_labels_give_at_most_one_warning(cli, chinese, chinese_config, tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "_reported_missing", set())
    for command in (["funnel", chinese, "--steps", "观看,直播间[平台=抖音]", "--by", "平台", "--chart", tmp_path / "f.png"],
                    ["retention", chinese, "--start", "观看", "--return", "购买", "--by", "平台", "--chart",
                     tmp_path / "r.svg"]):
        result = cli("--config", chinese_config, *command)
        assert result.exit_code == 0, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert all(line.startswith("warning: chart labels") for line in lines), result.stderr
        assert len(lines) <= 1 and "Glyph" not in result.stderr


def test_digest_chart_with_chinese_platforms_is_quiet(cli, write_events, tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "_reported_missing", set())
    rows = [(u, n, w, {k: {"douyin": "抖音", "kuaishou": "快手"}.get(v, v) for k, v in e.items()})
            for u, n, w, e in weekly_events()]
    result = cli("digest", write_events(rows), "--out", tmp_path / "d", "--as-of", AS_OF, "--min-group-size", "1")
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if not line.startswith("digest: ")]
    assert len(lines) <= 1 and all(line.startswith("warning: chart labels") for line in lines), result.stderr


def test_dollar_signs_in_labels_are_text_not_mathtext(cli, write_events, tmp_path):
    events = write_events([("u1", "$x^$", at(0)), ("u1", "b$", at(1)), ("u2", "$x^$", at(2))])
    result = cli("funnel", events, "--steps", '"$x^$","b$"', "--chart", tmp_path / "f.png")
    assert result.exit_code == 0, result.stderr


# ------------------------------------------------------------------------------------------- report specs

@pytest.mark.parametrize(("section", "message"), [
    ('type = "retention"\ntitle = "R"\nperiods = 1000000000', "key 'periods': periods 1000000000"),
    ('type = "retention"\ntitle = "R"\nperiods = true', "key 'periods': True is bool"),
    ('type = "engagement"\ntitle = "E"\nby = "creator_id"\ntop = 99999999999999999999', "int64"),
    ('type = "funnel"\ntitle = "F"\nsteps = "video_view,purchase"\nwindow = "99999999999999999999d"',
     "expected at most 3653d"),
    ('type = "ab"\ntitle = "A"\nmetric = "conversion:purchase"\nassignments = "a.parquet"\ncuped_days = 99999',
     "key 'cuped_days': cuped_days 99999"),
])
def test_report_spec_values_get_the_same_bounds(cli, tmp_path, section, message):
    """The same bounds as the command's options; the report names the option by its spec key."""
    spec = tmp_path / "spec.toml"
    spec.write_text(f'title = "T"\n\n[[sections]]\n{section}\n', encoding="utf-8")
    # the events path does not exist: an error about it would mean the analysis started
    line = one_error(cli("report", tmp_path / "missing.parquet", "--spec", spec, "--out", tmp_path / "r.html"), 2)
    assert message in line
