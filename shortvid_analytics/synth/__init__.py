"""``generate``: a realistic synthetic short-video e-commerce export with planted ground truth.

The exact model, every planted number and the file layout are documented in ``docs/generate.md``;
``truth.json`` records them for each run. The parts:

- :mod:`.parameters`: the planted model's numbers;
- :mod:`.world`: creators, videos and products, shared by all users;
- :mod:`.behaviour`: the event process of a chunk of users, stage by stage (:mod:`.users`,
  :mod:`.views`, :mod:`.purchases`, :mod:`.timing`);
- :mod:`.writer`: the Parquet files; :mod:`.truth`: ``truth.json``;
- :mod:`.generator`: one run, from the arguments to the files in place.

Experiment ``checkout_v2``: users are assigned at their first event on/after the experiment's start
day; treatment adds ``treated`` to the purchase logit. The expected lifts are computed from the
per-view purchase probabilities of both arms over the realised views.
"""

from __future__ import annotations

from .generator import GenerationSummary, check_users, generate
from .parameters import MAX_DAYS, MAX_USERS, MODEL_VERSION
from .world import variant_of

__all__ = ["MAX_DAYS", "MAX_USERS", "MODEL_VERSION", "GenerationSummary", "check_users", "generate", "variant_of"]
