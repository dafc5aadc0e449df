"""Reading an archive back out, in batches: the article records and the raw captures.

`xinwen.export` turns these into JSONL, CSV and WARC files; nothing here formats anything.
Filters are bound parameters, so a `--site` value is matched as text and never runs as SQL
(fault matrix row 43).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from ..record import Article, Section
from ..urls import host_of
from .tables import ArticleRow, CaptureRow, SectionRow

if TYPE_CHECKING:
    from . import Archive

__all__ = ["StoredCapture", "articles", "captures"]

# Rows per query: enough to amortize the round trips, small enough to keep memory flat.
_BATCH = 500


@dataclass(frozen=True, slots=True)
class StoredCapture:
    """One archived HTTP response; the bytes are `Archive.payload(payload_sha256)`."""

    id: int
    url: str  # the URL asked for
    final_url: str  # the URL that answered, after redirects
    fetched_at: datetime  # UTC
    status: int
    headers: dict[str, str]  # names lower-cased, as stored (after httpx's content decoding)
    payload_sha256: str


def _article(row: ArticleRow, sections: list[SectionRow]) -> Article:
    return Article(
        url=row.url,
        site=row.site,
        title=row.title,
        category=row.category,
        published_at=row.published_at,
        author=row.author,
        source=row.source,
        lang_original=row.lang_original,
        sections=[
            Section(heading=s.heading, level=s.level, text=s.text, page=s.page) for s in sections
        ],
        body=row.body,
        encoding=row.encoding,
        encoding_source=row.encoding_source,
        extracted_by=json.loads(row.extracted_by or "{}"),
        editor=row.editor,
        published_precision=row.published_precision,
        published_raw=row.published_raw,
        decode_errors=row.decode_errors or 0,
        cjk_ratio=row.cjk_ratio or 0.0,
        flags=json.loads(row.flags or "[]"),
    )


def articles(
    archive: Archive, *, since: str | None = None, site: str | None = None
) -> Iterator[Article]:
    """The stored articles as records (what `xinwen parse` prints), oldest row first.

    `since` keeps articles published on or after it (ISO text, compared as text, as `reparse`
    does); `site` keeps one site (its rule id or host).
    """
    last = 0
    while True:
        query = select(ArticleRow).where(col(ArticleRow.id) > last)
        if since is not None:
            query = query.where(col(ArticleRow.published_at) >= since)
        if site is not None:
            query = query.where(ArticleRow.site == site)
        query = query.order_by(col(ArticleRow.id)).limit(_BATCH)
        with archive._errors(), Session(archive.engine) as session:
            rows = list(session.execute(query).scalars())
            if not rows:
                return
            ids = [row.id for row in rows]
            sections: dict[int, list[SectionRow]] = {i: [] for i in ids if i is not None}
            found = session.execute(
                select(SectionRow)
                .where(col(SectionRow.article_id).in_(ids))
                .order_by(col(SectionRow.article_id), col(SectionRow.position))
            ).scalars()
            for section in found:
                sections[section.article_id].append(section)
        for row in rows:
            assert row.id is not None
            yield _article(row, sections[row.id])
        last = rows[-1].id or 0


def _hosts_of_site(archive: Archive, site: str) -> set[str]:
    """The hosts a site's articles were stored from, plus `site` itself (a site with no rule is
    named by its host)."""
    hosts = {site.lower()}
    query = select(ArticleRow.url).where(col(ArticleRow.site) == site)
    with archive._errors(), Session(archive.engine) as session:
        hosts.update(host_of(url) for url in session.execute(query).scalars())
    return hosts


def captures(
    archive: Archive, *, since: datetime | None = None, site: str | None = None
) -> Iterator[StoredCapture]:
    """The archived responses in the order they were stored.

    `since` (UTC) keeps captures fetched at or after it; `site` keeps those from the hosts of
    that site's articles, or from the host `site`.
    """
    hosts = _hosts_of_site(archive, site) if site is not None else None
    if since is not None:
        since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
    last = 0
    while True:
        query = select(CaptureRow).where(col(CaptureRow.id) > last)
        if since is not None:
            query = query.where(col(CaptureRow.fetched_at) >= since)
        query = query.order_by(col(CaptureRow.id)).limit(_BATCH)
        with archive._errors(), Session(archive.engine) as session:
            rows = list(session.execute(query).scalars())
        if not rows:
            return
        for row in rows:
            assert row.id is not None
            if hosts is not None and not {host_of(row.url), host_of(row.final_url)} & hosts:
                continue
            yield StoredCapture(
                id=row.id,
                url=row.url,
                final_url=row.final_url,
                fetched_at=row.fetched_at,
                status=row.http_status,
                headers=json.loads(row.headers or "{}"),
                payload_sha256=row.payload_sha256,
            )
        last = rows[-1].id or 0
