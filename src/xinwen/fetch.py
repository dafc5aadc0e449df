"""Stage 2: HTTP. The only module that imports httpx.

`Fetcher.fetch(url)` returns a `FetchedPage` (a `Page` plus the attempts it took) with the body's
bytes, never `response.text`: decoding to text is `encoding.decode`'s job. Otherwise it raises a
`FetchError` subclass, whose `kind` says what went wrong and whose `attempts` says how often it
was tried; httpx's exceptions are converted here and nowhere else. The policy, with its defaults
and the reasons for them, is in docs/fetching.md:

- Politeness per host: at most `per_host` requests at once and at least `delay` seconds between
  the starts of two requests to the same host; a Retry-After pauses the whole host.
- Deadlines: connect, read and write timeouts per operation, and a total deadline per attempt,
  because a server that drips one byte per read timeout never trips the per-operation ones.
- Bodies are read raw (`aiter_raw`) and their Content-Encoding is decoded here, in bounded steps,
  so the `max_bytes` cap holds for the wire bytes and for the decoded bytes alike and a
  decompression bomb is stopped before memory grows past the cap. A body that ends early (short
  Content-Length, broken chunks, a compressed stream without its end) is `DataLoss`, never a
  silently short page.
- Redirects are followed here, not by httpx: at most `max_redirects`, http and https only, and a
  redirect elsewhere (file:, ftp:, data:, ...) is refused before any request is made for it.
- Address guard (SSRF): before any request to a host that is not trusted, its name is resolved
  and the request is refused (`BlockedAddress`) if any address is loopback, private, link-local,
  multicast, unspecified or reserved, unless `allow_private`. This covers the first request and
  every redirect hop. The connection itself resolves the name once more, checks those
  addresses the same way and connects to one of them, never to a later answer, so a DNS answer
  that changes after the first check (DNS rebinding) is caught before any request byte is sent.
- robots.txt: `Fetcher.robots(url)` fetches and caches the host's policy (`robots.py`).
- Retries: transient failures are retried with full-jitter exponential backoff, honouring
  Retry-After; permanent ones are not (`Fetcher.retry_delay` is the whole policy).
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import importlib
import ipaddress
import logging
import random
import re
import select
import socket
import ssl
import time
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpcore
import httpx
import zstandard

from . import __version__
from .errors import (
    BlockedAddress,
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
from .models import Page
from .robots import MAX_REDIRECTS as ROBOTS_REDIRECTS
from .robots import RobotsPolicy
from .urls import host_of

# What tests and embedders may pass instead of the network (httpx.MockTransport, for one).
Transport = httpx.AsyncBaseTransport
# How the fetcher waits (politeness, backoff); tests pass one that records instead of sleeping.
Sleep = Callable[[float], Awaitable[None]]
# How host names become addresses for the address guard: (host, port) -> IP address strings.
# Tests pass a stub, so no real DNS query is made for a made-up name.
Resolver = Callable[[str, int], Awaitable[list[str]]]

logger = logging.getLogger(__name__)
_PORTS = {"http": 80, "https": 443}

USER_AGENT = f"xinwen/{__version__} (Chinese news archiver)"

# httpx logs every request URL at INFO, credentials included; keep that out of the logs unless
# the application has chosen a level for httpx itself.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How to fetch. Defaults follow the fault matrix's proposals (shared/docs/fault-matrix.md)."""

    concurrency: int = 8  # requests in flight over all hosts
    per_host: int = 2  # requests in flight per host
    delay: float = 1.0  # seconds between request starts on one host
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # the longest silence while waiting for bytes
    write_timeout: float = 10.0
    pool_timeout: float = 10.0  # waiting for a free connection
    deadline: float = 60.0  # total seconds for one attempt, so a dripping server cannot hold a slot
    max_bytes: int = 10 * 1024 * 1024  # body cap, as sent and once decoded
    max_redirects: int = 10
    max_attempts: int = 4  # requests per URL for a transient failure, the first one included
    dns_attempts: int = 2  # a name that does not resolve rarely resolves a second later
    protocol_attempts: int = 2  # a malformed response may be a glitch once, not twice
    backoff_base: float = 1.0  # seconds; the n-th retry waits up to base * factor**(n-1)
    backoff_factor: float = 2.0
    backoff_cap: float = 300.0
    retry_after_cap: float = 3600.0  # a Retry-After longer than this is waited only this long
    # A host that served a block page (a CAPTCHA, 访问过于频繁, with status 200) is left alone
    # this long. Not calibrated: a minute outlasts the per-minute windows rate limits usually
    # count in, and a few blocks in a row open the crawl's breaker for the host anyway.
    block_pause: float = 60.0
    # The pages one crawl run fetches from one host at most (fault matrix row 34, like
    # Heritrix's per-host quotas): the rest wait for the next run, so one host, or a trap on
    # it, cannot take a whole run. 5,000, the matrix's figure, is more than a news site
    # publishes between two cron runs.
    host_budget: int = 5000
    user_agent: str = USER_AGENT
    # The address guard (row 20). Non-public addresses are refused unless allow_private; the
    # trusted hosts (`host` for any port, or `host:port`: the crawl's start hosts) always pass.
    # With no trusted hosts at all, the host of the URL given to `fetch` is trusted for that
    # fetch (redirects to other hosts are still checked).
    allow_private: bool = False
    trusted_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FetchedPage(Page):
    """A `Page` and how it was obtained: the attempts it took and the redirects it followed."""

    attempts: int = 1  # requests made for the URL, the successful one included
    redirects: tuple[str, ...] = ()  # the URLs redirected from, in order (final_url excluded)


