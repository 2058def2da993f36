"""The ordered funnel's fast path (queries/funnel_ordered_sparse.sql, used when no event can play two steps)
gives exactly what the general window-pass query and the brute-force reference give."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shortvid_analytics.config import Config
from shortvid_analytics.funnel import FunnelResult, _FunnelQuery, funnel
from shortvid_analytics.generate import generate
from shortvid_analytics.source import EventSource
from tests.conftest import at
from tests.funnel.test_funnel import scenarios, users, write

from .reference import quantiles, reference_funnel

#: Step selectors per event name; steps drawn from different names never share an event.
DISJOINT_CHOICES = {"a": ["a", "a[p!=v]"], "b": ["b", "b[p=u]"], "c": ["c", "c[q=k]"]}


def both_paths(source_path: Path, steps, config: Config = Config(), date_from=None, date_to=None,
               **options) -> tuple[FunnelResult, FunnelResult]:
    """The funnel by the fast path and by the general path (forced) on the same data."""
    fast = funnel(EventSource.open(source_path, config, date_from, date_to), steps, **options)
    with mock.patch.object(_FunnelQuery, "_steps_disjoint", lambda self: False):
        general = funnel(EventSource.open(source_path, config, date_from, date_to), steps, **options)
    return fast, general


def test_fast_path_is_taken_only_for_steps_without_common_events(tmp_path: Path) -> None:
    path = write(tmp_path / "e.parquet", [("u", name, at(0), {"p": "u"}) for name in ["a", "b", "c"]])
    source = EventSource.open(path)
    taken = []
    for steps in ["a,b,c", "a[p=u],b", "a,a|b", "a,b,a", "a[p=u],a[p=v]"]:
        with mock.patch.object(_FunnelQuery, "_ordered_sparse_sql", autospec=True,
                               side_effect=_FunnelQuery._ordered_sparse_sql) as sparse:
            funnel(source, steps, "1h")
        taken.append(sparse.called)
    assert taken == [True, True, False, False, False]


@st.composite
def disjoint_scenarios(draw):
    rows, _steps, int_ids, options, day = draw(scenarios())
    names = draw(st.lists(st.sampled_from(sorted(DISJOINT_CHOICES)), min_size=2, max_size=3, unique=True))
    steps = [draw(st.sampled_from(DISJOINT_CHOICES[name])) for name in names]
    options = {**options, "order": "ordered", "exclude": [x for x in options["exclude"] if x not in steps]}
    return rows, steps, int_ids, options, day


# 80 examples keep the file fast; SHORTVID_PROPERTY_EXAMPLES=2000 for a thorough run.
@settings(max_examples=int(os.environ.get("SHORTVID_PROPERTY_EXAMPLES", "80")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(disjoint_scenarios())
def test_fast_path_matches_general_path_and_reference(scenario) -> None:
    rows, steps, int_ids, options, day = scenario
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "e.parquet", rows, int_ids)
        fast, general = both_paths(path, steps, date_from=day, date_to=day, **options)
    assert fast.to_dict() == general.to_dict()
    expected = reference_funnel(rows, steps, date_from=day, date_to=day, **options)["total"]
    assert users(fast.steps) == expected["users"]
    for k, secs in enumerate(expected["seconds"], start=2):
        ttc = fast.steps[k - 1].time_to_convert_s
        assert (ttc.median, ttc.mean, ttc.p90) == pytest.approx(quantiles(secs))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sparse")
    generate(out, users=1500, days=10, seed=3, start=date(2026, 10, 5))
    return out / "events"


@pytest.mark.parametrize("options", [
    {"window": "24h", "by": "platform", "trends": "day"},
    {"window": "1h", "hold": "product_id", "exclude": "like"},
    {"window": "10m", "date_from": date(2026, 10, 7), "date_to": date(2026, 10, 9), "trends": "week"},
])
def test_fast_path_equals_general_path_on_generated_data(generated: Path, options: dict) -> None:
    fast, general = both_paths(generated, "video_view,product_click,add_to_cart,purchase", **options)
    assert fast.to_dict() == general.to_dict()
    assert fast.steps[-1].users > 0


def test_fast_path_in_a_time_zone_with_a_date_range(generated: Path) -> None:
    fast, general = both_paths(generated, "video_view,product_click[platform=douyin],purchase",
                               Config(timezone="Asia/Shanghai"), date(2026, 10, 6), date(2026, 10, 8),
                               window="2h", by="region", by_limit=3)
    assert fast.to_dict() == general.to_dict()
