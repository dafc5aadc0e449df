"""Read-only SQL over an archive, safe even when the SQL asks for more (`xinwen sql`).

Four layers, because each alone has a hole (shared/docs/fault-matrix.md, row 43):

- the file is opened with a `file:...?mode=ro` URI, so SQLite refuses to write it, and a
  missing file is an error instead of a new empty database;
- `PRAGMA query_only=ON`, then an authorizer that allows only reads (SELECT, reading columns,
  functions, recursive CTEs) and a few read-only PRAGMAs. It denies ATTACH: `mode=ro` alone
  still lets `ATTACH DATABASE 'x.db'` create a new file x.db;
- the ATTACH limit is 0, a second lock on the same door;
- SQLITE_DBCONFIG_DEFENSIVE where Python exposes `setconfig` (3.12 and later).

On PostgreSQL (`PgReadOnly`), the server enforces it: the session's transactions are READ ONLY
(a write, `nextval()`, a data-modifying CTE all fail), the statement must start with a reading
keyword (SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW), it is sent as a prepared statement so the
server refuses stacked statements, and a statement timeout stops a runaway query. Other engines
are a `ConfigError`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ConfigError, StoreError
from .engine import database_url

__all__ = ["READ_PRAGMAS", "PgReadOnly", "ReadOnly", "read_only"]

# PRAGMAs that only describe the schema. Their argument, if any, names a table or an index
# (`PRAGMA table_info(article)`), never a value to set. Every other PRAGMA is refused.
READ_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "collation_list",
        "function_list",
        "database_list",
        "data_version",  # FTS5 asks it on every query
    }
)
_READ_ACTIONS = {
    sqlite3.SQLITE_SELECT: "SELECT",
    sqlite3.SQLITE_READ: "read",
    sqlite3.SQLITE_FUNCTION: "function",
    sqlite3.SQLITE_RECURSIVE: "recursive",
}
# Functions that reach outside the query even in a read: loading code, swapping tokenizers.
_DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer", "readfile", "writefile"})
# Error names (sqlite3.Error.sqlite_errorname) that mean "the SQL itself is wrong or refused",
# a usage error; any other (busy, corrupt, I/O) means the database failed.
_USAGE_ERRORS = frozenset({"SQLITE_ERROR", "SQLITE_AUTH", "SQLITE_READONLY", "SQLITE_RANGE"})
_BUSY_TIMEOUT_S = 30.0
_BATCH = 500

# SQLite's action codes by number, for the refusal message ("DELETE article").
_WRITES = ("ALTER", "ANALYZE", "ATTACH", "CREATE", "DELETE", "DETACH", "DROP", "INSERT",
           "PRAGMA", "REINDEX", "SAVEPOINT", "TRANSACTION", "UPDATE")  # fmt: skip
_ACTION_NAMES = {
    getattr(sqlite3, name): name.removeprefix("SQLITE_")
    for name in dir(sqlite3)
    if name.startswith(tuple(f"SQLITE_{word}" for word in _WRITES))
}


# The first keyword of a statement PgReadOnly runs; the read-only transaction is the real guard.
_PG_READS = frozenset({"select", "with", "values", "table", "explain", "show"})
# A query still running after this long is cancelled by the server (a user's mistake must not
# hold the shared archive's locks for hours).
PG_STATEMENT_TIMEOUT_S = 300
# SQLSTATE classes of a wrong or refused statement (a usage error): syntax or access rule
# violation (42), read-only transaction (25), data exception (22), cancelled by timeout (57014).
_PG_USAGE = ("42", "25", "22", "57014")


class PgReadOnly:
    """One read-only session on a PostgreSQL archive (see the module's docstring)."""

    def __init__(self, url: str) -> None:
        from .engine import make_engine

        self.label = re.sub(r"//[^/@]*@", "//***@", url)
        self._engine = make_engine(url)
        try:
            self._raw = self._engine.raw_connection()
        except Exception as exc:  # the pool lets the driver's own errors through
            self._engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise StoreError(f"database error: {reason}", url=self.label) from exc
        self._connection: Any = self._raw.driver_connection
        assert self._connection is not None  # a fresh connection from the pool
        self._connection.autocommit = True
        with self._connection.cursor() as cursor:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.execute(f"SET statement_timeout = '{PG_STATEMENT_TIMEOUT_S}s'")

    def close(self) -> None:
        self._raw.close()
        self._engine.dispose()

    def execute(self, sql: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        """Run one statement; returns the column names and an iterator over the rows."""
        first = re.match(r"\s*\(*\s*([A-Za-z]+)", sql)
        if first is None or first.group(1).lower() not in _PG_READS:
            word = first.group(1).upper() if first else "an empty statement"
            raise ConfigError(
                f"refused: {word} is not allowed; xinwen sql only reads ({self.label})"
            )
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, prepare=True)  # prepared: the server refuses stacked statements
        except Exception as exc:
            cursor.close()
            raise self._error(exc) from exc
        columns = [d.name for d in cursor.description or ()]
        return columns, self._rows(cursor)

    def _rows(self, cursor: Any) -> Generator[tuple[Any, ...]]:
        try:
            while batch := cursor.fetchmany(_BATCH):
                yield from batch
        finally:
            cursor.close()

    def _error(self, exc: Exception) -> Exception:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        state = getattr(exc, "sqlstate", None) or ""
        if state.startswith(_PG_USAGE):
            return ConfigError(f"bad query: {reason} ({self.label})")
        return StoreError(f"database error: {reason}", url=self.label)


def sqlite_path(db: str | Path) -> Path:
    """The file behind `db` (a path or a `sqlite:///` URL); a `ConfigError` for anything else."""
    url = database_url(db)
    if not url.startswith("sqlite:///") or url in ("sqlite:///", "sqlite:///:memory:"):
        engine = url.split("://")[0]
        raise ConfigError(
            f"xinwen sql reads SQLite and PostgreSQL archives, not {engine}:// databases;"
            " query those with the engine's own client"
        )
    return Path(url.removeprefix("sqlite:///"))


class ReadOnly:
    """A read-only connection to one archive file. Use `read_only(db)` to open one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.refused: list[str] = []  # what the authorizer denied in the current statement
        self._unfinished: list[Generator[tuple[Any, ...]]] = []
        uri = f"{path.resolve().as_uri()}?mode=ro"
        try:
            self._connection = sqlite3.connect(
                uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database read-only: {exc}", url=str(path)) from exc
        try:
            self._lock_down()
        except BaseException:
            self._connection.close()
            raise

    def _lock_down(self) -> None:
        connection = self._connection
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        defensive = getattr(sqlite3, "SQLITE_DBCONFIG_DEFENSIVE", None)
        if defensive is not None and hasattr(connection, "setconfig"):  # Python >= 3.12
            connection.setconfig(defensive, True)
        connection.execute("PRAGMA query_only=ON")
        # trusted_schema stays ON: OFF refuses views over FTS5 tables, and the authorizer
        # already sees every function a view calls.
        self._connect_virtual_tables()
        connection.set_authorizer(self._authorize)

    def _connect_virtual_tables(self) -> None:
        # SQLite reports connecting a virtual table (FTS5, json_each(), pragma_table_info())
        # to the authorizer as an UPDATE of sqlite_master, once per connection. Connecting them
        # before the authorizer is set lets it refuse every UPDATE without exception.
        names = ["json_each", "json_tree", *(f"pragma_{p}" for p in sorted(READ_PRAGMAS))]
        try:
            names += [
                row[0]
                for row in self._connection.execute(
                    "SELECT name FROM sqlite_master"
                    " WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
                )
            ]
        except sqlite3.Error as exc:  # not a database, or locked
            raise StoreError(f"cannot read the database: {exc}", url=str(self.path)) from exc
        for name in names:
            quoted = name.replace('"', '""')
            try:
                self._connection.execute(f'SELECT * FROM "{quoted}" LIMIT 0').fetchall()
            except sqlite3.Error:
                continue  # a module this SQLite lacks: the user's query will say so

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None
    ) -> int:
        if action in _READ_ACTIONS:
            if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
                self.refused.append(f"the function {arg2}()")
                return sqlite3.SQLITE_DENY
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            if name in READ_PRAGMAS:
                return sqlite3.SQLITE_OK
            self.refused.append(f"PRAGMA {arg1}" + (f"={arg2}" if arg2 is not None else ""))
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_schema"):
            # How SQLite reports the first use of a virtual table not connected beforehand.
            self.refused.append(
                "a table-valued function other than json_each, json_tree and the"
                " read-only pragma_* ones"
            )
            return sqlite3.SQLITE_DENY
        what = _ACTION_NAMES.get(action, f"action {action}")
        self.refused.append(what + (f" {arg1}" if arg1 else ""))
        return sqlite3.SQLITE_DENY

    def close(self) -> None:
        """Close the connection, and the row iterators a reader left unfinished."""
        for rows in self._unfinished:
            rows.close()
        self._connection.close()

    def execute(self, sql: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        """Run one statement; returns the column names and an iterator over the rows."""
        self.refused.clear()
        try:
            cursor = self._connection.execute(sql)
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise self._error(exc) from exc
        columns = [d[0] for d in cursor.description or ()]
        rows = self._rows(cursor)
        self._unfinished.append(rows)
        return columns, rows

    def _rows(self, cursor: sqlite3.Cursor) -> Generator[tuple[Any, ...]]:
        try:
            while batch := cursor.fetchmany(_BATCH):
                yield from batch
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        finally:
            cursor.close()

    def _error(self, exc: sqlite3.Error | sqlite3.Warning) -> Exception:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if self.refused:
            return ConfigError(
                f"refused: {self.refused[0]} is not allowed; xinwen sql only reads ({self.path})"
            )
        name = getattr(exc, "sqlite_errorname", "SQLITE_ERROR")
        if isinstance(exc, sqlite3.ProgrammingError | sqlite3.Warning) or name in _USAGE_ERRORS:
            return ConfigError(f"bad query: {reason} ({self.path})")
        return StoreError(f"database error: {reason}", url=str(self.path))


@contextmanager
def read_only(db: str | Path) -> Iterator[ReadOnly | PgReadOnly]:
    """Open an existing archive read-only; never creates or changes a file or a row.

    >>> with read_only("xinwen.db") as connection:   # doctest: +SKIP
    ...     columns, rows = connection.execute("SELECT title FROM article LIMIT 3")
    """
    if database_url(db).startswith("postgresql"):
        session = PgReadOnly(database_url(db))
        try:
            yield session
        finally:
            session.close()
        return
    path = sqlite_path(db)
    if not path.is_file():
        raise ConfigError(f"no archive at {path}")  # and none is created
    connection = ReadOnly(path)
    try:
        yield connection
    finally:
        connection.close()
