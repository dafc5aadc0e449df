"""URL forms shared by the stages: the canonical form articles are keyed by, and the host."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a visitor or a campaign, not a page.
_TRACKING = re.compile(
    r"^(utm_\w+|spm|from|share_token|sid|jsessionid|phpsessid|fbclid|gclid)$", re.I
)


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


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
