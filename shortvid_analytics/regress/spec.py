"""What to estimate: the unit of the modelling frame and one or more model specifications.

A run comes from the command-line options, or from a TOML spec file whose values take precedence
over them (format in ``docs/regress.md``)::

    unit = "user_video"
    window = "24h"
    stars = [0.10, 0.05, 0.01]

    [defaults]                # applied to every [[model]]
    cluster = "creator_id"

    [labels]                  # publication-table row labels, by term
    liked = "Liked the video"

    [[model]]
    name = "(1) Logit"
    model = "logit"
    features = ["liked", "shared"]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..errors import InputError, OptionError
from ..eventspec import split_top_level
from ..periods import parse_window
from . import grammar

UNITS: tuple[str, ...] = ("user", "user_video", "session")
OUTCOMES: tuple[str, ...] = ("purchased", "revenue", "orders")
MODELS: tuple[str, ...] = ("logit", "probit", "ols", "poisson", "negbin")
ROBUST: tuple[str, ...] = ("HC0", "HC1", "HC2", "HC3")
#: Heteroscedasticity-robust types available for maximum-likelihood models (see models.covariance).
ROBUST_ML: tuple[str, ...] = ("HC0", "HC1")
DEFAULT_STARS: tuple[float, ...] = (0.10, 0.05, 0.01)
DEFAULT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class ModelSpec:
    """One model to fit on the frame.

    ``features`` and ``controls`` are right-hand-side terms (``None``: the unit's defaults, see
    :mod:`.frame`); ``formula`` replaces outcome, features and controls. ``cluster`` names a frame
    column for cluster-robust standard errors, ``robust`` a heteroscedasticity-robust type; neither
    gives classical standard errors. ``by`` fits the model within each level of a frame column plus
    a pooled model with interactions.
    """

    model: str = "logit"
    outcome: str = "purchased"
    features: tuple[str, ...] | None = None
    controls: tuple[str, ...] | None = None
    formula: str | None = None
    cluster: str | None = None
    robust: str | None = None
    by: str | None = None
    name: str | None = None

    def check(self, where: str = "") -> ModelSpec:
        """Return self after checking the enumerated values; raise :class:`OptionError` naming ``where``."""
        at = f"{where}: " if where else ""
        _one_of(self.model, MODELS, f"{at}--model")
        if self.formula is None:
            _one_of(self.outcome, OUTCOMES, f"{at}--outcome")
        if self.robust is not None:
            _one_of(self.robust, ROBUST, f"{at}--robust")
            if self.cluster:
                raise OptionError(f"{at}--cluster and --robust exclude each other: cluster-robust standard "
                                  f"errors are already heteroscedasticity-robust")
            if self.model != "ols" and self.robust not in ROBUST_ML:
                raise OptionError(
                    f"{at}--robust {self.robust} is defined for ols only; for {self.model} use "
                    f"{' or '.join(ROBUST_ML)} (statsmodels would silently compute HC0)"
                )
        if self.formula is not None and (self.features is not None or self.controls is not None):
            raise OptionError(f"{at}--formula replaces --features and --controls; give one or the other")
        # the grammar, before any data is read: a shared spec file must not get a formula to patsy
        # that the grammar refuses (patsy evaluates formulas as Python)
        if self.formula is not None:
            grammar.check_formula(self.formula, what=f"{at}formula")
        for option, terms in (("--features", self.features), ("--controls", self.controls)):
            for term in terms or ():
                grammar.check_terms(term, what=f"{at}{option} term")
        return self


@dataclass(frozen=True)
class RunSpec:
    """The frame to build and the models to fit on it, plus publication-table settings."""

    unit: str = "user_video"
    window: timedelta = DEFAULT_WINDOW
    models: tuple[ModelSpec, ...] = (ModelSpec(),)
    stars: tuple[float, ...] = DEFAULT_STARS
    labels: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    assignments: str | None = None
    experiment: str | None = None

    def check(self) -> RunSpec:
        """Return self after checking the unit, the star thresholds and every model."""
        where = self.source or ""
        _one_of(self.unit, UNITS, f"{where + ': ' if where else ''}--unit")
        if not self.models:
            raise OptionError(f"{where or 'spec'}: no models to fit")
        if list(self.stars) != sorted(self.stars, reverse=True) or not all(0 < s < 1 for s in self.stars):
            raise OptionError(f"{where}: stars {list(self.stars)}: expected decreasing p-value thresholds in (0, 1)")
        for i, model in enumerate(self.models, 1):
            model.check(f"{where} [[model]] {i}" if where else "")
        return self


def from_options(
    *,
    unit: str,
    window: str,
    models: list[str],
    outcome: str,
    features: list[str] | None,
    controls: list[str] | None,
    formula: str | None,
    cluster: str | None,
    robust: str | None,
    by: str | None,
    spec_file: str | Path | None,
    assignments: str | Path | None = None,
    experiment: str | None = None,
) -> RunSpec:
    """The run described by the command-line options (and the spec file, whose values win).

    ``features``/``controls`` are option values, each a comma-separated list of terms (commas inside
    parentheses do not split); ``none`` or an empty value means no terms.
    """
    base = [ModelSpec(model=m, outcome=outcome, features=_terms(features), controls=_terms(controls),
                      formula=formula, cluster=cluster, robust=robust, by=by) for m in models or ["logit"]]
    run = RunSpec(unit=unit, window=parse_window(window), models=tuple(base),
                  assignments=str(assignments) if assignments is not None else None, experiment=experiment)
    if spec_file is None:
        return run.check()
    if len(base) > 1:
        raise OptionError("--spec defines the models; give --model at most once with it (as a default)")
    return load_spec(spec_file, run)


def _terms(values: list[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    terms = [t for v in values for t in split_top_level(v, ",")]
    return tuple(t for t in terms if t.lower() != "none")


_MODEL_KEYS = {f.name for f in fields(ModelSpec)}
_TOP_KEYS = {"unit", "window", "stars", "defaults", "labels", "model", "assignments", "experiment"}


def load_spec(path: str | Path, base: RunSpec) -> RunSpec:
    """Read a TOML spec file; its values override ``base`` (built from the command-line options).

    Precedence for a model setting: its ``[[model]]`` table, then ``[defaults]``, then the command
    line (``base.models[0]``).
    """
    name = str(path)
    doc = _read_toml(path)
    _known_keys(doc, _TOP_KEYS, name, "top level")
    defaults = _model_table(doc.get("defaults", {}), name, "[defaults]")
    entries = doc.get("model", [])
    if not isinstance(entries, list) or not entries:
        raise OptionError(f"{name}: expected one or more [[model]] tables")
    shared = _layer(base.models[0], defaults)
    models = tuple(_layer(shared, _model_table(entry, name, f"[[model]] {i}")) for i, entry in enumerate(entries, 1))
    labels, stars = _labels_and_stars(doc, base, name)
    window = parse_window(doc["window"]) if "window" in doc else base.window
    for key in ("unit", "assignments", "experiment"):
        if key in doc and not isinstance(doc[key], str):
            raise OptionError(f"{name}: {key} must be text, got {doc[key]!r}")
    return RunSpec(unit=doc.get("unit", base.unit), window=window, models=models,
                   stars=stars, labels={**base.labels, **labels}, source=name,
                   assignments=doc.get("assignments", base.assignments),
                   experiment=doc.get("experiment", base.experiment)).check()


def _read_toml(path: str | Path) -> dict[str, Any]:
    name = str(path)
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{name}: spec file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: cannot read spec file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{name}: not valid TOML: {exc}") from None


def _labels_and_stars(doc: dict[str, Any], base: RunSpec, name: str) -> tuple[dict[str, str], tuple[float, ...]]:
    """The spec's ``[labels]`` (term → text) and ``stars`` thresholds (else the command line's)."""
    labels = doc.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise OptionError(f"{name}: [labels] must map term names to text")
    stars = doc.get("stars", list(base.stars))
    if not isinstance(stars, list) or not all(isinstance(s, (int, float)) for s in stars):
        raise OptionError(f"{name}: stars must be a list of p-value thresholds such as [0.10, 0.05, 0.01]")
    return labels, tuple(float(s) for s in stars)


def _layer(below: ModelSpec, settings: dict[str, Any]) -> ModelSpec:
    """``below`` overridden by ``settings``; a formula replaces inherited features/controls and vice versa."""
    if "formula" in settings:
        below = replace(below, features=None, controls=None)
    elif "features" in settings or "controls" in settings:
        below = replace(below, formula=None)
    return replace(below, **settings)


def _model_table(table: Any, name: str, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise OptionError(f"{name}: {where} must be a table of model settings")
    _known_keys(table, _MODEL_KEYS, name, where)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("features", "controls"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise OptionError(f"{name}: {where}: {key} must be a list of terms such as [\"liked\", \"shares\"]")
            values[key] = tuple(value)
        elif not isinstance(value, str):
            raise OptionError(f"{name}: {where}: {key} must be text, got {value!r}")
        else:
            values[key] = value
    return values


def _known_keys(table: dict[str, Any], allowed: set[str], name: str, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise OptionError(f"{name}: unknown key {unknown[0]!r} in {where}; "
                          f"expected one of {', '.join(sorted(allowed))}")


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise OptionError(f"{what} {value!r}: expected one of {'|'.join(allowed)}")