# --- Content-Encoding -------------------------------------------------------------------------

# The most output one decoder step may produce. The cap is checked after every step, so memory
# never holds more than `max_bytes` plus about one step of decoded bytes.
_STEP = 64 * 1024
_GZIP_WBITS = 16 + zlib.MAX_WBITS
# RFC 8878 says HTTP zstd windows are at most 8 MiB; a frame asking for more is refused rather
# than letting it allocate up to zstd's 128 MiB default.
_ZSTD_WINDOW = 8 * 1024 * 1024
# zstandard's decompressobj has no max_length, so input is fed in slices this small. A zstd block
# yields at most 128 KiB and costs at least 4 input bytes, so one slice yields at most ~512 KiB.
_ZSTD_SLICE = 16


def _load_brotli() -> Any:
    """The brotli module if it can bound its output (brotli >= 1.2), else None."""
    try:
        module = importlib.import_module("brotli")
    except ImportError:
        return None
    # Older brotli decoders return the whole output of each call: a bomb could not be stopped.
    if not hasattr(module.Decompressor, "can_accept_more_data"):
        return None
    return module


_brotli = _load_brotli()
# Offered only for what can be decoded with bounded memory; a server that sends another coding
# anyway gets ContentDecodeError.
ACCEPT_ENCODING = "gzip, deflate" + (", br" if _brotli is not None else "") + ", zstd"


class _Corrupt(Exception):
    """A decoder met bytes that are not in its format."""


class _Decoder:
    """One content coding, decoded incrementally; every step yields a bounded amount."""

    def feed(self, data: bytes) -> Iterator[bytes]:
        raise NotImplementedError

    def finish(self) -> Iterator[bytes]:
        """Whatever output is still held back once the input has ended."""
        return iter(())

    @property
    def complete(self) -> bool:
        """Whether the input ended at the end of a stream, not in the middle of one."""
        raise NotImplementedError


