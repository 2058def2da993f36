"""The synthetic export generator under the name external code imports; it lives in :mod:`.synth`."""

from __future__ import annotations

from .synth import MAX_DAYS, MAX_USERS, MODEL_VERSION, GenerationSummary, check_users, generate, variant_of

__all__ = ["MAX_DAYS", "MAX_USERS", "MODEL_VERSION", "GenerationSummary", "check_users", "generate", "variant_of"]
