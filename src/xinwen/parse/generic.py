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
from datetime import date, timezone
from functools import cache, lru_cache, partial
from importlib import resources
from itertools import compress, count
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..models import Block
from . import dates
from ._tree import BLOCK_TAGS, Measured, lines
from .picks import CONTAINS, EQUALS, HAS, LINKS, Picked, Query, Selector, pick
from .trace import Trace

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
# The same two patterns for ASCII names lower-cased first (nearly all names: 166 of the corpus's
# 15,875 distinct ones are not ASCII), where they match the same: without re.I, and with every
# alternative opening with a letter (`\bads?\b` as `a(?<!\wa)ds?\b`) so that the search skips
# the positions where none can start. A name the cache has not seen: 8.8 -> 1.6 us, 14 of
# them a corpus page on a first pass (tests/test_parse_hints.py compares the two).
_NEGATIVE_LOWER = re.compile(
    r"comment|footer|foot\b|sidebar|side\b|related|relate|recommend|share|social|nav\b|menu|"
    r"banner|advert|a(?<!\wa)ds?\b|hot|rank|copyright|login|breadcrumb|crumb|toolbar|pager|"
    r"pagination|popup|modal|r(?<!\wr)ight\b|l(?<!\wl)eft\b|tags?\b|keyword|footer"
)
_POSITIVE_LOWER = re.compile(_POSITIVE.pattern)
_NUMBERED = (
    (re.compile(r"^[一二三四五六七八九十百]+[、.．]\s*\S"), 1),
    (re.compile(r"^[（(][一二三四五六七八九十]+[)）]\s*\S"), 2),
    (re.compile(r"^\d{1,2}\.\d{1,2}\.\d{1,2}(?!\d)\s*\D"), 3),
    (re.compile(r"^\d{1,2}\.\d{1,2}(?![\d.])\s*\D"), 2),
)
_SENTENCE_END = "。！？；…."
# A numbered or bold line longer than this is a paragraph that starts with a number.
_MAX_HEADING = 40
# Separators between a headline and the site or channel name. A dash inside digits (2024-2025)
# and a doubled dash (——, a subtitle) are part of the headline.
_TITLE_SPLIT = re.compile(
    r"\s+[-–—|｜·»›<>]\s+|\s*(?:[_|｜»›]|-{2,})\s*|(?<![\d—-])[-–](?![\d—-])|(?<=\S)<(?=\S)"
)
_PUNCT_ONLY = re.compile(r"^[\s\W_]*$")


@cache
def labels() -> dict[str, list[str]]:
    raw = resources.files("xinwen").joinpath("data/labels.toml").read_text("utf-8")
    return {k: list(v) for k, v in tomllib.loads(raw).items()}


@cache
def _label_re(kind: str) -> re.Pattern[str]:
    words = sorted(labels()[kind], key=len, reverse=True)
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(
        rf"(?:^|[\s|｜/【\[(（])(?:{alternatives})\s*[:：]\s*([^\s|｜/\]】)）:：]{{1,30}})"
    )