class _Zlib(_Decoder):
    """gzip (one or more members) or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, *, gzip: bool) -> None:
        self._gzip = gzip
        self._obj: Any = zlib.decompressobj(_GZIP_WBITS) if gzip else None
        self._head = b""  # deflate: the first bytes, until the wrapping is known
        self._fed = False  # the current stream has started
        self._members = 0  # complete gzip members so far
        self._member_output = False  # the current member has produced bytes
        self._rest_ignored = False
        self._pending = False  # the last step filled its limit: output may be held back

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._rest_ignored:
            return
        if self._obj is None:
            self._head += data
            if len(self._head) < 2:
                return
            # RFC 9110 deflate is zlib-wrapped (RFC 1950), but servers also send raw deflate:
            # a valid zlib header (CM 8, check bits) decides, as browsers do.
            cmf, flg = self._head[0], self._head[1]
            wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        buffer = data
        while buffer or self._pending:
            try:
                out = self._obj.decompress(buffer, _STEP)
            except zlib.error as exc:
                if self._members and not self._member_output:
                    # Bytes after a complete gzip member that do not start another member:
                    # junk some servers append. The body is complete; ignore it, as browsers do.
                    self._rest_ignored, self._fed = True, False
                    return
                raise _Corrupt(str(exc)) from exc
            self._fed = self._fed or bool(buffer)
            self._pending = len(out) == _STEP
            if out:
                self._member_output = True
                yield out
            if self._obj.eof:
                rest = self._obj.unused_data
                self._members += 1
                self._fed = self._pending = self._member_output = False
                if not self._gzip:
                    self._rest_ignored = True  # a deflate stream has one end; nothing follows
                    return
                self._obj = zlib.decompressobj(_GZIP_WBITS)  # the next member, if any
                buffer = rest
            else:
                buffer = self._obj.unconsumed_tail

    def finish(self) -> Iterator[bytes]:
        if self._obj is None and self._head:
            raise _Corrupt("a deflate body of one byte")
        yield from self.feed(b"")

    @property
    def complete(self) -> bool:
        return self._rest_ignored or not self._fed


class _Zstd(_Decoder):
    """zstd, one or more frames, each fed in small slices (see _ZSTD_SLICE)."""

    def __init__(self) -> None:
        self._context = zstandard.ZstdDecompressor(max_window_size=_ZSTD_WINDOW)
        self._obj = self._context.decompressobj(write_size=_STEP)
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        view = memoryview(data)
        start = 0
        while start < len(view):
            piece = view[start : start + _ZSTD_SLICE]
            start += len(piece)
            try:
                out = self._obj.decompress(piece)
            except zstandard.ZstdError as exc:
                raise _Corrupt(str(exc)) from exc
            self._fed = True
            if out:
                yield out
            if self._obj.eof:
                # A frame ended; what is left of the slice starts the next frame.
                view = memoryview(self._obj.unused_data + bytes(view[start:]))
                start = 0
                self._obj = self._context.decompressobj(write_size=_STEP)
                self._fed = False

    @property
    def complete(self) -> bool:
        return not self._fed


class _Brotli(_Decoder):
    """br, with brotli's output_buffer_limit (brotli >= 1.2)."""

    def __init__(self) -> None:
        self._obj = _brotli.Decompressor()
        self._fed = False

    def _process(self, data: bytes) -> bytes:
        try:
            out: bytes = self._obj.process(data, output_buffer_limit=_STEP)
        except _brotli.error as exc:
            raise _Corrupt(str(exc)) from exc
        return out

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._fed = True
        out = self._process(data)
        if out:
            yield out
        # Once the limit is hit, brotli takes no input until its held-back output is drained.
        while not self._obj.can_accept_more_data():
            out = self._process(b"")
            if not out:
                break
            yield out

    def finish(self) -> Iterator[bytes]:
        # Output can still be held back when brotli already accepts input: drain it to the end.
        while self._fed:
            out = self._process(b"")
            if not out:
                break
            yield out

    @property
    def complete(self) -> bool:
        return not self._fed or bool(self._obj.is_finished())


def _decoders(content_encoding: str | None) -> list[_Decoder]:
    """The decoders for a Content-Encoding value, in the order they apply (the reverse of it)."""
    decoders: list[_Decoder] = []
    for token in reversed((content_encoding or "").split(",")):
        coding = token.strip().lower()
        if coding in ("", "identity", "none"):  # "none" is not a coding, but servers send it
            continue
        if coding in ("gzip", "x-gzip"):
            decoders.append(_Zlib(gzip=True))
        elif coding == "deflate":
            decoders.append(_Zlib(gzip=False))
        elif coding == "zstd":
            decoders.append(_Zstd())
        elif coding == "br" and _brotli is not None:
            decoders.append(_Brotli())
        else:
            raise _Corrupt(f"unsupported Content-Encoding {token.strip()!r}")
    return decoders


def _through(decoders: Sequence[_Decoder], data: bytes, end: bool) -> Iterator[bytes]:
    """Push `data` through the decoders in turn; with `end`, flush each of them too."""
    if not decoders:
        if data:
            yield data
        return
    first, rest = decoders[0], decoders[1:]
    for piece in first.feed(data):
        yield from _through(rest, piece, False)
    if end:
        for piece in first.finish():
            yield from _through(rest, piece, False)
        yield from _through(rest, b"", True)


