"""Fetching over httpx.MockTransport: status, size, error mapping, decoders, retry policy,
redaction, politeness timing. The misbehaving-server cases are in test_faults.py."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime

import httpx
import pytest

from xinwen.errors import (
    BodyTooLarge,
    ConnectFailed,
    ContentDecodeError,
    DataLoss,
    DNSError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    ProtocolError,
    RateLimited,
    RedirectLoop,
    RedirectRefused,
    TLSError,
    redact,
)
from xinwen.fetch import ACCEPT_ENCODING, Fetcher, FetchSettings, parse_retry_after

GBK_PAGE = '<meta charset="gbk"><h1>朱镕基</h1>'.encode("gbk")


def _handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/ok":
        return httpx.Response(200, content=GBK_PAGE, headers={"Content-Type": "text/html"})
    if path == "/moved":
        return httpx.Response(301, headers={"Location": "/ok"})
    if path == "/loop":
        return httpx.Response(302, headers={"Location": "/loop"})
    if path == "/big":
        return httpx.Response(200, content=b"x" * 2048)
    if path == "/timeout":
        raise httpx.ReadTimeout("read timed out", request=request)
    if path == "/refused":
        raise httpx.ConnectError("connection refused", request=request)
    return httpx.Response(404, content=b"not found")


def _fetch(path: str, **settings: object) -> object:
    async def run() -> object:
        # No backoff: the retry policy has its own tests (test_faults.py).
        config = FetchSettings(delay=0, backoff_base=0, **settings)  # type: ignore[arg-type]
        async with Fetcher(config, transport=httpx.MockTransport(_handler)) as fetcher:
            return await fetcher.fetch("http://news.test" + path)

    return asyncio.run(run())


def test_returns_raw_bytes_and_headers():
    page = _fetch("/ok")
    assert page.content == GBK_PAGE  # type: ignore[attr-defined]
    assert page.content_type == "text/html"  # type: ignore[attr-defined]
    assert page.fetched_at.tzinfo is not None  # type: ignore[attr-defined]


def test_follows_redirects_and_keeps_the_final_url():
    page = _fetch("/moved")
    assert page.url == "http://news.test/moved"  # type: ignore[attr-defined]
    assert page.final_url == "http://news.test/ok"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "error", "kind"),
    [
        ("/missing", HTTPStatusError, "http_status"),
        ("/timeout", FetchTimeout, "timeout"),
        ("/refused", ConnectFailed, "connect"),
        ("/loop", RedirectLoop, "redirect_loop"),
    ],
)
def test_failures_map_to_the_error_tree(path: str, error: type[FetchError], kind: str):
    with pytest.raises(error) as info:
        _fetch(path)
    assert info.value.url == "http://news.test" + path
    assert info.value.kind == kind
    assert "http://news.test" + path in str(info.value)


def test_status_error_carries_the_status():
    with pytest.raises(HTTPStatusError) as info:
        _fetch("/missing")
    assert info.value.status == 404


def test_body_cap():
    with pytest.raises(BodyTooLarge):
        _fetch("/big", max_bytes=1024)
    assert _fetch("/big", max_bytes=4096).content == b"x" * 2048  # type: ignore[attr-defined]


def test_every_httpx_error_is_converted():
    """httpx's exception classes all land under FetchError (httpx's own completeness test)."""
    classes = [
        getattr(httpx, name)
        for name in dir(httpx)
        if isinstance(getattr(httpx, name), type) and issubclass(getattr(httpx, name), Exception)
    ]
    transport_errors = [c for c in classes if issubclass(c, httpx.TransportError)]
    assert transport_errors, "httpx's exception API changed"

    for cls in transport_errors:

        def handler(request: httpx.Request, cls: type[Exception] = cls) -> httpx.Response:
            raise cls("boom", request=request)  # type: ignore[call-arg]

        async def run(handler=handler) -> None:
            config = FetchSettings(delay=0, backoff_base=0)
            async with Fetcher(config, transport=httpx.MockTransport(handler)) as fetcher:
                await fetcher.fetch("http://news.test/x")

        with pytest.raises(FetchError):
            asyncio.run(run())


def test_delay_between_requests_to_one_host():
    starts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        starts.append(time.monotonic())
        return httpx.Response(200, content=b"<p>x</p>")

    async def run() -> None:
        config = FetchSettings(delay=0.2, per_host=2, concurrency=4)
        async with Fetcher(config, transport=httpx.MockTransport(handler)) as fetcher:
            await asyncio.gather(*(fetcher.fetch(f"http://news.test/{i}") for i in range(3)))

    asyncio.run(run())
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 3 and all(gap >= 0.19 for gap in gaps), gaps


# --- Content-Encoding: our decoders, whatever the chunk boundaries ----------------------------

PAGE = (
    "<html><head><title>朱镕基考察上海</title></head><body>" + "<p>新华社电。</p>" * 300
).encode()


class _Trickle(httpx.AsyncByteStream):
    """A body delivered `size` bytes at a time, to cross every boundary a decoder keeps."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = data, size

    async def __aiter__(self):  # type: ignore[override]
        for start in range(0, len(self.data), self.size):
            yield self.data[start : start + self.size]


