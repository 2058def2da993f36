"""``shortvid lifecycle``."""

from __future__ import annotations

from typing import Any

from ..options.active_users import LifecycleOptions
from . import app
from .common import active_users_command


def _analysis() -> tuple[Any, Any, Any]:
    from .. import lifecycle as lifecycle_lib
    from ..render.lifecycle import lifecycle_chart, lifecycle_table

    return lifecycle_lib.run, lifecycle_table, lifecycle_chart


app.command("lifecycle", help=(
    "New, returning, resurrecting and dormant (negative) users per period.\n\n"
    "History before --from is read (a user active before the range is never new); nothing after --to."
))(active_users_command(LifecycleOptions, _analysis))
