"""The archive database: upsert by URL, revisions of content, raw payload dedup, versions."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from xinwen import Archive, extract, store
from xinwen.errors import StoreError
from xinwen.models import Decoded, Page
from xinwen.store.tables import SCHEMA_VERSION

HTML = (
    "<html><head><title>{t}_网</title></head><body><h1>{t}</h1><div class=content>{p}</div></body>"
)


def _page(url: str, html: str) -> Page:
    return Page(url, url, 200, {"content-type": "text/html"}, html.encode(), datetime.now(UTC))


def _save(archive: Archive, url: str, title: str, text: str) -> str:
    html = HTML.format(t=title, p=f"<p>{text}</p>" * 3)
    page = _page(url, html)
    return archive.save_page(page, Decoded(html, "utf-8", "header", 0), extract(html, url))


def test_upsert_new_unchanged_updated(db_path: Path):
    url = "https://news.example.com/a/1.html"
    with Archive(db_path) as archive:
        assert _save(archive, url, "央行宣布降准", "中国人民银行决定下调存款准备金率。") == "new"
        assert (
            _save(archive, url, "央行宣布降准", "中国人民银行决定下调存款准备金率。") == "unchanged"
        )
        assert (
            _save(archive, url, "央行宣布降准", "中国人民银行决定下调存款准备金率0.5个百分点。")
            == "updated"
        )
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("SELECT count(*) FROM article").fetchone()[0] == 1
        body = connection.execute("SELECT body FROM article").fetchone()[0]
        sections = connection.execute("SELECT count(*) FROM section").fetchone()[0]
        outcomes = [r[0] for r in connection.execute("SELECT outcome FROM fetch ORDER BY id")]
        payloads = connection.execute("SELECT count(*) FROM payload").fetchone()[0]
    assert "0.5个百分点" in body
    assert sections == 1  # replaced on update, not appended
    assert outcomes == ["new", "unchanged", "updated"]
    assert payloads == 2  # the unchanged fetch repeated a payload


def test_failure_rows_truncate_long_messages(db_path: Path):
    with Archive(db_path) as archive:
        archive.save_failure("https://x.example.com/", kind="timeout", message="m" * 5000)
        (row,) = archive.query("SELECT outcome, error_kind, error_message FROM fetch")
    assert row["outcome"] == "failed" and row["error_kind"] == "timeout"
    assert len(row["error_message"]) == 500


def test_newer_schema_is_refused(db_path: Path):
    Archive(db_path).close()
    with sqlite3.connect(db_path) as connection:
        connection.execute("INSERT INTO schema_version VALUES (99, '2030-01-01')")
    with pytest.raises(StoreError, match="schema version 99"):
        Archive(db_path)


def test_reopening_keeps_data_and_version(db_path: Path):
    with Archive(db_path) as archive:
        _save(archive, "https://news.example.com/a/2.html", "标题二", "正文内容，足够长的一段话。")
    with Archive(db_path) as archive:
        assert archive.query("SELECT count(*) AS n FROM article")[0]["n"] == 1
        versions = [r["version"] for r in archive.query("SELECT version FROM schema_version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_password_never_in_store_errors():
    with pytest.raises(StoreError) as info:
        Archive("postgresql+nosuchdriver://user:secret@127.0.0.1:1/db")
    assert "secret" not in str(info.value)


def test_version_1_database_is_upgraded_in_place(db_path: Path):
    """An archive written by schema 1 gains the new columns and keeps its rows."""
    url = "https://news.example.com/a/3.html"
    with Archive(db_path) as archive:
        _save(archive, url, "旧库文章", "第一版数据库里的一篇文章，内容完整。")
    v2_columns = ("editor", "published_precision", "published_raw", "decode_errors", "cjk_ratio",
                  "flags")  # fmt: skip
    with sqlite3.connect(db_path) as connection:
        views = connection.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall()
        for (view,) in views:  # schema 1 had none, and they would hold on to the columns
            connection.execute(f"DROP VIEW {view}")
        for column in v2_columns:
            connection.execute(f"ALTER TABLE article DROP COLUMN {column}")
        connection.execute("ALTER TABLE section DROP COLUMN page")
        connection.execute("DELETE FROM schema_version WHERE version > 1")
    with Archive(db_path) as archive:
        (row,) = archive.query("SELECT * FROM article")
        pages = [r["page"] for r in archive.query("SELECT page FROM section")]
        versions = [r["version"] for r in archive.query("SELECT version FROM schema_version")]
    assert row["url"] == url and row["title"] == "旧库文章"
    assert set(v2_columns) <= set(row)
    assert pages == [1]  # existing sections get the default page
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_fetch_log_never_stores_credentials(db_path: Path):
    secret = "https://user:hunter2@news.example.com/a.html?id=7&token=SECRET123"
    with Archive(db_path) as archive:
        archive.save_failure(secret, kind="timeout", message=f"timed out ({secret})")
        (row,) = archive.query("SELECT url, error_message FROM fetch")
    assert "hunter2" not in row["url"] and "SECRET123" not in row["url"]
    assert "hunter2" not in row["error_message"] and "SECRET123" not in row["error_message"]
    assert "id=7" in row["url"]  # only the secrets are masked


def test_validators_need_no_query_on_a_first_crawl(db_path: Path):
    url, other = "https://news.example.com/a/1.html", "https://news.example.com/a/2.html"
    html = HTML.format(t="央行宣布降准", p="<p>中国人民银行决定下调存款准备金率。</p>" * 3)
    page = Page(
        url, url, 200, {"content-type": "text/html", "etag": '"v1"'}, html.encode(),
        datetime.now(UTC),
    )  # fmt: skip
    statements: list[str] = []
    with Archive(db_path) as archive:
        event.listen(archive.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert archive.validators_for(other) == {}  # the archive is empty: one look
        archive.save_page(page, Decoded(html, "utf-8", "header", 0), extract(html, url))
        asked = len(statements)
        assert archive.validators_for(other) == {}  # never stored: no query
        assert len(statements) == asked
        assert archive.validators_for(url) == {"If-None-Match": '"v1"'}  # stored this run
    with Archive(db_path) as archive:  # an archive with articles: every URL is looked up
        assert archive.validators_for(url) == {"If-None-Match": '"v1"'}
        assert archive.validators_for(other) == {}


_CLAIM_PLAN = (
    "EXPLAIN QUERY PLAN SELECT url FROM frontier WHERE state = 'pending' "
    "ORDER BY depth, discovered_at LIMIT 1"
)


def _indexes(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'frontier'")
        return {name for (name,) in rows if name.startswith("ix_")}


def test_a_claim_reads_the_next_url_from_the_frontier_index(db_path: Path):
    with Archive(db_path) as archive:
        archive.frontier_add([f"http://x.test/{n}" for n in range(50)], depth=2)
        archive.frontier_add(["http://x.test/top"], depth=1)
        details = " ".join(row["detail"] for row in archive.query(_CLAIM_PLAN))
        assert "ix_frontier_claim" in details and "TEMP B-TREE" not in details  # no sort
        claimed = archive.frontier_claim()
    assert claimed == ("http://x.test/top", 1)
    assert _indexes(db_path) == {"ix_frontier_claim", "ix_frontier_host"}


def test_version_10_frontier_gets_the_claim_index(db_path: Path):
    Archive(db_path).close()
    with sqlite3.connect(db_path) as connection:  # as schema 10 made it
        connection.execute("DROP INDEX ix_frontier_claim")
        connection.execute("CREATE INDEX ix_frontier_state ON frontier (state)")
        connection.execute("DELETE FROM schema_version WHERE version > 10")
    with Archive(db_path) as archive:
        assert archive.migrated == [11]
    assert _indexes(db_path) == {"ix_frontier_claim", "ix_frontier_host"}


# --- a batch commits in the background -------------------------------------------------------


def test_a_batch_commits_in_the_background_and_the_next_write_waits_for_it(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The write that fills a batch hands its commit to another thread and returns; the
    # caller (the crawl's event loop) goes on, and its next write waits for the commit.
    monkeypatch.setattr(store, "BATCH_SECONDS", 0.0)  # every write ends a batch
    release = threading.Event()
    entered = threading.Event()
    threads: list[str] = []
    original = Archive._commit

    def held_commit(self: Archive, batch: Any) -> None:
        threads.append(threading.current_thread().name)
        entered.set()
        assert release.wait(10)
        original(self, batch)

    monkeypatch.setattr(Archive, "_commit", held_commit)
    first, second = "https://news.example.com/a/1.html", "https://news.example.com/a/2.html"
    with Archive(db_path) as archive, archive.batched():
        assert _save(archive, first, "央行宣布降准", "中国人民银行决定下调存款准备金率。") == "new"
        committing = archive.committing()
        assert committing is not None and entered.wait(10)
        assert not committing.done()  # the write returned with its commit still under way
        assert _urls(db_path) == []  # nothing committed yet, as another reader sees it
        release.set()  # from here on commits go through
        assert _save(archive, second, "财政部发布新规", "财政部今日发布新规定。") == "new"
        assert committing.done()  # the second write waited for the first commit
    # Each write's commit in the committer's thread; the last one, on leaving, in the caller's.
    assert threads == ["xinwen-commit_0", "xinwen-commit_0", threading.current_thread().name]
    assert _urls(db_path) == [first, second]
    with sqlite3.connect(db_path) as connection:  # both indexed, in their commits
        assert connection.execute("SELECT count(*) FROM article_fts_pending").fetchone()[0] == 0
        assert connection.execute("SELECT count(*) FROM article_fts").fetchone()[0] == 2


def test_a_background_commit_that_fails_is_raised_by_the_next_write(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(store, "BATCH_SECONDS", 0.0)
    original = Archive._commit
    failures = [OperationalError("COMMIT", None, sqlite3.OperationalError("disk I/O error"))]

    def failing_commit(self: Archive, batch: Any) -> None:
        if failures:
            batch.connection.rollback()  # what SQLite does when a commit fails this way
            raise failures.pop()
        original(self, batch)

    monkeypatch.setattr(Archive, "_commit", failing_commit)
    first, second = "https://news.example.com/a/1.html", "https://news.example.com/a/2.html"
    with Archive(db_path) as archive, archive.batched():
        assert _save(archive, first, "央行宣布降准", "中国人民银行决定下调存款准备金率。") == "new"
        with pytest.raises(StoreError, match="disk I/O error") as raised:
            _save(archive, second, "财政部发布新规", "财政部今日发布新规定。")
        assert str(db_path) in (raised.value.url or "")  # the archive is named
        # The archive still works: the write after the error is stored.
        assert _save(archive, second, "财政部发布新规", "财政部今日发布新规定。") == "new"
    assert _urls(db_path) == [second]  # the failed batch is gone whole


def test_an_error_in_a_batch_is_raised_over_its_failed_background_commit(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(store, "BATCH_SECONDS", 0.0)
    original = Archive._commit
    failures = [RuntimeError("the commit thread broke")]

    def failing_commit(self: Archive, batch: Any) -> None:
        if failures:
            batch.connection.rollback()
            raise failures.pop()
        original(self, batch)

    monkeypatch.setattr(Archive, "_commit", failing_commit)
    url = "https://news.example.com/a/1.html"

    def crawl() -> None:
        with Archive(db_path) as archive, archive.batched():
            _save(archive, url, "央行宣布降准", "中国人民银行决定下调存款准备金率。")
            raise ValueError("the caller's error")  # while its commit fails behind

    with pytest.raises(ValueError, match="the caller's error"):
        crawl()


def _urls(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [r[0] for r in connection.execute("SELECT url FROM article ORDER BY url")]
