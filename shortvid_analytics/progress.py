"""Progress feedback on long queries: a spinner with DuckDB's percentage on stderr, in a terminal only.

The command line turns it on (:func:`enable`) when stderr is a terminal; library use, pipes, files and
cron stay silent. Nothing is ever written to stdout, which carries the results. A query that finishes
within :data:`DELAY_S` shows nothing, so quick commands do not flicker.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol

from .terminal import stderr_console


class TracksProgress(Protocol):
    """A connection of either engine: both tell how far the running query is."""

    def query_progress(self) -> float: ...


#: Seconds a query runs before the spinner appears; the percentage is polled this often.
DELAY_S = 1.0
POLL_S = 0.25

_ENABLED: ContextVar[bool] = ContextVar("shortvid_progress", default=False)


def enable(on: bool) -> None:
    """Show progress for the queries of this invocation (the CLI passes ``sys.stderr.isatty()``)."""
    _ENABLED.set(on)


def enabled() -> bool:
    """Whether queries report progress (connections then track it: ``engine.connect``)."""
    return _ENABLED.get()


@contextlib.contextmanager
def query(con: TracksProgress, label: str) -> Iterator[None]:
    """While the ``with`` block runs a query on ``con``, show ``label`` and DuckDB's progress on stderr."""
    if not enabled():
        yield
        return
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(con, label, done), daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def _watch(con: TracksProgress, label: str, done: threading.Event) -> None:
    if done.wait(DELAY_S):
        return
    # transient: the spinner line is erased when the query ends
    with stderr_console().status(f"running {label} …", spinner="dots") as status:
        while not done.wait(POLL_S):
            percent = con.query_progress()  # -1 while DuckDB cannot tell
            if percent >= 0:
                status.update(f"running {label}: {percent:.0f}%")