# --- Retry-After and the exception boundary ---------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from `now`: either form (delta-seconds or HTTP-date), else None.

    >>> parse_retry_after("120")
    120.0
    >>> parse_retry_after(
    ...     "Wed, 21 Oct 2015 07:28:00 GMT",
    ...     datetime(2015, 10, 21, 7, 27, tzinfo=UTC),
    ... )
    60.0
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# Messages with which h11 reports a connection closed before the response was complete: the
# response was lost in transit (retry), not malformed (do not insist).
_CLOSED_EARLY = ("peer closed connection", "server disconnected")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _convert(exc: Exception, url: str, settings: FetchSettings) -> FetchError:
    """The `FetchError` for one of httpx's exceptions (the only place they are converted)."""
    if isinstance(exc, httpx.TimeoutException):
        phase, seconds = {
            httpx.ConnectTimeout: ("connect", settings.connect_timeout),
            httpx.WriteTimeout: ("write", settings.write_timeout),
            httpx.PoolTimeout: ("pool", settings.pool_timeout),
        }.get(type(exc), ("read", settings.read_timeout))
        return FetchTimeout(f"{phase} timeout ({seconds:g} s)", url=url, phase=phase)
    if isinstance(exc, httpx.ConnectError):
        if any(isinstance(cause, socket.gaierror) for cause in _causes(exc)):
            return DNSError(f"host name not resolved: {exc}", url=url)
        if any(isinstance(cause, ssl.SSLError) for cause in _causes(exc)):
            return TLSError(f"TLS failed: {exc}", url=url)
        return ConnectFailed(f"cannot connect: {exc}", url=url)
    if isinstance(exc, httpx.NetworkError):  # read, write or close error: a reset
        return DataLoss(f"connection lost: {type(exc).__name__}: {exc}", url=url)
    if isinstance(exc, httpx.RemoteProtocolError) and str(exc).lower().startswith(_CLOSED_EARLY):
        return DataLoss(f"connection closed early: {exc}", url=url)
    if isinstance(exc, httpx.ProtocolError):
        return ProtocolError(f"malformed response: {exc}", url=url)
    if isinstance(exc, httpx.ProxyError):
        return ConnectFailed(f"proxy failed: {exc}", url=url)
    if isinstance(exc, httpx.TooManyRedirects):
        return RedirectLoop(f"too many redirects: {exc}", url=url)
    if isinstance(exc, httpx.DecodingError):
        return ContentDecodeError(f"cannot decode the body: {exc}", url=url)
    return FetchError(f"{type(exc).__name__}: {exc}", url=url)


def _raw(response: httpx.Response) -> AsyncIterator[bytes]:
    """The response's bytes as sent, before any Content-Encoding is undone."""
    if response.is_stream_consumed and isinstance(response.stream, httpx.AsyncByteStream):
        # httpx reads a response built with content= (httpx.MockTransport) when it is created;
        # its stream still yields the bytes as given, so they go through the same decoders.
        return aiter(response.stream)
    return response.aiter_raw()


# A URL scheme at the start of a Location ("file:", "data:", "javascript:", ...).
_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.\-]*):")


class _Refused(Exception):
    """A redirect to a scheme other than http(s), stopped inside httpx's send()."""

    def __init__(self, location: str, scheme: str) -> None:
        super().__init__(location)
        self.location = location
        self.scheme = scheme


async def _check_redirect(response: httpx.Response) -> None:
    """Response hook: refuse a redirect to another scheme before httpx builds a request for it.

    The hook runs before httpx resolves the Location, so nothing is ever sent to (or, with a
    MockTransport, handed to the transport for) a file:, ftp:, data: or javascript: URL.
    """
    if response.has_redirect_location:
        location = response.headers["location"]
        match = _SCHEME.match(location)
        if match and match.group(1).lower() not in ("http", "https"):
            raise _Refused(location, match.group(1).lower())


# --- The address guard ------------------------------------------------------------------------


async def _resolve(host: str, port: int) -> list[str]:
    """The addresses the OS resolver gives for `host` (what a connection would use)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host that is an IP literal stands for, in any form the OS accepts.

    IPv6 with or without brackets, and every IPv4 form inet_aton takes (`2130706433`,
    `0x7f000001`, `127.1`, `0177.0.0.1`). None for a name.

    >>> str(literal_ip("2130706433")), str(literal_ip("[::ffff:127.0.0.1]"))
    ('127.0.0.1', '::ffff:7f00:1')
    """
    bare = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if bare and all(c in "0123456789abcdefxABCDEFX." for c in bare) and bare[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is not public: loopback, private, link-local, multicast, ..."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None and blocked(embedded):
            return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global  # shared address space (100.64/10) and the like
    )


# The URL of the fetch a request belongs to, for the check at connect time (`_GuardedBackend`):
# which hosts are trusted can depend on it, and its errors carry it.
_FETCH_URL: contextvars.ContextVar[str] = contextvars.ContextVar("xinwen_fetch_url")


