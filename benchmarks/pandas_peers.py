"""Idiomatic pandas versions of the funnel and the weekly retention triangle: what analysts write today.

``benchmarks/run.py`` times them as the peers of ``shortvid funnel`` and ``shortvid retention``;
``tests/benchmarks/test_peers.py`` checks that on a generated dataset they give the same numbers as
those commands, so the comparison is between equal computations (the pandas funnel counts users per
step only; shortvid also finds each user's counted attempt and its times to convert).

    python benchmarks/pandas_peers.py funnel EVENTS_DIR      # users per step
    python benchmarks/pandas_peers.py retention EVENTS_DIR   # {cohort week: [size, retained k=0..7]}

Both read the whole folder with ``pandas.read_parquet`` (the three columns they need), as a notebook would.
"""

from __future__ import annotations

import json
import sys

import pandas as pd

FUNNEL_STEPS = ("video_view", "product_click", "add_to_cart", "purchase")
FUNNEL_WINDOW = pd.Timedelta(hours=24)
RETENTION_START, RETENTION_RETURN, RETENTION_PERIODS = "video_view", "purchase", 8


def load(path: str) -> pd.DataFrame:
    """user_id, event_name and event_time (UTC) of every event under ``path``."""
    return pd.read_parquet(path, columns=["user_id", "event_name", "event_time"])


def funnel(events: pd.DataFrame, steps: tuple[str, ...] = FUNNEL_STEPS,
           window: pd.Timedelta = FUNNEL_WINDOW) -> list[int]:
    """Users reaching each step of an ordered funnel within ``window`` of a step-1 event.

    merge_asof chaining: every step-k event takes the latest step-(k-1) event of its user at or before
    it and inherits that event's chain start; it continues the chain when it is at most ``window`` after
    the start. The latest predecessor carries the latest start, so a user reaches step k exactly when
    some step-k event continues a chain.
    """
    chain = events.loc[events["event_name"] == steps[0], ["user_id", "event_time"]].sort_values("event_time")
    chain["start"] = chain["event_time"]
    counts = [chain["user_id"].nunique()]
    for step in steps[1:]:
        step_events = events.loc[events["event_name"] == step, ["user_id", "event_time"]].sort_values("event_time")
        linked = pd.merge_asof(step_events, chain.rename(columns={"event_time": "previous"}),
                               left_on="event_time", right_on="previous", by="user_id", direction="backward")
        chain = linked.loc[linked["event_time"] - linked["start"] <= window, ["user_id", "event_time", "start"]]
        counts.append(chain["user_id"].nunique())
    return counts


def retention(events: pd.DataFrame, start: str = RETENTION_START, ret: str = RETENTION_RETURN,
              periods: int = RETENTION_PERIODS) -> dict[str, list[int]]:
    """Weekly cohort triangle: cohort = ISO week of a user's first ``start`` event; retained in week k =
    did ``ret`` in cohort week + k (in week 0: at or after that first event). Value per cohort (its Monday):
    [cohort size, retained k = 0 .. periods-1]."""
    first = events.loc[events["event_name"] == start].groupby("user_id")["event_time"].min().rename("first")
    returns = events.loc[events["event_name"] == ret, ["user_id", "event_time"]].merge(
        first.reset_index(), on="user_id")
    returns["k"] = (week_start(returns["event_time"]) - week_start(returns["first"])).dt.days // 7
    returned = returns[(returns["k"] > 0) | ((returns["k"] == 0) & (returns["event_time"] >= returns["first"]))]
    returned = returned.assign(cohort=week_start(returned["first"])).drop_duplicates(["user_id", "k"])
    triangle = returned.pivot_table(index="cohort", columns="k", values="user_id", aggfunc="count", fill_value=0)
    sizes = week_start(first).value_counts().sort_index()
    triangle = triangle.reindex(index=sizes.index, columns=range(periods), fill_value=0)
    return {cohort.date().isoformat(): [int(sizes[cohort]), *map(int, triangle.loc[cohort])] for cohort in sizes.index}


def week_start(times: pd.Series) -> pd.Series:
    """Monday 00:00 (UTC) of each time's ISO week."""
    days = times.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


if __name__ == "__main__":
    what, folder = sys.argv[1], sys.argv[2]
    print(json.dumps({"funnel": funnel, "retention": retention}[what](load(folder))))
