"""The fault matrix (shared/docs/fault-matrix.md), rows 1-27 where they concern fetching.

Each test is named after its row. It runs against tests/faultserver.py, a subprocess listening on
127.0.0.1 only, and asserts the error class and kind, how often the server was asked for the URL
(retries are counted on the server side), and that nothing partial came back. Nothing waits long:
timeouts are a fraction of a second, and the fetcher's `sleep` records the backoff delays instead
of spending them, so the production backoff and Retry-After values are checked without waiting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import select
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from faultserver import CHARSETS, PAGE

from xinwen import encoding
from xinwen.errors import (
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
)
from xinwen.fetch import FetchedPage, Fetcher, FetchSettings

MiB = 1024 * 1024
CAP = FetchSettings().max_bytes  # the production cap: the bomb tests use it as it is

# Short timeouts so that every timeout row takes about a second; backoff stays at its defaults
# because `sleep` only records it.
FAST = {"delay": 0.0, "connect_timeout": 0.5, "read_timeout": 0.3, "deadline": 2.0}


# --- the server -------------------------------------------------------------------------------


@dataclass
class FaultServer:
    base: str  # http://127.0.0.1:<port>
    other: str  # the same routes on another port: another origin
    blackhole_port: int
    tls_base: str | None
    brotli: bool

    def stats(self, url: str) -> dict[str, int]:
        """The server's counters for the request target of `url` (path and query as sent)."""
        target = httpx.URL(url).raw_path.decode("ascii")
        response = httpx.get(f"{self.base}/__hits", params={"path": target}, trust_env=False)
        result: dict[str, int] = response.json()
        return result

    def hits(self, url: str) -> int:
        return self.stats(url)["hits"]

    def settled(self, url: str) -> dict[str, int]:
        """The counters once every handler for `url` has finished (bounded wait)."""
        stats = self.stats(url)
        deadline = time.monotonic() + 5
        while stats["done"] < stats["hits"] and time.monotonic() < deadline:
            time.sleep(0.05)
            stats = self.stats(url)
        return stats

    def reset(self) -> None:
        httpx.get(f"{self.base}/__reset", trust_env=False)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultServer]:
    log = tmp_path_factory.mktemp("faultserver") / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("faultserver.py"))],
            stdin=subprocess.PIPE,  # closed at the end: the server exits on EOF
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    assert process.stdin is not None and process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline() if ready else b""
        if not line:
            pytest.fail(f"the fault server did not start: {log.read_text(errors='replace')}")
        info = json.loads(line)
        tls = info["tls_port"]
        yield FaultServer(
            base=f"http://127.0.0.1:{info['port']}",
            other=f"http://127.0.0.1:{info['other_port']}",
            blackhole_port=info["blackhole_port"],
            tls_base=f"https://127.0.0.1:{tls}" if tls else None,
            brotli=info["brotli"],
        )
    finally:
        process.stdin.close()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        process.stdout.close()


@pytest.fixture(autouse=True)
def _fresh_counters(server: FaultServer) -> None:
    server.reset()


# --- fetching ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one fetch gave: a page or an error, the delays it asked for, how long it took."""

    page: FetchedPage | None = None
    error: FetchError | None = None
    sleeps: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    def failed(self, cls: type[FetchError], kind: str) -> FetchError:
        assert self.page is None, "a page came back where an error was expected"
        assert isinstance(self.error, cls), repr(self.error)
        assert self.error.kind == kind
        return self.error


def fetch(*urls: str, **settings: Any) -> list[Outcome]:
    """Fetch `urls` in order with one Fetcher (FAST settings unless overridden)."""
    outcomes = [Outcome() for _ in urls]
    current: list[Outcome] = []

    async def sleep(seconds: float) -> None:
        current[0].sleeps.append(seconds)
        await asyncio.sleep(0)

    async def run() -> None:
        config = FetchSettings(**{**FAST, **settings})
        async with Fetcher(config, sleep=sleep) as fetcher:
            for url, outcome in zip(urls, outcomes, strict=True):
                current[:] = [outcome]
                started = time.monotonic()
                try:
                    outcome.page = await fetcher.fetch(url)
                except FetchError as exc:
                    outcome.error = exc
                outcome.elapsed = time.monotonic() - started

    asyncio.run(run())
    return outcomes


