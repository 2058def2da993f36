"""``shortvid regress``: clear one-line warnings for separation, collinearity, no variance, non-convergence;
one-line errors with exit codes for bad options and data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import at


def pair_events(n: int = 240, seed: int = 3, outcome: str = "random") -> list[tuple]:
    """``n`` single-view (user, video) pairs; ``liked`` on every third; purchases by ``outcome``:
    ``random`` (30%), ``quasi`` (every liked pair buys, others 30%), ``complete`` (exactly the liked ones)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    for i in range(n):
        user, video = f"u{i:03d}", f"v{i % 40:02d}"
        liked = i % 3 == 0
        base = {"video_id": video, "creator_id": f"c{i % 8}", "session_id": f"s{i}"}
        rows.append((user, "video_view", at(i), base | {"product_id": f"p{video}", "watch_time_s": float(rng.exponential(40)),
                                                        "platform": "douyin" if i % 2 else "kuaishou",
                                                        "traffic_source": "recommend"}))
        if liked:
            rows.append((user, "like", at(i, hours=0.01), base))
        if rng.random() < 0.3:
            rows.append((user, "share", at(i, hours=0.01), base))
        buys = {"random": rng.random() < 0.3, "quasi": liked or rng.random() < 0.3, "complete": liked}[outcome]
        if buys:
            rows.append((user, "purchase", at(i, hours=1), {"product_id": f"p{video}", "order_id": f"o{i}",
                                                             "revenue": 10.0}))
    return rows