@cache
def label_re(kind: str) -> re.Pattern[str]:
    """A label of `kind` and its colon (`所属分类：`), at a word start; the value follows."""
    words = sorted(labels()[kind], key=len, reverse=True)
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?:^|[\s|｜/【\[(（])(?:{alternatives})\s*[:：]\s*")


def clean(text: str) -> str:
    """Collapse whitespace in a short field."""
    return " ".join(text.split())


# --- metadata -----------------------------------------------------------------------------


# The elements the metadata is read from, found in one query: each query walks the whole
# document (about 0.1 ms on a corpus page), whatever it looks for.
HEAD = Query(
    'meta, script[type="application/ld+json"], link[rel][href]',
    (
        Selector("meta"),
        Selector("script", (("type", EQUALS, ("application/ld+json",)),)),
        Selector("link", (("rel", HAS, ()), ("href", HAS, ()))),
    ),
)


def head_elements(
    tree: LexborHTMLParser, picked: Picked | None = None
) -> dict[str, list[LexborNode]]:
    """The page's `<meta>`, JSON-LD `<script>` and `<link rel href>` elements, by tag name.

    `picked`, if given, holds the answer to `HEAD`.
    """
    found: dict[str, list[LexborNode]] = {"meta": [], "script": [], "link": []}
    for node in (picked or pick(tree, HEAD))[HEAD]:
        found.setdefault((node.tag or "").lower(), []).append(node)
    return found


def meta_tags(elements: list[LexborNode]) -> dict[str, str]:
    """`<meta>` name/property/itemprop -> content, keys lower-cased, first one wins."""
    found: dict[str, str] = {}
    for node in elements:
        attrs = node.attributes
        content = attrs.get("content")
        if not content:
            continue
        for key in ("property", "name", "itemprop"):
            name = attrs.get(key)
            if name:
                found.setdefault(name.strip().lower(), content.strip())
    return found


def json_ld(scripts: list[LexborNode]) -> dict[str, object]:
    """The first JSON-LD object that looks like an article (flattening @graph and lists)."""

    def objects(value: object) -> Iterator[dict[str, object]]:
        if isinstance(value, list):
            for item in value:
                yield from objects(item)
        elif isinstance(value, dict):
            yield value
            yield from objects(value.get("@graph"))

    for node in scripts:
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


def _segments(title: str) -> list[str]:
    return [p.strip() for p in _TITLE_SPLIT.split(title) if p and p.strip()]


# Page-number tails of forum and archive titles: "(页 1)", "（第2页）".
_PAGE_TAIL = re.compile(r"\s*[(（]\s*(?:页\s*\d{1,3}|第\s*\d{1,3}\s*页)\s*[)）]\s*$")


def strip_site_name(title: str) -> str:
    """`标题_频道_网站名`, `标题 | 网站名`, `标题-网站名`, `网站名 » 标题` -> `标题`.

    The headline is the longest segment: site and channel names are short. The first segment
    wins ties and near-ties, since most Chinese sites put the headline first.
    """
    parts = [_PAGE_TAIL.sub("", part) for part in _segments(title)]
    if len(parts) <= 1:
        return _PAGE_TAIL.sub("", title.strip())
    longest = max(len(p) for p in parts)
    if len(parts[0]) >= 0.6 * longest:
        return parts[0]
    return next(p for p in parts if len(p) == longest)


# Headline candidates: h1-h3 and the elements whose class or id has one of these in it.
_TITLE_TAGS = ("h1", "h2", "h3")
_TITLE_CLASSES = ("title", "Title", "headline", "biaoti", "tit")
_TITLE_IDS = ("title", "Title")
# The first matches looked at, an element counting once for each of the names and tag it
# matches (as lexbor lists an element once per selector of a list that it matches).
_TITLE_MATCHES = 80
# The same elements in a query that lexbor runs faster (0.22 -> 0.18 ms a corpus page): each
# selector tried against an element costs, so the names are tried only on elements with a class
# or an id, and `title` is left out, `tit` finding it. It lists an element at most 3 times.
TITLES = Query(
    "h1, h2, h3, [class]:is([class*='tit'], [class*='Title'], [class*='headline'], "
    "[class*='biaoti']), [id]:is([id*='title'], [id*='Title'])",
    (
        Selector("h1"),
        Selector("h2"),
        Selector("h3"),
        Selector(None, (("class", CONTAINS, ("tit", "Title", "headline", "biaoti")),)),
        Selector(None, (("id", CONTAINS, ("title", "Title")),)),
    ),
)
# Headline candidates are at most this long; longer text is a summary or a paragraph.
_MAX_TITLE = 120


def _title_candidates(picked: Picked) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    nodes = picked[TITLES]
    # At most 8 matches an element: with 10 elements or fewer the first 80 are all of them.
    count = len(nodes) > _TITLE_MATCHES // 8
    matches, last = 0, -1
    for node in nodes:
        if node.mem_id == last:  # listed again for another selector
            continue
        if matches >= _TITLE_MATCHES:
            break
        last = node.mem_id
        tag = node.tag or ""
        if count:
            attrs = node.attributes
            names, ident = attrs.get("class") or "", attrs.get("id") or ""
            matches += max(
                1,
                (tag in _TITLE_TAGS)
                + sum(name in names for name in _TITLE_CLASSES)
                + sum(name in ident for name in _TITLE_IDS),
            )
        text = clean(node.text())
        if 2 <= len(text) <= _MAX_TITLE:
            found.append((text, tag))
    return found


def find_title(
    tree: LexborHTMLParser,
    meta: dict[str, str],
    ld: dict[str, object],
    near_body: list[str] = (),  # type: ignore[assignment]
    trace: Trace | None = None,
    picked: Picked | None = None,
) -> tuple[str | None, str]:
    """The headline and the method that found it.

    The page's own heading wins when the `<title>` (or og:title, or JSON-LD) confirms it: the
    longest heading that the title starts with, or that sits in its first segments (a heading
    that only matches a trailing segment is the site's name). Without confirmation,
    the metadata title is stripped of its site name; without metadata (or only a site name),
    the best headline-like line above the body is used (`near_body`, best first; see
    `headline.candidates`). `picked`, if given, holds the answer to `TITLES`.
    """
    title_node = tree.css_first("title")
    head_title = clean(title_node.text()) if title_node is not None else ""
    og = clean(meta.get("og:title") or meta.get("twitter:title") or "")
    headline = ld.get("headline")
    ld_title = clean(headline) if isinstance(headline, str) else ""
    references = [t for t in (ld_title, og, head_title) if t]
    if trace is not None:
        for value, method in ((head_title, "<title>"), (og, "og:title"), (ld_title, "json-ld")):
            if value:
                trace.add("title", value, method, note="reference for the page's headings")

    best: tuple[int, str, str] | None = None
    for text, tag in _title_candidates(picked or pick(tree, TITLES)):
        note = "not in <title>, og:title or JSON-LD"
        for ref in references:
            if text not in ref:
                continue
            segments = _segments(ref)
            leading = ref.startswith(text) or any(text in seg for seg in segments[:-1])
            if not leading and len(segments) > 1:
                note = "only a trailing segment of the title: a site or channel name"
                continue
            rank = len(text) + (5 if tag == "h1" else 0)
            note = "confirmed by the title; longest confirmed heading wins"
            if best is None or rank > best[0]:
                best = (rank, text, tag or "heading")
            break
        if trace is not None:
            trace.add("title", text, tag or "heading", note=note)
    if best is not None:
        text = best[1]
        if text in references:  # an element repeating the whole <title>, site name included
            text = strip_site_name(text)
        # A subtitle joined with a dash belongs to the headline: keep the whole first segment.
        first = strip_site_name(head_title) if head_title else ""
        if first.startswith(text) and len(first) > len(text) and first[len(text)] in "—－-:：":
            return first, best[2]
        return text, best[2]
    if ld_title:
        return ld_title, "json-ld"
    if og:
        return strip_site_name(og), "og:title"
    stripped = strip_site_name(head_title) if head_title else ""
    # A <title> that is only a site or channel name ("网易娱乐", "显示") says nothing about the
    # article: then the headline-like line just before the body is the better guess.
    if weak_title(stripped) and near_body:
        return near_body[0], "near-body"
    if stripped:
        return stripped, "title"
    return None, "none"


# Titles this short that survive site-name stripping are site or channel names in the corpus
# ("网易娱乐", "北医新闻网", "CCTV.com"); real headlines are longer.
_SITE_NAME_MAX = 8


def weak_title(title: str | None) -> bool:
    """True for a title that is probably only a site or channel name."""
    return title is None or len(title) <= _SITE_NAME_MAX


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
    meta: dict[str, str], ld: dict[str, object], zone: timezone
) -> tuple[dates.Found | None, str]:
    """The publish time declared in metadata (meta tags, then JSON-LD), and where."""
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
    return None, "none"


