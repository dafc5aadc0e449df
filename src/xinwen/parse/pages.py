"""Multi-page articles: the link to the next part of the same article, if the page has one.

A part link is a `下一页` (or `rel="next"`) link whose target is a continuation of this page's
own URL: the same path with a page number added or changed (`123.html` -> `123_2.html`,
`index.htm` -> `index_1.htm`, `?page=2`). A `下一页` that leads anywhere else is list
pagination or navigation, not a part of this article.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

# A page number in the last path segment: `_2`, `-2`, `_p2` before the extension.
_PAGE_SUFFIX = re.compile(r"(?:[_-]p?\d{1,3})?(?=\.(?:s?html?|php|aspx?|jsp)$)|(?:[_-]p?\d{1,3})?$")
_PAGE_PARAMS = frozenset({"page", "p", "pg", "pageno", "pagenum", "page_num", "pn"})
_ARROWS = re.compile(r"[\s>»›→\]\[【】()（）]+")


def _stem(url: str) -> str:
    parts = urlsplit(url)
    path = _PAGE_SUFFIX.sub("", parts.path, count=1)
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _PAGE_PARAMS)
    )
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, query, ""))


def continuations(url: str, candidates: list[str]) -> set[str]:
    """The candidates that are other parts of the article at `url` (one stem computed)."""
    own, host = _stem(url), urlsplit(url).netloc.lower()
    found = set()
    for candidate in candidates:
        # Most links of a page lead to other hosts or paths: rejected before parsing the URL.
        if host not in candidate.lower() or candidate.split("#")[0] == url.split("#")[0]:
            continue
        if _stem(candidate) == own:
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


def next_page(tree: LexborHTMLParser, url: str | None, labels: list[str]) -> str | None:
    """The URL of the next part of this article, if the page links to one."""
    if not url:
        return None
    wanted = {label.lower() for label in labels}
    hrefs = [n.attributes.get("href") for n in tree.css('link[rel="next"], a[rel="next"]')]
    for node in tree.css("a[href]"):
        text = _ARROWS.sub("", node.text()).lower()
        if text in wanted:
            hrefs.append(node.attributes.get("href"))
    for href in hrefs:
        if not href or href.startswith(("javascript:", "#")):
            continue
        target = urljoin(url, href.strip())
        if target.startswith(("http://", "https://")) and is_continuation(url, target):
            return target.split("#")[0]
    return None