def regress_json(cli, path, *args) -> dict:
    result = cli("regress", path, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def one_line_warnings(report: dict) -> list[str]:
    assert all("\n" not in w and w for w in report["warnings"])
    return report["warnings"]


def test_quasi_separation_is_named(cli, write_events):
    report = regress_json(cli, write_events(pair_events(outcome="quasi")), "--features", "liked,shared")["models"][0]
    warnings = one_line_warnings(report)
    assert "separation: liked = 1 predicts purchased = 1 in all 80 such rows; its estimate and standard error " \
           "are not meaningful" in warnings
    assert any(w.startswith("quasi-complete separation: 80 rows are predicted with probability 0 or 1")
               or w.startswith("logit did not converge") for w in warnings)


def test_complete_separation_and_non_convergence_are_reported(cli, write_events):
    path = write_events(pair_events(outcome="complete"))
    report = regress_json(cli, path, "--features", "liked,shared")["models"][0]
    warnings = one_line_warnings(report)
    assert "separation: liked = 0 predicts purchased = 0 in all 160 such rows; its estimate and standard error " \
           "are not meaningful" in warnings
    assert any(w.startswith("complete separation: the model predicts all 240 rows perfectly") for w in warnings)
    assert any(w.startswith("logit did not converge") for w in warnings)
    # the table shows the warnings as one line each, no traceback
    table = cli("regress", path, "--features", "liked,shared")
    assert table.exit_code == 0 and "warning: complete separation" in table.stdout
    assert "Traceback" not in table.stdout + table.stderr


def test_perfectly_collinear_term_is_dropped_with_a_warning(cli, write_events):
    path = write_events(pair_events())
    report = regress_json(cli, path, "--features", "liked,likes,shared", "--controls", "none")["models"][0]
    assert one_line_warnings(report) == [
        "term likes is a linear combination of other terms (likes: perfect collinearity); dropped from the model"]
    assert report["formula"] == "purchased ~ liked + shared"
    assert [c["term"] for c in report["coefficients"]] == ["Intercept", "liked", "shared"]


def test_feature_without_variance_is_dropped_with_a_warning(cli, write_events):
    path = write_events(pair_events())
    # every pair has exactly one view; platform has two levels but traffic_source only one
    report = regress_json(cli, path, "--features", "views,liked")["models"][0]
    assert one_line_warnings(report) == ["term views has no variance (every row is 1); dropped from the model"]
    assert report["formula"] == "purchased ~ liked + C(platform)"


def test_high_vif_is_warned(cli, write_events):
    path = write_events(pair_events())
    report = regress_json(cli, path, "--formula", "purchased ~ watch_min + I(watch_min + 0.5 * shared) + liked",
                          "--model", "ols")["models"][0]
    vif = {v["term"]: v["vif"] for v in report["vif"]}
    assert vif["watch_min"] > 10 and vif["liked"] < 2
    (warning,) = one_line_warnings(report)
    assert warning.startswith("collinearity: VIF above 10 for watch_min (")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--unit", "video"], 2, "--unit 'video': expected one of user|user_video|session"),
        (["--model", "tobit"], 2, "--model 'tobit': expected one of logit|probit|ols|poisson|negbin"),
        (["--outcome", "gmv"], 2, "--outcome 'gmv': expected one of purchased|revenue|orders"),
        (["--outcome", "revenue"], 2, "--model logit needs a 0/1 outcome; revenue takes other values"),
        (["--robust", "HC3"], 2, "--robust HC3 is defined for ols only; for logit use HC0 or HC1"),
        (["--robust", "HC9", "--model", "ols"], 2, "--robust 'HC9': expected one of HC0|HC1|HC2|HC3"),
        (["--robust", "HC1", "--cluster", "user_id"], 2, "--cluster and --robust exclude each other"),
        (["--cluster", "shop_id"], 2, "--cluster 'shop_id' is not a column of the user_video frame; columns: user_id, video_id"),
        (["--features", "liked,nosuch"], 2, "formula 'purchased ~ liked + nosuch + C(platform)': 'nosuch' is not a "
                                            "column of the user_video frame; columns: user_id, video_id"),
        (["--formula", "purchased ~ np.loog(watch_min)"], 2, "formula 'purchased ~ np.loog(watch_min)': 'np.loog' "
                                                            "at position 13: not an allowed transform"),
        (["--formula", "purchased ~ (liked"], 2, "formula 'purchased ~ (liked': unexpected end; expected ')'"),
        (["--formula", "purchased ~ liked", "--features", "liked"], 2, "--formula replaces --features"),
        (["--by", "traffic_source"], 2, "--by traffic_source: the frame has 1 level(s) (recommend); nothing to compare"),
        (["--by", "region"], 2, "--by 'region' is not a column of the user_video frame"),
        (["--window", "soon"], 2, "window 'soon': expected a number and a unit"),
        (["--table", "out.docx"], 2, "--table out.docx: expected a file name ending in .md, .markdown, .tex, .html"),
        (["--chart", "out.gif"], 2, "--chart out.gif: expected a file name ending in .png, .svg or .pdf"),
        (["--save-frame", "frame.txt"], 2, "--save-frame frame.txt: expected a .parquet or .csv file name"),
        (["--spec", "missing.toml"], 1, "missing.toml: spec file not found"),
    ],
)
def test_bad_options_give_one_line_errors(cli, write_events, tmp_path, monkeypatch, args, code, message):
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    result = cli("regress", write_events(pair_events(n=60)), *args)
    assert result.exit_code == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert list(workdir.iterdir()) == []  # no partial output files


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unit = 'user'\n[[model]]\nmodle = 'logit'\n", "unknown key 'modle' in [[model]] 1"),
        ("[[model]]\nfeatures = 'liked'\n", "[[model]] 1: features must be a list of terms"),
        ("[defaults]\ncluster = 3\n[[model]]\n", "[defaults]: cluster must be text, got 3"),
        ("unit = 'user'\n", "expected one or more [[model]] tables"),
        ("stars = [0.01, 0.05]\n[[model]]\n", "expected decreasing p-value thresholds"),
        ("[[model]]\nmodel = 'logit'\nrobust = 'HC2'\n", "[[model]] 1: --robust HC2 is defined for ols only"),
        ("[[model\n", "not valid TOML"),
    ],
)
def test_bad_spec_files_give_one_line_errors(cli, write_events, tmp_path, text, message):
    spec = tmp_path / "spec.toml"
    spec.write_text(text, encoding="utf-8")
    result = cli("regress", write_events(pair_events(n=60)), "--spec", spec)
    assert result.exit_code in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_bad_data_gives_one_line_errors(cli, write_events):
    no_purchase = [r for r in pair_events(n=60) if r[1] != "purchase"]
    result = cli("regress", write_events(no_purchase))
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: outcome purchased is 0 in all 60 rows: nothing to estimate"
    no_views = cli("regress", write_events([("u1", "like", at(0), {"video_id": "v1"})]))
    assert no_views.exit_code == 2 and "'video_view' does not occur" in no_views.stderr


def test_outputs_never_overwrite_the_input(cli, write_events):
    path = write_events(pair_events(n=60))
    before = path.read_bytes()
    for option in ("--save-frame", "--output"):
        result = cli("regress", path, option, path)
        assert result.exit_code == 2 and "refusing to write over an input" in result.stderr
    assert path.read_bytes() == before
