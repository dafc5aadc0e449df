"""The fault matrix (shared/docs/fault-matrix.md) rows about what a crawl stores: 7 (a body that
breaks off), 9 (a body cut off where HTTP cannot tell), 14 (block pages served with 200), 34
(the per-host page budget), 46 (one article under several URLs).

Each test crawls tests/faultserver.py (a subprocess on 127.0.0.1) with `pipeline.crawl` and
asserts the error kind, how often the server was asked for each URL, and what is (not) stored.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from faultserver import BLOCK_TITLES, running

from xinwen import quality
from xinwen.fetch import FetchSettings
from xinwen.pipeline import RunStats, crawl


@dataclass
class Server:
    base: str  # http://127.0.0.1:<port>
    other: str  # another origin: another host to the crawler

    def hits(self, url: str) -> int:
        target = httpx.URL(url).raw_path.decode("ascii")
        report = httpx.get(f"{self.base}/__hits", params={"path": target}, trust_env=False)
        return int(report.json()["hits"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(tmp_path_factory.mktemp("faultserver") / "stderr.log") as ports:
        yield Server(f"http://127.0.0.1:{ports['port']}", f"http://127.0.0.1:{ports['other_port']}")


def _crawl(urls: list[str], db: Path, **settings: Any) -> RunStats:
    """One crawl run, one request at a time; every run fetches its start URLs again."""
    config = FetchSettings(**{"delay": 0.0, "concurrency": 1, **settings})
    return crawl(urls, db, settings=config)


def _rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def _links(server: Server, *paths: str) -> str:
    return str(httpx.URL(f"{server.base}/links", params=[("to", p) for p in paths]))


# --- row 7: Content-Length larger than the body, then close ----------------------------------


def test_row07_a_body_that_breaks_off_leaves_the_stored_article_alone(
    server: Server, tmp_path: Path
):
    url = f"{server.base}/cut?pattern=FL&t=dataloss"  # the page, then always half of it
    db = tmp_path / "x.db"
    _crawl([url], db)
    stored = "SELECT body, content_hash, capture_id, flags FROM article WHERE url = ?"
    before = _rows(db, stored, url)
    assert len(before) == 1
    stats = _crawl([url], db, max_attempts=2, backoff_base=0.0)
    assert stats.failures == {"dataloss": 1} and stats.fetched == 0
    assert server.hits(url) == 1 + 2  # retried, as a transient fault is
    assert _rows(db, stored, url) == before  # the good version stays, untouched
    assert _rows(db, "SELECT count(*) FROM capture WHERE url = ?", url) == [(1,)]
    failed = "SELECT error_kind, attempts FROM fetch WHERE url = ? AND outcome = 'failed'"
    assert _rows(db, failed, url) == [("dataloss", 2)]


# --- row 9: no length, Connection: close, truncated mid-article --------------------------------


def _article(db: Path, url: str) -> tuple[str, list[str]]:
    import json

    [(body, flags)] = _rows(db, "SELECT body, flags FROM article WHERE url = ?", url)
    return body, json.loads(flags)


def test_row09_a_cut_capture_never_replaces_a_complete_article(server: Server, tmp_path: Path):
    url = f"{server.base}/cut?pattern=FT&t=keep"  # the page, then half of it, unframed
    db = tmp_path / "x.db"
    _crawl([url], db)
    complete, flags = _article(db, url)
    assert "truncated_suspect" not in flags
    stats = _crawl([url], db)
    assert stats.outcomes["truncated"] == 1 and stats.failed == 0
    assert _article(db, url) == (complete, flags)  # the complete version stays
    outcomes = _rows(db, "SELECT outcome FROM fetch WHERE url = ? ORDER BY id", url)
    assert outcomes == [("new",), ("truncated",)]
    assert _rows(db, "SELECT count(*) FROM capture WHERE url = ?", url) == [(2,)]  # archived
    assert _rows(db, "SELECT count(*) FROM article_revision") == [(0,)]
    assert _rows(db, "SELECT state FROM frontier WHERE url = ?", url) == [("done",)]
    assert server.hits(url) == 2


def test_row09_a_cut_first_capture_is_stored_flagged_until_a_complete_one(
    server: Server, tmp_path: Path
):
    url = f"{server.base}/cut?pattern=TF&t=heal"
    db = tmp_path / "x.db"
    _crawl([url], db)
    cut, flags = _article(db, url)
    assert "truncated_suspect" in flags  # the only version there is, flagged
    stats = _crawl([url], db)
    assert stats.outcomes["updated"] == 1
    body, flags = _article(db, url)
    assert "truncated_suspect" not in flags and len(body) > len(cut)
    assert server.hits(url) == 2


def test_row09_a_much_shorter_unframed_version_does_not_replace_the_article(
    server: Server, tmp_path: Path
):
    # Closing tags and all, but unframed, with a quarter of the body: less than half of the
    # stored version, and nothing but the text can tell whether it is complete.
    url = f"{server.base}/cut?pattern=FU&t=short"
    db = tmp_path / "x.db"
    _crawl([url], db)
    before = _article(db, url)
    stats = _crawl([url], db)
    assert stats.outcomes["truncated"] == 1
    assert _article(db, url) == before


def test_row09_a_much_shorter_framed_version_is_an_edit(server: Server, tmp_path: Path):
    # With a Content-Length HTTP has checked the body: a shorter text is the site's edit.
    url = f"{server.base}/cut?pattern=FS&t=edit"
    db = tmp_path / "x.db"
    _crawl([url], db)
    before, _ = _article(db, url)
    stats = _crawl([url], db)
    assert stats.outcomes["updated"] == 1
    after, flags = _article(db, url)
    assert 4 * len(after) < 3 * len(before) and "truncated_suspect" not in flags


def test_row09_only_an_unframed_body_is_judged():
    # A third of the corpus pages lack </html> and are complete: framed pages are not judged.
    assert quality.unframed({}) and quality.unframed({"connection": "close"})
    assert not quality.unframed({"content-length": "10"})
    assert not quality.unframed({"transfer-encoding": "chunked"})
    html = "<html><body><p>新闻正文" + "。" * 50  # no closing tags at all
    assert quality.cut_short(html, 50) is True
    assert quality.cut_short(html + "</body>", 50) is False
    assert quality.cut_short(html + "</html>", 50, before=120) is True  # less than half
    assert quality.cut_short(html + "</html>", 50, before=90) is False


# --- row 14: a block or CAPTCHA page served with 200 -------------------------------------------


@pytest.mark.parametrize("kind", sorted(BLOCK_TITLES))
def test_row14_block_page_is_a_soft_block(server: Server, tmp_path: Path, kind: str):
    captcha = f"/captcha?kind={kind}&t=row14"
    ok = f"/ok?t=row14-{kind}"
    start = _links(server, captcha, ok)  # the block page is asked for first, then the article
    db = tmp_path / "x.db"
    seen: list[tuple[str, float]] = []
    config = FetchSettings(delay=0.0, concurrency=1, block_pause=0.6)
    stats = crawl(
        [start], db, settings=config, on_page=lambda u, _: seen.append((u, time.monotonic()))
    )
    assert dict(stats.failures) == {"soft_block": 1}
    rows = _rows(db, "SELECT outcome, error_kind, http_status FROM fetch WHERE url = ?",
                 server.base + captcha)  # fmt: skip
    assert rows == [("failed", "soft_block", 200)]
    assert _rows(db, "SELECT count(*) FROM article WHERE url LIKE '%captcha%'") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM article WHERE url = ?", server.base + ok) == [(1,)]
    # The host was left alone for block_pause before the next request.
    when = dict(seen)
    assert when[server.base + ok] - when[server.base + captcha] >= 0.55, seen
    # Not failed for good: the next run asks for it again.
    [(state,)] = _rows(db, "SELECT state FROM frontier WHERE url = ?", server.base + captcha)
    assert state in ("pending", "leased")
    assert server.hits(server.base + captcha) == 1
    crawl([start], db, settings=config)
    assert server.hits(server.base + captcha) == 2


def test_row14_five_block_pages_in_a_row_open_the_breaker(server: Server, tmp_path: Path):
    blocked = [f"/captcha?kind=freq&t=breaker{i}" for i in range(6)]
    start = _links(server, *blocked, "/ok?t=breaker")
    stats = _crawl([start], tmp_path / "x.db", block_pause=0.0)
    assert dict(stats.failures) == {"soft_block": 5, "host_breaker": 2}
    assert [server.hits(server.base + p) for p in blocked] == [1, 1, 1, 1, 1, 0]
    assert server.hits(f"{server.base}/ok?t=breaker") == 0


def test_row14_an_article_titled_like_a_block_page_is_an_article():
    body = "国家网络安全验证中心今天发布通知，要求各单位加强网站安全防护工作。" * 10
    assert quality.soft_block("安全验证中心发布通知", body) is None
    assert quality.soft_block("安全验证", "请完成安全验证") == "安全验证"
    assert quality.soft_block(None, "您的访问过于频繁，请稍后再试") is not None


# --- row 34: the per-host page budget ----------------------------------------------------------


def test_row34_host_budget_leaves_the_rest_for_the_next_run(server: Server, tmp_path: Path):
    pages = [f"/ok?t=budget{i}" for i in range(5)]
    start = _links(server, *pages)
    db = tmp_path / "x.db"
    stats = _crawl([start], db, host_budget=3)  # the listing and 2 pages
    assert stats.fetched == 3 and dict(stats.failures) == {"host_budget": 3}
    assert "host_budget 3" in stats.summary()
    assert [server.hits(server.base + p) for p in pages] == [1, 1, 0, 0, 0]
    dropped = [server.base + p for p in pages[2:]]
    rows = _rows(db, "SELECT url, outcome, error_kind FROM fetch WHERE error_kind IS NOT NULL")
    assert sorted(rows) == [(u, "failed", "host_budget") for u in dropped]
    states = _rows(db, "SELECT state FROM frontier WHERE url IN (?, ?, ?)", *dropped)
    assert {s for (s,) in states} <= {"pending", "leased"}  # kept for the next run
    stats = _crawl([start], db, host_budget=3)  # the listing again, and 2 of the 3 left
    assert stats.fetched == 3 and dict(stats.failures) == {"host_budget": 1}
    assert sum(server.hits(server.base + p) for p in pages) == 4


def test_row34_dropped_urls_do_not_use_up_max_pages(server: Server, tmp_path: Path):
    # Host A's surplus is dropped without a fetch: host B still gets its pages.
    a = _links(server, *[f"/ok?t=a{i}" for i in range(6)])
    b = str(httpx.URL(_links(server, "/ok?t=b0")).copy_with(port=httpx.URL(server.other).port))
    config = FetchSettings(delay=0.0, concurrency=1, host_budget=2)
    stats = crawl([a, b], tmp_path / "x.db", settings=config, max_pages=4, rest=timedelta(0))
    assert stats.fetched == 4 and stats.failures["host_budget"] == 5
    assert server.hits(f"{server.other}/ok?t=b0") == 1


# --- row 46: duplicate content at different URLs ------------------------------------------------


def test_row46_copies_collapse_into_the_canonical_article(server: Server, tmp_path: Path):
    base = f"{server.base}/dup/main/"
    db = tmp_path / "x.db"
    stats = _crawl([base], db)
    assert stats.failed == 0
    article = base + "a/1"
    # One article for the page, its mobile copy (same bytes) and its AMP copy; the tracking
    # variant was never asked for. The two slips are articles of their own.
    urls = [url for (url,) in _rows(db, "SELECT url FROM article ORDER BY url")]
    assert urls == [article, base + "home/3", base + "other/2"]
    assert _rows(db, "SELECT url, article_url FROM alias ORDER BY url") == [
        (base + "amp/a/1", article),
        (base + "m/a/1", article),
    ]
    assert [server.hits(base + p) for p in ("a/1", "a/1?utm_source=x", "m/a/1", "amp/a/1")] == [
        1,
        0,
        1,
        1,
    ]
    copies = (article, base + "m/a/1", base + "amp/a/1")
    outcomes = _rows(db, "SELECT outcome FROM fetch WHERE url IN (?, ?, ?) ORDER BY id", *copies)
    assert sorted(o for (o,) in outcomes) == ["new", "unchanged", "unchanged"]
    assert _rows(db, "SELECT count(*) FROM article_revision") == [(0,)]
    # Every copy's capture is kept; identical bytes are one payload.
    payloads = _rows(
        db, "SELECT count(*), count(DISTINCT payload_sha256) FROM capture WHERE url IN (?, ?, ?)",
        *copies,
    )  # fmt: skip
    assert payloads == [(3, 2)]


def test_row46_a_copy_alone_stores_the_article_under_its_canonical_url(
    server: Server, tmp_path: Path
):
    base = f"{server.base}/dup/alone/"
    db = tmp_path / "x.db"
    _crawl([base + "?only=amp"], db)
    assert _rows(db, "SELECT url FROM article") == [(base + "a/1",)]
    assert _rows(db, "SELECT article_url FROM alias WHERE url = ?", base + "amp/a/1") == [
        (base + "a/1",)
    ]
    # The canonical URL is known to the frontier as done: not fetched for the copy's sake.
    assert _rows(db, "SELECT state FROM frontier WHERE url = ?", base + "a/1") == [("done",)]
    assert server.hits(base + "a/1") == 0
