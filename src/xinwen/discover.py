"""Stage 1: which URLs to fetch next (pure: URLs in, URLs out; nothing is fetched here)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a visitor or a campaign, not a page.
_TRACKING = re.compile(
    r"^(utm_\w+|spm|from|share_token|sid|jsessionid|phpsessid|fbclid|gclid)$", re.I
)
# Links to these are never article pages.
_SKIP_EXTENSIONS = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|bmp|css|js|json|pdf|docx?|xlsx?|pptx?|zip|rar|7z|gz|"
    r"mp3|mp4|avi|mov|flv|apk|exe|dmg|woff2?|ttf)$",
    re.I,
)
# Trap limits (fault matrix row 34): browsers and Scrapy stop at 2,083 characters.
MAX_URL_LENGTH = 2083


def canonical_url(url: str) -> str:
    """The form a URL is stored and compared under: no fragment, no tracking, sorted query.

    >>> canonical_url("HTTP://News.Example.com:80/a/1.html?utm_source=x&b=2&a=1#top")
    'http://news.example.com/a/1.html?a=1&b=2'
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _bracket((parts.hostname or "").lower())
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _TRACKING.match(k))  # fmt: skip
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def host_of(url: str) -> str:
    """`host` or `host:port` of a URL, lower-cased, without credentials."""
    parts = urlsplit(url)
    host = _bracket((parts.hostname or "").lower())
    return f"{host}:{parts.port}" if parts.port else host


def follow(links: Iterable[str], hosts: set[str], seen: set[str]) -> list[str]:
    """Canonical same-host links not seen before, in page order; `seen` is updated."""
    found: list[str] = []
    for link in links:
        if len(link) > MAX_URL_LENGTH:
            continue
        url = canonical_url(link)
        if url in seen or host_of(url) not in hosts:
            continue
        if _SKIP_EXTENSIONS.search(urlsplit(url).path):
            continue
        seen.add(url)
        found.append(url)
    return found


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
