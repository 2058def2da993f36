"""Model formulas (patsy/Wilkinson notation): composing, parsing and rewriting them term by term.

Formulas are what statsmodels' formula API fits and what the JSON reports, so every rewrite (dropping
a degenerate term, removing the ``--by`` variable from per-level models, interacting the pooled
model with it) goes through patsy's own term list rather than through text surgery. Patsy only
parses here (``ModelDesc``); what may be in a formula at all is :mod:`.grammar`'s business.
"""

from __future__ import annotations

from collections.abc import Iterable

from patsy import ModelDesc, PatsyError
from patsy.desc import Term

from ..errors import OptionError, first_line
from . import grammar


def compose(outcome: str, terms: Iterable[str]) -> str:
    """``outcome ~ t1 + t2 + ...`` (an intercept-only model when ``terms`` is empty)."""
    rhs = " + ".join(terms) or "1"
    return f"{outcome} ~ {rhs}"


def parse(formula: str) -> ModelDesc:
    """The patsy description of ``formula``; raises :class:`OptionError` on a syntax error."""
    try:
        desc = ModelDesc.from_formula(formula)
    except PatsyError as exc:
        raise OptionError(f"formula {formula!r}: {first_line(exc)}") from None
    if len(desc.lhs_termlist) != 1:
        raise OptionError(f"formula {formula!r}: expected exactly one outcome left of '~'")
    return desc


def term_names(text: str) -> list[str]:
    """Patsy names of the terms in a right-hand-side fragment such as ``C(platform) + x:y``."""
    return [t.name() for t in parse(f"_ ~ {text}").rhs_termlist if t.factors]


def variables(term: Term) -> set[str]:
    """The columns a term reads (``C(platform, Treatment('a'))`` reads ``platform``)."""
    return set(grammar.check_terms(term.name()).columns) if term.factors else set()


def drop_terms(formula: str, names: Iterable[str]) -> str:
    """``formula`` without the right-hand-side terms called ``names`` (patsy term names)."""
    drop = set(names)
    desc = parse(formula)
    return _describe(desc, [t for t in desc.rhs_termlist if t.name() not in drop])


def without_variable(formula: str, column: str) -> str:
    """``formula`` without every term that reads ``column`` (for a model fitted within one level of it)."""
    desc = parse(formula)
    return _describe(desc, [t for t in desc.rhs_termlist if column not in variables(t)])


def interacted(formula: str, column: str) -> str:
    """The pooled model: every term except those reading ``column`` interacted with ``C(column)``.

    ``y ~ a + b + C(platform)`` becomes ``y ~ (a + b) * C(platform)``: main effects of ``a``, ``b``
    and the platform plus one ``a:C(platform)[T.level]`` column per term and non-reference level.
    """
    desc = parse(formula)
    kept = [t for t in desc.rhs_termlist if t.factors and column not in variables(t)]
    has_intercept = any(not t.factors for t in desc.rhs_termlist)
    inner = " + ".join(t.name() for t in kept) or "1"
    rhs = f"({inner}) * C({column})" + ("" if has_intercept else " - 1")
    return f"{desc.lhs_termlist[0].name()} ~ {rhs}"


def is_interaction(term_name: str) -> bool:
    """True for a design column or term that is a product of factors (``a:b``)."""
    return ":" in _strip_brackets(term_name)


def _describe(desc: ModelDesc, rhs: list[Term]) -> str:
    return ModelDesc(desc.lhs_termlist, rhs).describe()


def _strip_brackets(name: str) -> str:
    """``name`` without the text inside (), [] and quotes, where ':' can appear without meaning a product."""
    out: list[str] = []
    depth = 0
    quote = ""
    for ch in name:
        if quote:
            quote = "" if ch == quote else quote
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)
