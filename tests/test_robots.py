"""robots.txt (fault-matrix row 22): the policy (robots.py), and `Fetcher.robots` over
httpx.MockTransport."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from xinwen.fetch import USER_AGENT, Fetcher, FetchSettings
from xinwen.robots import MAX_BYTES, RobotsPolicy

UA = USER_AGENT
RULES = b"User-agent: *\nDisallow: /news/\nCrawl-delay: 2.5\n"


# --- the policy -------------------------------------------------------------------------------


def test_disallow_blocks_the_prefix_only():
    policy = RobotsPolicy.from_response(200, RULES)
    assert not policy.allowed("http://news.test/news/x", UA)
    assert policy.allowed("http://news.test/other", UA)
    assert policy.allowed("http://news.test/newsroom", UA)
    assert policy.source == "rules"


def test_rules_for_xinwen_by_name():
    body = b"User-agent: *\nDisallow: /\n\nUser-agent: xinwen\nDisallow: /private/\n"
    policy = RobotsPolicy.from_response(200, body)
    assert policy.allowed("http://news.test/a", UA)
    assert not policy.allowed("http://news.test/private/a", UA)


@pytest.mark.parametrize("status", [404, 410, 401, 403, 400, 300])
def test_unavailable_allows_all(status: int):
    policy = RobotsPolicy.from_response(status, b"User-agent: *\nDisallow: /\n")
    assert policy.allowed("http://news.test/news/x", UA) and policy.source == "unavailable"
    assert policy.crawl_delay(UA) is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, None])
def test_unreachable_disallows_all(status: int | None):
    policy = RobotsPolicy.from_response(status, b"")
    assert not policy.allowed("http://news.test/", UA) and policy.source == "unreachable"


def test_utf8_bom_is_ignored():
    policy = RobotsPolicy.from_response(200, b"\xef\xbb\xbf" + RULES)
    assert not policy.allowed("http://news.test/news/x", UA)  # the first line was not lost


@pytest.mark.parametrize(
    "body",
    [b"<!doctype html><html><body><h1>Welcome</h1><p>Disallow nothing</p></body></html>",
     b"\x00\xff\xfe garbage \x80\x81\n\n::::\n", b""],
)  # fmt: skip
def test_garbage_allows_all(body: bytes):
    assert RobotsPolicy.from_response(200, body).allowed("http://news.test/news/x", UA)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.5", 2.5), ("120", 60.0), ("60", 60.0), ("0", 0.0), ("-3", None), ("soon", None)],
)
def test_crawl_delay_is_read_and_capped(value: str, expected: float | None):
    body = f"User-agent: *\nCrawl-delay: {value}\nDisallow: /x\n".encode()
    assert RobotsPolicy.from_response(200, body).crawl_delay(UA) == expected


def test_no_crawl_delay():
    assert RobotsPolicy.from_response(200, b"User-agent: *\nDisallow: /x\n").crawl_delay(UA) is None


def test_600_kib_body_is_parsed_up_to_500_kib():
    filler = b"# " + b"x" * 78 + b"\n"
    body = RULES + filler * (600 * 1024 // len(filler)) + b"User-agent: *\nDisallow: /late/\n"
    assert len(body) > 600 * 1024 > MAX_BYTES
    started = time.monotonic()
    policy = RobotsPolicy.from_response(200, body)
    assert time.monotonic() - started < 2
    assert not policy.allowed("http://news.test/news/x", UA)
    assert policy.allowed("http://news.test/late/x", UA)  # past 500 KiB: not read


def test_a_line_cut_at_500_kib_is_dropped():
    prefix = b"User-agent: *\n" + b"#" * (MAX_BYTES - 14 - 5) + b"\n"
    body = prefix + b"Disallow: /\n"  # "Disall" falls inside the limit, the rest outside
    assert RobotsPolicy.from_response(200, body).allowed("http://news.test/a", UA)


# --- Fetcher.robots ---------------------------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


def _robots(
    handler: Handler, *urls: str, **settings: object
) -> tuple[list[RobotsPolicy], Counter[str]]:
    """`Fetcher.robots` for each URL with one Fetcher; also the requests made, by URL."""
    requests: Counter[str] = Counter()
    sleeps: list[float] = []

    def counting(request: httpx.Request) -> httpx.Response:
        requests[str(request.url)] += 1
        return handler(request)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def run() -> list[RobotsPolicy]:
        config = FetchSettings(delay=0, allow_private=True, **settings)  # type: ignore[arg-type]
        transport = httpx.MockTransport(counting)
        async with Fetcher(config, transport=transport, sleep=sleep) as fetcher:
            return list(await asyncio.gather(*(fetcher.robots(u) for u in urls)))

    return asyncio.run(run()), requests


def _serve(status: int, body: bytes = b"") -> Handler:
    return lambda request: httpx.Response(status, content=body)


def test_fetched_rules_apply():
    (policy,), requests = _robots(_serve(200, RULES), "http://news.test/news/1.html")
    assert not policy.allowed("http://news.test/news/x", UA)
    assert policy.allowed("http://news.test/other", UA)
    assert policy.crawl_delay(UA) == 2.5
    assert requests == {"http://news.test/robots.txt": 1}


def test_404_allows():
    (policy,), _ = _robots(_serve(404, b"not here"), "http://news.test/")
    assert policy.allowed("http://news.test/news/x", UA)


def test_500_disallows_after_the_usual_retries():
    (policy,), requests = _robots(_serve(500), "http://news.test/")
    assert not policy.allowed("http://news.test/", UA)
    assert requests["http://news.test/robots.txt"] == FetchSettings().max_attempts


def test_unreachable_disallows():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    (policy,), _ = _robots(refuse, "http://news.test/")
    assert not policy.allowed("http://news.test/", UA) and policy.source == "unreachable"


def _redirects(n: int) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        i = int(request.url.params.get("i", "0"))
        if i < n:
            return httpx.Response(302, headers={"Location": f"/robots.txt?i={i + 1}"})
        return httpx.Response(200, content=RULES)

    return handler


def test_five_redirects_are_followed():
    (policy,), _ = _robots(_redirects(5), "http://news.test/")
    assert not policy.allowed("http://news.test/news/x", UA)


def test_six_redirects_mean_unavailable():
    (policy,), requests = _robots(_redirects(6), "http://news.test/")
    assert policy.allowed("http://news.test/news/x", UA) and policy.source == "unavailable"
    assert sum(requests.values()) == 6  # the first request and five redirects, not retried


def test_cached_per_origin():
    urls = ["http://news.test/a", "http://news.test/b?x=1", "http://NEWS.test/c",
            "https://news.test/a", "http://other.test/"]  # fmt: skip
    policies, requests = _robots(_serve(200, RULES), *urls)
    assert len(policies) == 5
    assert requests == {
        "http://news.test/robots.txt": 1,
        "https://news.test/robots.txt": 1,
        "http://other.test/robots.txt": 1,
    }


def test_big_body_over_the_fetch_cap_is_unavailable():
    (policy,), _ = _robots(_serve(200, RULES + b"#" * 4096), "http://news.test/", max_bytes=1024)
    assert policy.allowed("http://news.test/news/x", UA)


def test_robots_go_through_the_address_guard():
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def run() -> RobotsPolicy:
        config = FetchSettings(delay=0, trusted_hosts=frozenset({"news.test"}))
        transport = httpx.MockTransport(_serve(200, b""))
        async with Fetcher(config, transport=transport, resolver=resolver) as fetcher:
            return await fetcher.robots("http://evil.test/")

    policy = asyncio.run(run())
    assert not policy.allowed("http://evil.test/", UA)  # blocked: treated as unreachable
