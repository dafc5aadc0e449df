"""Ordered schema migrations, recorded in `schema_version` (the approach of sqlite-utils').

A new database gets the current tables at once and every version recorded. An older one gets
the migrations it lacks, in order, each in its own transaction. Each migration is plain DDL that
SQLite and PostgreSQL both accept (or says why not). Add one for every schema change, with a
CHANGELOG line, and bump `tables.SCHEMA_VERSION`. A new database runs every migration too, after
the tables are created, for what the models do not declare (views): so a migration must also
apply cleanly to the current tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, inspect, text
from sqlmodel import SQLModel

from ..urls import host_of
from . import search
from .tables import AliasRow, FrontierRow, HostRow, RevisionRow, RunRow
from .views import create_views

Migration = tuple[int, str, Callable[[Connection], None]]


def _add_columns(table: str, columns: list[tuple[str, str]]) -> Callable[[Connection], None]:
    def apply(connection: Connection) -> None:
        present = {c["name"] for c in inspect(connection).get_columns(table)}
        for name, kind in columns:
            if name not in present:
                connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))

    return apply


def _revisions(connection: Connection) -> None:
    _add_columns("article", [("gone_at", "TIMESTAMP")])(connection)
    # Created from the model, so the DDL matches a new archive's exactly.
    RevisionRow.__table__.create(connection, checkfirst=True)  # type: ignore[attr-defined]


def _runs(connection: Connection) -> None:
    RunRow.__table__.create(connection, checkfirst=True)  # type: ignore[attr-defined]
    _add_columns("fetch", [("run_id", "INTEGER REFERENCES run(id)"), ("attempts", "INTEGER")])(
        connection
    )


def _frontier(connection: Connection) -> None:
    FrontierRow.__table__.create(connection, checkfirst=True)  # type: ignore[attr-defined]


def _hosts(connection: Connection) -> None:
    _add_columns("frontier", [("host", "TEXT"), ("lost", "INTEGER NOT NULL DEFAULT 0")])(connection)
    connection.execute(text("CREATE INDEX IF NOT EXISTS ix_frontier_host ON frontier (host)"))
    HostRow.__table__.create(connection, checkfirst=True)  # type: ignore[attr-defined]
    urls = connection.execute(text("SELECT url FROM frontier WHERE host IS NULL")).scalars()
    hosts: dict[str, list[str]] = {}
    for url in urls:
        hosts.setdefault(host_of(url), []).append(url)
    now = datetime.now(UTC)
    for host, members in hosts.items():
        connection.execute(
            text("UPDATE frontier SET host = :h WHERE url = :u"),
            [{"h": host, "u": u} for u in members],
        )
        connection.execute(
            text("INSERT INTO host (host, next_allowed_at) VALUES (:h, :now) "
                 "ON CONFLICT (host) DO NOTHING"),
            {"h": host, "now": now},
        )  # fmt: skip
    if connection.dialect.name == "postgresql":
        # PostgreSQL archives made before schema 10 got neither the search index nor the views.
        search.migrate(connection)
        create_views(connection)


def _aliases(connection: Connection) -> None:
    AliasRow.__table__.create(connection, checkfirst=True)  # type: ignore[attr-defined]


def _claim_index(connection: Connection) -> None:
    # The index on state alone is a prefix of the new one: kept, it would only cost every
    # change of state a second index update.
    connection.execute(text("DROP INDEX IF EXISTS ix_frontier_state"))
    connection.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_frontier_claim ON frontier (state, depth, discovered_at)"
        )
    )


MIGRATIONS: list[Migration] = [
    (
        2,
        "article: editor, published_precision, published_raw, decode_errors, cjk_ratio, flags",
        _add_columns(
            "article",
            [
                ("editor", "TEXT"),
                ("published_precision", "TEXT"),
                ("published_raw", "TEXT"),
                ("decode_errors", "INTEGER"),
                ("cjk_ratio", "REAL"),
                ("flags", "TEXT"),
            ],
        ),
    ),
    (3, "section: page", _add_columns("section", [("page", "INTEGER NOT NULL DEFAULT 1")])),
    (4, "article: gone_at; table article_revision", _revisions),
    (5, "table article_fts: Chinese full-text search", search.migrate),
    (6, "views latest_articles, failures_24h, site_health", create_views),
    (7, "table run; fetch: run_id, attempts", _runs),
    (8, "table frontier", _frontier),
    (9, "table alias", _aliases),
    (10, "table host; frontier: host, lost; PostgreSQL: search index and views", _hosts),
    (11, "frontier: index ix_frontier_claim (state, depth, discovered_at)", _claim_index),
]
LATEST = max(version for version, _, _ in MIGRATIONS)


def current_version(engine: Engine) -> int | None:
    """The schema version recorded in the database; None for an empty database."""
    tables = set(inspect(engine).get_table_names())
    if "schema_version" not in tables:
        return 1 if "article" in tables else None
    with engine.connect() as connection:
        value = connection.execute(text("SELECT max(version) FROM schema_version")).scalar()
    return int(value) if value is not None else 1


# pg_advisory_lock key held while migrating, so workers starting together migrate once.
_MIGRATION_LOCK = 0x78696E77656E01  # "xinwen" + 1


def upgrade(engine: Engine) -> list[int]:
    """Bring the database to the latest version; returns the versions applied."""
    if engine.dialect.name != "postgresql":
        return _upgrade(engine)
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
        lock.commit()
        try:
            return _upgrade(engine)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
            lock.commit()


def _upgrade(engine: Engine) -> list[int]:
    version = current_version(engine)
    now = datetime.now(UTC)
    record = text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :at)")
    if version is None:
        SQLModel.metadata.create_all(engine)
        with engine.begin() as connection:
            for _, _, migrate in MIGRATIONS:
                migrate(connection)
            for applied in range(1, LATEST + 1):
                connection.execute(record, {"v": applied, "at": now})
        return list(range(1, LATEST + 1))
    applied_now: list[int] = []
    for number, _, migrate in MIGRATIONS:
        if number <= version:
            continue
        with engine.begin() as connection:
            migrate(connection)
            connection.execute(record, {"v": number, "at": now})
        applied_now.append(number)
    return applied_now
