"""The formula grammar: what a regression formula may contain, checked before patsy sees it.

Patsy evaluates every factor of a formula as Python (``I(__import__('os').system(...))`` runs the
command), and formulas arrive from spec files that researchers share, so a formula is never handed
to patsy as the user wrote it. It is tokenized and parsed here by a small recursive-descent parser
into an allow-listed tree, and what patsy receives is the canonical text rebuilt from that tree:

- column names (checked against the frame's columns where they are known);
- ``C(col)``, ``C(col, Treatment('level'))`` / ``Treatment(reference='level')`` / a numeric level;
- the formula operators ``~ + - : * /``, parentheses, and the intercept constants ``0`` and ``1``;
- the transforms ``np.log``, ``np.log1p``, ``np.sqrt``, ``scale``, ``standardize`` (its patsy
  alias), ``center``, and ``I(...)``, whose arguments are arithmetic (``+ - * / **``, unary minus,
  parentheses) on columns, numbers and these transforms; an exponent is a number of at most
  ``MAX_EXPONENT`` in absolute value (``I(9 ** 9 ** 9)`` would make Python compute a huge integer).

Anything else -- other names called, attribute access, subscripts, strings outside a reference
level, keywords such as ``lambda``, names with ``__`` -- is an :class:`OptionError` naming the
token. Length and nesting depth are bounded. Nothing here compiles or evaluates the text.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NoReturn

from ..errors import OptionError

MAX_LENGTH = 5000
MAX_DEPTH = 20
MAX_EXPONENT = 100
#: Callable transforms of a numeric argument (``I`` and ``C`` are handled separately).
TRANSFORMS: tuple[str, ...] = ("np.log", "np.log1p", "np.sqrt", "scale", "standardize", "center")
#: Names a formula uses that are not columns.
RESERVED = frozenset({"np", "C", "I", "Treatment", "scale", "standardize", "center"})

_ALLOWED = "column names, numbers, + - * / : ~ ( ), C(col[, Treatment('level')]), I(...), " + \
    ", ".join(f"{t}()" for t in TRANSFORMS)
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>'[^'\\\n]*'|"[^"\\\n]*")
  | (?P<op>\*\*|[~+\-*/:(),.=])
""", re.VERBOSE)


@dataclass(frozen=True)
class Checked:
    """A formula (or right-hand-side fragment) that passed the grammar."""

    text: str
    columns: frozenset[str]


def check_formula(text: str, columns: Iterable[str] | None = None, what: str = "formula") -> Checked:
    """``outcome ~ terms``, canonical; raise :class:`OptionError` naming the first disallowed token.

    With ``columns``, every column the formula reads must be one of them. ``what`` starts the message.
    """
    return _Parser(text, what).formula(columns)


def check_terms(text: str, columns: Iterable[str] | None = None, what: str = "term") -> Checked:
    """A right-hand-side fragment such as one ``--features`` term (``C(platform)``, ``a:b``), canonical."""
    return _Parser(text, what).terms(columns)


# ------------------------------------------------------------------------------------------ tokens
@dataclass(frozen=True)
class _Tok:
    kind: str  # number | name | string | op | end
    text: str
    pos: int


def _shown(text: str) -> str:
    return repr(text if len(text) <= 120 else text[:117] + "...")


def _tokenize(text: str, fail: Callable[[str], NoReturn]) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            why = {"[": "subscripts are not allowed", "'": "unterminated or unsupported string",
                   '"': "unterminated or unsupported string", "\\": "backslashes are not allowed",
                   "#": "comments are not allowed", ";": "one expression only"}.get(ch, "not part of the grammar")
            fail(f"{ch!r} at position {pos + 1}: {why}")
        kind = m.lastgroup or ""
        if kind != "space":
            tokens.append(_Tok(kind, m.group(), pos))
        pos = m.end()
        if kind == "number" and pos < len(text) and (text[pos].isalnum() or text[pos] == "_"):
            fail(f"{m.group() + text[pos]!r} at position {m.start() + 1}: not a decimal number")
    tokens.append(_Tok("end", "", len(text)))
    return tokens


