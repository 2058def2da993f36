"""`shortvid paths`: hand-worked cases, a slow pure-Python reference checked by hypothesis on random
tiny tables, matrix invariants, the chart and every bad-input case giving a one-line error."""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shortvid_analytics.errors import InputError
from shortvid_analytics.paths import PATH_END, PATH_START, paths
from shortvid_analytics.source import EventSource
from tests.conftest import T0, at, events_frame
from tests.source.test_validate import one_line_error


def by_label(result) -> dict[str, tuple]:
    return {p.label: (p.paths, p.users, p.converted_paths, p.converted_users) for p in result.top_paths}


# ------------------------------------------------------------------------------------------------ reference
def reference(rows, start=None, end=None, steps=5, collapse=False, session=False, window=timedelta(hours=24),
              date_from=None, date_to=None):
    """The definitions of docs/paths.md, written out naively over the raw rows.

    The last element maps every matrix cell -- ``("transition", from, to)``, ``("state", from)`` (a row of
    the transition matrix), ``("step", step, event)`` (the filler included) -- to the set of its users."""
    forward = start is not None
    anchor_names = set(start if forward else end)
    conversion = set(end) if forward and end else set()

    def in_range(t: datetime) -> bool:
        return (date_from is None or t.date() >= date_from) and (date_to is None or t.date() <= date_to)

    def key(row):  # chronological order: time, anchor events first (forward) / last (backward), name
        matches = row[1] in anchor_names
        return row[2], (0 if matches else 1) if forward else (1 if matches else 0), row[1]

    groups = defaultdict(list)
    for row in rows:
        sid = row[3].get("session_id") if len(row) > 3 else None
        if session and sid is None:
            continue
        groups[(row[0], sid if session else "")].append(row)
    sequences = Counter()
    users, converted_paths, converted_users = defaultdict(set), Counter(), defaultdict(set)
    transitions, step_counts = Counter(), Counter()
    cell_users = defaultdict(set)
    for (user, _sid), events in groups.items():
        candidates = [r[2] for r in events if r[1] in anchor_names and in_range(r[2])]
        if not candidates:
            continue
        anchor = min(candidates)
        if forward:
            horizon = [r for r in events if r[2] >= anchor and (session or r[2] <= anchor + window)]
            walk = sorted(horizon, key=key)
        else:
            horizon = [r for r in events if r[2] <= anchor and (session or r[2] >= anchor - window)]
            walk = sorted(horizon, key=key, reverse=True)
        runs: list[list] = []
        for r in walk:
            if collapse and runs and runs[-1][0] == r[1]:
                runs[-1][1] += 1
            else:
                runs.append([r[1], 1])
        runs = runs[:steps]
        for k, (name, _n) in enumerate(runs, start=1):
            step_counts[(k if forward else -k, name)] += 1
        for k in range(1, steps + 1):
            cell = runs[k - 1][0] if k <= len(runs) else (PATH_END if forward else PATH_START)
            cell_users[("step", k if forward else -k, cell)].add(user)
        if not forward:
            runs.reverse()
        seq = (tuple(n for n, _ in runs), tuple(c for _, c in runs))
        converted = any(r[1] in conversion for r in horizon)
        sequences[seq] += 1
        users[seq].add(user)
        if converted:
            converted_paths[seq] += 1
            converted_users[seq].add(user)
        chain = [PATH_START, *seq[0], PATH_END]
        transitions.update(zip(chain, chain[1:]))
        for a, b in zip(chain, chain[1:]):
            cell_users[("transition", a, b)].add(user)
            cell_users[("state", a)].add(user)
    return sequences, users, converted_paths, converted_users, transitions, step_counts, cell_users