def _encoded(coding: str) -> bytes:
    import gzip
    import zlib

    import zstandard

    half = len(PAGE) // 2
    if coding == "gzip":
        return gzip.compress(PAGE)
    if coding == "gzip-members":
        return gzip.compress(PAGE[:half]) + gzip.compress(PAGE[half:])
    if coding == "gzip-junk":  # junk after the member, as some servers append
        return gzip.compress(PAGE) + b"\x00\x00 trailing junk"
    if coding == "deflate":
        return zlib.compress(PAGE)
    if coding == "deflate-raw":
        raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return raw.compress(PAGE) + raw.flush()
    if coding == "zstd-frames":
        compressor = zstandard.ZstdCompressor()
        return compressor.compress(PAGE[:half]) + compressor.compress(PAGE[half:])
    if coding == "br":
        brotli = pytest.importorskip("brotli")
        return bytes(brotli.compress(PAGE))
    raise KeyError(coding)


def _serve(body: bytes, coding: str, size: int) -> object:
    header = coding.split("-")[0]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"Content-Encoding": header}, stream=_Trickle(body, size)
        )

    async def run() -> object:
        config = FetchSettings(delay=0, backoff_base=0)
        async with Fetcher(config, transport=httpx.MockTransport(handler)) as fetcher:
            return await fetcher.fetch("http://news.test/a")

    return asyncio.run(run())


@pytest.mark.parametrize("size", [1, 7, 65536])
@pytest.mark.parametrize(
    "coding", ["gzip", "gzip-members", "gzip-junk", "deflate", "deflate-raw", "zstd-frames", "br"]
)
def test_decoders_work_across_any_chunk_boundary(coding: str, size: int):
    page = _serve(_encoded(coding), coding, size)
    assert page.content == PAGE  # type: ignore[attr-defined]


@pytest.mark.parametrize("cut", [1, 4, 8, 30])
def test_a_gzip_stream_cut_short_is_dataloss(cut: int):
    import gzip

    with pytest.raises(DataLoss):
        _serve(gzip.compress(PAGE)[:-cut], "gzip", 64)


def test_a_zstd_frame_cut_short_is_dataloss():
    import zstandard

    with pytest.raises(DataLoss):
        _serve(zstandard.ZstdCompressor().compress(PAGE)[:-3], "zstd", 64)


def test_the_decoded_cap_applies_to_small_wire_bodies():
    import gzip

    body = gzip.compress(bytes(64 * 1024))  # 64 KiB decoded, a few hundred bytes sent

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=body)

    async def run() -> None:
        config = FetchSettings(delay=0, max_bytes=16 * 1024)
        async with Fetcher(config, transport=httpx.MockTransport(handler)) as fetcher:
            await fetcher.fetch("http://news.test/a")

    with pytest.raises(BodyTooLarge, match="decoded"):
        asyncio.run(run())


