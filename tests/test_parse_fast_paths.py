"""The extractor's fast paths: the tree walks, and searches that give the plain search's answer."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin

import pytest
from selectolax.lexbor import LexborHTMLParser

from xinwen import workerproc
from xinwen.parse import generic, published
from xinwen.parse._tree import measure
from xinwen.parse.trace import Trace

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
    assert all(m.index_of(node.mem_id) == i for i, node in enumerate(m.nodes))


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


# The one alternation, searched in each run, that `published._hinted` replaces with literal
# searches in all runs joined.
DATE_HINT = re.compile(
    r"[\d０-９]{1,4}\s*[-/.年月－／．]|[〇零○一二三四五六七八九]{2,4}年|刚刚|[分时天钟秒]前|[昨前今]天"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\.?\s{1,3}\d"
)
RUNS = [
    "2024-11-06", "１１月６日", "12345.6", "发布于 2024 年", "二〇二四年", "一年", "九十年代",
    "刚刚", "刚才", "3分钟前", "30秒前", "前面", "昨天", "天天", "今 天", "Jan 5", "January  12",
    "Jane 5", "jan 5", "no date", "", "第3、4名", "3 /", "2024", "年月日",
    # Digits and spaces as `\d` and `\s` see them: Arabic-Indic digits, ideographic spaces.
    "٢٠٢٤-", "2024\u3000\u3000年", "2024\n\t -", "x -", " -", "-", "Jan\u3000５", "Jan 5", "\0",
    "２０２４．", "a\0b 3-", "3\0-",
]  # fmt: skip


def _per_run(runs: list[str]) -> list[int]:
    return [i for i, run in enumerate(runs) if DATE_HINT.search(run)]


@pytest.mark.parametrize("text", RUNS)
def test_hinted_run_is_the_one_alternation(text: str) -> None:
    assert published._hinted([text]) == _per_run([text])


# Pieces that make a hint only together: no hint may be found across two runs.
PIECES = [
    "2024", "-11", "年", "二〇", "二四年", "刚", "昨", "天", "Jan", " 5", "3 ", "分前", "", " ",
]  # fmt: skip


def test_hinted_runs_are_the_runs_the_alternation_finds_alone() -> None:
    assert published._hinted(RUNS) == _per_run(RUNS)
    for first in PIECES:
        for second in PIECES:
            runs = [first, second, "", first + second, second]
            assert published._hinted(runs) == _per_run(runs), runs


def test_hinted_runs_match_the_alternation_on_random_pages() -> None:
    alphabet = "0１٣ \u3000\n-/.年月－／．〇二四刚分时天钟秒前昨今JanFebMay xz\0"
    rng = random.Random(7)
    for _ in range(3000):
        runs = [
            "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
            for _ in range(rng.randrange(1, 8))
        ]
        assert published._hinted(runs) == _per_run(runs), runs


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


# Runs for random pages: dates with and without a time, labels before them in the same run or
# the one before, links, a periodical's issue, relative and yearless dates, prose.
_DATED_RUNS = [
    "发布时间：2024-11-06 19:15", "2024-11-06", "2024年11月6日 10:30", "来源：新华社", "时间：",
    "11月5日", "3小时前", "刚刚", "昨天 10:30", "《北京之春》1998年3月号", "(2024-11-02)", "19:15",
    "发表于 2005/05/17 22:11:42", "2024-11-06", "二〇二四年十一月六日", "Nov 6, 2024", "第3、4名",
    "心理咨询师提醒，焦虑情绪需要及时疏导，家长要多陪伴孩子，耐心倾听，这是一段很长的正文。2024年11月1日",
]  # fmt: skip


def _random_page(rng: random.Random) -> str:
    def runs(count: int) -> str:
        parts = []
        for _ in range(count):
            text = rng.choice(_DATED_RUNS)
            parts.append(f"<a href=x>{text}</a>" if rng.random() < 0.2 else f"<p>{text}</p>")
        return "".join(parts)

    above, inside, below = (rng.randrange(12) for _ in range(3))
    return f"<body>{runs(above)}<div id=body>{runs(inside)}</div>{runs(below * 8)}</body>"


def test_visible_without_a_trace_chooses_what_the_traced_walk_chooses() -> None:
    # Untraced, `visible` reads runs best-placed first and skips those that cannot win; traced,
    # it reads every run in page order. Both must choose the same date (ties: the first run).
    rng = random.Random(11)
    labels = generic.labels()["date"]
    now = datetime(2024, 11, 7, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    chosen = set()
    for _ in range(150):
        tree = LexborHTMLParser(_random_page(rng))
        assert tree.body is not None
        measured = measure(tree.body)
        body = next(i for i, n in enumerate(measured.nodes) if n.attributes.get("id") == "body")
        for title_run in (None, 0, rng.randrange(len(measured.texts) + 1)):
            for when in (now, None):
                args = (measured, title_run, body, labels, timezone(timedelta(hours=8)))
                fast = published.visible(*args, now=when)
                traced = published.visible(*args, Trace(), now=when)
                assert fast == traced
                chosen.add(None if fast is None else fast.found.raw)
    assert len(chosen) > 5  # the pages give many different winners


@pytest.mark.parametrize(
    "runs",
    [
        ["3小时前"], ["5分钟前"], ["刚刚"], ["昨天 10:30"], ["11月5日 10时30分"],
        ["11月5日 8点30分"], ["2024-11-05 ８：３０"], ["19:15 2024/11/05"],
        ["2024-11-05T08:30:00Z"], ["Nov 5, 2024 8:30"],
        ["发布时间：", "2024-11-05"], ["发布时间：2024-11-05"], ["《北京之春》2024年10月号"],
    ],
)  # fmt: skip
def test_visible_reads_a_run_that_wins_only_by_its_time_or_label(runs: list[str]) -> None:
    # A date of the day right after the headline first: a later run beats it only with a time,
    # a label or a periodical's issue, which the untraced walk must not rule out.
    html = "".join(f"<p>{text}</p>" for text in ["标题", "2024-11-06", *runs])
    tree = LexborHTMLParser(f"<body>{html}</body>")
    assert tree.body is not None
    now = datetime(2024, 11, 7, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    args = (measure(tree.body), 0, None, generic.labels()["date"], timezone(timedelta(hours=8)))
    fast = published.visible(*args, now=now)
    assert fast == published.visible(*args, Trace(), now=now)
    assert fast is not None and fast.found.raw != "2024-11-06"


def _on_hosts_plain(links: list[str], hosts: frozenset[str]) -> list[str]:
    kept = []
    for link in links:
        scheme, sep, rest = link.partition("://")
        end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        if workerproc._host_of_origin(scheme + sep + rest[:end]) in hosts:
            kept.append(link)
    return kept


def test_on_hosts_keeps_what_cutting_each_link_by_hand_keeps() -> None:
    rnd = random.Random(5)
    parts = ["http://", "https://", "HTTP://", "a:b://", "", "n.example.cn", "N.Example.CN:80",
             "other.cn", "/", "?", "#", "x", ":8080", "@", "\n", "中文", "%2F"]  # fmt: skip
    hosts = frozenset({"n.example.cn", "n.example.cn:8080"})
    for _ in range(3000):
        links = ["".join(rnd.choice(parts) for _ in range(rnd.randint(1, 7))) for _ in range(5)]
        try:
            expected: object = _on_hosts_plain(links, hosts)
        except ValueError as exc:  # a port that is not a number: both refuse it alike
            expected = str(exc)
        try:
            got: object = workerproc.on_hosts(links, hosts)
        except ValueError as exc:
            got = str(exc)
        assert got == expected, links
