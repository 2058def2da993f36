"""``demo``: the example case study end to end — synthetic data, then the report in HTML and PDF.

Generates ``DIR/data`` with :func:`synth.generate` (planted truth in ``DIR/data/truth.json``) and
builds ``examples/douyin_vs_kuaishou.toml`` over it into ``DIR/report.html``, ``DIR/report.pdf`` and
``DIR/report.json``. The report is built once and written in every format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .errors import ShortvidError
from .report import Report, build_report, load_spec, write_report
from .resources import data_dir
from .synth import GenerationSummary, generate

#: The demo's data: big enough for clear funnels and retention, small enough for seconds.
DEMO_USERS = 10_000
DEMO_DAYS = 28
DEMO_SEED = 42
EXAMPLE_SPEC = "douyin_vs_kuaishou.toml"


def example_spec() -> Path:
    """The example case-study spec (package data in a wheel, ``examples/`` in a checkout)."""
    return data_dir("_examples", "examples") / EXAMPLE_SPEC


@dataclass
class DemoResult:
    """What the demo wrote and built."""

    data: GenerationSummary
    report: Report
    outputs: dict[str, Path] = field(default_factory=dict)
    #: Formats that could not be written, with the reason (PDF without the Pango library).
    skipped: dict[str, str] = field(default_factory=dict)


def run_demo(out_dir: Path, users: int = DEMO_USERS, days: int = DEMO_DAYS, seed: int = DEMO_SEED,
             as_of: datetime | None = None) -> DemoResult:
    """Generate the example data into ``out_dir/data`` (replacing an earlier demo's) and build the report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = generate(out_dir / "data", users=users, days=days, seed=seed, overwrite=True)
    report = build_report(str(data.events_dir), load_spec(example_spec()), as_of=as_of,
                          assignments=data.assignments_path)
    result = DemoResult(data=data, report=report)
    for fmt in ("html", "json", "pdf"):
        path = out_dir / f"report.{fmt}"
        try:
            write_report(report, path, fmt)
        except ShortvidError as exc:
            if fmt != "pdf":
                raise
            result.skipped[fmt] = str(exc)
            continue
        result.outputs[fmt] = path
    return result
