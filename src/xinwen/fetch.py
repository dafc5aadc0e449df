"""Stage 2: HTTP. The only module that imports httpx.

`Fetcher.fetch(url)` returns a `Page` with the raw bytes (never `response.text`: decoding is
`encoding.decode`'s job) or raises a `FetchError` subclass; httpx's exceptions are converted here
and nowhere else. Politeness is per host: at most `per_host` requests at once and at least
`delay` seconds between the starts of two requests to the same host.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import httpx

from . import __version__
from .errors import BodyTooLarge, FetchError, FetchTimeout, HTTPStatusError
from .models import Page
from .urls import host_of

# What tests and embedders may pass instead of the network (httpx.MockTransport, for one).
Transport = httpx.AsyncBaseTransport

USER_AGENT = f"xinwen/{__version__} (Chinese news archiver)"


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How to fetch. Defaults follow the fault matrix's proposals (shared/docs/fault-matrix.md)."""

    concurrency: int = 8  # requests in flight over all hosts
    per_host: int = 2  # requests in flight per host
    delay: float = 1.0  # seconds between request starts on one host
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0  # total seconds for one fetch, so a dripping server cannot hold a slot
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 10
    user_agent: str = USER_AGENT


class _Host:
    """Politeness state of one host."""

    def __init__(self, per_host: int) -> None:
        self.slots = asyncio.Semaphore(per_host)
        self.lock = asyncio.Lock()
        self.next_start = 0.0


class Fetcher:
    """An HTTP client with per-host politeness. Use as `async with Fetcher(...) as f:`."""

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        s = self.settings
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=True,
            max_redirects=s.max_redirects,
            timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
            headers={
                "User-Agent": s.user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Language": "zh-CN,zh-TW;q=0.9,zh;q=0.8,en;q=0.5",
            },
            limits=httpx.Limits(max_connections=max(1, s.concurrency)),
            trust_env=False,
        )
        self._hosts: defaultdict[str, _Host] = defaultdict(lambda: _Host(s.per_host))

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    async def _wait_turn(self, host: _Host) -> None:
        async with host.lock:
            now = time.monotonic()
            if host.next_start > now:
                await asyncio.sleep(host.next_start - now)
            host.next_start = time.monotonic() + self.settings.delay

    async def fetch(self, url: str) -> Page:
        """Fetch one URL; raise a `FetchError` subclass on any failure."""
        host = self._hosts[host_of(url)]
        async with host.slots:
            await self._wait_turn(host)
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.settings.deadline):
                    return await self._get(url, started)
            except TimeoutError as exc:
                raise FetchTimeout(
                    f"no complete response within {self.settings.deadline:g} s", url=url
                ) from exc
            except httpx.TimeoutException as exc:
                raise FetchTimeout(f"timed out: {type(exc).__name__}", url=url) from exc
            except httpx.TooManyRedirects as exc:
                raise FetchError("too many redirects", url=url) from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__}: {exc}", url=url) from exc

    async def _get(self, url: str, started: float) -> Page:
        limit = self.settings.max_bytes
        async with self._client.stream("GET", url) as response:
            if not 200 <= response.status_code < 300:
                raise HTTPStatusError(
                    f"HTTP {response.status_code}", url=url, status=response.status_code
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise BodyTooLarge(f"Content-Length {declared} exceeds {limit} bytes", url=url)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(f"body exceeds {limit} bytes", url=url)
                chunks.append(chunk)
            return Page(
                url=url,
                final_url=str(response.url),
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                content=b"".join(chunks),
                fetched_at=datetime.now(UTC),
                elapsed_ms=int((time.monotonic() - started) * 1000),
            )