class _Stream(httpcore.AsyncNetworkStream):
    """A connection's stream from httpcore's backend, its socket's readability asked directly.

    Before each request httpcore's pool asks every idle connection whether its socket is
    readable (closed by the server); the AnyIO backend answered by building a table of the
    socket's attributes, its peer's address asked of the kernel, for each connection every
    time: with 16 connections, a fifth of the fetch's CPU on a local site (2.0 -> 1.55 ms a
    page). The socket is looked up once here instead; the answer is httpcore's
    (`httpcore._utils.is_socket_readable`).
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream, sock: Any = None) -> None:
        self._inner = inner
        self._socket = sock if sock is not None else inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # TLS runs over the same socket, whose readability is still the question.
        tls = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _Stream(tls, self._socket)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


_poll = getattr(select, "poll", None)


def _readable(sock: socket.socket | None) -> bool:
    """Whether a socket has something to read (the end of the stream included): True for a
    socket that is gone, as httpcore answers."""
    fd = None if sock is None else sock.fileno()
    if fd is None or fd < 0:
        return True
    if _poll is None:  # no poll() (Windows): select, as httpcore does
        return bool(select.select([fd], [], [], 0)[0])
    poller = _poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Cookies(httpx.Cookies):
    """The client's cookie jar, which skips the jar's work for a response that sets no cookie.

    httpx hands every response to `http.cookiejar`, adapted as a urllib request and response
    (the URL parsed again), only for the jar to find no Set-Cookie header in most of them.
    Cookies that are set are kept and sent back exactly as before.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        # http.cookiejar reads Set-Cookie and Set-Cookie2, and does nothing without either.
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address guard at connect time (DNS rebinding).

    `connect_tcp` resolves the host itself, refuses it if any address is not public (the
    fetcher's rules: trusted hosts and `allow_private` pass), and connects to a checked address
    rather than the name, so the address connected to is the one that was checked. It runs
    before the TLS handshake (which still verifies the certificate for the name) and before
    any request byte is sent.
    """

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        url = _FETCH_URL.get("")
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._fetcher._checked_addresses(host, port, where, url, where)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took over {timeout} s") from exc
        if addresses is None:  # trusted, or the guard is off: connect as usual
            return _Stream(
                await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
            )
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return _Stream(
                    await self._inner.connect_tcp(
                        str(address), port, timeout, local_address, socket_options
                    )
                )
            except httpcore.ConnectError as exc:  # the next address, as a resolver-connect would
                error = exc
        assert error is not None  # _checked_addresses never returns an empty list
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _guarded_transport(fetcher: Fetcher, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport over a connection pool whose connections go through `_GuardedBackend`.

    httpx has no parameter for the network backend, so its pool is replaced by one built the
    same way with the backend (httpx 0.28 keeps it in `_pool`); test_faults.py's DNS-rebinding
    test fails if the backend is ever bypassed.
    """
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_GuardedBackend(fetcher),
    )
    return transport


def _is_trusted(trusted: frozenset[str], target: str) -> bool:
    """Whether `target` (`host` or `host:port`, as `host_of` gives it) is in `trusted`."""
    if target in trusted:
        return True
    host, _, port = target.rpartition(":") if not target.endswith("]") else (target, "", "")
    return bool(port) and port.isdigit() and host in trusted


# --- The fetcher ------------------------------------------------------------------------------


class _Host:
    """Politeness state of one host."""

    def __init__(self, per_host: int) -> None:
        self.slots = asyncio.Semaphore(per_host)
        self.lock = asyncio.Lock()
        self.next_start = 0.0
        self.delay = 0.0  # a longer delay the host asked for (robots.txt Crawl-delay)
        self.base_delay: float | None = None  # the host's own delay (a sites file), if set


