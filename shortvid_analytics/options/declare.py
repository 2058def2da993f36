"""How an option is declared: a field of a frozen options dataclass, with what the CLI and the report need.

::

    @dataclass(frozen=True)
    class FunnelOptions(Options):
        window: timedelta = option("24h", parse=parse_funnel_window,
                                   help="Conversion window from the step-1 event: 30m, 24h, 7d, ...")

The field's default is written as the user would type it; constructing the dataclass (from the CLI, from a
report section or from Python) runs every field's ``parse``, so an instance holds typed, checked values
(``timedelta(hours=24)``) whichever door the values came in by, and ``parse`` must accept its own output
(``dataclasses.replace`` parses again). An error of a parser that names an option is re-named after the
field; the CLI shows the field as its flag and the report as its spec key (:class:`..errors.OptionError`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError


class _Required:
    """The default of an option without one (``--steps``): constructing the dataclass without it fails."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class OptionSpec:
    """What the CLI and the report spec need to offer one field.

    ``kind`` is the value as typed: ``str``, ``int``, ``float``, ``bool``, ``datetime`` (read with
    ``formats``), ``strs`` (repeatable: ``--by a
    --by b``; a list in the spec) or ``list`` (one comma-separated string on the command line, a list or a
    comma-separated string in the spec). ``flag`` defaults to the field name as ``--by-limit``, ``key`` (the
    spec key) to the field name. ``cli`` / ``report``
    say where the option is offered; ``report_default`` is the spec's default when it differs from the CLI's
    (a report is a shareable output). ``minimum`` bounds a number in the spec before ``parse`` sees it.
    """

    help: str
    kind: str = "str"
    parse: Callable[[Any], Any] | None = None
    flag: str | None = None
    key: str | None = None
    short: str | None = None
    metavar: str | None = None
    formats: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    show_default: bool = True
    cli: bool = True
    report: bool = True
    report_help: str | None = None
    report_default: Any = REQUIRED
    minimum: float | None = None


def option(default: Any = REQUIRED, **spec: Any) -> Any:
    """A field of an options dataclass: ``default`` as the user types it (``REQUIRED``: none), ``spec`` the
    :class:`OptionSpec` keywords."""
    return dataclasses.field(default=default, metadata={"option": OptionSpec(**spec)})


def declared(options_class: type) -> list[tuple[dataclasses.Field[Any], OptionSpec]]:
    """The fields of ``options_class`` that are options, in declaration order (the order of ``--help``)."""
    return [(f, f.metadata["option"]) for f in dataclasses.fields(options_class) if "option" in f.metadata]


def flag_of(name: str, spec: OptionSpec) -> str:
    """The field's CLI flag: ``--by-limit`` for ``by_limit`` unless declared otherwise."""
    return spec.flag or "--" + name.replace("_", "-")


def key_of(name: str, spec: OptionSpec) -> str:
    """The field's report spec key: the field name unless declared otherwise (``return_event`` is ``return``)."""
    return spec.key or name


class Options:
    """Base of the options dataclasses: construction parses and checks every field, then :meth:`check`."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is REQUIRED:
                raise OptionError("is required", option=f.name)
            spec = f.metadata.get("option")
            if spec is None or spec.parse is None or value is None:
                continue
            try:
                parsed = spec.parse(value)
            except OptionError as exc:
                raise (exc.named(f.name) if exc.option is not None else exc) from None
            object.__setattr__(self, f.name, parsed)
        self.check()

    def check(self) -> None:
        """Rules across fields (an exclusion that is also a step); raises :class:`OptionError`."""
