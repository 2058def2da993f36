"""The report spec (TOML): title, authors, abstract and an ordered list of sections.

The whole spec is checked before any analysis runs. Every problem is one line naming the section
(its 1-based index, type and title) and the key, e.g.::

    spec study.toml: section 3 (funnel "Where buyers drop off"): key 'window': window '24x': expected ...

Section parameters mirror the options of the corresponding CLI command (``window`` is ``--window``,
``by_limit`` is ``--by-limit``): :func:`params_of` derives them from the analysis' options dataclass
(``options/``); see ``docs/report.md`` for every key.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from ..errors import OptionError, ShortvidError
from ..eventspec import split_top_level
from ..options import MAX_COUNT
from ..options.declare import REQUIRED, declared, flag_of, key_of
from ..privacy import identifier_key, refusal

#: Keys every section accepts besides its own parameters.
COMMON_SECTION_KEYS = ("type", "title", "intro", "from", "to")
TOP_LEVEL_KEYS = ("title", "subtitle", "authors", "abstract", "lang", "from", "to", "sections")


@dataclass(frozen=True)
class Param:
    """One section parameter.

    ``kind`` is the TOML type expected: ``str``, ``int``, ``float``, ``bool``, ``list`` (a list of
    strings, or one string with comma-separated items) or ``strs`` (a list of strings, or one string
    taken as a one-item list: for repeatable CLI options). ``choices`` restricts a ``str``; ``check``
    parses the value with the same parser the CLI uses and raises :class:`OptionError` when it is bad.
    ``cli`` is the CLI option it mirrors (``None`` for report-only keys such as ``top_rows``).
    """

    name: str
    kind: str
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    minimum: float | None = None
    check: Callable[[Any], Any] | None = None
    cli: str | None = "auto"

    @property
    def option(self) -> str | None:
        """The CLI option this key mirrors, e.g. ``--by-limit``; ``None`` for report-only keys."""
        if self.cli == "auto":
            return "--" + self.name.replace("_", "-")
        return self.cli


def params_of(options_class: type, skip: tuple[str, ...] = ()) -> tuple[Param, ...]:
    """The section parameters of an options dataclass: its fields offered in the report (``report=True``),
    less ``skip``, each checked by the field's own parser."""
    params = []
    for f, spec in declared(options_class):
        if not spec.report or f.name in skip:
            continue
        default = f.default if spec.report_default is REQUIRED else spec.report_default
        params.append(Param(key_of(f.name, spec), spec.kind, None if default is REQUIRED else default,
                            spec.report_help or spec.help, choices=spec.choices, required=default is REQUIRED,
                            minimum=spec.minimum, check=spec.parse, cli=flag_of(f.name, spec) if spec.cli else None))
    return tuple(params)


def options_from(options_class: type, values: Mapping[str, Any], **fixed: Any) -> Any:
    """The options dataclass from a section's parameters (spec keys) and ``fixed`` fields (the report's
    ``min_group_size``); a value left unset (``None``) keeps the field's default."""
    by_key = {key_of(f.name, spec): f.name for f, spec in declared(options_class)}
    given = {by_key[key]: value for key, value in values.items() if key in by_key and value is not None}
    return options_class(**given, **fixed)


@dataclass
class Section:
    """One validated section: its position, type, title, common keys and parameters."""

    index: int
    type: str
    title: str
    params: dict[str, Any]
    intro: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def label(self) -> str:
        """How errors name the section: ``section 3 (funnel "Purchase funnel")``."""
        return f'section {self.index} ({self.type} "{self.title}")'


@dataclass
class ReportSpec:
    """A validated report spec."""

    path: str
    sha256: str
    title: str
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    lang: str = "en"
    date_from: date | None = None
    date_to: date | None = None
    sections: list[Section] = field(default_factory=list)
    base_dir: Path = Path(".")


class SectionSchema(Protocol):
    """What validation needs to know of a section type: its parameters and a whole-section check."""

    @property
    def params(self) -> tuple[Param, ...]: ...

    @property
    def check(self) -> Callable[[dict[str, Any]], None] | None:
        """Called with the section's parameters after each key passed; raises :class:`ShortvidError` when
        the combination is invalid (the library's own option builder, so no rule is written twice)."""


class SpecError(OptionError):
    """A problem in the report spec (exit 2), raised before any analysis runs."""


