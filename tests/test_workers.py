"""Parsing in worker processes: a page that kills or hangs its parser fails alone.

The crawl tests run against a real HTTP server on 127.0.0.1; the misbehaving pages are marked
with words that tests/parse_faults.py (the workers' parse target here) acts on.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from xinwen import pipeline
from xinwen.errors import NoContent, ParseCrash, ParseTimeout
from xinwen.fetch import FetchSettings
from xinwen.workers import SEND_BUFFER, ParsePool, default_size, on_hosts, parse_page

TESTS = Path(__file__).resolve().parent
FAULTS = "parse_faults:parse"

_BODY = "".join(
    f"<p>第{i}段：国家统计局今天发布了最新的经济数据，显示消费市场继续回暖，居民收入稳步增长。</p>"
    for i in range(8)
)


def _article(n: int, marker: str = "") -> bytes:
    html = (
        f"<html><head><meta charset='utf-8'><title>新闻{n}</title></head><body>"
        f"<h1>经济数据发布第{n}号</h1><div class='info'>2024-05-0{n} 10:3{n}</div>"
        f"<div class='article'>{_BODY}</div><!-- {marker} --></body></html>"
    )
    return html.encode("utf-8")


PAGES = {
    "/": (
        "<html><head><meta charset='utf-8'><title>首页</title></head><body><ul>"
        + "".join(f"<li><a href='/a/{n}.html'>新闻{n}</a></li>" for n in range(1, 6))
        + "</ul></body></html>"
    ).encode(),
    "/a/1.html": _article(1),
    "/a/2.html": _article(2, "KILL-THE-PARSER"),
    "/a/3.html": _article(3),
    "/a/4.html": _article(4, "HANG-THE-PARSER"),
    "/a/5.html": _article(5),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGES.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def faulty_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The workers are fresh interpreters: they find tests/parse_faults.py on PYTHONPATH.
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setattr(pipeline, "ParsePool", partial(ParsePool, target=FAULTS, timeout=2.0))


def test_a_page_that_kills_or_hangs_its_parser_fails_alone(
    site: str, tmp_path: Path, faulty_workers: None
):
    db = tmp_path / "x.db"
    began = time.monotonic()
    stats = pipeline.crawl([site], db, settings=FetchSettings(delay=0.0, per_host=4))
    assert time.monotonic() - began < 30  # the hung page cost its timeout, not an hour
    assert stats.failures == {"parse_crash": 1, "parse_timeout": 1}
    assert stats.outcomes["new"] == 3  # the pages before, between and after still made it
    with sqlite3.connect(db) as con:
        rows = dict(
            con.execute("SELECT url, error_kind FROM fetch WHERE outcome = 'failed'").fetchall()
        )
        articles = {u for (u,) in con.execute("SELECT url FROM article")}
    assert rows == {f"{site}a/2.html": "parse_crash", f"{site}a/4.html": "parse_timeout"}
    assert articles == {f"{site}a/{n}.html" for n in (1, 3, 5)}


def test_pool_results_match_in_process_parsing():
    page = _article(1)
    url = "https://news.example.com/a/1.html"

    async def run() -> None:
        async with ParsePool(size=1) as pool:
            rule, decoded, extracted = await pool.parse(page, url, "text/html; charset=utf-8")
            _, local_decoded, local = parse_page(page, url, [], "text/html; charset=utf-8")
            assert rule is None and decoded == local_decoded
            assert extracted.title == local.title and extracted.blocks == local.blocks

    asyncio.run(run())


def test_large_pages_go_both_ways_and_the_text_can_stay_behind():
    # Messages many times a socket's buffer, sent and read a piece at a time by the event loop.
    page = _article(1).replace(b"</body>", b"<p>" + "长文".encode() * 1_500_000 + b"</p></body>")
    url = "https://news.example.com/a/1.html"

    async def run() -> None:
        async with ParsePool(size=1) as pool:
            _, decoded, extracted = await pool.parse(page, url, "text/html; charset=utf-8")
            _, bare, again = await pool.parse(page, url, "text/html; charset=utf-8", text=False)
        _, local_decoded, local = parse_page(page, url, [], "text/html; charset=utf-8")
        assert decoded == local_decoded and len(decoded.text) > 3_000_000
        assert bare.text == "" and bare.encoding == decoded.encoding and bare.errors == 0
        assert extracted.blocks == again.blocks == local.blocks

    asyncio.run(run())


def test_a_dead_worker_is_replaced(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    url = "https://news.example.com/a/1.html"

    async def run() -> None:
        async with ParsePool(size=1, target=FAULTS, timeout=1.0) as pool:
            with pytest.raises(ParseCrash, match="signal 9") as crash:
                await pool.parse(_article(2, "KILL-THE-PARSER"), url, None)
            assert crash.value.url == url
            with pytest.raises(ParseTimeout):
                await pool.parse(_article(4, "HANG-THE-PARSER"), url, None)
            _, _, extracted = await pool.parse(_article(3), url, None)  # a fresh worker
            assert extracted.title == "经济数据发布第3号"
            with pytest.raises(NoContent) as caught:  # errors come back as their own class
                await pool.parse(_article(5, "RAISE-NO-CONTENT"), url, None)
            assert caught.value.url == url and str(caught.value) == f"no article body ({url})"

    asyncio.run(run())


def test_pages_queued_behind_a_fatal_page_go_to_a_fresh_worker(monkeypatch: pytest.MonkeyPatch):
    # A worker is sent its next page while it parses one: when that one kills or hangs it, the
    # page queued behind is parsed by a new worker, with a full timeout of its own.
    monkeypatch.setenv("PYTHONPATH", str(TESTS))

    async def parse(pool: ParsePool, n: int, marker: str = "") -> str:
        _, _, extracted = await pool.parse(_article(n, marker), f"https://x.test/a/{n}.html", None)
        return extracted.title or ""

    async def run() -> None:
        async with ParsePool(size=1, target=FAULTS, timeout=3.0) as pool:
            results = await asyncio.gather(
                parse(pool, 1),
                parse(pool, 2, "KILL-THE-PARSER"),
                parse(pool, 3),
                parse(pool, 4, "HANG-THE-PARSER"),
                parse(pool, 5),
                return_exceptions=True,
            )
        kinds = [r[-2:] if isinstance(r, str) else type(r).__name__ for r in results]
        assert kinds == ["1号", "ParseCrash", "3号", "ParseTimeout", "5号"]
        assert [r.url for r in results if isinstance(r, Exception)] == [
            "https://x.test/a/2.html", "https://x.test/a/4.html",
        ]  # fmt: skip

    asyncio.run(run())


def test_link_filter_keeps_what_follow_would():
    links = [
        "http://127.0.0.1:8080/a/1.html",
        "http://127.0.0.1:8080?x=1",
        "HTTP://News.Example.com:80/b.html#top",
        "https://other.example.org/c.html",
        "http://127.0.0.1:9090/d.html",
    ]
    kept = on_hosts(links, frozenset({"127.0.0.1:8080", "news.example.com"}))
    assert kept == links[:3]


def test_default_size_leaves_a_core_to_the_crawl():
    assert 1 <= default_size() <= 4


def test_the_crawl_process_loads_no_parser():
    # Only the workers parse: the crawl's own process (CLI, pipeline, store, fetch) leaves the
    # parser and Lexbor out of its memory.
    code = (
        "import sys, xinwen.cli, xinwen.pipeline, xinwen.store, xinwen.fetch; "
        "print(sorted(m for m in ('xinwen.parse', 'selectolax') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_first_worker_starts_with_the_pool_and_serves_the_first_page():
    # Started on entering the pool, so its imports overlap the crawl's first fetches; the
    # first page goes to it, not to a second worker.
    page = _article(1)
    url = "https://news.example.com/a/1.html"

    async def run() -> None:
        async with ParsePool(size=2) as pool:
            assert len(pool._all) == 1 and pool._all[0].alive()
            first = pool._all[0]
            _, _, extracted = await pool.parse(page, url, "text/html; charset=utf-8")
            assert pool._all == [first] and extracted.is_article

    asyncio.run(run())


def test_a_workers_socket_holds_the_pages_in_its_hands():
    # The pages queued behind the one a worker parses sit in the socket, not half-sent in the
    # crawl's event loop; the kernel caps the buffer at net.core.wmem_max (Linux doubles it).
    cap = int(Path("/proc/sys/net/core/wmem_max").read_text()) if sys.platform == "linux" else 0

    async def run() -> int:
        async with ParsePool(size=1) as pool:
            return pool._all[0].sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)

    size = asyncio.run(run())
    assert size >= min(SEND_BUFFER, cap or SEND_BUFFER), (size, cap)