def test_only_decodable_codings_are_offered():
    offered = {c.strip() for c in ACCEPT_ENCODING.split(",")}
    assert {"gzip", "deflate", "zstd"} <= offered <= {"gzip", "deflate", "br", "zstd"}


# --- the retry policy -------------------------------------------------------------------------

URL = "http://news.test/a"


@pytest.mark.parametrize(
    ("error", "attempts"),
    [
        (ConnectFailed("x", url=URL), 4),
        (FetchTimeout("x", url=URL, phase="read"), 4),
        (FetchTimeout("x", url=URL, phase="total"), 4),
        (DataLoss("x", url=URL), 4),
        (HTTPStatusError("x", url=URL, status=503), 4),
        (HTTPStatusError("x", url=URL, status=500), 4),
        (HTTPStatusError("x", url=URL, status=408), 4),
        (RateLimited("x", url=URL, status=429), 4),
        (DNSError("x", url=URL), 2),
        (ProtocolError("x", url=URL), 2),
        (HTTPStatusError("x", url=URL, status=404), 1),
        (HTTPStatusError("x", url=URL, status=410), 1),
        (HTTPStatusError("x", url=URL, status=403), 1),
        (BodyTooLarge("x", url=URL), 1),
        (RedirectLoop("x", url=URL), 1),
        (RedirectRefused("x", url=URL, location="file:///etc/passwd"), 1),
        (ContentDecodeError("x", url=URL), 1),
        (TLSError("x", url=URL), 1),
        (FetchError("x", url=URL), 1),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_which_failures_are_retried_and_how_often(error: FetchError, attempts: int):
    fetcher = Fetcher(FetchSettings())
    delays = [fetcher.retry_delay(error, n) for n in range(1, 6)]
    assert [d is not None for d in delays] == [n < attempts for n in range(1, 6)]
    # Full jitter under the exponential ceiling: 1, 2, 4 s.
    for n, delay in enumerate(delays[: attempts - 1], start=1):
        assert delay is not None and 0 <= delay <= 2 ** (n - 1)
    asyncio.run(fetcher.aclose())


def test_backoff_is_capped_and_retry_after_is_a_floor():
    fetcher = Fetcher(FetchSettings(max_attempts=50, backoff_cap=300))
    error = HTTPStatusError("x", url=URL, status=503)
    assert all((fetcher.retry_delay(error, 40) or 0) <= 300 for _ in range(50))
    slow = HTTPStatusError("x", url=URL, status=503, retry_after=7)
    assert all((fetcher.retry_delay(slow, 1) or 0) >= 7 for _ in range(50))
    huge = RateLimited("x", url=URL, status=429, retry_after=10**6)
    assert fetcher.retry_delay(huge, 1) == 3600
    asyncio.run(fetcher.aclose())


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0.0),  # in the past: now
        ("soon", None),
        ("-5", None),
        ("１２", None),  # full-width digits are not delta-seconds
        (None, None),
    ],
)
def test_retry_after_parsing(value: str | None, seconds: float | None):
    now = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)
    assert parse_retry_after(value, now) == seconds


# --- redaction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://u:p@h.cn/a", "https://u:***@h.cn/a"),
        ("https://TOKEN@h.cn/a", "https://***@h.cn/a"),
        ("http://h.cn/a?token=abc&id=3", "http://h.cn/a?token=***&id=3"),
        ("http://h.cn/a?api_key=abc&apikey=d&X-Amz-Signature=e&sig=f", "http://h.cn/a?api_key=***&apikey=***&X-Amz-Signature=***&sig=***"),
        ("http://h.cn/a?auth=x&authorization=y&access_token=z", "http://h.cn/a?auth=***&authorization=***&access_token=***"),
        ("http://h.cn/s?keyword=新闻&author=张三&page=2", "http://h.cn/s?keyword=新闻&author=张三&page=2"),
    ],
)  # fmt: skip
def test_redact(text: str, expected: str):
    assert redact(text) == expected


def test_error_messages_are_redacted_but_keep_the_url():
    url = "https://u:secret@h.cn/a?token=SECRET"
    error = HTTPStatusError("HTTP 404", url=url, status=404)
    assert "secret" not in str(error) and "SECRET" not in str(error)
    assert error.url == url  # the caller's key, unchanged


