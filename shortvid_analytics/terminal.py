"""The user's terminal: whether colour is allowed, and the console for diagnostics and progress on stderr.

Light on purpose (rich only): :mod:`.progress` draws its spinner here without importing the drawing
layer, and :mod:`.render.console` builds its result consoles on the same colour rule.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console


def colour_allowed(stream: object) -> bool:
    """Colour only on a TTY and when NO_COLOR is unset."""
    return not os.environ.get("NO_COLOR") and bool(getattr(stream, "isatty", lambda: False)())


def stderr_console() -> Console:
    """Console for errors, warnings and progress on stderr."""
    # soft_wrap: an error stays one line however long, so scripts can grep it.
    return Console(file=sys.stderr, no_color=not colour_allowed(sys.stderr), highlight=False, soft_wrap=True)
