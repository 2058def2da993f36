"""Where the tests find the checkout's files, and the product owner's real datasets next to it."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
EXAMPLE_DATA = EXAMPLES / "data"
PACKAGE = REPO / "shortvid_analytics"
QUERIES = REPO / "queries"
BENCHMARKS = REPO / "benchmarks"

# CI clones next to ../shared; a git worktree under <root>/wt/<name> sees <root>/shared.
REALDATA_CANDIDATES = (REPO.parent / "shared" / "realdata", REPO.parent.parent / "shared" / "realdata")
REALDATA = next((p for p in REALDATA_CANDIDATES if p.is_dir()), None)
