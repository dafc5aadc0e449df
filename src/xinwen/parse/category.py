"""The category: the breadcrumb trail (`首页 > 国内 > 正文` -> `国内`), then metadata.

Most Chinese portals draw the trail as links separated by text nodes such as `>`, `>>`, `-->`
or `»`, often in an element with no telling class. So the trail is found from its separators:
the element that owns a separator-only text run (or a run starting with 当前位置) nearest
before the headline is the trail.
"""

from __future__ import annotations

import re

from ._tree import Measured

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
    for piece in _SEPARATOR.split(text):
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
        item = measured.stats[owner]
        if item.text > _MAX_TRAIL:
            continue
        crumbs = clean_crumbs(item.node.text(separator=" "), skip, title)
        if crumbs:
            return crumbs[-1]
    return None
