"""Multi-page articles and paged listings: the links to a page's other pages.

A part link is a `下一页` (or `rel="next"`) link whose target is a continuation of this page's
own URL: the same path with a page number added or changed (`123.html` -> `123_2.html`,
`index.htm` -> `index_1.htm`, `?page=2`). A `下一页` that leads anywhere else is list
pagination or navigation, not a part of this article.

A listing's pages (`listing_pages`) are wider: its `下一页` or `rel="next"` wherever it leads on
the same host, and every continuation of its URL (the numbered pager), `/news/` counting as
`/news/index.html`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

from .picks import EQUALS, LINKS, Picked, Query, Selector, pick

# A page number in the last path segment: `_2`, `-2`, `_p2` before the extension.
_PAGE_SUFFIX = re.compile(r"(?:[_-]p?\d{1,3})?(?=\.(?:s?html?|php|aspx?|jsp)$)|(?:[_-]p?\d{1,3})?$")
_PAGE_PARAMS = frozenset({"page", "p", "pg", "pageno", "pagenum", "page_num", "pn"})
_INDEX = re.compile(r"(?<=/)(?:index|default)\.(?:s?html?|php|aspx?|jsp)$", re.I)
_ARROWS = re.compile(r"[\s>»›→\]\[【】()（）]+")


def _stem(url: str, listing: bool = False) -> str:
    parts = urlsplit(url)
    path = _PAGE_SUFFIX.sub("", parts.path, count=1)
    if listing:
        path = _INDEX.sub("", path)
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _PAGE_PARAMS)
    )
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, query, ""))


# An extension at the end of a path, in any case.
_EXTENSION = re.compile(r"\.(?:s?html?|php|aspx?|jsp)$", re.I)


def _base(stem: str) -> str:
    """What the path of every URL with this stem starts with: the stem's path without its
    extension. `_stem` changes only a path's last segment, and only by removing a page suffix
    before the extension (or at the end) and, for a listing, `index.html` whole."""
    return _EXTENSION.sub("", urlsplit(stem).path)


def continuations(url: str, candidates: list[str]) -> set[str]:
    """The candidates that are other parts of the article at `url` (one stem computed)."""
    own, host = _stem(url), urlsplit(url).netloc.lower()
    base = _base(own)
    found = set()
    for candidate in candidates:
        # Most links of a page lead to other hosts or paths: rejected before parsing the URL
        # (`_stem` is 10 us; an article page's ~100 links on its host cost 1 ms).
        if base not in candidate or host not in candidate.lower():
            continue
        if candidate.split("#")[0] != url.split("#")[0] and _stem(candidate) == own:
            found.add(candidate)
    return found


def is_continuation(url: str, candidate: str) -> bool:
    """True if `candidate` is another part of the article at `url`.

    >>> is_continuation("https://n.example.cn/a/123.html", "https://n.example.cn/a/123_2.html")
    True
    >>> is_continuation("https://n.example.cn/a/123.html", "https://n.example.cn/a/124.html")
    False
    """
    if candidate.split("#")[0] == url.split("#")[0]:
        return False
    return _stem(url) == _stem(candidate)


def next_page(
    tree: LexborHTMLParser, url: str | None, labels: list[str], picked: Picked | None = None
) -> str | None:
    """The URL of the next part of this article, if the page links to one.

    `picked`, if given, holds the answers to `NEXT` and `picks.LINKS`.
    """
    if not url:
        return None
    for href in _next_hrefs(picked or pick(tree, NEXT, LINKS), labels):
        target = urljoin(url, href.strip())
        if target.startswith(("http://", "https://")) and is_continuation(url, target):
            return target.split("#")[0]
    return None


def listing_pages(
    tree: LexborHTMLParser,
    url: str,
    labels: list[str],
    links: list[str],
    picked: Picked | None = None,
) -> list[str]:
    """The other pages of the listing at `url`: where its `下一页`/`rel="next"` leads on the same
    host, then the links among `links` that continue its URL, in page order.

    >>> tree = LexborHTMLParser('<a href="index_1.htm">2</a><a href="/news/list.htm">下一页</a>')
    >>> listing_pages(tree, "http://n.example.cn/news/", ["下一页"], ["http://n.example.cn/news/index_1.htm"])
    ['http://n.example.cn/news/list.htm', 'http://n.example.cn/news/index_1.htm']
    """
    host = urlsplit(url).netloc.lower()
    own = url.split("#")[0]
    found: dict[str, None] = {}
    for href in _next_hrefs(picked or pick(tree, NEXT, LINKS), labels):
        target = urljoin(url, href.strip()).split("#")[0]
        if urlsplit(target).netloc.lower() == host and target != own:
            found[target] = None
    stem = _stem(url, listing=True)
    base = _base(stem)
    for link in links:
        if base not in link or host not in link.lower() or link == own:
            continue
        if _stem(link, listing=True) == stem:
            found[link] = None
    return [link for link in found if link.startswith(("http://", "https://"))]


# Links marked as the next page.
NEXT = Query(
    'link[rel="next"], a[rel="next"]',
    (Selector("link", (("rel", EQUALS, ("next",)),)), Selector("a", (("rel", EQUALS, ("next",)),))),
)


def _next_hrefs(picked: Picked, labels: list[str]) -> list[str]:
    wanted = {label.lower() for label in labels}
    hrefs = [n.attributes.get("href") for n in picked[NEXT]]
    for node in picked[LINKS]:
        if _ARROWS.sub("", node.text()).lower() in wanted:
            hrefs.append(node.attributes.get("href"))
    return [h for h in hrefs if h and not h.startswith(("javascript:", "#"))]
