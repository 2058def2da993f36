"""The ``ab`` package under the import path external code may use (``shortvid_analytics.abtest``, and its
submodules such as ``shortvid_analytics.abtest.stats``): the same module objects, not copies."""

from __future__ import annotations

import sys

from . import ab as _package
from .ab import *  # noqa: F403 (the package's public names, as before)
from .ab import analysis, metrics, result, sizing, stats

__all__ = _package.__all__

for _module in (analysis, metrics, result, sizing, stats):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}"] = _module
