"""The headline as the page shows it, when the metadata gives none (no `<title>`, or only the
site's name): the line just above the body that looks like a headline.

Pages without a usable `<title>` are mostly old blogs and forums. Their headline is a short line
set off from the text: emphasized (a heading, bold, `<big>`, a class named `title`), labelled
(`主题：`, the forum's subject), or a link to the post itself, and usually followed by the
byline (`作者：`, `发布时间：`, a date). Navigation and archive lists just above the body are
short lines too, but they are links to other pages and are not followed by a byline.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from ._tree import Measured

# Runs searched: this many before the body's first paragraph (which may be inside the body's
# element: a headline centred in bold at the top of the text's own cell, on old table-laid
# pages). A paragraph is a run this long with Chinese punctuation in it.
_BEFORE = 16
_PARAGRAPH = 25
_PARAGRAPH_SCAN = 40
# A line is a headline candidate if it is this long, half Han characters or more, and is not
# a sentence, a date or a label.
_MIN_LEN, _MAX_LEN = 4, 60
_NOT_HEADLINE = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}|\d\d?:\d\d|^[^\w《【“「〖(（\[]|^\d+(?![\d\u3400-\u9fff])"
    r"|分享|字体|评论|阅读|打印|[|｜>»]|首页|首頁|当前位置|當前位置"
)
# The subject label of forum posts and mail-like pages: `主题：`, `标题：`.
_SUBJECT = re.compile(r"^(?:主题|主題|标题|標題|题目|題目|帖子主题)\s*[:：]\s*")
# Template decoration after a headline: blogchina's `- -`.
_DECORATION = re.compile(r"(?:\s*-\s*-)+\s*$")
_BYLINE = re.compile(
    r"(?:^|\s)(?:作者|来源|來源|发布|發佈|发表|發表|时间|時間|日期|记者|記者|编辑|編輯|由\S{1,12}张贴)"
    r"|\d{4}\s*[-/.年]\s*\d{1,2}|\d{1,2}\s*[/-]\s*\d{1,2}\s*[/-]\s*\d{4}|\d\d?:\d\d"
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3"})
_BOLD_TAGS = frozenset({"h4", "h5", "h6", "b", "strong", "big", "center"})
_TITLE_NAMES = re.compile(r"title|headline|biaoti|subject|topic", re.I)
# How far up from the text's element emphasis is looked for (`<b><font><big>...`).
_EMPHASIS_DEPTH = 3

# Weights, calibrated on the corpus pages without a usable <title> (bench/extract.py): they
# give 10 of those 14 pages their headline (title 90.9% -> 95.0%) and change no other page.
_LABELLED = 4.0
_HEADING = 3.5  # h1-h3, or an element named like a title
_BOLD = 2.0
_COLOURED = 1.5  # <font color> or <font size>: the emphasis of old table-laid pages
_BEFORE_BYLINE = 3.0
# The headline shown twice, in a heading and again atop the text (reposts, printed reports).
_REPEATED = 1.5
_FOREIGN_LINK = -4.0
# Per link to another page between the line and the first paragraph, after the first (which
# may be the author's name).
_LINKS_BETWEEN = -0.5
_INSIDE_BODY = -1.0
_PER_RUN = 0.1
_MIN_SCORE = 0.8
# A candidate this strong (emphasized and above a byline, or labelled) replaces a `<title>`
# that the page does not show anywhere (`谢谢您访问〖关注中国中心〗` on every page of a site):
# 2 corpus pages gain their headline, none loses it (3 to 4.5 give the same figures).
STRONG = 4.0


def candidates(measured: Measured, body: int | None, url: str | None) -> list[tuple[float, str]]:
    """Headline-like lines around the start of element `body`, best first, with their scores."""
    if body is None:
        return []
    texts = measured.texts
    first = measured.runs_start[body]
    start = _first_paragraph(measured, body)
    found: list[tuple[float, str]] = []
    window = range(max(0, min(first, start) - _BEFORE), start)
    foreign = [  # per run of the window: in a link to another page (navigation, lists)
        in_link and not links_to_page(measured, owner, url)
        for _, owner, in_link in texts[window.start : window.stop]
    ]
    lines: list[tuple[str, bool]] = []  # each run's text without label and decoration
    for index in window:
        text = " ".join(texts[index][0].split())
        subject = _SUBJECT.match(text)
        labelled = subject is not None
        if subject:
            text = text[subject.end() :]
        elif index > 0 and _SUBJECT.fullmatch(" ".join(texts[index - 1][0].split())):
            labelled = True
        lines.append((_DECORATION.sub("", text), labelled))
    shown = [text for text, _ in lines]
    for index, (text, labelled) in zip(window, lines, strict=True):
        owner = texts[index][1]
        # A subject label vouches for a line with Latin letters or digits in it.
        if not looks_like_headline(text, 0.3 if labelled else 0.5):
            continue
        score = (_LABELLED if labelled else 0.0) + _emphasis(measured, owner)
        if shown.count(text) > 1:
            score += _REPEATED
        following = texts[index + 1 : index + 4]
        if any(_BYLINE.search(" ".join(t.split())) for t, _, _ in following):
            score += _BEFORE_BYLINE
        between = foreign[index - start :]
        if between[0]:
            score += _FOREIGN_LINK
        links = max(0, sum(between[1:]) - 1)
        score += _LINKS_BETWEEN * links - _PER_RUN * (start - index)
        if index >= first and measured.parent[body] >= 0:  # (the root holds everything)
            score += _INSIDE_BODY
        if score >= _MIN_SCORE:
            found.append((score, text))
    found.sort(key=lambda item: -item[0])
    return found


def _first_paragraph(measured: Measured, body: int) -> int:
    """The index of the first run of element `body` that reads as a paragraph of prose."""
    first, end = measured.runs_start[body], measured.runs_end[body]
    for index in range(first, min(end, first + _PARAGRAPH_SCAN)):
        text = measured.texts[index][0]
        if len(text.strip()) >= _PARAGRAPH and any(mark in text for mark in "，。！？；"):
            return index
    return first


def looks_like_headline(text: str, han_share: float = 0.5) -> bool:
    """True for a short line, mostly Han characters, that is not a sentence, date or label."""
    if not _MIN_LEN <= len(text) <= _MAX_LEN or text[-1] in "。；，、:：":
        return False
    han = sum(1 for c in text if "\u3400" <= c <= "\u9fff")
    return (
        han >= len(text) * han_share and not _NOT_HEADLINE.search(text) and not _BYLINE.match(text)
    )


def _emphasis(measured: Measured, index: int) -> float:
    """How strongly the element `index` (or one of its nearest ancestors) sets its text off."""
    nodes, parents = measured.nodes, measured.parent
    best = 0.0
    for _ in range(_EMPHASIS_DEPTH):
        if index < 0:
            break
        node = nodes[index]
        tag = node.tag
        if tag in _HEADING_TAGS or _TITLE_NAMES.search(measured.names(index)):
            return _HEADING
        if tag in _BOLD_TAGS:
            best = _BOLD
        elif tag == "font" and ("color" in node.attrs or "size" in node.attrs):
            best = max(best, _COLOURED)
        index = parents[index]
    return best


def links_to_page(measured: Measured, index: int, url: str | None) -> bool:
    """True if the link holding element `index` leads to the page at `url` (a permalink)."""
    nodes, parents = measured.nodes, measured.parent
    while index >= 0 and nodes[index].tag != "a":
        index = parents[index]
    if index < 0 or url is None:
        return False
    href = (nodes[index].attributes.get("href") or "").strip()
    return bool(href) and same_page(urljoin(url, href), url)


def same_page(link: str, url: str) -> bool:
    """True if absolute URL `link` leads to the page at `url` (see `_path`)."""
    return _path(link) == _path(url)


def _path(url: str) -> str:
    """The URL's host and path without the extension: a blog's permalink may end in .html
    where the page was served as .aspx."""
    parts = urlsplit(url)
    path = parts.path.rsplit(".", 1)[0] if "." in parts.path.rsplit("/", 1)[-1] else parts.path
    return f"{parts.netloc.lower()}{path.rstrip('/')}"
