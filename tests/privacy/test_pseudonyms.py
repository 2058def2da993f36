"""Keyed pseudonyms, PII detection in validate, and `shortvid anonymize`."""

from __future__ import annotations

import hashlib
import hmac
import json

import polars as pl
import pytest

from shortvid_analytics.config import Config
from shortvid_analytics.privacy import classify, detect_pii, hmac_sql, is_chinese_national_id, pseudonymize
from shortvid_analytics.source import EventSource
from shortvid_analytics.sql import Params
from tests.conftest import at

KEY = "correct horse battery staple"
ROWS = [
    ("alice", "video_view", at(0, hours=1.5), {"session_id": "s-alice-1", "comment_text": "love it"}),
    ("alice", "purchase", at(3, hours=1.5), {"order_id": "o-1001", "revenue": 19.99, "session_id": "s-alice-1"}),
    ("bob", "video_view", at(7, hours=30), {"session_id": "s-bob-9", "creator_id": "c-kol"}),
]


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("SHORTVID_PSEUDONYM_KEY", KEY)


def test_sql_hmac_equals_python_hmac(write_events):
    source = EventSource.open(write_events(ROWS))
    for key in (b"k", KEY.encode(), b"x" * 100):  # short, typical, longer than a SHA-256 block
        params = Params()
        got = source.con.execute(f"SELECT user_id, {hmac_sql('user_id', key, params)} FROM events",
                                 params.values).fetchall()
        for user, pseudonym in got:
            assert pseudonym == hmac.new(key, user.encode(), hashlib.sha256).hexdigest()
    assert pseudonymize("alice", b"k1") == pseudonymize("alice", b"k1") != pseudonymize("alice", b"k2")


def test_integer_ids_hash_as_decimal_text(tmp_path):
    path = tmp_path / "e.parquet"
    pl.DataFrame({"user_id": [42], "event_name": ["like"], "event_time": [at(0)]}).write_parquet(path)
    source = EventSource.open(path)
    params = Params()
    value = source.con.execute(f"SELECT {hmac_sql('user_id', b'k', params)} FROM events", params.values).fetchall()
    assert value[0][0] == pseudonymize(42, b"k") == pseudonymize("42", b"k")


@pytest.mark.parametrize("value,kind", [
    ("someone@example.com", "e-mail address"),
    ("13812345678", "Chinese mobile number"),
    ("+86 13812345678", "Chinese mobile number"),
    ("+1 (415) 555-0100", "phone number"),
    ("192.168.10.1", "IP address"),
    ("2001:db8::1", "IP address"),
    ("11010519491231002X", "national ID number"),
    ("u000123", None), ("1511544070", None), ("douyin", None), ("v000042", None), ("12345", None),
])
def test_classify(value, kind):
    assert classify(value) == kind


def test_national_id_checksum():
    assert is_chinese_national_id("11010519491231002X")
    assert not is_chinese_national_id("110105194912310021")  # wrong check character


def test_validate_warns_about_pii_columns(tmp_path, cli):
    path = tmp_path / "e.parquet"
    n = 40
    pl.DataFrame({
        "user_id": [f"u{i}" for i in range(n)],
        "event_name": ["like"] * n,
        "event_time": [at(i) for i in range(n)],
        "contact": [f"user{i}@mail.example.org" for i in range(n)],
        "phone": [13800000000 + i for i in range(n)],
        "note": ["fine"] * n,
    }).write_parquet(path)
    source = EventSource.open(path)
    findings = {f.column: f.kind for f in detect_pii(source.con, source.raw_columns)}
    assert findings == {"contact": "e-mail address", "phone": "Chinese mobile number"}
    result = cli("validate", path, "--format", "json")
    warnings = json.loads(result.stdout)["warnings"]
    assert any("'contact' looks like personal data (e-mail address" in w for w in warnings)
    assert any("'phone' looks like personal data (Chinese mobile number" in w for w in warnings)


