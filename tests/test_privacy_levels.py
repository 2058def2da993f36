"""Small-cell suppression of the paths matrices, the ``ab --by`` levels and the ``regress --by`` levels:
hand-worked tiny cases naming exactly what is suppressed, and the numbers left shown equal to the
unsuppressed run (docs/privacy.md)."""

from __future__ import annotations

import json

import pytest

from shortvid_analytics.paths import paths
from shortvid_analytics.source import EventSource

from .conftest import at

# u1, u2: a → b → c; u3: a → b; u4: a → d (the only user of d)
PATH_ROWS = [("u1", "a", at(0)), ("u1", "b", at(1)), ("u1", "c", at(2)),
             ("u2", "a", at(0)), ("u2", "b", at(1)), ("u2", "c", at(2)),
             ("u3", "a", at(0)), ("u3", "b", at(1)),
             ("u4", "a", at(0)), ("u4", "d", at(1))]


def _transitions(result) -> list[tuple]:
    return [(t.from_state, t.to_state, t.count, round(t.probability, 12), t.suppressed, t.suppressed_groups)
            for t in result.transitions]


def _steps(result) -> list[tuple]:
    return [(c.step, c.event, c.paths, c.share, c.suppressed, c.suppressed_groups) for c in result.step_matrix]


def test_paths_matrices_hand_worked(write_events):
    source = EventSource.open(write_events(PATH_ROWS))
    every = paths(source, start="a", steps=3)
    assert _transitions(every) == [
        ("(path_start)", "a", 4, 1.0, False, 0),
        ("a", "b", 3, 0.75, False, 0), ("a", "d", 1, 0.25, False, 0),
        ("b", "(path_end)", 1, round(1 / 3, 12), False, 0), ("b", "c", 2, round(2 / 3, 12), False, 0),
        ("c", "(path_end)", 2, 1.0, False, 0),
        ("d", "(path_end)", 1, 1.0, False, 0)]
    # K = 2: a → d and b → (path_end) have one user each; d's row (one user) is pooled whole
    two = paths(source, start="a", steps=3, min_group_size=2)
    assert _transitions(two) == [
        ("(path_start)", "a", 4, 1.0, False, 0),
        ("a", "b", 3, 0.75, False, 0), ("a", None, 1, 0.25, True, 1),
        ("b", "c", 2, round(2 / 3, 12), False, 0), ("b", None, 1, round(1 / 3, 12), True, 1),
        ("c", "(path_end)", 2, 1.0, False, 0),
        (None, None, 1, 1.0, True, 1)]
    # step 2: d (u4) pooled; step 3: c (u1, u2) and the filler (u3, u4) both have 2 users
    assert _steps(two) == [(1, "a", 4, 1.0, False, 0),
                           (2, "b", 3, 0.75, False, 0), (2, None, 1, 0.25, True, 1),
                           (3, "c", 2, 0.5, False, 0), (3, "(path_end)", 2, 0.5, False, 0)]
    # K = 3: b → c (2 users) joins b → (path_end); c's row (2 users) is pooled with d's
    three = paths(source, start="a", steps=3, min_group_size=3)
    assert _transitions(three) == [
        ("(path_start)", "a", 4, 1.0, False, 0),
        ("a", "b", 3, 0.75, False, 0), ("a", None, 1, 0.25, True, 1),
        ("b", None, 3, 1.0, True, 2),
        (None, None, 3, 1.0, True, 2)]
    assert _steps(three) == [(1, "a", 4, 1.0, False, 0),
                             (2, "b", 3, 0.75, False, 0), (2, None, 1, 0.25, True, 1),
                             (3, None, 4, 1.0, True, 2)]
    # the top paths and totals do not depend on the matrices' suppression
    assert [(p.label, p.paths) for p in two.top_paths] == [("a → b → c", 2)]
    assert two.suppressed_paths == 2 and vars(two.totals) == vars(every.totals)


def test_paths_backward_filler_is_suppressed_on_its_users(write_events):
    # backward from c: u1, u2 reach back a → b → c (3 steps); no shorter path, so no filler at step -3
    source = EventSource.open(write_events(PATH_ROWS))
    result = paths(source, end="c", steps=4, min_group_size=2)
    assert _steps(result) == [(-1, "c", 2, 1.0, False, 0), (-2, "b", 2, 1.0, False, 0),
                              (-3, "a", 2, 1.0, False, 0), (-4, "(path_start)", 2, 1.0, False, 0)]
    assert _steps(paths(source, end="c", steps=4, min_group_size=3)) == [
        (step, None, 2, 1.0, True, 1) for step in (-1, -2, -3, -4)]


def test_paths_json_and_table_name_no_suppressed_state(write_events, cli):
    path = write_events(PATH_ROWS)
    doc = json.loads(cli("paths", path, "--start", "a", "--steps", "3", "--min-group-size", "2",
                         "--format", "json").stdout)
    assert doc["params"]["min_group_size"] == 2
    assert {"from": None, "to": None, "count": 1, "probability": 1.0, "suppressed": True,
            "suppressed_groups": 1} in doc["transition_matrix"]
    assert {"step": 2, "event": None, "paths": 1, "share": 0.25, "suppressed": True,
            "suppressed_groups": 1} in doc["step_matrix"]["cells"]
    assert '"d"' not in json.dumps(doc)
    table = cli("paths", path, "--start", "a", "--steps", "3", "--min-group-size", "2")
    assert table.exit_code == 0 and "<2 users" in table.stdout
    assert " d " not in table.stdout and "→ d" not in table.stdout
