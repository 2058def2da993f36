"""Selector grammar, windows and periods, config parsing and atomic export."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta

import pytest

from shortvid_analytics.config import Config
from shortvid_analytics.errors import InputError, OptionError
from shortvid_analytics.eventspec import EventSpec, PropertyFilter, parse_list
from shortvid_analytics.periods import Period, format_window, parse_iso_week, parse_period, parse_window
from shortvid_analytics.render.export import write_result, write_text_atomic
from shortvid_analytics.source import EventSource
from shortvid_analytics.sql import Params
from shortvid_analytics.validate import validate
from tests.conftest import at


def test_parse_selectors():
    specs = parse_list("video_view[traffic_source=live],add_to_cart|checkout,"
                       "purchase[platform in (douyin, kuaishou), revenue!=0]")
    assert specs[0] == EventSpec(("video_view",), (PropertyFilter("traffic_source", "=", ("live",)),))
    assert specs[1].names == ("add_to_cart", "checkout") and not specs[1].filters
    assert specs[2].filters == (PropertyFilter("platform", "in", ("douyin", "kuaishou")),
                                PropertyFilter("revenue", "!=", ("0",)))
    assert str(specs[2]) == "purchase[platform in (douyin, kuaishou), revenue!=0]"
    assert EventSpec.parse("like[platform not in (douyin)]").filters[0].op == "not in"


@pytest.mark.parametrize("bad", ["", "purchase[", "purchase[platform]", "purchase[x in douyin]", "a b",
                                 "purchase[]"])
def test_bad_selectors(bad):
    with pytest.raises(OptionError):
        parse_list(bad) if bad else EventSpec.parse(bad)


def test_predicate_selects_exactly_the_hand_picked_rows(write_events):
    rows = [
        ("u1", "purchase", at(0), {"platform": "douyin", "revenue": 5.0}),
        ("u2", "purchase", at(1), {"platform": "kuaishou", "revenue": 0.0}),
        ("u3", "purchase", at(2), {"platform": None, "revenue": 7.0}),
        ("u4", "checkout", at(3), {"platform": "douyin", "revenue": 1.0}),
    ]
    source = EventSource.open(write_events(rows))

    def users(selector: str) -> list[str]:
        params = Params()
        where = EventSpec.parse(selector).predicate(params, source.columns)
        return sorted(r[0] for r in source.con.execute(f"SELECT user_id FROM events WHERE {where}",
                                                        params.values).fetchall())

    assert users("purchase[platform=douyin]") == ["u1"]
    assert users("purchase[platform!=douyin]") == ["u2", "u3"]  # NULL counts as "not equal"
    assert users("purchase|checkout[platform in (douyin)]") == ["u1", "u4"]
    assert users("purchase[revenue!=0]") == ["u1", "u3"]  # typed comparison on a DOUBLE column
    with pytest.raises(OptionError, match="does not fit its type DOUBLE"):
        EventSpec.parse("purchase[revenue=abc]").predicate(Params(), source.columns)
    with pytest.raises(OptionError, match="'nope' does not occur.*events present: checkout, purchase"):
        EventSpec.parse("nope").validate(source)
    with pytest.raises(OptionError, match="'colour' is not a column"):
        EventSpec.parse("purchase[colour=red]").validate(source)


@pytest.mark.parametrize("text,seconds", [("24h", 86400), ("7d", 604800), ("30m", 1800), ("90", 90),
                                          ("1.5h", 5400), ("2w", 1209600), ("45s", 45)])
def test_parse_window(text, seconds):
    assert parse_window(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["", "24", "h", "-1h", "0d", "3 fortnights", "1y"])
def test_bad_window(bad):
    if bad == "24":
        assert parse_window(bad) == timedelta(seconds=24)
        return
    with pytest.raises(OptionError, match="window"):
        parse_window(bad)


def test_periods():
    assert parse_period("weekly") is Period.week and parse_period("Day") is Period.day
    with pytest.raises(OptionError):
        parse_period("fortnight")
    assert Period.week.label(date(2026, 11, 2)) == "2026-W45"
    assert Period.week.label(date(2021, 1, 4)) == "2021-W01"
    assert Period.month.add(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert Period.day.add(date(2026, 2, 28), 1) == date(2026, 3, 1)
    assert parse_iso_week("2026-W47") == date(2026, 11, 16)
    assert format_window(timedelta(hours=24)) == "1d" and format_window(timedelta(hours=36)) == "36h"
    with pytest.raises(OptionError):
        parse_iso_week("2026-W54")


def test_config_rejects_unknown_keys_and_bad_values(tmp_path):
    path = tmp_path / "c.toml"
    for text, message in [
        ('colour = "red"\n', "unknown key 'colour'"),
        ('[time]\nepoch_unit = "ns"\n', "epoch_unit = 'ns'"),
        ('[engine]\nthreads = 0\n', "threads = 0"),
        ('[events]\npurchase = ["x"]\nrefund = ["x"]\n', "alias of both"),
        ("not toml = = 1", "not valid TOML"),
    ]:
        path.write_text(text)
        with pytest.raises(InputError, match=message):
            Config.load(path)
    with pytest.raises(InputError, match="file not found"):
        Config.load(tmp_path / "none.toml")


def test_engine_settings_applied(tmp_path, write_events):
    path = tmp_path / "c.toml"
    path.write_text('[engine]\nthreads = 1\nmemory_limit = "512MB"\n')
    source = EventSource.open(write_events([("u", "like", at(0))]), Config.load(path))
    assert source.con.execute("SELECT current_setting('threads')").fetchall()[0][0] == 1
    path.write_text('[engine]\nmemory_limit = "lots"\n')
    with pytest.raises(OptionError, match="memory_limit"):
        EventSource.open(write_events([("u", "like", at(0))]), Config.load(path))


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.txt"
    write_text_atomic(target, "first")

    class Boom(Exception):
        pass

    from shortvid_analytics.render.export import atomic_path

    with pytest.raises(Boom), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise Boom
    assert target.read_text() == "first"
    assert os.listdir(tmp_path) == ["out.txt"]  # the temp file is gone


def test_write_result_formats_and_input_protection(tmp_path, write_events):
    events = write_events([("u", "like", at(0)), ("v", "like", at(1))])
    result = validate(EventSource.open(events))
    write_result(result, "json", tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["rows"] == 2
    write_result(result, "csv", tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines() == ["event_name,events,users,in_vocabulary",
                                                             "like,2,2,true"]
    write_result(result, "parquet", tmp_path / "r.parquet")
    import polars as pl

    assert pl.read_parquet(tmp_path / "r.parquet")["events"].to_list() == [2]
    with pytest.raises(OptionError, match="refusing to write over an input"):
        write_result(result, "json", events, protected=(str(events),))
    with pytest.raises(OptionError, match="needs -o"):
        write_result(result, "parquet", None)


def test_atomic_writes_get_default_permissions_not_0600(tmp_path):
    import os
    import stat

    from shortvid_analytics.render.export import write_text_atomic

    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "out.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o644


def test_atomic_write_to_a_device_writes_through(tmp_path):
    """-o /dev/null must not replace the device node with a regular file."""
    import stat

    from shortvid_analytics.render.export import write_text_atomic

    write_text_atomic("/dev/null", "discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
