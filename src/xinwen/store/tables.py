"""The SQL schema: a public API (docs/schema.md). Change it only with a migration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary
from sqlmodel import Field, SQLModel

# Bumped by every migration (migrations.py); each applied version is a row of `schema_version`.
SCHEMA_VERSION = 11


class ArticleRow(SQLModel, table=True):
    """One article per canonical URL, as last extracted."""

    __tablename__ = "article"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, index=True)
    site: str = Field(index=True)
    title: str | None = None
    category: str | None = Field(default=None, index=True)
    published_at: str | None = Field(default=None, index=True)
    author: str | None = None
    source: str | None = None
    editor: str | None = None  # since schema 2
    published_precision: str | None = None  # since schema 2: day, minute or second
    published_raw: str | None = None  # since schema 2: the date text as the page shows it
    lang_original: str
    body: str
    content_hash: str
    encoding: str
    encoding_source: str
    extracted_by: str  # JSON object: field -> "rule:<id>" | "generic:<method>"
    decode_errors: int | None = None  # since schema 2: U+FFFD the decode produced
    cjk_ratio: float | None = None  # since schema 2: Han characters / non-space characters
    flags: str | None = None  # since schema 2: JSON array, e.g. ["short_body", "date_missing"]
    first_seen_at: datetime
    last_fetched_at: datetime
    capture_id: int | None = Field(default=None, foreign_key="capture.id")
    gone_at: datetime | None = None  # since schema 4: the site answered 404/410 for it


class RevisionRow(SQLModel, table=True):
    """A previous version of an article, kept when a re-fetch or a reparse changed it."""

    __tablename__ = "article_revision"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), index=True)
    )
    content_hash: str
    title: str | None = None
    published_at: str | None = None
    body: str
    record: str  # JSON: the whole record of that version, sections included
    capture_id: int | None = Field(default=None, foreign_key="capture.id")
    superseded_at: datetime  # when the next version replaced it
    reason: str  # refetch (the page changed) or reparse (the parser changed)


class SectionRow(SQLModel, table=True):
    """The body of an article split at its headings, in order."""

    __tablename__ = "section"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), index=True)
    )
    position: int
    level: int
    heading: str | None = None
    text: str
    page: int = 1  # since schema 3: the part of a multi-page article the section is on


class PayloadRow(SQLModel, table=True):
    """Raw response bodies, zstd-compressed, stored once per sha256 of the uncompressed bytes."""

    __tablename__ = "payload"

    sha256: str = Field(primary_key=True)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CaptureRow(SQLModel, table=True):
    """One successful HTTP response: what was asked, what came back, how it was decoded."""

    __tablename__ = "capture"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True)
    final_url: str
    fetched_at: datetime
    http_status: int
    headers: str  # JSON object of the response headers
    payload_sha256: str = Field(foreign_key="payload.sha256", index=True)
    encoding: str | None = None
    encoding_source: str | None = None
    decode_errors: int | None = None


class FetchRow(SQLModel, table=True):
    """Every fetch attempt of a crawl and its outcome, failures included."""

    __tablename__ = "fetch"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True)
    fetched_at: datetime
    outcome: str = Field(index=True)  # new, updated, unchanged, not_article, failed
    http_status: int | None = None
    error_kind: str | None = None  # the `kind` of the xinwen error, e.g. http_status, timeout
    error_message: str | None = None
    elapsed_ms: int | None = None
    capture_id: int | None = Field(default=None, foreign_key="capture.id")
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)  # since schema 7
    attempts: int | None = None  # since schema 7: tries it took, retries included


class RunRow(SQLModel, table=True):
    """One `xinwen crawl` run: when, from where, and what it did (since schema 7)."""

    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime
    finished_at: datetime | None = None
    start_urls: str  # JSON array
    status: str = "running"  # running, finished or failed (a crash leaves running)
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    not_article: int = 0
    failed: int = 0
    error: str | None = None  # why a failed run failed


class FrontierRow(SQLModel, table=True):
    """The crawl frontier: every URL a crawl has found, and how far it got (since schema 8)."""

    __tablename__ = "frontier"
    # Since schema 11: a claim takes the first pending URL of this index (shallowest, then
    # oldest) instead of sorting every pending URL; it serves lookups by state alone as well.
    __table_args__ = (Index("ix_frontier_claim", "state", "depth", "discovered_at"),)

    url: str = Field(primary_key=True)  # canonical form
    host: str | None = Field(default=None, index=True)  # since schema 10: host[:port] of url
    state: str  # pending, leased, done, listing, part or failed
    depth: int = 0  # links followed from a start URL
    attempts: int = 0  # times a crawl took it on
    lost: int = 0  # since schema 10: times its lease expired with its worker gone
    lease_token: str | None = None
    lease_until: datetime | None = None
    last_error_kind: str | None = None
    last_error: str | None = None
    discovered_at: datetime
    updated_at: datetime


class HostRow(SQLModel, table=True):
    """Per-host politeness shared by all workers on one database (since schema 10)."""

    __tablename__ = "host"

    host: str = Field(primary_key=True)  # host[:port], as in frontier.host
    next_allowed_at: datetime  # no worker starts a request to the host before this
    delay: float | None = None  # the host's own least gap in seconds (robots.txt Crawl-delay)


class AliasRow(SQLModel, table=True):
    """Another URL an article was fetched under (since schema 9): a URL that redirected to it,
    or an AMP or mobile copy whose rel=canonical names it."""

    __tablename__ = "alias"

    url: str = Field(primary_key=True)  # canonical form of the other URL
    article_url: str = Field(index=True)  # the `article.url` it stands for
    first_seen_at: datetime
    last_seen_at: datetime


class SchemaVersion(SQLModel, table=True):
    """The schema versions applied to this database, one row each (see migrations.py)."""

    __tablename__ = "schema_version"

    version: int = Field(primary_key=True)
    applied_at: datetime
