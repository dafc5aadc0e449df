"""The category: the breadcrumb trail (`首页 > 国内 > 正文` -> `国内`), then metadata.

Most Chinese portals draw the trail as links separated by text nodes such as `>`, `>>`, `-->`
or `»`, often in an element with no telling class. So the trail is found from its separators:
the element that owns a separator-only text run (or a run starting with 当前位置) nearest
before the headline is the trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ._tree import Measured
from .headline import same_page
from .trace import Trace

_SEPARATOR = re.compile(r"\s*(?:-{1,2}>|>{1,2}|&gt;|»|›|→|＞|/|\\)\s*")
_SEPARATOR_ONLY = re.compile(r"^\s*(?:-{1,2}>|>{1,2}|»|›|→|＞|/)\s*$")
_LEAD_LABEL = re.compile(r"^[^:：]{0,8}[:：]\s*")
# Crumbs and trail ends (bench/extract.py): the self-link, 正文 and form-control rules below
# and punctuation-only pieces give 7 corpus pages their section (category 71% -> 75%) and take
# it from none.
_NO_WORD = re.compile(r"^[\W_]*$")
# Form controls are not part of a trail's text: Sina's `path-search` box holds the trail and a
# search form whose options read 新闻 图片 博客 视频; udn's trail ends in a <select> of related
# stories.
_FORM_TAGS = ["select", "form", "input", "button", "script", "style"]
# A crumb longer than this is a headline, not a section name.
_MAX_CRUMB = 14
# Trail containers hold little text: a few short crumbs and their separators.
_MAX_TRAIL = 160


def clean_crumbs(
    text: str, skip: set[str], title: str | None, ends: frozenset[str] = frozenset()
) -> list[str]:
    """The section names in a trail's text, in order, without home links and the headline.

    A crumb in `ends` (正文: "the page you are on") closes the trail: what follows it in the
    same element is not part of it (163's `网易号 > 正文` is followed by a 申请入驻 button).
    """
    crumbs: list[str] = []
    pieces = (p for line in text.split("\n") for p in _SEPARATOR.split(line))
    for piece in pieces:
        crumb = " ".join(piece.split())
        crumb = _LEAD_LABEL.sub("", crumb) if ("：" in crumb or ":" in crumb) else crumb
        crumb = crumb.split("_")[0].strip()  # "国际财经_搜狐财经"
        if crumb in ends and crumbs:
            break
        if not crumb or crumb in skip or "首页" in crumb or "首頁" in crumb:
            continue
        if _NO_WORD.match(crumb):  # `|`, `】`: punctuation between the trail's neighbours
            continue
        is_headline = title is not None and (
            crumb == title or (title.startswith(crumb) and len(crumb) >= 6)
        )
        if len(crumb) > _MAX_CRUMB or is_headline:
            continue
        crumbs.append(crumb)
    return crumbs


def _without_forms(node: LexborNode) -> tuple[LexborNode, str]:
    """The element (a copy if it had to change) without form controls, and its text."""
    if node.css_first("select, form, input, button") is not None:
        node = node.clone()
        node.strip_tags(_FORM_TAGS)
    return node, node.text(separator="\n")


def _crumbs(
    node: LexborNode,
    text: str,
    words: Words,
    title: str | None,
    url: str | None,
) -> list[str]:
    """The crumbs in `text`, the text of trail element `node`.

    A last crumb that links to the page itself is the headline or a short name for it (163:
    `消费真相 --> 耐克`, the link's target being the article), not a section.
    """
    crumbs = clean_crumbs(text, words.skip, title, words.ends)
    last = node.css("a")[-1:] if crumbs and url else []
    if last:
        href = (last[0].attributes.get("href") or "").strip()
        shown = " ".join(last[0].text().split())
        if href and shown == crumbs[-1] and same_page(urljoin(url or "", href), url or ""):
            crumbs.pop()
    return crumbs


@dataclass(frozen=True, slots=True)
class Words:
    """The label lists (data/labels.toml) a trail is read with."""

    skip: set[str]  # crumbs that are not a category: 首页, 当前位置
    leads: tuple[str, ...]  # text that starts a plain-text trail: 当前位置
    ends: frozenset[str]  # the crumb naming the page itself, which closes the trail: 正文


def from_trail(
    measured: Measured,
    title: str | None,
    title_run: int | None,
    words: Words,
    url: str | None = None,
    trace: Trace | None = None,
) -> str | None:
    """The last crumb of the separator-drawn trail nearest before the headline, if any."""
    texts = measured.texts
    limit = title_run + 5 if title_run is not None else min(len(texts), 400)
    owners: list[int] = []
    for raw, owner, in_link in texts[:limit]:
        if in_link:
            continue
        stripped = raw.strip()
        is_trail = _SEPARATOR_ONLY.match(stripped) or stripped.startswith(words.leads)
        if is_trail and (not owners or owners[-1] != owner):
            owners.append(owner)
    for owner in reversed(owners):
        # A separator in its own element (`<em>></em>`, `<span>/</span>`): climb to the trail.
        index = owner
        for _ in range(3):
            if measured.text[index] > _MAX_TRAIL:
                break
            node, text = _without_forms(measured.nodes[index])
            crumbs = _crumbs(node, text, words, title, url)
            if trace is not None:
                trace.add("category", " > ".join(crumbs), "trail", note="separator-drawn trail")
            if crumbs:
                return crumbs[-1]
            if measured.parent[index] < 0:
                break
            index = measured.parent[index]
    return None


_NAMED = (
    '[class*="crumb"], [id*="crumb"], [class*="position"], [id*="position"], '
    '[class*="location"], [id*="location"], [class*="daohang"], [class*="path"], '
    '[class*="weizhi"], [id*="weizhi"], [class*="mbx"], [class*="nav-path"]'
)


def from_named(
    tree: LexborHTMLParser,
    title: str | None,
    words: Words,
    url: str | None = None,
    trace: Trace | None = None,
) -> str | None:
    """The last crumb of an element named like a breadcrumb (`class="crumbs"`, `id="position"`).

    A name alone is weak evidence (`position` also names ad slots): the element must show
    separators, unless it is explicitly a `crumb` whose separators are drawn by CSS. The first
    candidate that yields a crumb wins.
    """
    for node in tree.css(_NAMED)[:8]:
        node, text = _without_forms(node)
        if len(text) > 4 * _MAX_TRAIL or len("".join(text.split())) > _MAX_TRAIL:
            continue
        attrs = node.attributes
        names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
        if _SEPARATOR.search(text):
            crumbs = _crumbs(node, text, words, title, url)
        elif "crumb" in names:
            # Separators drawn by CSS or images: the links are the crumbs.
            links = "\n".join(a.text() for a in node.css("a"))
            crumbs = _crumbs(node, links, words, title, url)
        else:
            continue
        if trace is not None:
            trace.add("category", " > ".join(crumbs), f"breadcrumb:{names.strip()}")
        if crumbs:
            return crumbs[-1]
    return None
