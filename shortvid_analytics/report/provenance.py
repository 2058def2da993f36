"""The methods-and-provenance appendix: everything needed to re-run a report and get the same numbers.

Collected: the input files (path, bytes, Parquet row count, SHA-256) with the export's total rows
and time range, the assignments file, the config, the spec's hash, tool and package versions, the
generator's random seed and settings (from ``truth.json`` next to the events, when present), the
SQL of every query the report ran, and the generation time (``--as-of`` pins it).
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__, sql
from ..privacy import shareable_config
from ..source import EventSource, local_duckdb

#: The distribution whose requirement tree is the software a report ran with, and the extras of it that can
#: change a number (the test tools of ``dev`` cannot).
DISTRIBUTION = "shortvid-analytics"
RUNTIME_EXTRAS = ("spark",)
_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (bounded memory for large exports)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """This tool's and Python's versions, then the installed version of every package in the tool's
    requirement tree (its installed extras included), by name: the resolved environment a report ran with,
    as ``requirements.lock`` pins it for a replication."""
    versions = {DISTRIBUTION: __version__, "python": platform.python_version()}
    installed = _requirement_tree(DISTRIBUTION)
    installed.pop(_normalise(DISTRIBUTION), None)
    versions.update(sorted(installed.items()))
    return versions


def _requirement_tree(root: str) -> dict[str, str]:
    """Installed version of ``root`` and of everything its requirements pull in, transitively (a requirement
    that is not installed -- another platform's, an extra nobody installed -- is not part of this run)."""
    found: dict[str, str] = {}
    root = _normalise(root)
    pending = [root]
    while pending:
        name = _normalise(pending.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist.version
        pending += [_requirement_name(r) for r in dist.requires or [] if _needed(r, name == root)]
    return found


def _needed(requirement: str, of_root: bool) -> bool:
    """A requirement without an extra, or (of the root) one of :data:`RUNTIME_EXTRAS`."""
    extra = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", requirement)
    return extra is None or (of_root and extra.group(1) in RUNTIME_EXTRAS)


#: The distribution name at the start of a requirement string (``pandas>=2; python_version>'3'``).
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parquet_inputs(con: Any, files: list[str]) -> dict[str, Any]:
    """Per file: path, bytes, rows (from the Parquet footer, no scan) and SHA-256; plus a fingerprint."""
    rows = {r["file_name"]: int(r["num_rows"]) for r in
            sql.run(local_duckdb(con), "report_parquet_rows", {"files": files}).iter_rows(named=True)}
    listed = [{"path": f, "bytes": Path(f).stat().st_size, "rows": rows.get(f), "sha256": sha256_file(f)}
              for f in files]
    # One hash over all (path, hash) pairs identifies the whole input in a single line.
    fingerprint = hashlib.sha256("\n".join(f"{x['path']} {x['sha256']}" for x in listed).encode()).hexdigest()
    return {"files": listed, "bytes": sum(x["bytes"] for x in listed), "fingerprint": fingerprint}


def events_input(source: EventSource) -> dict[str, Any]:
    """The events export: its files and, from the canonical view, rows, users and time range."""
    summary = sql.run(source.con, "report_input_summary").row(0, named=True)
    return {"path": source.path, **parquet_inputs(source.con, source.files), **summary}


def find_truth(events_path: str) -> tuple[Path, dict[str, Any]] | None:
    """``truth.json`` written by ``shortvid generate`` in or above the events folder, if any."""
    start = Path(events_path)
    folder = start if start.is_dir() else start.parent
    for candidate in (folder / "truth.json", folder.parent / "truth.json"):
        if candidate.is_file():
            try:
                return candidate, json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                return None
    return None


def seeds(truth: tuple[Path, dict[str, Any]] | None) -> dict[str, Any]:
    """The generator's seed and arguments recorded in ``truth.json`` (``generator.args``: users, days,
    seed, start), its model version, and the file's SHA-256."""
    if truth is None:
        return {}
    path, data = truth
    generator = _mapping(data.get("generator"))
    args = _mapping(generator.get("args"))
    scalars = {k: v for k, v in generator.items() if isinstance(v, (str, int, float, bool))}
    return {"truth_file": str(path), "truth_sha256": sha256_file(path), **scalars, **args}


def collect(
    source: EventSource,
    as_of: datetime,
    spec_info: dict[str, Any],
    assignments: Path | None,
    truth: tuple[Path, dict[str, Any]] | None,
) -> dict[str, Any]:
    """The provenance document (goes into the report JSON and the appendix); the caller adds
    ``queries``, the SQL the report ran."""
    inputs: dict[str, Any] = {"events": events_input(source)}
    if assignments is not None:
        inputs["assignments"] = {"path": str(assignments), **parquet_inputs(source.con, [str(assignments)])}
    config = shareable_config(source.config)
    return {
        "generated_at": as_of.isoformat(),
        "spec": spec_info,
        "inputs": inputs,
        "config": config,
        "versions": package_versions(),
        "seeds": seeds(truth),
    }


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a table of truth.json, else an empty one (an older or hand-edited file)."""
    return value if isinstance(value, dict) else {}


def _requirement_name(requirement: str) -> str:
    """The distribution name a requirement string starts with (PEP 508)."""
    match = _REQUIREMENT_NAME.match(requirement)
    return match.group(0) if match else requirement
