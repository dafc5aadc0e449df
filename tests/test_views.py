"""The SQL views (schema 6), `xinwen stats` built on them, and `xinwen sites`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from xinwen import Archive, demo
from xinwen.cli import app
from xinwen.store.tables import SCHEMA_VERSION

runner = CliRunner()
VIEWS = {"latest_articles", "failures_24h", "site_health"}


def _rows(db: Path, sql: str) -> list[dict[str, object]]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(sql)]


def _views(db: Path) -> set[str]:
    return {r["name"] for r in _rows(db, "SELECT name FROM sqlite_master WHERE type = 'view'")}


def test_views_exist_in_a_new_archive(db_path: Path):
    Archive(db_path).close()
    assert _views(db_path) >= VIEWS


def test_site_health(small_archive: Path):
    rows = {r["site"]: r for r in _rows(small_archive, "SELECT * FROM site_health")}
    assert set(rows) == {"news.example.com", "tw.example.org"}
    news, tw = rows["news.example.com"], rows["tw.example.org"]
    # news: 3 article fetches, the listing and a timeout; the listing maps to the site by host.
    assert (news["articles"], news["fetches"], news["failures"]) == (2, 5, 1)
    assert (tw["articles"], tw["fetches"], tw["failures"]) == (1, 2, 1)
    assert news["flagged_share"] == 0.5  # the short article is flagged
    assert tw["last_fetch_at"] is not None


def test_failures_24h_and_latest_articles(small_archive: Path):
    failures = _rows(small_archive, "SELECT site, url, error_kind FROM failures_24h")
    assert failures == [  # the 404 two days ago is not in it
        {"site": "news.example.com", "url": "https://news.example.com/a/9.html",
         "error_kind": "timeout"}
    ]  # fmt: skip
    with sqlite3.connect(small_archive) as connection:
        connection.execute("UPDATE article SET published_at = '2024-11-0' || id")
    latest = _rows(small_archive, "SELECT url, site, flags FROM latest_articles")
    assert [r["url"] for r in latest] == [
        "https://tw.example.org/n/3.html",
        "https://news.example.com/a/2.html",
        "https://news.example.com/a/1.html",
    ]


def test_an_archive_before_schema_6_gets_the_views(small_archive: Path):
    with sqlite3.connect(small_archive) as connection:
        for view in VIEWS:
            connection.execute(f"DROP VIEW {view}")
        connection.execute("DELETE FROM schema_version WHERE version > 4")
    with Archive(small_archive) as archive:
        versions = [r["version"] for r in archive.query("SELECT version FROM schema_version")]
    assert _views(small_archive) >= VIEWS
    assert versions[-1] == SCHEMA_VERSION


def test_stats_counts_failures_by_kind_and_flags(small_archive: Path):
    result = runner.invoke(app, ["stats", "--db", str(small_archive), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["site"]: r for r in json.loads(result.output)}
    assert rows["news.example.com"]["failures_by_kind"] == {"timeout": 1}
    assert rows["tw.example.org"]["failures_by_kind"] == {"http_status": 1}
    assert rows["news.example.com"]["flags"] == {"short_body": 1}
    assert rows["tw.example.org"]["flags"] == {}
    table = runner.invoke(app, ["stats", "--db", str(small_archive)])
    assert table.exit_code == 0
    assert table.output.splitlines()[0].split()[:4] == ["site", "articles", "fetches", "failures"]
    assert "timeout 1" in table.output and "short_body 1" in table.output


def test_stats_of_a_missing_archive(tmp_path: Path):
    missing = tmp_path / "none.db"
    result = runner.invoke(app, ["stats", "--db", str(missing)])
    assert result.exit_code == 2 and str(missing) in result.output
    assert not missing.exists()


def test_sites_lists_rules_and_their_fields():
    result = runner.invoke(app, ["sites", "--rules", str(demo.RULE), "--json"])
    assert result.exit_code == 0, result.output
    (rule,) = [r for r in json.loads(result.output) if r["id"] == "demo"]
    assert rule["hosts"] == ["127.0.0.1", "localhost"]
    assert rule["fields"] == ["title", "category", "published_at", "body"]
    table = runner.invoke(app, ["sites", "--rules", str(demo.RULE)])
    assert table.exit_code == 0 and "融知网 (demo)" in table.output
