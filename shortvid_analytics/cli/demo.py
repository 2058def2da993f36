"""``shortvid demo``: example data and the example case-study report, in one command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import OptionError
from ..render.console import fmt_number, fmt_pct, stderr_console, stdout_console
from . import app
from .common import guarded

#: Where ``shortvid demo`` writes when no --out is given: a folder of the working directory, easy to find.
DEFAULT_DEMO_DIR = Path("shortvid-demo")


@app.command()
def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for the data and the report; an existing one must be "
                                                    "empty (or pass --force).")] = DEFAULT_DEMO_DIR,
    force: Annotated[bool, typer.Option("--force", help="Replace what an earlier demo (or anything else) left in "
                                                        "--out.")] = False,
    users: Annotated[int, typer.Option("--users", help="Users to generate.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the generated data.")] = 42,
    as_of: Annotated[datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
                                                   help="Pin the report's generation time (UTC).")] = None,
) -> None:
    """Generate example data with planted effects and build the Douyin-vs-Kuaishou case study from it
    (examples/douyin_vs_kuaishou.toml) as HTML and PDF; print where they are and the key numbers."""
    from ..demo import DEMO_DAYS, example_spec, run_demo
    from ..synth import check_users

    with guarded(ctx):
        folder = out.absolute()
        if folder.exists() and not folder.is_dir():
            raise OptionError(f"--out {folder} is a file, not a folder")
        if not force and folder.is_dir() and any(folder.iterdir()):
            raise OptionError(f"--out {folder} is not empty; pass --force to replace its contents, or choose "
                              "another folder")
        check_users(users)  # before the progress line that would announce it
        stderr_console().print(f"generating {users:,} users x {DEMO_DAYS} days into {folder / 'data'} ...",
                               markup=False)
        result = run_demo(folder, users=users, seed=seed, as_of=as_of)
    console = stdout_console()
    for line in summary_lines(result.report.to_dict()):
        console.print(line, markup=False)
    console.print(f"data:   {result.data.events_dir} ({fmt_number(result.data.events)} events), "
                  f"truth in {result.data.truth_path}", markup=False, soft_wrap=True)
    for i, path in enumerate(result.outputs.values()):
        console.print(f"{'report:' if i == 0 else '':8}{path}", markup=False, soft_wrap=True)
    for fmt, reason in result.skipped.items():
        stderr_console().print(f"warning: no {fmt}: {reason}", markup=False)
    console.print(f"open {result.outputs['html']} in a browser; rebuild it with: shortvid report "
                  f"{result.data.events_dir} --spec {example_spec()} --assignments "
                  f"{result.data.assignments_path} --out report.html", markup=False, soft_wrap=True)


def summary_lines(report: dict[str, Any]) -> list[str]:
    """Key numbers of the report: data size, KPIs and funnel by platform, experiment lifts."""
    first: dict[str, dict[str, Any]] = {}
    for section in report["sections"]:
        for kind, result in section["results"].items():
            first.setdefault(kind, result)
    lines = [report["title"]]
    if "validate" in first:
        v = first["validate"]
        lines.append(f"  data: {fmt_number(v['rows'])} events, {fmt_number(v['users'])} users, "
                     f"{v['time_range']['first_utc'][:10]} .. {v['time_range']['last_utc'][:10]}")
    if "engagement" in first:
        e = first["engagement"]
        by = e["params"]["by"]
        for g in e["groups"]:
            lines.append(f"  {' / '.join(str(g[c]) for c in by)}: {fmt_number(g['views'])} views, "
                         f"engagement {fmt_pct(g['engagement_rate'])}, CTR {fmt_pct(g['ctr'])}, "
                         f"viewer conversion {fmt_pct(g['user_conversion_rate'])}, GMV {fmt_number(g['gmv'])}")
    if "funnel" in first:
        f = first["funnel"]
        steps = f["steps"]
        groups = ", ".join(f"{g['value']} {fmt_pct(g['steps'][-1]['conversion_from_start'])}"
                           for g in f.get("breakdown") or [])
        lines.append(f"  funnel {' -> '.join(s['event'] for s in steps)}: "
                     f"{fmt_pct(steps[-1]['conversion_from_start'])}" + (f" ({groups})" if groups else ""))
    if "ab" in first:
        ab = first["ab"]
        for metric in ab["metrics"]:
            for c in metric["comparisons"]:
                lines.append(f"  {ab['experiment']}: {metric['metric']} {c['variant']} {fmt_pct(c['rel_lift'], 1)} "
                             f"(95% CI {fmt_pct(c['ci_low'], 1)} .. {fmt_pct(c['ci_high'], 1)}, "
                             f"p {fmt_number(c['p_value'], 3)})")
    return lines
