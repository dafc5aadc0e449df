"""The run lock: one crawl at a time per SQLite archive, so overlapping cron runs are harmless.

An advisory `flock` on `<archive>.lock` beside the database file. The kernel releases it when the
process dies, however it dies, so a `kill -9` never leaves a stale lock behind (fault matrix
row 39, policy A). Other engines have no file to lock: PostgreSQL runs take an advisory lock in
the database instead (`Archive.run_lock`), shared by `--worker` runs.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import AlreadyRunning, StorageFull, StoreError


def lock_path(database_url: str) -> Path | None:
    """The lock file for an SQLAlchemy URL, or None for engines that are not a local file."""
    if not database_url.startswith("sqlite:///"):
        return None
    path = database_url.removeprefix("sqlite:///")
    if path.startswith("file:"):  # a SQLite URI filename (file:/x.db?mode=ro&uri=true)
        path, _, query = path.removeprefix("file:").partition("?")
        if "mode=memory" in query:
            return None
        path = "/" + path.lstrip("/") if path.startswith("//") else path
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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        # A read-only directory, a full disk: one clean line, not a traceback (row 41).
        raise _storage_error(exc, path) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(
                "another xinwen crawl is running on this archive", path=str(path)
            ) from None
        try:
            os.ftruncate(handle, 0)
            os.write(handle, f"{os.getpid()}\n".encode())
        except OSError as exc:
            raise _storage_error(exc, path) from None
        yield
    finally:
        os.close(handle)  # closing the descriptor releases the lock


def _storage_error(exc: OSError, path: Path) -> StoreError:
    error = StorageFull if exc.errno in (errno.ENOSPC, errno.EDQUOT) else StoreError
    return error(f"cannot write the run lock: {exc.strerror}", url=str(path))
