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

from . import search
from .tables import AliasRow, FrontierRow, RevisionRow, RunRow
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


def _aliases(connection: Connection) -> None:
    AliasRow.__table__.create(connection, checkfirst=True)  # type: ignore[attr-defined]


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
    (5, "table article_fts: Chinese full-text search (SQLite only)", search.migrate),
    (6, "views latest_articles, failures_24h, site_health (SQLite only)", create_views),
    (7, "table run; fetch: run_id, attempts", _runs),
    (8, "table frontier", _frontier),
    (9, "table alias", _aliases),
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


def upgrade(engine: Engine) -> list[int]:
    """Bring the database to the latest version; returns the versions applied."""
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