def fetch_one(url: str, **settings: Any) -> Outcome:
    return fetch(url, **settings)[0]


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html)
    assert match, html[:200]
    return match.group(1)


# --- rows 1-3: no connection ------------------------------------------------------------------


def test_row01_connection_refused_is_retried_with_backoff():
    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = fetch_one(f"http://127.0.0.1:{port}/x")
    error = outcome.failed(ConnectFailed, "connect")
    assert error.attempts == 4
    # Full jitter: the n-th wait is uniform in [0, 1 s * 2**(n-1)].
    assert len(outcome.sleeps) == 3
    assert all(0 <= s <= 2**n for n, s in enumerate(outcome.sleeps)), outcome.sleeps


def test_row02_dns_failure_is_tried_twice(monkeypatch: pytest.MonkeyPatch):
    # A resolver stub: .invalid names fail at once, and no DNS query leaves the machine.
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.rstrip(".").endswith(".invalid"):
            asked.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    outcome = fetch_one("http://nx.invalid/news/1.html")
    error = outcome.failed(DNSError, "dns")
    assert error.attempts == 2 and len(asked) == 2
    assert len(outcome.sleeps) == 1


def test_row03_connect_timeout(server: FaultServer):
    # The blackhole listener's accept queue is full: the SYN is dropped and connect() hangs.
    outcome = fetch_one(f"http://127.0.0.1:{server.blackhole_port}/x", max_attempts=2)
    error = outcome.failed(FetchTimeout, "timeout")
    assert isinstance(error, FetchTimeout) and error.phase == "connect"
    assert error.attempts == 2
    # Two attempts of connect_timeout (0.5 s) each, not more.
    assert 0.9 <= outcome.elapsed < 3, outcome.elapsed


# --- rows 4-10: slow, stalled and broken responses --------------------------------------------


def _open_fds() -> int:
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_row04_accepts_never_answers(server: FaultServer):
    url = f"{server.base}/wait"
    counts: list[int] = []

    async def run() -> FetchError:
        async def sleep(seconds: float) -> None:
            await asyncio.sleep(0)

        async with Fetcher(FetchSettings(**FAST), sleep=sleep) as fetcher:
            counts.append(_open_fds())
            with pytest.raises(FetchTimeout) as info:
                await fetcher.fetch(url)
            counts.append(_open_fds())  # the timed-out sockets are closed, not pooled
            return info.value

    error = asyncio.run(run())
    assert error.kind == "timeout" and isinstance(error, FetchTimeout) and error.phase == "read"
    assert error.attempts == 4 and server.hits(url) == 4
    assert counts[0] == counts[1], counts


def test_row05_headers_then_hang(server: FaultServer):
    url = f"{server.base}/hang-after-headers"
    error = fetch_one(url).failed(FetchTimeout, "timeout")
    assert isinstance(error, FetchTimeout) and error.phase == "read"
    assert server.hits(url) == 4  # retried; the 10 bytes that came are discarded


def test_row06_slow_drip_hits_the_total_deadline(server: FaultServer):
    # One byte every 0.1 s never trips the 0.3 s read timeout; only the deadline stops it.
    url = f"{server.base}/drip?gap=0.1&n=10240"
    outcome = fetch_one(url, deadline=1.0, max_attempts=2)
    error = outcome.failed(FetchTimeout, "timeout")
    assert isinstance(error, FetchTimeout) and error.phase == "total"
    assert error.attempts == 2 and 1.9 < outcome.elapsed < 4, outcome.elapsed
    stats = server.settled(url)
    assert stats["hits"] == 2 and stats["sent"] < 10240  # the server saw the client leave


def test_row07_short_content_length_is_dataloss(server: FaultServer):
    url = f"{server.base}/short-cl"
    error = fetch_one(url).failed(DataLoss, "dataloss")
    assert "expected 100" in str(error)
    assert error.attempts == 4 and server.hits(url) == 4


def test_row08_broken_chunked_is_dataloss(server: FaultServer):
    url = f"{server.base}/broken-chunked"
    error = fetch_one(url).failed(DataLoss, "dataloss")
    assert "chunked" in str(error)
    assert server.hits(url) == 4