# Metadata that dates the page without claiming to be its publish time: only used to give a
# year to a visible date shown without one (Baidu's `发布时间：10-08 12:00`).
_META_ANCHORS = (
    "dateupdate", "article:modified_time", "og:updated_time", "lastmod", "last-modified",
    "datemodified", "pubdate",
)  # fmt: skip


def find_anchor(meta: dict[str, str], ld: dict[str, object]) -> date | None:
    """A date the page's metadata gives, for dates shown without a year."""
    values = [meta[key] for key in _META_ANCHORS if key in meta]
    modified = ld.get("dateModified")
    if isinstance(modified, str):
        values.append(modified)
    for value in values:
        found = dates.parse_date(value)
        if found is not None and found.anchored and len(found.iso) >= 10:
            return date.fromisoformat(found.iso[:10])
    return None


# --- body ----------------------------------------------------------------------------------


# A page repeats its class names: 223,000 elements of the corpus carry 17,030 distinct ones.
@lru_cache(maxsize=4096)
def _hint_of(names: str) -> float:
    if not names.strip():
        return 1.0
    if names.isascii():
        names = names.lower()
        positive, negative = _POSITIVE_LOWER, _NEGATIVE_LOWER
    else:
        positive, negative = _POSITIVE, _NEGATIVE
    weight = 1.0
    if positive.search(names):
        weight *= 1.3
    if negative.search(names):
        weight *= 0.5
    return weight


