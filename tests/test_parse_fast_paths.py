"""The extractor's fast paths: the tree walks, and searches that give the plain search's answer."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from selectolax.lexbor import LexborHTMLParser

from xinwen.parse import generic, published
from xinwen.parse._tree import measure

SCRIPTS = [
    'var publish_time = "2024-11-06 19:15:32";',
    "<script>var PubDate='2019-3-5';</script>",
    '{"datePublished": "2020-01-02T08:00:00"}',
    "x = {CT: 1581234567, ct: 1500000000}",
    # A key without a date first: the next place that matches wins.
    "var pubtime = now(); var PUB_TIME = '2021-07-08 09:10';",
    # A quote before the key: the match starts at the quote, the date is the same.
    "{'createTime' : '2018-05-06'}",
    "select { ct : 1; } function(){ct=1234567890}",
    '<div data-ct="2022-02-03">',
    "no date here at all, only act = 12 and ct: x",
    # Characters that re.IGNORECASE folds onto key letters.
    "var publıshtime = '2017-01-01'; ct = 1400000000",
    "var pubdate = 'x'; ſ publiſh_date = '2016-02-02'",
    "İ var pubDate = '2015-03-03'",
    "",
]


@pytest.mark.parametrize("html", SCRIPTS)
def test_script_date_finds_what_the_plain_search_finds(html: str) -> None:
    plain = published._SCRIPT_DATE.search(html)
    fast = published._script_date(html)
    assert (fast.group(1) if fast else None) == (plain.group(1) if plain else None)


def test_script_date_takes_the_leftmost_key_across_key_families() -> None:
    html = "ct = 1600000000; createTime = '2001-01-01'; ct = 1700000000"
    match = published._script_date(html)
    assert match is not None and match.group(1) == "1600000000"
    later = "createTime = '2001-01-01'; ct = 1700000000"
    match = published._script_date(later)
    assert match is not None and match.group(1) == "2001-01-01"


MEASURED_PAGE = """<body><div id=a>
  <p>第一段，有标点。<a href=x>链接</a>尾巴</p>
  <script>var x = 1;</script><!-- 注释 -->
  <p>\u00a0\u3000</p>
  <ul><li><a href=y>相关</a></li></ul>
  结尾文字