def check_against_reference(result, rows, **options):
    sequences, users, conv_paths, conv_users, transitions, step_counts, _cells = reference(rows, **options)
    got = {(tuple(p.events), tuple(p.repeats)): p for p in result.top_paths}
    assert set(got) == set(sequences)
    converts = bool(options.get("start") and options.get("end"))
    for seq, row in got.items():
        assert row.paths == sequences[seq] and row.users == len(users[seq])
        if converts:
            assert row.converted_paths == conv_paths[seq] and row.converted_users == len(conv_users[seq])
        else:
            assert row.converted_paths is None
    assert result.totals.paths == sum(sequences.values())
    assert result.totals.sequences == len(sequences)
    assert {(t.from_state, t.to_state): t.count for t in result.transitions} == dict(transitions)
    filler = PATH_END if options.get("start") else PATH_START
    expected_steps = dict(step_counts)
    total = result.totals.paths
    for (step, _name), _n in list(step_counts.items()):
        shorter = total - sum(n for (s, _), n in step_counts.items() if s == step)
        if shorter:
            expected_steps[(step, filler)] = shorter
    steps = options.get("steps", 5)
    for k in range(1, steps + 1):  # steps nobody reaches are all filler
        step = k if options.get("start") else -k
        if total and not any(s == step for s, _ in step_counts):
            expected_steps[(step, filler)] = total
    assert {(c.step, c.event): c.paths for c in result.step_matrix} == expected_steps
    check_matrices(result)


def check_matrices(result):
    """Transition rows and step columns are probability distributions."""
    rows = defaultdict(float)
    for t in result.transitions:
        rows[t.from_state] += t.probability
    assert all(math.isclose(v, 1.0, rel_tol=1e-12) for v in rows.values())
    columns = defaultdict(float)
    for c in result.step_matrix:
        columns[c.step] += c.share
    if result.totals.paths:
        assert set(columns) == set(result.steps)
        assert all(math.isclose(v, 1.0, rel_tol=1e-12) for v in columns.values())


def check_suppressed_matrices(result, every, cell_users, k):
    """``result`` (run with ``--min-group-size k``) against the unsuppressed run ``every`` and the
    reference's users per cell: cells of fewer than k users pooled per transition-matrix row (per
    step), rows of states with fewer than k users pooled whole, every shown cell unchanged."""
    def users(*cell):
        return len(cell_users[cell])

    expected = {}
    rows = defaultdict(list)
    for t in every.transitions:
        rows[t.from_state].append(t)
    small_rows = []
    for state, cells in rows.items():
        if users("state", state) < k:
            small_rows += cells
            continue
        small = [t for t in cells if users("transition", state, t.to_state) < k]
        expected |= {(state, t.to_state): (t.count, t.probability, False, 0) for t in cells if t not in small}
        if small:
            expected[(state, None)] = (sum(t.count for t in small), sum(t.probability for t in small), True,
                                       len(small))
    if small_rows:
        expected[(None, None)] = (sum(t.count for t in small_rows), 1.0, True, len(small_rows))
    got = {(t.from_state, t.to_state): (t.count, pytest.approx(t.probability, rel=1e-12), t.suppressed,
                                        t.suppressed_groups) for t in result.transitions}
    assert got == expected
    expected = {}
    for step in every.steps:
        cells = [c for c in every.step_matrix if c.step == step]
        small = [c for c in cells if users("step", step, c.event) < k]
        expected |= {(step, c.event): (c.paths, c.share, False, 0) for c in cells if c not in small}
        if small:
            expected[(step, None)] = (sum(c.paths for c in small), sum(c.share for c in small), True, len(small))
    got = {(c.step, c.event): (c.paths, pytest.approx(c.share, rel=1e-12), c.suppressed, c.suppressed_groups)
           for c in result.step_matrix}
    assert got == expected
    check_matrices(result)


