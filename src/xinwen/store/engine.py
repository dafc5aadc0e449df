"""Database engines: SQLite with WAL and a busy timeout by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from ..errors import ConfigError

# How long a writer waits for another connection's lock before giving up (cron runs overlapping
# with a user's long query must wait, not fail).
BUSY_TIMEOUT_MS = 30_000


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
