"""No command writes over an input; the file system's refusals are one line and exit 1; no temporary
file outlives the run that wrote it by more than the hour after which the next write sweeps it."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from shortvid_analytics import files
from shortvid_analytics.files import STALE_AFTER, temp_name
from tests.conftest import events_frame
from tests.digest.test_digest import AS_OF, weekly_events
from tests.kpi.test_kpi import SHOP
from tests.locations import EXAMPLE_DATA, QUERIES, REPO
from tests.regress.test_diagnostics import pair_events

EXAMPLE_EVENTS = EXAMPLE_DATA / "events"
EXAMPLE_ASSIGNMENTS = EXAMPLE_EVENTS.parent / "assignments.parquet"
KEY = "correct horse battery staple"
REGRESS_SPEC = 'unit = "user_video"\nwindow = "24h"\n\n[[model]]\nname = "Engagement"\nfeatures = ["liked"]\n'
REPORT_SPEC = 'title = "T"\nauthors = ["A"]\n\n[[sections]]\ntype = "text"\ntitle = "Intro"\ntext = "Some text."\n'


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(result, path: Path, before: str) -> None:
    """Exit 2, one ``error:`` line naming the path, the file byte-identical."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and "refusing to write over an input" in lines[0]
    assert str(path) in lines[0] and "Traceback" not in result.stderr
    assert digest_of(path) == before


