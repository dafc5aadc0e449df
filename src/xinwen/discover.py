"""Stage 1: which URLs to fetch next (pure: URLs in, URLs out; nothing is fetched here).

The links come from pages (`parse`), sitemaps and feeds (`feeds`); `follow` keeps the ones on
the crawl's hosts, in canonical form, that are no file and no trap, and, for a site with URL
patterns (`UrlPatterns`, from a sites file), that match one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .urls import canonical_url, host_of

# Links to these are never article pages.
_SKIP_EXTENSIONS = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|bmp|css|js|json|pdf|docx?|xlsx?|pptx?|zip|rar|7z|gz|"
    r"mp3|mp4|avi|mov|flv|apk|exe|dmg|woff2?|ttf)$",
    re.I,
)
# Trap limits (fault matrix row 34): browsers and Scrapy stop at 2,083 characters; Heritrix's
# PathologicalPathDecideRule allows a path segment 2 repeats and TooManyPathSegments 20 segments
# (calendar and /a/a/a/... traps).
MAX_URL_LENGTH = 2083
MAX_SEGMENTS = 20
MAX_REPEATS = 2


def follow(
    links: Iterable[str],
    hosts: set[str],
    seen: set[str],
    *,
    accept: Callable[[str], bool] | None = None,
    files: bool = False,
) -> list[str]:
    """Canonical same-host links not seen before, in page order; `seen` is updated.

    `accept(url)` (a site's `UrlPatterns.accepts`) can refuse more of them; `files=True` keeps
    links that look like files (the `.xml.gz` sitemaps a sitemap index lists).
    """
    found: list[str] = []
    for link in links:
        if len(link) > MAX_URL_LENGTH:
            continue
        url = canonical_url(link)
        if url in seen or host_of(url) not in hosts:
            continue
        path = urlsplit(url).path
        if (not files and _SKIP_EXTENSIONS.search(path)) or _is_trap(path):
            continue
        if accept is not None and not accept(url):
            continue
        seen.add(url)
        found.append(url)
    return found


def _is_trap(path: str) -> bool:
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) > MAX_SEGMENTS:
        return True
    counts: dict[str, int] = {}
    for segment in segments:
        counts[segment] = counts.get(segment, 0) + 1
        if counts[segment] > MAX_REPEATS + 1:
            return True
    return False


@dataclass(frozen=True, slots=True)
class UrlPatterns:
    """Which URLs of a host are worth following: those matching one of its regexes (a site's
    `article_urls` and `listing_urls`), searched in the canonical URL. A host without
    patterns accepts every URL.

    >>> patterns = UrlPatterns({"n.example.cn": (re.compile(r"/a/\\d+\\.html$"),)})
    >>> patterns.accepts("https://n.example.cn/a/1.html"), patterns.accepts("https://n.example.cn/about")
    (True, False)
    """

    by_host: Mapping[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)

    def accepts(self, url: str) -> bool:
        patterns = self.by_host.get(host_of(url))
        return patterns is None or any(pattern.search(url) for pattern in patterns)