</div></body>"""


def test_measure_counts_each_element_once_in_one_walk() -> None:
    tree = LexborHTMLParser(MEASURED_PAGE)
    assert tree.body is not None
    m = measure(tree.body)
    assert [n.tag for n in m.nodes] == ["body", "div", "p", "a", "p", "ul", "li", "a"]
    assert m.parent == [-1, 0, 1, 2, 1, 1, 5, 6]
    assert m.text == [18, 18, 12, 2, 0, 2, 2, 2]  # spaces, NBSP and the script not counted
    assert m.links == [4, 4, 2, 2, 0, 2, 2, 2]
    assert m.punct == [2, 2, 2, 0, 0, 0, 0, 0]
    assert m.own == [0, 4, 12, 0, 0, 0, 2, 0]  # text belongs to the nearest block
    assert m.own_punct == [0, 0, 2, 0, 0, 0, 0, 0]
    assert list(zip(m.runs_start, m.runs_end, strict=True)) == [
        (0, 5), (0, 5), (0, 3), (1, 2), (3, 3), (3, 4), (3, 4), (3, 4)
    ]  # fmt: skip
    assert [(text.strip(), owner, link) for text, owner, link in m.texts] == [
        ("第一段，有标点。", 2, False), ("链接", 3, True), ("尾巴", 2, False),
        ("相关", 7, True), ("结尾文字", 1, False),
    ]  # fmt: skip
    assert all(m.by_id[node.mem_id] == i for i, node in enumerate(m.nodes))


BODY_PAGE = """<body><div id=a>
<h1>标题在这里</h1>
<p><span>word</span> <span>two</span><br>第二行，在换行后。</p>
<div class=comment-list><p>读者评论，也是文字。</p></div>
<p><strong>一、加粗的小标题</strong></p>
<p>正文<b>部分</b>加粗，不是标题。</p>
<h3>结尾的小标题</h3></div></body>"""


def test_blocks_keep_lines_levels_and_word_spaces_and_drop_furniture() -> None:
    tree = LexborHTMLParser(BODY_PAGE)
    assert tree.body is not None
    root = tree.css_first("#a")
    assert root is not None
    blocks = generic.blocks_of(root, measure(tree.body), "标题在这里")
    assert [(b.text, b.heading_level) for b in blocks] == [
        ("word two", 0),  # the space between the spans is kept
        ("第二行，在换行后。", 0),  # <br> ends a line
        ("一、加粗的小标题", 1),
        ("正文部分加粗，不是标题。", 0),
        ("结尾的小标题", 2),  # the last element open when the walk ends keeps its level
    ]
    untitled = generic.blocks_of(root, measure(tree.body), None)
    assert (untitled[0].text, untitled[0].heading_level) == ("标题在这里", 1)


def test_blocks_stop_at_the_body_cap() -> None:
    page = "<body><div><p>" + "字" * (generic.MAX_BODY + 10) + "</p><h2>后面</h2></div></body>"
    tree = LexborHTMLParser(page)
    assert tree.body is not None
    blocks = generic.blocks_of(tree.body, measure(tree.body), None)
    assert [len(b.text) for b in blocks] == [generic.MAX_BODY]


# The one alternation that `published._date_hint` splits into a regex per form.
DATE_HINT = re.compile(
    r"[\d０-９]{1,4}\s*[-/.年月－／．]|[〇零○一二三四五六七八九]{2,4}年|刚刚|[分时天钟秒]前|[昨前今]天"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\.?\s{1,3}\d"
)
RUNS = [
    "2024-11-06", "１１月６日", "12345.6", "发布于 2024 年", "二〇二四年", "一年", "九十年代",
    "刚刚", "刚才", "3分钟前", "30秒前", "前面", "昨天", "天天", "今 天", "Jan 5", "January  12",
    "Jane 5", "jan 5", "no date", "", "第3、4名", "3 /", "2024", "年月日",
]  # fmt: skip


@pytest.mark.parametrize("text", RUNS)
def test_date_hint_is_the_one_alternation(text: str) -> None:
    assert published._date_hint(text) == bool(DATE_HINT.search(text))


_BASES = [
    "https://news.example.com/a/b/c.html?x=1#f",
    "http://127.0.0.1:8080/news/x.html",
    "HTTP://Ex.COM:80/a",
    "https://user:pw@h.cn/p;q?r#s",
]
_HREFS = [
    "http://#", "http://", "https://x", "//", "///x", "//h/x?y#z", "/", "/?q", "/#f", "/a/../b",
    "http:x", "http:/x", "https://h/a/../b", "http://h?", "http://h/a?#b", "http://h/#", "//h",
    "http://h/a;", "http://h/a;p?q", "http://[::1]/x", "http://h/a b", "http://h:80/", "http://h/é",
    "https://H.cn/A", "a/b.html", "../up.html", "?page=2", "http://\t#", "http://h/x\ny",
    "mailto:x@y.cn", "ftp://h/x", "http://h\\x/y",
]  # fmt: skip


def test_links_resolve_as_urljoin_resolves_them() -> None:
    # Absolute links that urljoin would give back as they are skip it.
    page = "".join(f'<a href="{href}">x</a>' for href in _HREFS)
    tree = LexborHTMLParser(f"<html><body>{page}</body></html>")
    hrefs = [(node.attributes.get("href") or "").strip() for node in tree.css("a[href]")]
    for base in _BASES:
        plain = [urljoin(base, h).split("#", 1)[0] for h in hrefs if not h.startswith("mailto:")]
        expected = [url for url in plain if url.startswith(("http://", "https://"))]
        assert generic.links_of(tree, base) == expected, base