class Fetcher:
    """An HTTP client with per-host politeness and retries. Use as `async with Fetcher(...) as f:`.

    `sleep` replaces `asyncio.sleep` for every wait the fetcher makes (politeness, backoff,
    Retry-After), so tests can record the delays instead of spending them.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        transport: Transport | None = None,
        sleep: Sleep | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        s = self.settings
        self._sleep: Sleep = sleep or asyncio.sleep
        self._resolver: Resolver = resolver or _resolve
        self._trusted = frozenset(h.strip().lower() for h in s.trusted_hosts if h.strip())
        self._robots: dict[str, asyncio.Task[RobotsPolicy]] = {}
        self._random = random.Random()
        limits = httpx.Limits(max_connections=max(1, s.concurrency))
        if transport is None and not s.allow_private:
            transport = _guarded_transport(self, limits)
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,  # followed in _get, which counts the hops
            event_hooks={"response": [_check_redirect]},
            timeout=httpx.Timeout(
                connect=s.connect_timeout,
                read=s.read_timeout,
                write=s.write_timeout,
                pool=s.pool_timeout,
            ),
            headers={
                "User-Agent": s.user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Language": "zh-CN,zh-TW;q=0.9,zh;q=0.8,en;q=0.5",
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            limits=limits,
            trust_env=False,
        )
        # httpx has no parameter for the jar's class: its setter copies into a plain Cookies.
        self._client._cookies = _Cookies()
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
        for task in self._robots.values():
            task.cancel()
        await self._client.aclose()

    async def fetch(self, url: str, *, validators: dict[str, str] | None = None) -> FetchedPage:
        """Fetch one URL, retrying transient failures; raise a `FetchError` subclass on failure.

        The error's `attempts` (or the page's) is the number of requests made for the URL.
        `validators` (`If-None-Match`, `If-Modified-Since`) make the request conditional: an
        unchanged page then comes back as a page with status 304 and no content.
        """
        return await self._fetch(url, self.settings.max_redirects, validators)

    async def _fetch(
        self, url: str, max_redirects: int, validators: dict[str, str] | None = None
    ) -> FetchedPage:
        if not url.lower().startswith(("http://", "https://")):
            raise FetchError("not an http(s) URL", url=url)
        try:
            host = self._hosts[host_of(url)]
        except ValueError as exc:  # a port out of range, a broken IPv6 literal
            raise FetchError(f"invalid URL: {exc}", url=url) from exc
        attempt = 1
        while True:
            try:
                return await self._attempt(url, host, attempt, max_redirects, validators)
            except FetchError as exc:
                exc.attempts = attempt
                retry_after = getattr(exc, "retry_after", None)
                if retry_after is not None:
                    # The server asked the host, not just this URL, to be left alone a while.
                    pause = min(retry_after, self.settings.retry_after_cap)
                    host.next_start = max(host.next_start, time.monotonic() + pause)
                delay = self.retry_delay(exc, attempt)
                if delay is None:
                    raise
            await self._sleep(delay)
            attempt += 1

    def retry_delay(self, error: FetchError, attempt: int) -> float | None:
        """Seconds to wait after `error` on attempt number `attempt`, or None: do not retry.

        Transient failures (connect, timeout, dataloss, 5xx, 408, 429) get up to `max_attempts`
        attempts, DNS failures `dns_attempts` and malformed responses `protocol_attempts`; the
        rest (4xx, too large, bad redirect, corrupt encoding, TLS) are permanent. The wait is
        full jitter, uniform in [0, min(cap, base * factor**(attempt-1))], and at least the
        server's Retry-After (itself capped).
        """
        s = self.settings
        if attempt >= self._attempts_for(error):
            return None
        ceiling = min(s.backoff_cap, s.backoff_base * s.backoff_factor ** min(attempt - 1, 64))
        delay = self._random.uniform(0.0, max(0.0, ceiling))
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            delay = max(delay, min(retry_after, s.retry_after_cap))
        return delay

    def _attempts_for(self, error: FetchError) -> int:
        s = self.settings
        most = max(1, s.max_attempts)
        if isinstance(error, DNSError):
            return min(most, s.dns_attempts)
        if isinstance(error, ProtocolError):
            return min(most, s.protocol_attempts)
        if isinstance(error, ConnectFailed | FetchTimeout | DataLoss | RateLimited):
            return most
        # 5xx is the server's trouble, often passing; 408 is a timeout on the server's side.
        if isinstance(error, HTTPStatusError) and (error.status >= 500 or error.status == 408):
            return most
        return 1

    def set_host_delay(self, url: str, seconds: float) -> None:
        """Space requests to `url`'s host at least `seconds` apart (a robots.txt Crawl-delay);
        the configured delay still applies when it is longer."""
        self._hosts[host_of(url)].delay = max(0.0, seconds)

    def pause_host(self, url: str, seconds: float) -> None:
        """Start no request to `url`'s host for `seconds` (it asked to be left alone)."""
        host = self._hosts[host_of(url)]
        host.next_start = max(host.next_start, time.monotonic() + max(0.0, seconds))

    def configure_host(
        self, host: str, *, delay: float | None = None, per_host: int | None = None
    ) -> None:
        """Politeness of its own for `host` (`host:port`), in place of the settings' `delay` and
        `per_host` (a site's in a sites file); a robots.txt Crawl-delay still applies when it is
        longer. Call it before the first request to the host."""
        state = self._hosts[host.lower()]
        if per_host is not None:
            state.slots = asyncio.Semaphore(max(1, per_host))
        if delay is not None:
            state.base_delay = max(0.0, delay)

    async def robots(self, url: str) -> RobotsPolicy:
        """The robots.txt policy of `url`'s origin, fetched once per Fetcher (RFC 9309).

        At most 5 redirects are followed (more: unavailable, allow all). A 4xx allows all; a 5xx
        (after the usual retries) or no answer disallows the whole host for this Fetcher's life.
        """
        try:
            parts = httpx.URL(url)
            origin = f"{parts.scheme}://{host_of(url)}"
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"invalid URL: {exc}", url=url) from exc
        task = self._robots.get(origin)
        if task is None:
            task = asyncio.ensure_future(self._load_robots(origin))
            self._robots[origin] = task
        # Shielded: one caller giving up must not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    async def _load_robots(self, origin: str) -> RobotsPolicy:
        url = f"{origin}/robots.txt"
        try:
            page = await self._fetch(url, min(ROBOTS_REDIRECTS, self.settings.max_redirects))
        except HTTPStatusError as exc:
            policy = RobotsPolicy.from_response(exc.status)
        except (RedirectLoop, RedirectRefused, BodyTooLarge, ContentDecodeError) as exc:
            policy = RobotsPolicy.allow_all("unavailable")  # not a robots.txt: no rules
            logger.info("robots.txt unavailable, allowing all: %s", exc)
        except FetchError as exc:  # DNS, connect, timeout, data loss, a blocked address
            policy = RobotsPolicy.from_response(None)
            logger.info("robots.txt unreachable, disallowing the host: %s", exc)
        else:
            policy = RobotsPolicy.from_response(page.status, page.content)
        return policy

    async def _wait_turn(self, host: _Host) -> None:
        async with host.lock:
            now = time.monotonic()
            if host.next_start > now:
                await self._sleep(host.next_start - now)
            base = self.settings.delay if host.base_delay is None else host.base_delay
            host.next_start = time.monotonic() + max(base, host.delay)

    async def _attempt(
        self,
        url: str,
        host: _Host,
        attempt: int,
        max_redirects: int,
        validators: dict[str, str] | None = None,
    ) -> FetchedPage:
        """One attempt: a host slot, the politeness delay, then the request under the deadline."""
        async with host.slots:
            await self._wait_turn(host)
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.settings.deadline):
                    return await self._get(url, started, attempt, max_redirects, validators)
            except TimeoutError as exc:
                raise FetchTimeout(
                    f"no complete response within {self.settings.deadline:g} s",
                    url=url,
                    phase="total",
                ) from exc
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise _convert(exc, url, self.settings) from exc

    async def _guard(self, target: httpx.URL, url: str) -> None:
        """Refuse (`BlockedAddress`) a host that is not trusted and is not public.

        Called before each request, the first and every redirect hop, so nothing is sent to a
        refused host, whatever the transport. The real transport checks again at connect time,
        on the addresses it connects to (`_GuardedBackend`): a DNS answer that changes in
        between (rebinding) is caught there.
        """
        port = target.port or _PORTS.get(target.scheme, 80)
        name = target.raw_host.decode("ascii")
        await self._checked_addresses(name, port, host_of(str(target)), url, str(target))

    async def _checked_addresses(
        self, name: str, port: int, where: str, url: str, hop: str
    ) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address] | None:
        """The addresses of host `name`, all of them public; None if the host needs no check
        (`where`, its `host:port`, is trusted, or `allow_private`). Raises `BlockedAddress` if
        one is not public, `DNSError` if there are none. `url` is the fetch's, `hop` what is
        being connected to (a redirect target, or host:port), for the log."""
        if self.settings.allow_private:
            return None
        trusted = self._trusted or frozenset({host_of(url)})
        if _is_trusted(trusted, where):
            return None
        literal = literal_ip(name)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                found = await self._resolver(name, port)
            except OSError as exc:
                raise DNSError(f"cannot resolve {name}: {exc}", url=url) from exc
            addresses = [ip for a in found if (ip := literal_ip(a)) is not None]
            if not addresses:
                raise DNSError(f"no address for {name}", url=url)
        for address in addresses:
            if blocked(address):
                logger.warning(
                    "refused %s (fetching %s): %s resolves to %s",
                    redact(hop), redact(url), name, address,
                )  # fmt: skip
                raise BlockedAddress(
                    f"{where} resolves to the non-public address {address}",
                    url=url,
                    address=str(address),
                )
        return addresses

    async def _get(
        self,
        url: str,
        started: float,
        attempt: int,
        max_redirects: int,
        validators: dict[str, str] | None = None,
    ) -> FetchedPage:
        """GET `url`, following at most `max_redirects` redirects.

        httpx builds each redirect's request (`next_request`: the Location resolved, credentials
        and cookies dropped when the origin changes); `_check_redirect` has vetted it first.
        """
        request = self._client.build_request("GET", url, headers=validators or None)
        _FETCH_URL.set(url)  # for the connect-time check (this attempt's task only)
        chain: list[str] = []
        while True:
            await self._guard(request.url, url)
            try:
                response = await self._client.send(request, stream=True)
            except _Refused as exc:
                raise RedirectRefused(
                    f"redirect to a {exc.scheme}: URL refused", url=url, location=exc.location
                ) from None
            try:
                next_request = response.next_request
                if next_request is None:
                    return await self._page(response, url, chain, started, attempt)
                if len(chain) >= max_redirects:
                    raise RedirectLoop(
                        f"more than {max_redirects} redirects",
                        url=url,
                        chain=(*chain, str(request.url)),
                    )
            finally:
                await response.aclose()  # a redirect's body is never read
            chain.append(str(request.url))
            request = next_request

    async def _page(
        self,
        response: httpx.Response,
        url: str,
        chain: list[str],
        started: float,
        attempt: int,
    ) -> FetchedPage:
        status = response.status_code
        if status == 304:  # the answer to a conditional request: unchanged, no body
            return FetchedPage(
                url=url, final_url=str(response.url), status=status,
                headers={k.lower(): v for k, v in response.headers.items()}, content=b"",
                fetched_at=datetime.now(UTC),
                elapsed_ms=int((time.monotonic() - started) * 1000),
                attempts=attempt, redirects=tuple(chain),
            )  # fmt: skip
        if not 200 <= status < 300:
            # Retry-After is heeded where it means "come back later" (RFC 9110 15.6.4, RFC 6585
            # 4), not on a 404 that happens to carry one: it pauses the whole host.
            retry_after = (
                parse_retry_after(response.headers.get("retry-after"))
                if status == 429 or status >= 500
                else None
            )
            error = RateLimited if status == 429 else HTTPStatusError
            raise error(f"HTTP {status}", url=url, status=status, retry_after=retry_after)
        content = await self._read_body(response, url)
        return FetchedPage(
            url=url,
            final_url=str(response.url),
            status=status,
            headers={k.lower(): v for k, v in response.headers.items()},
            content=content,
            fetched_at=datetime.now(UTC),
            elapsed_ms=int((time.monotonic() - started) * 1000),
            attempts=attempt,
            redirects=tuple(chain),
        )

    async def _read_body(self, response: httpx.Response, url: str) -> bytes:
        """The body, decoded from its Content-Encoding, within the cap and complete."""
        limit = self.settings.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"Content-Length {declared} exceeds {limit} bytes", url=url)
        encoding = response.headers.get("content-encoding")
        chunks: list[bytes] = []
        size = 0

        def keep(pieces: Iterator[bytes]) -> None:
            nonlocal size
            for piece in pieces:
                size += len(piece)
                if size > limit:
                    raise BodyTooLarge(f"body exceeds {limit} bytes once decoded", url=url)
                chunks.append(piece)

        try:
            decoders = _decoders(encoding)
            wire = 0
            try:
                async for raw in _raw(response):
                    wire += len(raw)
                    if wire > limit:
                        raise BodyTooLarge(f"body exceeds {limit} bytes", url=url)
                    keep(_through(decoders, raw, False))
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                # The head was fine; whatever broke the body, the body is incomplete.
                raise DataLoss(f"body incomplete: {exc}", url=url) from exc
            keep(_through(decoders, b"", True))
        except _Corrupt as exc:
            raise ContentDecodeError(f"Content-Encoding {encoding}: {exc}", url=url) from exc
        if not all(decoder.complete for decoder in decoders):
            raise DataLoss(f"the {encoding} stream ends early ({wire} bytes received)", url=url)
        return b"".join(chunks)
