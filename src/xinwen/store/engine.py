"""Database engines: SQLite with WAL and a busy timeout by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from ..errors import ConfigError

# How long a writer waits for another connection's lock before giving up (cron runs overlapping
# with a user's long query must wait, not fail).
BUSY_TIMEOUT_MS = 30_000

# The end of a crawl truncates the write-ahead log (fault matrix row 42). A reader in the middle
# of a transaction holds pages in the WAL and makes the truncation wait for it, so each try
# waits at most CHECKPOINT_WAIT_MS for readers, and the tries are CHECKPOINT_PAUSES apart
# (about 2 s in all): a user's long query delays the end of a run that long at most, and the
# next run truncates what this one could not.
CHECKPOINT_WAIT_MS = 200
CHECKPOINT_PAUSES = (0.1, 0.2, 0.4, 0.8)


def database_url(db: str | Path) -> str:
    """An SQLAlchemy URL for `db`: a value containing `://` is one already, else a SQLite path."""
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser()}"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite connections get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        if url.startswith("postgresql"):
            # The crawler's times are UTC (timestamptz columns); a session in UTC reads them
            # back as UTC, as SQLite shows them, whatever the server's zone is.
            options = {"options": "-c timezone=UTC"}
            return create_engine(url, pool_pre_ping=True, connect_args=options)
        return create_engine(url, pool_pre_ping=True)
    except ImportError as exc:
        hint = " (pip install 'xinwen[postgresql]')" if url.startswith("postgresql") else ""
        raise ConfigError(f"no database driver for this URL: {exc}{hint}") from exc


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def checkpoint(engine: Engine) -> bool:
    """Copy a SQLite archive's write-ahead log into the database and truncate it to 0 bytes
    (`PRAGMA wal_checkpoint(TRUNCATE)`), trying again while readers are in the way. Returns
    whether it was done; always True for other engines."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            for pause in (*CHECKPOINT_PAUSES, None):
                # (busy, pages in the WAL, pages checkpointed); busy = 1: a reader was in the way
                busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
                if not busy:
                    return True
                if pause is not None:
                    time.sleep(pause)
            return False
        finally:
            # The connection goes back to the pool: writers on it must wait as long as ever.
            connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
