"""``shortvid stickiness``."""

from __future__ import annotations

from ..render.stickiness import stickiness_chart, stickiness_table
from ..stickiness import stickiness as compute_stickiness
from . import app
from .common import active_users_command

app.command("stickiness", help=(
    "Users by number of active days per week or month, and DAU/MAU stickiness per month."
))(active_users_command(compute_stickiness, stickiness_table, stickiness_chart))
