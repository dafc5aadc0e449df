"""`xinwen db init|migrate` and `xinwen copy` on SQLite (tests/test_postgres.py has PostgreSQL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from xinwen.cli import app
from xinwen.store.tables import SCHEMA_VERSION

runner = CliRunner()


def test_db_init_then_migrate(tmp_path: Path):
    db = str(tmp_path / "a.db")
    first = runner.invoke(app, ["db", "init", "--db", db])
    assert first.exit_code == 0 and first.output == f"created at schema version {SCHEMA_VERSION}\n"
    again = runner.invoke(app, ["db", "init", "--db", db])
    assert again.output == f"already at schema version {SCHEMA_VERSION}\n"
    migrate = runner.invoke(app, ["db", "migrate", "--db", db])
    assert migrate.output == f"already at schema version {SCHEMA_VERSION}\n"
    with sqlite3.connect(db) as connection:
        versions = [v for (v,) in connection.execute("SELECT version FROM schema_version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_db_migrate_upgrades_an_old_archive_and_refuses_a_missing_one(tmp_path: Path):
    db = tmp_path / "old.db"
    assert runner.invoke(app, ["db", "init", "--db", str(db)]).exit_code == 0
    with sqlite3.connect(db) as connection:  # pretend the last migration never ran
        connection.execute("DELETE FROM schema_version WHERE version = ?", (SCHEMA_VERSION,))
    result = runner.invoke(app, ["db", "migrate", "--db", str(db)])
    assert result.output == f"applied {SCHEMA_VERSION}: schema version {SCHEMA_VERSION}\n"
    missing = runner.invoke(app, ["db", "migrate", "--db", str(tmp_path / "nope.db")])
    assert missing.exit_code == 2 and not (tmp_path / "nope.db").exists()


def test_copy_between_sqlite_files(tmp_path: Path, site_url: str):
    from xinwen import crawl
    from xinwen.fetch import FetchSettings

    source, target = tmp_path / "a.db", tmp_path / "b.db"
    crawl([site_url], source, settings=FetchSettings(delay=0))
    result = runner.invoke(app, ["copy", "--from", str(source), "--to", str(target)])
    assert result.exit_code == 0, result.output
    query = "SELECT id, url, title, body, capture_id FROM article ORDER BY id"
    with sqlite3.connect(source) as a, sqlite3.connect(target) as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
        assert b.execute("SELECT count(*) FROM article").fetchone()[0] >= 1
        # The copy's full-text index was rebuilt: a word of the seed article is found.
        hits = b.execute("SELECT count(*) FROM article_fts WHERE article_fts MATCH '\"逾期\"'")
        assert hits.fetchone()[0] >= 1
    refused = runner.invoke(app, ["copy", "--from", str(source), "--to", str(target)])
    assert refused.exit_code == 2 and "empty archive" in refused.output
