"""The archive under storage trouble (fault matrix rows 40-42), on real SQLite files.

- Row 40: another writer holds the write lock; the crawl waits (busy_timeout) and completes.
- Row 41: the database cannot grow (SQLITE_FULL, simulated with `PRAGMA max_page_count` set
  just above the file's size) or cannot be written (opened read-only, a run lock that cannot be
  created): one clean line, its exit code, nothing half-written, and a rerun completes.
- Row 42: a reader holding a transaction through a crawl neither fails it nor holds up its end
  for long, and once the reader's transaction is over the next crawl leaves the WAL empty.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from typer.testing import CliRunner

from xinwen import Archive, pipeline, store
from xinwen.cli import app
from xinwen.fetch import FetchSettings
from xinwen.models import Page

runner = CliRunner()
FAST = FetchSettings(delay=0.0)
HOLD = 2.0  # seconds the other writer keeps the write lock (row 40)


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as connection:
        return connection.execute(sql).fetchall()


def _crawl(site_url: str, db: Path | str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["crawl", site_url, "--db", str(db), "--delay", "0"])
    return result.exit_code, result.stdout, result.stderr


def _consistent(db: Path) -> None:
    """The archive is whole: integrity ok, no URL stored twice, and no article without the
    frontier mark it is written with (nor a done mark without its article)."""
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(db, "SELECT count(*) - count(DISTINCT url) FROM article") == [(0,)]
    orphans = _rows(
        db,
        "SELECT count(*) FROM article a LEFT JOIN frontier f ON f.url = a.url"
        " WHERE f.state IS NOT 'done'",
    )
    assert orphans == [(0,)]
    undone = _rows(
        db,
        "SELECT count(*) FROM frontier f WHERE f.state = 'done'"
        " AND NOT EXISTS (SELECT 1 FROM article a WHERE a.url = f.url)",
    )
    assert undone == [(0,)]


class Writer:
    """Another connection that takes the write lock (BEGIN IMMEDIATE), writes, holds it for
    HOLD seconds and commits: a second writer on the archive."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.held = threading.Event()
        self.times: list[float] = []  # when it got the lock, when it let go
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        connection = sqlite3.connect(self.db, timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            self.times.append(time.monotonic())
            # A real write: the crawl's view of the database is out of date once it commits.
            connection.execute("CREATE TABLE IF NOT EXISTS other_tool (x)")
            connection.execute("INSERT INTO other_tool VALUES (1)")
            self.held.set()
            time.sleep(HOLD)
            connection.execute("COMMIT")
            self.times.append(time.monotonic())
        finally:
            connection.close()

    def start(self) -> None:
        self.thread.start()
        assert self.held.wait(10), "the other writer never got the lock"


# --- row 40: SQLITE_BUSY -----------------------------------------------------------------------


def test_row40_a_batched_write_waits_for_another_writer(tmp_path: Path):
    # The crawl writes in batches (Archive.batched). A batch that began with a deferred BEGIN
    # and a read failed at once here ("database is locked") instead of waiting.
    db = tmp_path / "x.db"
    page = Page("http://x.test/a", "http://x.test/a", 200, {}, b"<p>x</p>", datetime.now(UTC))
    with Archive(db) as archive:
        writer = Writer(db)
        writer.start()
        began = time.monotonic()
        with archive.batched():
            assert archive.save_page(page, None, None) == "not_article"
        waited = time.monotonic() - began
    writer.thread.join()
    assert waited >= HOLD * 0.8, waited  # it waited for the lock, then wrote
    assert _rows(db, "SELECT url FROM capture") == [("http://x.test/a",)]
    assert _rows(db, "SELECT count(*) FROM other_tool") == [(1,)]


def test_row40_a_second_writer_holding_the_lock_mid_crawl_is_waited_out(
    tmp_path: Path, site_url: str, monkeypatch: pytest.MonkeyPatch
):
    db = tmp_path / "x.db"
    Archive(db).close()
    # A commit after every write, so that between two pages the crawl holds no lock and the
    # other writer can take it mid-crawl.
    monkeypatch.setattr(store, "BATCH_SECONDS", 0.0)
    writer = Writer(db)

    def on_page(url: str, outcome: str) -> None:
        if not writer.thread.is_alive() and not writer.times:
            writer.start()  # after the first page: the crawl's next writes meet the lock

    settings = FetchSettings(delay=0.0, concurrency=1)
    stats = pipeline.crawl([site_url], db, settings=settings, on_page=on_page)
    ended = time.monotonic()
    writer.thread.join()
    got, released = writer.times
    assert got < released <= ended  # the lock was taken during the crawl, which outlasted it
    assert stats.failed == 0 and stats.outcomes["new"] == 4, stats.summary()
    _consistent(db)


# --- row 41: disk full, read-only --------------------------------------------------------------


class PageLimit:
    """`PRAGMA max_page_count` on every SQLite connection opened until `lift()`: the archive
    can grow by `margin` pages only, as if the disk were full."""

    def __init__(self, db: Path, margin: int) -> None:
        [(pages,)] = _rows(db, "PRAGMA page_count")
        self.most = pages + margin
        event.listen(Engine, "connect", self._limit)

    def _limit(self, connection: Any, _record: Any) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.execute(f"PRAGMA max_page_count={self.most}")

    def lift(self) -> None:
        if event.contains(Engine, "connect", self._limit):
            event.remove(Engine, "connect", self._limit)


@pytest.fixture
def full_db(tmp_path: Path) -> Iterator[tuple[Path, PageLimit]]:
    db = tmp_path / "x.db"
    Archive(db).close()
    # 10 pages: the schema is there, the first pages fit, the demo site's 4 articles do not.
    limit = PageLimit(db, 10)
    try:
        yield db, limit
    finally:
        limit.lift()


def test_row41_a_full_database_is_a_clean_error_and_a_rerun_completes(
    full_db: tuple[Path, PageLimit], site_url: str
):
    db, limit = full_db
    code, out, err = _crawl(site_url, db)
    assert code == 3, (code, out, err)
    assert err.count("\n") == 1 and "database or disk is full" in err, err
    _consistent(db)  # the write that did not fit was rolled back whole
    assert _rows(db, "SELECT status, error LIKE 'StorageFull%' FROM run") == [("failed", 1)]
    assert _rows(db, "SELECT count(*) FROM article")[0][0] < 4  # it stopped there

    limit.lift()  # space freed
    code, out, err = _crawl(site_url, db)
    assert code == 0, (out, err)
    _consistent(db)
    assert _rows(db, "SELECT count(*) FROM article") == [(4,)]
    assert _rows(db, "SELECT count(*) FROM frontier WHERE state IN ('pending', 'leased')") == [(0,)]


def test_row41_a_read_only_database_is_a_clean_error(
    tmp_path: Path, site_url: str, monkeypatch: pytest.MonkeyPatch
):
    db = tmp_path / "x.db"
    assert _crawl(site_url, db)[0] == 0
    before = _rows(db, "SELECT (SELECT count(*) FROM fetch), (SELECT count(*) FROM run)")
    monkeypatch.chdir(tmp_path)  # anything created by mistake would land here
    # Opened read-only, as SQLite opens a file it may not write (chmod 0444; a root test run
    # could write it anyway).
    code, out, err = _crawl(site_url, f"sqlite:///file:{db}?mode=ro&uri=true")
    assert code == 1 and out == "", (code, out, err)
    assert err.count("\n") == 1 and "readonly database" in err, err
    assert _rows(db, "SELECT (SELECT count(*) FROM fetch), (SELECT count(*) FROM run)") == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("file:")]