# ------------------------------------------------------------------------------------------ parser
class _Parser:
    """Recursive descent over the tokens; every method returns the canonical text of what it read."""

    def __init__(self, text: str, what: str) -> None:
        self.source = text
        self.what = what
        if not isinstance(text, str):
            raise OptionError(f"{what} {text!r}: expected text")
        if len(text) > MAX_LENGTH:
            self.fail(f"{len(text):,} characters; at most {MAX_LENGTH:,} are allowed")
        self.tokens = _tokenize(text, self.fail)
        self.i = 0
        self.depth = 0
        self.columns: set[str] = set()

    # -- plumbing
    def fail(self, problem: str) -> NoReturn:
        raise OptionError(f"{self.what} {_shown(self.source)}: {problem}")

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> _Tok:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def take(self) -> _Tok:
        tok = self.tok
        self.i += 1
        return tok

    def at(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def expect(self, op: str, context: str) -> None:
        if not self.at(op):
            self.unexpected(f"expected {op!r} {context}")
        self.take()

    def unexpected(self, expected: str) -> NoReturn:
        tok = self.tok
        if tok.kind == "end":
            self.fail(f"unexpected end; {expected}")
        self.fail(f"unexpected {tok.text!r} at position {tok.pos + 1}; {expected}")

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nested more than {MAX_DEPTH} levels deep")

    def done(self, columns: Iterable[str] | None, text: str) -> Checked:
        if self.tok.kind != "end":
            self.unexpected("expected an operator (+ - * / : ~) or the end")
        if columns is not None:
            known = set(columns)
            unknown = sorted(self.columns - known)
            if unknown:
                self.fail(f"{unknown[0]!r} is not a column; columns: {', '.join(sorted(known))}")
        return Checked(text, frozenset(self.columns))

    # -- formula level
    def formula(self, columns: Iterable[str] | None) -> Checked:
        if not any(t.kind == "op" and t.text == "~" for t in self.tokens):
            self.fail("expected 'outcome ~ terms'")
        lhs = self.factor()
        self.expect("~", "after the outcome (one outcome expression left of '~')")
        return self.done(columns, f"{lhs} ~ {self.sum()}")

    def terms(self, columns: Iterable[str] | None) -> Checked:
        if self.tok.kind == "end":
            self.fail("empty term")
        return self.done(columns, self.sum())

    def chain(self, operand: Callable[[], str], *ops: str) -> str:
        """``operand (op operand)*``, left-associative, as canonical text: one precedence level of a grammar."""
        text = operand()
        while self.at(*ops):
            op = self.take().text
            text += f" {op} {operand()}"
        return text

    def sum(self) -> str:
        prefix = self.take().text if self.at("-", "+") else ""  # patsy's unary minus/plus: "-1 + x"
        return prefix + self.chain(self.product, "+", "-")

    def product(self) -> str:
        return self.chain(self.interaction, "*", "/")

    def interaction(self) -> str:
        text = self.term_atom()
        while self.at(":"):
            self.take()
            text += ":" + self.term_atom()
        if self.at("**"):
            self.fail(f"'**' at position {self.tok.pos + 1} outside I(): write powers of a column as I(x ** 2)")
        return text

    def term_atom(self) -> str:
        if self.at("("):
            self.take()
            self.nest()
            inner = self.sum()
            self.expect(")", "to close '('")
            self.depth -= 1
            return f"({inner})"
        if self.tok.kind == "number":
            tok = self.take()
            if tok.text not in ("0", "1"):
                self.fail(f"number {tok.text!r} at position {tok.pos + 1}: only 0 and 1 (the intercept) "
                          f"stand alone; arithmetic goes inside I(...)")
            return tok.text
        return self.factor()

    # -- factors: one column or one allowed call
    def dotted(self) -> tuple[str, _Tok]:
        """A name, or ``np.<name>``; attribute access on anything else is refused."""
        first = self.take()
        name = first.text
        while self.at("."):
            self.take()
            if self.tok.kind != "name":
                self.unexpected("expected a name after '.'")
            name += "." + self.take().text
        if "." in name and name not in TRANSFORMS:
            self.fail(f"{name!r} at position {first.pos + 1}: "
                      + ("not an allowed transform" if name.startswith("np.") and name.count(".") == 1
                         else "attribute access is not allowed") + f"; the transforms are {', '.join(TRANSFORMS)}")
        return name, first

    def check_name(self, name: str, tok: _Tok) -> None:
        if "__" in name:
            self.fail(f"{name!r} at position {tok.pos + 1}: names with '__' are not allowed")
        if keyword.iskeyword(name):
            self.fail(f"{name!r} at position {tok.pos + 1}: Python keywords are not allowed")

    def factor(self) -> str:
        tok = self.tok
        if tok.kind == "string":
            self.fail(f"string {tok.text} at position {tok.pos + 1}: strings are allowed only as the reference "
                      f"level in C(col, Treatment('level'))")
        if tok.kind != "name":
            self.unexpected(f"expected a column or one of {_ALLOWED}")
        self.check_name(tok.text, tok)
        name, first = self.dotted()
        if not self.at("("):
            return self.column(name, first)
        if name == "C":
            return self.categorical()
        if name == "I":
            return self.call("I")
        if name in TRANSFORMS:
            return self.call(name)
        self.fail(f"{name!r} at position {first.pos + 1} is not an allowed function; allowed: C(), I(), "
                  + ", ".join(f"{t}()" for t in TRANSFORMS))

    def column(self, name: str, tok: _Tok) -> str:
        self.check_name(name, tok)
        if name in RESERVED or "." in name:
            self.fail(f"{name!r} at position {tok.pos + 1} is not a column (call it: {name}(...))"
                      if name in RESERVED and name != "np" else
                      f"{name!r} at position {tok.pos + 1} is not a column")
        self.columns.add(name)
        return name

    def call(self, name: str) -> str:
        self.take()  # (
        self.nest()
        if self.at(")"):
            self.fail(f"{name}() at position {self.tok.pos}: expected an argument")
        inner = self.arith()
        self.expect(")", f"to close {name}( (one argument)")
        self.depth -= 1
        return f"{name}({inner})"

    def categorical(self) -> str:
        self.take()  # (
        self.nest()
        if self.tok.kind != "name":
            self.unexpected("expected a column: C(col) or C(col, Treatment('level'))")
        tok = self.tok
        self.check_name(tok.text, tok)
        name, first = self.dotted()
        text = "C(" + self.column(name, first)
        if self.at(","):
            self.take()
            text += ", " + self.reference()
        self.expect(")", "to close C( (C(col) or C(col, Treatment('level')))")
        self.depth -= 1
        return text + ")"

    def reference(self) -> str:
        tok = self.tok
        if not (tok.kind == "name" and tok.text == "Treatment" and self.peek().text == "("):
            self.fail(f"{tok.text or 'end'!r} at position {tok.pos + 1}: the second argument of C() is "
                      f"Treatment('level') (the reference level)")
        self.take()
        self.take()  # (
        if self.tok.kind == "name" and self.tok.text == "reference" and self.peek().text == "=":
            self.take()
            self.take()
        level = self.tok
        if level.kind == "number":
            self.take()
            value = level.text
        elif level.kind == "op" and level.text == "-" and self.peek().kind == "number":
            self.take()
            value = "-" + self.take().text
        elif level.kind == "string":
            if "'" in level.text[1:-1] or '"' in level.text[1:-1]:
                self.fail(f"reference level {level.text} at position {level.pos + 1}: quotes inside a level "
                          f"are not supported")
            self.take()
            # no quotes or backslashes inside (the tokenizer admits no backslash): quoting it again is exact
            value = "'" + level.text[1:-1] + "'"
        else:
            self.unexpected("expected the reference level: Treatment('level') or Treatment(reference='level')")
        self.expect(")", "to close Treatment(")
        return f"Treatment({value})"

    # -- arithmetic inside I() and the transforms (Python precedence: ** above unary minus above * /)
    def arith(self) -> str:
        return self.chain(self.arith_term, "+", "-")

    def arith_term(self) -> str:
        return self.chain(self.arith_unary, "*", "/")

    def arith_unary(self) -> str:
        if self.at("-", "+"):
            op = self.take().text
            self.nest()
            text = op + self.arith_unary()
            self.depth -= 1
            return text
        return self.arith_power()

    def arith_power(self) -> str:
        base = self.arith_atom()
        if not self.at("**"):
            return base
        self.take()
        sign = self.take().text if self.at("-", "+") else ""
        tok = self.tok
        if tok.kind != "number":
            self.unexpected(f"expected a number as the exponent (at most {MAX_EXPONENT} in absolute value)")
        self.take()
        if float(tok.text) > MAX_EXPONENT:
            self.fail(f"exponent {sign}{tok.text} at position {tok.pos + 1}: at most {MAX_EXPONENT} in absolute value")
        if self.at("**"):
            self.fail(f"'**' at position {self.tok.pos + 1}: one power at a time (a number exponent)")
        return f"{base} ** {sign}{tok.text}"

    def arith_atom(self) -> str:
        tok = self.tok
        if tok.kind == "number":
            return self.take().text
        if self.at("("):
            self.take()
            self.nest()
            inner = self.arith()
            self.expect(")", "to close '('")
            self.depth -= 1
            return f"({inner})"
        if tok.kind == "name":
            self.check_name(tok.text, tok)
            name, first = self.dotted()
            if self.at("("):
                if name in TRANSFORMS:
                    return self.call(name)
                what = "C() and I() do not nest inside I() or a transform" if name in ("C", "I") else \
                    "allowed inside I(): " + ", ".join(f"{t}()" for t in TRANSFORMS)
                self.fail(f"{name!r} at position {first.pos + 1} is not an allowed function here; {what}")
            return self.column(name, first)
        if tok.kind == "string":
            self.fail(f"string {tok.text} at position {tok.pos + 1}: strings are allowed only as the reference "
                      f"level in C(col, Treatment('level'))")
        self.unexpected("expected a column, a number, '(' or a transform")
