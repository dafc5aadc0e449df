"""Fetching: status, size and error mapping over httpx.MockTransport; politeness timing."""

from __future__ import annotations

import asyncio
import itertools
import time

import httpx
import pytest

from xinwen.errors import BodyTooLarge, FetchError, FetchTimeout, HTTPStatusError
from xinwen.fetch import Fetcher, FetchSettings

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
        config = FetchSettings(delay=0, **settings)  # type: ignore[arg-type]
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
        ("/refused", FetchError, "fetch"),
        ("/loop", FetchError, "fetch"),
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
            config = FetchSettings(delay=0)
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
