"""The name hints and element queries written for speed give the first forms' answers."""

from __future__ import annotations

import random

import pytest
from selectolax.lexbor import LexborHTMLParser

from xinwen.parse import category, generic, picks
from xinwen.parse._tree import BLOCK_TAGS, measure, measure_python

# --- _hint_of: lower-cased ASCII names against the re.I patterns ---------------------------------


def _hint_plain(names: str) -> float:
    if not names.strip():
        return 1.0
    weight = 1.0
    if generic._POSITIVE.search(names):
        weight *= 1.3
    if generic._NEGATIVE.search(names):
        weight *= 0.5
    return weight


NAMES = [
    "",
    "   ",
    "ads ",
    " ADS",
    "bads x",
    "head-ads",
    "ad_box ads2",
    "right",
    "copyright",
    "Right-col",
    "aright",
    "left leftnav",
    "cleft",
    "tag",
    "tags-list",
    "stags",
    "sidebar",
    "side-x",
    "inside",
    "foot",
    "footer FOOTNOTE",
    "nav navbar",
    "con",
    "icon",
    "article-content",
    "ſide",  # folds onto `s` under re.I: not ASCII, so the first patterns read it
    "\u212aeyword",  # the Kelvin sign folds onto `k`
    "İnav",
    "文章 content",
    "正文",
]


@pytest.mark.parametrize("names", NAMES)
def test_hint_of_matches_the_case_blind_patterns(names: str) -> None:
    assert generic._hint_of.__wrapped__(names) == _hint_plain(names)


def test_hint_of_matches_the_case_blind_patterns_on_random_names() -> None:
    pieces = ["ads", "ad", "Right", "left", "foot", "side", "nav", "tags", "con", "_", "-", " "]
    pieces += ["1", "é", "bar", "x", "a", "r", "l", "s", "crumb", "TEXT", "hot", "ſ", "\u212a"]
    rnd = random.Random(3)
    hint = generic._hint_of.__wrapped__
    for _ in range(20000):
        names = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 6)))
        assert hint(names) == _hint_plain(names), names


# --- the element queries, against one selector per name ------------------------------------------

_ONE_SELECTOR_A_NAME = {
    "named": (
        '[class*="crumb"], [id*="crumb"], [class*="bread"], [class*="position"], '
        '[id*="position"], [class*="location"], [id*="location"], [class*="daohang"], '
        '[class*="path"], [class*="weizhi"], [id*="weizhi"], [class*="mbx"], [class*="nav-path"]'
    ),
    "title": (
        "h1, h2, h3, [class*='title'], [id*='title'], [class*='Title'], [id*='Title'], "
        "[class*='headline'], [class*='biaoti'], [class*='tit']"
    ),
}
_NAMES = ["title", "Title", "subTitle", "tit", "headline", "biaoti", "crumb", "breadcrumb"]
_NAMES += ["bread", "position", "location", "daohang", "path", "nav-path", "weizhi", "mbx", "x"]
_TAGS = ["div", "h1", "h2", "h3", "h4", "p", "span", "a", "svg", "path", "li"]


def _random_page(rnd: random.Random) -> str:
    parts = []
    for _ in range(rnd.randint(0, 70)):
        tag, attrs = rnd.choice(_TAGS), ""
        if rnd.random() < 0.7:
            attrs += f' class="{" ".join(rnd.sample(_NAMES, rnd.randint(0, 3)))}"'
        if rnd.random() < 0.4:
            attrs += f' id="{"-".join(rnd.sample(_NAMES, rnd.randint(1, 2)))}"'
        parts.append(f"<{tag}{attrs}>标题 {rnd.randint(0, 9)}<b>文字</b>")
        if rnd.random() < 0.5:
            parts.append(f"</{tag}>")
    return "".join(parts)


def _title_candidates_plain(tree: LexborHTMLParser) -> list[tuple[str, str]]:
    found, seen = [], set()
    for node in tree.css(_ONE_SELECTOR_A_NAME["title"])[:80]:
        if node.mem_id in seen:
            continue
        seen.add(node.mem_id)
        text = generic.clean(node.text())
        if 2 <= len(text) <= generic._MAX_TITLE:
            found.append((text, node.tag or ""))
    return found


def test_the_element_queries_find_what_one_selector_a_name_finds() -> None:
    rnd = random.Random(7)
    for _ in range(400):
        tree = LexborHTMLParser(_random_page(rnd))
        named = [node.mem_id for node in tree.css(_ONE_SELECTOR_A_NAME["named"])[:8]]
        picked = picks.pick(tree, category.NAMED, generic.TITLES)  # one C walk, where built
        assert [node.mem_id for node in category._named(picked)] == named
        assert generic._title_candidates(picked) == _title_candidates_plain(tree)


def test_a_page_with_many_headline_candidates_is_cut_where_it_was() -> None:
    # Elements matching up to 8 selectors each, 200 of them: the 80 matches end mid-list.
    rows = "".join(
        f'<h2 class="title Title headline biaoti" id="title-Title-{i}">标题{i}</h2>'
        f'<div class="x">正文{i}</div>'
        for i in range(200)
    )
    tree = LexborHTMLParser(rows)
    found = generic._title_candidates(picks.pick(tree, generic.TITLES))
    assert found == _title_candidates_plain(tree)
    assert len(found) == 10  # 8 matches each


# --- score reads only the root's tag --------------------------------------------------------------

_WALKED = """<body><a name=top>整页是一个锚，一段文字在这里。</a>
<div class=main><font><p>第一段文字，有标点，足够长。</p></font><span>行内文字，也不短。</span>
<table><tr><td>表格里的文字，一样长。<b>加粗的</b></td></tr></table></div>
<section><p>结尾一段，没有别的。</p></section></body>"""


@pytest.mark.parametrize("walk", [measure, measure_python])
def test_only_blocks_and_the_root_own_text(walk: object) -> None:
    # `score` reads no tag but the root's: it relies on this.
    tree = LexborHTMLParser(_WALKED)
    assert tree.body is not None
    measured = walk(tree.body)  # type: ignore[operator]
    holders = {i for i, own in enumerate(measured.own) if own} | {
        i for i in measured.block_parent if i >= 0
    }
    assert holders and 0 in holders
    assert all(measured.nodes[i].tag in BLOCK_TAGS for i in holders - {0})
    inline_root = LexborHTMLParser(_WALKED).css_first("a")
    assert inline_root is not None
    from_link = walk(inline_root)  # type: ignore[operator]
    assert from_link.own[0] > 10 and generic.score(from_link) is None  # the <a> root never scores


def test_the_lower_case_negative_pattern_is_the_first_one_lower_cased() -> None:
    lowered = generic._NEGATIVE_LOWER.pattern
    for word in ("ads?", "right", "left"):  # `\bword` written as `w(?<!\ww)ord`
        lowered = lowered.replace(f"{word[0]}(?<!\\w{word[0]}){word[1:]}", f"\\b{word}")
    assert lowered == generic._NEGATIVE.pattern
    assert generic._POSITIVE_LOWER.pattern == generic._POSITIVE.pattern