# How far below the headline (in text runs) the body may start before it is suspect: beyond it,
# long "recommended" stories outweigh a short article (Yahoo HK, 360kuai pages in the corpus).
_BODY_REACH = 60
_FAR_FACTOR = 0.3


def _placement(start: int, end: int, title_run: int | None) -> float:
    """How well an element whose text runs are `start:end` sits below the headline."""
    if title_run is None or start <= title_run < end:
        return 1.0
    distance = start - title_run
    if 0 <= distance <= _BODY_REACH:
        return 1.0
    if distance < 0:
        return 0.6
    return max(_FAR_FACTOR, 1.0 - (distance - _BODY_REACH) / 400)


def score(
    measured: Measured,
    title_run: int | None = None,
    trace: Trace | None = None,
    values: dict[int, float] | None = None,
) -> int | None:
    """Index (of an element of `measured`) of the element that best holds the article text.

    `title_run`, the text run holding the headline, favours text that follows it. `values`,
    if given, receives every candidate's score (see `body_parts`).
    """
    nodes, text, links = measured.nodes, measured.text, measured.links
    runs_start, runs_end = measured.runs_start, measured.runs_end
    own, own_punct, names = measured.own, measured.own_punct, measured.names
    scores: dict[int, float] = {}  # element index -> paragraph score, for the scored ones
    # Only block elements and the walk's root (index 0) have own text or are a block parent
    # (`measure` gives a text run to its nearest block, else to the root): so only the root's
    # tag can fail the tests below, and it is the only tag read (a node's tag is 0.2 us).
    root_tag = nodes[0].tag if nodes else None
    # A paragraph scores for its nearest block ancestors: inline wrappers are not levels (Word's
    # HTML puts every <p> in <font><font>, which left the text's <div> no score at all; a
    # corpus page 0.23 -> 0.99).
    up = measured.block_parent
    get = scores.get
    # The elements with 10 characters of their own, picked at C speed (a page has ~800
    # elements, ~100 of them with text of their own).
    for index in compress(count(), map(_NINE.__lt__, own)):
        size = own[index]
        if index == 0 and root_tag == "a":
            continue
        value = 1.0 + own_punct[index] + min(size / 100.0, 3.0)
        scores[index] = get(index, 0.0) + value
        parent = up[index]
        if parent >= 0:
            scores[parent] = get(parent, 0.0) + value
            grand = up[parent]
            if grand >= 0:
                scores[grand] = get(grand, 0.0) + value / 2
    ranked: list[tuple[float, int]] = []
    near: list[tuple[float, int]] = []  # those starting right after the headline (see below)
    for index in sorted(scores):
        paragraphs, linked, size = scores[index], links[index], text[index]
        # All link text (density 1) scores 0 whatever the name hint: the hint is not read.
        if paragraphs <= 0 or linked >= size or (index == 0 and root_tag not in BLOCK_TAGS):
            continue
        density = linked / size
        start = runs_start[index]
        distance = start - title_run if title_run is not None else 0
        if 0 <= distance <= _BODY_REACH:  # (`_placement`'s 1.0, for most candidates)
            placement = 1.0
        else:
            placement = _placement(start, runs_end[index], title_run)
        hint = _hint_of(names(index))
        value = paragraphs * (1.0 - density) * hint * placement
        if value > 0:
            ranked.append((value, index))
            if 0 < distance <= _RIGHT_AFTER:
                near.append((value, index))
    if values is not None:
        values.update({index: value for value, index in ranked})
    if not ranked:
        return None
    top_value, top = max(ranked)
    if trace is not None:
        for value, index in sorted(ranked, reverse=True)[:6]:
            node = nodes[index]
            attrs = node.attributes
            name = f"{node.tag}.{attrs.get('class') or ''}#{attrs.get('id') or ''}"
            density = links[index] / text[index] if text[index] else 1.0
            placement = _placement(runs_start[index], runs_end[index], title_run)
            note = (
                f"paragraph score {scores[index]:.1f}, link density {density:.2f}, "
                f"name hint x{_hint_of(names(index)):.2f}, placement x{placement:.2f}"
                f", {text[index]} chars"
            )
            trace.add("body", node.text()[:60], name, round(value, 1), note)
    if title_run is None:
        return top
    # A short article right under its headline loses on score to long "recommended" stories
    # further down; text that starts just after the headline (`near`) wins if it scores a fair
    # share. Mostly links on top (a forum's tree of replies under the post): any prose right under
    # the headline beats it. A corpus forum page 0.01 -> 1.00, no page changes otherwise.
    share = 0.0 if links[top] * 2 > text[top] else _FAIR_SHARE
    for value, index in sorted(near, key=lambda r: (runs_start[r[1]], -r[0])):
        related = _contains(measured, index, top) or _contains(measured, top, index)
        prose = text[index] >= _MIN_PROSE and measured.punct[index] >= _MIN_PUNCT
        if prose and value >= share * top_value and not related:
            return index
    return top


