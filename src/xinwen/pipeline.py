"""The only place that chains the stages: discover -> fetch -> parse -> normalize -> store.

`extract()` runs decode -> parse -> normalize on bytes already in hand; `crawl()` runs the whole
chain over a site and returns the run's counts. Failures of single URLs are recorded in the
archive's `fetch` table and counted, never raised; only configuration and storage errors escape.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from . import discover, errors, feeds, quality, urls
from .errors import ArchiveError, ConfigError, ExtractError, FeedError, LeaseLost
from .fetch import Fetcher, FetchSettings, Transport
from .lock import run_lock
from .models import Decoded, Extracted, Page
from .record import Article
from .robots import RobotsPolicy
from .rules import SiteRule
from .siteconfig import Site, site_rules
from .store import Archive, database_url
from .store.frontier import LEASE
from .store.search import SearchHit
from .workerproc import Prepared, finish, site_of
from .workers import ParsePool
from .workers import parse_page as _parse

if TYPE_CHECKING:
    from .parse.trace import Trace

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


def _finish(
    extracted: Extracted, decoded: Decoded, url: str | None, rule: SiteRule | None
) -> Article:
    # normalize -> quality: in workerproc, where a crawl's parse workers do it too.
    return finish(extracted, decoded, url, rule)


def _process(
    data: bytes | str,
    url: str | None,
    rules: Sequence[SiteRule],
    content_type: str | None,
    trace: Trace | None = None,
) -> tuple[Decoded, Extracted, Article]:
    rule, decoded, extracted = _parse(data, url, rules, content_type, trace)
    return decoded, extracted, _finish(extracted, decoded, url, rule)


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
    from .parse.trace import Trace  # the parser is loaded when first needed (see workers.py)

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
    run_id: int | None = None  # the `run` row of this crawl

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def counts(self) -> dict[str, int]:
        """fetched, new, updated, unchanged, not_article and failed, as numbers."""
        names = ("new", "updated", "unchanged", "not_article")
        return {
            "fetched": self.fetched,
            **{n: self.outcomes[n] for n in names},
            "failed": self.failed,
        }

    def as_json(self) -> dict[str, object]:
        """The summary as `xinwen crawl --json` prints it."""
        return {
            "run_id": self.run_id,
            **self.counts(),
            "failures": dict(sorted(self.failures.items())),
            "elapsed": round(self.elapsed, 3),
        }

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


def _validate_start(given: Iterable[str], *, required: bool = True) -> list[str]:
    starts = []
    for url in given:
        canonical = urls.canonical_url(url)
        if not canonical.startswith(("http://", "https://")) or not urls.host_of(canonical):
            raise ConfigError(f"not an http(s) URL: {url!r}")
        starts.append(canonical)
    if not starts and required:
        raise ConfigError("no start URL given")
    return list(dict.fromkeys(starts))


def _site_urls(sites: Sequence[Site]) -> list[str]:
    return [url for site in sites for url in site.urls]


# The per-host circuit breaker (fault matrix, C2): a host is skipped for the rest of the run
# after 10 connect, DNS, TLS or timeout failures in a row (each after its own retries), or 5
# rate limits or 5xx answers in a row; any success resets the count.
BREAKER_OPEN = 10


def _strikes(exc: ArchiveError) -> int:
    """How much a failure counts towards opening its host's breaker."""
    if exc.kind in ("connect", "dns", "tls", "timeout"):
        return 1
    status = getattr(exc, "status", None)
    if exc.kind == "rate_limited" or (isinstance(status, int) and status >= 500):
        return 2
    return 0


# The most parts of one multi-page article that are fetched and stitched together.
MAX_PARTS = 20
# Articles first found this recently are fetched again by later runs, to catch edits; older
# ones are left alone (news pages are mostly edited on their first day or two).
RECENT = timedelta(days=3)
# A worker task that finds nothing to claim waits this long, doubling up to _IDLE_MAX: with more
# tasks than the fleet's per-host slots, most of them wait, and one second between their tries
# keeps their claims from crowding the database.
_IDLE_FIRST = 0.05
_IDLE_MAX = 1.0

# A worker's hold on a URL, renewed every third of it: a worker killed mid-page loses its URLs
# to the others this long after its last renewal.
WORKER_LEASE = timedelta(minutes=2)

