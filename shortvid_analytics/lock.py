"""An exclusive lock on an output folder, so that two unattended runs never write into it at once.

The lock is an advisory ``flock`` on ``<folder>/.shortvid-<name>.lock``. The kernel releases it when
the holding process ends, however it ends (even ``kill -9``), so a lock cannot go stale: a later run
simply takes it. The file itself stays in the folder; it only records who holds the lock, for the
message a blocked run prints. Not for network file systems without ``flock`` support.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from .errors import OptionError, ShortvidError
from .files import OutputError

#: Exit code of a run that finds the lock held (EX_TEMPFAIL: "try again later").
EXIT_LOCKED = 75


class LockHeld(ShortvidError):
    """Another process holds the lock on the folder."""

    exit_code = EXIT_LOCKED


def lock_path(folder: Path, name: str) -> Path:
    """Where the lock file of ``name`` lives in ``folder``."""
    return folder / f".shortvid-{name}.lock"


@contextlib.contextmanager
def folder_lock(folder: Path, name: str) -> Iterator[Path]:
    """Hold the exclusive lock ``name`` on ``folder`` (created if missing) for the ``with`` block.

    Raises :class:`LockHeld` at once, without waiting, when another process holds it.
    """
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"{folder}: exists and is not a folder; expected a folder for the {name} files")
    path = lock_path(folder, name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # read-only, permission, a folder where the lock file goes
        raise OutputError(f"cannot lock {folder}: cannot open {path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown process"
            raise LockHeld(f"{folder}: another {name} run holds {path} ({holder}); "
                           f"not starting a second one, try again later") from None
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {started}\n".encode())
        yield path
    finally:
        # Closing the descriptor releases the flock; the file stays (unlinking it would race a waiter).
        os.close(fd)