def test_row09_unframed_truncation_is_left_to_the_content_check(server: FaultServer):
    # Without Content-Length or chunking, the end of the connection is the end of the body:
    # HTTP cannot tell a truncated page. Fetch returns it with its (missing) framing headers,
    # so that the content check downstream can flag it (no </html>, short body).
    url = f"{server.base}/unframed"
    page = fetch_one(url).page
    assert page is not None and page.content == PAGE[: len(PAGE) // 2]
    assert "content-length" not in page.headers and "transfer-encoding" not in page.headers
    assert b"</html>" not in page.content
    assert server.hits(url) == 1


@pytest.mark.parametrize(
    ("query", "detail"),
    [("abort=1", "connection lost"), ("abort=0", "expected 1000")],
    ids=["reset-before-bytes", "close-after-partial"],
)
def test_row10_reset_or_close_is_dataloss(server: FaultServer, query: str, detail: str):
    url = f"{server.base}/drop?{query}"
    error = fetch_one(url).failed(DataLoss, "dataloss")
    assert detail in str(error)
    assert server.hits(url) == 4


# --- rows 11-13: malformed responses and statuses ---------------------------------------------


@pytest.mark.parametrize("path", ["/bad-status", "/bad-header", "/two-cl", "/bad-location"])
def test_row11_malformed_response_is_retried_once(server: FaultServer, path: str):
    url = server.base + path
    error = fetch_one(url).failed(ProtocolError, "protocol")
    assert error.attempts == 2 and server.hits(url) == 2


def test_row12_503_is_retried_after_retry_after_seconds(server: FaultServer):
    url = f"{server.base}/status?n=503&retry_after=2"
    outcome = fetch_one(url)
    error = outcome.failed(HTTPStatusError, "http_status")
    assert isinstance(error, HTTPStatusError) and error.status == 503 and error.retry_after == 2
    assert error.attempts == 4 and server.hits(url) == 4
    # Every wait (the retry's, and the host pause it sets) is at least the Retry-After.
    assert len(outcome.sleeps) >= 3 and all(s >= 1.9 for s in outcome.sleeps), outcome.sleeps


def test_row12_retry_after_as_an_http_date(server: FaultServer):
    url = f"{server.base}/status?n=503&retry_after_date=3"
    outcome = fetch_one(url, max_attempts=2)
    error = outcome.failed(HTTPStatusError, "http_status")
    assert isinstance(error, HTTPStatusError) and error.retry_after is not None
    # An HTTP-date has whole seconds: 3 s from now is between 2 and 3 s away.
    assert 1.5 < error.retry_after <= 3.0
    assert outcome.sleeps and all(1.5 < s <= 3.1 for s in outcome.sleeps), outcome.sleeps
    assert server.hits(url) == 2


def test_row12_429_is_rate_limited(server: FaultServer):
    url = f"{server.base}/status?n=429&retry_after=1"
    error = fetch_one(url).failed(RateLimited, "rate_limited")
    assert isinstance(error, RateLimited) and error.status == 429 and error.retry_after == 1
    assert error.attempts == 4 and server.hits(url) == 4


def test_row12_retry_after_is_capped_at_an_hour(server: FaultServer):
    url = f"{server.base}/status?n=503&retry_after=86400"
    outcome = fetch_one(url, max_attempts=2)
    outcome.failed(HTTPStatusError, "http_status")
    assert outcome.sleeps and max(outcome.sleeps) <= 3600
    assert outcome.sleeps[0] == 3600


def test_row12_retry_after_pauses_the_whole_host(server: FaultServer):
    limited, other = f"{server.base}/status?n=429&retry_after=5", f"{server.base}/ok"
    first, second = fetch(limited, other, max_attempts=1)
    first.failed(RateLimited, "rate_limited")
    assert second.page is not None
    # The next request to the same host waited out the 5 s, though it was another URL.
    assert second.sleeps and 4 < second.sleeps[0] <= 5, second.sleeps


def test_row12_transient_then_success_reports_attempts(server: FaultServer):
    url = f"{server.base}/flaky?fail=2&n=503"
    page = fetch_one(url).page
    assert page is not None and page.content == PAGE
    assert page.attempts == 3 and server.hits(url) == 3


@pytest.mark.parametrize("status", [404, 410, 403, 400])
def test_row13_client_errors_are_not_retried(server: FaultServer, status: int):
    url = f"{server.base}/status?n={status}"
    outcome = fetch_one(url)
    error = outcome.failed(HTTPStatusError, "http_status")
    assert isinstance(error, HTTPStatusError) and error.status == status
    assert error.attempts == 1 and server.hits(url) == 1 and not outcome.sleeps


# --- rows 15-17: sizes and content codings ----------------------------------------------------


def _peak_during(server: FaultServer, url: str) -> tuple[Outcome, int]:
    """Fetch `url` and measure the peak of Python allocations while doing it."""
    # Warm up first: the first fetch of a process imports and initialises ~2 MiB of modules.
    fetch(f"{server.base}/encoded?enc=gzip", f"{server.base}/encoded?enc=zstd")
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        outcome = fetch_one(url)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    return outcome, peak


@pytest.mark.parametrize("cl", ["1", "0"], ids=["declared", "chunked"])
def test_row15_oversized_body(server: FaultServer, cl: str):
    url = f"{server.base}/big?cl={cl}"  # 50 MiB, declared in Content-Length or streamed
    outcome, peak = _peak_during(server, url)
    error = outcome.failed(BodyTooLarge, "too_large")
    assert ("Content-Length" in str(error)) == (cl == "1")  # declared: refused before reading
    assert error.attempts == 1 and peak < CAP + 2 * MiB, peak
    stats = server.settled(url)
    # The server noticed the client leave: it wrote only what the socket buffers took.
    assert stats["hits"] == 1 and stats["sent"] < 25 * MiB, stats


@pytest.mark.parametrize("coding", ["gzip", "deflate", "deflate-raw", "gzip-members", "br", "zstd"])
def test_row16_decompression_bomb(server: FaultServer, coding: str):
    if coding == "br" and not server.brotli:
        pytest.skip("brotli is not installed")
    url = f"{server.base}/bomb?enc={coding}"  # 64 MiB or more once decoded
    outcome, peak = _peak_during(server, url)
    error = outcome.failed(BodyTooLarge, "too_large")
    assert "decoded" in str(error)
    assert error.attempts == 1 and server.hits(url) == 1
    assert peak < CAP + 2 * MiB, peak  # stopped at the cap, not after inflating it all


@pytest.mark.parametrize(
    "coding",
    ["gzip", "gzip-members", "deflate", "deflate-raw", "br", "zstd", "zstd-frames", "gzip,br"],
)
def test_row16_well_formed_codings_decode(server: FaultServer, coding: str):
    if "br" in coding and not server.brotli:
        pytest.skip("brotli is not installed")
    page = fetch_one(f"{server.base}/encoded?enc={coding}").page
    assert page is not None and page.content == PAGE


def test_row17_corrupt_gzip_is_a_decode_error(server: FaultServer):
    url = f"{server.base}/gzip-corrupt"
    error = fetch_one(url).failed(ContentDecodeError, "content_encoding")
    assert error.attempts == 1 and server.hits(url) == 1


def test_row17_truncated_gzip_is_dataloss(server: FaultServer):
    # httpx alone returns the partial body here; the decoder's end-of-stream check catches it.
    url = f"{server.base}/gzip-truncated"
    error = fetch_one(url).failed(DataLoss, "dataloss")
    assert "ends early" in str(error)
    assert server.hits(url) == 4


def test_row17_unknown_coding_is_refused(server: FaultServer):
    url = f"{server.base}/encoded?enc=compress"
    error = fetch_one(url).failed(ContentDecodeError, "content_encoding")
    assert "compress" in str(error) and server.hits(url) == 1


# --- rows 18-19: redirects --------------------------------------------------------------------


def test_row18_redirect_loop(server: FaultServer):
    url = f"{server.base}/loop"
    error = fetch_one(url).failed(RedirectLoop, "redirect_loop")
    assert isinstance(error, RedirectLoop) and len(error.chain) == 11
    assert error.attempts == 1 and server.hits(url) == 11  # 1 + 10 redirects, never retried


def test_row18_long_chain_stops_after_ten(server: FaultServer):
    url = f"{server.base}/chain?n=15"
    fetch_one(url).failed(RedirectLoop, "redirect_loop")
    assert server.hits(f"{server.base}/chain?n=15&i=10") == 1
    assert server.hits(f"{server.base}/chain?n=15&i=11") == 0


def test_row18_ten_redirects_are_followed(server: FaultServer):
    page = fetch_one(f"{server.base}/chain?n=10").page
    assert page is not None and page.final_url == f"{server.base}/chain?n=10&i=10"
    assert len(page.redirects) == 10 and page.content == PAGE


def test_row18_the_limit_is_a_setting(server: FaultServer):
    fetch_one(f"{server.base}/chain?n=3", max_redirects=2).failed(RedirectLoop, "redirect_loop")


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:text/html,<h1>x</h1>",
     "javascript:alert(1)", "gopher://127.0.0.1/x", " FILE:///etc/passwd"],
)  # fmt: skip
def test_row19_redirect_to_another_scheme_is_refused(server: FaultServer, location: str):
    url = str(httpx.URL(f"{server.base}/redirect", params={"to": location}))
    error = fetch_one(url).failed(RedirectRefused, "redirect_scheme")
    # (h11 strips the leading space of a header value)
    assert isinstance(error, RedirectRefused) and error.location == location.strip()
    assert error.attempts == 1 and server.hits(url) == 1


