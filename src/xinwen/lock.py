"""The run lock: one crawl at a time per SQLite archive, so overlapping cron runs are harmless.

An advisory `flock` on `<archive>.lock` beside the database file. The kernel releases it when the
process dies, however it dies, so a `kill -9` never leaves a stale lock behind (fault matrix
row 39, policy A). Other engines have no file to lock: PostgreSQL runs take an advisory lock in
the database instead (`Archive.run_lock`), shared by `--worker` runs.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import AlreadyRunning


def lock_path(database_url: str) -> Path | None:
    """The lock file for an SQLAlchemy URL, or None for engines that are not a local file."""
    if not database_url.startswith("sqlite:///"):
        return None
    path = database_url.removeprefix("sqlite:///")
    if not path or path == ":memory:":
        return None
    return Path(path + ".lock")


@contextmanager
def run_lock(database_url: str) -> Iterator[None]:
    """Hold the archive's run lock for the duration; raise `AlreadyRunning` if it is taken."""
    path = lock_path(database_url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(
                "another xinwen crawl is running on this archive", path=str(path)
            ) from None
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(handle)  # closing the descriptor releases the lock
