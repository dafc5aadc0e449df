"""A misbehaving HTTP server for the fault-matrix tests (shared/docs/fault-matrix.md).

Run as a subprocess (`python tests/faultserver.py`), as Scrapy runs its mock server: it listens
on 127.0.0.1 only, on ports chosen by the OS, prints them as one JSON line, and serves until its
stdin closes (the test process ended, however it ended) or it gets SIGTERM. `test_faults.py` has
the session fixture that starts and stops it.

It is written on raw asyncio streams rather than http.server, because most faults are about
framing that a real HTTP library refuses to produce: a short Content-Length, a chunked body without
its last chunk, a reset, a bad status line, two Content-Length values. Every route is
deterministic; the only state is a counter per request target (path and query, as sent), so tests
can assert on the server side how often a URL was requested:

    /__hits?path=/status%3Fn%3D503   {"hits": 4, "sent": 0, "done": 4}  (sent: body bytes written;
                                     done: requests whose handler has finished)
    /__hits                          every counter
    /__reset                         forget all counters

Other listeners, printed beside `port`: `other_port` (the same routes on another origin, for
cross-origin redirects), `blackhole_port` (a listener whose accept queue is full, so a connect
hangs: the connect-timeout row) and `tls_port` (the same routes over TLS with a self-signed
certificate; null when no `openssl` command is available to make one).

`/gen/<seed>/<pages>/` is a generated news site for the mini-soak (tests/test_soak.py): an index,
listing pages of 50 links each, and `<pages>` articles, of which 5% have a transient fault and
2% a permanent one, chosen by `site_plan(seed, pages)`; see that section below.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import random
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from email.utils import formatdate
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import zstandard

try:
    import brotli
except ImportError:  # br routes answer 404 then; the tests skip them
    brotli = None

HOST = "127.0.0.1"
MiB = 1024 * 1024

# The article every well-behaved route serves (UTF-8).
PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>朱镕基考察上海</title></head><body>"
    "<h1>朱镕基考察上海</h1>"
    + "<p>新华社上海电，记者报道，国务院总理朱镕基在上海考察工作。</p>" * 40
    + "</body></html>"
).encode()

# Charset routes (fault-matrix rows 24-27): (Content-Type header, body, the title to decode).
CHARSETS: dict[str, tuple[str, bytes, str]] = {
    # 24a: GBK bytes, a utf-8 header and a gbk <meta>
    "gbk-as-utf8": (
        "text/html; charset=utf-8",
        '<html><head><meta charset="gbk"><title>朱镕基考察上海</title></head>'
        "<body><p>国务院总理朱镕基在上海考察。</p></body></html>".encode("gbk"),
        "朱镕基考察上海",
    ),
    # 24b: labelled gb2312, with characters only GBK/GB18030 have (镕, 喆, 𠮷)
    "gb2312-rong": (
        "text/html; charset=gb2312",
        "<html><head><title>朱镕基与陶喆吃𠮷野家</title></head>"
        "<body><p>朱镕基与陶喆。</p></body></html>".encode("gb18030"),
        "朱镕基与陶喆吃𠮷野家",
    ),
    # 24c: no charset in the header, a malformed meta http-equiv
    "bad-meta": (
        "text/html",
        '<html><head><meta httpequiv="ContentType" content="text/html; charset=gbk">'
        "<title>朱镕基考察上海</title></head><body><p>国务院总理朱镕基。</p></body></html>".encode(
            "gbk"
        ),
        "朱镕基考察上海",
    ),
    # 24d: GBK bytes under an ISO-8859-1 header (a server default)
    "latin1": (
        "text/html; charset=ISO-8859-1",
        "<html><head><title>朱镕基考察上海</title></head>"
        "<body><p>国务院总理朱镕基在上海考察。</p></body></html>".encode("gbk"),
        "朱镕基考察上海",
    ),
    # 25: Big5-HKSCS characters under a big5 label
    "big5": (
        "text/html; charset=big5",
        "<html><head><title>佢哋講咗啲嘢</title></head>"
        "<body><p>佢哋講咗啲嘢。</p></body></html>".encode("big5hkscs"),
        "佢哋講咗啲嘢",
    ),
    # 27: a UTF-7 label must never be used (the body is UTF-8 with a UTF-7 smuggled tag)
    "utf7": (
        "text/html; charset=utf-7",
        "<html><head><title>朱镕基考察上海</title></head>"
        "<body><p>+ADw-script+AD4-alert(1)+ADw-/script+AD4-</p></body></html>".encode(),
        "朱镕基考察上海",
    ),
    # 27: an invalid label is ignored; the meta decides
    "invalid": (
        "text/html; charset=%%INVALID%%",
        '<html><head><meta charset="gbk"><title>朱镕基考察上海</title></head>'
        "<body><p>国务院总理朱镕基。</p></body></html>".encode("gbk"),
        "朱镕基考察上海",
    ),
}

REASONS = {
    200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    307: "Temporary Redirect", 308: "Permanent Redirect", 404: "Not Found", 408: "Request Timeout",
    410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}  # fmt: skip

# How long a route that "never answers" waits for the client to go away, so no connection of
# this server outlives a test run by more than this even if a client leaks it.
HOLD = 30.0


# --- compressed bodies ------------------------------------------------------------------------


def _zlib_stream(wbits: int, size: int) -> bytes:
    """`size` zero bytes compressed with zlib in the format `wbits` selects, 1 MiB at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(MiB)
    parts = [compressor.compress(block) for _ in range(size // MiB)]
    return b"".join([*parts, compressor.flush()])


@cache
def bomb(encoding: str) -> bytes:
    """A body tiny on the wire that decodes to 64 MiB of zeros (128 MiB for gzip-members)."""
    size = 64 * MiB
    if encoding == "gzip":
        return _zlib_stream(16 + zlib.MAX_WBITS, size)
    if encoding == "deflate":
        return _zlib_stream(zlib.MAX_WBITS, size)
    if encoding == "deflate-raw":
        return _zlib_stream(-zlib.MAX_WBITS, size)
    if encoding == "gzip-members":  # 2,048 concatenated members of 64 KiB each
        return gzip.compress(bytes(64 * 1024)) * 2048
    if encoding == "br":
        compressor = brotli.Compressor(quality=5)
        block = bytes(MiB)
        return b"".join([*(compressor.process(block) for _ in range(size // MiB)),
                         compressor.finish()])  # fmt: skip
    if encoding == "zstd":
        # Streamed, so the frame does not declare its size and the client must count.
        compressor = zstandard.ZstdCompressor(level=3, write_content_size=False).compressobj()
        block = bytes(MiB)
        return b"".join([*(compressor.compress(block) for _ in range(size // MiB)),
                         compressor.flush()])  # fmt: skip
    raise KeyError(encoding)


def encode(body: bytes, coding: str) -> bytes:
    """`body` with one content coding applied (the well-behaved /encoded routes)."""
    if coding == "gzip":
        return gzip.compress(body)
    if coding == "gzip-members":  # two members, as `cat a.gz b.gz` makes
        half = len(body) // 2
        return gzip.compress(body[:half]) + gzip.compress(body[half:])
    if coding == "deflate":
        return zlib.compress(body)
    if coding == "deflate-raw":
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(body) + compressor.flush()
    if coding == "br":
        return bytes(brotli.compress(body))
    if coding == "zstd":
        return zstandard.ZstdCompressor().compress(body)
    if coding == "zstd-frames":  # two frames back to back
        half = len(body) // 2
        compressor = zstandard.ZstdCompressor()
        return compressor.compress(body[:half]) + compressor.compress(body[half:])
    raise KeyError(coding)


# --- the server -------------------------------------------------------------------------------


class Counters:
    """Hits, body bytes sent and finished handlers, per request target."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.done: Counter[str] = Counter()

    def report(self, target: str | None) -> dict[str, Any]:
        if target is None:
            return {t: {"hits": n, "sent": self.sent[t], "done": self.done[t]}
                    for t, n in self.hits.items()}  # fmt: skip
        return {"hits": self.hits[target], "sent": self.sent[target], "done": self.done[target]}


class Request:
    """One parsed request and the connection it came on."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        target: str,
        headers: dict[str, str],
        counters: Counters,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.target = target
        self.headers = headers
        self.counters = counters
        parts = urlsplit(target)
        self.path = parts.path
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.gone = asyncio.Event()  # set when the client closes or resets the connection
        self._watch = asyncio.ensure_future(self._watch_close())

    async def _watch_close(self) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while await self.reader.read(65536):
                pass
        self.gone.set()

    def arg(self, name: str, default: str) -> str:
        return self.query.get(name, default)

    async def send(self, data: bytes, *, body: int = 0) -> None:
        """Write raw bytes; `body` of them count as body bytes sent."""
        self.writer.write(data)
        await self.writer.drain()
        self.counters.sent[self.target] += body

    async def respond(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        fields = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        fields.setdefault("Content-Length", str(len(body)))
        fields["Connection"] = "close"
        head += [f"{k}: {v}" for k, v in fields.items()]
        await self.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body, body=len(body))

    async def hold(self) -> None:
        """Keep the connection open, silent, until the client goes away (or HOLD passes)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.gone.wait(), HOLD)

    async def stream(
        self, size: int, *, chunked: bool, gap: float = 0.0, step: int = 65536
    ) -> None:
        """Write `size` zero bytes of body, stopping as soon as the client has gone."""
        written = 0
        with contextlib.suppress(ConnectionError, OSError):
            while written < size and not self.gone.is_set():
                n = min(step, size - written)
                data = bytes(n)
                await self.send(b"%x\r\n%s\r\n" % (n, data) if chunked else data, body=n)
                written += n
                if gap:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.gone.wait(), gap)
            if chunked and not self.gone.is_set():
                await self.send(b"0\r\n\r\n")

    def reset(self) -> None:
        """Close with a TCP RST instead of a FIN (SO_LINGER 0)."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    def close(self) -> None:
        self._watch.cancel()


Route = Callable[[Request], Awaitable[None]]
ROUTES: dict[str, Route] = {}


def route(path: str) -> Callable[[Route], Route]:
    def register(handler: Route) -> Route:
        ROUTES[path] = handler
        return handler

    return register


@route("/ok")
async def _ok(r: Request) -> None:
    await r.respond(200, PAGE)


@route("/status")
async def _status(r: Request) -> None:
    """/status?n=503&retry_after=2 or &retry_after_date=3 (an HTTP-date 3 s from now)."""
    headers = {}
    if "retry_after" in r.query:
        headers["Retry-After"] = r.query["retry_after"]
    if "retry_after_date" in r.query:
        when = float(r.query["retry_after_date"])
        headers["Retry-After"] = formatdate(time.time() + when, usegmt=True)
    await r.respond(int(r.arg("n", "200")), b"status page", headers)


@route("/flaky")
async def _flaky(r: Request) -> None:
    """/flaky?fail=2&n=503: status n for the first `fail` hits of this target, then the page."""
    if r.counters.hits[r.target] <= int(r.arg("fail", "1")):
        await r.respond(int(r.arg("n", "503")), b"try again")
    else:
        await r.respond(200, PAGE)


@route("/wait")
async def _wait(r: Request) -> None:
    await r.hold()  # accepts the request and never answers


@route("/hang-after-headers")
async def _hang_after_headers(r: Request) -> None:
    await r.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/html\r\n\r\n")
    await r.send(PAGE[:10], body=10)
    await r.hold()


@route("/drip")
async def _drip(r: Request) -> None:
    """/drip?gap=0.1&n=10240: one byte per gap, each gap shorter than the client's read timeout."""
    size = int(r.arg("n", "10240"))
    await r.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/html\r\n\r\n" % size)
    await r.stream(size, chunked=False, gap=float(r.arg("gap", "0.1")), step=1)


@route("/short-cl")
async def _short_cl(r: Request) -> None:
    await r.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n")
    await r.send(b"<html>\n", body=7)  # 7 of the 100 bytes promised, then close


@route("/broken-chunked")
async def _broken_chunked(r: Request) -> None:
    await r.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    half = PAGE[: len(PAGE) // 2]
    await r.send(b"%x\r\n%s\r\n" % (len(half), half), body=len(half))  # no 0\r\n\r\n, then close


@route("/unframed")
async def _unframed(r: Request) -> None:
    """No Content-Length, not chunked: the body ends where the connection does (half a page)."""
    await r.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                 b"Connection: close\r\n\r\n")  # fmt: skip
    half = PAGE[: len(PAGE) // 2]
    await r.send(half, body=len(half))


@route("/drop")
async def _drop(r: Request) -> None:
    """/drop?abort=1: RST before any byte; /drop?abort=0: headers and 10 bytes, then FIN."""
    if r.arg("abort", "1") == "1":
        r.reset()
        return
    await r.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    await r.send(PAGE[:10], body=10)


@route("/bad-status")
async def _bad_status(r: Request) -> None:
    await r.send(b"HTTP 1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


@route("/bad-header")
async def _bad_header(r: Request) -> None:
    await r.send(b"HTTP/1.1 200 OK\r\nthis header has no colon\r\nContent-Length: 2\r\n"
                 b"Connection: close\r\n\r\nok")  # fmt: skip


@route("/two-cl")
async def _two_cl(r: Request) -> None:
    await r.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n"
                 b"Connection: close\r\n\r\nhello, ")  # fmt: skip


@route("/bad-location")
async def _bad_location(r: Request) -> None:
    await r.respond(302, headers={"Location": "http://[::1"})


@route("/loop")
async def _loop(r: Request) -> None:
    await r.respond(302, headers={"Location": "/loop"})


@route("/chain")
async def _chain(r: Request) -> None:
    """/chain?n=15: 15 redirects (/chain?n=15&i=1 ... i=15), then the page."""
    n, i = int(r.arg("n", "15")), int(r.arg("i", "0"))
    if i < n:
        await r.respond(302, headers={"Location": f"/chain?n={n}&i={i + 1}"})
    else:
        await r.respond(200, PAGE)


@route("/redirect")
async def _redirect(r: Request) -> None:
    """/redirect?to=<URL>&code=302: a redirect to anything, other schemes included."""
    await r.respond(int(r.arg("code", "302")), headers={"Location": r.arg("to", "/ok")})


@route("/echo")
async def _echo(r: Request) -> None:
    """The request headers received, as JSON (what crossed a redirect)."""
    body = json.dumps(r.headers).encode()
    await r.respond(200, body, {"Content-Type": "application/json"})


@route("/big")
async def _big(r: Request) -> None:
    """/big?cl=1: declares 50 MiB; /big?cl=0: streams 50 MiB chunked; either stops when the
    client goes away."""
    size = int(r.arg("size", str(50 * MiB)))
    if r.arg("cl", "1") == "1":
        await r.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/html\r\n\r\n"
                     % size)  # fmt: skip
        await r.stream(size, chunked=False)
    else:
        await r.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Type: text/html\r\n\r\n")  # fmt: skip
        await r.stream(size, chunked=True)


@route("/bomb")
async def _bomb(r: Request) -> None:
    """/bomb?enc=gzip|deflate|deflate-raw|gzip-members|br|zstd: see `bomb`."""
    name = r.arg("enc", "gzip")
    if name == "br" and brotli is None:
        await r.respond(404)
        return
    coding = {"gzip-members": "gzip", "deflate-raw": "deflate"}.get(name, name)
    await r.respond(200, bomb(name), {"Content-Encoding": coding})


@route("/encoded")
async def _encoded(r: Request) -> None:
    """/encoded?enc=gzip|deflate|br|zstd|...|gzip,br: the page, correctly encoded (comma: in
    that order, as Content-Encoding lists them). enc=compress sends the page unencoded under a
    coding the client cannot decode."""
    names = r.arg("enc", "gzip").split(",")
    if "br" in names and brotli is None:
        await r.respond(404)
        return
    body = PAGE
    if names != ["compress"]:
        for name in names:
            body = encode(body, name)
    header = ", ".join({"gzip-members": "gzip", "deflate-raw": "deflate",
                        "zstd-frames": "zstd"}.get(n, n) for n in names)  # fmt: skip
    await r.respond(200, body, {"Content-Encoding": header})


@route("/gzip-truncated")
async def _gzip_truncated(r: Request) -> None:
    """A gzip stream cut 20 bytes short, framed correctly (Content-Length = what is sent)."""
    await r.respond(200, gzip.compress(PAGE)[:-20], {"Content-Encoding": "gzip"})


@route("/gzip-corrupt")
async def _gzip_corrupt(r: Request) -> None:
    """Content-Encoding: gzip over a plain HTML body."""
    await r.respond(200, PAGE, {"Content-Encoding": "gzip"})


@route("/charset")
async def _charset(r: Request) -> None:
    content_type, body, _ = CHARSETS[r.arg("case", "latin1")]
    await r.respond(200, body, {"Content-Type": content_type})


@route("/cut")
async def _cut(r: Request) -> None:
    """/cut?pattern=FTSU: the article, as the n-th request for this target gets it by the n-th
    letter (the last one repeats): F the page; T its first half with no length, ended by closing
    the connection (row 9: HTTP sees no error); S a complete version with a quarter of the
    text; U the same without a length (unframed); L the page's Content-Length and half its
    bytes, then the connection closed (row 7: data loss)."""
    pattern = r.arg("pattern", "T")
    letter = pattern[min(r.counters.hits[r.target], len(pattern)) - 1]
    paragraph = "<p>新华社上海电，记者报道，国务院总理朱镕基在上海考察工作。</p>"
    short = PAGE.replace((paragraph * 30).encode(), b"")
    if letter == "L":
        await r.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(PAGE))  # fmt: skip
        await r.send(PAGE[: len(PAGE) // 2], body=len(PAGE) // 2)
    elif letter in "TU":
        await r.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                     b"Connection: close\r\n\r\n")  # fmt: skip
        body = PAGE[: len(PAGE) // 2] if letter == "T" else short
        await r.send(body, body=len(body))
    else:
        await r.respond(200, short if letter == "S" else PAGE)


# Row 14: a block page served with 200, as Chinese sites show it to a client they suspect.
BLOCK_TITLES = {"freq": "访问过于频繁", "verify": "安全验证"}


@route("/captcha")
async def _captcha(r: Request) -> None:
    """/captcha?kind=freq|verify: a 2 KB block page with status 200 and no article."""
    title = BLOCK_TITLES[r.arg("kind", "freq")]
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{'.box{margin:0 auto;width:320px}' * 40}</style></head><body>"
        f"<div class='box'><h2>{title}</h2><p>您的访问过于频繁，请完成下方验证后继续访问。</p>"
        "<div id='captcha'><button>点击验证</button></div></div></body></html>"
    )
    await r.respond(200, page.encode())


@route("/links")
async def _links(r: Request) -> None:
    """/links?to=/a&to=/b: a listing page linking to each `to`, in order."""
    targets = parse_qs(urlsplit(r.target).query).get("to", [])
    items = "".join(f"<li><a href='{t}'>链接{i}</a></li>" for i, t in enumerate(targets))
    page = f"<html><head><title>列表</title></head><body><ul>{items}</ul></body></html>"
    await r.respond(200, page.encode())


# Row 46: one article under several URLs. /dup/<s>/a/1 is the article; /dup/<s>/m/a/1 serves
# the same bytes and /dup/<s>/amp/a/1 an AMP copy, both naming it as rel=canonical. Two slips:
# /dup/<s>/other/2, another article naming /a/1 too, and /dup/<s>/home/3 naming the home page.
DUP_PARAGRAPHS = "".join(
    f"<p>第{i}段：国务院新闻办公室今天举行新闻发布会，介绍上海浦东新区开发开放三十年来的成就。</p>"
    for i in range(1, 8)
)


def _dup_article(s: str, title: str, canonical: str, amp: bool = False) -> bytes:
    head = "<script async src='https://cdn.ampproject.org/v0.js'></script>" if amp else ""
    return (
        f"<!doctype html><html{' amp' if amp else ''}><head><meta charset='utf-8'>"
        f"<title>{title}</title><link rel='canonical' href='{canonical}'>{head}</head>"
        f"<body><h1>{title}</h1><p class='time'>2024-11-06 10:00</p>"
        f"<div class='content'>{DUP_PARAGRAPHS}</div></body></html>"
    ).encode()


async def _dup(r: Request) -> None:
    """/dup/<s>/ (index; ?only=amp links the AMP copy alone) and the pages above."""
    parts = r.path.split("/", 3)  # ['', 'dup', s, rest]
    if len(parts) < 4:
        await r.respond(404, b"no such page")
        return
    s, rest = parts[2], parts[3]
    base = f"/dup/{s}/"
    pages = {
        "a/1": _dup_article(s, "浦东开发开放三十年成就发布", f"{base}a/1"),
        "m/a/1": _dup_article(s, "浦东开发开放三十年成就发布", f"{base}a/1"),
        "amp/a/1": _dup_article(s, "浦东开发开放三十年成就发布", f"{base}a/1", amp=True),
        "other/2": _dup_article(s, "另一篇文章误用了规范链接", f"{base}a/1"),
        "home/3": _dup_article(s, "规范链接指向了首页的文章", "/"),
    }
    if rest == "":
        links = ["amp/a/1"] if r.arg("only", "") == "amp" else [
            "a/1", "a/1?utm_source=x", "m/a/1", "amp/a/1", "other/2", "home/3"]  # fmt: skip
        items = "".join(f"<li><a href='{base}{link}'>链接</a></li>" for link in links)
        await r.respond(200, f"<html><body><ul>{items}</ul></body></html>".encode())
    elif rest in pages:
        await r.respond(200, pages[rest])
    else:
        await r.respond(404, b"no such page")


# --- the generated site (the mini-soak) ----------------------------------------------------

# Faults of the generated site's articles, by page number (see `site_plan`). Transient ones end
# in the page after retries or are bad input that must still decode; permanent ones never do.
TRANSIENT = ("503-once", "503-twice", "drop", "gzip-truncated", "slow", "gbk-mislabelled")
PERMANENT = ("500", "404")
TRANSIENT_SHARE = 0.05
PERMANENT_SHARE = 0.02
PER_LISTING = 50  # article links per listing page
SLOW = 0.4  # seconds a "slow" article makes the client wait for its body


@cache
def site_plan(seed: int, pages: int) -> dict[int, str]:
    """The fault of each faulty article of `/gen/<seed>/<pages>/`, by page number.

    Exactly 5% of the pages get a transient fault and 2% a permanent one (rounded), spread by a
    generator seeded with `seed`; the kinds take turns in the order of TRANSIENT and PERMANENT.
    """
    transient = round(pages * TRANSIENT_SHARE)
    permanent = round(pages * PERMANENT_SHARE)
    chosen = random.Random(seed).sample(range(pages), transient + permanent)
    plan = {n: TRANSIENT[i % len(TRANSIENT)] for i, n in enumerate(chosen[:transient])}
    plan.update({n: PERMANENT[i % len(PERMANENT)] for i, n in enumerate(chosen[transient:])})
    return plan


def site_title(n: int) -> str:
    """The headline of article `n` (镕 is in GBK but not GB2312: a mislabelled page shows it)."""
    return f"新华社快讯第{n}号：朱镕基考察上海浦东新区"


def site_expected_hits(fault: str | None) -> int:
    """Requests a crawler with 4 attempts per transient fault makes for an article."""
    return {"503-once": 2, "503-twice": 3, "drop": 2, "gzip-truncated": 2, "500": 4}.get(
        fault or "", 1
    )


def _site_article(base: str, pages: int, n: int) -> str:
    title = site_title(n)
    day, minute = 1 + n % 28, n % 60
    paragraphs = "".join(
        f"<p>第{n}号稿件第{i}段：国务院总理朱镕基今天在上海考察浦东新区的开发开放工作，"
        f"听取了市政府的汇报，并与基层干部群众座谈，了解企业生产经营情况。</p>"
        for i in range(1, 7)
    )
    # The next article is linked with a tracking parameter and a fragment: the crawler must
    # collapse it to the same canonical URL (no duplicate rows, no second fetch).
    after = (n + 1) % pages
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<div class='nav'><a href='{base}'>首页</a></div><h1>{title}</h1>"
        f"<p class='time'>2024-11-{day:02d} 10:{minute:02d}</p>"
        f"<div class='content'>{paragraphs}</div>"
        f"<div class='more'><a href='{base}a/{after}.html?utm_source=related#top'>下一篇</a></div>"
        "</body></html>"
    )


def _site_listing(base: str, pages: int, k: int) -> str:
    first = (k - 1) * PER_LISTING
    items = "".join(
        f"<li><a href='{base}a/{n}.html'>{site_title(n)}</a></li>"
        for n in range(first, min(first + PER_LISTING, pages))
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>新闻列表 {k}</title></head>"
        f"<body><ul class='list'>{items}</ul></body></html>"
    )


def _site_index(base: str, pages: int) -> str:
    listings = -(-pages // PER_LISTING)
    items = "".join(f"<li><a href='{base}list/{k}.html'>列表{k}</a></li>"
                    for k in range(1, listings + 1))  # fmt: skip
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>新闻网</title></head>"
        f"<body><ul>{items}</ul></body></html>"
    )


async def _generated(r: Request) -> None:
    """/gen/<seed>/<pages>/ (index), .../list/<k>.html, .../a/<n>.html (see `site_plan`)."""
    parts = r.path.split("/")  # ['', 'gen', seed, pages, ...]
    try:
        seed, pages = int(parts[2]), int(parts[3])
    except (IndexError, ValueError):
        await r.respond(404, b"no such site")
        return
    base = f"/gen/{seed}/{pages}/"
    rest = r.path.removeprefix(base)
    page: str | None = None
    fault: str | None = None
    if rest == "":
        page = _site_index(base, pages)
    elif rest.startswith("list/") and rest.endswith(".html") and rest[5:-5].isdigit():
        k = int(rest[5:-5])
        if 1 <= k <= -(-pages // PER_LISTING):
            page = _site_listing(base, pages, k)
    elif rest.startswith("a/") and rest.endswith(".html") and rest[2:-5].isdigit():
        n = int(rest[2:-5])
        if n < pages:
            page = _site_article(base, pages, n)
            fault = site_plan(seed, pages).get(n)
    if page is None:
        await r.respond(404, b"no such page")
        return
    hit = r.counters.hits[r.target]
    body = page.encode()
    if fault == "500" or (fault == "503-once" and hit <= 1) or (fault == "503-twice" and hit <= 2):
        await r.respond(int(fault[:3]), b"server busy")
    elif fault == "404":
        await r.respond(404, b"not found")
    elif fault == "drop" and hit <= 1:
        r.reset()
    elif fault == "gzip-truncated" and hit <= 1:
        await r.respond(200, gzip.compress(body)[:-20], {"Content-Encoding": "gzip"})
    elif fault == "slow":
        await r.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))  # fmt: skip
        await asyncio.sleep(SLOW)
        await r.send(body, body=len(body))
    elif fault == "gbk-mislabelled":
        body = page.replace("charset='utf-8'", "charset='gbk'").encode("gbk")
        await r.respond(200, body, {"Content-Type": "text/html; charset=utf-8"})
    else:
        await r.respond(200, body)


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]] | None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return parts[1], headers


def handler(counters: Counters) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await _read_head(reader)
        if head is None:
            writer.close()
            return
        target, headers = head
        path = urlsplit(target).path
        if path == "/__reset":
            counters.hits.clear()
            counters.sent.clear()
            counters.done.clear()
        elif not path.startswith("/__"):
            counters.hits[target] += 1
        request = Request(reader, writer, target, headers, counters)
        try:
            if path == "/__hits":
                which = request.query.get("path")
                await request.respond(200, json.dumps(counters.report(which)).encode(),
                                      {"Content-Type": "application/json"})  # fmt: skip
            elif path == "/__reset":
                await request.respond(200, b"{}", {"Content-Type": "application/json"})
            elif path in ROUTES:
                await ROUTES[path](request)
            elif path.startswith("/gen/"):
                await _generated(request)
            elif path.startswith("/dup/"):
                await _dup(request)
            else:
                await request.respond(404, b"no such route")
        except (ConnectionError, OSError):
            pass  # the client went away: that is what many routes are about
        finally:
            request.close()
            if not path.startswith("/__"):
                counters.done[target] += 1
            with contextlib.suppress(Exception):
                writer.close()

    return handle


def _blackhole() -> list[socket.socket]:
    """A listener whose accept queue is full, so that a new connect hangs in SYN-SENT.

    With a backlog of 0, Linux queues one connection and drops the SYNs after it; the filler
    connections are never accepted.
    """
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(0)
    fillers = []
    for _ in range(2):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(listener.getsockname())
        fillers.append(filler)
    return [listener, *fillers]


def _tls_context(directory: Path) -> ssl.SSLContext | None:
    """A server context with a fresh self-signed certificate for 127.0.0.1, or None."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@contextlib.contextmanager
def running(log: Path) -> Iterator[dict[str, Any]]:
    """Run this server in a subprocess for a test; yield the ports it printed (see the module
    docstring). Its stderr goes to `log`; it is stopped however the block ends."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__))],
            stdin=subprocess.PIPE,  # closed at the end: the server exits on EOF
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    assert process.stdin is not None and process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline() if ready else b""
        if not line:
            raise RuntimeError(f"the fault server did not start: {log.read_text(errors='replace')}")
        yield json.loads(line)
    finally:
        process.stdin.close()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        process.stdout.close()


async def main() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    # A failed TLS handshake is the point of the TLS route; do not print a traceback for it.
    loop.set_exception_handler(lambda _loop, _context: None)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def watch_stdin() -> None:
        # The parent holds our stdin open; EOF means it is gone, whatever way it ended.
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()

    # Bombs are built before the ports are announced: built on first request, a 64 MiB
    # compression outlasts the tests' 0.3 s read timeout and the client sees a timeout instead.
    for encoding in ("gzip", "deflate", "deflate-raw", "gzip-members", "zstd"):
        bomb(encoding)
    if brotli is not None:
        bomb("br")

    counters = Counters()
    handle = handler(counters)
    main_server = await asyncio.start_server(handle, HOST, 0)
    other_server = await asyncio.start_server(handle, HOST, 0)
    hole = _blackhole()
    with tempfile.TemporaryDirectory() as directory:
        context = _tls_context(Path(directory))
        tls_server = await asyncio.start_server(handle, HOST, 0, ssl=context) if context else None
        ports = {
            "port": main_server.sockets[0].getsockname()[1],
            "other_port": other_server.sockets[0].getsockname()[1],
            "blackhole_port": hole[0].getsockname()[1],
            "tls_port": tls_server.sockets[0].getsockname()[1] if tls_server else None,
            "brotli": brotli is not None,
        }
        # The one line the fixture reads (stdout is the protocol, hence print).
        print(json.dumps(ports), flush=True)  # noqa: T201
        await stop.wait()
        for server in (main_server, other_server, tls_server):
            if server is not None:
                server.close()
    for sock in hole:
        sock.close()


if __name__ == "__main__":
    asyncio.run(main())
    # Handlers still holding connections must not keep the process alive.
    os._exit(0)
