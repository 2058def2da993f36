"""``shortvid stickiness``."""

from __future__ import annotations

from typing import Any

from ..options.active_users import StickinessOptions
from . import app
from .common import active_users_command


def _analysis() -> tuple[Any, Any, Any]:
    from .. import stickiness as stickiness_lib
    from ..render.stickiness import stickiness_chart, stickiness_table

    return stickiness_lib.run, stickiness_table, stickiness_chart


app.command("stickiness", help=(
    "Users by number of active days per week or month, and DAU/MAU stickiness per month."
))(active_users_command(StickinessOptions, _analysis))
