"""Stage 5: the archive database. The only package that talks SQL.

`Archive` wraps one database (a SQLite file by default) and offers the few operations the
pipeline needs. Every write of one page (raw capture, article, sections, fetch log) is a single
transaction, so a crash never leaves half an article. SQLAlchemy errors become `StoreError`
here and nowhere else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import (
    Connection,
    CursorResult,
    RowMapping,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlmodel import SQLModel

from ..errors import AlreadyRunning, ConfigError, LeaseLost, StorageFull, StoreError, redact
from ..models import Decoded, Page
from ..record import Article
from . import frontier, migrations, search
from .copy import copy_archive
from .engine import checkpoint, database_url, make_engine
from .search import SearchHit
from .tables import SCHEMA_VERSION
from .verify import VerifyReport
from .verify import verify as verify_payloads

__all__ = ["Archive", "database_url"]

# zstd level 3 (its default): on the 242 corpus pages 3.4x at 0.25 ms a page, against 3.7x at
# 1.3 ms for level 10, whose context also kept about 20 MB more of a crawl's memory
# (bench/crawl.py: peak RSS of the crawl's process 145 -> 124 MB). Every page a real crawl
# stores is new, so the level's time is paid on every page.
_ZSTD_LEVEL = 3
_MAX_ERROR_MESSAGE = 500
# pg_advisory_lock key of the run lock ("xinwen" + 2; the migration lock is + 1).
_RUN_LOCK = 0x78696E77656E02


# A crawl's writes go to SQLite in transactions of up to this many writes or this long (about
# 3 writes per page). With a commit per write the database took most of the crawl's time (each
# commit writes its B-tree pages and a full-text segment again); a quarter of a second groups
# dozens of pages on a fast crawl, and a slow one still commits about every page.
BATCH_WRITES = 200
BATCH_SECONDS = 0.25


@dataclass(slots=True)
class _Batch:
    connection: Connection
    committer: ThreadPoolExecutor  # the thread that commits (see `Archive._commit_behind`)
    writes: int = 0  # since the last commit
    since: float = field(default_factory=time.monotonic)  # time of the last commit
    unindexed: bool = False  # articles written since the last commit, not in the index yet
    depth: int = 0  # savepoints open (a write inside a write gets a savepoint of its own)
    # Index text made by a parse worker for the articles written since the last commit.
    prepared: dict[int, tuple[str | None, str, str, str]] = field(default_factory=dict)
    # The commit under way in the committer's thread: until it is done, the connection and
    # the fields above are that thread's.
    committing: Future[None] | None = None


# The write path is SQLAlchemy Core on the models' tables (their column types convert the
# values exactly as the ORM did): the ORM's unit of work (identity map, flushes, object state)
# was most of the time a crawl spent storing a page.
_TABLES = SQLModel.metadata.tables
_ARTICLE, _SECTION, _CAPTURE = _TABLES["article"], _TABLES["section"], _TABLES["capture"]
_FETCH, _RUN, _PAYLOAD = _TABLES["fetch"], _TABLES["run"], _TABLES["payload"]
_REVISION = _TABLES["article_revision"]
_ARTICLE_BY_URL = select(_ARTICLE).where(_ARTICLE.c.url == bindparam("url"))
_ARTICLE_ID = _ARTICLE.c.id == bindparam("article_id")
_PAYLOAD_KNOWN = text("SELECT 1 FROM payload WHERE sha256 = :sha")
# Built once: a statement built for every page was built and given a cache key every time.
_INSERT_CAPTURE, _INSERT_ARTICLE = insert(_CAPTURE), insert(_ARTICLE)
_INSERT_SECTION, _INSERT_FETCH = insert(_SECTION), insert(_FETCH)
# ON CONFLICT: another worker may store the same bytes at the same moment.
_PAYLOAD_INSERT = text(
    "INSERT INTO payload (sha256, size, data) VALUES (:sha, :size, :data) "
    "ON CONFLICT (sha256) DO NOTHING"
)
# validators_for answers {} without a query for a URL this Archive has not stored an article
# under, while the archive held no article when first asked (a first crawl): a set of the URLs
# written since, given up (querying again for every URL) past this many.
_FRESH_URLS = 100_000


def _redact(url: str) -> str:
    return re.sub(r"//[^/@]*@", "//***@", url)


class Archive:
    """One xinwen database.

    >>> archive = Archive("xinwen.db")   # or "postgresql+psycopg://..."   # doctest: +SKIP
    """

    def __init__(self, db: str | Path, *, must_exist: bool = False) -> None:
        self.url = database_url(db)
        self._label = _redact(self.url)
        if must_exist and self.url.startswith("sqlite:///"):
            path = Path(self.url.removeprefix("sqlite:///"))
            if not path.is_file():
                # Reading commands must not leave an empty archive behind a typo.
                raise ConfigError(f"no archive at {path}")
        self._compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)
        self._batch: _Batch | None = None  # the open batch of writes (see `batched`)
        self._leases: dict[str, str] = {}  # frontier URL -> token of the lease this process holds
        self._indexed: bool | None = None  # whether the full-text index exists (asked once)
        # Article URLs written since the archive was found empty (see validators_for); None:
        # not asked yet, or the archive had articles, or too many to keep.
        self._fresh_urls: set[str] | None = None
        self._fresh_asked = False
        with self._errors():
            self.engine = make_engine(self.url)
            self._migrate()

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            root = _root_error(exc)
            reason = str(getattr(root, "orig", None) or root).splitlines()[0]
            error = StorageFull if _is_full(root) else StoreError
            raise error(f"database error: {reason}", url=self._label) from exc

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Group the writes made inside into transactions of up to `BATCH_WRITES` writes or
        `BATCH_SECONDS` (SQLite; elsewhere each write stays its own transaction).

        Each write (a page's rows with its frontier mark, a claim, ...) is a savepoint, so one
        that fails leaves no trace and the others stand. A crash loses the uncommitted ones:
        their URLs are still leased, and the next crawl fetches them again.
        """
        if self._batch is not None or self.engine.dialect.name != "sqlite":
            yield
            return
        with (
            self._errors(),
            self.engine.connect() as connection,
            ThreadPoolExecutor(1, thread_name_prefix="xinwen-commit") as committer,
        ):
            self._batch = batch = _Batch(connection, committer)
            try:
                yield
            except BaseException:
                # Keep what was finished before the error (each write is whole), if we can;
                # the error raised is the first one, not a background commit's.
                with contextlib.suppress(Exception):
                    self._settle(batch)
                with contextlib.suppress(SQLAlchemyError):
                    self._commit(batch)
                raise
            else:
                self._settle(batch)
                self._commit(batch)
            finally:
                self._batch = None

    def committing(self) -> Future[None] | None:
        """The batch's commit under way in the background, if any (see `_commit_behind`):
        until it is done, a write waits for it. A caller with other work to do (the crawl's
        event loop) can wait for it instead of blocking in the write."""
        batch = self._batch
        return batch.committing if batch is not None else None

    @staticmethod
    def _settle(batch: _Batch) -> None:
        """Wait for the batch's commit under way, if any; its error, if it failed, is raised
        here, by the next write."""
        committing, batch.committing = batch.committing, None
        if committing is not None:
            committing.result()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A connection to write on: a transaction of its own, or a savepoint in the open batch."""
        batch = self._batch
        if batch is None:
            with self.engine.begin() as connection:
                yield connection
            return
        self._settle(batch)
        connection = batch.connection
        if not connection.in_transaction():
            # BEGIN first: SQLite's driver would otherwise let the first SAVEPOINT open the
            # transaction, and its RELEASE would commit every write on its own. IMMEDIATE: the
            # write lock is taken now, waiting out another writer (busy_timeout); a deferred
            # BEGIN whose first statement reads fails at once instead when another connection
            # writes before it upgrades (SQLITE_BUSY; fault matrix row 40).
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        # The savepoint on the driver's connection: SQLAlchemy's (begin_nested) compiled and ran
        # its SAVEPOINT and RELEASE through its whole execution path, two of the dozen
        # statements of a stored page (0.25 ms a page in a crawl's process).
        raw = connection.connection.driver_connection
        name = f"xinwen_write_{batch.depth}"
        batch.depth += 1
        try:
            _raw_execute(raw, f"SAVEPOINT {name}")
            try:
                yield connection
            except BaseException:
                # SQLite may have rolled the whole transaction back already (SQLITE_FULL): then
                # there is no savepoint left to go back to, and the first error is the one raised.
                with contextlib.suppress(SQLAlchemyError):
                    _raw_execute(raw, f"ROLLBACK TO {name}")
                    _raw_execute(raw, f"RELEASE {name}")
                raise
            _raw_execute(raw, f"RELEASE {name}")
        finally:
            batch.depth -= 1
        batch.writes += 1
        if batch.depth == 0 and (
            batch.writes >= BATCH_WRITES or time.monotonic() - batch.since >= BATCH_SECONDS
        ):
            self._commit_behind(batch)
            batch.writes, batch.since = 0, time.monotonic()

    def _commit_behind(self, batch: _Batch) -> None:
        """Commit the batch in the committer's thread, while the caller goes on.

        Indexing a batch's articles and committing took ~90 ms every `BATCH_SECONDS` in a
        crawl of bench/crawl.py's site (FTS5's tokenizer and segment writes, SQLite's own
        work): done on the event loop, it stopped fetching and left the parse worker without
        pages, idle a fifth of the crawl. SQLite runs it without Python's lock, so here the
        loop fetches and parses meanwhile; the next write waits for it (`_settle`).
        """
        batch.committing = batch.committer.submit(self._commit, batch)

    def _commit(self, batch: _Batch) -> None:
        """Commit a batch, its articles indexed first (in the same transaction)."""
        try:
            if batch.unindexed and batch.connection.in_transaction():
                search.sync(batch.connection, present=True, prepared=batch.prepared)
        finally:
            batch.prepared.clear()
        batch.unindexed = False
        batch.connection.commit()

    _connection = _write

    def _migrate(self) -> None:
        current = migrations.current_version(self.engine)
        if current is not None and current > SCHEMA_VERSION:
            raise StoreError(
                f"the database has schema version {current}; this xinwen knows up to "
                f"{SCHEMA_VERSION}: upgrade xinwen",
                url=self._label,
            )
        self.migrated = migrations.upgrade(self.engine)  # the versions applied on opening
        self.version = SCHEMA_VERSION

    def _capture(self, connection: Connection, page: Page, decoded: Decoded | None) -> int:
        digest = hashlib.sha256(page.content).hexdigest()
        if connection.execute(_PAYLOAD_KNOWN, {"sha": digest}).first() is None:
            data = self._compressor.compress(page.content)
            connection.execute(
                _PAYLOAD_INSERT, {"sha": digest, "size": len(page.content), "data": data}
            )
        result = connection.execute(
            _INSERT_CAPTURE,
            {
                "url": page.url,
                "final_url": page.final_url,
                "fetched_at": page.fetched_at,
                "http_status": page.status,
                "headers": json.dumps(page.headers, ensure_ascii=False),
                "payload_sha256": digest,
                "encoding": decoded.encoding if decoded else None,
                "encoding_source": decoded.source if decoded else None,
                "decode_errors": decoded.errors if decoded else None,
            },
        )
        return _new_id(result)

    def _upsert(
        self,
        connection: Connection,
        article: Article,
        at: datetime,
        capture: int,
        reason: str = "refetch",
        index: tuple[str, str] | None = None,
    ) -> str:
        digest = _article_hash(article)
        row = connection.execute(_ARTICLE_BY_URL, {"url": article.url}).mappings().first()
        values: dict[str, Any] = {name: getattr(article, name) for name in _COPIED}
        values.update(
            flags=json.dumps(article.flags, ensure_ascii=False),
            lang_original=article.lang_original,
            body=article.body,
            content_hash=digest,
            encoding=article.encoding,
            encoding_source=article.encoding_source,
            extracted_by=json.dumps(article.extracted_by, ensure_ascii=False, sort_keys=True),
        )
        if row is not None:
            article_id = int(row["id"])
            # A re-fetch says the page answered again; a reparse fetched nothing.
            touch: dict[str, Any] = (
                {"last_fetched_at": at, "gone_at": None} if reason == "refetch" else {}
            )
            kept = row["content_hash"] == digest
            if not kept and reason == "refetch" and _cut_short(row["flags"], article):
                # A capture that looks cut off never replaces a complete version (fault
                # matrix row 9): the article stays as it was; the capture is archived.
                kept, outcome = True, "truncated"
            elif kept:
                outcome = "unchanged"
            if kept:
                if touch:
                    connection.execute(
                        update(_ARTICLE).where(_ARTICLE_ID), {**touch, "article_id": article_id}
                    )
                return outcome
            self._keep_revision(connection, row, at, reason)
            connection.execute(delete(_SECTION).where(_SECTION.c.article_id == article_id))
            connection.execute(
                update(_ARTICLE).where(_ARTICLE_ID),
                {**values, **touch, "capture_id": capture, "article_id": article_id},
            )
            outcome = "updated"
        else:
            result = connection.execute(
                _INSERT_ARTICLE,
                {**values, "url": article.url, "first_seen_at": at, "last_fetched_at": at,
                 "capture_id": capture},
            )  # fmt: skip
            article_id = _new_id(result)
            if self._fresh_urls is not None:
                self._fresh_urls.add(article.url)
            outcome = "new"
        if article.sections:
            connection.execute(
                _INSERT_SECTION,
                [
                    {"article_id": article_id, "position": position, "level": section.level,
                     "heading": section.heading, "text": section.text, "page": section.page}
                    for position, section in enumerate(article.sections)
                ],
            )  # fmt: skip
        prepared = (article.title, article.body, *index) if index is not None else None
        self._index(connection, article_id, prepared)  # the article as just written
        return outcome

    def _index(
        self,
        connection: Connection,
        article_id: int,
        prepared: tuple[str | None, str, str, str] | None = None,
    ) -> None:
        """Bring the full-text index up to date with an article just written (store/search.py).

        In a SQLite batch, the journal is applied once, just before the batch commits: FTS5
        writes its pending terms out as a new segment at every savepoint, so indexing each
        article in its own savepoint wrote a segment per article (and merged them again),
        about a third of the time spent storing a page. Elsewhere, at once, in the write's
        own transaction. Whether the index exists is asked once per `Archive`, not for every
        article: it is made with the archive and dropped by nobody but a user at the SQL
        prompt. `prepared`: the article's title and body with their index text, made already.
        """
        if self._indexed is None:
            self._indexed = search.exists(connection)
        if not self._indexed:
            return
        known = {article_id: prepared} if prepared is not None else None
        if self._batch is not None:
            self._batch.unindexed = True
            if known:
                self._batch.prepared.update(known)
        else:
            search.sync(connection, only=article_id, present=True, prepared=known)

    def _keep_revision(
        self, connection: Connection, row: RowMapping, at: datetime, reason: str
    ) -> None:
        query = (
            select(_SECTION.c.heading, _SECTION.c.level, _SECTION.c.text, _SECTION.c.page)
            .where(_SECTION.c.article_id == row["id"])
            .order_by(_SECTION.c.position)
        )
        sections = [dict(section) for section in connection.execute(query).mappings()]
        record = {name: row[name] for name in (*_COPIED, "url", "lang_original", "body")}
        record["sections"] = sections
        record["flags"] = json.loads(row["flags"] or "[]")
        connection.execute(
            insert(_REVISION),
            {
                "article_id": row["id"],
                "content_hash": row["content_hash"],
                "title": row["title"],
                "published_at": row["published_at"],
                "body": row["body"],
                "record": json.dumps(record, ensure_ascii=False),
                "capture_id": row["capture_id"],
                "superseded_at": at,
                "reason": reason,
            },
        )

    def save_page(
        self,
        page: Page,
        decoded: Decoded | None,
        article: Article | None,
        *,
        outcome: str = "not_article",
        run_id: int | None = None,
        attempts: int | None = None,
        frontier_url: str | None = None,
        index: tuple[str, str] | None = None,
    ) -> str:
        """Store one fetched page: its raw capture, its article if it is one, and a fetch row.

        Returns the outcome written to the fetch log: `new`, `updated` or `unchanged` for an
        article, else the `outcome` given (`not_article`, or `part` for a later part of a
        multi-page article). All of it is one transaction.

        `index`: the article's title and body as `bigrams.index_text` gives them, when a parse
        worker made them already (the full-text index then takes them as they are).
        """
        args = (page, decoded, article, outcome, run_id, attempts, frontier_url, index)
        try:
            return self._save_page(*args)
        except StoreError as exc:
            if (
                not isinstance(exc.__cause__, IntegrityError)
                or self.engine.dialect.name == "sqlite"
            ):
                raise
            # Two workers stored the same article URL at once (two frontier URLs redirecting to
            # one page): the loser's insert is now an update of the winner's row.
            return self._save_page(*args)

    def _save_page(
        self,
        page: Page,
        decoded: Decoded | None,
        article: Article | None,
        outcome: str,
        run_id: int | None,
        attempts: int | None,
        frontier_url: str | None,
        index: tuple[str, str] | None = None,
    ) -> str:
        with self._errors(), self._write() as connection:
            capture = self._capture(connection, page, decoded)
            if article is not None:
                outcome = self._upsert(connection, article, page.fetched_at, capture, index=index)
            connection.execute(
                _INSERT_FETCH,
                {"url": redact(page.url), "fetched_at": page.fetched_at, "outcome": outcome,
                 "http_status": page.status, "elapsed_ms": page.elapsed_ms,
                 "capture_id": capture, "run_id": run_id, "attempts": attempts},
            )  # fmt: skip
            if frontier_url is not None:
                # The page's rows and its frontier mark commit together, or not at all.
                state = (
                    "done" if article is not None else ("part" if outcome == "part" else "listing")
                )
                self._finish(connection, frontier_url, state=state)
        return outcome

    def _finish(self, connection: Connection, url: str, **mark: Any) -> None:
        """Mark a frontier URL, fenced by this process's lease on it if it holds one."""
        token = self._leases.get(url)
        if not frontier.finish(connection, url, token=token, **mark):
            self._leases.pop(url, None)
            raise LeaseLost(
                f"the lease on {redact(url)} ran out and another worker took it over",
                url=self._label,
                lease_url=url,
            )
        self._leases.pop(url, None)

    def save_failure(
        self,
        url: str,
        *,
        kind: str,
        message: str,
        http_status: int | None = None,
        at: datetime | None = None,
        elapsed_ms: int | None = None,
        run_id: int | None = None,
        attempts: int | None = None,
        frontier_url: str | None = None,
    ) -> None:
        """Record a failed fetch or extraction of one URL (and fail it in the frontier)."""
        with self._errors(), self._write() as connection:
            connection.execute(
                _INSERT_FETCH,
                {"url": redact(url), "fetched_at": at or datetime.now(UTC), "outcome": "failed",
                 "http_status": http_status, "error_kind": kind,
                 "error_message": redact(message)[:_MAX_ERROR_MESSAGE], "run_id": run_id,
                 "attempts": attempts, "elapsed_ms": elapsed_ms},
            )  # fmt: skip
            if frontier_url is not None:
                self._finish(
                    connection, frontier_url, state="failed", kind=kind,
                    message=redact(message)[:_MAX_ERROR_MESSAGE],
                )  # fmt: skip

    def body_length(self, url: str) -> int | None:
        """The length of the body of the article stored under `url`; None if there is none."""
        rows = self.query("SELECT length(body) AS n FROM article WHERE url = :u", {"u": url})
        return int(rows[0]["n"]) if rows else None

    def stored_title(self, url: str) -> str | None:
        """The title of the article stored under `url`; None if there is none (or no title)."""
        rows = self.query("SELECT title FROM article WHERE url = :u", {"u": url})
        return rows[0]["title"] if rows else None

    def save_alias(self, url: str, article_url: str, at: datetime) -> None:
        """Record that the article stored under `article_url` was fetched as `url` too (a
        redirect, or a copy whose rel=canonical names it); see the `alias` table."""
        with self._errors(), self._connection() as connection:
            updated = connection.execute(
                text("UPDATE alias SET article_url = :a, last_seen_at = :at WHERE url = :u"),
                {"u": url, "a": article_url, "at": at},
            )
            if updated.rowcount == 0:
                connection.execute(
                    text("INSERT INTO alias (url, article_url, first_seen_at, last_seen_at) "
                         "VALUES (:u, :a, :at, :at)"),
                    {"u": url, "a": article_url, "at": at},
                )  # fmt: skip

    def validators_for(self, url: str) -> dict[str, str]:
        """Conditional-request headers for re-checking a stored article: its capture's ETag and
        Last-Modified, as `If-None-Match` and `If-Modified-Since`; empty if there are none."""
        if not self._may_hold(url):
            return {}
        rows = self.query(
            "SELECT c.headers FROM article a JOIN capture c ON c.id = a.capture_id"
            " WHERE a.url = :u",
            {"u": url},
        )
        if not rows:
            return {}
        headers = json.loads(rows[0]["headers"])
        found = {}
        if headers.get("etag"):
            found["If-None-Match"] = headers["etag"]
        if headers.get("last-modified"):
            found["If-Modified-Since"] = headers["last-modified"]
        return found

    def _may_hold(self, url: str) -> bool:
        """False when no article can be stored under `url`: the archive (SQLite, which one
        crawl writes at a time) held none when first asked, and this `Archive` has not stored
        one there since. Spares a first crawl a query per URL."""
        if not self._fresh_asked:
            self._fresh_asked = True
            if self.engine.dialect.name == "sqlite" and not self.query(
                "SELECT 1 FROM article LIMIT 1"
            ):
                self._fresh_urls = set()
        fresh = self._fresh_urls
        if fresh is None or url in fresh:
            return True
        if len(fresh) > _FRESH_URLS:
            self._fresh_urls = None  # a long crawl: the set would outgrow what it saves
            return True
        return False

    def save_not_modified(
        self,
        page: Page,
        *,
        run_id: int | None = None,
        attempts: int | None = None,
        frontier_url: str | None = None,
    ) -> str:
        """Record a 304 answer to a re-check: the article is unchanged and nothing is stored
        but the fetch row, in one transaction with the frontier mark. Returns `unchanged`."""
        with self._errors(), self._write() as connection:
            connection.execute(
                text("UPDATE article SET last_fetched_at = :at, gone_at = NULL WHERE url = :u"),
                {"at": page.fetched_at, "u": page.url},
            )
            connection.execute(
                _INSERT_FETCH,
                {"url": redact(page.url), "fetched_at": page.fetched_at, "outcome": "unchanged",
                 "http_status": page.status, "elapsed_ms": page.elapsed_ms, "run_id": run_id,
                 "attempts": attempts},
            )  # fmt: skip
            if frontier_url is not None:
                self._finish(connection, frontier_url, state="done")
        return "unchanged"

    def frontier_begin(
        self, start_urls: list[str], recent: timedelta, rest: timedelta, *, shared: bool = False
    ) -> None:
        """Start a crawl's use of the frontier: listings and recent articles that have rested
        queued again, start URLs queued, and (unless `shared`: workers) dead leases given back."""
        with self._errors(), self._connection() as connection:
            frontier.begin(connection, start_urls, recent, rest, shared=shared)

    def frontier_add(self, urls: list[str], *, depth: int, state: str = "pending") -> None:
        """Record newly found URLs (known ones keep their state)."""
        if urls:
            with self._errors(), self._connection() as connection:
                frontier.add(connection, urls, depth=depth, state=state)

    def frontier_claim(
        self,
        *,
        shared: bool = False,
        lease: timedelta = frontier.LEASE,
        per_host: int = 2,
        delay: float = 1.0,
    ) -> tuple[str, int] | None:
        """Lease the next URL and its depth, or None; the lease is held by this `Archive`.

        `shared`: for one of many workers (PostgreSQL), keeping `per_host` URLs in flight per
        host and `delay` seconds between claims on one host across all of them.
        """
        with self._errors(), self._connection() as connection:
            if shared:
                held = frontier.claim_shared(
                    connection, lease=lease, per_host=per_host, delay=delay
                )
            else:
                held = frontier.claim(connection, lease)
        if held is None:
            return None
        self._leases[held.url] = held.token
        return held.url, held.depth

    def frontier_renew(self, lease: timedelta = frontier.LEASE) -> int:
        """Extend every lease this process holds; returns how many it still holds."""
        with self._errors(), self._connection() as connection:
            return frontier.renew(connection, list(self._leases.values()), lease)

    def frontier_release(self) -> None:
        """Give back the leases this process still holds (a worker stopping), unfinished."""
        with self._errors(), self._connection() as connection:
            frontier.release(connection, list(self._leases.values()))
        self._leases.clear()

    def frontier_hosts(self) -> set[str]:
        """The hosts the frontier holds URLs of."""
        with self._errors(), self.engine.connect() as connection:
            return set(connection.execute(text("SELECT host FROM host")).scalars())

    def frontier_unfinished(self) -> int:
        """URLs that some crawl may still work on (pending or leased)."""
        with self._errors(), self.engine.connect() as connection:
            return frontier.unfinished(connection)

    def set_host_delay(self, host: str, delay: float) -> None:
        """Record a host's Crawl-delay for every worker on this database."""
        with self._errors(), self._connection() as connection:
            frontier.set_delay(connection, host, delay)

    @contextmanager
    def run_lock(self, *, shared: bool) -> Iterator[None]:
        """PostgreSQL's run lock: one crawl alone, or any number of workers (`shared`).

        A session-level advisory lock on a connection held for the run: the server releases it
        when the connection ends, however the process ends. SQLite archives use the file lock
        in `xinwen.lock` instead; on them this does nothing.
        """
        if self.engine.dialect.name != "postgresql":
            yield
            return
        function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        with self._errors(), self.engine.connect() as connection:
            got = connection.execute(text(f"SELECT {function}(:k)"), {"k": _RUN_LOCK}).scalar()
            connection.commit()
            if not got:
                holder = "a crawl is" if shared else "another crawl or workers are"
                raise AlreadyRunning(f"{holder} running on this archive", path=self._label)
            try:
                yield
            finally:
                # Released with the connection; said explicitly so a pooled one does not keep it.
                unlock = f"{function.replace('try_advisory_lock', 'advisory_unlock')}(:k)"
                connection.execute(text(f"SELECT {unlock}"), {"k": _RUN_LOCK})
                connection.commit()

    def frontier_counts(self) -> dict[str, int]:
        """URLs per frontier state."""
        with self._errors(), self.engine.connect() as connection:
            return frontier.counts(connection)

    def begin_run(self, start_urls: list[str]) -> int:
        """Record the start of a crawl; returns its run id."""
        with self._errors(), self._write() as connection:
            result = connection.execute(
                insert(_RUN),
                {
                    "started_at": datetime.now(UTC),
                    "start_urls": json.dumps([redact(u) for u in start_urls], ensure_ascii=False),
                },
            )
            return _new_id(result)

    def finish_run(
        self, run_id: int, counts: dict[str, int], *, status: str, error: str | None = None
    ) -> None:
        """Record the end of a crawl: `finished`, or `failed` with the error."""
        values: dict[str, Any] = {
            "finished_at": datetime.now(UTC),
            "status": status,
            "error": redact(error)[:_MAX_ERROR_MESSAGE] if error else None,
        }
        for name in ("fetched", "new", "updated", "unchanged", "not_article", "failed"):
            values[name] = counts.get(name, 0)
        with self._errors(), self._write() as connection:
            connection.execute(update(_RUN).where(_RUN.c.id == run_id).values(**values))

    def mark_gone(self, url: str, at: datetime) -> bool:
        """Record that the site no longer serves an archived article (404/410); keeps the article.

        Returns False when no article is stored under `url`.
        """
        with self._errors(), self._write() as connection:
            query = select(_ARTICLE.c.id, _ARTICLE.c.gone_at).where(_ARTICLE.c.url == url)
            row = connection.execute(query).first()
            if row is None:
                return False
            if row.gone_at is None:
                connection.execute(
                    update(_ARTICLE).where(_ARTICLE.c.id == row.id).values(gone_at=at)
                )
            return True

    def history(self, url: str) -> list[dict[str, Any]]:
        """The versions of one article, oldest first; the last is the current one.

        Each has `title`, `published_at`, `body`, `content_hash`, `since` (when it was first
        stored), `until` (when the next version replaced it; None for the current one) and
        `reason` (what replaced it: refetch or reparse).
        """
        with self._errors(), self.engine.connect() as connection:
            row = connection.execute(_ARTICLE_BY_URL, {"url": url}).first()
            if row is None:
                return []
            revisions = connection.execute(
                select(_REVISION).where(_REVISION.c.article_id == row.id).order_by(_REVISION.c.id)
            )
            versions: list[dict[str, Any]] = []
            since = row.first_seen_at
            for old in revisions:
                versions.append(
                    {"title": old.title, "published_at": old.published_at, "body": old.body,
                     "content_hash": old.content_hash, "since": since,
                     "until": old.superseded_at, "reason": old.reason}
                )  # fmt: skip
                since = old.superseded_at
            versions.append(
                {"title": row.title, "published_at": row.published_at, "body": row.body,
                 "content_hash": row.content_hash, "since": since, "until": None,
                 "reason": None, "gone_at": row.gone_at}
            )  # fmt: skip
        return versions

    def stored_articles(
        self, site: str | None = None, since: str | None = None
    ) -> list[tuple[str, int]]:
        """(url, capture id) of the stored articles, for reparsing.

        `since` keeps articles published on or after it (ISO text, compared as text).
        """
        sql = "SELECT url, capture_id FROM article WHERE capture_id IS NOT NULL"
        params: dict[str, Any] = {}
        if site is not None:
            sql += " AND site = :site"
            params["site"] = site
        if since is not None:
            sql += " AND published_at >= :since"
            params["since"] = since
        rows = self.query(sql + " ORDER BY id", params)
        return [(row["url"], int(row["capture_id"])) for row in rows]

    def capture_page(self, capture_id: int) -> Page:
        """A stored capture as the `Page` it was fetched as (raw bytes included)."""
        with self._errors(), self.engine.connect() as connection:
            row = connection.execute(select(_CAPTURE).where(_CAPTURE.c.id == capture_id)).first()
        if row is None:
            raise StoreError(f"no capture {capture_id}", url=self._label)
        return Page(
            url=row.url,
            final_url=row.final_url,
            status=row.http_status,
            headers=json.loads(row.headers),
            content=self.payload(row.payload_sha256),
            fetched_at=row.fetched_at.replace(tzinfo=UTC) if row.fetched_at.tzinfo is None
            else row.fetched_at,
        )  # fmt: skip

    def latest_capture(self, url: str) -> int | None:
        """The id of the newest capture of `url` (as requested or after redirects)."""
        rows = self.query(
            "SELECT id FROM capture WHERE url = :u OR final_url = :u ORDER BY id DESC LIMIT 1",
            {"u": url},
        )
        return int(rows[0]["id"]) if rows else None

    def save_reparsed(self, article: Article, capture_id: int, at: datetime) -> str:
        """Store an article rebuilt from its stored capture: `updated` (the previous version is
        kept as a revision) or `unchanged`."""
        with self._errors(), self._write() as connection:
            return self._upsert(connection, article, at, capture_id, reason="reparse")

    def search(
        self,
        query: str,
        *,
        site: str | None = None,
        since: str | None = None,
        until: str | None = None,
        category: str | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """Full-text search of the articles, best first, with highlighted snippets.

        `query` is in simplified script (`xinwen.pipeline.search` converts a traditional one);
        space-separated terms must all occur. SQLite and PostgreSQL: see `store/search.py`.

        >>> Archive("xinwen.db").search("逾期", site="example.com", limit=5)  # doctest: +SKIP
        """
        with self._errors(), self._connection() as connection:
            return search.search(
                connection,
                query,
                site=site,
                since=since,
                until=until,
                category=category,
                limit=limit,
            )

    def copy_to(
        self, target: Archive, on_table: Callable[[str, int], None] | None = None
    ) -> dict[str, int]:
        """Copy every row into the empty archive `target` (any engine); rows per table.

        `on_table(name, rows)` is called as each table is done. See `store/copy.py`.
        """
        with self._errors():
            return copy_archive(self.engine, target.engine, on_table=on_table)

    def payload(self, sha256: str) -> bytes:
        """The raw bytes of a stored payload."""
        with self._errors(), self.engine.connect() as connection:
            row = connection.execute(
                select(_PAYLOAD.c.data).where(_PAYLOAD.c.sha256 == sha256)
            ).first()
        if row is None:
            raise StoreError(f"no payload {sha256}", url=self._label)
        return zstandard.ZstdDecompressor().decompress(row.data)

    def checkpoint(self) -> bool:
        """Move a SQLite archive's write-ahead log into the database file and truncate the log
        (the end of a crawl; fault matrix row 42). A reader in a long transaction can hold it
        up: then, after about 2 s of tries, False (the next crawl tries again)."""
        with self._errors():
            return checkpoint(self.engine)

    def verify(self, on_payload: Callable[[int], None] | None = None) -> VerifyReport:
        """Recompute the sha256 of every stored payload (raw body) and report those whose bytes
        no longer match it (see `store/verify.py`). `on_payload(checked)` follows progress."""
        with self._errors(), self.engine.connect() as connection:
            return verify_payloads(connection, on_payload)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a read query, as dictionaries (for the CLI's summaries and the demo)."""
        with self._errors(), self.engine.connect() as connection:
            result = connection.execute(text(sql), params or {})
            return [dict(row._mapping) for row in result]


# Record fields stored as they are in `article` columns of the same name.
_COPIED = (
    "site", "title", "category", "published_at", "published_precision", "published_raw",
    "author", "source", "editor", "decode_errors", "cjk_ratio",
)  # fmt: skip


def _raw_execute(raw: Any, statement: str) -> None:
    """Run a statement on the driver's connection, its errors raised as SQLAlchemy's would be
    (`Archive._errors` makes a `StoreError` or `StorageFull` of them)."""
    try:
        raw.execute(statement)
    except sqlite3.Error as exc:
        raise OperationalError(statement, None, exc) from exc


def _root_error(exc: SQLAlchemyError) -> SQLAlchemyError:
    """The database error that started it all: SQLite rolls the whole transaction back on
    SQLITE_FULL, so the savepoint's rollback then fails with "no such savepoint", which would
    hide the reason."""
    root = exc
    seen = {id(exc)}
    context = exc.__context__
    while context is not None and id(context) not in seen:
        seen.add(id(context))
        if isinstance(context, SQLAlchemyError):
            root = context
        context = context.__context__
    return root


def _is_full(exc: SQLAlchemyError) -> bool:
    """Whether the database could not grow: SQLITE_FULL (a full disk, or max_page_count), or
    PostgreSQL's disk_full (SQLSTATE 53100)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    return getattr(orig, "sqlstate", None) == "53100"


def _new_id(result: CursorResult[Any]) -> int:
    """The id an INSERT of one row gave it."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _cut_short(stored_flags: str | None, article: Article) -> bool:
    """Whether `article` is a capture that looks cut off (`truncated_suspect`) and the stored
    version (its `flags`) is not: a suspect replaces only a suspect."""
    flagged = "truncated_suspect" in article.flags
    return flagged and "truncated_suspect" not in json.loads(stored_flags or "[]")


def _article_hash(article: Article) -> str:
    payload = json.dumps(
        article.model_dump(exclude={"url", "encoding", "encoding_source", "extracted_by"}),
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()
