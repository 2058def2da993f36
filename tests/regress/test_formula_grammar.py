"""The formula grammar: what a formula may contain, refused payloads on every entry
point (exit 2, one line naming the token, nothing run, nothing written), unchanged estimates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import patsy
import pytest
import statsmodels.formula.api as smf
from typer.testing import CliRunner

from shortvid_analytics.cli import app
from shortvid_analytics.errors import OptionError
from shortvid_analytics.regress import grammar
from shortvid_analytics.regress.models import FORMULA_NAMESPACE, estimate
from tests.locations import PACKAGE
from tests.regress.test_diagnostics import pair_events


def run_cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------------------------------ accepted
@pytest.mark.parametrize(
    ("formula", "canonical", "columns"),
    [
        ("purchased ~ liked + shared", "purchased ~ liked + shared", {"purchased", "liked", "shared"}),
        ("purchased~liked+C(platform)", "purchased ~ liked + C(platform)", {"purchased", "liked", "platform"}),
        ("purchased ~ C(platform, Treatment('kuaishou'))", "purchased ~ C(platform, Treatment('kuaishou'))",
         {"purchased", "platform"}),
        ('purchased ~ C(traffic_source, Treatment(reference="search"))',
         "purchased ~ C(traffic_source, Treatment('search'))", {"purchased", "traffic_source"}),
        ("purchased ~ C(treated, Treatment(0))", "purchased ~ C(treated, Treatment(0))", {"purchased", "treated"}),
        ("purchased ~ liked:shared + liked*C(platform) + liked/shared",
         "purchased ~ liked:shared + liked * C(platform) + liked / shared",
         {"purchased", "liked", "shared", "platform"}),
        ("purchased ~ (liked + shared) * C(platform) - 1", "purchased ~ (liked + shared) * C(platform) - 1",
         {"purchased", "liked", "shared", "platform"}),
        ("purchased ~ 0 + liked", "purchased ~ 0 + liked", {"purchased", "liked"}),
        ("purchased ~ -1 + liked", "purchased ~ -1 + liked", {"purchased", "liked"}),
        ("np.log1p(revenue) ~ np.log1p(watch_min) + np.log(views) + np.sqrt(likes)",
         "np.log1p(revenue) ~ np.log1p(watch_min) + np.log(views) + np.sqrt(likes)",
         {"revenue", "watch_min", "views", "likes"}),
        ("purchased ~ I(watch_min**2) + I(watch_min + 0.5*shared) + I(-watch_min ** -0.5) + I((likes - 1) / 2e1)",
         "purchased ~ I(watch_min ** 2) + I(watch_min + 0.5 * shared) + I(-watch_min ** -0.5) + I((likes - 1) / 2e1)",
         {"purchased", "watch_min", "shared", "likes"}),
        ("purchased ~ scale(watch_min) + center(np.log1p(likes)) + standardize(views)",
         "purchased ~ scale(watch_min) + center(np.log1p(likes)) + standardize(views)",
         {"purchased", "watch_min", "likes", "views"}),
    ],
)
def test_accepted_formulas_and_their_canonical_text(formula, canonical, columns):
    checked = grammar.check_formula(formula)
    assert checked.text == canonical and checked.columns == columns
    assert grammar.check_formula(checked.text).text == canonical  # canonical text is a fixed point
    patsy.ModelDesc.from_formula(canonical)  # and patsy parses it


def test_terms_as_given_to_features_and_controls():
    assert grammar.check_terms("C(traffic_source,Treatment('search'))").text == \
        "C(traffic_source, Treatment('search'))"
    assert grammar.check_terms("liked:shared").text == "liked:shared"


def test_unknown_column_is_named_when_the_columns_are_known():
    with pytest.raises(OptionError, match=r"'nosuch' is not a column; columns: liked, purchased"):
        grammar.check_formula("purchased ~ liked + np.log1p(nosuch)", columns=["purchased", "liked"])


# ------------------------------------------------------------------------------------------ refused
def payloads(marker: Path) -> list[tuple[str, str]]:
    """(right-hand-side text, what the one-line message must name); each would touch ``marker``."""
    touch = f"touch {marker}"
    return [
        (f"I(__import__('os').system('{touch}'))", "'__import__' at position"),
        (f"np.os.system('{touch}')", "'np.os.system' at position"),
        ("liked + __import__", "'__import__' at position"),
        ("liked.__class__", "'liked.__class__' at position"),
        (f"(lambda: __import__('os').system('{touch}'))()", "'lambda' at position"),
        ("liked[0]", "'[' at position"),
        ("I('liked')", "string 'liked' at position"),
        (f"eval(\"__import__('os').system('{touch}')\")", "'eval' at position"),
        (f"open('{marker}', 'w')", "'open' at position"),
        (f"C(liked, open('{marker}', 'w'))", "'open' at position"),
        ("I(9 ** 9 ** 9 ** 9)", "'**' at position"),
        ("liked" + " + liked" * 1000, "characters; at most 5,000 are allowed"),
        ("(" * 40 + "liked" + ")" * 40, "nested more than 20 levels deep"),
        ("I(" + "(" * 40 + "liked" + ")" * 40 + ")", "nested more than 20 levels deep"),
    ]


@pytest.mark.parametrize("index", range(len(payloads(Path("X")))))
def test_payloads_are_refused_naming_the_token(index):
    rhs, named = payloads(Path("X"))[index]
    with pytest.raises(OptionError) as exc:
        grammar.check_formula(f"purchased ~ {rhs}")
    assert named in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(OptionError) as exc:
        grammar.check_terms(rhs)
    assert named in str(exc.value)


def test_the_payload_is_live_without_the_grammar(tmp_path):
    """The issue's payload does run through patsy with statsmodels' default environment: the refusals
    below prove something."""
    marker = tmp_path / "X"
    patsy.dmatrix(f"I(__import__('os').system('touch {marker}'))", pd.DataFrame({"x": [1.0]}))
    assert marker.exists()


def test_patsy_environment_has_no_builtins(tmp_path):
    """Defence in depth: even a formula that skipped the grammar resolves no built-in in patsy."""
    marker = tmp_path / "X"
    env = patsy.EvalEnvironment([FORMULA_NAMESPACE])
    data = pd.DataFrame({"x": [1.0, 2.0]})
    for code in (f"I(__import__('os').system('touch {marker}'))", f"I(open('{marker}', 'w'))",
                 f"np.os.system('touch {marker}')", "I(eval('1'))", "Q('x')"):
        with pytest.raises(patsy.PatsyError):
            patsy.dmatrix(code, data, eval_env=env)
    assert not marker.exists()


def _toml(value) -> str:
    return json.dumps(value)  # a JSON string or list of strings is a TOML basic string / array


def _entry_points(rhs: str, tmp_path: Path) -> dict[str, list]:
    """Command-line arguments (after the events path) that hand ``rhs`` to each entry point."""
    spec = tmp_path / "spec.toml"
    return {
        "--formula": ["--formula", f"purchased ~ {rhs}"],
        "--features": ["--features", f"liked,{rhs}"],
        "--controls": ["--controls", rhs],
        "--spec formula": [spec, f"[[model]]\nformula = {_toml('purchased ~ ' + rhs)}\n"],
        "--spec [defaults] features": [spec, f"[defaults]\nfeatures = {_toml(['liked', rhs])}\n"
                                             "[[model]]\nname = 'a'\n"],
        "--spec controls": [spec, f"[[model]]\ncontrols = {_toml([rhs])}\n"],
        "report formula": [spec, f"formula = {_toml('purchased ~ ' + rhs)}"],
        "report features": [spec, f"features = {_toml(['liked', rhs])}"],
        "report controls": [spec, f"controls = {_toml(rhs)}"],
    }


ENTRY_POINTS = list(_entry_points("x", Path(".")))


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> Path:
    from tests.conftest import events_frame

    path = tmp_path_factory.mktemp("grammar") / "events.parquet"
    events_frame(pair_events(n=60)).write_parquet(path)
    return path


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("index", range(len(payloads(Path("X")))))
def test_every_entry_point_refuses_every_payload(events, tmp_path, entry, index):
    marker = tmp_path / "X"
    rhs, named = payloads(marker)[index]
    args = _entry_points(rhs, tmp_path)[entry]
    out = tmp_path / "out"
    if entry.startswith("report"):
        args[0].write_text(f'title = "R"\n\n[[sections]]\ntype = "regression"\ntitle = "Reg"\n{args[1]}\n',
                           encoding="utf-8")
        result = run_cli("report", events, "--spec", args[0], "--out", out.with_suffix(".html"))
    elif entry.startswith("--spec"):
        args[0].write_text(args[1], encoding="utf-8")
        result = run_cli("regress", events, "--spec", args[0], "--table", out.with_suffix(".md"), "-o",
                         out.with_suffix(".json"), "--format", "json")
    else:
        result = run_cli("regress", events, *args, "--table", out.with_suffix(".md"), "-o", out.with_suffix(".json"),
                         "--format", "json")
    assert result.exit_code == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not marker.exists()
    assert not list(tmp_path.glob("out*")), "nothing is written when the formula is refused"


# ------------------------------------------------------------------------------------------ unchanged numbers
@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(28)
    n = 2000
    df = pd.DataFrame({
        "liked": rng.integers(0, 2, n), "shared": rng.integers(0, 2, n), "completed": rng.integers(0, 2, n),
        "commented": rng.integers(0, 2, n), "follows_creator": rng.integers(0, 2, n),
        "watch_min": rng.exponential(1.0, n), "likes": rng.poisson(2.0, n),
        "platform": rng.choice(["douyin", "kuaishou"], n),
        "traffic_source": rng.choice(["recommend", "search", "follow"], n),
    })
    eta = -1 + 0.8 * df.liked + 0.3 * df.watch_min + 0.4 * (df.platform == "kuaishou")
    df["purchased"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return df


@pytest.mark.parametrize(
    ("model", "formula"),
    [
        ("logit", "purchased ~ liked + commented + shared + watch_min + completed + follows_creator + C(platform) "
                  "+ C(traffic_source, Treatment('recommend'))"),
        ("ols", "purchased ~ liked + np.log1p(watch_min) + C(platform)"),
        ("logit", "purchased ~ watch_min + I(watch_min + 0.5 * shared) + liked"),
        ("ols", "purchased ~ liked + watch_min + completed - 1"),
        ("logit", "purchased ~ (liked + watch_min) * C(platform)"),
        ("probit", "purchased ~ I(watch_min ** 2) + scale(likes) + center(watch_min) + np.sqrt(likes) "
                   "+ np.log(watch_min) + liked:shared"),
        ("poisson", "likes ~ liked * shared + C(platform, Treatment('kuaishou'))"),
    ],
)
def test_estimates_equal_statsmodels_with_numpy(frame, model, formula):
    """The restricted namespace computes what statsmodels' default (the caller's numpy) does."""
    report = estimate(frame, formula, model, name="m").report
    fitted = getattr(smf, model)(formula, frame).fit(**({} if model == "ols" else {"disp": 0, "maxiter": 100}))
    assert report.formula == formula
    assert [c.term for c in report.coefficients] == list(fitted.params.index)
    np.testing.assert_array_equal([c.estimate for c in report.coefficients], fitted.params.to_numpy())
    np.testing.assert_array_equal([c.std_error for c in report.coefficients], fitted.bse.to_numpy())


# ------------------------------------------------------------------------------------------ no eval in the package
def test_the_package_never_evaluates_text():
    """``eval``/``exec``/``compile`` appear nowhere in the package (``re.compile`` aside)."""
    call = re.compile(r"(?<![\w.])(eval|exec|compile)\s*\(")
    hits = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
            for path in sorted(PACKAGE.rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if call.search(line)]
    assert hits == []
