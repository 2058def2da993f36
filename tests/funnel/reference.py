"""A slow, obviously-correct funnel for tests: brute force over every attempt and every chain of events.

It follows docs/funnel.md literally and shares no code with the SQL implementation (only the selector
parser, whose output it interprets itself).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from shortvid_analytics.eventspec import EventSpec


@dataclass
class Ev:
    t: datetime  # naive UTC
    name: str
    props: dict[str, Any]
    mask: int = 0
    rank: int = 0
    hold: Any = None
    by: Any = None
    excl: bool = False
    local: datetime | None = None


def matches(spec: EventSpec, ev: Ev) -> bool:
    if ev.name not in spec.names:
        return False
    for f in spec.filters:
        value = ev.props.get(f.prop)
        text = None if value is None else str(value)
        if f.op == "=" and text != f.values[0]:
            return False
        if f.op == "!=" and text == f.values[0]:
            return False
        if f.op == "in" and text not in f.values:
            return False
        if f.op == "not in" and text in f.values:
            return False
    return True


def _none_last(v: Any) -> tuple:
    return (v is None, v if v is not None else "")


def canonical_key(ev: Ev) -> tuple:
    return (ev.t, ev.rank, ev.mask, _none_last(ev.hold), _none_last(ev.by))


def max_matching(events: list[Ev], n: int) -> int:
    """Largest number of steps given distinct events, each event playing one step it matches."""
    best = 0
    roles = [[j for j in range(n) if e.mask >> j & 1] for e in events]

    def go(i: int, used: int, count: int) -> None:
        nonlocal best
        best = max(best, count)
        if i == len(events) or count + (len(events) - i) <= best:
            return
        for j in roles[i]:
            if not used >> j & 1:
                go(i + 1, used | 1 << j, count + 1)
        go(i + 1, used, count)

    go(0, 0, 0)
    return best


def _ordered_attempt(evs: list[Ev], i: int, n: int, window: timedelta, hold: bool) -> tuple[int, list[datetime]]:
    """Level and earliest step times over all chains starting at evs[i] (every chain enumerated)."""
    a = evs[i]
    limit = a.t + window
    best_t: dict[int, datetime] = {1: a.t}

    def extend(pos: int, k: int) -> None:  # evs[pos] plays step k; try step k+1
        if k == n:
            return
        for q in range(pos + 1, len(evs)):
            e = evs[q]
            if e.t > limit or not e.mask >> k & 1:
                continue
            if hold and (e.hold is None or e.hold != a.hold):
                continue
            if k + 1 not in best_t or e.t < best_t[k + 1]:
                best_t[k + 1] = e.t
            extend(q, k + 1)

    if not (hold and a.hold is None):
        extend(i, 1)
    level = max(best_t)
    return level, [best_t[k] for k in range(1, level + 1)]


def _strict_attempt(evs: list[Ev], i: int, n: int, window: timedelta, hold: bool) -> tuple[int, list[datetime]]:
    a = evs[i]
    times = [a.t]
    for j in range(1, n):
        if i + j >= len(evs):
            break
        e = evs[i + j]
        ok = e.mask >> j & 1 and e.t <= a.t + window
        if hold:
            ok = ok and e.hold is not None and e.hold == a.hold
        if not ok:
            break
        times.append(e.t)
    return len(times), times


def _unordered_attempt(evs: list[Ev], i: int, n: int, window: timedelta, hold: bool) -> tuple[int, list[datetime]]:
    a = evs[i]
    if hold and a.hold is None:
        return 1, [a.t]
    pool = [e for e in evs if e.mask and a.t <= e.t <= a.t + window and (not hold or e.hold == a.hold)]
    level = max_matching(pool, n)
    times = []
    for k in range(1, level + 1):
        times.append(min(T for T in sorted({e.t for e in pool})
                         if max_matching([e for e in pool if e.t <= T], n) >= k))
    return level, times


def reference_funnel(
    rows: list[tuple],
    steps: list[str],
    window: timedelta,
    order: str = "ordered",
    exclude: list[str] = (),
    by: str | None = None,
    by_limit: int = 10,
    hold: str | None = None,
    trends: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    tz: str = "UTC",
) -> dict[str, Any]:
    """Per-scope users per step and per-step seconds lists: {"total": ..., "by": [...], "trends": {...}}."""
    specs = [EventSpec.parse(s) for s in steps]
    exclusions = [EventSpec.parse(s) for s in exclude]
    n = len(specs)
    zone = ZoneInfo(tz)
    users: dict[Any, list[Ev]] = defaultdict(list)
    for user, name, when, *extra in rows:
        props = dict(extra[0]) if extra else {}
        ev = Ev(when, name, props)
        ev.mask = sum(1 << j for j, s in enumerate(specs) if matches(s, ev))
        ev.rank = next((j + 1 for j in range(n) if ev.mask >> j & 1), n + 1)
        ev.hold = props.get(hold) if hold else None
        ev.by = props.get(by) if by else None
        ev.excl = any(matches(x, ev) for x in exclusions)
        ev.local = when.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
        users[user].append(ev)

    def in_range(ev: Ev) -> bool:
        d = ev.local.date()
        return (date_from is None or d >= date_from) and (date_to is None or d <= date_to)

    def cohort(ev: Ev) -> date | None:
        d = ev.local.date()
        if trends == "day":
            return d
        if trends == "week":
            return d - timedelta(days=d.weekday())
        return None

    attempt_fn = {"ordered": _ordered_attempt, "strict": _strict_attempt, "unordered": _unordered_attempt}[order]
    counted: list[dict[str, Any]] = []  # per user, the counted attempt
    per_cohort: list[dict[str, Any]] = []
    for user, evs in users.items():
        evs.sort(key=canonical_key)
        attempts = []
        for i, a in enumerate(evs):
            entry_ok = (a.mask != 0) if order == "unordered" else bool(a.mask & 1)
            if not entry_ok or not in_range(a):
                continue
            level, times = attempt_fn(evs, i, n, window, hold is not None)
            excluded = any(x.excl and times[0] < x.t < times[-1] for x in evs)
            attempts.append({"user": user, "level": level, "times": times, "by": a.by, "cohort": cohort(a),
                             "excluded": excluded})
        if not attempts:
            continue
        # attempts are in canonical order: the first with the highest level is the earliest
        counted.append(max(attempts, key=lambda x: x["level"]))
        for c in sorted({x["cohort"] for x in attempts}, key=str):
            per_cohort.append(max((x for x in attempts if x["cohort"] == c), key=lambda x: x["level"]))

    def summarize(chosen: list[dict[str, Any]]) -> dict[str, Any]:
        kept = [x for x in chosen if not x["excluded"]]
        users_at = [sum(1 for x in kept if x["level"] >= k) for k in range(1, n + 1)]
        seconds = [
            [(x["times"][k - 1] - x["times"][k - 2]).total_seconds() for x in kept if x["level"] >= k]
            for k in range(2, n + 1)
        ]
        return {"users": users_at, "seconds": seconds}

    out: dict[str, Any] = {"total": summarize(counted),
                           "excluded_users": sum(1 for x in counted if x["excluded"])}
    if by:
        kept = [x for x in counted if not x["excluded"]]
        counts: dict[Any, int] = defaultdict(int)
        for x in kept:
            counts[x["by"]] += 1
        ranked = sorted(counts, key=lambda v: (-counts[v], _none_last(v)))
        top = ranked if by_limit == 0 else ranked[:by_limit]
        groups = [(None if v is None else str(v), summarize([x for x in kept if x["by"] == v])) for v in top]
        rest = [x for x in kept if x["by"] not in top]
        if rest:
            groups.append(("other", summarize(rest)))
        out["by"] = groups
    if trends:
        out["trends"] = {c: summarize([x for x in per_cohort if x["cohort"] == c])
                         for c in {x["cohort"] for x in per_cohort}}
    return out


def quantiles(values: list[float]) -> tuple[float | None, float | None, float | None]:
    """(median, mean, p90) as the funnel reports them: numpy's default linear interpolation."""
    if not values:
        return None, None, None
    arr = np.array(values, dtype=float)
    return float(np.percentile(arr, 50)), float(arr.mean()), float(np.percentile(arr, 90))