def test_row19_refused_target_never_reaches_the_transport():
    # httpx.MockTransport would serve a file: URL if asked: the refusal must come first.
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "file:///etc/passwd"})

    async def run() -> None:
        config = FetchSettings(delay=0)
        async with Fetcher(config, transport=httpx.MockTransport(handler)) as fetcher:
            await fetcher.fetch("http://news.test/a")

    with pytest.raises(RedirectRefused):
        asyncio.run(run())
    assert seen == ["http://news.test/a"]


# --- rows 21, 23, 36: credentials and TLS -----------------------------------------------------


def test_row21_credentials_do_not_cross_origins(server: FaultServer):
    other = httpx.URL(f"{server.base}/redirect", params={"to": f"{server.other}/echo"})
    same = httpx.URL(f"{server.base}/redirect", params={"to": "/echo"})
    with_credentials = [str(u.copy_with(username="user", password="secret")) for u in (other, same)]
    # Both ports are the crawl's own (trusted), or the address guard would refuse the hop.
    cross, local = fetch(*with_credentials, trusted_hosts=frozenset({"127.0.0.1"}))
    assert cross.page is not None and local.page is not None
    assert "authorization" not in json.loads(cross.page.content)  # another port: another origin
    assert json.loads(local.page.content)["authorization"].startswith("Basic ")


