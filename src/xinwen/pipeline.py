"""The only place that chains the stages: discover -> fetch -> parse -> normalize -> store.

`extract()` runs decode -> parse -> normalize on bytes already in hand; `crawl()` runs the whole
chain over a site and returns the run's counts. Failures of single URLs are recorded in the
archive's `fetch` table and counted, never raised; only configuration and storage errors escape.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import discover, encoding, normalize, parse, quality, urls
from .errors import ArchiveError, ConfigError, ExtractError
from .fetch import Fetcher, FetchSettings, Transport
from .models import Article, Decoded, Extracted, Page
from .parse.trace import Trace
from .rules import SiteRule, rule_for
from .store import Archive

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


def _decode(data: bytes | str, content_type: str | None) -> Decoded:
    if isinstance(data, str):
        return Decoded(data, "utf-8", "str", 0)
    return encoding.decode(data, content_type)


def _site(url: str | None, rule: SiteRule | None) -> str:
    if rule is not None:
        return rule.id
    return urls.host_of(url) if url else ""


def _process(
    data: bytes | str,
    url: str | None,
    rules: Sequence[SiteRule],
    content_type: str | None,
    trace: Trace | None = None,
    fetched_at: datetime | None = None,
) -> tuple[Decoded, Extracted, Article]:
    rule = rule_for(urls.host_of(url), rules) if url else None
    decoded = _decode(data, content_type)
    try:
        extracted = parse.extract(decoded.text, url, rule, trace, fetched_at)
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExtractError(f"cannot parse the page: {exc}", url=url) from exc
    article = normalize.normalize(
        extracted, decoded, url=urls.canonical_url(url) if url else "", site=_site(url, rule)
    )
    return decoded, extracted, quality.assess(article, decoded)


def extract(
    data: bytes | str,
    url: str | None = None,
    *,
    rules: Sequence[SiteRule] = (),
    content_type: str | None = None,
) -> Article:
    """Extract one article from a page's raw bytes (or already decoded text).

    >>> data = open("page.html", "rb").read()  # doctest: +SKIP
    >>> article = extract(data, url="https://news.example.com/a/1.html")  # doctest: +SKIP
    >>> article.title, article.published_at  # doctest: +SKIP
    ('众信普惠逾期一年多该如何处理', '2024-11-06T19:15:32+08:00')

    `rules` are site rules (see `load_rules`); the one matching the URL's host is used.
    """
    return _process(data, url, rules, content_type)[2]


async def fetch_one(url: str, settings: FetchSettings | None = None) -> Page:
    """Fetch a single page (for `xinwen parse URL`)."""
    _validate_start([url])
    async with Fetcher(settings) as fetcher:
        return await fetcher.fetch(url)


def explain(
    data: bytes | str,
    url: str | None = None,
    *,
    rules: Sequence[SiteRule] = (),
    content_type: str | None = None,
) -> tuple[Article, Trace]:
    """Extract one article and say, per field, which candidates were considered and why."""
    trace = Trace()
    article = _process(data, url, rules, content_type, trace)[2]
    return article, trace


@dataclass(slots=True)
class RunStats:
    """What one crawl did."""

    fetched: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # new, updated, unchanged, ...
    failures: Counter[str] = field(default_factory=Counter)  # error kind -> count
    elapsed: float = 0.0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def summary(self) -> str:
        """The one-line summary printed at the end of a crawl."""
        parts = [f"fetched {self.fetched}"] + [
            f"{self.outcomes[k]} {k.replace('_', ' ')}"
            for k in ("new", "updated", "unchanged", "not_article")
        ]
        failed = f"failed {self.failed}"
        if self.failures:
            failed += " (" + ", ".join(f"{k} {v}" for k, v in sorted(self.failures.items())) + ")"
        return ", ".join([*parts, failed]) + f" in {self.elapsed:.1f} s"


def _validate_start(given: Iterable[str]) -> list[str]:
    starts = []
    for url in given:
        canonical = urls.canonical_url(url)
        if not canonical.startswith(("http://", "https://")) or not urls.host_of(canonical):
            raise ConfigError(f"not an http(s) URL: {url!r}")
        starts.append(canonical)
    if not starts:
        raise ConfigError("no start URL given")
    return starts


def crawl(
    start_urls: Iterable[str],
    db: str | Path = "xinwen.db",
    *,
    max_pages: int = 1000,
    settings: FetchSettings | None = None,
    rules: Sequence[SiteRule] = (),
    on_page: Callable[[str, str], None] | None = None,
) -> RunStats:
    """Crawl into the database `db` (a SQLite path or an SQLAlchemy URL); see `crawl_async`.

    The start URLs and options are checked before the database is opened, so a usage error
    touches nothing.
    """
    starts = _validate_start(start_urls)
    if max_pages < 1:
        raise ConfigError("max_pages must be at least 1")
    with Archive(db) as archive:
        return asyncio.run(
            crawl_async(
                starts, archive, max_pages=max_pages, settings=settings, rules=rules,
                on_page=on_page,
            )
        )  # fmt: skip


async def crawl_async(
    start_urls: Iterable[str],
    archive: Archive,
    *,
    max_pages: int = 1000,
    settings: FetchSettings | None = None,
    rules: Sequence[SiteRule] = (),
    transport: Transport | None = None,
    on_page: Callable[[str, str], None] | None = None,
) -> RunStats:
    """Crawl from `start_urls`, following links on the same hosts, storing each article.

    `max_pages` caps the number of fetches. `on_page(url, outcome)` is called after each one.
    """
    starts = _validate_start(start_urls)
    if max_pages < 1:
        raise ConfigError("max_pages must be at least 1")
    settings = settings or FetchSettings()
    hosts = {urls.host_of(u) for u in starts}
    seen: set[str] = set(starts)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in starts:
        queue.put_nowait(url)
    stats = RunStats()
    began = time.monotonic()
    budget = max_pages

    async def handle(fetcher: Fetcher, url: str) -> None:
        try:
            page = await fetcher.fetch(url)
        except ArchiveError as exc:
            status = getattr(exc, "status", None)
            archive.save_failure(url, kind=exc.kind, message=str(exc), http_status=status)
            stats.failures[exc.kind] += 1
            _report(url, "failed")
            return
        stats.fetched += 1
        outcome = _store(archive, page, rules, queue, hosts, seen, stats)
        _report(url, outcome)

    def _report(url: str, outcome: str) -> None:
        if on_page is not None:
            on_page(url, outcome)

    async def worker(fetcher: Fetcher) -> None:
        nonlocal budget
        while True:
            url = await queue.get()
            try:
                if budget > 0:
                    budget -= 1
                    await handle(fetcher, url)
            finally:
                queue.task_done()

    async with Fetcher(settings, transport=transport) as fetcher:
        workers = [asyncio.create_task(worker(fetcher)) for _ in range(settings.concurrency)]
        try:
            joined = asyncio.create_task(queue.join())
            # A worker that dies (a storage error) must end the run, not leave join() waiting.
            done, _ = await asyncio.wait([joined, *workers], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not joined:
                    task.result()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
    stats.elapsed = time.monotonic() - began
    return stats


def _store(
    archive: Archive,
    page: Page,
    rules: Sequence[SiteRule],
    queue: asyncio.Queue[str],
    hosts: set[str],
    seen: set[str],
    stats: RunStats,
) -> str:
    content_type = page.content_type
    if content_type and not content_type.lower().startswith(_HTML_TYPES):
        outcome = archive.save_page(page, None, None)
        stats.outcomes[outcome] += 1
        return outcome
    try:
        decoded, extracted, article = _process(
            page.content, page.final_url, rules, content_type, fetched_at=page.fetched_at
        )
    except ExtractError as exc:
        archive.save_failure(page.url, kind=exc.kind, message=str(exc), http_status=page.status)
        stats.failures[exc.kind] += 1
        return "failed"
    for url in discover.follow(extracted.links, hosts, seen):
        queue.put_nowait(url)
    outcome = archive.save_page(page, decoded, article if extracted.is_article else None)
    stats.outcomes[outcome] += 1
    return outcome
