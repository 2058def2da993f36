"""The ``regress`` package under the import path external code may use (``shortvid_analytics.regression``,
and its submodules such as ``shortvid_analytics.regression.models``): the same module objects, not copies."""

from __future__ import annotations

import sys

from . import regress as _package
from .regress import *  # noqa: F403 (the package's public names, as before)
from .regress import formulas, frame, grammar, margins, models, result, spec, tables

__all__ = _package.__all__

for _module in (formulas, frame, grammar, margins, models, result, spec, tables):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}"] = _module
