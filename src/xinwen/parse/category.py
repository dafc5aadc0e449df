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

from ._tree import BLOCK_TAGS, Measured
from .headline import same_page
from .picks import CONTAINS, Picked, Query, Selector, pick
from .trace import Trace

# A hyphen separates crumbs only with spaces around it (`首页 - 新闻动态`) or standing alone in
# its run (zol's `当前您在 <a>论坛</a> - <a>BT下载专区</a>`): `2024-11` and `A-Share` are words.
# A lone hyphen does not make a trail by itself (menus use it too), a lead or 首页 must.
# Evidence (bench/extract.py): 2 corpus pages get their section (79.7% -> 80.8%); counted as
# separator-only runs, hyphens put menu items (电邮, 搜狗) on 4 unannotated pages.
_SEPARATOR = re.compile(r"\s*(?:-{1,2}>|>{1,2}|&gt;|»|›|→|＞|/|\\)\s*|\s+-\s+|^\s*-\s*$")
_SEPARATOR_ONLY = re.compile(r"^\s*(?:-{1,2}>|>{1,2}|»|›|→|＞|/)\s*$")
# A run between two links of a trail: a section shown as text, separators on both sides
# (`<a>网易娱乐</a> &gt; 电影版区 &gt; <a>周黎明留言板</a>`). With `class="bread"` named as
# a trail: 3 corpus pages get their section (80.8% -> 82.6%), no other category changes.
_BETWEEN_LINKS = re.compile(
    r"^(?:-{1,2}>|>{1,2}|»|›|→|＞)\s*[^\s<>]{1,14}\s*(?:-{1,2}>|>{1,2}|»|›|→|＞)$"
)
# A run that opens a trail with the home page's name: `首页 - 新闻动态`, `首页>国内`.
_HOME_FIRST = re.compile(r"^\s*(?:网站)?首[页頁]\s*(?:-{1,2}>|>{1,2}|»|›|→|＞|/|\s-)\s*\S")
_LEAD_LABEL = re.compile(r"^[^:：]{0,8}[:：]\s*")
# Crumbs and trail ends (bench/extract.py): the self-link, 正文 and form-control rules below
# and punctuation-only pieces give 7 corpus pages their section (category 71% -> 75%) and take
# it from none.
_NO_WORD = re.compile(r"^[\W\d_]*$")
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
        if crumb.isdigit():  # `2019/07/17`, `1 / 5`: a date or a pager, not a trail
            return []
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
        is_trail = (
            _SEPARATOR_ONLY.match(stripped)
            or stripped.startswith(words.leads)
            or _HOME_FIRST.match(stripped)
            or _BETWEEN_LINKS.match(stripped)
        )
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


# Names of trail elements: in the class, in the id. An element named twice (`breadcrumb
# position`, `nav-path`) is a candidate twice, as it was when each name was a selector of its own.
_NAMED_CLASSES = (
    "crumb", "bread", "position", "location", "daohang", "path", "weizhi", "mbx", "nav-path",
)  # fmt: skip
_NAMED_IDS = ("crumb", "position", "location", "weizhi")
# The elements so named, in a query that lexbor runs faster than one selector a name (0.32 ->
# 0.23 ms a corpus page): each selector tried against an element costs, so the names are tried
# only on elements with a class or an id (`nav-path` is found by `path`). It lists an element
# at most twice. (The C walk answers it with the other queries: see `picks`.)
NAMED = Query(
    '[class]:is([class*="crumb"], [class*="bread"], [class*="position"], [class*="location"], '
    '[class*="daohang"], [class*="path"], [class*="weizhi"], [class*="mbx"]), '
    '[id]:is([id*="crumb"], [id*="position"], [id*="location"], [id*="weizhi"])',
    (
        Selector(None, (("class", CONTAINS, _NAMED_CLASSES[:-1]),)),
        Selector(None, (("id", CONTAINS, _NAMED_IDS),)),
    ),
)
_MAX_NAMED = 8


def _named(picked: Picked) -> list[LexborNode]:
    """The first `_MAX_NAMED` elements named like a trail, each as many times as it is named."""
    found: list[LexborNode] = []
    last = -1
    for node in picked[NAMED]:
        if node.mem_id == last:  # listed again for its id
            continue
        last = node.mem_id
        attrs = node.attributes
        names, ident = attrs.get("class") or "", attrs.get("id") or ""
        times = sum(name in names for name in _NAMED_CLASSES)
        times += sum(name in ident for name in _NAMED_IDS)
        found.extend([node] * max(1, times))
        if len(found) >= _MAX_NAMED:
            break
    return found[:_MAX_NAMED]


def from_named(
    tree: LexborHTMLParser,
    title: str | None,
    words: Words,
    url: str | None = None,
    trace: Trace | None = None,
    picked: Picked | None = None,
) -> str | None:
    """The last crumb of an element named like a breadcrumb (`class="crumbs"`, `id="position"`).

    A name alone is weak evidence (`position` also names ad slots): the element must show
    separators, unless it is explicitly a `crumb` whose separators are drawn by CSS. The first
    candidate that yields a crumb wins. `picked`, if given, holds the answer to `NAMED`.
    """
    for node in _named(picked or pick(tree, NAMED)):
        node, text = _without_forms(node)
        if len(text) > 4 * _MAX_TRAIL or len("".join(text.split())) > _MAX_TRAIL:
            continue
        attrs = node.attributes
        names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
        if _SEPARATOR.search(text):
            crumbs = _crumbs(node, text, words, title, url)
        elif "crumb" in names or "bread" in names:
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


