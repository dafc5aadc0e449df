"""Which links a crawl follows: same host, canonical form, no files, no traps."""

from __future__ import annotations

from xinwen.discover import follow
from xinwen.urls import canonical_url

HOSTS = {"news.example.com"}


def _follow(*links: str) -> list[str]:
    return follow(list(links), HOSTS, set())


def test_same_host_only_in_canonical_form():
    assert _follow(
        "https://news.example.com/a/1.html?utm_source=x&b=2&a=1#top",
        "https://other.example.com/a/2.html",
        "https://NEWS.example.com:443/a/3.html",
    ) == [
        "https://news.example.com/a/1.html?a=1&b=2",
        "https://news.example.com/a/3.html",
    ]


def test_each_url_once():
    seen: set[str] = set()
    first = follow(["https://news.example.com/a.html"], HOSTS, seen)
    again = follow(["https://news.example.com/a.html#x"], HOSTS, seen)
    assert first == ["https://news.example.com/a.html"] and again == []


def test_files_are_not_followed():
    assert _follow("https://news.example.com/img/a.JPG", "https://news.example.com/f.pdf") == []


def test_traps_are_not_followed():
    deep = "https://news.example.com/" + "/".join(f"s{i}" for i in range(21)) + "/x.html"
    repeated = "https://news.example.com/a/a/a/a/x.html"
    long_url = "https://news.example.com/" + "x" * 2100
    calendar_ok = "https://news.example.com/2024/11/06/a/a.html"  # a segment twice is fine
    assert _follow(deep, repeated, long_url, calendar_ok) == [calendar_ok]


def test_canonical_url_brackets_ipv6_and_drops_credentials():
    assert canonical_url("http://u:p@[::1]:8080/a?b=1") == "http://[::1]:8080/a?b=1"
