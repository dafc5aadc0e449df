"""Stage 3: decoded HTML in, `Extracted` fields out (pure: no I/O).

A site rule, when one matches, supplies the fields it has selectors for; the generic extractor
supplies the rest. `Extracted.extracted_by` records, per field, which one did
(`rule:<id>` or `generic:<method>`), so a rule's effect can be found with SQL.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from selectolax.lexbor import LexborDocumentOptions, LexborHTMLParser, LexborNode

from ..models import Extracted
from . import category, dates, generic, headline, pages, picks, published
from ._tree import Measured, many_block_tags, measure
from .trace import Trace

if TYPE_CHECKING:
    # pydantic models, of which only the annotations are needed: a parse worker of a crawl
    # without site rules never loads pydantic.
    from ..rules import Selector, SiteRule

# The window after the title searched for the time, the category link and the labelled fields:
# text runs, then characters (a Chinese info line is under 200 characters; 40 runs cover pages
# that wrap each part of it in its own element).
_INFO_RUNS = 40
_INFO_CHARS = 600
# A page is an article when its body container holds at least this much text, mostly not links,
# and is not itself a list. On the demo site's listing pages the density extractor picks the
# <ul> of summaries (link density 0.26-0.29); its articles score 0.0.
_MIN_BODY = 50
_MAX_LINK_DENSITY = 0.2
_SOURCE_TREE = LexborDocumentOptions.WO_EVENTS


def _select(tree: LexborHTMLParser, selectors: list[Selector]) -> str | None:
    for selector in selectors:
        node = tree.css_first(selector.css)
        if node is None:
            continue
        value = node.attributes.get(selector.attr) if selector.attr else node.text()
        value = generic.clean(value or "")
        if value:
            return value
    return None


_HEADLINE_TAGS = frozenset({"h1", "h2", "h3"})


def _title_index(measured: Measured, title: str | None, url: str | None = None) -> int | None:
    """Index of the text run that shows the headline, if any.

    The headline's text also appears in hidden page-top elements, breadcrumbs and link lists;
    a run in a heading element wins, then the first run that holds little more than the
    headline and is not a link, unless a link to the page itself (a blog's permalink headline,
    whose text the comments below repeat as `re: 标题`).
    """
    if not title:
        return None
    probe = title[:12]
    # The title's spaces were collapsed (`clean`); the page may show U+3000 or a line break.
    spaced = " " in probe
    fallback = None
    for index, (text, owner, in_link) in enumerate(measured.texts):
        if probe not in (generic.clean(text) if spaced else text):
            continue
        node = measured.nodes[owner]
        if node.tag == "title":  # a <title> that malformed markup left in the body
            continue
        parent = node.parent
        in_heading = parent is not None and parent.tag in _HEADLINE_TAGS
        if node.tag in _HEADLINE_TAGS or in_heading:
            return index
        short = len(text.strip()) <= len(title) + 20
        if (
            fallback is None
            and short
            and (not in_link or headline.links_to_page(measured, owner, url))
        ):
            fallback = index
    return fallback


def _info_window(texts: list[tuple[str, int, bool]], start: int) -> str:
    window = " ".join(generic.clean(t) for t, _, _ in texts[start : start + _INFO_RUNS])
    return window[:_INFO_CHARS]


# Lexbor's tree builder is quadratic in the nesting depth of block elements: 40,000 nested
# <div>s take 2.3 s and 80,000 take 10 s here, while 80,000 sibling <div>s take 0.04 s. Browsers
# cap nesting at 512 (whatwg/html#3732); deeper block tags are dropped before parsing. The scan
# runs only on pages with many block tags (a news page has a few thousand at most).
_MAX_DEPTH = 512
_MANY_BLOCKS = 5000
_BLOCK_TAG = re.compile(
    r"<(/?)(?:div|section|article|blockquote|li|ul|ol|dl|table)\b[^<>]{0,500}>", re.I
)


def _flatten_deep(html: str) -> str:
    """`html` with block tags nested deeper than `_MAX_DEPTH` removed."""
    # Two counts first: the tags, then the block tags. They are all that 225 of the 242 corpus
    # pages need.
    if not many_block_tags(html, _MANY_BLOCKS):
        return html
    pieces: list[str] = []
    depth = dropped = start = 0
    for match in _BLOCK_TAG.finditer(html):
        closing = bool(match.group(1))
        if not closing and depth >= _MAX_DEPTH:
            dropped += 1
        elif closing and dropped:
            dropped -= 1
        else:
            depth += -1 if closing else 1
            depth = max(depth, 0)
            continue
        pieces.append(html[start : match.start()])
        start = match.end()
    if not pieces:
        return html
    pieces.append(html[start:])
    return "".join(pieces)


def extract(
    html: str,
    url: str | None = None,
    rule: SiteRule | None = None,
    trace: Trace | None = None,
    now: datetime | None = None,
    *,
    links: bool = False,
    utf8: bytes | None = None,
) -> Extracted:
    """Extract the article fields from one page's HTML.

    `now` is the fetch time, against which relative dates (3小时前) are read; `trace` collects
    the candidates considered for each field. `links=True` also collects the page's links
    (a crawler needs them, a single extraction does not: they cost a millisecond a page).
    `utf8`, if given, is `html` encoded as UTF-8 (the page's own bytes, when they were UTF-8):
    Lexbor parses it as it is, where from `html` selectolax encodes it again first (0.12 ms
    of 0.66 a corpus page).
    """
    flat = _flatten_deep(html)
    # Without DOM mutation events: the tree is the source's (no <option> text copied into
    # <selectedcontent>), and parsing is 6% faster (0.570 -> 0.536 ms a corpus page; the same
    # tree for every corpus page).
    tree = LexborHTMLParser(
        utf8 if utf8 is not None and flat is html else flat, options=_SOURCE_TREE
    )
    result = Extracted(url=url)
    zone = rule.zone if rule else dates.CHINA
    rules = rule.extract if rule else None
    tag = f"rule:{rule.id}" if rule else ""

    # The whole-document queries (see `picks`): in one walk, or in two where a rule drops
    # elements (the metadata and links before, the rest after).
    drops = bool(rules and rules.body and rules.drop)
    late = (generic.TITLES, category.NAMED, pages.NEXT, picks.LINKS)
    first = late if not drops else (picks.LINKS,) if links else ()
    early = picks.pick(tree, generic.HEAD, *first)
    head = generic.head_elements(tree, early)
    meta = generic.meta_tags(head["meta"])
    ld = generic.json_ld(head["script"])
    if links:
        result.links = generic.links_of(tree, url, picked=early)
    result.canonical = generic.canonical_of(head["link"], url)

    for name in ("title", "category", "author", "source", "editor", "published_at"):
        if rules is None:
            break
        value = _select(tree, getattr(rules, name))
        if value is None:
            continue
        if name == "published_at":
            found = dates.parse_date(value, zone=zone, url=url, now=now)
            if found is None:
                continue
            value = found.iso
            result.published_precision, result.published_raw = found.precision, found.raw
        setattr(result, name, value)
        result.extracted_by[name] = tag

    body_root: LexborNode | None = None
    if rules and rules.body:
        body_root = tree.css_first(rules.body)
        if body_root is not None:
            for css in rules.drop:
                for node in body_root.css(css):
                    node.decompose()
    root = tree.body or tree.root
    if root is None:
        return result
    picked = picks.pick(tree, *late) if drops else early
    measured = measure(root)
    texts = measured.texts
    if result.title is None:
        result.title, method = generic.find_title(tree, meta, ld, trace=trace, picked=picked)
        result.extracted_by["title"] = f"generic:{method}"
    title_run = _title_index(measured, result.title, url)
    values: dict[int, float] = {}
    best = generic.score(measured, title_run, trace, values) if body_root is None else None
    from_title = result.extracted_by["title"] in ("generic:title", "generic:none")
    if from_title and (generic.weak_title(result.title) or title_run is None):
        # Only a site name so far (or a <title> that the page does not show): the headline-like
        # line just before the body may do better.
        near = headline.candidates(measured, best, url)
        if trace is not None:
            for weight, line in near:
                trace.add("title", line, "near-body", round(weight, 1), "headline-like line")
        if generic.weak_title(result.title):
            near_lines = [t for _, t in near]
            result.title, method = generic.find_title(tree, meta, ld, near_lines, trace, picked)
        elif near and near[0][0] >= headline.STRONG:
            result.title, method = near[0][1], "near-body"
        else:
            method = result.extracted_by["title"].split(":", 1)[1]
        result.extracted_by["title"] = f"generic:{method}"
        moved = _title_index(measured, result.title, url)
        if moved != title_run and body_root is None:
            # The body was placed against the wrong headline (or none): place it again.
            values.clear()
            best = generic.score(measured, moved, trace, values)
        title_run = moved
    window = _info_window(texts, title_run or 0)

    if result.published_at is None:
        found, method = generic.find_date(meta, ld, zone)
        declared = published.Candidate(found, 0.0, method) if found else None
        if trace is not None and found is not None:
            trace.add("published_at", found.raw, method, note="declared in metadata")
        labels = generic.labels()["date"]
        anchor = generic.find_anchor(meta, ld)
        seen = published.visible(
            measured, title_run, best, labels, zone, trace, url=url, now=now, anchor=anchor
        )
        if declared is None and seen is None:
            declared = published.from_scripts(html, zone)
        when = published.choose(declared, seen)
        if when is not None:
            result.published_at = when.found.iso
            result.published_precision, result.published_raw = when.found.precision, when.found.raw
            result.extracted_by["published_at"] = f"generic:{when.where}"
    if result.category is None:
        result.category, method = _category(
            tree, meta, ld, result.title, measured, title_run, url, trace, picked
        )
        if result.category:
            result.extracted_by["category"] = f"generic:{method}"
    for name in ("author", "source"):
        if getattr(result, name) is None:
            value = generic.find_labelled(window, name)
            if value is None and name == "author":
                value = meta.get("author") or None
            if value:
                setattr(result, name, value)
                result.extracted_by[name] = "generic:label"
            if trace is not None:
                trace.add(name, window[:100], "info line", note="text searched for labels")

    if body_root is not None:
        result.blocks = generic.blocks_of(body_root, measure(body_root), result.title)
        result.extracted_by["body"] = tag
        result.is_article = bool(result.blocks)
    elif best is not None:
        chosen, text = measured.nodes[best], measured.text[best]
        result.blocks = [
            block
            for part in generic.body_parts(measured, best, values)
            for block in generic.blocks_of(measured.nodes[part], measured, result.title)
        ]
        result.extracted_by["body"] = "generic:density"
        result.is_article = (
            text >= _MIN_BODY
            and measured.links[best] <= _MAX_LINK_DENSITY * text
            and chosen.tag not in ("ul", "ol")
        )
    if result.is_article and url:
        result.next_page = pages.next_page(tree, url, generic.labels()["next_page"], picked)
        # The pager's links to the other parts (1 2 3) are followed as parts, not as articles.
        parts = pages.continuations(url, result.links)
        result.links = [link for link in result.links if link not in parts]
    elif links and url:
        # A listing's pager (下一页, rel=next, index_1.htm, ?page=2), found apart from its other
        # links: a site's URL patterns may refuse those, and the link cap may have cut the pager.
        result.pagination = pages.listing_pages(
            tree, url, generic.labels()["next_page"], result.links, picked
        )
    result.truncated = sum(len(b.text) for b in result.blocks) >= generic.MAX_BODY
    # 责任编辑 usually closes the article (and is dropped from the body as furniture); the info
    # line under the headline is the other place it appears.
    tail = " ".join(b.text for b in result.blocks[-6:])
    editor = generic.find_labelled(tail, "editor") or generic.find_labelled(window, "editor")
    if editor and result.editor is None:
        result.editor = editor
        result.extracted_by["editor"] = "generic:label"
    return result


def _category(
    tree: LexborHTMLParser,
    meta: dict[str, str],
    ld: dict[str, object],
    title: str | None,
    measured: Measured,
    title_run: int | None,
    url: str | None,
    trace: Trace | None,
    picked: picks.Picked,
) -> tuple[str | None, str]:
    labels = generic.labels()
    words = category.Words(
        set(labels["breadcrumb_skip"]),
        tuple(labels["breadcrumb_lead"]),
        frozenset(labels["breadcrumb_end"]),
    )
    crumb = category.from_named(tree, title, words, url, trace, picked)
    if crumb:
        return crumb, "breadcrumb"
    crumb = category.from_trail(measured, title, title_run, words, url, trace)
    if crumb:
        return crumb, "trail"
    crumb = category.from_label(measured, title_run, generic.label_re("category"), trace)
    if crumb:
        return crumb, "label"
    crumb = category.beside_headline(measured, title_run, trace)
    if crumb:
        return crumb, "beside-headline"
    section = meta.get("article:section") or ld.get("articleSection")
    if isinstance(section, list) and section:
        section = section[0]
    if isinstance(section, str) and section.strip():
        return generic.clean(section), "meta"
    return None, "none"
