"""``shortvid lifecycle``."""

from __future__ import annotations

from ..lifecycle import lifecycle as compute_lifecycle
from ..render.lifecycle import lifecycle_chart, lifecycle_table
from . import app
from .common import active_users_command

app.command("lifecycle", help=(
    "New, returning, resurrecting and dormant (negative) users per period.\n\n"
    "History before --from is read (a user active before the range is never new); nothing after --to."
))(active_users_command(compute_lifecycle, lifecycle_table, lifecycle_chart))