def test_row21_and_36_credentials_are_redacted(
    server: FaultServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    url = (
        f"http://user:hunter2@{server.base.removeprefix('http://')}/status?n=404"
        "&token=TOKENVALUE&api_key=KEYVALUE&sig=SIGVALUE&page=2"
    )
    error = fetch_one(url).failed(HTTPStatusError, "http_status")
    message = str(error)
    assert "user:***@" in message and "token=***" in message and "page=2" in message
    for secret in ("hunter2", "TOKENVALUE", "KEYVALUE", "SIGVALUE"):
        assert secret not in message
        assert secret not in caplog.text  # httpx would log the URL at INFO


def test_row21_redirect_chain_is_redacted(server: FaultServer):
    url = f"http://u:hunter2@{server.base.removeprefix('http://')}/loop?auth=AUTHVALUE"
    error = fetch_one(url).failed(RedirectLoop, "redirect_loop")
    assert isinstance(error, RedirectLoop)
    assert not any("hunter2" in link or "AUTHVALUE" in link for link in error.chain)


def test_row23_self_signed_certificate_is_refused(server: FaultServer):
    if server.tls_base is None:
        pytest.skip("no openssl command to make a certificate")
    outcome = fetch_one(f"{server.tls_base}/ok")
    error = outcome.failed(TLSError, "tls")
    assert "certificate" in str(error).lower()
    assert error.attempts == 1  # not retried, and no fallback to an unverified connection


# --- rows 24-27: charsets (the bytes come through untouched; encoding.decode reads them) -------


@pytest.mark.parametrize("case", sorted(CHARSETS))
def test_row24_to_27_charsets(server: FaultServer, case: str):
    _, body, title = CHARSETS[case]
    page = fetch_one(f"{server.base}/charset?case={case}").page
    assert page is not None and page.content == body
    decoded = encoding.decode(page.content, page.content_type)
    assert _title(decoded.text) == title
    assert decoded.errors == 0 and decoded.encoding != "utf-7"


# --- row 20: the address guard (SSRF) ----------------------------------------------------------


def _guarded(url: str, **settings: Any) -> Outcome:
    """Fetch `url` with a stub resolver (evil.test -> 127.0.0.1): no real DNS query is made."""
    outcome = Outcome()

    async def resolver(host: str, port: int) -> list[str]:
        if host != "evil.test":
            raise OSError(f"stub resolver: unknown name {host}")
        return ["127.0.0.1"]

    async def run() -> None:
        config = FetchSettings(**{**FAST, **settings})
        async with Fetcher(config, resolver=resolver) as fetcher:
            try:
                outcome.page = await fetcher.fetch(url)
            except FetchError as exc:
                outcome.error = exc

    asyncio.run(run())
    return outcome


def _port(server: FaultServer) -> int:
    port = httpx.URL(server.base).port
    assert port is not None
    return port


@pytest.mark.parametrize(
    "target",
    ["http://evil.test:{port}/secret", "http://127.0.0.2:{port}/secret",
     "http://[::ffff:127.0.0.1]:{port}/secret", "http://2130706433:{port}/secret",
     "http://169.254.169.254/secret", "http://10.0.0.1/secret"],
)  # fmt: skip
def test_row20_redirect_to_a_non_public_address_is_refused(server: FaultServer, target: str):
    trusted = frozenset({f"127.0.0.1:{_port(server)}"})  # the start host, as a crawl gives it
    to = target.format(port=_port(server))
    url = str(httpx.URL(f"{server.base}/redirect", params={"to": to}))
    error = _guarded(url, trusted_hosts=trusted).failed(BlockedAddress, "blocked_address")
    assert error.attempts == 1 and server.hits(url) == 1
    assert server.hits(f"{server.base}/secret") == 0  # not one request reached the secret


@pytest.mark.parametrize("host", ["[::ffff:127.0.0.1]", "2130706433", "evil.test"])
def test_row20_untrusted_loopback_host_is_refused(server: FaultServer, host: str):
    url = f"http://{host}:{_port(server)}/ok"
    error = _guarded(url, trusted_hosts=frozenset({"news.example"})).failed(
        BlockedAddress, "blocked_address"
    )
    assert error.attempts == 1 and server.hits(url) == 0


@pytest.mark.parametrize("via", ["first-request", "redirect"])
def test_row20_dns_rebinding_is_caught_at_connect(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, via: str
):
    # The OS resolver, stubbed: rebind.test answers a public address the first time and
    # 127.0.0.1 after, as an attacker's DNS server with a zero TTL does. The check before the
    # request sees the public address; the connection must not use the second answer unchecked.
    real = socket.getaddrinfo
    answers: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name != "rebind.test":
            return real(host, port, *args, **kwargs)
        answers.append("93.184.216.34" if not answers else "127.0.0.1")
        return real(answers[-1], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    secret = f"http://rebind.test:{_port(server)}/secret"
    if via == "first-request":
        url, trusted = secret, frozenset({"news.example"})
    else:
        url = str(httpx.URL(f"{server.base}/redirect", params={"to": secret}))
        trusted = frozenset({f"127.0.0.1:{_port(server)}"})
    error = fetch_one(url, trusted_hosts=trusted).failed(BlockedAddress, "blocked_address")
    assert isinstance(error, BlockedAddress) and error.address == "127.0.0.1"
    assert error.attempts == 1 and error.url == url
    assert answers == ["93.184.216.34", "127.0.0.1"]  # checked before the request, and at connect
    assert server.hits(f"{server.base}/secret") == 0  # not one byte of a request reached it
    # Logged with the URL fetched and the hop refused.
    [refusal] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    assert f"rebind.test:{_port(server)}" in refusal and url in refusal


def test_row20_allow_private_lets_them_through(server: FaultServer):
    url = f"http://2130706433:{_port(server)}/ok"
    page = _guarded(url, allow_private=True, trusted_hosts=frozenset({"news.example"})).page
    assert page is not None and page.content == PAGE
    hop = str(httpx.URL(f"{server.base}/redirect", params={"to": f"{server.other}/ok"}))
    page = _guarded(hop, allow_private=True, trusted_hosts=frozenset({"news.example"})).page
    assert page is not None and page.content == PAGE and len(page.redirects) == 1


def test_row20_trusted_start_host_is_fetched(server: FaultServer):
    page = _guarded(f"{server.base}/ok", trusted_hosts=frozenset({"127.0.0.1"})).page
    assert page is not None and page.content == PAGE
