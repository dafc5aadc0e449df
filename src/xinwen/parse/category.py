"""The category: the breadcrumb trail (`首页 > 国内 > 正文` -> `国内`), then metadata.

Most Chinese portals draw the trail as links separated by text nodes such as `>`, `>>`, `-->`
or `»`, often in an element with no telling class. So the trail is found from its separators:
the element that owns a separator-only text run (or a run starting with 当前位置) nearest
before the headline is the trail.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from ._tree import Measured
from .trace import Trace

_SEPARATOR = re.compile(r"\s*(?:-{1,2}>|>{1,2}|&gt;|»|›|→|＞|/|\\)\s*")
_SEPARATOR_ONLY = re.compile(r"^\s*(?:-{1,2}>|>{1,2}|»|›|→|＞|/)\s*$")
_LEAD_LABEL = re.compile(r"^[^:：]{0,8}[:：]\s*")
# A crumb longer than this is a headline, not a section name.
_MAX_CRUMB = 14
# Trail containers hold little text: a few short crumbs and their separators.
_MAX_TRAIL = 160


def clean_crumbs(text: str, skip: set[str], title: str | None) -> list[str]:
    """The section names in a trail's text, in order, without home links and the headline."""
    crumbs: list[str] = []
    pieces = (p for line in text.split("\n") for p in _SEPARATOR.split(line))
    for piece in pieces:
        crumb = " ".join(piece.split())
        crumb = _LEAD_LABEL.sub("", crumb) if ("：" in crumb or ":" in crumb) else crumb
        crumb = crumb.split("_")[0].strip()  # "国际财经_搜狐财经"
        if not crumb or crumb in skip or "首页" in crumb or "首頁" in crumb:
            continue
        is_headline = title is not None and (
            crumb == title or (title.startswith(crumb) and len(crumb) >= 6)
        )
        if len(crumb) > _MAX_CRUMB or is_headline:
            continue
        crumbs.append(crumb)
    return crumbs


def from_trail(
    measured: Measured,
    title: str | None,
    title_run: int | None,
    skip: set[str],
    leads: tuple[str, ...],
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
        is_trail = _SEPARATOR_ONLY.match(stripped) or stripped.startswith(leads)
        if is_trail and (not owners or owners[-1] != owner):
            owners.append(owner)
    for owner in reversed(owners):
        # A separator in its own element (`<em>></em>`, `<span>/</span>`): climb to the trail.
        index = owner
        for _ in range(3):
            if measured.text[index] > _MAX_TRAIL:
                break
            crumbs = clean_crumbs(measured.nodes[index].text(separator="\n"), skip, title)
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
    tree: LexborHTMLParser, title: str | None, skip: set[str], trace: Trace | None = None
) -> str | None:
    """The last crumb of an element named like a breadcrumb (`class="crumbs"`, `id="position"`).

    A name alone is weak evidence (`position` also names ad slots): the element must show
    separators, unless it is explicitly a `crumb` whose separators are drawn by CSS. The first
    candidate that yields a crumb wins. Form controls are left out of its text: Sina's
    `path-search` box holds the trail and a search form whose options read 新闻 图片 博客 视频.
    """
    for node in tree.css(_NAMED)[:8]:
        text = node.text(separator="\n")
        if node.css_first("select, form, input, button") is not None:
            node = node.clone()
            node.strip_tags(["select", "form", "input", "button", "script", "style"])
            text = node.text(separator="\n")
        if len(text) > 4 * _MAX_TRAIL or len("".join(text.split())) > _MAX_TRAIL:
            continue
        attrs = node.attributes
        names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
        links = [a.text() for a in node.css("a")]
        if _SEPARATOR.search(text):
            crumbs = clean_crumbs(text, skip, title)
        elif "crumb" in names:
            # Separators drawn by CSS or images: the links are the crumbs.
            crumbs = clean_crumbs("\n".join(links), skip, title)
        else:
            continue
        if trace is not None:
            trace.add("category", " > ".join(crumbs), f"breadcrumb:{names.strip()}")
        if crumbs:
            return crumbs[-1]
    return None
