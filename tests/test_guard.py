"""The address guard (fault-matrix row 20) over httpx.MockTransport with a stub resolver.

No real DNS query is made: every name goes through `resolver`, which knows only the names below.
The misbehaving-server cases (redirects on 127.0.0.1, secret route hit counts) are in
test_faults.py.
"""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest

from xinwen.errors import BlockedAddress, DNSError
from xinwen.fetch import Fetcher, FetchSettings, blocked, literal_ip

PUBLIC = "93.184.216.34"  # never contacted: the transport is a MockTransport
NAMES = {
    "news.test": [PUBLIC],
    "public.test": [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"],
    "evil.test": ["127.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "mixed.test": [PUBLIC, "10.0.0.1"],  # one bad address is enough to refuse
    "mapped.test": ["::ffff:127.0.0.1"],
}


async def resolver(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise OSError(f"stub resolver: unknown name {host}")
    return NAMES[host]


def _run(url: str, *, seen: list[str] | None = None, **settings: object) -> httpx.URL:
    seen = [] if seen is None else seen

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/redirect":
            return httpx.Response(302, headers={"Location": request.url.params["to"]})
        return httpx.Response(200, content=b"ok")

    async def run() -> httpx.URL:
        config = FetchSettings(delay=0, backoff_base=0, **settings)  # type: ignore[arg-type]
        transport = httpx.MockTransport(handler)
        async with Fetcher(config, transport=transport, resolver=resolver) as fetcher:
            page = await fetcher.fetch(url)
            return httpx.URL(page.final_url)

    return asyncio.run(run())


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254",
     "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.1.1.1", "240.0.0.1", "255.255.255.255",
     "::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fe80::1", "fc00::1", "ff02::1",
     "2002:7f00:1::1", "64:ff9b::7f00:1"],
)  # fmt: skip
def test_non_public_addresses_are_blocked(address: str):
    assert blocked(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2001:4860:4860::8888"])
def test_public_addresses_pass(address: str):
    assert not blocked(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "address"),
    [("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("127.1", "127.0.0.1"),
     ("0177.0.0.1", "127.0.0.1"), ("[::ffff:127.0.0.1]", "::ffff:7f00:1"), ("::1", "::1"),
     ("10.0.0.1", "10.0.0.1")],
)  # fmt: skip
def test_ip_literals_in_every_form(host: str, address: str):
    assert str(literal_ip(host)) == address


@pytest.mark.parametrize("host", ["news.test", "1news.test", "deadbeef.test", "", "0x"])
def test_names_are_not_literals(host: str):
    assert literal_ip(host) is None


TRUST = {"trusted_hosts": frozenset({"news.test"})}


@pytest.mark.parametrize(
    "target",
    ["http://evil.test/secret", "http://metadata.test/latest/meta-data/",
     "http://mixed.test/x", "http://mapped.test/x", "http://127.0.0.2:8080/secret",
     "http://2130706433/secret", "http://[::ffff:127.0.0.1]/secret", "http://0x7f.1/secret",
     "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]:9/"],
)  # fmt: skip
def test_redirect_to_a_non_public_address_is_refused_before_any_request(target: str):
    seen: list[str] = []
    start = str(httpx.URL("http://news.test/redirect", params={"to": target}))
    with pytest.raises(BlockedAddress) as info:
        _run(start, seen=seen, **TRUST)
    assert seen == [start]  # the target never reached the transport
    assert info.value.kind == "blocked_address" and info.value.attempts == 1  # never retried


def test_redirect_to_a_public_host_is_followed():
    seen: list[str] = []
    start = str(httpx.URL("http://news.test/redirect", params={"to": "http://public.test/a"}))
    assert _run(start, seen=seen, **TRUST).host == "public.test"
    assert len(seen) == 2


@pytest.mark.parametrize("url", ["http://evil.test/", "http://2130706433/", "http://[::1]/"])
def test_untrusted_first_request_is_refused(url: str):
    with pytest.raises(BlockedAddress):
        _run(url, **TRUST)


@pytest.mark.parametrize("trusted", ["evil.test", "evil.test:8080"])
def test_trusted_hosts_always_pass(trusted: str):
    url = _run("http://evil.test:8080/a", trusted_hosts=frozenset({trusted.upper()}))
    assert url.host == "evil.test"


def test_a_trusted_host_port_does_not_trust_other_ports():
    with pytest.raises(BlockedAddress):
        _run("http://evil.test:8081/a", trusted_hosts=frozenset({"evil.test:8080"}))


def test_without_trusted_hosts_the_requested_host_is_trusted_but_redirects_are_not():
    assert _run("http://evil.test/a").host == "evil.test"
    start = str(httpx.URL("http://news.test/redirect", params={"to": "http://evil.test/"}))
    with pytest.raises(BlockedAddress):
        _run(start)


def test_allow_private_skips_the_guard_and_the_resolver():
    start = str(httpx.URL("http://news.test/redirect", params={"to": "http://unknown.test/"}))
    # unknown.test is not known to the stub resolver: with the guard off, it is never asked.
    assert _run(start, allow_private=True, **TRUST).host == "unknown.test"
    assert _run("http://2130706433/", allow_private=True, **TRUST).host == "2130706433"


def test_a_name_that_does_not_resolve_is_a_dns_error():
    start = str(httpx.URL("http://news.test/redirect", params={"to": "http://unknown.test/"}))
    with pytest.raises(DNSError):
        _run(start, **TRUST)