def test_conditional_get_returns_304_without_content():
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(200, content=b"<p>x</p>", headers={"ETag": '"v1"'})

    async def run() -> tuple[int, bytes, int, bytes]:
        config = FetchSettings(delay=0)
        async with Fetcher(config, transport=httpx.MockTransport(handler)) as fetcher:
            first = await fetcher.fetch("http://news.test/a.html")
            again = await fetcher.fetch(
                "http://news.test/a.html", validators={"If-None-Match": first.headers["etag"]}
            )
        return first.status, first.content, again.status, again.content

    assert asyncio.run(run()) == (200, b"<p>x</p>", 304, b"")
    assert "if-none-match" not in seen[0] and seen[1]["if-none-match"] == '"v1"'


def test_cookies_a_response_sets_are_sent_back():
    # The jar is skipped for responses that set no cookie (fetch._Cookies); what is set is kept.
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        headers = {"Content-Type": "text/html"}
        if request.url.path in ("/a", "/c"):
            headers["Set-Cookie"] = f"sid={request.url.path[1:]}; Path=/"
        return httpx.Response(200, content=b"<p>x</p>", headers=headers)

    async def run() -> None:
        async with Fetcher(FetchSettings(delay=0), transport=httpx.MockTransport(handler)) as f:
            for path in ("/a", "/b", "/c", "/d"):
                await f.fetch("http://news.test" + path)

    asyncio.run(run())
    assert seen == [None, "sid=a", "sid=a", "sid=c"]


async def _keep_alive_server(served: list[int]) -> asyncio.Server:
    """Answers one request per connection, keeping it open, then closes it a moment later."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(len(served) + 1)
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 8\r\n\r\n")
            writer.write(b"<p>x</p>")
            await writer.drain()
            await asyncio.sleep(0.05)
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_an_idle_connection_the_server_closed_is_not_reused():
    # httpcore asks an idle connection's socket whether it is readable before reusing it: the
    # end of the stream sent by a server that closed it. fetch._Stream answers that question.
    served: list[int] = []

    async def run() -> tuple[int, int]:
        server = await _keep_alive_server(served)
        port = server.sockets[0].getsockname()[1]
        config = FetchSettings(delay=0, trusted_hosts=frozenset({"127.0.0.1"}))
        async with server, Fetcher(config) as fetcher:
            first = await fetcher.fetch(f"http://127.0.0.1:{port}/1")
            await asyncio.sleep(0.3)  # the server has closed the connection by now
            second = await fetcher.fetch(f"http://127.0.0.1:{port}/2")
        return first.attempts, second.attempts

    assert asyncio.run(run()) == (1, 1)  # no failed request on the dead connection
    assert served == [1, 2]


def test_the_readability_of_a_connection_is_httpcore_s_answer():
    import httpcore

    from xinwen.fetch import _Stream

    async def run() -> list[tuple[bool, bool]]:
        served: list[int] = []
        server = await _keep_alive_server(served)
        port = server.sockets[0].getsockname()[1]
        answers = []
        async with server:
            inner = await httpcore.AnyIOBackend().connect_tcp("127.0.0.1", port)
            stream = _Stream(inner)
            states = [stream.get_extra_info("is_readable")]
            answers.append((states[0], inner.get_extra_info("is_readable")))  # nothing yet
            await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await asyncio.sleep(0.02)
            answers.append(
                (stream.get_extra_info("is_readable"), inner.get_extra_info("is_readable"))
            )
            await stream.read(65536)
            await asyncio.sleep(0.2)  # closed by the server: the end of the stream is readable
            answers.append(
                (stream.get_extra_info("is_readable"), inner.get_extra_info("is_readable"))
            )
            assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
            await stream.aclose()
            answers.append(
                (stream.get_extra_info("is_readable"), inner.get_extra_info("is_readable"))
            )
        return answers

    assert asyncio.run(run()) == [(False, False), (True, True), (True, True), (True, True)]
