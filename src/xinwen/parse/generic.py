"""The generic extractor: title, time, category, author, source and body for any page.

Body: readability-style paragraph scoring adapted to Chinese, where the full-width comma and full
stop are the strongest sign of running prose (GNE's "symbol density"), and link text is the
strongest sign of navigation. Every element's text is measured once (`_tree.measure`).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from datetime import timezone
from functools import cache
from importlib import resources
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..models import Block
from . import dates
from ._tree import BLOCK_TAGS, HEADING_TAGS, Measured, Stats

# Class and id hints, in the spirit of readability's; weights calibrated on the corpus
# (bench/extract.py): they move a candidate, they do not decide it alone.
_NEGATIVE = re.compile(
    r"comment|footer|foot\b|sidebar|side\b|related|relate|recommend|share|social|nav\b|menu|"
    r"banner|advert|\bads?\b|hot|rank|copyright|login|breadcrumb|crumb|toolbar|pager|"
    r"pagination|popup|modal|\bright\b|\bleft\b|tags?\b|keyword|footer",
    re.I,
)
_POSITIVE = re.compile(
    r"article|content|text|body|main|post|detail|entry|story|zhengwen|neirong|txt|con\b", re.I
)
_NUMBERED = (
    (re.compile(r"^[一二三四五六七八九十百]+[、.．]\s*\S"), 1),
    (re.compile(r"^[（(][一二三四五六七八九十]+[)）]\s*\S"), 2),
    (re.compile(r"^\d{1,2}\.\d{1,2}\.\d{1,2}(?!\d)\s*\D"), 3),
    (re.compile(r"^\d{1,2}\.\d{1,2}(?![\d.])\s*\D"), 2),
)
_SENTENCE_END = "。！？；…."
# A numbered or bold line longer than this is a paragraph that starts with a number.
_MAX_HEADING = 40
_TITLE_SPLIT = re.compile(r"\s+[-–—|｜·]\s+|\s*[_|｜–—]\s*|(?<!\d)-(?!\d)")
_PUNCT_ONLY = re.compile(r"^[\s\W_]*$")


@cache
def _labels() -> dict[str, list[str]]:
    raw = resources.files("xinwen").joinpath("data/labels.toml").read_text("utf-8")
    return {k: list(v) for k, v in tomllib.loads(raw).items()}


@cache
def _label_re(kind: str) -> re.Pattern[str]:
    words = sorted(_labels()[kind], key=len, reverse=True)
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(
        rf"(?:^|[\s|｜/【\[(（])(?:{alternatives})\s*[:：]\s*([^\s|｜/\]】)）:：]{{1,30}})"
    )


def clean(text: str) -> str:
    """Collapse whitespace in a short field."""
    return " ".join(text.split())


# --- metadata -----------------------------------------------------------------------------


def meta_tags(tree: LexborHTMLParser) -> dict[str, str]:
    """`<meta>` name/property/itemprop -> content, keys lower-cased, first one wins."""
    found: dict[str, str] = {}
    for node in tree.css("meta"):
        attrs = node.attributes
        content = attrs.get("content")
        if not content:
            continue
        for key in ("property", "name", "itemprop"):
            name = attrs.get(key)
            if name:
                found.setdefault(name.strip().lower(), content.strip())
    return found


def json_ld(tree: LexborHTMLParser) -> dict[str, object]:
    """The first JSON-LD object that looks like an article (flattening @graph and lists)."""

    def objects(value: object) -> Iterator[dict[str, object]]:
        if isinstance(value, list):
            for item in value:
                yield from objects(item)
        elif isinstance(value, dict):
            yield value
            yield from objects(value.get("@graph"))

    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text(deep=True) or "null")
        except ValueError:
            continue
        for obj in objects(data):
            kind = obj.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and ("Article" in k or k == "WebPage") for k in kinds):
                return obj
    return {}


# --- title ---------------------------------------------------------------------------------


def strip_site_name(title: str) -> str:
    """`标题_频道_网站名`, `标题 | 网站名`, `标题-网站名` -> `标题`."""
    parts = [p for p in _TITLE_SPLIT.split(title) if p and p.strip()]
    if len(parts) <= 1:
        return title.strip()
    # Drop short trailing segments (site and channel names) while a real title remains.
    while len(parts) > 1 and len(parts[-1].strip()) <= 16 and len(parts[0].strip()) >= 4:
        parts.pop()
    if len(parts) == 1:
        return parts[0].strip()
    return max(parts, key=len).strip()


def find_title(
    tree: LexborHTMLParser, meta: dict[str, str], ld: dict[str, object]
) -> tuple[str | None, str]:
    """The headline and the method that found it."""
    title_node = tree.css_first("title")
    head_title = clean(title_node.text()) if title_node is not None else ""
    og = clean(meta.get("og:title") or meta.get("twitter:title") or "")
    headline = ld.get("headline")
    ld_title = clean(headline) if isinstance(headline, str) else ""
    references = [t for t in (head_title, og, ld_title) if t]
    for node in tree.css("h1")[:5]:
        text = clean(node.text())
        if len(text) >= 4 and any(text in ref for ref in references):
            # Reject the logo: a site name is a trailing segment of <title>, not its start.
            if head_title and head_title.endswith(text) and not head_title.startswith(text):
                continue
            return text, "h1"
    if ld_title:
        return ld_title, "json-ld"
    if og:
        return strip_site_name(og), "og:title"
    if head_title:
        stripped = strip_site_name(head_title)
        # A heading element holding exactly the stripped title confirms it.
        return stripped, "title"
    for node in tree.css("h1")[:1]:
        text = clean(node.text())
        if text:
            return text, "h1"
    return None, "none"


# --- publish time ----------------------------------------------------------------------------

_META_DATES = (
    "article:published_time",
    "og:article:published_time",
    "og:release_date",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish_date",
    "publish-date",
    "pub_date",
    "dc.date.issued",
    "dc.date",
    "sailthru.date",
    "weibo:article:create_at",
)


def find_date(
    meta: dict[str, str], ld: dict[str, object], near_title: list[str], zone: timezone
) -> tuple[dates.Found | None, str]:
    """The publish time and the method that found it."""
    for key in _META_DATES:
        if key in meta:
            found = dates.parse_date(meta[key], zone=zone)
            if found:
                return found, f"meta:{key}"
    value = ld.get("datePublished")
    if isinstance(value, str):
        found = dates.parse_date(value, zone=zone)
        if found:
            return found, "json-ld"
    for chunk in near_title:
        found = dates.parse_date(chunk, zone=zone)
        if found:
            return found, "text"
    return None, "none"


# --- body ----------------------------------------------------------------------------------


def _hint(node: LexborNode) -> float:
    attrs = node.attributes
    names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    if not names.strip():
        return 1.0
    weight = 1.0
    if _POSITIVE.search(names):
        weight *= 1.3
    if _NEGATIVE.search(names):
        weight *= 0.5
    return weight


def score(measured: Measured) -> int | None:
    """Index (into measured.stats) of the element that best holds the article text."""
    stats = measured.stats
    for item in stats:
        if item.own < 10 or item.node.tag == "a":
            continue
        value = 1.0 + item.own_punct + min(item.own / 100.0, 3.0)
        item.score += value
        if item.parent >= 0:
            stats[item.parent].score += value
            grand = stats[item.parent].parent
            if grand >= 0:
                stats[grand].score += value / 2
    best, best_value = None, 0.0
    for index, item in enumerate(stats):
        if item.score <= 0 or item.node.tag not in BLOCK_TAGS:
            continue
        density = item.links / item.text if item.text else 1.0
        value = item.score * (1.0 - density) * _hint(item.node)
        if value > best_value:
            best, best_value = index, value
    return best


_Line = list[str]


def blocks_of(root: LexborNode, measured: Measured, title: str | None) -> list[Block]:
    """Paragraphs and headings under `root`, in order, skipping link lists and furniture."""
    out: list[Block] = []
    parts: list[str] = []
    bold: list[int] = [0, 0]  # characters in <strong>/<b> on the current line, all characters

    def flush(level: int = 0) -> None:
        text = clean("".join(parts))
        parts.clear()
        all_bold = bold[0] > 0 and bold[0] >= bold[1]
        bold[0] = bold[1] = 0
        if not text or _PUNCT_ONLY.match(text):
            return
        if level == 0:
            level = _heading_level(text, all_bold)
        out.append(Block(text, level))

    stats = measured.stats
    # Entries: (node, heading level in force, inside bold) or an exit marker (None, level, _).
    stack: list[tuple[LexborNode | None, int, bool]] = [(root, 0, False)]
    while stack:
        node, level, in_bold = stack.pop()
        if node is None:
            flush(level)
            continue
        tag = node.tag
        if tag == "-text":
            content = node.text_content or ""
            parts.append(content)
            size = len(content.strip())
            bold[1] += size
            if in_bold:
                bold[0] += size
            continue
        if tag == "br":
            flush()
            continue
        index = measured.by_id.get(node.mem_id)
        if index is None:  # dropped tags and comments
            continue
        item: Stats = stats[index]
        if node is not root and _is_furniture(item):
            continue
        if tag in BLOCK_TAGS:
            flush()
            heading = HEADING_TAGS.get(tag, level)
            if tag == "h1" and title and clean(node.text()) == title:
                continue
            stack.append((None, heading, in_bold))
        else:
            heading = level
        is_bold = in_bold or tag in ("strong", "b")
        for child in reversed(list(node.iter(include_text=True))):
            stack.append((child, heading, is_bold))
    flush()
    return out


def _is_furniture(item: Stats) -> bool:
    if item.text == 0:
        return False
    density = item.links / item.text
    if density > 0.5 and item.text >= 8:
        return True
    # A subtree of short link-free labels with a negative hint: share bars, tag lists.
    return _hint(item.node) < 1.0 and item.punct == 0 and item.text < 200


def _heading_level(text: str, all_bold: bool) -> int:
    if len(text) > _MAX_HEADING or text[-1] in _SENTENCE_END:
        return 0
    for pattern, level in _NUMBERED:
        if pattern.match(text):
            return level
    return 1 if all_bold and len(text) <= 25 else 0


# --- category, author, source ----------------------------------------------------------------


def find_breadcrumb(tree: LexborHTMLParser, title: str | None) -> str | None:
    """The last meaningful crumb of a breadcrumb trail (`首页 > 国内 > 正文` -> `国内`)."""
    skip = set(_labels()["breadcrumb_skip"])
    candidates = tree.css(
        '[class*="crumb"], [id*="crumb"], [class*="position"], [id*="position"], '
        '[class*="location"], [id*="location"], [class*="daohang"], [class*="path"], '
        '[class*="weizhi"], [id*="weizhi"]'
    )
    for node in candidates[:6]:
        links = [clean(a.text()) for a in node.css("a")]
        crumbs = [c for c in links if c and c not in skip and c != title and len(c) <= 12]
        if crumbs and len(links) <= 8:
            return crumbs[-1]
        text = clean(node.text())
        if 0 < len(text) <= 80:
            pieces = [p.strip(" :：") for p in re.split(r"[>›»→＞/]|&gt;", text)]
            words = [p for p in pieces if p and p not in skip and p != title and len(p) <= 12]
            if len(pieces) > 1 and words:
                return words[-1]
    return None


def find_labelled(window: str, kind: str) -> str | None:
    """A field introduced by a label in the info line: `来源：新华社` -> `新华社`."""
    match = _label_re(kind).search(window)
    return match.group(1) if match else None


def links_of(tree: LexborHTMLParser, base_url: str | None, cap: int = 5000) -> list[str]:
    """Absolute http(s) link targets in document order, at most `cap` of them."""
    found: list[str] = []
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        absolute = urljoin(base_url, href) if base_url else href
        if absolute.startswith(("http://", "https://")):
            found.append(absolute.split("#", 1)[0])
            if len(found) >= cap:
                break
    return found