def one_line_error(result, code: int, *words: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


def no_temporaries(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if "tmp" in p.name] == []


@pytest.fixture
def shop(tmp_path) -> Path:
    path = tmp_path / "shop.parquet"
    events_frame(SHOP).write_parquet(path)
    return path


@pytest.fixture
def hive(tmp_path) -> Path:
    """The example export (a hive folder of 28 daily files), copied."""
    target = tmp_path / "events"
    shutil.copytree(EXAMPLE_EVENTS, target)
    return target


# ----------------------------------------------------------------------------- never write an input
def test_output_onto_the_config_file_is_refused(cli, shop, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('timezone = "UTC"\n', encoding="utf-8")
    before = digest_of(config)
    refused(cli("--config", config, "kpi", shop, "-o", config, "-f", "json"), config, before)
    # after the command too (the global options are hoisted)
    refused(cli("kpi", shop, "--config", config, "-o", config, "-f", "csv"), config, before)


def test_outputs_onto_the_regression_spec_are_refused(cli, write_events, tmp_path):
    events = write_events(pair_events(n=60))
    spec = tmp_path / "spec.toml"
    spec.write_text(REGRESS_SPEC, encoding="utf-8")
    before = digest_of(spec)
    refused(cli("regress", events, "--spec", spec, "-o", spec, "-f", "json"), spec, before)
    csv_spec = tmp_path / "spec.csv"  # a spec whose name passes the --save-frame and --table suffix checks
    csv_spec.write_text(REGRESS_SPEC, encoding="utf-8")
    before = digest_of(csv_spec)
    refused(cli("regress", events, "--spec", csv_spec, "--save-frame", csv_spec, "--raw-ids"), csv_spec, before)


def test_report_outputs_onto_the_spec_or_the_assignments_are_refused(cli, shop, tmp_path):
    spec = tmp_path / "report.toml"
    spec.write_text(REPORT_SPEC, encoding="utf-8")
    before = digest_of(spec)
    refused(cli("report", shop, "--spec", spec, "--out", spec, "--format", "html"), spec, before)
    assignments = tmp_path / "assignments.json"
    shutil.copy(EXAMPLE_ASSIGNMENTS, assignments)
    before = digest_of(assignments)
    refused(cli("report", shop, "--spec", spec, "--assignments", assignments, "--out", assignments),
            assignments, before)


def test_outputs_onto_a_member_of_the_input_glob_are_refused(cli, shop, tmp_path):
    spec = tmp_path / "report.toml"
    spec.write_text(REPORT_SPEC, encoding="utf-8")
    member = tmp_path / "shop.json"
    shutil.copy(shop, member)  # a Parquet file, whatever its name: the glob below reads it
    pattern = str(tmp_path / "shop.*")
    before = digest_of(member)
    refused(cli("report", pattern, "--spec", spec, "--out", member), member, before)
    refused(cli("kpi", pattern, "-o", member), member, before)
    # a file the glob does not match yet is refused too: the next run would read it as events
    result = cli("kpi", pattern, "-o", tmp_path / "shop.csv")
    assert result.exit_code == 2 and "a file matched by the events" in result.stderr
    assert not (tmp_path / "shop.csv").exists()


def test_outputs_into_the_hive_input_folder_are_refused(cli, hive, tmp_path):
    partition = next(hive.glob("dt=*/part-0000.parquet"))
    before = digest_of(partition)
    refused(cli("kpi", hive, "-o", partition), partition, before)
    spec = tmp_path / "report.toml"
    spec.write_text(REPORT_SPEC, encoding="utf-8")
    refused(cli("report", hive, "--spec", spec, "--out", partition, "--format", "json"), partition, before)
    # a new file anywhere under the folder would join the input
    result = cli("kpi", hive, "-o", hive / "kpi.json")
    assert result.exit_code == 2 and "a file under the events" in result.stderr
    assert not (hive / "kpi.json").exists()
    result = cli("digest", hive, "--out", partition.parent, "--as-of", "2026-11-09T06:00:00")
    one_line_error(result, 2, "refusing to write over an input")
    assert sorted(p.name for p in partition.parent.iterdir()) == ["part-0000.parquet"]  # not even a lock file


def test_outputs_onto_the_assignments_are_refused(cli, hive, tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTVID_PSEUDONYM_KEY", KEY)
    assignments = tmp_path / "assignments.parquet"
    shutil.copy(EXAMPLE_ASSIGNMENTS, assignments)
    before = digest_of(assignments)
    result = cli("ab", hive, "--assignments", assignments, "--metric", "conversion", "-o", assignments)
    refused(result, assignments, before)
    result = cli("anonymize", hive, "--out", tmp_path, "--assignments", assignments)
    refused(result, assignments, before)
    assert not (tmp_path / "events.parquet").exists()


def test_anonymize_into_the_input_folder_is_refused(cli, hive, monkeypatch):
    monkeypatch.setenv("SHORTVID_PSEUDONYM_KEY", KEY)
    result = cli("anonymize", hive, "--out", hive)
    one_line_error(result, 2, "--out", "a file under the events")
    assert not (hive / "events.parquet").exists() and not (hive / "manifest.json").exists()


def test_a_symlink_to_an_input_is_refused(cli, shop, tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(shop)
    before = digest_of(shop)
    result = cli("kpi", shop, "-o", link)
    one_line_error(result, 2, "refusing to write over an input")
    assert digest_of(shop) == before and link.is_symlink()


# ----------------------------------------------------------------------------- the file system's refusals
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_one_line_and_exit_1(cli, shop, write_events, tmp_path):
    one_line_error(cli("kpi", shop, "-o", "/dev/full", "-f", "json"), 1,
                   "cannot write /dev/full", "No space left on device")
    spec = tmp_path / "report.toml"
    spec.write_text(REPORT_SPEC, encoding="utf-8")
    one_line_error(cli("report", shop, "--spec", spec, "--out", "/dev/full", "--format", "json"), 1,
                   "No space left on device")
    frame = tmp_path / "frame.parquet"
    frame.symlink_to("/dev/full")
    result = cli("regress", write_events(pair_events(n=60)), "--save-frame", frame, "--raw-ids")
    one_line_error(result, 1, f"cannot write {frame}", "No space left on device")
    table = tmp_path / "table.md"
    table.symlink_to("/dev/full")
    result = cli("regress", write_events(pair_events(n=60)), "--table", table)
    one_line_error(result, 1, "No space left on device")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_digest_onto_a_full_disk_is_one_line_and_exit_1(cli, write_events, tmp_path):
    events = write_events(weekly_events())
    first = tmp_path / "first"
    assert cli("digest", events, "--out", first, "--as-of", AS_OF).exit_code == 0
    full = tmp_path / "full"
    full.mkdir()
    for written in first.glob("digest-*"):
        (full / written.name).symlink_to("/dev/full")
    result = cli("digest", events, "--out", full, "--as-of", AS_OF)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if not line.startswith("digest: ")]
    assert len(errors) == 1 and "No space left on device" in errors[0] and "Traceback" not in result.stderr


def test_a_read_only_folder_is_one_line_and_exit_1(cli, shop, tmp_path, monkeypatch):
    # the tests may run as root, which ignores permission bits: the refusal is the rename's
    out = tmp_path / "kpi.json"
    out.write_text("previous\n", encoding="utf-8")

    def read_only(src, dst):
        raise PermissionError(13, os.strerror(13), str(dst))

    monkeypatch.setattr(files.os, "replace", read_only)
    one_line_error(cli("kpi", shop, "-o", out), 1, f"cannot write {out}", "Permission denied")
    assert out.read_text(encoding="utf-8") == "previous\n"
    no_temporaries(tmp_path)


def test_a_directory_as_destination_is_one_line_and_exit_1(cli, shop, tmp_path):
    folder = tmp_path / "kpi.json"
    folder.mkdir()
    one_line_error(cli("kpi", shop, "-o", folder), 1, f"cannot write {folder}", "Is a directory")
    assert folder.is_dir() and list(folder.iterdir()) == []
    no_temporaries(tmp_path)


def test_digest_out_that_is_a_file_and_a_lock_path_that_is_a_folder(cli, write_events, tmp_path):
    events = write_events(weekly_events())
    existing = tmp_path / "digests"
    existing.write_text("not a folder\n", encoding="utf-8")
    one_line_error(cli("digest", events, "--out", existing, "--as-of", AS_OF), 2, str(existing), "not a folder")
    assert existing.read_text(encoding="utf-8") == "not a folder\n"
    out = tmp_path / "out"
    (out / ".shortvid-digest.lock").mkdir(parents=True)
    one_line_error(cli("digest", events, "--out", out, "--as-of", AS_OF), 1, "cannot lock", "Is a directory")


# ----------------------------------------------------------------------------- nothing left behind
def old(path: Path, seconds: float = 2 * 3600) -> Path:
    path.write_bytes(b"partial")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_the_next_write_sweeps_stale_temporaries_and_keeps_fresh_ones(cli, shop, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = old(out / temp_name("kpi.json"))
    stale_duckdb = old(out / f"tmp_{temp_name('events.parquet')}")
    legacy = old(out / "tmp_.events.parquet.k2x9_q7a.tmp")  # the mkstemp names of earlier versions
    fresh = out / temp_name("other.json")  # a concurrent run may be writing it
    fresh.write_bytes(b"in progress")
    just_young = old(out / temp_name("young.json"), STALE_AFTER - 60)
    unrelated = old(out / "notes.tmp")
    assert cli("kpi", shop, "-o", out / "kpi.json").exit_code == 0
    assert not stale.exists() and not stale_duckdb.exists() and not legacy.exists()
    assert fresh.exists() and just_young.exists() and unrelated.exists()
    assert (out / "kpi.json").is_file()


def test_temporary_names_are_hidden_and_recognisable(tmp_path):
    name = temp_name("events.parquet")
    assert name.startswith(".events.parquet.shortvid-tmp-") and str(os.getpid()) in name
    assert files.sweep_stale(tmp_path) == []


def test_anonymize_failing_mid_copy_leaves_nothing_and_its_stale_leftovers_are_swept(cli, shop, tmp_path,
                                                                                   monkeypatch):
    import duckdb

    from shortvid_analytics import anonymize as anonymize_module

    monkeypatch.setenv("SHORTVID_PSEUDONYM_KEY", KEY)
    out = tmp_path / "share"
    out.mkdir()
    leftover = old(out / "tmp_.events.parquet.ab12cd34.tmp")  # what a SIGKILLed run of 0.x left
    killed = old(out / temp_name("events.parquet"))
    real_execute = anonymize_module.sql.execute

    def failing(con, name, params=None, context=None):
        if name == "anonymize_copy":  # half a file written, then the disk fills up
            Path(params["target"]).write_bytes(b"PAR1 half")
            Path(params["target"]).with_name("tmp_" + Path(params["target"]).name).write_bytes(b"PAR1")
            raise duckdb.IOException('IO Error: Could not write file: No space left on device "errno":"28"')
        return real_execute(con, name, params, context)

    monkeypatch.setattr(anonymize_module.sql, "execute", failing)
    result = cli("anonymize", shop, "--out", out)
    one_line_error(result, 1, "cannot write", "No space left on device")
    assert sorted(p.name for p in out.iterdir()) == []  # the stale ones swept, the new one removed

    monkeypatch.setattr(anonymize_module.sql, "execute", real_execute)
    assert cli("anonymize", shop, "--out", out).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet", "manifest.json"]
    del leftover, killed


def test_the_anonymize_copy_writes_straight_into_its_temporary_file():
    """The COPY already targets files.atomic_path's temporary file: DuckDB's own tmp_ file would be a second
    one for a killed run to leave behind."""
    queries = QUERIES
    for name in ("anonymize_copy.sql", "anonymize_assignments.sql"):
        assert "USE_TMP_FILE false" in (queries / name).read_text(encoding="utf-8")


def test_stale_staging_folders_are_swept_too(tmp_path):
    staging = tmp_path / temp_name("generate")  # generate's staging folder of a killed run
    (staging / "events").mkdir(parents=True)
    old(staging / "events" / "part-0000.parquet")
    then = time.time() - 2 * 3600
    os.utime(staging, (then, then))
    assert files.sweep_stale(tmp_path) == [staging] and not staging.exists()


def test_the_guard_matches_recursive_globs_and_resolves_spellings(tmp_path):
    (tmp_path / "exports" / "2026").mkdir(parents=True)
    guard = files.Guard()
    guard.add_glob(str(tmp_path / "exports" / "**" / "*.parquet"), "the events")
    assert guard.conflict(tmp_path / "exports" / "a.parquet")
    assert guard.conflict(tmp_path / "exports" / "2026" / "11" / "b.parquet")
    assert guard.conflict(tmp_path / "exports" / "2026" / ".." / "c.parquet")
    assert guard.conflict(tmp_path / "exports" / "a.json") is None
    assert guard.conflict(tmp_path / "elsewhere.parquet") is None
    guard.add_folder(tmp_path / "hive", "the events")
    assert guard.conflict(tmp_path / "hive" / "dt=1" / "x.csv") and guard.conflict(tmp_path / "hive")
    assert guard.conflict(tmp_path / "hive-2" / "x.csv") is None  # a sibling sharing the prefix


def test_anonymize_killed_mid_copy_leaves_only_a_temporary_the_next_run_sweeps(cli, hive, tmp_path, monkeypatch):
    """SIGKILL while DuckDB writes the copy: the one leftover is our temporary file (no DuckDB tmp_ file),
    and once it is an hour old the next run into the folder removes it."""
    import signal
    import subprocess
    import sys

    monkeypatch.setenv("SHORTVID_PSEUDONYM_KEY", KEY)
    out = tmp_path / "share"
    checkout = str(REPO)  # this checkout's package, not an installed one
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([checkout, os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "shortvid_analytics.cli", "anonymize", str(hive), "--out", str(out)]
    run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    try:
        while run.poll() is None and time.time() < deadline:
            writing = list(out.glob(".*shortvid-tmp-*")) if out.is_dir() else []
            if writing and writing[0].stat().st_size > 0:
                os.kill(run.pid, signal.SIGKILL)
                break
            time.sleep(0.001)
    finally:
        run.wait()
    if run.returncode != -signal.SIGKILL:
        pytest.skip("the copy finished before it could be killed")
    left = sorted(out.iterdir())
    assert left and all(files._TEMP_NAME.match(p.name) and not p.name.startswith("tmp_") for p in left), left
    for path in left:
        old(path)
    assert cli("anonymize", hive, "--out", out).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet", "manifest.json"]