# ... but a page fetched less than this long ago is not fetched again (a resumed crawl must not
# redo what the crashed one finished; an hourly cron run re-reads its listings).
REST = timedelta(minutes=10)


def crawl(
    start_urls: Iterable[str],
    db: str | Path = "xinwen.db",
    *,
    max_pages: int = 1000,
    settings: FetchSettings | None = None,
    rules: Sequence[SiteRule] = (),
    on_page: Callable[[str, str], None] | None = None,
    rest: timedelta = REST,
    worker: bool = False,
    lease: timedelta | None = None,
    sites: Sequence[Site] = (),
) -> RunStats:
    """Crawl into the database `db` (a SQLite path or an SQLAlchemy URL); see `crawl_async`.

    `worker`: join the shared frontier of a PostgreSQL archive beside any number of other
    workers (start URLs optional), instead of crawling it alone.

    The start URLs and options are checked before the database is opened, so a usage error
    touches nothing; neither does a run that finds another crawl holding the archive's run
    lock (`AlreadyRunning`; workers share the lock, a crawl alone holds it by itself).
    """
    starts = _validate_start([*start_urls, *_site_urls(sites)], required=not worker)
    if max_pages < 1:
        raise ConfigError("max_pages must be at least 1")
    url = database_url(db)
    if worker and not url.startswith("postgresql"):
        raise ConfigError(
            "--worker needs a PostgreSQL archive (--db postgresql+psycopg://...); "
            "a SQLite archive takes one crawl at a time"
        )
    # SQLite's lock comes before the database is opened: an overlapping run touches nothing.
    with run_lock(url), Archive(db) as archive, archive.run_lock(shared=worker):
        run_id = archive.begin_run(starts)
        try:
            stats = asyncio.run(
                crawl_async(
                    starts, archive, max_pages=max_pages, settings=settings, rules=rules,
                    on_page=on_page, run_id=run_id, rest=rest, worker=worker, lease=lease,
                    sites=sites,
                )
            )  # fmt: skip
        except BaseException as exc:
            # Recorded as failed (a kill -9 leaves 'running' behind, which says as much).
            archive.finish_run(run_id, {}, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        archive.finish_run(run_id, stats.counts(), status="finished")
        # SQLite: leave the WAL empty (a reader in a long transaction may keep it; the next
        # run tries again), so a day of cron runs does not leave a log as big as its writes.
        archive.checkpoint()
        return stats


async def crawl_async(
    start_urls: Iterable[str],
    archive: Archive,
    *,
    max_pages: int = 1000,
    settings: FetchSettings | None = None,
    rules: Sequence[SiteRule] = (),
    transport: Transport | None = None,
    on_page: Callable[[str, str], None] | None = None,
    run_id: int | None = None,
    rest: timedelta = REST,
    worker: bool = False,
    lease: timedelta | None = None,
    sites: Sequence[Site] = (),
) -> RunStats:
    """Crawl from `start_urls`, following links on the same hosts, storing each article.

    `max_pages` caps the number of fetches. `on_page(url, outcome)` is called after each one.
    `run_id` (from `Archive.begin_run`) tags every fetch row the crawl writes. Pages fetched
    less than `rest` ago are not fetched again (see `frontier.begin`). A `worker` shares the
    frontier with other workers: it crawls the hosts already in it as well as its start URLs',
    keeps each host's concurrency and delay for the whole fleet, and holds each URL for
    `lease` (renewed while it works; default `WORKER_LEASE`), after which a worker that died
    loses it to the others.

    Start URLs that are sitemaps or feeds are read as such, and so are the sitemaps that
    robots.txt lists. `sites` (from a sites file, `siteconfig.load_sites`) add their URLs,
    hosts, URL patterns, politeness and extraction rules.
    """
    starts = _validate_start([*start_urls, *_site_urls(sites)], required=not worker)
    if max_pages < 1:
        raise ConfigError("max_pages must be at least 1")
    settings = settings or FetchSettings()
    hosts = {urls.host_of(u) for u in starts} | {h for site in sites for h in site.hosts}
    if worker:
        # The hosts already in the shared frontier were named by users too (or reached from
        # theirs): a worker started with no URL still crawls them.
        hosts |= archive.frontier_hosts()
    # The hosts the user named are trusted even on private addresses (so a crawl of
    # http://127.0.0.1:8080/ works); any other host is checked by the address guard.
    trusted = settings.trusted_hosts | hosts
    settings = replace(settings, trusted_hosts=frozenset(trusted))
    rules = [*site_rules(sites), *rules]  # a site's own rule wins for its hosts
    run = _Crawl(archive, rules, starts, on_page)
    run.hosts |= hosts
    run.stats.run_id = run_id
    run.rest = rest
    run.host_budget = settings.host_budget
    run.worker = worker
    if lease is not None:
        run.lease = lease
    elif worker:
        run.lease = WORKER_LEASE
    run.delay = settings.delay
    if worker:
        # The fleet spaces its claims on a host by the delay, and a request follows its claim
        # at once: a second, per-process delay would only shift requests against the claims.
        settings = replace(settings, delay=0.0)
    began = time.monotonic()
    async with Fetcher(settings, transport=transport) as fetcher, ParsePool(rules) as pool:
        run.pool = pool
        run.use_sites(sites, fetcher)
        # Many pages per transaction: per-page commits were most of a crawl's time on SQLite.
        with archive.batched():
            await run.go(fetcher, settings.concurrency, max_pages)
    run.stats.elapsed = time.monotonic() - began
    return run.stats


class _Slot:
    """A task's hold on one of the crawl's `concurrency` places to fetch and parse a page in.

    Given up once the page is parsed and judged (a block page pauses its host first), before
    the task waits to store it: with `--concurrency 1` one page at a time is fetched and
    parsed, as ever, while the one before it may still be waiting to be stored.
    """

    __slots__ = ("_held", "_places")

    def __init__(self, places: asyncio.Semaphore) -> None:
        self._places = places
        self._held = False

    async def take(self) -> None:
        await self._places.acquire()
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._places.release()


class _Crawl:
    """The state of one crawl: the frontier (in the archive), the hosts, the counts."""

    def __init__(
        self,
        archive: Archive,
        rules: Sequence[SiteRule],
        starts: list[str],
        on_page: Callable[[str, str], None] | None,
    ) -> None:
        self.archive = archive
        self.rules = rules
        self.starts = starts
        self.hosts = {urls.host_of(u) for u in starts}
        self.seen: set[str] = set(starts)  # URLs known to the frontier: spares a query per link
        self.on_page = on_page
        # Discovery beyond links: URLs to read as sitemaps or feeds whatever they look like,
        # how sitemap indexes nest, hosts whose robots.txt sitemaps are queued, URL patterns.
        self.feed_urls: set[str] = set()
        self.sitemaps = feeds.SitemapTree()
        self.robots_read: set[str] = set()
        self.patterns = discover.UrlPatterns()
        self.stats = RunStats()
        self.budget = 0
        self.active = 0  # URLs being worked on right now
        self.rest = REST
        self.strikes: Counter[str] = Counter()  # host -> failures in a row that suggest it is down
        self.host_budget = FetchSettings().host_budget
        self.host_pages: Counter[str] = Counter()  # host -> URLs taken on this run
        self.blocks: Counter[str] = Counter()  # host -> block pages in a row
        self.titles: dict[str, str | None] = {}  # article URL -> title, stored this run
        self.pool = ParsePool(rules)  # replaced by the running one in crawl_async
        self.handling = asyncio.Semaphore(1)  # the places to fetch and parse in: see `go`
        self.worker = False  # one of many workers on a shared frontier
        self.lease = LEASE
        self.delay = 1.0  # seconds between claims on one host, for workers

    async def go(self, fetcher: Fetcher, concurrency: int, max_pages: int) -> None:
        self.budget = max_pages
        self.archive.frontier_begin(self.starts, RECENT, self.rest, shared=self.worker)
        self.handling = asyncio.Semaphore(concurrency)
        # Alone, twice as many tasks as places (`_Slot`): a task whose page waits to be stored
        # while a batch commits holds none, and another fetches meanwhile. With one task a
        # place, on bench/crawl.py's site (2 cores, 16 requests), three tasks on average waited
        # for a commit and the parse worker sat idle 2.3 s of a 12 s crawl for want of pages;
        # with twice as many, 1.8 s, 4% faster. A fleet's worker keeps one task a place: its
        # claims are bounded by the hosts' limits, and more tasks would only poll for them.
        count = concurrency if self.worker else 2 * concurrency
        tasks = [asyncio.create_task(self._worker(fetcher)) for _ in range(count)]
        renewer = asyncio.create_task(self._renew())
        try:
            # A task that dies (a storage error) ends the run; its lease is given back by
            # the next crawl, or taken over by another worker when it expires.
            await asyncio.gather(*tasks)
        finally:
            for task in [*tasks, renewer]:
                task.cancel()
            await asyncio.gather(*tasks, renewer, return_exceptions=True)
            # What this crawl leased and could not finish (an open breaker, robots.txt out of
            # reach, a stop) goes back to pending for the next crawl or another worker. If the
            # database is what failed, the leases expire instead, and the first error stands.
            with contextlib.suppress(ArchiveError):
                self.archive.frontier_release()

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            await self._settled()
            self.archive.frontier_renew(self.lease)

    async def _settled(self, slot: _Slot | None = None) -> None:
        """Wait for the archive's commit under way, if any (`Archive.committing`), so that the
        writes that follow do not block the event loop while it runs: the tasks that need the
        database wait here, the others go on fetching and parsing. A task done fetching and
        parsing gives up its `slot` first."""
        if slot is not None:
            slot.release()
        committing = self.archive.committing()
        if committing is not None:
            with contextlib.suppress(Exception):  # its error is raised by the next write
                await asyncio.wrap_future(committing)

    def _claim(self, fetcher: Fetcher) -> tuple[str, int] | None:
        if not self.worker:
            return self.archive.frontier_claim(lease=self.lease)
        return self.archive.frontier_claim(
            shared=True, lease=self.lease, per_host=fetcher.settings.per_host, delay=self.delay
        )

    async def _worker(self, fetcher: Fetcher) -> None:
        idle = _IDLE_FIRST
        while self.budget > 0:
            await self._settled()
            # Claim and count without an await in between: the event loop makes it atomic.
            claimed = self._claim(fetcher)
            if claimed is None:
                if self.active == 0 and (
                    not self.worker or self.archive.frontier_unfinished() == 0
                ):
                    return  # nothing pending and nobody who could still find something
                # Other workers may still find links, or every host is at its limit: wait,
                # longer each time, so idle tasks do not load the shared database with claims.
                await asyncio.sleep(idle if self.worker else 0.02)
                idle = min(idle * 2, _IDLE_MAX)
                continue
            idle = _IDLE_FIRST
            url, depth = claimed
            self.budget -= 1
            self.active += 1
            slot = _Slot(self.handling)
            try:
                await slot.take()
                outcome = await self._handle(fetcher, url, depth, slot)
            except LeaseLost:
                # Held up past the lease (a stall): another worker has the URL now and what
                # this one had was rolled back.
                outcome = "lease_lost"
                self.stats.outcomes[outcome] += 1
            finally:
                slot.release()
                self.active -= 1
            if self.on_page is not None:
                self.on_page(url, outcome)

    def _record(
        self,
        page: Page,
        decoded: Decoded | None,
        article: Article | None,
        outcome: str = "not_article",
        *,
        frontier_url: str,
        index: tuple[str, str] | None = None,
    ) -> str:
        return self.archive.save_page(
            page, decoded, article, outcome=outcome, run_id=self.stats.run_id,
            attempts=getattr(page, "attempts", None), frontier_url=frontier_url, index=index,
        )  # fmt: skip

    def _failure(
        self, url: str, exc: ArchiveError, status: int | None = None, *, frontier_url: str
    ) -> None:
        self.archive.save_failure(
            url, kind=exc.kind, message=str(exc), http_status=status, run_id=self.stats.run_id,
            attempts=getattr(exc, "attempts", None), frontier_url=frontier_url,
        )  # fmt: skip
        self.stats.failures[exc.kind] += 1

    def use_sites(self, sites: Sequence[Site], fetcher: Fetcher) -> None:
        """Take in a sites file's sites: feeds and sitemaps, URL patterns, politeness."""
        self.feed_urls.update(url for site in sites for url in site.feeds)
        self.patterns = discover.UrlPatterns(
            {host: site.patterns for site in sites for host in site.hosts if site.patterns}
        )
        for site in sites:
            for host in site.hosts:
                fetcher.configure_host(host, delay=site.delay, per_host=site.per_host)

    def _problem(self, url: str, exc: ArchiveError) -> None:
        """Record why a page was read only in part (a feed's cap, say): a fetch row with the
        error's kind, leaving the page's own frontier mark alone."""
        self.archive.save_failure(
            url, kind=exc.kind, message=str(exc), run_id=self.stats.run_id, frontier_url=None
        )
        self.stats.failures[exc.kind] += 1

    def _queue_robots_sitemaps(self, url: str, policy: RobotsPolicy) -> None:
        """Queue the sitemaps a host's robots.txt lists, once per crawl."""
        host = urls.host_of(url)
        if host in self.robots_read:
            return
        self.robots_read.add(host)
        found = discover.follow(policy.sitemaps(), self.hosts, self.seen, files=True)
        self.feed_urls.update(found)
        self.archive.frontier_add(found, depth=1)

    def _feed(self, page: Page, url: str, depth: int) -> str:
        """Read a sitemap or feed: queue the sitemaps an index lists, or the pages any other
        lists (newest first); a broken one is a failure, a cap reached a recorded problem."""
        try:
            feed = feeds.parse(page.content, page.final_url)
        except FeedError as exc:
            self._failure(page.url, exc, page.status, frontier_url=url)
            return "failed"
        problems = list(feed.problems)
        if feed.is_index:
            listed = [urls.canonical_url(u) for u in feed.urls()]
            children, refused = self.sitemaps.children(url, listed)
            problems += refused
            found = discover.follow(children, self.hosts, self.seen, files=True)
            self.feed_urls.update(found)
        else:
            accept = self.patterns.accepts
            found = discover.follow(feed.urls(), self.hosts, self.seen, accept=accept)
        self.archive.frontier_add(found, depth=depth + 1)
        outcome = self._count(self._record(page, None, None, frontier_url=url))
        for problem in problems:
            self._problem(page.url, problem)
        return outcome

    async def _allowed(self, fetcher: Fetcher, url: str) -> bool:
        """robots.txt's word on `url`; a disallowed URL is recorded, never fetched."""
        try:
            policy = await fetcher.robots(url)
        except ArchiveError as exc:
            self._failure(url, exc, frontier_url=url)
            return False
        self._queue_robots_sitemaps(url, policy)
        agent = fetcher.settings.user_agent
        delay = policy.crawl_delay(agent)
        if delay is not None:
            if self.worker:  # the whole fleet keeps the host's Crawl-delay
                self.archive.set_host_delay(urls.host_of(url), delay)
            else:
                fetcher.set_host_delay(url, delay)
        if policy.allowed(url, agent):
            return True
        # An unreachable robots.txt disallows the host for this run only (RFC 9309): its URLs
        # stay leased for the next run instead of failing for good.
        gone_for_now = policy.source == "unreachable"
        kind = "robots_unreachable" if gone_for_now else "robots_disallow"
        self.archive.save_failure(
            url, kind=kind, message=f"disallowed by robots.txt ({policy.source})",
            run_id=self.stats.run_id, frontier_url=None if gone_for_now else url,
        )  # fmt: skip
        self.stats.failures[kind] += 1
        return False

    async def _fetch(
        self, fetcher: Fetcher, url: str, validators: dict[str, str] | None = None
    ) -> Page | None:
        host = urls.host_of(url)
        if self.strikes[host] >= BREAKER_OPEN:
            # The host's breaker is open: leave the URL leased, so the next run takes it up
            # again (frontier.begin gives leases back), instead of failing it for good.
            self.stats.failures["host_breaker"] += 1
            return None
        if not await self._allowed(fetcher, url):
            return None
        try:
            page = await fetcher.fetch(url, validators=validators)
        except ArchiveError as exc:
            await self._settled()  # the task keeps its place: it is still on this page
            status = getattr(exc, "status", None)
            self._failure(url, exc, status, frontier_url=url)
            self.strikes[host] += _strikes(exc)
            if status in (404, 410):
                # An archived article the site has removed: kept, and marked gone.
                self.archive.mark_gone(urls.canonical_url(url), datetime.now(UTC))
            return None
        self.strikes[host] = 0
        self.stats.fetched += 1
        return page

    def _over_budget(self, url: str) -> bool:
        """Whether `url`'s host has had its `host_budget` of pages this run; if so the URL is
        recorded (`host_budget`) and left for the next run, and does not count against
        `max_pages`, which counts fetches."""
        host = urls.host_of(url)
        if self.host_pages[host] < self.host_budget:
            self.host_pages[host] += 1
            return False
        self.budget += 1
        self.archive.save_failure(
            url, kind="host_budget", run_id=self.stats.run_id,
            message=f"{host} has had its {self.host_budget} pages this run",
        )  # fmt: skip
        self.stats.failures["host_budget"] += 1
        return True

    def _block(
        self, fetcher: Fetcher, page: Page, url: str, extracted: Extracted, sign: str | None
    ) -> errors.SoftBlock | None:
        """The error for a block or CAPTCHA page served with 200 (fault matrix row 14), or None.

        For one, the host is paused for `block_pause` seconds at once, before the task gives
        up its place (`_Slot`) and another request can start, and 5 block pages in a row (2
        strikes each, like a 429) open the host's breaker. The caller records it as a
        `soft_block` failure and stores nothing of it; the URL is left for the next run.
        `sign`: what the parse worker found (`quality.page_block`, "" for none), or None if it
        did not look.
        """
        host = urls.host_of(url)
        if sign is None:
            sign = quality.page_block(extracted)
        if not sign:
            self.blocks[host] = 0
            return None
        self.blocks[host] += 1
        # The fetch that brought the page reset the host's strikes: they restart from here.
        self.strikes[host] = max(self.strikes[host], 2 * self.blocks[host])
        fetcher.pause_host(url, fetcher.settings.block_pause)
        return errors.SoftBlock(f"a block page ({sign}) answered {page.status}", url=url)

    def _canonical(self, extracted: Extracted, page: Page) -> str | None:
        """The page's rel=canonical when it is to be believed (fault matrix row 46): another
        page on one of this crawl's hosts, not the home page (a CMS setting every page's
        canonical to the home page is a common slip). None otherwise."""
        if not extracted.canonical:
            return None
        try:
            declared = urls.canonical_url(extracted.canonical)
            served = urls.canonical_url(page.final_url)
        except ValueError:  # a port out of range, a broken IPv6 literal
            return None
        path = declared.split("/", 3)[3] if declared.count("/") >= 3 else ""
        if declared == served or not path or urls.host_of(declared) not in self.hosts:
            return None
        return declared

    def _stored_title(self, url: str) -> str | None:
        """The title of the article stored under `url` (None: none there), this run's first:
        its writes may not be committed yet."""
        return self.titles[url] if url in self.titles else self.archive.stored_title(url)

    async def _handle(self, fetcher: Fetcher, url: str, depth: int, slot: _Slot) -> str:
        if self._over_budget(url):
            return "failed"
        # Re-checking a stored article: a conditional GET, so an unchanged page costs a 304.
        validators = self.archive.validators_for(url)
        page = await self._fetch(fetcher, url, validators)
        if page is None:
            return "failed"
        if page.status == 304:
            await self._settled(slot)
            return self._count(
                self.archive.save_not_modified(
                    page, run_id=self.stats.run_id, attempts=getattr(page, "attempts", None),
                    frontier_url=url,
                )
            )  # fmt: skip
        if depth == 0:
            # A start URL that redirects (example.com -> www.example.com) brings its final host
            # into the crawl, or every link on the site would be dropped as off-site.
            self.hosts.add(urls.host_of(page.final_url))
        if url in self.feed_urls or feeds.sniff(page.content, page.content_type):
            await self._settled(slot)
            return self._feed(page, url, depth)
        content_type = page.content_type
        if content_type and not content_type.lower().startswith(_HTML_TYPES):
            await self._settled(slot)
            return self._count(self._record(page, None, None, frontier_url=url))
        try:
            # In a worker process: the loop keeps fetching, and a page that kills or hangs
            # its parser fails alone (ParseCrash, ParseTimeout).
            rule, decoded, extracted, prepared, sign = await self.pool.parse_prepared(
                page.content, page.final_url, content_type, fetched_at=page.fetched_at,
                links=True, hosts=frozenset(self.hosts), text=quality.unframed(page.headers),
            )  # fmt: skip
        except ExtractError as exc:
            await self._settled(slot)
            self._failure(page.url, exc, page.status, frontier_url=url)
            return "failed"
        block = self._block(fetcher, page, url, extracted, sign)
        parts: list[tuple[Page, Decoded]] = []
        complete = True
        if block is None and extracted.is_article:
            # The article's further parts are fetched and parsed in the task's place too.
            parts, complete = await self._parts(fetcher, extracted, content_type, depth)
        await self._settled(slot)
        if block is not None:
            self.archive.save_failure(
                url, kind=block.kind, message=str(block), http_status=page.status,
                run_id=self.stats.run_id, attempts=getattr(page, "attempts", None),
            )  # fmt: skip
            self.stats.failures[block.kind] += 1
            return "failed"
        # A listing's pager is followed whatever the site's URL patterns say.
        found = discover.follow(extracted.pagination, self.hosts, self.seen)
        accept = self.patterns.accepts
        found += discover.follow(extracted.links, self.hosts, self.seen, accept=accept)
        self.archive.frontier_add(found, depth=depth + 1)
        if not extracted.is_article:
            return self._count(self._record(page, decoded, None, frontier_url=url))
        canonical = self._canonical(extracted, page)
        article, index = _article(extracted, decoded, page, canonical, rule, prepared, parts)
        if canonical and self._stored_title(canonical) not in (None, article.title):
            # Another article is stored there: the page's canonical is a slip, not believed.
            canonical = None
            article = article.model_copy(update={"url": urls.canonical_url(page.final_url)})
        if quality.unframed(page.headers) and quality.cut_short(
            decoded.text, len(article.body), self.archive.body_length(article.url)
        ):
            # Probably cut off in transit, where HTTP cannot tell (fault matrix row 9).
            flags = [*article.flags, "truncated_suspect"]
            article = article.model_copy(update={"flags": flags})
        if not complete:
            article = article.model_copy(update={"flags": [*article.flags, "pages_missing"]})
        outcome = self._count(self._record(page, decoded, article, frontier_url=url, index=index))
        self.titles[article.url] = article.title
        if article.url != url:
            # Fetched under another URL (a redirect, or a copy naming its canonical): that
            # URL is an alias, and the canonical one needs no fetch of its own for it.
            self.archive.save_alias(url, article.url, page.fetched_at)
            if canonical:
                self.seen.add(canonical)
                self.archive.frontier_add([canonical], depth=depth, state="done")
        for part, part_decoded in parts:
            self._record(part, part_decoded, None, "part", frontier_url=part.url)
        return outcome

    async def _parts(
        self, fetcher: Fetcher, first: Extracted, content_type: str | None, depth: int
    ) -> tuple[list[tuple[Page, Decoded]], bool]:
        """Fetch the further parts of a multi-page article into `first.blocks`.

        Returns the part pages (to archive their raw bytes) and whether every part came.
        """
        parts: list[tuple[Page, Decoded]] = []
        visited = {urls.canonical_url(first.url or "")}
        next_url = first.next_page
        while next_url and len(parts) < MAX_PARTS - 1:
            canonical = urls.canonical_url(next_url)
            if canonical in visited:
                break
            visited.add(canonical)
            # A part is never crawled as an article of its own (even if a listing linked it).
            self.seen.add(canonical)
            self.archive.frontier_add([canonical], depth=depth, state="part")
            page = await self._fetch(fetcher, canonical)
            if page is None:
                return parts, False
            try:
                _, decoded, extracted = await self.pool.parse(
                    page.content, page.final_url, page.content_type or content_type,
                    fetched_at=page.fetched_at, text=False,
                )  # fmt: skip
            except ExtractError as exc:
                self._failure(page.url, exc, page.status, frontier_url=canonical)
                return parts, False
            number = len(parts) + 2
            first.blocks.extend(replace(block, page=number) for block in extracted.blocks)
            parts.append((page, decoded))
            next_url = extracted.next_page
        return parts, True

    def _count(self, outcome: str) -> str:
        self.stats.outcomes[outcome] += 1
        return outcome


def _article(
    extracted: Extracted,
    decoded: Decoded,
    page: Page,
    canonical: str | None,
    rule: SiteRule | None,
    prepared: Prepared | None,
    parts: list[tuple[Page, Decoded]],
) -> tuple[Article, tuple[str, str] | None]:
    """The article of a fetched page and, when its parse worker made it, its index text.

    The worker normalized it under the page's own URL (`workerproc.prepare`), as plain data
    (it loads no pydantic), validated here: under a believed canonical URL only `url` and
    `site` differ (normalize and quality read no other use of the URL). The parts of a
    multi-page article join its blocks after the worker saw them: then it is normalized here.
    """
    if prepared is None or parts:
        return _finish(extracted, decoded, canonical or page.final_url, rule), None
    fields, title_text, body_text = prepared
    if canonical:
        fields = {**fields, "url": urls.canonical_url(canonical), "site": site_of(canonical, rule)}
    return Article.model_validate(fields), (title_text, body_text)


@dataclass(slots=True)
class ReparseStats:
    """What one reparse did."""

    articles: int = 0
    changed: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # error kind -> count

    def summary(self) -> str:
        """The one-line summary printed at the end of a reparse."""
        failed = sum(self.failed.values())
        return f"reparsed {self.articles}, {self.changed} changed, {failed} failed"


def reparse(
    db: str | Path = "xinwen.db",
    *,
    site: str | None = None,
    since: str | None = None,
    rules: Sequence[SiteRule] = (),
) -> ReparseStats:
    """Rebuild the stored articles from their stored captures with the current parser.

    No network: the raw bytes come from the archive, and so do the later parts of multi-page
    articles. A changed article keeps its previous version as a revision (reason `reparse`).
    """
    stats = ReparseStats()
    with Archive(db, must_exist=True) as archive:
        now = datetime.now(UTC)
        for url, capture_id in archive.stored_articles(site, since):
            stats.articles += 1
            page = archive.capture_page(capture_id)
            try:
                rule, decoded, extracted = _parse(
                    page.content, page.final_url, rules, page.content_type,
                    fetched_at=page.fetched_at,
                )  # fmt: skip
                _stored_parts(archive, extracted, rules)
            except ExtractError as exc:
                stats.failed[exc.kind] += 1
                continue
            article = _finish(extracted, decoded, page.final_url, rule)
            # The stored URL is the key, even if the canonical form has changed since.
            article = article.model_copy(update={"url": url})
            if archive.save_reparsed(article, capture_id, now) == "updated":
                stats.changed += 1
    return stats


def _stored_parts(archive: Archive, first: Extracted, rules: Sequence[SiteRule]) -> None:
    """Append the later parts of a multi-page article from their stored captures."""
    visited = {urls.canonical_url(first.url or "")}
    next_url = first.next_page
    number = 1
    while next_url and number < MAX_PARTS:
        canonical = urls.canonical_url(next_url)
        capture_id = archive.latest_capture(next_url) or archive.latest_capture(canonical)
        if canonical in visited or capture_id is None:
            return
        visited.add(canonical)
        page = archive.capture_page(capture_id)
        _, _, extracted = _parse(
            page.content, page.final_url, rules, page.content_type, fetched_at=page.fetched_at
        )
        number += 1
        first.blocks.extend(replace(block, page=number) for block in extracted.blocks)
        next_url = extracted.next_page


def search(
    db: str | Path,
    query: str,
    *,
    site: str | None = None,
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Full-text search of an archive, best first, with snippets (see `Archive.search`).

    Articles are stored in simplified script, so a query detected as traditional is converted
    first (a simplified one is left alone: t2s would turn 首批覆盖 into 首批复盖).

    >>> search("xinwen.db", "經濟", since="2024-11")  # doctest: +SKIP
    """
    from . import normalize  # OpenCC's tables, loaded when first needed (see workerproc.finish)

    with Archive(db, must_exist=True) as archive:
        return archive.search(
            normalize.to_simplified(query),
            site=site,
            since=since,
            until=until,
            category=category,
            limit=limit,
        )