NAMES = ["a", "b", "c", "d"]
row_strategy = st.tuples(
    st.sampled_from(["u1", "u2", "u3"]),
    st.sampled_from(NAMES),
    st.integers(min_value=0, max_value=40),
    st.sampled_from(["s1", "s2", None]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.lists(row_strategy, min_size=1, max_size=25),
    forward=st.booleans(),
    anchor=st.sampled_from([("a",), ("b",), ("a", "b")]),
    conversion=st.sampled_from([None, ("c",), ("d", "a")]),
    steps=st.integers(min_value=1, max_value=4),
    collapse=st.booleans(),
    session=st.booleans(),
    window_minutes=st.integers(min_value=1, max_value=30),
    ranged=st.booleans(),
)
def test_paths_match_the_reference(tmp_path_factory, raw, forward, anchor, conversion, steps, collapse, session,
                                   window_minutes, ranged):
    # Minutes are spread over two days so --from/--to cut the table.
    rows = [(u, n, at(m * 72), {"session_id": s}) for u, n, m, s in raw]
    rows.append(("u9", "a", at(0), {"session_id": "s9"}))
    rows.append(("u9", "b", at(1), {"session_id": "s9"}))
    rows += [("u9", name, at(2), {"session_id": "s9"}) for name in NAMES]
    path = tmp_path_factory.mktemp("paths") / "events.parquet"
    events_frame(rows).write_parquet(path)
    date_from = date_to = (T0 + timedelta(days=1)).date() if ranged else None
    window = timedelta(minutes=window_minutes * 72)
    options = dict(start=anchor if forward else None, end=(conversion if forward else anchor), steps=steps,
                   collapse=collapse, session=session, window=window, date_from=date_from, date_to=date_to)
    if forward and conversion is None:
        options["end"] = None
    if ranged and not any(r[2].date() == date_from for r in rows):
        with pytest.raises(InputError, match="^no events between "):  # a range without events is refused
            EventSource.open(path, date_from=date_from, date_to=date_to)
        return
    source = EventSource.open(path, date_from=date_from, date_to=date_to)
    result = paths(
        source,
        start="|".join(options["start"]) if options["start"] else None,
        end="|".join(options["end"]) if options["end"] else None,
        steps=steps, top=1000, collapse_repeats=collapse, session=session,
        window=None if session else window,
    )
    check_against_reference(result, rows, **options)
    suppressed = paths(source, start="|".join(options["start"]) if options["start"] else None,
                       end="|".join(options["end"]) if options["end"] else None, steps=steps, top=1000,
                       collapse_repeats=collapse, session=session, window=None if session else window,
                       min_group_size=2)
    check_suppressed_matrices(suppressed, result, reference(rows, **options)[-1], 2)


# ------------------------------------------------------------------------------------------------ hand-worked
def test_hand_worked_forward_paths_with_conversion(write_events):
    rows = [
        ("u1", "video_view", at(0)), ("u1", "like", at(1)), ("u1", "product_click", at(2)),
        ("u1", "purchase", at(3)),
        ("u2", "video_view", at(0)), ("u2", "like", at(5)),
        ("u2", "video_view", at(10)), ("u2", "purchase", at(20)),  # purchase at step 4: beyond --steps 3
        ("u3", "like", at(0)), ("u3", "video_view", at(1)), ("u3", "like", at(2)), ("u3", "video_view", at(3)),
        ("u4", "like", at(0)),  # never starts a path
    ]
    result = paths(EventSource.open(write_events(rows)), start="video_view", end="purchase", steps=3)
    assert by_label(result) == {
        "video_view → like → product_click": (1, 1, 1, 1),
        "video_view → like → video_view": (2, 2, 1, 1),
    }
    assert result.totals.paths == 3 and result.totals.users == 3
    assert result.totals.converted_paths == 2 and result.totals.conversion_rate == pytest.approx(2 / 3)
    # each user's first video_view anchors the path: u3's path starts at minute 1, not at the like
    assert result.top_paths[0].label == "video_view → like → video_view"
    probability = {(t.from_state, t.to_state): t.probability for t in result.transitions}
    assert probability[("like", "video_view")] == pytest.approx(2 / 3)
    assert probability[("like", "product_click")] == pytest.approx(1 / 3)
    # three views go on to a like; the two views at step 3 end their paths (--steps 3)
    assert probability[("video_view", "like")] == pytest.approx(3 / 5)
    assert probability[("video_view", PATH_END)] == pytest.approx(2 / 5)
    assert probability[("product_click", PATH_END)] == 1.0
    check_matrices(result)


def test_window_edge_is_inclusive_and_every_path_starts_at_the_first_start_event(write_events):
    rows = [
        ("u1", "video_view", at(0)), ("u1", "like", at(0, hours=24)),  # exactly at the window's end
        ("u1", "share", at(0, hours=24) + timedelta(microseconds=1)),  # just beyond it
        ("u1", "video_view", at(0, hours=30)),  # a later start event starts no second path
    ]
    result = paths(EventSource.open(write_events(rows)), start="video_view")
    assert by_label(result) == {"video_view → like": (1, 1, None, None)}
    result = paths(EventSource.open(write_events(rows)), start="video_view", window="25h")
    assert by_label(result) == {"video_view → like → share": (1, 1, None, None)}


def test_backward_paths_end_at_the_first_end_event(write_events):
    rows = [
        ("u1", "like", at(0)), ("u1", "video_view", at(1)), ("u1", "video_view", at(2)),
        ("u1", "video_view", at(3)), ("u1", "purchase", at(4)), ("u1", "purchase", at(9)),
        ("u2", "video_view", at(0)), ("u2", "purchase", at(0, hours=25)),  # view 25h before: outside 24h
    ]
    source = EventSource.open(write_events(rows))
    result = paths(source, end="purchase", steps=3, collapse_repeats=True)
    assert by_label(result) == {"like → video_view×3 → purchase": (1, 1, None, None),
                                "purchase": (1, 1, None, None)}
    assert result.direction == "backward" and result.steps == [-3, -2, -1]
    cells = {(c.step, c.event): c.paths for c in result.step_matrix}
    assert cells == {(-1, "purchase"): 2, (-2, "video_view"): 1, (-2, PATH_START): 1,
                     (-3, "like"): 1, (-3, PATH_START): 1}
    result = paths(source, end="purchase", steps=3)
    assert by_label(result)["video_view → video_view → purchase"] == (1, 1, None, None)


def test_collapse_repeats_counts_runs_and_distinguishes_run_lengths(write_events):
    rows = [("u1", "video_view", at(i)) for i in range(3)] + [("u1", "purchase", at(5))]
    rows += [("u2", "video_view", at(i)) for i in range(2)] + [("u2", "purchase", at(5))]
    rows += [("u3", "video_view", at(0)), ("u3", "like", at(1)), ("u3", "video_view", at(2))]
    result = paths(EventSource.open(write_events(rows)), start="video_view", collapse_repeats=True, steps=2)
    assert by_label(result) == {"video_view×3 → purchase": (1, 1, None, None),
                                "video_view×2 → purchase": (1, 1, None, None),
                                "video_view → like": (1, 1, None, None)}
    assert {(t.from_state, t.to_state) for t in result.transitions if t.from_state == t.to_state} == set()


def test_session_paths_versus_window_paths(write_events):
    rows = [
        ("u1", "video_view", at(0), {"session_id": "s1"}), ("u1", "like", at(1), {"session_id": "s1"}),
        ("u1", "video_view", at(10), {"session_id": "s2"}), ("u1", "purchase", at(11), {"session_id": "s2"}),
        ("u2", "video_view", at(0), {"session_id": "s3"}), ("u2", "share", at(0, hours=30), {"session_id": "s3"}),
    ]
    source = EventSource.open(write_events(rows))
    per_session = paths(source, start="video_view", end="purchase", session=True)
    assert by_label(per_session) == {"video_view → like": (1, 1, 0, 0), "video_view → purchase": (1, 1, 1, 1),
                                     "video_view → share": (1, 1, 0, 0)}
    assert per_session.totals.paths == 3 and per_session.totals.users == 2
    per_window = paths(source, start="video_view", end="purchase")
    assert by_label(per_window) == {"video_view → like → video_view → purchase": (1, 1, 1, 1),
                                    "video_view": (1, 1, 0, 0)}


def test_two_sessions_of_one_user_with_the_same_path_count_one_user(write_events):
    rows = [("u1", "video_view", at(0), {"session_id": "s1"}), ("u1", "like", at(1), {"session_id": "s1"}),
            ("u1", "video_view", at(9), {"session_id": "s2"}), ("u1", "like", at(10), {"session_id": "s2"})]
    result = paths(EventSource.open(write_events(rows)), start="video_view", session=True)
    assert by_label(result) == {"video_view → like": (2, 1, None, None)}


def test_date_range_picks_anchors_but_not_the_horizon(write_events):
    rows = [("u1", "video_view", at(0, hours=-1)), ("u1", "video_view", at(0, hours=23)),
            ("u1", "like", at(0, hours=25))]  # the like is the next day, outside --to
    source = EventSource.open(write_events(rows), date_from=T0.date(), date_to=T0.date())
    assert by_label(paths(source, start="video_view")) == {"video_view → like": (1, 1, None, None)}


def test_top_and_other(write_events):
    rows = [(f"u{i}", "video_view", at(0)) for i in range(3)] + [("u0", "like", at(1)), ("u1", "share", at(1))]
    result = paths(EventSource.open(write_events(rows)), start="video_view", top=1)
    assert len(result.top_paths) == 1 and result.other_paths == 2 and result.other_sequences == 2
    assert result.top_paths[0].share == pytest.approx(1 / 3)


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_json_contract_and_chart(write_events, cli, tmp_path):
    rows = [("u1", "video_view", at(0)), ("u1", "purchase", at(1)), ("u2", "video_view", at(0))]
    path = write_events(rows)
    png, svg = tmp_path / "flow.png", tmp_path / "flow.svg"
    result = cli("paths", path, "--start", "video_view", "--end", "purchase", "--format", "json", "--chart", png)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["kind"] == "paths" and doc["version"] and doc["params"]["window"] == "1d"
    assert doc["params"]["start"] == "video_view" and doc["params"]["source"]["path"] == str(path)
    assert doc["totals"] == {"paths": 2, "users": 2, "sequences": 2, "converted_paths": 1, "converted_users": 1,
                             "conversion_rate": 0.5}
    assert doc["top_paths"][0]["path"] in ("video_view → purchase", "video_view")
    assert {"from", "to", "count", "probability", "suppressed", "suppressed_groups"} == set(doc["transition_matrix"][0])
    assert doc["step_matrix"]["steps"] == [1, 2, 3, 4, 5]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli("paths", path, "--end", "purchase", "--chart", svg).exit_code == 0
    assert b"<svg" in svg.read_bytes()[:500]
    table = cli("paths", path, "--start", "video_view", "--collapse-repeats")
    assert table.exit_code == 0 and "Transition matrix" in table.stdout and "Step matrix" in table.stdout


@pytest.mark.parametrize("args, message", [
    (["--start", "video_vew"], "start event 'video_vew' does not occur in .*; events present: purchase, video_view"),
    (["--end", "refund"], "end event 'refund' does not occur"),
    (["--start", "video_view", "--end", "refnd"], "end event 'refnd' does not occur"),
    (["--start", "video_view", "--window", "24x"], "window '24x': expected a number and a unit"),
    (["--start", "video_view", "--window", "0h"], "window '0h': must be positive"),
    (["--start", "video_view", "--session", "--window", "2h"], "--window and --session exclude each other"),
    (["--start", "video_view", "--session"], "--session needs session ids"),
    ([], "paths needs --start EVENT"),
    (["--start", "video_view", "--steps", "0"], "--steps 0: expected a whole number from 1 to 50"),
    (["--start", "video_view", "--top", "0"], "--top 0: expected a positive whole number"),
    (["--start", "video_view[colour=red]"], "property in start event .* 'colour' is not a column"),
    (["--start", "video_view", "--chart", "flow.gif"], "--chart flow.gif: expected a file name ending in .png"),
])
def test_bad_input_gives_one_line_error(write_events, cli, args, message):
    path = write_events([("u1", "video_view", at(0)), ("u1", "purchase", at(1))])
    result = cli("paths", path, *args)
    assert result.exit_code == 2
    line = one_line_error(result)
    assert len(line.splitlines()) == 1 and re.search(message, line), line