# --- channel labels ------------------------------------------------------------------------------

# Evidence (bench/extract.py): the labelled category and the label beside the headline give 8
# corpus pages without a trail their section (category 75.0% -> 79.7%) and give none of the
# pages the annotators left without a category one.

# Runs searched for a labelled category (`所属分类：数理化`): from the headline on. The label
# stands in the info line or under the text, beside the keywords.
_LABEL_REACH = 400
_MAX_LABEL = 12


def from_label(
    measured: Measured, title_run: int | None, pattern: re.Pattern[str], trace: Trace | None = None
) -> str | None:
    """A category introduced by a label (`栏目：`, `所属分类：`) at or after the headline.

    The value may stand in the label's run or, when the label ends its run
    (`所属分类：<span>数理化</span>`), in the next one.
    """
    texts = measured.texts
    start = title_run or 0
    for index in range(start, min(len(texts), start + _LABEL_REACH)):
        raw = texts[index][0]
        if "：" not in raw and ":" not in raw:
            continue
        text = " ".join(raw.split())
        match = pattern.search(text)
        if match is None:
            continue
        value = text[match.end() :].split(" ")[0] if match.end() < len(text) else ""
        if not value and index + 1 < len(texts):
            value = " ".join(texts[index + 1][0].split()).split(" ")[0]
        value = value.strip("[]【】「」")
        if 2 <= len(value) <= _MAX_LABEL and not _NO_WORD.match(value):
            if trace is not None:
                trace.add("category", value, "label", note=text[:40])
            return value
    return None


# Classes of channel or column labels: qq's `a_catalog`, qdaily's `category`, the `tag` over
# a headline. Classes only: ids name scripts' hooks (sohu's `pc-channel-ghb-entry` button).
_CHANNEL_NAMES = re.compile(
    r"catalog|categor|channel|column|lanmu|pindao|(?<![a-z])section|\btag\b", re.I
)
# Spaces, colons and digits: an info line (`来源：半月谈网`), a date or a count, not a name.
_NOT_LABEL = re.compile(r"[\s:：\d]")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Symbols and words around a channel label: `■ 纪检监察`, `报社新闻 频道`, `[湖湘文化]`.
_LABEL_MARKS = re.compile(
    r"^[\s■□●◆◇▲▼▶►·•\[【「]+|[\s\]】」]+$|(?<=\S)\s*(?:频道|頻道|栏目|欄目)$"
)
# How many runs before the headline the label may stand, and after it (there only when named
# as one: the info line after a headline holds source and author names, which look the same).
_BEFORE_HEADLINE = 2
_AFTER_HEADLINE = 3


def beside_headline(
    measured: Measured, title_run: int | None, trace: Trace | None = None
) -> str | None:
    """A channel label just above the headline, or one named as such just below it.

    Portals without a trail show the channel as a short label over the headline (`智能`,
    `新浪财经`, `报社新闻 频道`, `■ 纪检监察`). Menus end just above headlines too, so the label
    must show it is one: alone in its block with a mark (`■`, `频道`, brackets), in a heading,
    or in an element named like a channel (`category`, `catalog`, `column`, `tag`), never as an
    item of a list. Below the headline (qq: `<span class="a_catalog">金融市场</span>` before
    the source and the time) only a named element counts: the info line holds source and
    author names, which look the same.
    """
    if title_run is None:
        return None
    texts = measured.texts
    before = range(title_run - 1, max(-1, title_run - 1 - _BEFORE_HEADLINE), -1)
    after = range(title_run + 1, min(len(texts), title_run + 1 + _AFTER_HEADLINE))
    for index, below in [(i, False) for i in before] + [(i, True) for i in after]:
        owner = texts[index][1]
        block = _block_of(measured, owner)
        if measured.nodes[block].tag in ("li", "dd", "dt"):  # an item of a list: a menu
            continue
        named = _named_channel(measured, owner, block)
        holding = named if named >= 0 else block
        # A label, its marks and a few spaces: longer text (the headline's own block) is not
        # read out of the tree at all.
        if measured.text[holding] > 2 * _MAX_LABEL:
            continue
        holder = measured.nodes[holding]
        shown = " ".join(holder.text(separator=" ").split())
        label = _LABEL_MARKS.sub("", shown)
        if not 2 <= len(label) <= _MAX_LABEL or _NO_WORD.match(label) or _NOT_LABEL.search(label):
            continue
        evidence = named >= 0 or (not below and (holder.tag in _HEADINGS or label != shown))
        if not evidence:
            continue
        if trace is not None:
            trace.add("category", label, "beside headline", note="a channel label")
        return label
    return None


def _block_of(measured: Measured, index: int) -> int:
    """The nearest block element holding element `index` (itself if it is one)."""
    nodes, parents = measured.nodes, measured.parent
    while parents[index] >= 0 and nodes[index].tag not in BLOCK_TAGS:
        index = parents[index]
    return index


def _named_channel(measured: Measured, index: int, block: int) -> int:
    """The element from `index` up to `block` named like a channel label, or -1."""
    while index >= 0:
        if _CHANNEL_NAMES.search(measured.nodes[index].attributes.get("class") or ""):
            return index
        if index == block:
            return -1
        index = measured.parent[index]
    return -1