def load_spec(path: str | Path, schemas: Mapping[str, SectionSchema]) -> ReportSpec:
    """Read and validate the spec at ``path``; ``schemas`` maps each section type to its schema."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"spec {p}: file not found") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"spec {p}: not valid TOML ({exc})") from None
    return parse_spec(raw, schemas, name=str(p), sha256=hashlib.sha256(data).hexdigest(),
                      base_dir=p.resolve().parent)


def parse_spec(raw: dict[str, Any], schemas: Mapping[str, SectionSchema], name: str = "spec",
               sha256: str = "", base_dir: Path = Path(".")) -> ReportSpec:
    """Validate parsed TOML; see :func:`load_spec`."""
    where = f"spec {name}"
    _reject_unknown(raw, TOP_LEVEL_KEYS, where)
    title = _typed(raw, "title", "str", where, required=True)
    authors = raw.get("authors", [])
    if isinstance(authors, str):
        authors = [authors]
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        raise SpecError(f"{where}: key 'authors': expected a list of strings")
    sections_raw = raw.get("sections")
    if not isinstance(sections_raw, list) or not sections_raw:
        raise SpecError(f"{where}: key 'sections': expected at least one [[sections]] table")
    spec = ReportSpec(
        path=name, sha256=sha256, title=title, base_dir=base_dir,
        subtitle=_typed(raw, "subtitle", "str", where, default=""),
        authors=authors,
        abstract=_typed(raw, "abstract", "str", where, default=""),
        lang=_typed(raw, "lang", "str", where, default="en"),
        date_from=_date(raw, "from", where),
        date_to=_date(raw, "to", where),
    )
    for index, item in enumerate(sections_raw, start=1):
        spec.sections.append(_section(index, item, schemas, where))
    return spec


def _section(index: int, item: Any, schemas: Mapping[str, SectionSchema], where: str) -> Section:
    if not isinstance(item, dict):
        raise SpecError(f"{where}: section {index}: expected a table ([[sections]])")
    kind = item.get("type")
    title = item.get("title")
    label = f'section {index} ({kind} "{title}")' if isinstance(title, str) else f"section {index} ({kind})"
    if not isinstance(kind, str) or kind not in schemas:
        raise SpecError(
            f"{where}: {label}: key 'type': {kind!r} is not a section type; expected one of "
            f"{', '.join(schemas)}"
        )
    schema = schemas[kind]
    params = {p.name: p for p in schema.params}
    _reject_unknown(item, tuple(COMMON_SECTION_KEYS) + tuple(params), f"{where}: {label}")
    if not isinstance(title, str) or not title.strip():
        raise SpecError(f"{where}: {label}: key 'title': expected a non-empty string")
    values: dict[str, Any] = {}
    for param in params.values():
        values[param.name] = _param_value(item, param, f"{where}: {label}")
    if schema.check is not None:
        try:
            schema.check(values)
        except OptionError as exc:
            raise SpecError(f"{where}: {label}: {_keyed(exc)}") from None
        except ShortvidError as exc:
            raise SpecError(f"{where}: {label}: {exc}") from None
    by = values.get("by")
    identifier = identifier_key(by if isinstance(by, list) else [by])
    if identifier is not None:
        raise SpecError(f"{where}: {label}: key 'by': {refusal(identifier)}")
    return Section(
        index=index, type=kind, title=title, params=values,
        intro=_typed(item, "intro", "str", f"{where}: {label}", default=""),
        date_from=_date(item, "from", f"{where}: {label}"),
        date_to=_date(item, "to", f"{where}: {label}"),
    )


def _keyed(exc: OptionError) -> str:
    """A whole-section error naming its option: ``key 'exclude': exclude purchase: it is also a step``."""
    return f"key {exc.option!r}: {exc}" if exc.option else str(exc)


def _param_value(item: dict[str, Any], param: Param, where: str) -> Any:
    if param.name not in item:
        if param.required:
            raise SpecError(f"{where}: key {param.name!r} is required ({param.help})")
        return param.default
    value = _typed(item, param.name, param.kind, where)
    if param.choices and value not in param.choices:
        raise SpecError(f"{where}: key {param.name!r}: {value!r}; expected one of {', '.join(param.choices)}")
    if param.minimum is not None and value < param.minimum:
        raise SpecError(f"{where}: key {param.name!r}: {value!r}; expected at least {param.minimum:g}")
    if param.check is not None:
        try:
            param.check(value)
        except OptionError as exc:
            shown = exc.shown_as(param.name if exc.option else None)
            raise SpecError(f"{where}: key {param.name!r}: {shown}") from None
        except ShortvidError as exc:
            raise SpecError(f"{where}: key {param.name!r}: {exc}") from None
    return value


_KIND_NAMES = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
               "list": "a list of strings or a comma-separated string",
               "strs": "a string or a list of strings"}


def _typed(table: dict[str, Any], key: str, kind: str, where: str, required: bool = False,
           default: Any = None) -> Any:
    """``table[key]`` checked against ``kind``; lists come back as lists of stripped strings."""
    if key not in table:
        if required:
            raise SpecError(f"{where}: key {key!r} is required")
        return default
    value = table[key]
    if not _is_kind(value, kind):
        raise SpecError(f"{where}: key {key!r}: {value!r} is {type(value).__name__}; expected {_KIND_NAMES[kind]}")
    if kind == "int" and not -MAX_COUNT <= value <= MAX_COUNT:
        raise SpecError(f"{where}: key {key!r}: {value}; expected an integer of at most {MAX_COUNT} (int64)")
    if kind == "float":
        return float(value)
    if kind == "list":
        return _list_items(value, f"{where}: key {key!r}")
    if kind == "strs":
        return [value] if isinstance(value, str) else list(value)
    return value


def _is_kind(value: Any, kind: str) -> bool:
    """Whether a TOML ``value`` is of ``kind`` (TOML's booleans are no numbers)."""
    return {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)),
        "strs": isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)),
    }[kind]


def _list_items(value: str | list[str], where: str) -> list[str]:
    """The stripped items of a comma-separated string or a list; commas inside brackets belong to a
    selector such as purchase[platform in (a, b)]."""
    try:
        items = split_top_level(value, ",") if isinstance(value, str) else [v.strip() for v in value]
    except ShortvidError as exc:
        raise SpecError(f"{where}: {exc}") from None
    if not items or not all(items):
        raise SpecError(f"{where}: {value!r} has an empty item")
    return items


def _date(table: dict[str, Any], key: str, where: str) -> date | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise SpecError(f"{where}: key {key!r}: {value!r}; expected a date such as 2026-11-01")


def _reject_unknown(table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = [k for k in table if k not in known]
    if unknown:
        raise SpecError(f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(known)}")