def test_row41_a_run_lock_that_cannot_be_written_is_a_clean_error(tmp_path: Path, site_url: str):
    db = tmp_path / "x.db"
    (tmp_path / "x.db.lock").mkdir()  # what a read-only directory does to os.open, as root too
    code, out, err = _crawl(site_url, db)
    assert code == 1 and out == "", (code, out, err)
    assert err.startswith("xinwen: error: cannot write the run lock: ") and err.count("\n") == 1
    assert not db.exists()


# --- row 42: WAL growth ------------------------------------------------------------------------


def test_row42_a_long_reader_neither_fails_nor_holds_up_the_crawl_and_the_wal_is_emptied(
    tmp_path: Path, site_url: str
):
    db = tmp_path / "x.db"
    wal = Path(f"{db}-wal")
    Archive(db).close()
    # A user's query, read-only as docs/schema.md advises, left in a transaction for the whole
    # crawl: its snapshot keeps the crawl's pages in the WAL.
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM article").fetchone() == (0,)
        began = time.monotonic()
        stats = pipeline.crawl([site_url], db, settings=FAST)
        took = time.monotonic() - began
        assert stats.failed == 0 and stats.outcomes["new"] == 4
        assert reader.execute("SELECT count(*) FROM article").fetchone() == (0,)  # its snapshot
        assert wal.stat().st_size > 0  # kept for the reader...
        assert took < 15, took  # ...but the crawl's end did not wait the 30 s busy timeout
        # The reader's transaction ends; its connection stays open (a notebook, datasette), so
        # closing the crawl's connections no longer empties the WAL by itself.
        reader.execute("COMMIT")
        pipeline.crawl([site_url], db, settings=FAST)
        assert wal.stat().st_size == 0
        assert reader.execute("SELECT count(*) FROM article").fetchone() == (4,)
    finally:
        reader.close()