_NINE = 9  # (own text of at least 10 characters scores)

# Both calibrated on the corpus (bench/extract.py): the Yahoo HK and 360kuai short articles.
_RIGHT_AFTER = 15  # text runs between the headline and the start of the body
_FAIR_SHARE = 0.2
# ...and only if it reads as prose, not a disclaimer line, a byline or a list of hot links.
_MIN_PROSE = 100
_MIN_PUNCT = 4


# Sibling blocks of the body's container that join it (readability's rule): a table or a
# section that the article continues into. Calibrated on the corpus (bench/extract.py): body
# F1 0.945 -> 0.952, >= 0.9 88.4% -> 90.7% (a table of subjects 0.65 -> 0.99, a poem's
# sections 0.47 -> 0.92, a baike page 0.86 -> 0.95; a blog archive page 0.04 -> 0.03). The
# share is readability's; 0.3 or more joins nothing on the corpus.
_SIBLING_SHARE = 0.2
_SIBLING_MIN = 10.0
# A parent with at most this much text (percent of the child's) only wraps it: a heading or a
# "more" link over a section (110 to 150 give the same corpus figures).
_WRAPPER = 115
# Above the text, a sibling joins only as prose this long (40 to 60 give the same figures): a
# kicker (【新春走基层】) or a byline block stays out.
_PROSE_BEFORE = 50


def body_parts(measured: Measured, best: int, values: dict[int, float]) -> list[int]:
    """The elements that hold the article: `best`, and the siblings of its container that
    score a fair share of it, in document order.

    The container is `best` or its nearest ancestor with more text than it (wrappers such as
    `<tr><td>` add nothing, a section adds its heading). A sibling's score is its own or that
    of a wrapper inside it holding nearly all its text (a `<table>`'s `<tbody>`).
    """
    parents, text, links = measured.parent, measured.text, measured.links
    node = best
    while parents[node] >= 0 and text[parents[node]] * 100 <= text[node] * _WRAPPER:
        node = parents[node]
    parent = parents[node]
    if parent < 0:
        return [best]
    threshold = max(_SIBLING_MIN, _SIBLING_SHARE * values.get(best, 0.0))
    worth: dict[int, float] = {}  # child of `parent` -> its score
    # Only the few candidates that score enough are looked at, not the parent's whole subtree.
    for index, value in values.items():
        if value < threshold:
            continue
        child = index
        while child >= 0 and parents[child] != parent:
            child = parents[child]
        if child >= 0 and child != node and text[index] * 10 >= text[child] * 9:
            worth[child] = max(worth.get(child, 0.0), value)
    parts = [
        child
        for child in sorted(worth)
        if links[child] * 4 <= text[child] and _joins(measured, child, before=child < node)
    ]
    return sorted([*parts, best]) if parts else [best]


# A sibling that opens like this is the site's legal notice, not the article going on.
_NOTICE = re.compile(r"^\W{0,3}(?:反?侵权|版权|免责|声明|聲明|公告|郑重|鄭重|注意)")


def _joins(measured: Measured, index: int, *, before: bool) -> bool:
    """True if sibling `index` of the body's container is part of the article."""
    if _is_furniture(measured, index) or _hint_of(measured.names(index)) < 1.0:
        return False  # (a `row-recommend` list of summaries under the text)
    start = measured.runs_start[index]
    first = measured.texts[start][0] if start < len(measured.texts) else ""
    if _NOTICE.match(first.strip()):
        return False
    # Above the text only prose joins: a kicker or a byline block there is not the article.
    return not before or (
        measured.text[index] >= _PROSE_BEFORE and measured.punct[index] >= _MIN_PUNCT
    )


def _contains(measured: Measured, outer: int, inner: int) -> bool:
    """True if element `outer`'s text runs include all of element `inner`'s."""
    starts, ends = measured.runs_start, measured.runs_end
    return starts[outer] <= starts[inner] and ends[inner] <= ends[outer]


# No news article is longer than this many characters; beyond it the page is hostile or broken
# (a 10 MB text node took 4 s to normalize) and the body is cut, with a flag.
MAX_BODY = 500_000


