"""The invocations whose outputs are frozen in ``tests/golden/outputs/`` (see ``tests/golden/README.md``).

Each case is run from the repository root on the example export; ``OUT`` is replaced by a temporary folder
and the case's output file (or stdout) is compared byte for byte with the stored one.
"""

from __future__ import annotations

EVENTS = "examples/data/events"
ASSIGNMENTS = "examples/data/assignments.parquet"
SPEC = "examples/douyin_vs_kuaishou.toml"

# name -> (arguments, file the command writes under OUT, or None for stdout)
CASES: dict[str, tuple[list[str], str | None]] = {
    "validate": (["validate", EVENTS, "-f", "json"], None),
    "funnel_ordered_by": (["funnel", EVENTS, "--steps", "video_view,product_click,add_to_cart,purchase",
                           "--window", "24h", "--by", "platform", "-f", "json"], None),
    "funnel_strict": (["funnel", EVENTS, "--steps", "video_view,product_click,purchase", "--order", "strict",
                       "--window", "1h", "-f", "json"], None),
    "funnel_unordered_by": (["funnel", EVENTS, "--steps", "product_click,add_to_cart,purchase",
                             "--order", "unordered", "--window", "7d", "--by", "traffic_source", "-f", "json"], None),
    "retention_day": (["retention", EVENTS, "--start", "video_view", "--period", "day", "--periods", "7",
                       "-f", "json"], None),
    "retention_week_by": (["retention", EVENTS, "--start", "purchase", "--return", "video_view",
                           "--period", "week", "--periods", "3", "--by", "platform", "-f", "json"], None),
    "lifecycle": (["lifecycle", EVENTS, "--period", "week", "-f", "json"], None),
    "stickiness": (["stickiness", EVENTS, "-f", "json"], None),
    "engagement_creator": (["engagement", EVENTS, "--by", "creator_id", "--top", "20", "-f", "json"], None),
    "kpi_day": (["kpi", EVENTS, "--period", "day", "-f", "json"], None),
    "kpi_week_by": (["kpi", EVENTS, "--period", "week", "--by", "platform", "-f", "json"], None),
    "paths": (["paths", EVENTS, "--start", "video_view", "--steps", "3", "-f", "json"], None),
    "paths_session": (["paths", EVENTS, "--end", "purchase", "--steps", "4", "--session", "-f", "json"], None),
    "attribution_linear": (["attribution", EVENTS, "--touch", "video_view", "--conversion", "purchase",
                            "--window", "7d", "--model", "linear", "-f", "json"], None),
    "ab_frequentist": (["ab", EVENTS, "--assignments", ASSIGNMENTS, "--metric", "conversion:purchase",
                        "--metric", "revenue_per_user", "--metric", "aov", "--cuped-days", "7", "-f", "json"], None),
    "ab_bayesian_by": (["ab", EVENTS, "--assignments", ASSIGNMENTS, "--metric", "conversion:purchase",
                        "--method", "bayesian", "--by", "platform", "-f", "json"], None),
    "regress_ols": (["regress", EVENTS, "--unit", "user", "--model", "ols", "--outcome", "revenue", "-f", "json"],
                    None),
    "regress_logit": (["regress", EVENTS, "--unit", "user", "--model", "logit", "--outcome", "purchased",
                       "--cluster", "platform", "-f", "json"], None),
    "digest": (["digest", EVENTS, "--week", "2026-W43", "--as-of", "2026-11-02T06:00:00+00:00",
                "--out", "OUT"], "digest-2026-W43.json"),
    "report": (["report", EVENTS, "--spec", SPEC, "--assignments", ASSIGNMENTS, "--as-of", "2026-11-02",
                "--out", "OUT/report.json"], "report.json"),
    "generate": (["generate", "--out", "OUT", "--users", "60", "--days", "3", "--seed", "5"], "truth.json"),
}