def test_anonymize_pseudonymises_drops_and_keeps(write_events, tmp_path, cli, key_env):
    src = write_events(ROWS)
    before = src.read_bytes()
    result = cli("anonymize", src, "--out", tmp_path / "share", "--format", "json")
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((tmp_path / "share" / "manifest.json").read_text())
    assert manifest == json.loads(result.stdout)
    assert manifest["rows"] == 3 and manifest["dropped_columns"] == ["comment_text"]
    assert KEY not in (tmp_path / "share" / "manifest.json").read_text()
    out = pl.read_parquet(tmp_path / "share" / "events.parquet").sort("event_time")
    key = KEY.encode()
    assert out["user_id"].to_list() == [pseudonymize(u, key) for u in ("alice", "alice", "bob")]
    assert out["order_id"].to_list() == [None, pseudonymize("o-1001", key), None]
    assert out["creator_id"].to_list() == [None, None, "c-kol"]
    assert out["revenue"].to_list() == [None, 19.99, None]
    assert "comment_text" not in out.columns
    assert src.read_bytes() == before  # the input is never modified
    data = (tmp_path / "share" / "events.parquet").read_bytes()
    for raw in (b"alice", b"bob", b"o-1001", b"s-alice-1", b"love it", KEY.encode()):
        assert raw not in data


def test_anonymize_same_key_same_pseudonyms_other_key_differs(write_events, tmp_path, cli, monkeypatch):
    src = write_events(ROWS)
    users = {}
    for run, key in (("a", "k1"), ("b", "k1"), ("c", "k2")):
        monkeypatch.setenv("SHORTVID_PSEUDONYM_KEY", key)
        assert cli("anonymize", src, "--out", tmp_path / run).exit_code == 0
        users[run] = sorted(pl.read_parquet(tmp_path / run / "events.parquet")["user_id"].to_list())
    assert users["a"] == users["b"] != users["c"]


def test_anonymize_coarsens_time_rounds_revenue_hashes_creators(write_events, tmp_path, cli, key_env):
    src = write_events(ROWS + [("carol", "note", at(0), {"comment_text": "x"})])
    result = cli("anonymize", src, "--out", tmp_path / "o", "--time-resolution", "day", "--round-revenue", "0",
                 "--hash-creators", "--keep", "comment_text")
    assert result.exit_code == 0, result.stderr
    out = pl.read_parquet(tmp_path / "o" / "events.parquet")
    assert sorted({t.replace(tzinfo=None) for t in out["event_time"].to_list()}) == [at(days=0), at(days=1)]
    assert sorted(v for v in out["revenue"].to_list() if v is not None) == [20.0]
    assert pseudonymize("c-kol", KEY.encode()) in out["creator_id"].to_list()
    assert "comment_text" in out.columns


def test_anonymize_output_keeps_validate_numbers(write_events, tmp_path, cli, key_env):
    src = write_events(ROWS)
    assert cli("anonymize", src, "--out", tmp_path / "o").exit_code == 0
    original = json.loads(cli("validate", src, "-f", "json").stdout)
    shared = json.loads(cli("validate", tmp_path / "o" / "events.parquet", "-f", "json").stdout)
    for field in ("rows", "users", "events", "time_range", "duplicate_rows"):
        assert shared[field] == original[field]


def test_anonymize_bad_input(write_events, tmp_path, cli, monkeypatch):
    src = write_events(ROWS)
    monkeypatch.delenv("SHORTVID_PSEUDONYM_KEY", raising=False)
    result = cli("anonymize", src, "--out", tmp_path / "o")
    assert result.exit_code == 2 and "no pseudonymisation key" in result.stderr
    assert not (tmp_path / "o" / "events.parquet").exists()
    monkeypatch.setenv("SHORTVID_PSEUDONYM_KEY", KEY)
    result = cli("anonymize", src, "--out", tmp_path / "o", "--time-resolution", "week")
    assert result.exit_code == 2 and "--time-resolution 'week'" in result.stderr
    result = cli("anonymize", src, "--out", tmp_path / "o", "--keep", "nope")
    assert result.exit_code == 2 and "--keep 'nope'" in result.stderr
    result = cli("anonymize", src, "--out", src.parent)
    if src.name == "events.parquet":
        assert "refusing to write over an input" in result.stderr


def test_key_from_config(write_events, tmp_path, cli, monkeypatch):
    monkeypatch.delenv("SHORTVID_PSEUDONYM_KEY", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text('[privacy]\npseudonym_key = "from-config"\n')
    assert cli("--config", cfg, "anonymize", write_events(ROWS), "--out", tmp_path / "o").exit_code == 0
    users = pl.read_parquet(tmp_path / "o" / "events.parquet")["user_id"].to_list()
    assert pseudonymize("bob", b"from-config") in users
    assert Config.load(cfg).privacy.pseudonym_key == "from-config"
    assert "from-config" not in repr(Config.load(cfg))