def blocks_of(root: LexborNode, measured: Measured, title: str | None) -> list[Block]:
    """Paragraphs and headings under `root`, in order, skipping link lists and furniture.

    At most `MAX_BODY` characters are taken. The walk is `_tree.lines`.
    """

    def is_title(node: LexborNode) -> bool:
        return clean(node.text()) == title

    out: list[Block] = []
    furniture = partial(_is_furniture, measured)
    title_test = is_title if title else None
    for raw, level, all_bold in lines(root, measured, furniture, title_test, MAX_BODY):
        text = clean(raw)
        if not text or _PUNCT_ONLY.match(text):
            continue
        out.append(Block(text, level or _heading_level(text, all_bold)))
    return out


# Reader comments are prose too, so only their container's name gives them away (blog and forum
# pages in the corpus keep them inside the post's wrapper).
_COMMENTS = re.compile(r"comment|feedback|reply|respond|discuss|pinglun|liuyan|评论|留言", re.I)


def _is_furniture(measured: Measured, index: int) -> bool:
    text = measured.text[index]
    if text == 0:
        return False
    names = measured.names(index)
    if _is_comments(names):
        return True
    density = measured.links[index] / text
    if density > 0.5 and text >= 8:
        return True
    # A subtree of short link-free labels with a negative hint: share bars, tag lists.
    return _hint_of(names) < 1.0 and measured.punct[index] == 0 and text < 200


@lru_cache(maxsize=4096)
def _is_comments(names: str) -> bool:
    return _COMMENTS.search(names) is not None


def _heading_level(text: str, all_bold: bool) -> int:
    if len(text) > _MAX_HEADING or text[-1] in _SENTENCE_END:
        return 0
    for pattern, level in _NUMBERED:
        if pattern.match(text):
            return level
    return 1 if all_bold and len(text) <= 25 else 0


# --- category, author, source ----------------------------------------------------------------


def find_labelled(window: str, kind: str) -> str | None:
    """A field introduced by a label in the info line: `来源：新华社` -> `新华社`."""
    match = _label_re(kind).search(window)
    return match.group(1) if match else None


def canonical_of(links: list[LexborNode], base_url: str | None) -> str | None:
    """The absolute http(s) URL of the page's `<link rel="canonical">`, if it has one."""
    for node in links:
        if "canonical" not in (node.attributes.get("rel") or "").lower().split():
            continue
        # (`attrs.get`, 0.18 us: the href is there; `attributes` builds a dict of all, 0.40 us)
        href = (node.attrs.get("href") or "").strip()
        absolute = urljoin(base_url, href) if base_url else href
        return absolute if href and absolute.startswith(("http://", "https://")) else None
    return None


def links_of(
    tree: LexborHTMLParser, base_url: str | None, cap: int = 5000, picked: Picked | None = None
) -> list[str]:
    """Absolute http(s) link targets in document order, at most `cap` of them.

    `picked`, if given, holds the answer to `picks.LINKS`.
    """
    found: list[str] = []
    for node in (picked or pick(tree, LINKS))[LINKS]:
        # (`attrs.get`, 0.18 us: the href is there; `attributes` builds a dict of all, 0.40 us)
        href = (node.attrs.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        absolute = urljoin(base_url, href) if base_url and not _joins_to_itself(href) else href
        if absolute.startswith(("http://", "https://")):
            found.append(absolute.split("#", 1)[0])
            if len(found) >= cap:
                break
    return found


def _joins_to_itself(href: str) -> bool:
    """Whether `urljoin(base, href)`, cut at `#`, is `href` cut at `#` for every base: an
    ASCII http(s) URL with a host that `urlsplit` would not rewrite (no tab or newline to
    remove, no brackets to check, no empty `;` params or `?` query to drop).

    Many pages link with absolute URLs: they skip `urljoin`, which was a sixth of a parse
    worker's time on bench/crawl.py's site (tests/test_parse_fast_paths.py compares the two).
    """
    if not href.startswith(("http://", "https://")) or not href.isascii():
        return False
    rest = href[href.index("//") + 2 :]
    if not rest or rest[0] in "/?#" or _REWRITTEN.search(href):
        return False
    return not href.split("#", 1)[0].endswith("?")


# What urlsplit removes or checks in a URL (see `_joins_to_itself`): one search, where a test per
# character took 1 us a link.
_REWRITTEN = re.compile(r"[\[\]\t\r\n;]")
